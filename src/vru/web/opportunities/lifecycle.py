"""The lifecycle of an opportunity: which status changes are allowed, who may make them, and the
time rules. Every change goes through :func:`transition` (or :func:`apply_time_rules`) and leaves a
``ModerationEvent`` (who, when, from, to, reason).

::

    pending --approve--> approved --(inside visible_from..visible_to)--> published
       |                    |                                                |
       +--reject--> rejected <--take down (moderator, reason)----------------+
    approved/published --(past visible_to or end_date)--> expired
    anything but archived --archive (moderator, or the provider's own staff; reason)--> archived
    approved/published/rejected/expired --edited by the provider--> pending (moderated again)

Who: moderators hold ``opportunities.moderate_opportunity`` (administrator, programme manager);
provider staff may archive and edit their own organisation's opportunities (and submit edits);
``None`` as the actor is the platform itself (the time rules, run by ``expire_opportunities``).

Young people see an opportunity only when it is *live*: :func:`live_q` (approved or published, inside
its visible window, not past its end date, and posted by an organisation that is verified *now*:
withdrawing a provider's verification takes all its opportunities down at once, from search, detail
pages, bookings, shortlists and the Open Referral UK API; verifying it again brings them back).
Approving needs a verified provider too. The search applies it, so an expired item is never shown
even before the scheduled command has changed its status.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vru.web.accounts.models import Organisation

from .models import ModerationEvent, Opportunity

MODERATE = "opportunities.moderate_opportunity"

PENDING, APPROVED, PUBLISHED = "pending", "approved", "published"
REJECTED, EXPIRED, ARCHIVED = "rejected", "expired", "archived"

# action -> (statuses it may start from, status it leads to, needs a reason, who: "moderator"/"owner")
ACTIONS: dict[str, tuple[frozenset[str], str, bool, frozenset[str]]] = {
    "approve": (frozenset({PENDING}), APPROVED, False, frozenset({"moderator"})),
    "reject": (frozenset({PENDING, APPROVED, PUBLISHED}), REJECTED, True, frozenset({"moderator"})),
    "archive": (frozenset({PENDING, APPROVED, PUBLISHED, REJECTED, EXPIRED}), ARCHIVED, True,
                frozenset({"moderator", "owner"})),
    "resubmit": (frozenset({PENDING, APPROVED, PUBLISHED, REJECTED, EXPIRED}), PENDING, False,
                 frozenset({"owner"})),
}


class TransitionError(Exception):
    """A status change that is not allowed (wrong state, no reason, or not this user's to make)."""


def is_moderator(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(MODERATE))


def is_owner(user, opp: Opportunity) -> bool:
    return bool(user and user.is_authenticated and user.organisation_id
                and user.organisation_id == opp.provider_id)


def allowed_actions(user, opp: Opportunity) -> list[str]:
    """The actions ``user`` may take on ``opp`` now (for showing buttons)."""
    roles = set()
    if is_moderator(user):
        roles.add("moderator")
    if is_owner(user, opp):
        roles.add("owner")
    return [a for a, (src, _, _, who) in ACTIONS.items() if opp.status in src and roles & who]


def live_q(now: dt.datetime | None = None) -> Q:
    """Rows young people may see at ``now``: approved or published, inside the visible window, not
    past the end date, from a verified provider."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    # The provider rule is a subquery, not a join (``provider__verified``): a join would turn the
    # booking's conditional UPDATE into ``UPDATE ... WHERE id IN (SELECT ...)``, whose capacity test
    # PostgreSQL evaluates on the old snapshot instead of re-checking it on the locked row, and
    # concurrent registrations would overbook (tests/web/opportunities/test_opportunities_concurrency.py).
    verified = Organisation.objects.filter(verified=True).values("pk")
    return (Q(status__in=(APPROVED, PUBLISHED)) & Q(visible_from__lte=now) & Q(visible_to__gt=now)
            & Q(end_date__gte=today) & Q(provider_id__in=verified))


def is_live(opp: Opportunity, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (opp.status in (APPROVED, PUBLISHED) and opp.visible_from <= now < opp.visible_to
            and opp.end_date >= timezone.localdate(now) and opp.provider.verified)


def _record(opp: Opportunity, frm: str, to: str, by, reason: str) -> ModerationEvent:
    return ModerationEvent.objects.create(opportunity=opp, from_status=frm, to_status=to, by=by,
                                          reason=reason)


def transition(opp: Opportunity, action: str, by, reason: str = "", *,
               visible_from: dt.datetime | None = None, visible_to: dt.datetime | None = None,
               now: dt.datetime | None = None) -> Opportunity:
    """Apply ``action`` to ``opp`` on behalf of ``by`` (a user); record it; return the opportunity.

    ``approve`` may set the visible window; an approval that is already inside its window publishes
    at once (two events: approved, then published by the platform). Raises :class:`TransitionError`.
    """
    if action not in ACTIONS:
        raise TransitionError(f"unknown action {action!r}")
    sources, target, needs_reason, who = ACTIONS[action]
    reason = (reason or "").strip()
    roles = ({"moderator"} if is_moderator(by) else set()) | ({"owner"} if is_owner(by, opp) else set())
    if not roles & who:
        raise TransitionError(f"you may not {action} this opportunity")
    now = now or timezone.now()
    with transaction.atomic():
        # lock the row: two moderators acting at once see each other's result
        current = Opportunity.objects.select_for_update().get(pk=opp.pk)
        if current.status not in sources:
            raise TransitionError(
                f"cannot {action} an opportunity that is {current.get_status_display().lower()}")
        if needs_reason and not reason:
            raise TransitionError(f"a reason is needed to {action} an opportunity")
        if target == APPROVED and not (Organisation.objects.select_for_update()
                                       .filter(pk=current.provider_id, verified=True).exists()):
            raise TransitionError(f"{opp.provider.name} is not a verified provider: verify the "
                                  "organisation before approving its opportunities")
        fields = ["status", "updated"]
        if visible_from is not None:
            opp.visible_from = visible_from
            fields.append("visible_from")
        if visible_to is not None:
            opp.visible_to = visible_to
            fields.append("visible_to")
        if opp.visible_to <= opp.visible_from:
            raise TransitionError("the visible window must end after it starts")
        frm = current.status
        opp.status = target
        opp.save(update_fields=fields)
        _record(opp, frm, target, by, reason)
        if target == APPROVED:
            if is_live(opp, now):
                opp.status = PUBLISHED
                opp.save(update_fields=["status", "updated"])
                _record(opp, APPROVED, PUBLISHED, None, "inside its visible window")
            elif _is_over(opp, now):
                opp.status = EXPIRED
                opp.save(update_fields=["status", "updated"])
                _record(opp, APPROVED, EXPIRED, None, "past its visible window or end date")
    return opp


def _is_over(opp: Opportunity, now: dt.datetime) -> bool:
    return opp.visible_to <= now or opp.end_date < timezone.localdate(now)


def expired_q(now: dt.datetime) -> Q:
    return Q(visible_to__lte=now) | Q(end_date__lt=timezone.localdate(now))


def apply_time_rules(now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduled part of the lifecycle (``manage.py expire_opportunities``, e.g. every 15 minutes):
    approved or published items past their window or end date -> expired; approved items inside
    their window -> published. Each change is a ModerationEvent by the platform (``by`` empty).
    Returns the number of opportunities changed, by new status. Safe to run at any time, twice."""
    now = now or timezone.now()
    counts = {EXPIRED: 0, PUBLISHED: 0}
    with transaction.atomic():
        for frm, to, q, why in (
            (APPROVED, EXPIRED, expired_q(now), "past its visible window or end date"),
            (PUBLISHED, EXPIRED, expired_q(now), "past its visible window or end date"),
            (APPROVED, PUBLISHED, live_q(now), "inside its visible window"),
        ):
            ids = list(Opportunity.objects.select_for_update().filter(q, status=frm)
                       .values_list("pk", flat=True))
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                Opportunity.objects.filter(pk__in=chunk, status=frm).update(status=to, updated=now)
                ModerationEvent.objects.bulk_create(
                    ModerationEvent(opportunity_id=i, from_status=frm, to_status=to, by=None, reason=why)
                    for i in chunk)
            counts[to] += len(ids)
    return counts


def record_submission(opp: Opportunity, by, *, created: bool, previous_status: str = "") -> None:
    """A provider posted (``created``) or edited an opportunity: it is (back to) pending moderation."""
    if created:
        _record(opp, "", PENDING, by, "posted")
    else:
        again = " (needs moderation again)" if previous_status != PENDING else ""
        _record(opp, previous_status, PENDING, by, "edited by the provider" + again)
