"""Pages of the Local Village Network (docs/web-opportunities.md).

Public (no account; ``urls.PUBLIC_VIEWS``): search, an opportunity, sign-up for young people, and
signposting shortlists. Young people (role "young person"): favourites, registrations. Provider staff
of a verified organisation: post, edit and archive their own opportunities and see who registered
(only what each young person chose to share; every look is audited). Moderators: the moderation queue.
Administrators: verify provider organisations (audited).
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import etag, require_http_methods, require_POST

from vru.geography.boroughs import BOROUGHS
from vru.web.accounts import ratelimits
from vru.web.accounts.audit import audit
from vru.web.accounts.models import Organisation
from vru.web.core.access import organisation_of, require_perms
from vru.web.core.maps import borough_frame, venue_svg

from . import bookings, lifecycle, search, signposting
from . import signup as signup_flow
from .forms import ApproveForm, OpportunityForm, ReasonForm, RegisterForm, SignUpForm, capacity_message
from .models import BOROUGH_CHOICES, Favourite, ModerationEvent, Opportunity, Registration, YoungPerson

MODERATE = lifecycle.MODERATE
SIGNPOST = "opportunities.signpost"


def _next_url(request, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return default


# --- public: search, detail --------------------------------------------------------------------------


def search_page(request):
    form = search.SearchForm(request.GET or None)
    page = None
    if not request.GET or form.is_valid():
        if not request.GET:
            form = search.SearchForm({})
            form.is_valid()
        page = search.run(form, request.GET.get("page"))
    can_signpost = request.user.is_authenticated and request.user.has_perm(SIGNPOST)
    shortlist = signposting.parse_ids(request.GET.get("sl")) if can_signpost else []
    base = request.GET.copy()
    base.pop("page", None)
    results = []
    for opp in (page.object_list if page else []):
        add = None
        if can_signpost and opp.pk not in shortlist:
            q = base.copy()
            q["sl"] = signposting.format_ids(signposting.with_item(shortlist, opp.pk))
            if page.number > 1:
                q["page"] = page.number
            add = "?" + q.urlencode()
        results.append({"opp": opp, "add_to_shortlist": add, "in_shortlist": opp.pk in shortlist})
    return render(request, "opportunities/search.html", {
        "form": form, "page": page, "results": results, "query": base.urlencode(),
        "searched": any(k not in ("sl", "page") for k in request.GET),
        "can_signpost": can_signpost, "shortlist": shortlist,
        "shortlist_query": signposting.query(shortlist),
        "page_links": _page_links(page, base) if page else [],
        **(_results_heading(page.paginator) if page else {}),
    })


def _results_heading(paginator) -> dict:
    n = paginator.count
    if paginator.capped:
        return {"results_heading": f"More than {n:,} results", "results_shown": f"{n:,}"}
    return {"results_heading": f"{n:,} result{'' if n == 1 else 's'}"}


def _page_links(page, base: QueryDict) -> list[dict]:
    links = []
    for n in page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        if n == page.paginator.ELLIPSIS:
            links.append({"ellipsis": True})
            continue
        q = base.copy()
        q["page"] = n
        links.append({"number": n, "href": "?" + q.urlencode(), "current": n == page.number})
    return links


def detail(request, pk: int):
    opp = get_object_or_404(Opportunity.objects.select_related("provider"), lifecycle.live_q(), pk=pk)
    user = request.user
    ctx = {"opp": opp, "favourite": False, "registration": None, "eligible": None,
           "can_signpost": user.is_authenticated and user.has_perm(SIGNPOST)}
    if user.is_authenticated:
        ctx["favourite"] = Favourite.objects.filter(user=user, opportunity=opp).exists()
        ctx["registration"] = Registration.objects.filter(user=user, opportunity=opp,
                                                          cancelled__isnull=True).first()
        yp = YoungPerson.objects.filter(user=user).first()
        if yp:
            ctx["eligible"] = _eligible(yp, opp)
    if opp.latitude is not None and borough_frame(opp.borough) is not None:
        ctx["map_frame"] = borough_frame(opp.borough)[0]
    if ctx["can_signpost"]:
        ids = signposting.parse_ids(request.GET.get("sl"))
        ctx["shortlist_add"] = signposting.query(signposting.with_item(ids, opp.pk))
    return render(request, "opportunities/detail.html", ctx)


def _eligible(yp: YoungPerson, opp: Opportunity) -> bool:
    young, old = yp.ages(timezone.localdate())
    return old >= opp.min_age and young <= opp.max_age


# --- public: young people's sign-up ---------------------------------------------------------------------


# Sign-up: at most 5 emails an hour and 10 a day to one address (beyond them nothing is sent and the
# page answers as usual: ``accounts.ratelimits``); at most 20 requests an hour from one client (429).
SIGNUP_RATE_PER_ADDRESS, SIGNUP_RATE_PER_ADDRESS_DAY, SIGNUP_RATE_PER_IP = "5/h", "10/d", "20/h"


@require_http_methods(["GET", "POST"])
def signup(request):
    """Every valid sign-up gets the same answer (a redirect to "Check your email"), whether the address
    is new or has an account: only the email differs (``signup.start``)."""
    if request.user.is_authenticated:
        return redirect("opportunities:mine")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if ratelimits.client_over_limit(request, "signup", SIGNUP_RATE_PER_IP):
            return ratelimits.too_many(request, "create an account")
        if form.is_valid():
            data = form.cleaned_data
            if ratelimits.address_may_send(request, "signup", data["email"], per_hour=SIGNUP_RATE_PER_ADDRESS,
                                           per_day=SIGNUP_RATE_PER_ADDRESS_DAY):
                signup_flow.start(request, data["email"], data["nickname"], data["birth_year"],
                                  _next_url(request, ""))
            return redirect("opportunities:signup_check_email")
    return render(request, "opportunities/signup.html", {"form": form, "next": _next_url(request, "")})


def signup_check_email(request):
    return render(request, "opportunities/signup_check_email.html")


# --- young people: favourites and registrations ------------------------------------------------------------


@require_perms("opportunities.view_favourite")
def mine(request):
    favourites = (Favourite.objects.filter(user=request.user).select_related("opportunity__provider")
                  .order_by("opportunity__start_date"))
    registrations = (Registration.objects.filter(user=request.user, cancelled__isnull=True)
                     .select_related("opportunity__provider").order_by("opportunity__start_date"))
    now = timezone.now()
    return render(request, "opportunities/mine.html", {
        "favourites": [(f, lifecycle.is_live(f.opportunity, now)) for f in favourites],
        "registrations": registrations,
    })


@require_POST
@require_perms("opportunities.add_favourite", "opportunities.delete_favourite")
def favourite(request, pk: int):
    opp = get_object_or_404(Opportunity.objects.select_related("provider"), pk=pk)
    existing = Favourite.objects.filter(user=request.user, opportunity=opp)
    if existing.exists():
        existing.delete()
        messages.success(request, f"Removed from your favourites: {opp.title}")
    else:
        if not lifecycle.is_live(opp):
            raise Http404("no such opportunity")
        Favourite.objects.get_or_create(user=request.user, opportunity=opp)
        messages.success(request, f"Saved to your favourites: {opp.title}")
    return HttpResponseRedirect(_next_url(request, reverse("opportunities:detail", args=[opp.pk])))


@require_http_methods(["GET", "POST"])
@require_perms("opportunities.add_registration")
def register(request, pk: int):
    opp = get_object_or_404(Opportunity.objects.select_related("provider"), lifecycle.live_q(), pk=pk)
    yp = YoungPerson.objects.filter(user=request.user).first()
    if yp is None:
        raise PermissionDenied("only young people's accounts can register")
    existing = Registration.objects.filter(user=request.user, opportunity=opp, cancelled__isnull=True).first()
    if existing:
        messages.info(request, "You are already registered for this opportunity")
        return redirect("opportunities:detail", pk=opp.pk)
    eligible = _eligible(yp, opp)
    form = RegisterForm(request.POST if request.method == "POST" else None, nickname=yp.nickname)
    if request.method == "POST" and eligible and form.is_valid():
        try:
            bookings.register(request.user, opp, shared_name=yp.nickname,
                              shared_email=request.user.email if form.cleaned_data["share_email"] else "",
                              note=form.cleaned_data["note"])
        except bookings.BookingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"You have a place: {opp.title}")
            return redirect("opportunities:mine")
    return render(request, "opportunities/register.html",
                  {"opp": opp, "form": form, "young_person": yp, "eligible": eligible})


@require_POST
@require_perms("opportunities.change_registration")
def cancel(request, pk: int):
    reg = get_object_or_404(Registration.objects.select_related("opportunity"), pk=pk, user=request.user)
    if bookings.cancel(reg):
        messages.success(request, f"Your place is cancelled: {reg.opportunity.title}")
    return redirect("opportunities:mine")


# --- providers ---------------------------------------------------------------------------------------------


def _provider_org(request) -> Organisation | None:
    """The verified organisation of a provider's staff member, or None (they are told to wait)."""
    org_id = organisation_of(request.user)
    if org_id is None:
        raise PermissionDenied("provider staff must belong to an organisation")
    org = Organisation.objects.get(pk=org_id)
    return org if org.verified else None


