"""Rescue and Response's test world: the people of every role (``W``, made by the ``w`` fixture of conftest.py
from ``factories.user``), cases and the form data the tests of the app share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import referrals_base as base  # the helpers moved here from other modules call each other by this name
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from vru.web.accounts.models import AuditLog, User
from vru.web.referrals import services
from vru.web.referrals.models import (
    Closure,
    Contact,
    Council,
    MissingEpisode,
    Need,
    NeedOutcome,
    Provider,
    Referral,
    Rescue,
    RiskNote,
    YoungPerson,
)

BRENT, LAMBETH = "E09000005", "E09000022"

NAME = "Zebedee Testperson"


@dataclass
class W:
    pa: Provider
    pb: Provider
    referrer: User
    cw_a: User
    cw_a2: User
    cw_b: User
    mgr_a: User
    mgr_b: User
    council_brent: User
    council_lambeth: User
    analyst: User


def make_case(
    w: W, *, provider=None, status="accepted", kind="intervention", borough=BRENT, days_ago=30, name=NAME
) -> Referral:
    day = timezone.localdate() - timedelta(days=days_ago)
    r = Referral.objects.create(
        kind=kind,
        status=status,
        referrer=w.referrer,
        sector="education",
        referral_date=day,
        borough=borough,
        gender="male",
        age_at_referral=16,
        ind_county_lines=True,
        consent="given",
        lawful_basis="public_task_safeguarding",
        concerns="Found in Norfolk with drugs",
        submitted_at=timezone.now(),
        decided_at=timezone.now() if status in ("accepted", "closed") else None,
    )
    YoungPerson.objects.create(
        referral=r, name=name, date_of_birth=day - timedelta(days=16 * 366), contact="07700 900123"
    )
    if provider is not None:
        services.allocate(r, provider, w.mgr_a)
    if kind == "intelligence":
        r.shared_with = Council.objects.get(borough=borough)
        r.save()
    return r


def restricted_case(w: W, **kw) -> Referral:
    """A case at provider A restricted to its second caseworker (``cw_a2``)."""
    r = make_case(w, **{"provider": w.pa, **kw})
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    return r


def close_case(w: W, r: Referral, closed_on: date, **over) -> Closure:
    """Close ``r`` directly, as the closure page would (involvement ceased unless ``over`` says otherwise)."""
    values = {"reason": "completed", "engaged": True, "involvement": "ceased", "in_eet": "yes"}
    values.update(fewer_missing="yes", nrm_outcome="none", closed_by=w.cw_a)
    c = Closure.objects.create(referral=r, closed_on=closed_on, **{**values, **over})
    r.status = "closed"
    r.save()
    return c


def closing_post(need: Need, closed_on: date) -> dict:
    """The closure form, filled in: completed, engaged, involvement ceased, the need achieved."""
    return {
        "closed_on": closed_on.isoformat(),
        "reason": "completed",
        "engaged": "on",
        "involvement": "ceased",
        "in_eet": "yes",
        "fewer_missing": "yes",
        "nrm_outcome": "none",
        f"outcome_{need.pk}": "achieved",
    }


def referral_post(**over) -> dict:
    dob = timezone.localdate() - timedelta(days=16 * 366)
    data = {
        "kind": "intervention",
        "sector": "education",
        "borough": BRENT,
        "gender": "female",
        "ind_county_lines": "on",
        "missing_episodes": "2",
        "name": NAME,
        "date_of_birth": dob.isoformat(),
        "consent": "given",
        "lawful_basis": "public_task_safeguarding",
        "concerns": "Missing twice",
        "submit": "1",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# ------------------------------------------------------------------------------ least privilege, 404s
def _case_urls(r) -> list[str]:
    names = [
        "case",
        "contact",
        "need",
        "risk",
        "rescue",
        "missing",
        "close",
        "update",
        "restrict",
        "allocate",
        "decide",
    ]
    return [reverse(f"referrals:{n}", args=[r.pk]) for n in names] + [
        reverse("referrals:export", args=[r.pk, "json"]),
        reverse("referrals:export", args=[r.pk, "csv"]),
        reverse("referrals:break_glass", args=[r.pk]),
        f"/api/v1/referrals/cases/{r.pk}/",
    ]


def _out(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """How many rows each table of the app holds, and the audit log; and every value of the app's rows, so
    that a row changed in place (a correction half-saved) shows too, not only a row added."""
    models = apps.get_app_config("referrals").get_models()
    counts: dict = {m.__name__: m.objects.count() for m in models}
    counts["AuditLog"] = AuditLog.objects.count()
    counts["allowed"] = Referral.allowed_staff.through.objects.count()
    counts["barred"] = Referral.barred_staff.through.objects.count()
    counts["values"] = repr([list(m._base_manager.order_by("pk").values()) for m in models])
    return counts


def error_next_to(html: str, field: str) -> str:
    """The message shown next to ``field`` (fails when there is none), checked to be in the summary too."""
    marker = f'id="id_{field}-error"'
    assert marker in html, f"no message next to {field}"
    assert f'href="#id_{field}' in html.split('class="govuk-error-summary"')[1].split("</ul>")[0], field
    return html.split(marker)[1].split("</p>")[0]


def _day(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _cases(w: W) -> dict:
    """The referral of each form's test: an open case of provider A with a need, a due risk note, a contact,
    a rescue and a missing episode (for the corrections), and a closed case with its outcome."""
    r = make_case(w, provider=w.pa, days_ago=20)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Stops running lines")
    note = RiskNote.objects.create(
        referral=r, level="high", text="Owes a debt", review_on=timezone.localdate(), created_by=w.cw_a
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    contact = Contact.objects.create(
        referral=r, when=timezone.now() - timedelta(days=1), kind="session", attendance="attended",
        recorded_by=w.cw_a,
    )
    rescue = Rescue.objects.create(referral=r, county="Norfolk", police_force="Norfolk", rescued_on=yesterday)
    episode = MissingEpisode.objects.create(referral=r, started_on=yesterday)
    closed = make_case(w, provider=w.pa, days_ago=20)
    closed_need = Need.objects.create(referral=closed, category="exit", desired_outcome="Stays in school")
    NeedOutcome.objects.create(
        closure=base.close_case(w, closed, yesterday), need=closed_need, achievement="achieved"
    )
    return {
        "case": r, "need": need, "note": note, "contact": contact, "rescue": rescue, "episode": episode,
        "closed": closed, "closed_need": closed_need, "pb": w.pb,
    }


# ----------------------------------------------------------------- 10, 16, 17: the referral form
def _error_next_to(html: str, field: str) -> str:
    marker = f'id="id_{field}-error"'
    assert marker in html, f"no message next to {field}"
    return html.split(marker)[1].split("</p>")[0]


REASON = "Need to move this case to the hub for the family's safety"


def _restricted_at_b(w):
    r = make_case(w, provider=w.pb)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_b)
    return r
