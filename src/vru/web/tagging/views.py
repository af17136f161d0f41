"""Pages of the tagging app (docs/web-tagging.md). Every page needs its permission (403 without);
records are per object: an offender manager sees only their organisation's wearers (another's wearer,
trail, zone or breach is 404), a police analyst only their force's batches and matches (another force's
is 404). Every view of a trail or a match, and every identity shown, is audited with who, when and why;
trails and matches are shown only after the user gave a justification."""

from __future__ import annotations

import importlib.util
import time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from vru.tagging import matching
from vru.web.accounts.audit import audit
from vru.web.core.access import require_perms

from . import scope, services
from .forms import BatchForm, BreachStepForm, IdentityForm, JustificationForm, ReviewForm, TrailForm, ZoneForm
from .models import Breach, Match, MatchRun

#: a justification given for a match is good for this long (seconds) in the user's session
JUSTIFIED_FOR_S = 30 * 60
MAX_TRAIL_ROWS = 10_000


# ------------------------------------------------------------------------------------ justification
def _justified(request, key: str) -> str | None:
    entry = request.session.get("tagging_justified", {}).get(key)
    if entry and time.time() - entry[1] < JUSTIFIED_FOR_S:
        return entry[0]
    return None


def _justify(request, key: str, purpose: str) -> None:
    store = request.session.get("tagging_justified", {})
    now = time.time()
    store = {k: v for k, v in store.items() if now - v[1] < JUSTIFIED_FOR_S}
    store[key] = [purpose, now]
    request.session["tagging_justified"] = store


# ----------------------------------------------------------------------------------------- wearers
@require_perms("tagging.view_wearer")
def wearers(request):
    qs = scope.own_wearers(request.user).prefetch_related("activations")
    return render(request, "tagging/wearers.html", {"wearers": qs})


@require_perms("tagging.view_wearer")
@require_http_methods(["GET", "POST"])
def wearer_detail(request, pk: int):
    """The wearer's order, activations, zones and breaches. The identifying details are not on the page
    by default: a holder of ``tagging.view_identity`` asks for them with a purpose and a justification
    (POST), which go into the audit row; they are shown in that answer only, never kept in the session."""
    w = scope.wearer_or_404(request.user, pk)
    can_identity = request.user.has_perm("tagging.view_identity")
    stored = getattr(w, "identity", None) if can_identity else None
    identity, form, status = None, None, 200
    if request.method == "POST":
        if not can_identity:
            raise PermissionDenied
        form = IdentityForm(request.POST)
        if stored is not None and form.is_valid():
            audit(request, "view identity", stored, form.purpose_text())
            identity = stored
        elif stored is not None:
            status = 400
    elif stored is not None:
        form = IdentityForm()
    return render(request, "tagging/wearer_detail.html", {
        "wearer": w, "identity": identity, "identity_form": form if identity is None else None,
        "has_identity": stored is not None, "activations": w.activations.all(), "zones": w.zones.all(),
        "breaches": w.breaches.select_related("zone"),
        "can_trail": request.user.has_perm("tagging.view_trail"),
        "can_zone": request.user.has_perm("tagging.add_zone")}, status=status)


@require_perms("tagging.view_wearer", "tagging.view_trail")
@require_http_methods(["GET", "POST"])
def trail(request, pk: int):
    w = scope.wearer_or_404(request.user, pk)
    form = TrailForm(request.POST or None, wearer=w)
    fixes = None
    if request.method == "POST" and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        audit(request, "view trail", w,
              f"{form.purpose_text()} [window {start.isoformat()} to {end.isoformat()}]")
        df = services.trail_frame(w, start, end)
        fixes = df.head(MAX_TRAIL_ROWS).to_dict("records")
    return render(request, "tagging/trail.html", {"wearer": w, "form": form, "fixes": fixes,
                                                  "activations": w.activations.all()})


@require_perms("tagging.view_wearer", "tagging.add_zone")
@require_http_methods(["GET", "POST"])
def zone_create(request, pk: int):
    w = scope.wearer_or_404(request.user, pk)
    form = ZoneForm(request.POST or None, request.FILES or None, wearer=w)
    if request.method == "POST" and form.is_valid():
        z = form.save()
        audit(request, "add zone", z, "offender management: zone set for the order")
        messages.success(request, f"Zone {z.name} added.")
        return redirect("tagging:wearer", pk=w.pk)
    return render(request, "tagging/zone_form.html", {"wearer": w, "form": form, "draw_svg": drawing_map()})