def _wait(request):
    org = Organisation.objects.get(pk=request.user.organisation_id)
    return render(request, "opportunities/provider_wait.html", {"org": org}, status=403)


def _own(request, pk: int) -> Opportunity:
    """An opportunity of the user's own organisation; another organisation's is 404."""
    opp = get_object_or_404(Opportunity.objects.select_related("provider"), pk=pk)
    if opp.provider_id != organisation_of(request.user):
        raise Http404("no such opportunity")
    return opp


def _provider_page(view):
    """A page of a provider's staff member: ``view`` gets the verified organisation (unverified: the
    wait page instead) and, for a URL with ``pk``, that organisation's opportunity (another's is 404)."""

    @functools.wraps(view)
    def page(request, pk: int | None = None):
        org = _provider_org(request)
        if org is None:
            return _wait(request)
        return view(request, org) if pk is None else view(request, org, _own(request, pk))

    return page


def _last_reasons(opps) -> dict[int, ModerationEvent]:
    """The latest moderation event with a reason, for each opportunity (one query)."""
    latest: dict[int, ModerationEvent] = {}
    for ev in (ModerationEvent.objects.filter(opportunity__in=opps).exclude(reason="")
               .order_by("opportunity_id", "at", "id")):
        latest[ev.opportunity_id] = ev
    return latest


