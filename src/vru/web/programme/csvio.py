"""CSV export and import of the register's tables (areas, consortia, grants, interventions).

Each table has one column layout (``COLUMNS``), used for both directions, so an exported file
imports back unchanged. Rows are matched to existing records by natural key (area: borough + name;
consortium: name; grant: reference; intervention: grant + name + year), so importing the same file
twice changes nothing. Every row is validated by a Django model form (and the model's own checks)
before anything is kept; any error rolls the whole file back, and each message names the row (the
header is row 1) and the column.

Cell formats: ``lsoa_codes`` space-separated codes; ``geometry`` GeoJSON (Polygon or MultiPolygon,
WGS84); ``members`` organisation names separated by ``;`` (organisations must already exist);
money in pounds with up to two decimals, no symbol or commas; dates ``YYYY-MM-DD``.

Spreadsheet safety: every export is written by ``vru.outputs.csvsafe.writer`` (a cell that a
spreadsheet would run as a formula, such as ``=HYPERLINK(...)``, gets a leading ``'``) and every
imported cell goes through ``csvsafe.restore``, so an exported file imports back to the same records.
A cell that was neutralised on export is restored exactly; any other cell has surrounding whitespace
removed (as the register's forms do).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from vru.outputs import csvsafe
from vru.web.accounts.models import Organisation

from . import geojson
from .models import AGE_BAND_FIELDS, LAST_YEAR, MAX_COUNT, Consortium, Grant, Intervention, ProgrammeArea

TABLES = ("areas", "consortia", "grants", "interventions")
COLUMNS: dict[str, list[str]] = {
    "areas": ["borough", "name", "kind", "selected_year", "funding_round", "lsoa_codes", "geometry"],
    "consortia": ["name", "area_borough", "area", "lead", "members"],
    "grants": ["reference", "consortium", "status", "amount_requested", "amount_awarded", "cap",
               "start_date", "end_date"],
    "interventions": ["grant", "name", "year", "kind", "sessions_delivered", *AGE_BAND_FIELDS,
                      "people_reached"],
}
OPTIONAL = {"interventions": {"people_reached"}}
MAX_BYTES = 10 * 1024 * 1024

# Python's csv module refuses a cell over 131,072 characters (``csv.field_size_limit``), but an area's
# boundary may be up to 5 MB (geojson.MAX_GEOMETRY_CHARS), so an exported register would not import
# back. The limit is process-wide (the ``_csv`` module keeps one value), so it cannot be raised for one
# reader only, nor safely raised and lowered around it while other threads read. It is raised here,
# once, to the size of the largest file the import accepts (no cell can be longer than its file), and
# never lowered; each column's own limit is checked per cell, with an error naming row and column.
# Other readers in the process still read only files whose size they bound themselves.
csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))


def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def export_row(table: str, obj) -> list[str]:
    """One record as the cells of its CSV row (the canonical text form; also used to tell whether an
    import would change a record)."""
    if table == "areas":
        return [obj.borough, obj.name, obj.kind, _s(obj.selected_year), _s(obj.funding_round),
                " ".join(obj.shown_lsoa_codes),
                json.dumps(obj.geometry, separators=(",", ":")) if obj.geometry else ""]
    if table == "consortia":
        members = sorted(m.organisation.name for m in obj.memberships.select_related("organisation"))
        return [obj.name, obj.area.borough, obj.area.name, obj.lead.name, "; ".join(members)]
    if table == "grants":
        return [obj.reference, obj.consortium.name, obj.status, _s(obj.amount_requested),
                _s(obj.amount_awarded), _s(obj.cap), _s(obj.start_date), _s(obj.end_date)]
    if table == "interventions":
        return [obj.grant.reference, obj.name, _s(obj.year), obj.kind, _s(obj.sessions_delivered),
                *(_s(getattr(obj, f)) for f in AGE_BAND_FIELDS), _s(obj.people_reached)]
    raise ValueError(f"no table {table!r}")


def write_csv(out, table: str, queryset) -> None:
    w = csvsafe.writer(out)
    w.writerow(COLUMNS[table])
    for obj in queryset:
        w.writerow(export_row(table, obj))


# --- the row forms ---------------------------------------------------------------------------------

class _Row(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():  # an empty cell is "no value", never a required error by itself
            f.error_messages.setdefault("required", "this column is empty")
            f.error_messages["required"] = "this column is empty"
            if isinstance(f, forms.CharField):
                f.strip = False  # cells are already stripped, except a restored one (``_cell``)


class AreaRow(_Row):
    lsoa_codes = forms.CharField(required=False)
    geometry = forms.CharField(required=False)

    class Meta:
        model = ProgrammeArea
        fields = ["borough", "name", "kind", "selected_year", "funding_round", "lsoa_codes", "geometry"]

    def clean_lsoa_codes(self):
        return self.cleaned_data["lsoa_codes"].replace(",", " ").split()

    def clean_geometry(self):
        text = self.cleaned_data["geometry"].strip()
        return geojson.parse(text) if text else None


class ConsortiumRow(_Row):
    area_borough = forms.CharField()
    area = forms.CharField()
    lead = forms.ModelChoiceField(
        Organisation.objects.all(), to_field_name="name",
        error_messages={"invalid_choice": "no organisation of that name (add it first)"},
    )
    members = forms.CharField(required=False)

    class Meta:
        model = Consortium
        fields = ["name", "lead"]

    def clean_members(self):
        names = [n.strip() for n in self.cleaned_data["members"].split(";") if n.strip()]
        found = {o.name: o for o in Organisation.objects.filter(name__in=names)}
        missing = [n for n in names if n not in found]
        if missing:
            raise ValidationError(f"no organisation named {', '.join(missing)} (add it first)")
        return [found[n] for n in names]

    def clean(self):
        data = super().clean()
        borough, name = data.get("area_borough"), data.get("area")
        if borough and name:
            try:
                self.instance.area = ProgrammeArea.objects.get(borough=borough, name=name)
            except ProgrammeArea.DoesNotExist:
                self.add_error("area", f"no area {name!r} in borough {borough} (import the areas first)")
        lead, members = data.get("lead"), data.get("members")
        if lead is not None and members is not None and lead not in members:
            self.add_error("members", f"the lead organisation {lead.name!r} must be listed as a member")
        elif members is not None:
            self.instance.incoming_members = {m.pk for m in members}
        return data

    def save_memberships(self, consortium):
        consortium.set_members(m.pk for m in self.cleaned_data["members"])


class GrantRow(_Row):
    consortium = forms.ModelChoiceField(
        Consortium.objects.all(), to_field_name="name",
        error_messages={"invalid_choice": "no consortium of that name (import the consortia first)"},
    )

    class Meta:
        model = Grant
        fields = ["reference", "consortium", "status", "amount_requested", "amount_awarded", "cap",
                  "start_date", "end_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.old_status = self.instance.status if self.instance.pk else ""
        self.fields["cap"].required = True

    def clean_status(self):
        status = self.cleaned_data["status"]
        old = self.old_status
        if old and status != old and status not in Grant.TRANSITIONS[old]:
            allowed = ", ".join(Grant.TRANSITIONS[old]) or "none (closed is final)"
            raise ValidationError(f"the grant is {old}: it cannot become {status} (allowed: {allowed})")
        return status


class InterventionRow(_Row):
    grant = forms.ModelChoiceField(
        Grant.objects.all(), to_field_name="reference",
        error_messages={"invalid_choice": "no grant with that reference (import the grants first)"},
    )
    people_reached = forms.IntegerField(required=False, min_value=0,
                                        max_value=len(AGE_BAND_FIELDS) * MAX_COUNT)

    class Meta:
        model = Intervention
        fields = ["grant", "name", "year", "kind", "sessions_delivered", *AGE_BAND_FIELDS]

    def clean(self):
        data = super().clean()
        total = data.get("people_reached")
        bands = [data.get(f) for f in AGE_BAND_FIELDS]
        if total is not None and None not in bands and total != sum(bands):
            self.add_error("people_reached",
                           f"{total} is not the sum of the age bands ({sum(bands)})")
        return data


ROW_FORMS = {"areas": AreaRow, "consortia": ConsortiumRow, "grants": GrantRow,
             "interventions": InterventionRow}


def _existing(table: str, row: dict):
    """The record a row's natural key names, or None."""
    g = row.get
    if table == "areas":
        return ProgrammeArea.objects.filter(borough=g("borough", ""), name=g("name", "")).first()
    if table == "consortia":
        return Consortium.objects.filter(name=g("name", "")).first()
    if table == "grants":
        return Grant.objects.filter(reference=g("reference", "")).first()
    year = (g("year") or "").strip()
    if not (year.isascii() and year.isdigit() and len(year) <= 4 and int(year) <= LAST_YEAR):
        return None  # the row form says what is wrong with the year
    return Intervention.objects.filter(
        grant__reference=g("grant", ""), name=g("name", ""), year=int(year)).first()


