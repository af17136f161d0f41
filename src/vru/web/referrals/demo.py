"""Synthetic referrals and cases with the shape of Rescue and Response's 2020-21 figures (593 referrals,
41% accepted, 62% of those accepted engaged, 88% of those engaged reduced or ceased their involvement;
LBBD Health and Wellbeing Board minutes, docs/web-referrals.md). Every name is made up.

:func:`seed` is ``vru serve``'s demo of this app (idempotent): the synthetic data once, and demo users to walk
the journey with (a referrer, a provider manager at the platform demo caseworker's organisation, made a
provider here, and a council user for Barking and Dagenham), made by the platform's ``vru.web.demo.app_user``
with their passwords in ``demo-users-referrals.txt``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from vru.geography.boroughs import BOROUGHS, borough_code
from vru.web.accounts.models import Organisation, User

from .models import (
    SECTORS,
    Allocation,
    AllocationRule,
    Closure,
    Contact,
    Council,
    Need,
    NeedOutcome,
    Provider,
    Referral,
    YoungPerson,
)

TOTAL, ACCEPTED_RATE, ENGAGED_RATE, REDUCED_RATE = 593, 0.41, 0.62, 0.88
INTELLIGENCE = 60
START, END = date(2020, 4, 1), date(2021, 3, 31)
PROVIDERS = [("St Giles Trust (demo)", 40), ("Abianda (demo)", 25), ("Safer London (demo)", 30)]
RULES = [
    (10, "rescue", "", 0),
    (20, "young_women", "female", 1),
    (30, "relocation", "", 2),
    (40, "family", "", 2),
    (90, "any", "", 0),
]
#: The user the synthetic referrals are made, allocated and closed by: nobody signs in as it.
SYNTHETIC_REFERRER = "synthetic.referrer@demo.vru.test"
OLD_SYNTHETIC_REFERRER = "referrer.demo@example.org"  # its address before; a demo database made then is moved
#: The platform demo's caseworker organisation (vru.web.demo.USERS), a provider of this app in the demo.
CASEWORK_ORGANISATION = "Demo County Lines Casework Service"
CASEWORK_CAPACITY = 20
REFERRING_ORGANISATION = ("Hillview Academy (demo)", "other", "A fictional secondary school that refers.")
COUNCIL_ORGANISATION = (
    "Barking and Dagenham Council (demo)",
    "local_authority",
    "A fictional council user organisation for the demo.",
)
COUNCIL_BOROUGH = borough_code("Barking and Dagenham")  # where the 2020-21 figures come from
#: (role, email, full name, organisation): the journey's demo users; the caseworker is the platform's.
JOURNEY_USERS = [
    ("referrer", "referrer@demo.vru.test", "Rory Referrer (demo)", REFERRING_ORGANISATION[0]),
    ("provider manager", "provider.manager@demo.vru.test", "Morgan Manager (demo)", CASEWORK_ORGANISATION),
    ("council user", "council.user@demo.vru.test", "Cal Council-Officer (demo)", COUNCIL_ORGANISATION[0]),
]
FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Casey", "Jamie", "Riley", "Morgan", "Charlie", "Robin"]
LAST = ["Demo", "Example", "Sample", "Fictional", "Madeup"]


@dataclass
class Counts:
    referrals: int
    accepted: int
    engaged: int
    reduced: int


def providers() -> list[Provider]:
    out = []
    for name, cap in PROVIDERS:
        org, _ = Organisation.objects.get_or_create(name=name, defaults={"kind": "provider"})
        p, _ = Provider.objects.get_or_create(organisation=org, defaults={"capacity": cap})
        out.append(p)
    if not AllocationRule.objects.exists():
        AllocationRule.objects.bulk_create(
            [AllocationRule(priority=pr, need=need, gender=g, provider=out[i]) for pr, need, g, i in RULES]
        )
    return out


@transaction.atomic
def generate(seed: int = 2021, total: int = TOTAL) -> Counts:
    """Create ``total`` submitted referrals (closed cases for the accepted ones) and return what was made."""
    rng = random.Random(seed)
    provs = providers()
    org, _ = Organisation.objects.get_or_create(name="Demo referrers", defaults={"kind": "other"})
    referrer = User.objects.filter(email=SYNTHETIC_REFERRER).first() or User.objects.create_user(
        SYNTHETIC_REFERRER, None, organisation=org, full_name="Synthetic referrer (demo)"
    )  # no password: nobody signs in as it
    n_accepted = round(ACCEPTED_RATE * total)
    n_engaged = round(ENGAGED_RATE * n_accepted)
    n_reduced = round(REDUCED_RATE * n_engaged)
    n_intel = min(INTELLIGENCE, total - n_accepted)
    boroughs = list(BOROUGHS)
    weights = [rng.uniform(0.3, 3.0) for _ in boroughs]
    days = (END - START).days
    refs, people, allocs, closures, contacts, needs, outcomes = [], [], [], [], [], [], []
    for i in range(total):
        day = START + timedelta(days=rng.randrange(days))
        age = rng.randint(12, 24)
        dob = day - timedelta(days=365 * age + rng.randrange(300))
        gender = rng.choices(["male", "female", "non_binary"], [0.78, 0.21, 0.01])[0]
        accepted = i < n_accepted
        kind = "intelligence" if n_accepted <= i < n_accepted + n_intel else "intervention"
        status = "closed" if accepted else ("submitted" if kind == "intelligence" else "declined")
        submitted = timezone.make_aware(datetime.combine(day, time(10)))
        r = Referral(
            kind=kind,
            status=status,
            referrer=referrer,
            referrer_organisation=org,
            sector=rng.choice(SECTORS)[0],
            referral_date=day,
            borough=rng.choices(boroughs, weights)[0],
            gender=gender,
            age_at_referral=age,
            ind_county_lines=rng.random() < 0.8,
            ind_association=rng.random() < 0.5,
            ind_cse=gender == "female" and rng.random() < 0.6,
            ind_missing=rng.random() < 0.4,
            missing_episodes=rng.randint(0, 6),
            need_rescue=rng.random() < 0.15,
            need_relocation=rng.random() < 0.1,
            need_family=rng.random() < 0.2,
            consent="given",
            lawful_basis="public_task_safeguarding",
            submitted_at=submitted,
            decided_at=submitted + timedelta(days=2) if kind == "intervention" else None,
            decline_reason="" if accepted or kind == "intelligence" else "statutory",
        )
        if not (r.ind_county_lines or r.ind_association or r.ind_cse or r.ind_missing):
            r.ind_county_lines = True
        refs.append(r)
        people.append(
            YoungPerson(referral=r, name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}", date_of_birth=dob)
        )
        if accepted:
            p = provs[0] if r.need_rescue else provs[1] if gender == "female" else rng.choice(provs)
            r.current_provider = p
            allocs.append(
                Allocation(
                    referral=r, provider=p, allocated_by=referrer, allocated_at=submitted + timedelta(days=3)
                )
            )
            engaged = i < n_engaged
            reduced = i < n_reduced
            first = submitted + timedelta(days=rng.randint(2, 21))
            contacts.append(
                Contact(
                    referral=r,
                    when=first,
                    attendance="attended" if engaged else "dna",
                    dna_reason="" if engaged else "unknown",
                    recorded_by=referrer,
                )
            )
            need = Need(referral=r, category="exit", desired_outcome="Stops county-lines activity")
            needs.append(need)
            c = Closure(
                referral=r,
                closed_on=min(day + timedelta(days=rng.randint(60, 200)), END + timedelta(90)),
                reason="completed" if engaged else "disengaged",
                engaged=engaged,
                involvement=("ceased" if rng.random() < 0.4 else "reduced") if reduced else "no_change",
                in_eet="yes" if rng.random() < 0.5 else "no",
                fewer_missing="yes" if reduced else "no",
                nrm_outcome="none",
                closed_by=referrer,
            )
            closures.append(c)
            outcomes.append(
                NeedOutcome(
                    closure=c,
                    need=need,
                    achievement="achieved" if reduced else ("partly" if engaged else "not"),
                )
            )
    Referral.objects.bulk_create(refs)
    YoungPerson.objects.bulk_create(people)
    Allocation.objects.bulk_create(allocs)
    Contact.objects.bulk_create(contacts)
    Need.objects.bulk_create(needs)
    Closure.objects.bulk_create(closures)
    NeedOutcome.objects.bulk_create(outcomes)
    return Counts(total, n_accepted, n_engaged, n_reduced)


def generated() -> bool:
    """Whether :func:`generate` has run on this database: a referral of the synthetic referrer, or, once
    retention has erased them (an erased case names no referrer), an allocation made by it (allocations are
    append-only: erasure blanks their reason, never the row). So the demo is not made again after its
    referrals are erased (review 5, 6)."""
    return (
        Referral.objects.filter(referrer__email=SYNTHETIC_REFERRER).exists()
        or Allocation.objects.filter(allocated_by__email=SYNTHETIC_REFERRER).exists()
    )


def _organisation(name: str, kind: str, description: str) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        name=name, defaults={"kind": kind, "verified": True, "description": description}
    )
    return org


def seed(stdout=None, *, seed: int = 2021) -> dict:
    """``vru serve``'s demo of this app (``vru.web.demo.seed`` calls it after the platform's users, in its
    transaction). Idempotent: the synthetic 2020-21 data (:func:`generate`) is made once (:func:`generated`:
    not again once retention has erased it); the platform's caseworker organisation becomes a provider (its
    caseworker sees that provider's cases, nothing more); a council for Barking and Dagenham receives that
    borough's intelligence referrals; and the journey's demo users exist (``vru.web.demo.app_user``)."""
    from vru.web import demo as platform_demo

    made = {"referrals": 0}
    if not User.objects.filter(email=SYNTHETIC_REFERRER).exists():
        User.objects.filter(email=OLD_SYNTHETIC_REFERRER).update(
            email=SYNTHETIC_REFERRER, full_name="Synthetic referrer (demo)", password="!"
        )
    casework = Organisation.objects.get(name=CASEWORK_ORGANISATION)
    # the demo's casework service is also the consortium's triage hub (docs/web-referrals.md, finding 8),
    # unless an administrator has already marked one: its manager triages, other providers' do not
    Provider.objects.get_or_create(organisation=casework, defaults={
        "capacity": CASEWORK_CAPACITY, "triage_hub": not Provider.objects.filter(triage_hub=True).exists()})
    council = Council.objects.filter(borough=COUNCIL_BOROUGH).first() or Council.objects.create(
        borough=COUNCIL_BOROUGH, organisation=_organisation(*COUNCIL_ORGANISATION)
    )  # the borough's council if an administrator made one, else the demo's
    orgs = {
        REFERRING_ORGANISATION[0]: _organisation(*REFERRING_ORGANISATION),
        CASEWORK_ORGANISATION: casework,
        COUNCIL_ORGANISATION[0]: council.organisation,
    }
    for role, email, full_name, org_name in JOURNEY_USERS:
        platform_demo.app_user("referrals", email, full_name, orgs[org_name], role, stdout)
    if not generated():
        made["referrals"] = generate(seed=seed).referrals
        if stdout:
            stdout.write(f"referrals demo: {made['referrals']} synthetic referrals (2020-21 shape)\n")
    # As a submission does (views._save_referral): intelligence goes to the council of its borough.
    made["shared"] = Referral.objects.filter(
        kind="intelligence",
        borough=COUNCIL_BOROUGH,
        shared_with__isnull=True,
        status="submitted",
        referrer__email=SYNTHETIC_REFERRER,
    ).update(shared_with=council)
    return made
