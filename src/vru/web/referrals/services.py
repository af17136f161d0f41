"""What the pages, the API and the commands share: who sees which referral, eligibility, allocation, the
change history, subject access and erasure (docs/web-referrals.md)."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone

from vru.outputs import csvsafe
from vru.web.accounts.audit import audit
from vru.web.accounts.models import AuditLog
from vru.web.core.text import reason_problem, visible_text

from .conf import draft_days, retention_days
from .models import (
    MAX_AGE,
    MIN_AGE,
    Allocation,
    AllocationRule,
    BreakGlass,
    ChangeRecord,
    Council,
    Provider,
    Referral,
    YoungPerson,
    age_on,
)

#: a break-glass reason opens the record for this long (seconds) in the user's session
BREAK_GLASS_FOR_S = 30 * 60

WHERE_INSTEAD = {
    "age_low": "Rescue and Response works with young people aged 10 to 25. For a younger child, contact "
    "the children's services (MASH) of the borough where the child lives.",
    "age_high": "Rescue and Response works with young people aged 10 to 25. For an adult over 25, contact "
    "the borough's adult safeguarding team, or the Modern Slavery Helpline (08000 121 700) if they "
    "may be a victim of exploitation.",
    "outside_london": "Rescue and Response works with young people who live in London. Elsewhere, contact "
    "the children's services of the area where they live, or a regional county-lines support "
    "service.",
    "no_indicator": "Rescue and Response needs at least one sign of county-lines exploitation. If you are "
    "worried about a young person for another reason, contact the children's services (MASH) "
    "of their borough.",
}


# -------------------------------------------------------------------------------------------- audit
def audit_case(request_or_user, action: str, referral: Referral, purpose: str) -> AuditLog:
    """The audit row of an action on one referral. Its purpose starts with the referral's reference (``RR-``),
    so that the log is searchable by it (review 15, finding 14), and is the app's own words only: never a
    reason or any other text a user typed, which would outlive the erasure of the person's records (finding 2;
    such texts are kept on the erasable rows the purpose names by id)."""
    return audit(request_or_user, action, referral, f"{referral.reference}: {purpose}")


# ------------------------------------------------------------------------------------------- access
def provider_of(user) -> Provider | None:
    org = getattr(user, "organisation_id", None)
    return Provider.objects.filter(organisation_id=org).first() if org else None


def council_of(user) -> Council | None:
    org = getattr(user, "organisation_id", None)
    return Council.objects.filter(organisation_id=org).first() if org else None


def council_intelligence(user):
    """(the user's council, the intelligence referrals shared with it); (None, none) without a council."""
    council = council_of(user)
    if council is None:
        return None, Referral.objects.none()
    return council, Referral.objects.filter(
        kind="intelligence", shared_with=council, anonymised_at__isnull=True
    )


def disclose(request, referral: Referral, council: Council, action: str = "disclose intelligence") -> None:
    """Log a disclosure of an intelligence referral to the requesting council user (a Disclosure row with the
    recipient, and an audit row), in one transaction."""
    from .models import Disclosure

    with transaction.atomic():
        Disclosure.objects.create(referral=referral, council=council, recipient=request.user)
        audit_case(
            request,
            action,
            referral,
            f"disclosure to {council.organisation} (council of the young person's borough): "
            "intelligence referral",
        )


def caseload(user):
    """The cases of the user's organisation (accepted or closed, allocated to it), without those the user is
    barred from. Restricted cases are in it; opening one outside its named staff needs a reason."""
    provider = provider_of(user)
    if provider is None or not user.has_perm("referrals.view_case"):
        return Referral.objects.none()
    return Referral.objects.filter(
        current_provider=provider, status__in=["accepted", "closed"], anonymised_at__isnull=True
    ).exclude(barred_staff=user)


def triages(user) -> bool:
    """Whether the user triages new referrals: a provider manager at the central triage hub (the provider the
    administrator marks as such). Triage belongs to one hub, not to every provider, so that a new referral's
    name, contact and concerns are seen by the few who decide on it, and the other providers' managers see
    only the cases allocated to them (review 15, finding 8; docs/web-referrals.md, "Triage"). While no
    provider is marked as the hub, no one triages (least privilege: a new referral is not shown to every
    provider's managers for want of a choice); the managers and the administrator are told so
    (:func:`untriaged_without_hub`)."""
    provider = provider_of(user)
    if provider is None or not user.has_perm("referrals.triage_referral"):
        return False
    return provider.triage_hub and provider.active  # a hub switched off triages no more


def _waiting():
    """Every referral waiting for triage: submitted intervention referrals (a decision) and accepted ones
    without a provider (an allocation)."""
    waiting = models.Q(status="submitted") | models.Q(status="accepted", current_provider__isnull=True)
    return Referral.objects.filter(waiting, kind="intervention", anonymised_at__isnull=True)


def hub_problem() -> str | None:
    """Why no one can triage, in words, or None when someone can: no provider marked as the central triage
    hub, the hub switched off (not active), or the hub without an active provider manager."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    hub = Provider.objects.filter(triage_hub=True).select_related("organisation").first()
    if hub is None:
        return "No provider is marked as the central triage hub"
    if not hub.active:
        return f"The central triage hub, {hub.organisation}, is not active"
    perm = models.Q(codename="triage_referral", content_type__app_label="referrals")
    managers = (
        get_user_model()
        .objects.filter(organisation=hub.organisation, is_active=True)
        .filter(
            models.Q(is_superuser=True)
            | models.Q(groups__permissions__in=Permission.objects.filter(perm))
            | models.Q(user_permissions__in=Permission.objects.filter(perm))
        )
    )
    if not managers.exists():
        return f"The central triage hub, {hub.organisation}, has no active provider manager"
    return None


def untriaged_without_hub() -> int | None:
    """How many referrals wait for triage while no one can triage them (:func:`hub_problem`); None when
    someone can."""
    if hub_problem() is None:
        return None
    return _waiting().count()


def triage_queue(user):
    """Submitted intervention referrals waiting for a decision, and accepted ones waiting for an allocation:
    for the managers of the triage hub (:func:`triages`), barred staff excepted."""
    if not triages(user):
        return Referral.objects.none()
    return _waiting().exclude(barred_staff=user)


def movable(user):
    """The open cases the user may move to another provider: every accepted case, wherever it is, for the
    triage hub's managers (barred staff excepted), and none for anyone else: only the hub reassigns (the
    roles table; review 4, 6), so a case at another provider is not stuck there."""
    if not triages(user):
        return Referral.objects.none()
    return Referral.objects.filter(status="accepted", anonymised_at__isnull=True).exclude(barred_staff=user)


def case_or_404(user, pk, *, triage: bool = False, move: bool = False) -> Referral:
    """A case the user may open (404 otherwise: another organisation's case, a barred user, no such id); with
    ``move``, also the cases the user may reassign (:func:`movable`)."""
    qs = caseload(user)
    if triage:
        qs = qs | triage_queue(user)
    if move:
        qs = qs | movable(user)
    try:
        return qs.distinct().get(pk=pk)
    except (Referral.DoesNotExist, ValueError, ValidationError):  # a malformed UUID is a 404 too
        raise Http404("no such case") from None


def needs_break_glass(user, referral: Referral) -> bool:
    return referral.restricted and not referral.allowed_staff.filter(pk=user.pk).exists()


def break_glass_opening(request, referral: Referral) -> int | None:
    """The id of this user's break-glass opening of ``referral`` that still holds in this session (None: none,
    or it has lapsed). The session keeps the opening's id and time, never its reason."""
    import time

    entry = request.session.get("rr_break_glass", {}).get(str(referral.pk))
    # an entry of an older session held the reason itself: not an opening id, so it opens nothing
    if entry and isinstance(entry[0], int) and time.time() - entry[1] < BREAK_GLASS_FOR_S:
        return entry[0]
    return None