def drawing_map() -> str:
    """The zone form's drawing map (``vru.tagging.report.drawing_svg``: the bundled boundaries of
    London in grid metres, the same code path as the report's maps), computed once and kept in the
    cache: clipping and merging the ward boundaries takes seconds, and they do not change."""
    from django.core.cache import cache

    from vru.tagging import report

    key = f"tagging:zone-drawing-map:v{report.DRAWING_VERSION}"
    svg = cache.get(key)
    if svg is None:
        svg = report.drawing_svg()
        cache.set(key, svg, None)
    return svg


# ---------------------------------------------------------------------------------------- breaches
@require_perms("tagging.view_breach")
def breaches(request):
    qs = scope.own_breaches(request.user)
    return render(request, "tagging/breaches.html", {"breaches": qs})


@require_perms("tagging.view_breach")
@require_http_methods(["GET", "POST"])
def breach_detail(request, pk: int):
    b = scope.breach_or_404(request.user, pk)
    form = BreachStepForm(request.POST if request.method == "POST" else None, breach=b)
    if request.method == "POST":
        if not request.user.has_perm("tagging.manage_breach"):
            raise PermissionDenied
        if form.is_valid():
            step = b.next_step()
            services.record_step(b, step, outcome=form.cleaned_data.get("outcome") or "")
            label = dict(Breach.STEPS)[step]
            audit(request, f"breach {label.lower()}", b,
                  f"breach lifecycle: {label}"
                  + (f" ({b.get_outcome_display()})" if step == "outcome_at" else ""))
            messages.success(request, f"{label} recorded.")
            return redirect("tagging:breach", pk=b.pk)
    steps = [("alert_at", "Alert", b.alert_at)] + [(f, label, getattr(b, f)) for f, label in Breach.STEPS]
    return render(request, "tagging/breach_detail.html", {
        "breach": b, "steps": steps, "form": form, "next_step": dict(Breach.STEPS).get(b.next_step()),
        "needs_outcome": b.next_step() == "outcome_at",
        "can_manage": request.user.has_perm("tagging.manage_breach")})


# ----------------------------------------------------------------------------------------- batches
@require_perms("tagging.view_crimebatch")
@require_http_methods(["GET", "POST"])
def batches(request):
    force = services.force_of(request.user)
    form = BatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not request.user.has_perm("tagging.add_crimebatch"):
            raise PermissionDenied
        if not force:
            form.add_error(None, "Your organisation is not linked to a police force, so it cannot send "
                                 "batches")
        elif form.is_valid():
            f = form.cleaned_data["file"]
            try:
                batch = services.ingest_batch(f.read(), f.name, user=request.user, force=force)
            except services.BatchRefused as exc:
                form.add_error("file", str(exc))
            except matching.MatchRunError:  # inline matching only (VRU_TAGGING_MATCH_INLINE)
                messages.error(request, "The batch was stored, but matching failed; the run records the "
                                        "error.")
                return redirect("tagging:batches")
            else:
                if batch.runs.filter(status="QUEUED").exists():
                    messages.success(request, "The batch is stored and its matching run is queued: this "
                                              "page shows its status; the matches follow when it has run.")
                return redirect("tagging:batch", pk=batch.pk)
    qs = scope.force_batches(request.user)
    return render(request, "tagging/batches.html", {
        "form": form, "batches": qs[:200], "force": force,
        "can_upload": request.user.has_perm("tagging.add_crimebatch")})


@require_perms("tagging.view_crimebatch")
def batch_detail(request, pk: int):
    b = scope.batch_or_404(request.user, pk)
    # each run with the number of its matches the user may see: a police analyst, the qualified ones
    # only (a count of the pending ones would tell them what the hub has not shared); a failed run's
    # error text (paths, internals) only to the tagging reviewer
    reviewer = request.user.has_perm("tagging.change_match")
    visible = scope.force_matches(request.user)
    runs = [(r, visible.filter(run=r).count()) for r in b.runs.all()]
    return render(request, "tagging/batch_detail.html", {
        "batch": b, "errors": b.errors.all(), "versions": b.versions.select_related("crime"),
        "runs": runs, "reviewer": reviewer})


