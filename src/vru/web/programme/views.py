"""Pages of the programme register. Access (docs/web-programme.md): every page needs
``programme.view_register``; records are filtered per user by ``scope`` (another organisation's
record is 404 for a provider); recording delivery needs ``programme.record_delivery``; imports and
grant status changes need ``accounts.manage_programme``; creating and editing areas, consortia and
grants needs ``accounts.manage_programme`` and ``programme.view_all_programme`` (``EDIT_PERMS``), so a
provider's staff never edit the register, whatever else they hold."""

from __future__ import annotations

import io
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from shapely.errors import GEOSException

from vru.outputs import csvsafe
from vru.web.accounts.audit import audit
from vru.web.core import maps
from vru.web.core.access import require_perms

from . import csvio, geojson, scope
from .forms import AreaForm, ConsortiumForm, GrantForm, ImportForm, InterventionForm, TransitionForm
from .models import AGE_BANDS, Grant
from .scope import ALL_PERM, DELIVERY_PERM, MANAGE_PERM, VIEW_PERM

logger = logging.getLogger(__name__)

#: creating and editing areas, consortia and grants: programme managers and administrators.
EDIT_PERMS = (VIEW_PERM, ALL_PERM, MANAGE_PERM)


def _ctx(request, **kw) -> dict:
    user = request.user
    kw.update({
        "can_manage": user.has_perm(MANAGE_PERM),
        "can_edit": user.has_perms(EDIT_PERMS),
        "can_record": user.has_perm(DELIVERY_PERM),
        "age_bands": AGE_BANDS,
    })
    return kw


@require_perms(VIEW_PERM)
def index(request):
    user = request.user
    rollups = [scope.rollup_table(user, by) for by in ("area", "borough", "year", "kind")]
    consortia = scope.consortia_for(user).prefetch_related("grants").order_by("area__borough", "name")
    return render(request, "programme/index.html", _ctx(
        request, rollups=rollups, consortia=consortia, areas=scope.areas_for(user),
        sees_all=scope.sees_all(user), tables=csvio.TABLES, rollup_by=list(scope.ROLLUP_BY),
    ))


@require_perms(VIEW_PERM)
def area_detail(request, pk: int):
    area = scope.area_or_404(request.user, pk)
    consortia = scope.consortia_for(request.user).filter(area=area)
    map_uri = None
    geometry = geojson.for_output(area.geometry)  # None for a malformed row stored before the rules
    if geometry:
        label = f"Map of {area.name} (shaded) within the borough of {area.borough_name}"
        try:
            map_uri = maps.data_uri(maps.area_svg(geometry, area.borough, label))
        except (ValueError, GEOSException):  # a stored shape shapely cannot draw (e.g. self-intersecting)
            logger.warning("area %s: boundary cannot be drawn", area.pk)
    return render(request, "programme/area_detail.html", _ctx(
        request, area=area, consortia=consortia, map_uri=map_uri,
        map_alt=f"Map of {area.name} (shaded) within the borough of {area.borough_name}",
    ))


@require_perms(VIEW_PERM)
def consortium_detail(request, pk: int):
    c = scope.consortium_or_404(request.user, pk)
    members = c.memberships.select_related("organisation")
    grants = c.grants.all()
    return render(request, "programme/consortium_detail.html", _ctx(
        request, consortium=c, members=members, grants=grants))


@require_http_methods(["GET", "POST"])
@require_perms(VIEW_PERM)
def grant_detail(request, pk: int):
    grant = scope.grant_or_404(request.user, pk)
    form = None
    if request.method == "POST" and not request.user.has_perm(MANAGE_PERM):
        raise PermissionDenied
    if request.method == "POST" and not grant.allowed_transitions():
        messages.error(request, f"{grant.reference} is closed: its status cannot change.")
        return redirect("programme:grant", pk=grant.pk)
    if request.user.has_perm(MANAGE_PERM) and grant.allowed_transitions():
        if request.method == "POST":
            form = TransitionForm(request.POST, grant=grant, user=request.user)
            if form.is_valid():
                audit(request, f"grant {form.change.from_status} -> {form.change.to_status}", grant,
                      "programme register: grant status change")
                messages.success(request, f"{grant.reference} is now {grant.get_status_display().lower()}.")
                return redirect("programme:grant", pk=grant.pk)
        else:
            form = TransitionForm(grant=grant, user=request.user)
    return render(request, "programme/grant_detail.html", _ctx(
        request, grant=grant, history=grant.history.select_related("changed_by"),
        interventions=grant.interventions.all(), form=form,
    ))


def _intervention_form(request, grant, instance=None):
    if grant.status == Grant.BID:
        messages.error(request, f"{grant.reference} is a bid: record delivery once it is awarded.")
        return redirect("programme:grant", pk=grant.pk)
    if request.method == "POST":
        form = InterventionForm(request.POST, instance=instance, grant=grant)
        if form.is_valid():
            obj = form.save()
            messages.success(request, f"Saved {obj.name} ({obj.year}).")
            return redirect("programme:grant", pk=grant.pk)
    else:
        form = InterventionForm(instance=instance, grant=grant)
    return render(request, "programme/intervention_form.html", _ctx(
        request, form=form, grant=grant, intervention=instance))


@require_http_methods(["GET", "POST"])
@require_perms(VIEW_PERM, DELIVERY_PERM)
def intervention_create(request, grant_pk: int):
    grant = scope.grant_or_404(request.user, grant_pk)
    return _intervention_form(request, grant)