def break_glass(request, referral: Referral, reason: str) -> BreakGlass:
    """Record the opening (a BreakGlass row with the reason, shown to the organisation's managers, and an
    audit row naming it by id) and open the record in this session for :data:`BREAK_GLASS_FOR_S`."""
    import time

    with transaction.atomic():
        row = BreakGlass.objects.create(referral=referral, user=request.user, reason=reason)
        audit_case(request, "break glass", referral, f"break-glass opening {row.pk} (its reason is on it)")
    store = request.session.get("rr_break_glass", {})
    now = time.time()
    store = {k: v for k, v in store.items() if isinstance(v[0], int) and now - v[1] < BREAK_GLASS_FOR_S}
    store[str(referral.pk)] = [row.pk, now]
    request.session["rr_break_glass"] = store
    return row


#: the managers' caseload page tells them of the break-glass openings of this many days
RECENT_OPENINGS_DAYS = 7


def openings_of_organisation(user):
    """The break-glass openings the user's provider's managers see on the report page: those by its own
    staff (wherever the case is now), and those by anyone else (the triage hub opening a case on its
    allocation page, with or without moving it) of a case the provider held when it was opened. A later
    move takes neither to the new provider's managers. A case the user is barred from is left out (its
    reference and the reason would tell them of it). None without a provider."""
    from .models import Allocation

    p = provider_of(user)
    if p is None:
        return BreakGlass.objects.none()
    holder = Allocation.objects.filter(
        referral=models.OuterRef("referral"), allocated_at__lte=models.OuterRef("at")
    ).order_by("-allocated_at", "-pk")
    return (
        BreakGlass.objects.annotate(holder=models.Subquery(holder.values("provider_id")[:1]))
        .filter(models.Q(user__organisation_id=p.organisation_id) | models.Q(holder=p.pk))
        .exclude(referral__barred_staff=user)
    )