@require_perms("opportunities.add_opportunity")
@_provider_page
def provider_list(request, org: Organisation):
    opps = list(Opportunity.objects.filter(provider=org).select_related("provider").order_by("-created"))
    reasons = _last_reasons(opps)
    rows = [{"opp": o, "event": reasons.get(o.pk), "live": lifecycle.is_live(o)} for o in opps]
    return render(request, "opportunities/provider_list.html", {"org": org, "rows": rows})


@require_http_methods(["GET", "POST"])
@require_perms("opportunities.add_opportunity")
@_provider_page
def provider_new(request, org: Organisation):
    form = OpportunityForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            opp = form.save(commit=False)
            opp.provider = org
            opp.status = lifecycle.PENDING
            opp.save()
            lifecycle.record_submission(opp, request.user, created=True)
        messages.success(request, "Sent for moderation: it appears in search once a moderator approves it")
        return redirect("opportunities:provider_detail", pk=opp.pk)
    return render(request, "opportunities/provider_form.html", _form_ctx(form, org, None))


@require_http_methods(["GET", "POST"])
@require_perms("opportunities.change_opportunity")
@_provider_page
def provider_edit(request, org: Organisation, opp: Opportunity):
    if opp.status == lifecycle.ARCHIVED:
        messages.info(request, "An archived opportunity cannot be changed: post a new one")
        return redirect("opportunities:provider_detail", pk=opp.pk)
    previous = opp.status
    form = OpportunityForm(request.POST if request.method == "POST" else None, instance=opp)
    if request.method == "POST" and form.is_valid() and _save_edit(request, form, previous):
        if previous != lifecycle.PENDING:
            messages.success(request, "Saved. It is hidden from search until a moderator approves the change")
        else:
            messages.success(request, "Saved: it is waiting for moderation")
        return redirect("opportunities:provider_detail", pk=opp.pk)
    return render(request, "opportunities/provider_form.html", _form_ctx(form, org, opp))


