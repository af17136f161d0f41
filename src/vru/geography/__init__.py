"""One geography for the whole platform.

- :mod:`vru.geography.boroughs`: borough codes, names and every known spelling.
- :mod:`vru.geography.lookup`: LSOA 2011 <-> 2021 best fit by area overlap, LSOA -> borough.
- :mod:`vru.geography.neighbours`: neighbours of areas (spatial weights via libpysal).
"""

from vru.geography.boroughs import (
    AIRPORTS_CODE,
    BOROUGHS,
    LONDON_CODE,
    UNKNOWN_CODE,
    borough_code,
    borough_name,
    is_geographic,
)

__all__ = [
    "AIRPORTS_CODE",
    "BOROUGHS",
    "LONDON_CODE",
    "UNKNOWN_CODE",
    "borough_code",
    "borough_name",
    "is_geographic",
]