def _key(table: str, row: dict) -> tuple:
    g = lambda c: row.get(c) or ""  # noqa: E731
    return {
        "areas": (g("borough"), g("name")),
        "consortia": (g("name"),),
        "grants": (g("reference"),),
        "interventions": (g("grant"), g("name"), g("year")),
    }[table]


# --- import ---------------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    table: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def _column(table: str, name: str) -> str:
    if name == NON_FIELD_ERRORS:
        return COLUMNS[table][0]
    return name


def import_csv(table: str, data: bytes, user=None) -> ImportResult:
    """Validate every row of ``data`` (CSV bytes, UTF-8) and, only if all are valid, write them in one
    transaction. Returns counts, or the errors (each naming row and column) with nothing written."""
    if table not in TABLES:
        raise ValueError(f"no table {table!r}")
    res = ImportResult(table=table)
    if len(data) > MAX_BYTES:
        res.errors.append(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        return res
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        res.errors.append(f"The file is not UTF-8 text (byte {e.start}); save it as CSV UTF-8.")
        return res
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as e:
        res.errors.append(f"Row 1 (header): not readable as CSV ({e}).")
        return res
    missing = [c for c in COLUMNS[table] if c not in header and c not in OPTIONAL.get(table, set())]
    unknown = [c for c in header if c not in COLUMNS[table]]
    if missing:
        res.errors.append(f"Row 1 (header): missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)}.")
    if unknown:
        res.errors.append(f"Row 1 (header): unknown column{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)}; expected {', '.join(COLUMNS[table])}.")
    if res.errors:
        return res
    try:
        with transaction.atomic():
            _import_rows(table, reader, user, res)
            if res.errors:
                raise _Rollback
    except _Rollback:
        res.created = res.updated = res.unchanged = 0
    if not res.errors and res.created + res.updated + res.unchanged == 0:
        res.errors.append("The file has a header but no rows.")
    return res


def _cell(value: str | None) -> str:
    """A cell as the record holds it: a cell the export neutralised (``'=...``) restored exactly,
    any other with surrounding whitespace removed (then restored, if it was typed as ``'=...``)."""
    value = value or ""
    restored = csvsafe.restore(value)
    return restored if restored != value else csvsafe.restore(value.strip())


def _rows(reader, res: ImportResult):
    """(row number, row) for each row; a row the csv module cannot read ends the file with an error."""
    rowno = 1
    try:
        for rowno, raw in enumerate(reader, start=2):
            yield rowno, raw
    except csv.Error as e:
        res.errors.append(f"Row {rowno + 1}: not readable as CSV ({e}).")


def _import_rows(table, reader, user, res: ImportResult) -> None:
    seen: dict[tuple, int] = {}
    for rowno, raw in _rows(reader, res):
        if None in raw:  # more cells than header columns
            res.errors.append(f"Row {rowno}: more cells than the header has columns.")
            continue
        row = {k: _cell(v) for k, v in raw.items()}
        if not any(row.values()):
            continue
        key = _key(table, row)
        if key in seen:
            res.errors.append(f"Row {rowno}, column {COLUMNS[table][0]}: the same record as row {seen[key]}.")
            continue
        seen[key] = rowno
        existing = _existing(table, row)
        before = export_row(table, existing) if existing else None
        form = ROW_FORMS[table](data=row, instance=existing)
        if not form.is_valid():
            for name, messages in form.errors.get_json_data().items():
                for m in messages:
                    res.errors.append(f"Row {rowno}, column {_column(table, name)}: {m['message']}")
            continue
        if res.errors:
            continue  # keep validating, but write nothing more once a row failed
        try:
            with transaction.atomic():
                _save(table, form, existing, before, user, res)
        except (IntegrityError, ValidationError) as e:
            msg = "; ".join(e.messages) if isinstance(e, ValidationError) else str(e).splitlines()[0]
            res.errors.append(f"Row {rowno}, column {COLUMNS[table][0]}: {msg}")


def _save(table, form, existing, before, user, res: ImportResult) -> None:
    obj = form.save(commit=False)
    if table == "consortia":
        # compare with what the row says, memberships included
        members = sorted({m.name for m in form.cleaned_data["members"]} | {obj.lead.name})
        after = [obj.name, obj.area.borough, obj.area.name, obj.lead.name, "; ".join(members)]
    else:
        after = export_row(table, obj)
    if before is not None and after == before:
        res.unchanged += 1
        return
    obj.save()
    if table == "consortia":
        form.save_memberships(obj)
    if table == "grants" and (existing is None or form.old_status != obj.status):
        obj.record_status(form.old_status, user, note="CSV import")
    if existing is None:
        res.created += 1
    else:
        res.updated += 1