# ----------------------------------------------------------------------------------------- matches
@require_perms("tagging.view_match")
def matches(request):
    from django.db.models import Case, IntegerField, Value, When

    qs = scope.force_matches(request.user).select_related("crime_version__crime").annotate(
        pending_first=Case(When(status="pending", then=Value(0)), default=Value(1),
                           output_field=IntegerField())
    ).order_by("pending_first", "-crime_version__time_from", "-pk")
    from .api import LIST_PURPOSE

    audit(request, "list matches", None, LIST_PURPOSE)  # crimes and scores; no wearer
    # the reviewer (the unit's hub, which holds every force's matches) sees the runs that have not
    # finished or have failed, with their errors: the batch pages are the police's, who never read them
    runs = None
    if request.user.has_perm("tagging.change_match"):
        runs = MatchRun.objects.exclude(status="SUCCESS").select_related("batch").order_by("-pk")[:100]
    return render(request, "tagging/matches.html", {"matches": qs[:500], "runs": runs})


@require_perms("tagging.view_match")
@require_http_methods(["GET", "POST"])
def match_detail(request, pk: int):
    m = scope.match_or_404(request.user, pk)
    key = f"match:{m.pk}"
    if request.method == "POST":
        form = JustificationForm(request.POST)
        if form.is_valid():
            _justify(request, key, form.purpose_text())
            return redirect("tagging:match", pk=m.pk)
        return render(request, "tagging/justify.html", {"form": form, "match": m})
    purpose = _justified(request, key)
    if purpose is None:
        return render(request, "tagging/justify.html", {"form": JustificationForm(), "match": m})
    audit(request, "view match", m, purpose)
    return render(request, "tagging/match_detail.html", {
        "match": m, "points": m.points.all(), "crime": m.crime_version,
        "review_form": ReviewForm() if m.status == "pending" else None,
        "can_review": request.user.has_perm("tagging.change_match")})


@require_perms("tagging.view_match", "tagging.change_match")
@require_POST
def match_review(request, pk: int):
    m = scope.match_or_404(request.user, pk)
    purpose = _justified(request, f"match:{m.pk}")
    if purpose is None:
        return redirect("tagging:match", pk=m.pk)
    form = ReviewForm(request.POST)
    if m.status != "pending":
        messages.error(request, "This match was closed under retention: its stored fixes were purged, so it "
                       "can no longer be reviewed." if m.reviewed_by_id is None
                       else "This match has already been reviewed.")
        return redirect("tagging:match", pk=m.pk)
    if not form.is_valid():
        audit(request, "view match", m, purpose)
        return render(request, "tagging/match_detail.html", {
            "match": m, "points": m.points.all(), "crime": m.crime_version, "review_form": form,
            "can_review": True}, status=400)
    try:
        services.review_match(m, request.user, form.cleaned_data["decision"], form.cleaned_data["reason"])
    except (services.AlreadyReviewed, services.EvidenceMissing) as exc:
        # another reviewer decided between the page and this POST, or retention purged the fixes
        messages.error(request, str(exc))
        return redirect("tagging:match", pk=m.pk)
    action = {"qualified": "qualify match", "dismissed": "dismiss match"}[form.cleaned_data["decision"]]
    audit(request, action, m, f"review: {form.cleaned_data['reason']}")
    messages.success(request, f"Match {m.get_status_display().lower()}.")
    return redirect("tagging:match", pk=m.pk)


def _report_module():
    if importlib.util.find_spec("vru.tagging.report") is None:
        return None
    return importlib.import_module("vru.tagging.report")


def _purged(request, m: Match):
    """The page shown for the report of a match with no stored fixes (retention purged them, or none could
    be stored): a plain 410 saying so, never an empty report or a failed PDF (review 4)."""
    return render(request, "tagging/report_purged.html", {"match": m}, status=410)


def _report_context(m: Match) -> dict:
    points = list(m.points.all())
    return {"match": m, "crime": m.crime_version, "points": points, "run": m.run,
            "generated": timezone.now(), "disclaimer": DISCLAIMER}