def recent_openings(user) -> int:
    """How many break-glass openings the user's organisation's staff made in the last
    :data:`RECENT_OPENINGS_DAYS` days: shown to its managers where they land, so an opening is reported to
    them, not only listed on a page they may never open."""
    since = timezone.now() - timedelta(days=RECENT_OPENINGS_DAYS)
    return openings_of_organisation(user).filter(at__gte=since).count()


#: the most moves away the managers' caseload page lists
MAX_MOVES_AWAY = 20


def recent_moves_away(user):
    """The moves (allocations) of the last :data:`RECENT_OPENINGS_DAYS` days that took a case away from the
    user's provider (its allocation just before was to that provider): the hub may move any open case
    (:func:`movable`), so the losing provider's managers are told where they land (review 5, 3). Newest
    first; none without a provider. Each names the case by reference, where it went, when and by whom.
    A move is dropped once the case is moved back to the provider (its caseload shows it again; a later
    move away is its own row), and a case the user is barred from is never listed (neither its reference
    nor where it went)."""
    from .models import Allocation

    p = provider_of(user)
    if p is None:
        return Allocation.objects.none()
    since = timezone.now() - timedelta(days=RECENT_OPENINGS_DAYS)
    before = Allocation.objects.filter(
        referral=models.OuterRef("referral"), allocated_at__lt=models.OuterRef("allocated_at")
    ).order_by("-allocated_at", "-pk")
    back = Allocation.objects.filter(
        models.Q(allocated_at__gt=models.OuterRef("allocated_at"))
        | models.Q(allocated_at=models.OuterRef("allocated_at"), pk__gt=models.OuterRef("pk")),
        referral=models.OuterRef("referral"), provider=p,
    )
    return (
        Allocation.objects.filter(allocated_at__gte=since, referral__anonymised_at__isnull=True)
        .exclude(provider=p)
        .exclude(referral__barred_staff=user)
        .annotate(previous=models.Subquery(before.values("provider_id")[:1]))
        .filter(previous=p.pk)
        .exclude(models.Exists(back))
        .select_related("referral", "provider", "allocated_by")
        .order_by("-allocated_at", "-pk")
    )


def read_purpose(request, referral: Referral) -> str | None:
    """The justification of a read of this case by this user (None: they must break the glass first)."""
    if needs_break_glass(request.user, referral):
        opening = break_glass_opening(request, referral)
        return None if opening is None else f"break-glass opening {opening}"
    if referral.status == "submitted" or referral.current_provider_id is None:
        return "triage: a referral waiting for a decision or an allocation"
    own = provider_of(request.user)
    if own is None or own.pk != referral.current_provider_id:  # the hub, on the allocation page only
        return f"triage: reassignment of a case allocated to {referral.current_provider}"
    return f"casework: case allocated to {referral.current_provider}"


# -------------------------------------------------------------------------------------- eligibility
@dataclass(frozen=True)
class Ineligible:
    field: str
    why: str
    where: str

    @property
    def message(self) -> str:
        return f"{self.why} {self.where}"