@require_http_methods(["GET", "POST"])
@require_perms(VIEW_PERM, DELIVERY_PERM)
def intervention_edit(request, pk: int):
    obj = scope.intervention_or_404(request.user, pk)
    return _intervention_form(request, obj.grant, obj)


_EXPORT_QS = {
    "areas": scope.areas_for,
    "consortia": lambda u: scope.consortia_for(u).prefetch_related("memberships__organisation"),
    "grants": scope.grants_for,
    "interventions": scope.interventions_for,
}


@require_perms(VIEW_PERM)
def export_csv(request, table: str):
    """One table (or a roll-up, ``rollup-<by>``) as CSV, filtered to what the user may see."""
    out = io.StringIO()
    if table in csvio.TABLES:
        csvio.write_csv(out, table, _EXPORT_QS[table](request.user))
    elif table.startswith("rollup-") and table.removeprefix("rollup-") in scope.ROLLUP_BY:
        r = scope.rollup(request.user, table.removeprefix("rollup-"))
        w = csvsafe.writer(out)
        w.writerow(r.COLUMNS)
        for row in [*r.rows, r.total]:
            w.writerow([row[c] for c in r.COLUMNS])
    else:
        raise Http404("no such table")
    resp = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="programme-{table}.csv"'
    return resp


@require_http_methods(["GET", "POST"])
@require_perms(VIEW_PERM, MANAGE_PERM)
def import_csv(request):
    result = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            table = form.cleaned_data["table"]
            upload = form.cleaned_data["file"]
            if upload.size > csvio.MAX_BYTES:
                form.add_error("file", "The file is larger than 10 MB")
            else:
                result = csvio.import_csv(table, upload.read(), request.user)
                if result.ok:
                    audit(request, f"import {table}", None, "programme register: CSV import")
                    messages.success(request, f"Imported {table}: {result.created} added, "
                                              f"{result.updated} changed, {result.unchanged} unchanged.")
                    return redirect(reverse("programme:import"))
                n = len(result.errors)
                form.add_error("file", f"The file has {n} problem{'s' if n != 1 else ''}; "
                                       "nothing was imported")
    else:
        form = ImportForm()
    return render(request, "programme/import.html", _ctx(
        request, form=form, result=result, columns=csvio.COLUMNS))


# --- create and edit areas, consortia and grants ------------------------------------------------------

def _edit_page(request, form_class, *, instance, template, title, back, done, save=None, initial=None):
    """One create-or-edit page: GET shows the form, a valid POST saves and redirects to ``done(obj)``,
    an invalid one shows the form again with each message next to its field (nothing saved)."""
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, instance=instance)
        if form.is_valid():
            obj = save(form) if save else form.save()
            messages.success(request, f"Saved {obj}.")
            return redirect(done(obj))
    else:
        form = form_class(instance=instance, initial=initial)
    return render(request, template, _ctx(request, form=form, title=title, back=back, obj=instance))


def _initial_pk(request, name) -> dict:
    value = request.GET.get(name, "")
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and a length a key can have
    return {name: int(value)} if value.isascii() and value.isdigit() and len(value) <= 18 else {}


def _editors(form_class, noun: str, find, *, new_title: str, edit_title, initial_from: str | None = None,
             save_as_user: bool = False):
    """The create and edit pages of one kind of record (``noun``: its page's URL name and its form's
    template): a new one starts from ``initial_from``'s key in the query string, when given; an edited
    one is found by ``find(user, pk)`` (another organisation's is 404); ``save_as_user`` saves the form
    with the user (recorded in the status history)."""
    template = f"programme/{noun}_form.html"

    @require_http_methods(["GET", "POST"])
    @require_perms(*EDIT_PERMS)
    def create(request):
        return _edit_page(request, form_class, instance=None, template=template, title=new_title,
                          back=reverse("programme:index"),
                          done=lambda obj: reverse(f"programme:{noun}", kwargs={"pk": obj.pk}),
                          save=(lambda form: form.save(user=request.user)) if save_as_user else None,
                          initial=_initial_pk(request, initial_from) if initial_from else None)

    @require_http_methods(["GET", "POST"])
    @require_perms(*EDIT_PERMS)
    def edit(request, pk: int):
        obj = find(request.user, pk)
        back = reverse(f"programme:{noun}", kwargs={"pk": obj.pk})
        return _edit_page(request, form_class, instance=obj, template=template, title=edit_title(obj),
                          back=back, done=lambda _: back)

    create.__name__ = create.__qualname__ = f"{noun}_create"
    edit.__name__ = edit.__qualname__ = f"{noun}_edit"
    return create, edit


area_create, area_edit = _editors(AreaForm, "area", scope.area_or_404, new_title="Add a programme area",
                                  edit_title=lambda area: f"Edit {area.name}")
consortium_create, consortium_edit = _editors(ConsortiumForm, "consortium", scope.consortium_or_404,
                                              new_title="Add a consortium",
                                              edit_title=lambda c: f"Edit {c.name}", initial_from="area")
grant_create, grant_edit = _editors(GrantForm, "grant", scope.grant_or_404, new_title="Add a grant bid",
                                    edit_title=lambda grant: f"Edit grant {grant.reference}",
                                    initial_from="consortium", save_as_user=True)
