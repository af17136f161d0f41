"""Synthetic referrals and cases with the shape of Rescue and Response's 2020-21 figures (593 referrals,
41% accepted, 62% of those accepted engaged, 88% of those engaged reduced or ceased their involvement;
LBBD Health and Wellbeing Board minutes, docs/web-referrals.md). Every name is made up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from vru.geography.boroughs import BOROUGHS
from vru.web.accounts.models import Organisation, User

from .models import (
    SECTORS,
    Allocation,
    AllocationRule,
    Closure,
    Contact,
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
    referrer, _ = User.objects.get_or_create(
        email="referrer.demo@example.org", defaults={"organisation": org, "full_name": "Demo referrer"}
    )
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