def eligibility(*, borough: str, dob: date | None, on: date, indicators: list[bool]) -> list[Ineligible]:
    """Why a referral is not eligible (empty: eligible): a London borough, aged 10 to 25 on the referral date,
    at least one of the four indicators."""
    out = []
    if not borough:
        out.append(
            Ineligible(
                "borough", "Choose the London borough where they live.", WHERE_INSTEAD["outside_london"]
            )
        )
    if dob is not None:
        age = age_on(dob, on)
        if age < MIN_AGE:
            out.append(
                Ineligible(
                    "date_of_birth",
                    f"This date of birth makes them {age} on the referral date.",
                    WHERE_INSTEAD["age_low"],
                )
            )
        elif age > MAX_AGE:
            out.append(
                Ineligible(
                    "date_of_birth",
                    f"This date of birth makes them {age} on the referral date.",
                    WHERE_INSTEAD["age_high"],
                )
            )
    if not any(indicators):
        out.append(
            Ineligible(
                "ind_county_lines", "Tick at least one of the four signs.", WHERE_INSTEAD["no_indicator"]
            )
        )
    return out


# --------------------------------------------------------------------------------------- allocation
def suggest(referral: Referral) -> tuple[Provider | None, AllocationRule | None]:
    """The provider the rule table suggests (the first active rule whose need the referral has and whose
    gender, if set, matches), preferring one with room; (None, None) when no rule applies."""
    needs = referral.needs()
    first = None
    for rule in AllocationRule.objects.filter(active=True, provider__active=True).select_related("provider"):
        if rule.need not in needs or (rule.gender and rule.gender != referral.gender):
            continue
        if rule.provider.has_room():
            return rule.provider, rule
        first = first or (rule.provider, rule)
    return first or (None, None)


class AtCapacity(ValueError):
    pass


class CaseMoved(ValueError):
    """The case changed (allocated, moved, closed or erased by someone else) since the caller read it."""


