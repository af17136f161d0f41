"""Demo content of the tagging app for ``vru serve``: synthetic wearers (``vru.tagging.simulate``), their
positions in the store, an exclusion zone one of them enters, a crime batch with crimes planted on the
trails (``simulate.plant_crimes``) and matched, and the breaches found. Everything is fictional and
drawn from a seeded generator; tag data never comes from outside. Idempotent: a second run adds nothing.

The demo police analyst (``police.analyst@demo.vru.test``, Demo Metropolitan Police) is made here; its
password is generated once by the platform's ``vru.web.demo.app_user``, kept in ``demo-users-tagging.txt``
beside the demo-users file (mode 0600) and listed by ``vru serve``.
"""

from __future__ import annotations

import tempfile
from datetime import date

import pandas as pd
from shapely.geometry import box, mapping

from vru.tagging import simulate

START = "2024-03-04T00:00:00Z"
PROBATION = "Demo Probation Service"
OTHER_PROBATION = "Demo Probation Region North (demo)"
POLICE = "Demo Metropolitan Police"
ANALYST_EMAIL = "police.analyst@demo.vru.test"
REVIEWER_EMAIL = "tagging.reviewer@demo.vru.test"
UNIT = "Demo Violence Reduction Unit"  # the monitoring hub's organisation in the demo
ORDER_TYPES = ["knife_licence", "da_licence", "stalking", "acquisitive"]


def batch_csv(crimes: pd.DataFrame, force: str = "Metropolitan", batch_id: str = "MPS20240304",
              crime_type: str = "RB") -> bytes:
    """A crime batch file in the MoJ contract (13 columns, no header, times yyyyMMddHHmmss UTC, easting
    and northing) for crimes with the CRIMES columns (e.g. ``simulate.plant_crimes``)."""
    lines = []
    for r in crimes.itertuples():
        t0 = pd.Timestamp(r.time_from).tz_convert("UTC").strftime("%Y%m%d%H%M%S")
        t1 = pd.Timestamp(r.time_to).tz_convert("UTC").strftime("%Y%m%d%H%M%S")
        lines.append(f"{force},{crime_type},,{batch_id},{r.crime_ref},{t0},{t1},{r.easting:.1f},"
                     f"{r.northing:.1f},,,OSGB36,Synthetic crime for the demo")
    return ("\n".join(lines) + "\n").encode()


def simulated(n_wearers: int = 6, days: float = 2, seed: int = 13):
    return simulate.simulate(n_wearers, days, start=START, seed=seed)


def load_store(sim) -> None:
    """Import a simulation's position feed into the store (through the validating import, recorded with
    its receipts like any import)."""
    from .services import import_positions

    with tempfile.TemporaryDirectory() as tmp:
        paths = simulate.write(sim, tmp, "parquet")
        import_positions(paths["positions"], activations=sim.activations)


def zone_on_trail(sim, wearer_ref: str, half_side_m: float = 150.0):
    """A square exclusion zone (BNG GeoJSON) round the place where the wearer stayed longest (not home
    at night), so that the demo has a breach."""
    t = sim.truth.to_pandas()
    t = t[(t["wearer_ref"] == wearer_ref) & (t["mode"] == "stationary")]
    day = t[(t["time"].dt.hour >= 10) & (t["time"].dt.hour < 16)]
    pick = day if len(day) else t
    e, n = pick["easting"].round(-2).mode().iloc[0], pick["northing"].round(-2).mode().iloc[0]
    sel = pick[(pick["easting"].round(-2) == e) & (pick["northing"].round(-2) == n)]
    e, n = float(sel["easting"].median()), float(sel["northing"].median())
    return mapping(box(e - half_side_m, n - half_side_m, e + half_side_m, n + half_side_m))


def seed(stdout=None) -> dict:
    from vru.web.accounts.models import Organisation

    from . import services
    from .models import DeviceActivation, ForceOrganisation, Wearer, WearerIdentity, Zone
    from .roles import POLICE_ANALYST, TAGGING_REVIEWER

    created = {"wearers": 0, "matches": 0, "breaches": 0}
    police, _ = Organisation.objects.get_or_create(
        name=POLICE, defaults={"kind": "police", "verified": True,
                               "description": "A fictional police force."})
    ForceOrganisation.objects.get_or_create(organisation=police, defaults={"force": "Metropolitan"})
    north, _ = Organisation.objects.get_or_create(
        name=OTHER_PROBATION, defaults={"kind": "probation", "verified": True,
                                        "description": "A fictional probation region."})
    probation = Organisation.objects.get(name=PROBATION)
    _analyst(police, POLICE_ANALYST, stdout)
    unit = Organisation.objects.filter(name=UNIT).first()
    if unit is not None:
        from vru.web import demo as platform_demo

        platform_demo.app_user("tagging", REVIEWER_EMAIL, "Rene Reviewer (demo)", unit, TAGGING_REVIEWER,
                               stdout)
    if Wearer.objects.filter(ref__startswith="W0000").exists():
        return created
    sim = simulated()
    acts = sim.activations.to_pandas()
    for i, ref in enumerate(sorted(acts["wearer_ref"].unique())):
        w = Wearer.objects.create(ref=ref, order_type=ORDER_TYPES[i % 4], order_start=date(2024, 1, 8),
                                  order_end=date(2025, 1, 7), organisation=probation if i < 4 else north)
        WearerIdentity.objects.create(wearer=w, name=f"Fictional Person {i + 1}",
                                      pnc_id=f"24/{100000 + i}Z",
                                      address=f"{i + 1} Example Street, London")
        for a in acts[acts["wearer_ref"] == ref].itertuples():
            DeviceActivation.objects.create(wearer=w, device_id=a.device_id, active_from=a.active_from,
                                            active_to=None if pd.isna(a.active_to) else a.active_to)
        created["wearers"] += 1
    services.store_root()
    load_store(sim)
    first = Wearer.objects.get(ref=sorted(acts["wearer_ref"].unique())[0])
    Zone.objects.create(wearer=first, kind="exclusion", name="Victim's neighbourhood (demo)",
                        geometry=zone_on_trail(sim, first.ref))
    crimes = simulate.plant_crimes(sim.truth, 4, seed=13, decoys=2)
    from vru.tagging import matching

    try:
        batch = services.ingest_batch(batch_csv(crimes), "demo-batch.csv", inline=True)
    except matching.MatchRunError:  # recorded as a FAILURE run on the batch; the demo goes on
        from .models import CrimeBatch

        batch = CrimeBatch.objects.latest("pk")
    created["matches"] = sum(r.matches.count() for r in batch.runs.all())
    created["breaches"] = len(services.detect_breaches(sim.start, sim.end))
    if stdout:
        stdout.write(f"tagging demo: {created['wearers']} wearers, {created['matches']} matches, "
                     f"{created['breaches']} breaches\n")
    return created


def _analyst(police, role, stdout) -> None:
    """The demo police analyst: an app demo user of the platform's (``vru.web.demo.app_user``), its password
    kept in ``demo-users-tagging.txt``."""
    from vru.web import demo as platform_demo

    platform_demo.app_user("tagging", ANALYST_EMAIL, "Pam Police-Analyst (demo)", police, role, stdout)
