"""London boroughs: the one list of codes and names, and the one place names are normalised.

Sources spell boroughs differently ("City of Westminster", "Richmond Upon Thames", "ladu2023:Brent",
upper case...). :func:`borough_code` maps every known spelling to the GSS code and refuses unknown
names (it returns ``None`` so that the caller can raise a :class:`~vru.errors.SourceError` naming
file, row and column).

The Metropolitan Police publish two reporting units that are not boroughs; they are kept (so London
totals reconcile with the source) under pseudo-codes that are never drawn on a map.
"""

from __future__ import annotations

import re

LONDON_CODE = "E12000007"
LONDON_NAME = "London"

# GSS code -> official name (ONS LAD22NM)
BOROUGHS: dict[str, str] = {
    "E09000001": "City of London",
    "E09000002": "Barking and Dagenham",
    "E09000003": "Barnet",
    "E09000004": "Bexley",
    "E09000005": "Brent",
    "E09000006": "Bromley",
    "E09000007": "Camden",
    "E09000008": "Croydon",
    "E09000009": "Ealing",
    "E09000010": "Enfield",
    "E09000011": "Greenwich",
    "E09000012": "Hackney",
    "E09000013": "Hammersmith and Fulham",
    "E09000014": "Haringey",
    "E09000015": "Harrow",
    "E09000016": "Havering",
    "E09000017": "Hillingdon",
    "E09000018": "Hounslow",
    "E09000019": "Islington",
    "E09000020": "Kensington and Chelsea",
    "E09000021": "Kingston upon Thames",
    "E09000022": "Lambeth",
    "E09000023": "Lewisham",
    "E09000024": "Merton",
    "E09000025": "Newham",
    "E09000026": "Redbridge",
    "E09000027": "Richmond upon Thames",
    "E09000028": "Southwark",
    "E09000029": "Sutton",
    "E09000030": "Tower Hamlets",
    "E09000031": "Waltham Forest",
    "E09000032": "Wandsworth",
    "E09000033": "Westminster",
}

# The City of London: a borough of its own police force (the City of London Police), so not in the
# Metropolitan Police's figures nor in MOPAC's Public Attitude Survey.
CITY_OF_LONDON = "E09000001"
# The 32 boroughs the Metropolitan Police cover (every borough but the City).
MPS_BOROUGHS: tuple[str, ...] = tuple(c for c in BOROUGHS if c != CITY_OF_LONDON)
#: The eight boroughs with a MyEnds consortium funded in the programme's first round (2021): Brent,
#: Croydon, Hackney, Haringey, Lambeth, Newham, Southwark, Tower Hamlets. The one home of the list (the
#: evaluation's default treated boroughs, the targeting comparison, the programme register's demo).
MYENDS_BOROUGHS: tuple[str, ...] = ("E09000005", "E09000008", "E09000012", "E09000014", "E09000022",
                                    "E09000025", "E09000028", "E09000030")

# Non-geographic MPS reporting units (pseudo-codes; level "borough", no geometry).
AIRPORTS_CODE = "X-MPS-AVIATION"
UNKNOWN_CODE = "X-MPS-UNKNOWN"
PSEUDO_UNITS: dict[str, str] = {
    AIRPORTS_CODE: "Heathrow and London City airports (MPS Aviation Security)",
    UNKNOWN_CODE: "Unknown borough (MPS)",
}


def _key(name: str) -> str:
    name = name.strip().lower()
    name = re.sub(r"^(ladu?\d{4}|lad\d{2}|gor):", "", name)  # Nomis prefixes, e.g. "ladu2023:Brent"
    name = name.replace("&", "and")
    name = re.sub(r"[^a-z0-9]+", " ", name)
    return re.sub(r"\s+", " ", name).strip()


_ALIASES: dict[str, str] = {_key(v): k for k, v in BOROUGHS.items()}
_ALIASES.update(
    {
        _key("City of Westminster"): "E09000033",
        _key("Kingston"): "E09000021",
        _key("Richmond"): "E09000027",
        _key("Hammersmith & Fulham"): "E09000013",
        _key("Barking & Dagenham"): "E09000002",
        _key("Kensington & Chelsea"): "E09000020",
        _key("London Heathrow and London City Airports"): AIRPORTS_CODE,
        _key("Aviation Security (SO18)"): AIRPORTS_CODE,
        _key("Unknown"): UNKNOWN_CODE,
    }
)


def borough_code(name: str) -> str | None:
    """GSS code (or MPS pseudo-code) for a borough name in any known spelling, else ``None``.

    GSS codes themselves are accepted too.
    """
    if name is None:
        return None
    s = str(name).strip()
    if s in BOROUGHS or s in PSEUDO_UNITS:
        return s
    return _ALIASES.get(_key(s))


def borough_name(code: str) -> str:
    """Official name for a borough code (or the description of a pseudo-unit)."""
    if code in BOROUGHS:
        return BOROUGHS[code]
    if code in PSEUDO_UNITS:
        return PSEUDO_UNITS[code]
    if code == LONDON_CODE:
        return LONDON_NAME
    raise KeyError(code)


def is_geographic(code: str) -> bool:
    return code in BOROUGHS