def allocate(
    referral: Referral, provider: Provider, user, *, reason: str = "", rule: AllocationRule | None = None
) -> Allocation:
    """Append an allocation and make it the current one, in one transaction (the caller's, if any). The
    referral's row is locked first and its state re-checked (still accepted, not erased, still with the
    provider the caller saw: :class:`CaseMoved` otherwise), so that two moves of one case, or a move and a
    closure, are one after the other (review 4, 10); then the provider's row, so that two managers cannot
    both take its last place (tests/web/referrals/test_referrals_concurrency.py, on PostgreSQL)."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status != "accepted" or locked.anonymised_at is not None:
            raise CaseMoved(f"Case {locked.reference} is no longer open ({locked.get_status_display()})")
        if locked.current_provider_id != referral.current_provider_id:
            raise CaseMoved(f"Case {locked.reference} has just been allocated or moved by someone else")
        p = Provider.objects.select_for_update().get(pk=provider.pk)
        if locked.current_provider_id == p.pk:
            raise CaseMoved(f"Case {locked.reference} is already with {p}")
        if not p.has_room():
            raise AtCapacity(f"{p} is at capacity ({p.open_cases()} of {p.capacity} open cases)")
        reassignment = locked.current_provider_id is not None
        if reassignment and reason_problem(reason):
            raise ValueError("A reassignment needs a reason in words")
        a = Allocation.objects.create(  # a reason belongs to a reassignment only: the first one has none
            referral=locked,
            provider=p,
            allocated_by=user,
            reason=visible_text(reason) if reassignment else "",
            rule=rule,
        )
        locked.current_provider = p
        locked.save(update_fields=["current_provider"])
        referral.current_provider = p
    return a


# ----------------------------------------------------------------------------------- change history
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def record_changes(referral: Referral, record: str, before: dict, after: dict, reason: str, user) -> list:
    """A ChangeRecord for each field whose value differs (after submission only)."""
    rows = [
        ChangeRecord(
            referral=referral,
            record=record,
            field=f,
            old_value=_text(before.get(f)),
            new_value=_text(after.get(f)),
            reason=reason,
            changed_by=user,
        )
        for f in after
        if _text(before.get(f)) != _text(after.get(f))
    ]
    return ChangeRecord.objects.bulk_create(rows)


# ---------------------------------------------------------------------------------- subject access
def _rows(qs, fields) -> list[dict]:
    out = []
    for obj in qs:
        row = {}
        for f in fields:
            v = getattr(obj, f)
            v = str(v) if isinstance(v, uuid.UUID) else v
            row[f] = (
                v.isoformat()
                if hasattr(v, "isoformat")
                else (str(v.pk) if isinstance(v, models.Model) else v)
            )
        out.append(row)
    return out


def _fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


def subject_referrals(referral: Referral):
    """Every referral about the same person (same name and date of birth) as ``referral``."""
    p = getattr(referral, "person", None)
    if p is None or not p.name:
        return Referral.objects.filter(pk=referral.pk)
    return Referral.objects.filter(person__name__iexact=p.name, person__date_of_birth=p.date_of_birth)


def subject_referrals_all(name: str, dob: date):
    """Every referral held about the person of this name (letter case and spacing aside) and date of birth, in
    any state (drafts, submitted and never triaged, declined, intelligence, open, closed): the data-protection
    officer's search (``referrals_subject_access``), not limited to anyone's caseload."""
    wanted = " ".join(name.split()).casefold()
    people = YoungPerson.objects.filter(date_of_birth=dob).only("referral_id", "name")
    ids = [p.referral_id for p in people if " ".join(p.name.split()).casefold() == wanted]
    return Referral.objects.filter(pk__in=ids, anonymised_at__isnull=True)


def subject_access(referrals) -> dict:
    """Everything held about the person of these referrals, as JSON-ready data."""
    from .models import Closure, Contact, Disclosure, MissingEpisode, Need, NeedOutcome, Rescue, RiskNote

    out = []
    for r in referrals.order_by("referral_date", "reference"):
        item = {
            "referral": _rows([r], [f for f in _fields(Referral)]),
            "person": _rows(YoungPerson.objects.filter(referral=r), _fields(YoungPerson)),
        }
        for name, model in (
            ("allocations", Allocation),
            ("changes", ChangeRecord),
            ("contacts", Contact),
            ("needs", Need),
            ("risk_notes", RiskNote),
            ("rescues", Rescue),
            ("missing_episodes", MissingEpisode),
            ("closure", Closure),
            ("disclosures", Disclosure),
            ("break_glass", BreakGlass),
        ):
            item[name] = _rows(model.objects.filter(referral=r), _fields(model))
        item["need_outcomes"] = _rows(NeedOutcome.objects.filter(need__referral=r), _fields(NeedOutcome))
        out.append(item)
    return {"generated": timezone.now().isoformat(), "referrals": out}


def subject_access_csv(data: dict) -> str:
    """The same as one CSV: a row per value (referral, record, row, field, value)."""
    buf = io.StringIO()
    w = csvsafe.writer(buf)  # a typed text starting with = + - @ stays text in a spreadsheet (finding 9)
    w.writerow(["referral", "record", "row", "field", "value"])
    for item in data["referrals"]:
        ref = item["referral"][0]["reference"]
        for record, rows in item.items():
            for i, row in enumerate(rows, 1):
                for f, v in row.items():
                    w.writerow(
                        [
                            ref,
                            record,
                            i,
                            f,
                            "" if v is None else (json.dumps(v) if isinstance(v, list | dict) else v),
                        ]
                    )
    return buf.getvalue()


# ----------------------------------------------------------------------------------------- erasure
def last_step(referral: Referral) -> date:
    """The day of the last recorded step of an accepted case: its decision, an allocation, a contact, a risk
    note or its review, a rescue or a return, a missing episode, a change. (A look is not a step: break-glass
    openings and disclosures do not count.)"""
    from django.db.models import Max

    from .models import Contact, MissingEpisode, Rescue, RiskNote

    def day(value):
        return timezone.localdate(value) if isinstance(value, timezone.datetime) else value

    steps = [referral.decided_at or referral.submitted_at or referral.created]
    for model, fields in (
        (Allocation, ["allocated_at"]),
        (ChangeRecord, ["changed_at"]),
        (Contact, ["when"]),
        (RiskNote, ["created", "reviewed_at"]),
        (Rescue, ["rescued_on", "returned_on"]),
        (MissingEpisode, ["started_on", "ended_on"]),
    ):
        got = model._base_manager.filter(referral=referral).aggregate(**{f: Max(f) for f in fields})
        steps += got.values()
    return max(day(s) for s in steps if s is not None)


def retention_due(today: date | None = None):
    """Referrals whose retention period has ended and that still hold personal data, counted from their last
    step: closed (from the closure), declined (from the decision), submitted and never decided, which every
    intelligence referral stays (from the submission), and
    accepted cases, allocated or not, from their last recorded step (:func:`last_step`): a case accepted and
    never allocated, or left open with nothing recorded for the whole period, is not kept for ever (review 15,
    finding 6)."""
    today = today or timezone.localdate()
    limit = today - timedelta(days=retention_days())
    cutoff = timezone.make_aware(timezone.datetime.combine(limit, timezone.datetime.min.time()))
    closed = Referral.objects.filter(status="closed", closure__closed_on__lt=limit)
    declined = Referral.objects.filter(status="declined", decided_at__lt=cutoff)
    waiting = Referral.objects.filter(status="submitted", submitted_at__lt=cutoff)
    # every step of an accepted case follows its decision: only those decided before the limit can be due
    stale = [
        r.pk
        for r in Referral.objects.filter(
            models.Q(decided_at__lt=cutoff) | models.Q(decided_at__isnull=True, submitted_at__lt=cutoff),
            status="accepted",
            anonymised_at__isnull=True,
        )
        if last_step(r) < limit
    ]
    accepted = Referral.objects.filter(pk__in=stale)
    return (closed | declined | waiting | accepted).filter(anonymised_at__isnull=True).distinct()


def drafts_due(now=None):
    """Drafts never submitted whose referrer last saved them (or, never saved since, made them) more than
    ``VRU_REFERRALS_DRAFT_DAYS`` (30) days ago: abandoned, purged by ``referrals_retention --anonymise``
    (review 4, 4). A draft holds no case (no one but its referrer has seen it), so it is deleted, not kept
    anonymised."""
    cutoff = (now or timezone.now()) - timedelta(days=draft_days())
    return Referral.objects.filter(
        models.Q(saved_at__lt=cutoff) | models.Q(saved_at__isnull=True, created__lt=cutoff),
        status="draft",
        anonymised_at__isnull=True,
    )


def purge_draft(referral: Referral, user) -> None:
    """Delete an abandoned draft and its young person's details, with one audit row of ``user`` (the retention
    job's account with ``--system``) naming it by reference only. A draft that some record refers to (none
    should: a draft has no casework) is anonymised instead."""
    from django.db.models import ProtectedError

    with transaction.atomic():
        r = Referral.objects.select_for_update().get(pk=referral.pk)
        if r.status != "draft":  # submitted meanwhile: no longer a draft
            return
        audit_case(user, "purge draft", r, "retention: draft abandoned (not saved for the draft period)")
        try:
            with transaction.atomic():
                r.allowed_staff.clear()
                r.barred_staff.clear()
                r.subject_access_requests.clear()
                YoungPerson.objects.filter(referral=r).delete()
                r.delete()
        except ProtectedError:
            anonymise(r)


#: the account the scheduled retention job acts as (``referrals_retention --system``): it cannot sign in
#: (inactive, no usable password) and holds no permission; the audit log names it as the actor
SYSTEM_EMAIL = "referrals-retention@system.invalid"


def system_actor():
    """The retention job's account, made on first use (:data:`SYSTEM_EMAIL`)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    u = User.objects.filter(email=SYSTEM_EMAIL).first()
    if u is None:
        u = User(email=SYSTEM_EMAIL, full_name="Rescue and Response retention job (system)", is_active=False)
        u.set_unusable_password()
        u.save()
    return u