def _layer_inputs(m: Match):
    """The match as the analysis layer's report takes it: points (schema.MATCHES), the summary row,
    the crime (schema.CRIMES keys and the batch's details) and the run record."""
    import re

    import pandas as pd

    from vru.tagging import schema as S

    cv = m.crime_version
    rows = []
    for p in m.points.all():
        visit, seq = re.fullmatch(r"([A-Z]+)(\d+)", p.label).groups()
        rows.append({S.CRIME_VERSION_ID: cv.version_id, S.WEARER_REF: m.wearer.ref, S.DEVICE_ID: m.device_id,
                     S.VISIT: visit, S.SEQ: int(seq), S.FIX_TIME: pd.Timestamp(p.fix_time),
                     S.EASTING: p.easting, S.NORTHING: p.northing, S.PRECISION_M: p.precision_m,
                     S.SPEED_KMH: p.speed_kmh, S.HEADING_DEG: p.heading_deg, S.MECHANISM: p.mechanism,
                     S.DISTANCE_M: p.distance_m, S.INTERPOLATED: p.interpolated})
    points = pd.DataFrame(rows)
    crime = {S.CRIME_VERSION_ID: cv.version_id, S.CRIME_REF: cv.crime.crime_ref, S.FORCE: cv.crime.force,
             S.CRIME_TYPE: cv.crime_type, S.TIME_FROM: cv.time_from, S.TIME_TO: cv.time_to,
             S.EASTING: cv.easting, S.NORTHING: cv.northing, "batch_id": cv.batch.batch_id,
             "crime_text": cv.text}
    summary = {S.CRIME_VERSION_ID: cv.version_id, S.WEARER_REF: m.wearer.ref, "n_fixes": m.n_fixes,
               "first_time": m.first_time, "last_time": m.last_time, "min_distance_m": m.min_distance_m,
               "p_within": m.probability, "dwell_s": m.dwell_s, "explanation": m.explanation}
    run = {"run_id": str(m.run.pk), "algorithm_version": m.run.algorithm_version,
           "parameters": m.run.parameters, "trigger": m.run.trigger, "started": m.run.started,
           "ended": m.run.ended, "status": m.run.status}
    return points, summary, crime, run


DISCLAIMER = (
    "This report shows that the tag of the wearer named by the reference above recorded positions near "
    "the place of the crime during its window. It does not confirm that the wearer perpetrated or "
    "witnessed the crime, and it does not rule out that other tag wearers, or people without a tag, were "
    "present. Positions are known only while the tag was monitored: an uncharged tag, a tag removed but "
    "still transmitting, or an equipment fault can each leave gaps or wrong positions. Each position has "
    "a confidence circle: the wearer was within it with about 95% probability. Interpolated points are "
    "estimates between two recorded fixes.")


def _reportable(request, pk: int):
    """The qualified match `pk` and the purpose given for opening its report, with None; or, in the
    third place, the response to send instead: back to the match page to give a purpose, or the
    purged page when the match's points are gone."""
    m = scope.match_or_404(request.user, pk)
    if m.status != "qualified":
        raise Http404("only a qualified match has a report")
    purpose = _justified(request, f"match:{m.pk}")
    if purpose is None:
        return m, None, redirect("tagging:match", pk=m.pk)
    if not m.points.exists():
        return m, None, _purged(request, m)
    return m, purpose, None


@require_perms("tagging.view_match")
def match_report(request, pk: int):
    m, purpose, instead = _reportable(request, pk)
    if instead is not None:
        return instead
    audit(request, "view match report", m, purpose)
    ctx = _report_context(m)
    mod = _report_module()
    ctx["map_svg"] = None
    if mod is not None and hasattr(mod, "render_svg_map") and ctx["points"]:
        points, _summary, crime, run = _layer_inputs(m)
        ctx["map_svg"] = mod.render_svg_map(points, crime,
                                            radius_m=float(run["parameters"].get("radius_m", 100.0)))
    ctx["pdf_available"] = mod is not None and hasattr(mod, "render_pdf")
    return render(request, "tagging/report.html", ctx)


@require_perms("tagging.view_match")
def match_report_pdf(request, pk: int):
    m, purpose, instead = _reportable(request, pk)
    if instead is not None:
        return instead
    mod = _report_module()
    if mod is None or not hasattr(mod, "render_pdf"):
        raise Http404("the PDF report is not available on this installation")
    audit(request, "download match report", m, purpose)
    points, summary, crime, run = _layer_inputs(m)
    wearer = {"wearer_ref": m.wearer.ref, "order_type": m.wearer.get_order_type_display(),
              "organisation": str(m.wearer.organisation)}
    pdf = mod.render_pdf(mod.report_context(points, summary, crime, run, wearer, m.reviewed_by.email,
                                            m.reviewed_at, m.reason))
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="match-{m.pk}.pdf"'
    return resp


# ----------------------------------------------------------------------------------------- figures
@require_perms("tagging.view_figures")
def figures(request):
    return render(request, "tagging/figures.html", {
        "figures": services.figures(), "min_n": services.FIGURES_MIN_N,
        "back": reverse("dashboard:overview") if _has_url("dashboard:overview") else None})


def _has_url(name: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True
