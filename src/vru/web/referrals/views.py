"""Pages of Rescue and Response (docs/web-referrals.md). Every page needs its permission (403 without);
records are per object: another organisation's case, a case one is barred from, or a made-up id is 404.
Every read of a case page writes exactly one audit row with its justification; a restricted record outside
one's named staff opens only after a stated reason (break-glass). Titles and URLs carry the referral's
reference or UUID, never the young person's name."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from vru.web.accounts.audit import audit
from vru.web.accounts.models import User
from vru.web.core.access import require_perms

from . import reports, services
from .forms import (
    PERSON_FIELDS,
    AllocationForm,
    BreakGlassForm,
    ClosureChangeForm,
    ClosureForm,
    ContactChangeForm,
    ContactForm,
    DecisionForm,
    MissingEpisodeChangeForm,
    MissingEpisodeForm,
    NeedChangeForm,
    NeedForm,
    ReferralForm,
    RescueChangeForm,
    RescueForm,
    RestrictionForm,
    RiskNoteChangeForm,
    RiskNoteForm,
    RiskReviewForm,
    SearchForm,
    UpdateForm,
)
from .models import NeedOutcome, Referral, RiskNote, YoungPerson

CASE = "referrals.view_case"
TRIAGE = "referrals.triage_referral"
MAX_LIST = 500


# ------------------------------------------------------------------------------------------ referrer
def _own_or_404(user, pk) -> Referral:
    try:
        return Referral.objects.get(pk=pk, referrer=user, anonymised_at__isnull=True)
    except (Referral.DoesNotExist, ValueError, services.ValidationError):
        raise Http404("no such referral") from None


@require_perms("referrals.add_referral")
def mine(request):
    qs = Referral.objects.filter(referrer=request.user, anonymised_at__isnull=True).order_by("-created")
    return render(request, "referrals/mine.html", {"referrals": qs[:MAX_LIST]})


def _save_referral(request, form: ReferralForm, referral: Referral | None) -> Referral:
    submit = form.submit
    with transaction.atomic():
        r = form.save(commit=False)
        if referral is None:
            r.referrer = request.user
            r.referrer_organisation = request.user.organisation
        values = form.person_values()
        r.saved_at = timezone.now()  # a draft is purged VRU_REFERRALS_DRAFT_DAYS after this (review 4, 4)
        if submit:  # the referral is made on the day it is submitted, not the day its draft began
            r.referral_date = timezone.localdate()
        if values["date_of_birth"] is not None:
            r.age_at_referral = services.age_on(values["date_of_birth"], r.referral_date)
        if submit:
            r.status = "submitted"
            r.submitted_at = timezone.now()
            if r.kind == "intelligence":
                r.shared_with = services.Council.objects.filter(borough=r.borough).first()
        r.save()
        YoungPerson.objects.update_or_create(referral=r, defaults=values)
        services.audit_case(
            request,
            "submit referral" if submit else "save draft",
            r,
            "referral: made by the referrer" if submit else "referral: draft saved by the referrer",
        )
    return r


@require_perms("referrals.add_referral")
@require_http_methods(["GET", "POST"])
def new(request):
    return _edit(request, None)


@require_perms("referrals.add_referral")
@require_http_methods(["GET", "POST"])
def draft(request, pk):
    r = _own_or_404(request.user, pk)
    if r.status != "draft":
        return render(request, "referrals/status.html", {"referral": r})
    return _edit(request, r)


def _edit(request, r: Referral | None):
    """The referral form. Each page carries a one-time token (``once``): a second POST of the same page (a
    double click, a resend) opens the referral it made instead of making another (review 15, finding 16)."""
    import secrets

    once = (request.POST.get("once") or "")[:64] or secrets.token_urlsafe(16)
    done = request.session.get("rr_once", {})
    if request.method == "POST" and once in done:
        messages.info(request, "This form was already sent: here is the referral it made.")
        return redirect("referrals:draft", pk=done[once])
    submit = "submit" in request.POST
    form = ReferralForm(request.POST or None, instance=r, submit=submit)
    if request.method == "POST" and form.is_valid():
        r = _save_referral(request, form, r)
        request.session["rr_once"] = {**dict(list(done.items())[-19:]), once: str(r.pk)}
        if submit:
            messages.success(request, f"Referral {r.reference} submitted.")
            return redirect("referrals:draft", pk=r.pk)
        messages.success(request, f"Draft {r.reference} saved.")
        return redirect("referrals:draft", pk=r.pk)
    if r is not None:  # the stored draft (name, date of birth, concerns) is shown: one audit row per read
        services.audit_case(request, "view draft", r, "referral: draft opened by its referrer")
    context = {"form": form, "referral": r, "once": once, "draft_days": services.draft_days()}
    return _form_page(request, "referrals/referral_form.html", context)


def _form_page(request, template: str, context: dict):
    """A page with ``context["form"]``: 400 when it was sent with mistakes (each next to its field)."""
    return render(request, template, context, status=400 if context["form"].errors else 200)


# -------------------------------------------------------------------------------------------- triage
@require_perms(TRIAGE)
def triage(request):
    qs = services.triage_queue(request.user).select_related("current_provider")
    context = {"referrals": qs[:MAX_LIST], "no_hub": services.untriaged_without_hub()}
    context["hub_problem"] = services.hub_problem() if context["no_hub"] is not None else None
    return render(request, "referrals/triage.html", context)


def _case_page(request, r: Referral, template: str, context: dict):
    """Every page that shows a case, on a GET or sent back with mistakes: the break-glass page when a reason
    is needed first, else the page and its one audit row of the read (review 15, finding 1). 400 when its
    form has mistakes."""
    form = context.get("form")
    if form is not None and form.errors and getattr(form, "instance", None) is r:
        r = Referral.objects.get(pk=r.pk)  # a model form sent back set its values on r: judge the stored one
    purpose = services.read_purpose(request, r)
    if purpose is None:
        return _break_glass_page(request, r)
    services.audit_case(request, "view case", r, purpose)
    return render(
        request, template, {"referral": r, **context}, status=400 if form is not None and form.errors else 200
    )


def _may_write(request, r: Referral) -> None:
    """A write to a case (a decision, an allocation, casework) needs what a read needs: a restricted case
    outside its named staff only after break-glass (finding 11)."""
    if services.read_purpose(request, r) is None:
        raise PermissionDenied("break the glass first")


def _locked(r: Referral) -> Referral:
    """The referral re-read under a row lock, inside the caller's transaction: two managers deciding, or two
    caseworkers closing, at once are one after the other (finding 19)."""
    return Referral.objects.select_for_update().get(pk=r.pk)


#: the pages a break-glass opening returns to when it was asked for there (else the case page): the hub's
#: decision and allocation pages (it cannot open the case page of a referral waiting for a decision or of a
#: case at another provider; review 5, 1) and the access page (a provider manager fixing who may open a
#: restricted case; review 5, 5)
_BREAK_GLASS_RETURNS = ("decide", "allocate", "restrict")


def _break_glass_page(request, r: Referral, form=None, status=200):
    then = request.POST.get("then") if request.method == "POST" else None
    if then is None and request.resolver_match is not None:
        then = request.resolver_match.url_name
    context = {"referral": r, "form": form or BreakGlassForm(),
               "then": then if then in _BREAK_GLASS_RETURNS else ""}
    return render(request, "referrals/break_glass.html", context, status=status)


@require_perms(TRIAGE)
@require_http_methods(["GET", "POST"])
def decide(request, pk):
    r = services.case_or_404(request.user, pk, triage=True)
    if r.status != "submitted":
        return (
            redirect("referrals:case", pk=r.pk)
            if r.current_provider_id
            else redirect("referrals:allocate", pk=r.pk)
        )
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _may_write(request, r)
        with transaction.atomic():
            r = _locked(r)
            if r.status != "submitted":  # decided by someone else meanwhile
                messages.error(request, f"Referral {r.reference} has just been decided by someone else.")
                return redirect("referrals:triage")
            d = form.cleaned_data
            r.status = "accepted" if d["decision"] == "accept" else "declined"
            r.decided_at, r.decided_by = timezone.now(), request.user
            r.decline_reason = d.get("decline_reason") if r.status == "declined" else ""
            r.decision_note = d.get("note") or ""
            r.save(update_fields=["status", "decided_at", "decided_by", "decline_reason", "decision_note"])
            services.audit_case(
                request, f"{d['decision']} referral", r, "triage: decision on a submitted referral"
            )
        messages.success(request, f"Referral {r.reference} {r.status}.")
        return (
            redirect("referrals:allocate", pk=r.pk)
            if r.status == "accepted"
            else redirect("referrals:triage")
        )
    context = {"form": form, "person": getattr(r, "person", None)}
    return _case_page(request, r, "referrals/decide.html", context)


@require_perms(TRIAGE)
@require_http_methods(["GET", "POST"])
def allocate(request, pk):
    """Allocation and reassignment: the triage hub's managers only (docs/web-referrals.md, roles). Another
    provider's manager cannot move even their own organisation's cases (review 4, 6): for them, as for a case
    they may not open, the page does not exist (404, whatever the id: nothing is told about the case)."""
    if not services.triages(request.user):
        raise Http404("only the central triage hub's managers allocate and reassign cases")
    r = services.case_or_404(request.user, pk, triage=True, move=True)
    if r.status != "accepted":
        raise Http404("only an accepted, open case is allocated")
    form = AllocationForm(request.POST or None, referral=r)
    suggested, rule = services.suggest(r)
    if request.method == "GET" and not r.current_provider_id and suggested is not None:
        form.initial["provider"] = suggested.pk
    if request.method == "POST" and form.is_valid():
        _may_write(request, r)
        p = form.cleaned_data["provider"]
        reassignment = r.current_provider_id is not None  # the first allocation is not a reassignment
        try:
            with transaction.atomic():
                a = services.allocate(
                    r,
                    p,
                    request.user,
                    reason=form.cleaned_data.get("reason", ""),
                    rule=rule if suggested and suggested.pk == p.pk else None,
                )
                services.audit_case(
                    request,
                    "allocate case",
                    r,
                    f"allocation to {a.provider}" + (" (reassignment)" if reassignment else ""),
                )
        except services.AtCapacity as exc:
            form.add_error("provider", f"{exc}: choose another provider")
        except services.CaseMoved as exc:  # moved, closed or erased by someone else since the page was read
            messages.error(request, str(exc))
            return redirect("referrals:triage")
        else:
            messages.success(request, f"Case {r.reference} allocated to {a.provider}.")
            if services.caseload(request.user).filter(pk=r.pk).exists():
                return redirect("referrals:case", pk=r.pk)
            return redirect("referrals:triage")
    return _case_page(
        request,
        r,
        "referrals/allocate.html",
        {
            "form": form,
            "suggested": suggested,
            "rule": rule,
            "providers": services.Provider.objects.filter(active=True),
            "history": r.allocations.select_related("provider"),
        },
    )


@require_perms(TRIAGE)
def break_glass_report(request):
    # the openings by the organisation's own staff, wherever the case is now (a reassignment moves neither
    # them to the new provider's managers nor out of sight of their own; review 15, finding 12), and the
    # hub's openings of a case the organisation held then
    rows = services.openings_of_organisation(request.user).select_related("referral", "user__organisation")
    audit(request, "list", None, "management: break-glass openings of the organisation's cases")
    own = services.provider_of(request.user)
    return render(request, "referrals/break_glass_report.html",
                  {"rows": rows[:MAX_LIST], "organisation_id": own.organisation_id if own else None})


# --------------------------------------------------------------------------------------------- cases
@require_perms(CASE)
@require_http_methods(["GET", "POST"])
def cases(request):
    """The caseload, each case flagged when a risk review is due. The search is a POST (CSRF-checked), so
    that a name typed in it is never in a URL, the browser's history or a proxy's log."""
    due = RiskNote.objects.filter(
        referral=OuterRef("pk"), reviewed_at__isnull=True, review_on__lte=timezone.localdate()
    )
    qs = (
        services.caseload(request.user)
        .select_related("current_provider")
        .annotate(review_due=Exists(due.filter(referral__status="accepted")))
    )
    form = SearchForm(request.POST if request.method == "POST" else None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    if q:
        visible = qs.filter(
            Q(reference__iexact=q)
            | Q(person__name__icontains=q, restricted=False)
            | Q(person__name__icontains=q, allowed_staff=request.user)
        ).distinct()
        audit(request, "search", None, f"casework: search of the caseload, {visible.count()} found")
        qs = visible
    no_hub = services.untriaged_without_hub() if request.user.has_perm(TRIAGE) else None
    context = {"referrals": qs[:MAX_LIST], "q": q, "form": form, "no_hub": no_hub}
    if request.user.has_perm(TRIAGE):  # break-glass openings reported to the managers where they land
        context["recent_openings"] = services.recent_openings(request.user)
        context["moves_away"] = list(services.recent_moves_away(request.user)[: services.MAX_MOVES_AWAY])
        context["recent_days"] = services.RECENT_OPENINGS_DAYS
    context["hub_problem"] = services.hub_problem() if no_hub is not None else None
    return render(request, "referrals/cases.html", context, status=400 if form.errors else 200)


def _open_case(request, pk) -> Referral:
    """A case for a casework write: in the caseload, and opened by break-glass if restricted."""
    r = services.case_or_404(request.user, pk)
    if services.read_purpose(request, r) is None:
        raise PermissionDenied("break the glass first")
    return r


@require_perms(CASE)
def case(request, pk):
    r = services.case_or_404(request.user, pk)
    return _case_page(request, r, "referrals/case.html", _case_context(request, r))


def _case_context(request, r: Referral) -> dict:
    return {
        "referral": r,
        "person": getattr(r, "person", None),
        "contacts": r.contacts.all(),
        "needs": r.need_records.select_related("outcome"),
        "risks": r.risk_notes.select_related("reviewed_by"),
        "rescues": r.rescues.all(),
        "missing": r.missing_records.all(),
        "closure": getattr(r, "closure", None),
        "allocations": r.allocations.select_related("provider"),
        "changes": r.changes.all(),
        "today": timezone.localdate(),
        "can_triage": request.user.has_perm(TRIAGE),  # who may open it (the organisation's managers)
        "can_move": services.triages(request.user),  # reassignment: the triage hub only (review 4, 6)
        "can_export": request.user.has_perm("referrals.export_subject"),
        "open": r.status == "accepted",
    }


@require_perms(CASE)
@require_POST
def break_glass(request, pk):
    """Open a restricted case with a reason (recorded, shown to the organisation's managers). The triage hub's
    managers may open any case they may move (:func:`services.movable`), for the allocation page: the opening
    returns to the page that asked for it (``then``: the allocation or the access page), else to the case
    page, or to the allocation page for a case the user may move but not open (review 5, 1)."""
    r = services.case_or_404(request.user, pk, triage=request.user.has_perm(TRIAGE), move=True)
    form = BreakGlassForm(request.POST)
    then = request.POST.get("then")
    in_caseload = services.caseload(request.user).filter(pk=r.pk).exists()
    if then not in _BREAK_GLASS_RETURNS:
        then = "case" if in_caseload else "decide" if r.status == "submitted" else "allocate"
    if then == "decide" and r.status != "submitted":
        then = "case" if in_caseload else "allocate"
    if then == "allocate" and not services.movable(request.user).filter(pk=r.pk).exists():
        then = "case"
    if then == "restrict" and not (in_caseload and request.user.has_perm(TRIAGE)):
        then = "case" if in_caseload else "allocate"  # a forged return never lands on a page one can't open
    if not services.needs_break_glass(request.user, r):
        return redirect(f"referrals:{then}", pk=r.pk)
    if not form.is_valid():
        return _break_glass_page(request, r, form, status=400)
    services.break_glass(request, r, form.cleaned_data["reason"])
    return redirect(f"referrals:{then}", pk=r.pk)


def _casework(form_class, template_title: str, action: str):
    @require_perms(CASE)
    @require_http_methods(["GET", "POST"])
    def view(request, pk):
        r = _open_case(request, pk)
        if r.status != "accepted":
            messages.error(request, "The case is closed.")
            return redirect("referrals:case", pk=r.pk)
        form = (
            form_class(request.POST or None, referral=r)
            if form_class is not NeedForm
            else form_class(request.POST or None)
        )
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                obj = form.save(commit=False)
                obj.referral = r
                for f in ("recorded_by", "created_by"):
                    if hasattr(obj, f"{f}_id"):
                        setattr(obj, f, request.user)
                obj.save()
                services.audit_case(request, action, r, f"casework: {action}")
            messages.success(request, f"{template_title} recorded.")
            return redirect("referrals:case", pk=r.pk)
        return _case_page(request, r, "referrals/casework_form.html", {"form": form, "title": template_title})

    view.__name__ = action.replace(" ", "_")
    return view


contact = _casework(ContactForm, "Contact", "add contact")
need = _casework(NeedForm, "Need and desired outcome", "add need")


def _correction(form_class, record: str, only: dict | None = None):
    """The correction of one recorded ``record`` (a contact, a rescue) of an open case: the same form and
    checks as when it was recorded, plus a reason; each changed field is kept as a change record (old value,
    new value, reason, who, when), and the correction is one audit row naming them by id."""

    @require_perms(CASE)
    @require_http_methods(["GET", "POST"])
    def view(request, pk, item):
        r = _open_case(request, pk)
        if r.status != "accepted":
            messages.error(request, "The case is closed.")
            return redirect("referrals:case", pk=r.pk)
        model = form_class._meta.model
        try:
            obj = model.objects.get(pk=item, referral=r, **(only or {}))
        except model.DoesNotExist:
            raise Http404(f"no such {record}") from None
        fields = list(form_class._meta.fields)
        before = {f: getattr(obj, f) for f in fields}
        form = form_class(request.POST or None, instance=obj, referral=r)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                new = form.save()
                rows = services.record_changes(
                    r,
                    f"{record} {obj.pk}",
                    before,
                    {f: getattr(new, f) for f in fields},
                    form.cleaned_data["reason"].strip(),
                    request.user,
                )
                ids = ", ".join(str(c.pk) for c in rows) or "none"
                what = f"casework: {record} {obj.pk} corrected, {len(rows)} field(s) changed"
                services.audit_case(request, "change case", r, f"{what} (change records {ids})")
            messages.success(request, f"{len(rows)} change(s) recorded.")
            return redirect("referrals:case", pk=r.pk)
        title = f"Correct the {record}"
        return _case_page(request, r, "referrals/casework_form.html", {"form": form, "title": title})

    view.__name__ = f"change_{record.replace(' ', '_')}"
    return view


change_contact = _correction(ContactChangeForm, "contact")
change_rescue = _correction(RescueChangeForm, "rescue")
change_missing = _correction(MissingEpisodeChangeForm, "missing episode")
change_need = _correction(NeedChangeForm, "need")
change_risk = _correction(RiskNoteChangeForm, "risk note", {"reviewed_at__isnull": True})
risk = _casework(RiskNoteForm, "Risk note", "add risk note")
rescue = _casework(RescueForm, "Rescue", "add rescue")
missing = _casework(MissingEpisodeForm, "Missing episode", "add missing episode")


@require_perms(CASE)
@require_http_methods(["GET", "POST"])
def review_risk(request, pk, note):
    """Mark a risk note reviewed, with what the review found; a risk that remains is carried on by a new note
    with its level and next review date (the reviewed note keeps its text and dates). Audited."""
    r = _open_case(request, pk)
    if r.status != "accepted":
        messages.error(request, "The case is closed.")
        return redirect("referrals:case", pk=r.pk)
    try:
        n = r.risk_notes.get(pk=note, reviewed_at__isnull=True)
    except RiskNote.DoesNotExist:
        raise Http404("no such risk note waiting for a review") from None
    form = RiskReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        with transaction.atomic():
            n = RiskNote.objects.select_for_update().get(pk=n.pk)
            if n.reviewed_at is not None:  # reviewed by someone else meanwhile
                messages.error(request, "This risk note has just been reviewed by someone else.")
                return redirect("referrals:case", pk=r.pk)
            follow = None
            if d["outcome"] == "remains":
                follow = RiskNote.objects.create(
                    referral=r,
                    level=d["level"],
                    text=n.text,
                    review_on=d["next_review_on"],
                    created_by=request.user,
                )
            n.reviewed_at, n.reviewed_by, n.review_note, n.follow_up = (
                timezone.now(),
                request.user,
                d["note"].strip(),
                follow,
            )
            n.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "follow_up"])
            found = (  # the month only: erasure coarsens the review date to it (review 4, 8)
                f"remains, {follow.get_level_display().lower()}, next review in {follow.review_on:%Y-%m}"
                if follow
                else "no longer applies"
            )
            services.audit_case(
                request, "review risk note", r, f"casework: risk note {n.pk} reviewed ({found})"
            )
        messages.success(request, "Risk review recorded.")
        return redirect("referrals:case", pk=r.pk)
    return _case_page(request, r, "referrals/risk_review.html", {"note": n, "form": form})


@require_perms(CASE)
@require_http_methods(["GET", "POST"])
def close(request, pk):
    r = _open_case(request, pk)
    if r.status != "accepted":  # closed already (by someone else a moment ago, perhaps): say so
        messages.error(request, f"Case {r.reference} is closed.")
        return redirect("referrals:case", pk=r.pk)
    form = ClosureForm(request.POST or None, referral=r)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            now = _locked(r)  # services.allocate's lock: a closure and a move are one after the other
            if now.status != "accepted":  # closed by someone else meanwhile
                messages.error(request, f"Case {r.reference} has just been closed by someone else.")
                return redirect("referrals:case", pk=r.pk)
            if now.current_provider_id != r.current_provider_id:  # moved to another provider meanwhile
                messages.error(request, f"Case {r.reference} has just been moved to another provider.")
                return redirect("referrals:cases")
            c = form.save(commit=False)
            c.referral, c.closed_by = r, request.user
            c.save()
            NeedOutcome.objects.bulk_create(
                [NeedOutcome(closure=c, need=n, achievement=a) for n, a in form.outcomes()]
            )
            r.status = "closed"
            r.save(update_fields=["status"])
            services.audit_case(request, "close case", r, "casework: case closed with its outcomes")
        messages.success(request, f"Case {r.reference} closed.")
        return redirect("referrals:case", pk=r.pk)
    return _case_page(request, r, "referrals/casework_form.html", {"form": form, "title": "Close the case"})


@require_perms(CASE)
@require_http_methods(["GET", "POST"])
def change_closure(request, pk):
    """The correction of a closed case's closure and outcomes, with a reason: each changed value a change
    record (record "closure"), the correction one audit row naming them by id."""
    r = _open_case(request, pk)
    closure = getattr(r, "closure", None)
    if r.status != "closed" or closure is None:
        raise Http404("no closure")
    fields = list(ClosureChangeForm._meta.fields)
    before = {f: getattr(closure, f) for f in fields}
    outcomes = {o.need_id: o for o in NeedOutcome.objects.filter(closure=closure)}
    before.update({f"outcome of need {k}": o.achievement for k, o in outcomes.items()})
    form = ClosureChangeForm(request.POST or None, instance=closure, referral=r)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            new = form.save()
            after = {f: getattr(new, f) for f in fields}
            for need, achieved in form.outcomes():
                after[f"outcome of need {need.pk}"] = achieved
                o = outcomes.get(need.pk)
                if o is None:
                    NeedOutcome.objects.create(closure=new, need=need, achievement=achieved)
                elif o.achievement != achieved:
                    o.achievement = achieved
                    o.save(update_fields=["achievement"])
            reason = form.cleaned_data["reason_for_change"].strip()
            rows = services.record_changes(r, "closure", before, after, reason, request.user)
            ids = ", ".join(str(c.pk) for c in rows) or "none"
            what = f"casework: closure corrected, {len(rows)} field(s) changed (change records {ids})"
            services.audit_case(request, "change case", r, what)
        messages.success(request, f"{len(rows)} change(s) recorded.")
        return redirect("referrals:case", pk=r.pk)
    context = {"form": form, "title": "Correct the closure"}
    return _case_page(request, r, "referrals/casework_form.html", context)


@require_perms(CASE)
@require_http_methods(["GET", "POST"])
def update(request, pk):
    r = _open_case(request, pk)
    form = UpdateForm(request.POST or None, instance=r)
    if request.method == "POST" and form.is_valid():
        fields = [f for f in form.Meta.fields]
        old = Referral.objects.get(pk=r.pk)
        person = YoungPerson.objects.filter(referral=r).first()
        with transaction.atomic():
            new = form.save()
            reason = form.cleaned_data["reason"].strip()
            rows = services.record_changes(
                new,
                "referral",
                {f: getattr(old, f) for f in fields},
                {f: getattr(new, f) for f in fields},
                reason,
                request.user,
            )
            # name, date of birth, contact: each change kept (erasable), with its reason
            if person is not None:
                was = {f: getattr(person, f) for f in PERSON_FIELDS}
                now = {f: form.cleaned_data[f] for f in was}
                rows += services.record_changes(new, "person", was, now, reason, request.user)
                changed = [f for f in was if was[f] != now[f]]
                for f in changed:
                    setattr(person, f, now[f])
                if changed:
                    person.save(update_fields=changed)
                if "date_of_birth" in changed:
                    new.age_at_referral = services.age_on(now["date_of_birth"], new.referral_date)
                    new.save(update_fields=["age_at_referral"])
            ids = ", ".join(str(c.pk) for c in rows) or "none"
            services.audit_case(
                request, "change case", r, f"casework: {len(rows)} field(s) changed (change records {ids})"
            )
        messages.success(request, f"{len(rows)} change(s) recorded.")
        return redirect("referrals:case", pk=r.pk)
    return _case_page(
        request, r, "referrals/casework_form.html", {"form": form, "title": "Change the referral's details"}
    )


@require_perms(CASE, TRIAGE)
@require_http_methods(["GET", "POST"])
def restrict(request, pk):
    """Who may open the case: the form offers the active staff of the manager's organisation; a name on either
    list who is not offered (another provider's staff, from before a move; someone no longer active) is shown
    and kept as it is (review 4, 1). Each change is one audit row naming who was added and removed by id.
    A restricted case that names no one at its provider (the names are from before a move) says so here; its
    provider's managers reach this page through break-glass, which returns here (review 5, 5)."""
    r = services.case_or_404(request.user, pk)
    if request.method == "POST":
        _may_write(request, r)
    staff = User.objects.filter(organisation=request.user.organisation, is_active=True)
    before = {f: set(getattr(r, f).values_list("pk", flat=True)) for f in ("allowed_staff", "barred_staff")}
    was_restricted = r.restricted
    form = RestrictionForm(request.POST or None, instance=r, staff=staff)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            for f, kept in form.kept.items():  # the save replaced each list with what was offered
                getattr(r, f).add(*kept)
            changes = []
            if r.restricted != was_restricted:
                changes.append(f"restricted {was_restricted} -> {r.restricted}")
            for f, word in (("allowed_staff", "named"), ("barred_staff", "barred")):
                after = set(getattr(r, f).values_list("pk", flat=True))
                added, removed = sorted(after - before[f]), sorted(before[f] - after)
                if added or removed:
                    changes.append(f"{word} +{added or '[]'} -{removed or '[]'} (user ids)")
            services.audit_case(
                request,
                "restrict case",
                r,
                f"management: restricted={r.restricted}, "
                f"{r.allowed_staff.count()} named, {r.barred_staff.count()} barred; "
                + ("; ".join(changes) if changes else "no change"),
            )
        messages.success(request, "Access to the case saved.")
        return redirect("referrals:case", pk=r.pk)
    notice = None
    if r.restricted and not r.allowed_staff.filter(
        organisation_id=r.current_provider.organisation_id, is_active=True
    ).exists():
        notice = (
            f"No one at {r.current_provider} is named: only break-glass opens this case. Name the staff who "
            "work on it (the names kept are from before a move, or no longer active)."
        )
    context = {"form": form, "title": "Who may open it", "notice": notice}
    return _case_page(request, r, "referrals/casework_form.html", context)


@require_perms(CASE, "referrals.export_subject")
def export(request, pk, fmt):
    if fmt not in ("csv", "json"):
        raise Http404("no such format")
    r = _open_case(request, pk)
    # the person's referrals in the caseload that the user may open now: a restricted one outside its named
    # staff only after break-glass on its own page (review 15, finding 4); one audit row per referral
    same = services.subject_referrals(r).filter(pk__in=services.caseload(request.user).values("pk"))
    opened = [x for x in same if services.read_purpose(request, x) is not None]
    data = services.subject_access(Referral.objects.filter(pk__in=[x.pk for x in opened]))
    data["left_out"] = (
        f"{len(same) - len(opened)} restricted referral(s) of the same person: open each on its page first"
        if len(same) > len(opened)
        else ""
    )
    for x in opened:
        services.audit_case(
            request,
            "subject access export",
            x,
            f"subject access request asked on {r.reference}: {len(opened)} referral(s) exported, {fmt}",
        )
    if fmt == "csv":
        resp = HttpResponse(services.subject_access_csv(data), content_type="text/csv; charset=utf-8")
    else:
        resp = JsonResponse(data, json_dumps_params={"indent": 1})
    resp["Content-Disposition"] = f'attachment; filename="subject-access-{r.reference}.{fmt}"'
    return resp


# -------------------------------------------------------------------------------------- intelligence
@require_perms("referrals.view_intelligence")
def intelligence(request):
    council, qs = services.council_intelligence(request.user)
    return render(request, "referrals/intelligence.html", {"council": council, "referrals": qs[:MAX_LIST]})


@require_perms("referrals.view_intelligence")
def intelligence_detail(request, pk):
    council, qs = services.council_intelligence(request.user)
    try:
        r = qs.get(pk=pk)
    except (Referral.DoesNotExist, ValueError, services.ValidationError):
        raise Http404("no such intelligence") from None
    services.disclose(request, r, council)
    return render(request, "referrals/intelligence_detail.html", {"referral": r, "view": reports.redacted(r)})


# ------------------------------------------------------------------------------------------- reports
@require_perms("referrals.view_reports")
def figures(request):
    years, figures, pending = reports.chosen_release(request.GET.get("year"))
    years = [(y, reports.year_label(y)) for y in years]
    context = {"r": figures, "pending": pending, "years": years, "min_n": reports.min_n()}
    return render(request, "referrals/reports.html", context)