def _month(value):
    """The first day of the month of a date, or midnight (local time) on the first of the month of a date and
    time: what erasure keeps of every date about a young person."""
    if value is None:
        return None
    if isinstance(value, timezone.datetime):
        local = timezone.localtime(value)
        return timezone.make_aware(timezone.datetime(local.year, local.month, 1))
    return value.replace(day=1)


def _coarsen(qs, fields: list[str]) -> None:
    """Every date of these rows to its month (row by row: each row keeps its own month). The append-only
    rows' own guard is passed by ``models.QuerySet.update``, which only the erasure calls."""
    for row in qs.values("pk", *fields):
        one = qs.model._base_manager.filter(pk=row["pk"])
        models.QuerySet.update(one, **{f: _month(row[f]) for f in fields})


def _erasure_allowed() -> None:
    """On PostgreSQL, let this transaction (and only it) change the append-only tables: their triggers
    (migration 0009) refuse every UPDATE and DELETE unless the transaction-local setting ``vru.erasure`` is
    on. Only :func:`anonymise` sets it, and it ends with the transaction (or with ``off`` at the end)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('vru.erasure', 'on', true)")


def _erasure_done() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('vru.erasure', 'off', true)")


def anonymise(referral: Referral, user=None) -> None:
    """Erase what identifies the young person and keep only what the figures need, coarsened.

    Deleted or blanked: the person (name, date of birth, contact), every free text (concerns, notes, risk
    text, desired outcomes, change values and reasons, break-glass and allocation reasons, risk reviews'
    findings, the rescue's county and police force, the reasons of subject access requests about it), the
    referrer (the link to their account, so to their name and organisation) and their organisation (the
    figures by source count the sector), the age at referral, the NRM dates, the restriction lists,
    and the reference (a new one: the case's pages no longer answer to the old one; the platform's audit
    log, by law, still names it). Coarsened to the month: every other date and time of the
    referral and its records (referral, submission, decision, allocations, contacts, risk notes and
    reviews, rescues, missing episodes, closure, changes, break-glass openings, disclosures, subject access
    requests). Kept: what the reports count (type, status, sector, borough, gender, referral month,
    decision, the closure's outcomes)
    and the one figure they take from exact dates, the days from referral to first contact, stored first
    (``days_to_first_contact``): every published figure is the same after erasure (tested). Kept too: the
    eligibility signs, needs, NRM status and the count of missing episodes (no dates; no figure publishes
    them per person). With ``user`` (the retention command's ``--user``), the erasure is one audit row
    naming the referral by its old reference only (finding 13)."""
    from .models import (
        Closure,
        Contact,
        Disclosure,
        MissingEpisode,
        NeedOutcome,
        Rescue,
        RiskNote,
        SubjectAccessRequest,
        new_reference,
    )

    given = referral
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if user is not None:
            audit_case(
                user, "erase referral", referral, f"retention: period ended ({referral.get_status_display()})"
            )
        _erasure_allowed()
        days = referral.first_contact_days()  # before the contacts' dates are coarsened
        YoungPerson.objects.filter(referral=referral).delete()
        models.QuerySet.update(
            ChangeRecord.objects.filter(referral=referral), old_value="", new_value="", reason="[erased]"
        )
        models.QuerySet.update(BreakGlass.objects.filter(referral=referral), reason="[erased]")
        Contact.objects.filter(referral=referral).update(note="")
        RiskNote.objects.filter(referral=referral).update(text="[erased]", review_note="")
        # the county and the force both name the place they were found
        Rescue.objects.filter(referral=referral).update(note="", county="", police_force="")
        Closure.objects.filter(referral=referral).update(note="")
        NeedOutcome.objects.filter(need__referral=referral).update(comment="")
        referral.need_records.update(desired_outcome="[erased]")
        models.QuerySet.update(Allocation.objects.filter(referral=referral), reason="[erased]")
        for qs, fields in (
            (Contact.objects.filter(referral=referral), ["when"]),
            (RiskNote.objects.filter(referral=referral), ["review_on", "created", "reviewed_at"]),
            (Rescue.objects.filter(referral=referral), ["rescued_on", "returned_on"]),
            (MissingEpisode.objects.filter(referral=referral), ["started_on", "ended_on"]),
            (Closure.objects.filter(referral=referral), ["closed_on"]),
            (Allocation.objects.filter(referral=referral), ["allocated_at"]),
            (ChangeRecord.objects.filter(referral=referral), ["changed_at"]),
            (BreakGlass.objects.filter(referral=referral), ["at"]),
            (Disclosure.objects.filter(referral=referral), ["at"]),
        ):
            _coarsen(qs, fields)
        for sar in referral.subject_access_requests.all():  # their reason may name the person
            SubjectAccessRequest.objects.filter(pk=sar.pk).update(reason="[erased]", at=_month(sar.at))
        reference = new_reference()
        while Referral.objects.filter(reference=reference).exists():
            reference = new_reference()
        Referral.objects.filter(pk=referral.pk).update(
            referrer=None,  # the case no longer leads to the outside professional who made it (review 4, 2)
            referrer_organisation=None,  # no figure uses it (the figures by source count the sector)
            concerns="",
            decision_note="",
            reference=reference,
            age_at_referral=None,
            nrm_referred_on=None,
            rg_decided_on=None,
            cg_decided_on=None,
            referral_date=_month(referral.referral_date),
            created=_month(referral.created),
            saved_at=_month(referral.saved_at),
            submitted_at=_month(referral.submitted_at),
            decided_at=_month(referral.decided_at),
            days_to_first_contact=days,
            anonymised_at=_month(timezone.now()),
        )
        referral.allowed_staff.clear()
        referral.barred_staff.clear()
        _erasure_done()
    given.refresh_from_db()