def _save_edit(request, form: OpportunityForm, previous: str) -> bool:
    """Save a provider's edit, or put the reason next to the field and save nothing (False). The form
    checked the capacity against the places taken when the page was read; people may have booked since,
    so the row is locked and checked again: a booking waits for the lock, then sees the new capacity."""
    opp = form.instance
    with transaction.atomic():
        taken = Opportunity.objects.select_for_update().values_list("places_taken", flat=True).get(pk=opp.pk)
        capacity = form.cleaned_data.get("capacity")
        if capacity is not None and capacity < taken:
            form.add_error("capacity", capacity_message(taken))
            return False
        opp = form.save(commit=False)
        opp.status = lifecycle.PENDING
        # never write places_taken: registrations may change it meanwhile
        opp.save(update_fields=[*form.Meta.fields, "status", "updated"])
        lifecycle.record_submission(opp, request.user, created=False, previous_status=previous)
    return True


def _form_ctx(form, org, opp) -> dict:
    """The provider form's context, with every borough's map frame for the map picker."""
    frames = {code: found[0].as_dict() for code, _ in BOROUGH_CHOICES
              if (found := borough_frame(code)) is not None}
    return {"form": form, "org": org, "opp": opp, "map_frames": frames}


def _venue_etag(request, pk: int) -> str | None:
    row = (Opportunity.objects.filter(lifecycle.live_q(), pk=pk)
           .values_list("borough", "latitude", "longitude").first())
    return f"{row[0]}:{row[1]}:{row[2]}" if row else None


@cache_control(no_cache=True)  # revalidated on every view: an item taken down loses its map at once
@etag(_venue_etag)
def venue_map(request, pk: int):
    """A live opportunity's venue on its borough's map, as SVG (public, as the opportunity's page).
    A browser revalidates it each time (304 while the place is unchanged), so a map is never shown
    from a cache after its opportunity has been taken down or moved."""
    opp = get_object_or_404(Opportunity, lifecycle.live_q(), pk=pk)
    if opp.latitude is None or borough_frame(opp.borough) is None:
        raise Http404("no map for this opportunity")
    svg = venue_svg(opp.borough, f"Map of {opp.get_borough_display()} with the venue marked",
                    (opp.latitude, opp.longitude))
    return HttpResponse(svg, content_type="image/svg+xml")


@cache_control(public=True, max_age=86400)
def borough_map(request, code: str):
    """The outline of a borough as SVG (public; the provider form's map picker shows it)."""
    if borough_frame(code) is None:
        raise Http404("no such borough")
    svg = venue_svg(code, f"Map of {BOROUGHS.get(code, code)}: choose the venue's place on it")
    return HttpResponse(svg, content_type="image/svg+xml")


@require_perms("opportunities.view_opportunity", "opportunities.add_opportunity")
@_provider_page
def provider_detail(request, org: Organisation, opp: Opportunity):
    return render(request, "opportunities/provider_detail.html", {
        "opp": opp, "org": org, "events": opp.events.select_related("by"),
        "live": lifecycle.is_live(opp), "actions": lifecycle.allowed_actions(request.user, opp),
        "active_registrations": opp.registrations.filter(cancelled__isnull=True).count(),
    })


@require_http_methods(["GET", "POST"])
@require_perms("opportunities.change_opportunity")
@_provider_page
def provider_archive(request, org: Organisation, opp: Opportunity):
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.transition(opp, "archive", request.user, form.cleaned_data["reason"])
        except lifecycle.TransitionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Archived: it no longer appears in search")
            return redirect("opportunities:provider_detail", pk=opp.pk)
    return render(request, "opportunities/provider_archive.html", {"form": form, "opp": opp})


@require_perms("opportunities.view_registration")
@_provider_page
def provider_registrations(request, org: Organisation, opp: Opportunity):
    regs = list(opp.registrations.filter(cancelled__isnull=True).order_by("created")
                .only("id", "created", "shared_name", "shared_email", "note", "opportunity_id"))
    audit(request, "view registrations", opp,
          "provider staff seeing who registered for their opportunity, to run it")
    cancelled = opp.registrations.filter(cancelled__isnull=False).count()
    return render(request, "opportunities/provider_registrations.html",
                  {"opp": opp, "registrations": regs, "cancelled": cancelled})


