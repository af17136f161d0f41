"""Shared set-up of the tagging web tests: organisations, users of each role (``factories.user``),
simulated wearers whose positions are in a temporary store (tag data never comes from outside)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from functools import lru_cache

import pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from factories import signed_in, user

from vru.tagging import simulate
from vru.web.accounts.models import Organisation, User
from vru.web.tagging import demo, services
from vru.web.tagging.models import DeviceActivation, ForceOrganisation, Match, Wearer, WearerIdentity, Zone

START = pd.Timestamp("2024-03-04T00:00:00Z")


@lru_cache(maxsize=2)
def sim(n: int = 4, days: float = 1, seed: int = 7):
    return simulate.simulate(n, days, start=START, seed=seed)


@dataclass
class World:
    probation: Organisation
    other_probation: Organisation
    police: Organisation
    other_police: Organisation
    om: User  # offender manager of `probation`
    other_om: User  # offender manager of `other_probation`
    pa: User  # police analyst of the Metropolitan Police
    other_pa: User  # police analyst of Kent
    wearers: list  # W000000, W000001 of probation; W000002, W000003 of other_probation
    sim: object
    reviewer: User | None = None  # the unit's tagging reviewer (every force's matches, qualifies them)


def make_world(settings, tmp_path, *, store: bool = True, password: str | None = None) -> World:
    """Two probation services and two police forces with their people, four simulated wearers (two of
    each probation service) and their positions in the store unless ``store`` is False; the people sign in
    with ``password`` (browser tests) or, without one, only through ``signed_in``."""
    settings.VRU_TAGGING_STORE = str(tmp_path / "store")
    probation = Organisation.objects.create(name="Probation A", kind="probation")
    other_probation = Organisation.objects.create(name="Probation B", kind="probation")
    police = Organisation.objects.create(name="Met (test)", kind="police")
    other_police = Organisation.objects.create(name="Kent (test)", kind="police")
    ForceOrganisation.objects.create(organisation=police, force="Metropolitan")
    ForceOrganisation.objects.create(organisation=other_police, force="Kent")
    s = sim()
    acts = s.activations.to_pandas()
    wearers = []
    for i, ref in enumerate(sorted(acts["wearer_ref"].unique())):
        w = Wearer.objects.create(ref=ref, order_type=demo.ORDER_TYPES[i % 4], order_start=date(2024, 1, 1),
                                  organisation=probation if i < 2 else other_probation)
        WearerIdentity.objects.create(wearer=w, name=f"Secret Name {i}", pnc_id=f"24/99999{i}Q")
        for a in acts[acts["wearer_ref"] == ref].itertuples():
            DeviceActivation.objects.create(wearer=w, device_id=a.device_id, active_from=a.active_from,
                                            active_to=None if pd.isna(a.active_to) else a.active_to)
        wearers.append(w)
    if store:
        demo.load_store(s)
    unit = Organisation.objects.create(name="Unit (test)", kind="vru")
    return World(probation, other_probation, police, other_police,
                 user("om@test.test", "offender manager", probation, password=password),
                 user("om2@test.test", "offender manager", other_probation, password=password),
                 user("pa@test.test", "police analyst", police, password=password),
                 user("pa2@test.test", "police analyst", other_police, password=password), wearers, s,
                 user("reviewer@test.test", "tagging reviewer", unit, password=password))


def planted(n: int = 3, seed: int = 7, decoys: int = 1):
    return simulate.plant_crimes(sim().truth, n, seed=seed, decoys=decoys)


def ingest(crimes, user=None, force="Metropolitan", name="batch.csv", extra: bytes = b""):
    return services.ingest_batch(demo.batch_csv(crimes, force=force) + extra, name, user=user, force=force,
                                 inline=True)


# Shared by several modules of tests/web/tagging (moved from the test modules that used them)
def _zone_on_trail(world, w):
    return Zone.objects.create(wearer=w, kind="exclusion", name="Zone",
                               geometry=demo.zone_on_trail(world.sim, w.ref))


NOON = START + pd.Timedelta(hours=12)


TRAIL_Q = {"purpose": "breach review", "reason": "Alert on 4 March, case 24/1234",
           "start": "2024-03-04T08:00:00Z", "end": "2024-03-04T10:00:00Z"}


IDENTITY_Q = {"purpose": "licence compliance", "reason": "Home visit planned, case 24/1234"}


MATCH_Q = {"purpose": "crime investigation", "reason": "Robbery SIM000001, officer in case request"}


def _justify(c, match, text="Investigating crime SIM000001 for the review"):
    return c.post(reverse("tagging:match", args=[match.pk]),
                  {"purpose": "crime investigation", "justification": text})


def _upload(world, n: int = 2, name: str = "b.csv", bad_row: bool = True, c=None):
    data = demo.batch_csv(planted(n, decoys=1), batch_id="MPS20240305")
    if bad_row:
        data += b"Metropolitan,RB,,MPS20240305,BAD-9,20240304100000,20240305100000,530000,180000,,,OSGB36,x\n"
    return (c or signed_in(world.pa)).post(reverse("tagging:batches"),
                                           {"file": SimpleUploadedFile(name, data)})


def _counting(monkeypatch) -> list:
    """Count the executions of the matching itself (``services._match_grouped``)."""
    calls = []
    real = services._match_grouped

    def spy(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(services, "_match_grouped", spy)
    return calls


MATCH_POST = {"purpose": "crime investigation", "justification": "Robbery SIM000001, officer in case request"}


JUSTIFY = {"purpose": "crime investigation",
           "justification": "Review of the pending match for crime SIM000001"}


QUALIFY = {"decision": "qualified", "reason": "Seen at the scene on the trail"}


def _pending_with_points() -> Match:
    m = Match.objects.filter(status="pending", points__isnull=False).distinct().first()
    assert m is not None and m.points.exists()
    return m


def _purge_past_retention():
    return services.purge(now=timezone.now() + timedelta(days=91), days=90)


JUNE = pd.Timestamp("2024-06-10T00:00:00Z")


def _utc(t, fmt="%Y-%m-%d %H:%M:%S") -> str:
    return t.astimezone(UTC).strftime(fmt)


def _cell(text: str) -> str:
    return f'<td class="govuk-table__cell">{text}</td>'