# --- moderators ------------------------------------------------------------------------------------------


@require_perms(MODERATE)
def moderation_queue(request):
    pending = (Opportunity.objects.filter(status=lifecycle.PENDING).select_related("provider")
               .order_by("updated"))
    decisions = [lifecycle.APPROVED, lifecycle.REJECTED, lifecycle.ARCHIVED]
    recent = (ModerationEvent.objects.exclude(by=None).filter(to_status__in=decisions)
              .select_related("opportunity", "by").order_by("-at")[:20])
    return render(request, "opportunities/moderation_queue.html", {"pending": pending, "recent": recent})


@require_http_methods(["GET", "POST"])
@require_perms(MODERATE)
def moderate(request, pk: int):
    opp = get_object_or_404(Opportunity.objects.select_related("provider"), pk=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    approve_form = ApproveForm(request.POST if action == "approve" else None, opportunity=opp,
                               prefix="approve")
    reject_form = ReasonForm(request.POST if action == "reject" else None, prefix="reject")
    archive_form = ReasonForm(request.POST if action == "archive" else None, prefix="archive")
    forms = {"approve": approve_form, "reject": reject_form, "archive": archive_form}
    if action in forms and forms[action].is_valid():
        data = forms[action].cleaned_data
        try:
            lifecycle.transition(opp, action, request.user, data.get("reason", ""),
                                 visible_from=data.get("visible_from"), visible_to=data.get("visible_to"))
        except lifecycle.TransitionError as exc:
            forms[action].add_error(None, str(exc))
        else:
            opp.refresh_from_db()
            messages.success(request, f"{opp.title}: now {opp.get_status_display().lower()}")
            return redirect("opportunities:moderation")
    return render(request, "opportunities/moderate.html", {
        "opp": opp, "events": opp.events.select_related("by"), "approve_form": approve_form,
        "reject_form": reject_form, "archive_form": archive_form,
        "actions": lifecycle.allowed_actions(request.user, opp),
    })


# --- administrators: verify providers ---------------------------------------------------------------------


@require_perms("opportunities.verify_provider")
def organisations(request):
    orgs = (Organisation.objects.filter(kind="provider").select_related("verified_by")
            .order_by("verified", "name"))
    return render(request, "opportunities/organisations.html", {"orgs": orgs})


@require_POST
@require_perms("opportunities.verify_provider")
def verify(request, pk: int):
    org = get_object_or_404(Organisation, pk=pk, kind="provider")
    if request.POST.get("verified") not in ("0", "1"):
        return HttpResponseBadRequest("verified must be 0 (withdraw) or 1 (verify)")
    verified = request.POST.get("verified") == "1"
    org.verified = verified
    org.verified_at = timezone.now() if verified else None
    org.verified_by = request.user if verified else None
    org.save(update_fields=["verified", "verified_at", "verified_by"])
    audit(request, "verify provider" if verified else "withdraw verification", org,
          "checked that the organisation may post opportunities for young people")
    messages.success(request, f"{org.name}: {'verified' if verified else 'verification withdrawn'}")
    return redirect("opportunities:organisations")


# --- signposting (public page; building it needs the signpost permission) -----------------------------


def shortlist(request, printable: bool = False):
    ids = signposting.parse_ids(request.GET.get("ids"))
    items, gone = signposting.items(ids)
    can_signpost = request.user.is_authenticated and request.user.has_perm(SIGNPOST)
    rows = [{"opp": o, "remove": signposting.query(signposting.without_item(ids, o.pk))} for o in items]
    link = request.build_absolute_uri(reverse("opportunities:shortlist") + "?" + signposting.query(ids))
    template = "opportunities/shortlist_print.html" if printable else "opportunities/shortlist.html"
    return render(request, template, {
        "rows": rows, "gone": gone, "ids_query": signposting.query(ids), "sl": signposting.format_ids(ids),
        "link": link, "can_signpost": can_signpost, "today": timezone.localdate(),
    })


def shortlist_print(request):
    return shortlist(request, printable=True)
