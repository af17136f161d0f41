"""The MyEnds programme register: areas, consortia, grants and interventions.

- ``ProgrammeArea``: a funded neighbourhood (an estate, a ward or a cluster of LSOAs) in one London
  borough, with the LSOA codes it covers and its boundary as a GeoJSON geometry in WGS84.
- ``Consortium``: organisations bidding together for one area; one of them leads and must be a member
  (``Membership``).
- ``Grant``: a consortium's bid and, if funded, its award. Status ``bid`` -> ``awarded`` ->
  ``extended`` (any number of times) -> ``closed`` (also ``bid`` -> ``closed`` for an unfunded bid),
  each change recorded in ``GrantStatusChange``. Amounts are Decimal pounds, capped per grant
  (``cap``, default GBP 750,000, the first round's maximum).
- ``Intervention``: what a grant delivered in one year: kind, sessions, people reached by age band.

Natural keys (used by the CSV import, so that a re-import changes nothing): area (borough, name),
consortium name, grant reference, intervention (grant, name, year).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

import shapely.geometry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q

from vru.geography.boroughs import BOROUGHS

from .geojson import LONDON_BOUNDS, for_output, normalise_geometry, validate_geometry  # noqa: F401 (re-export)

BOROUGH_CHOICES = sorted(BOROUGHS.items(), key=lambda kv: kv[1])
DEFAULT_CAP = Decimal("750000.00")
FIRST_YEAR = 2000
LAST_YEAR = 2100
FIRST_DAY, LAST_DAY = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)
LSOA_CODE = re.compile(r"E01[0-9]{6}")
_MONEY = {"max_digits": 12, "decimal_places": 2}

# Bounds of every count and amount (docs/web-programme.md, "Bounds"). A whole MyEnds area reaches a
# few thousand people a year and the programme is about GBP 15m, so these leave wide headroom while
# keeping every sum the roll-ups take far inside a 64-bit integer (and PostgreSQL's int4 columns).
#: The most one intervention record may hold in sessions delivered or in any one age band.
MAX_COUNT = 1_000_000
#: The most LSOAs one area may cover (a whole borough has at most about 220).
MAX_LSOAS = 1_000
#: The most any money field may hold (a grant's cap, request or award): GBP 100m.
MAX_MONEY = Decimal("100000000.00")


def _count_validators():
    return [MinValueValidator(0), MaxValueValidator(
        MAX_COUNT, message=f"Enter at most {MAX_COUNT:,} (the most one record may hold)")]


def _money_validator():
    return MaxValueValidator(MAX_MONEY, message=f"Enter at most £{MAX_MONEY:,.0f}")


def _bounded(field: str, low=0, high=MAX_COUNT) -> Q:
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


def _lsoa_boroughs() -> dict[str, str]:
    """LSOA code (2011 and 2021 sets) -> borough code, from the bundled ONS boundaries."""
    global _LSOA_BOROUGHS
    if _LSOA_BOROUGHS is None:
        from vru.sources.boundaries import read_bundled

        out: dict[str, str] = {}
        for name in ("lsoa2011", "lsoa2021"):
            gdf = read_bundled(name)
            out.update(zip(gdf["code"], gdf["parent_code"], strict=True))
        _LSOA_BOROUGHS = out
    return _LSOA_BOROUGHS


_LSOA_BOROUGHS: dict[str, str] | None = None


class ProgrammeArea(models.Model):
    KINDS = [("estate", "Estate"), ("ward", "Ward"), ("lsoa_cluster", "Cluster of LSOAs")]

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=KINDS)
    borough = models.CharField(max_length=9, choices=BOROUGH_CHOICES)
    lsoa_codes = models.JSONField(
        default=list, blank=True, help_text="LSOA codes (2011 or 2021) the area covers"
    )
    geometry = models.JSONField(
        null=True, blank=True,
        help_text="The boundary: a GeoJSON Polygon or MultiPolygon in WGS84 longitude, latitude",
    )
    selected_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
        help_text="Year the area was selected for funding",
    )
    funding_round = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )

    class Meta:
        ordering = ["borough", "name"]
        constraints = [
            models.UniqueConstraint(fields=["borough", "name"], name="programme_area_unique_name"),
            models.CheckConstraint(
                condition=Q(kind__in=["estate", "ward", "lsoa_cluster"]), name="programme_area_kind"
            ),
            models.CheckConstraint(
                condition=Q(selected_year__gte=FIRST_YEAR, selected_year__lte=LAST_YEAR),
                name="programme_area_year",
            ),
            models.CheckConstraint(condition=_bounded("funding_round", 1, 20), name="programme_area_round"),
        ]
        # The register's own permissions (the standard add/change/delete/view ones exist as well).
        permissions = [
            ("view_register", "Can view the programme register"),
            ("view_all_programme", "Can view every consortium's records in the programme register"),
            ("record_delivery", "Can record interventions delivered by their consortia"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.borough_name})"

    @property
    def borough_name(self) -> str:
        return BOROUGHS.get(self.borough, self.borough)

    def clean(self):
        super().clean()
        errors: dict[str, list[str]] = {}
        codes = self.lsoa_codes
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            errors["lsoa_codes"] = ["must be a list of LSOA codes"]
        else:
            bad = [c for c in codes if not LSOA_CODE.fullmatch(c)]
            dupes = sorted(c for c, n in Counter(codes).items() if n > 1)
            if len(codes) > MAX_LSOAS:
                errors["lsoa_codes"] = [f"{len(codes):,} codes: an area covers at most {MAX_LSOAS:,}"]
            elif bad:
                shown = ", ".join(c[:20] for c in bad[:20])
                more = f" and {len(bad) - 20:,} more" if len(bad) > 20 else ""
                errors["lsoa_codes"] = [f"not LSOA codes (E01 and 6 digits): {shown}{more}"]
            elif dupes:
                errors["lsoa_codes"] = [f"listed more than once: {', '.join(dupes)}"]
            elif self.borough and codes:
                known = _lsoa_boroughs()
                unknown = [c for c in codes if c not in known]
                elsewhere = [c for c in codes if c in known and known[c] != self.borough]
                if unknown:
                    errors["lsoa_codes"] = [f"not London LSOAs of 2011 or 2021: {', '.join(unknown)}"]
                elif elsewhere:
                    errors["lsoa_codes"] = [
                        f"not in {self.borough_name}: {', '.join(elsewhere)}"
                    ]
        if self.geometry is not None:
            try:  # stored in its canonical form: {"type", "coordinates"} only
                self.geometry = normalise_geometry(self.geometry)
            except ValidationError as e:
                errors["geometry"] = e.messages
        if errors:
            raise ValidationError(errors)

    @property
    def shown_lsoa_codes(self) -> list[str]:
        """The stored LSOA codes as pages, exports and the API show them: only well-formed codes (a row
        stored before the rules could hold anything, even text that cannot be encoded as UTF-8)."""
        codes = self.lsoa_codes if isinstance(self.lsoa_codes, list) else []
        return [c for c in codes if isinstance(c, str) and LSOA_CODE.fullmatch(c)]

    def shape(self):
        """The boundary as a shapely geometry (WGS84), or None."""
        geometry = for_output(self.geometry)
        return shapely.geometry.shape(geometry) if geometry else None


class Consortium(models.Model):
    name = models.CharField(max_length=200, unique=True)
    area = models.ForeignKey(ProgrammeArea, on_delete=models.PROTECT, related_name="consortia")
    lead = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="led_consortia"
    )
    members = models.ManyToManyField(
        "accounts.Organisation", through="Membership", related_name="consortia"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "consortia"

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        # The lead must be a member. A new consortium's lead joins it as it is saved; changing the
        # lead of an existing one needs the new lead to be a member already, or among the members
        # being set with it (``incoming_members``, organisation ids, set by the CSV import).
        if self.pk and self.lead_id:
            incoming = getattr(self, "incoming_members", None)
            if incoming is not None:
                ok = self.lead_id in incoming
            else:
                ok = self.memberships.filter(organisation_id=self.lead_id).exists()
            if not ok:
                raise ValidationError({"lead": "the lead organisation must be a member of the consortium"})

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            # The lead is always a member: a new consortium's lead joins it as it is created.
            Membership.objects.get_or_create(consortium=self, organisation_id=self.lead_id)

    def organisation_ids(self) -> list[int]:
        return list(self.memberships.values_list("organisation_id", flat=True))

    def set_members(self, organisation_ids) -> None:
        """Make the members exactly these organisations (ids) and the lead: the others leave, the new
        ones join (in id order); the memberships of those who stay are kept as they are."""
        wanted = set(organisation_ids) | {self.lead_id}
        self.memberships.exclude(organisation_id__in=wanted).delete()
        have = set(self.organisation_ids())
        Membership.objects.bulk_create(
            [Membership(consortium=self, organisation_id=o) for o in sorted(wanted - have)])


class Membership(models.Model):
    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="programme_memberships"
    )
    joined = models.DateField(default=dt.date.today)

    class Meta:
        ordering = ["consortium", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "organisation"], name="programme_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.consortium}"

    def _is_lead(self) -> bool:
        return Consortium.objects.filter(pk=self.consortium_id, lead_id=self.organisation_id).exists()

    def delete(self, *args, **kwargs):
        if self._is_lead():
            raise ValidationError("the lead organisation cannot leave the consortium; change the lead first")
        return super().delete(*args, **kwargs)


class Grant(models.Model):
    BID, AWARDED, EXTENDED, CLOSED = "bid", "awarded", "extended", "closed"
    STATUS = [(BID, "Bid"), (AWARDED, "Awarded"), (EXTENDED, "Extended"), (CLOSED, "Closed")]
    #: allowed changes of status: a bid is awarded or closed (unsuccessful or withdrawn); a funded
    #: grant is extended (again and again) or closed; a closed grant stays closed.
    TRANSITIONS = {
        BID: (AWARDED, CLOSED),
        AWARDED: (EXTENDED, CLOSED),
        EXTENDED: (EXTENDED, CLOSED),
        CLOSED: (),
    }
    FUNDED = (AWARDED, EXTENDED)

    reference = models.CharField(max_length=40, unique=True, help_text="e.g. MYE-2021-SWK")
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="grants")
    status = models.CharField(max_length=10, choices=STATUS, default=BID)
    amount_requested = models.DecimalField(
        **_MONEY, validators=[MinValueValidator(Decimal("0.01")), _money_validator()])
    amount_awarded = models.DecimalField(
        **_MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0")), _money_validator()],
        help_text="Total awarded, including extensions",
    )
    cap = models.DecimalField(
        **_MONEY, default=DEFAULT_CAP, validators=[MinValueValidator(Decimal("0.01")), _money_validator()],
        help_text="The most this grant may request or be awarded (the programme's cap per grant)",
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["bid", "awarded", "extended", "closed"]),
                name="programme_grant_status",
            ),
            models.CheckConstraint(
                condition=Q(amount_requested__gt=0, amount_requested__lte=F("cap")),
                name="programme_grant_requested_within_cap",
            ),
            models.CheckConstraint(
                condition=Q(amount_awarded__isnull=True)
                | Q(amount_awarded__gte=0, amount_awarded__lte=F("cap")),
                name="programme_grant_awarded_within_cap",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["awarded", "extended"])
                | Q(amount_awarded__isnull=False, start_date__isnull=False, end_date__isnull=False),
                name="programme_grant_funded_has_award",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="programme_grant_dates_ordered",
            ),
            # the cap bounds the amounts requested and awarded (above), so every amount is bounded
            models.CheckConstraint(condition=_bounded("cap", Decimal("0.01"), MAX_MONEY),
                                   name="programme_grant_cap_bounded"),
            models.CheckConstraint(
                condition=(Q(start_date__isnull=True) | _bounded("start_date", FIRST_DAY, LAST_DAY))
                & (Q(end_date__isnull=True) | _bounded("end_date", FIRST_DAY, LAST_DAY)),
                name="programme_grant_dates_bounded",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def clean(self):
        super().clean()
        errors: dict[str, list[str]] = {}
        cap = self.cap if self.cap is not None else DEFAULT_CAP
        if self.amount_requested is not None and self.amount_requested > cap:
            errors.setdefault("amount_requested", []).append(
                f"£{self.amount_requested:,.2f} is more than the cap of £{cap:,.2f} per grant")
        if self.amount_awarded is not None and self.amount_awarded > cap:
            errors.setdefault("amount_awarded", []).append(
                f"£{self.amount_awarded:,.2f} is more than the cap of £{cap:,.2f} per grant")
        if self.status in self.FUNDED:
            for field in ("amount_awarded", "start_date", "end_date"):
                if getattr(self, field) is None:
                    errors.setdefault(field, []).append(f"a {self.status} grant needs this")
        if self.status == self.BID and self.amount_awarded is not None:
            errors.setdefault("amount_awarded", []).append("a bid has no amount awarded yet")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors.setdefault("end_date", []).append("the end date is before the start date")
        for field in ("start_date", "end_date"):
            d = getattr(self, field)
            if d is not None and not FIRST_DAY <= d <= LAST_DAY:
                errors.setdefault(field, []).append(f"enter a date from {FIRST_YEAR} to {LAST_YEAR}")
        if errors:
            raise ValidationError(errors)

    def allowed_transitions(self) -> tuple[str, ...]:
        return self.TRANSITIONS.get(self.status, ())

    def transition(self, to: str, user=None, *, note: str = "", amount_awarded: Decimal | None = None,
                   start_date: dt.date | None = None, end_date: dt.date | None = None,
                   additional_amount: Decimal | None = None) -> GrantStatusChange:
        """Move the grant to status ``to`` and record it; raises ``ValidationError`` if not allowed.

        - ``awarded``: needs ``amount_awarded`` (within the cap), ``start_date`` and ``end_date``;
        - ``extended``: needs a new ``end_date`` after the current one; ``additional_amount`` (optional)
          is added to the amount awarded, which must stay within the cap;
        - ``closed``: from a bid (not funded) or a funded grant.
        """
        if to not in self.allowed_transitions():
            allowed = ", ".join(self.allowed_transitions()) or "none (closed is final)"
            raise ValidationError(
                {"to_status": f"a {self.status} grant cannot become {to}; allowed: {allowed}"})
        frm = self.status
        errors: dict[str, str] = {}
        if to == self.AWARDED:
            if amount_awarded is None:
                errors["amount_awarded"] = "enter the amount awarded"
            if start_date is None:
                errors["start_date"] = "enter the start date"
            if end_date is None:
                errors["end_date"] = "enter the end date"
            self.amount_awarded = amount_awarded
            self.start_date, self.end_date = start_date, end_date
        elif to == self.EXTENDED:
            if end_date is None:
                errors["end_date"] = "enter the new end date"
            elif self.end_date and end_date <= self.end_date:
                errors["end_date"] = (
                    f"the new end date must be after the current one ({self.end_date:%d %B %Y})")
            else:
                self.end_date = end_date
            if additional_amount:
                if additional_amount < 0:
                    errors["additional_amount"] = "the additional amount cannot be negative"
                else:
                    self.amount_awarded = (self.amount_awarded or Decimal(0)) + additional_amount
        if errors:
            raise ValidationError(errors)
        self.status = to
        try:
            self.full_clean()
        except ValidationError as e:
            if to == self.EXTENDED and "amount_awarded" in e.message_dict:
                raise ValidationError({"additional_amount": e.message_dict["amount_awarded"]}) from e
            raise
        with transaction.atomic():
            self.save()
            return self.record_status(frm, user, note=note)

    def record_status(self, from_status: str, user=None, *, note: str = "") -> GrantStatusChange:
        """Add the grant's present status to its history, as a change from ``from_status`` (empty: the
        grant's creation), with its end date and amount awarded as they are now."""
        return GrantStatusChange.objects.create(
            grant=self, from_status=from_status, to_status=self.status, changed_by=user, note=note,
            end_date=self.end_date, amount_awarded=self.amount_awarded,
        )


class GrantStatusChange(models.Model):
    """One change of a grant's status (or its creation: ``from_status`` empty). Kept for the record."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, choices=Grant.STATUS, blank=True)
    to_status = models.CharField(max_length=10, choices=Grant.STATUS)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    # The grant's end date and amount awarded after this change (an extension's new terms).
    end_date = models.DateField(null=True, blank=True)
    amount_awarded = models.DecimalField(**_MONEY, null=True, blank=True, validators=[_money_validator()])

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_awarded__isnull=True) | _bounded("amount_awarded", 0, MAX_MONEY),
                name="programme_change_amount_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grant}: {self.from_status or 'new'} -> {self.to_status}"


AGE_BANDS = [
    ("reached_under_10", "Under 10"),
    ("reached_10_13", "10 to 13"),
    ("reached_14_17", "14 to 17"),
    ("reached_18_24", "18 to 24"),
    ("reached_25_plus", "25 and over"),
]
AGE_BAND_FIELDS = [f for f, _ in AGE_BANDS]


INTERVENTION_KINDS = [
    ("mentoring", "Mentoring"),
    ("after_school", "After-school activity"),
    ("parent_support", "Parent support"),
    ("youth_work", "Youth work"),
    ("training", "Training"),
    ("sport", "Sport"),
    ("arts", "Arts"),
    ("other", "Other"),
]


class Intervention(models.Model):
    KINDS = INTERVENTION_KINDS
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=20, choices=KINDS)
    name = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
        help_text="Calendar year in which the sessions were delivered",
    )
    sessions_delivered = models.PositiveIntegerField(default=0, validators=_count_validators())
    reached_under_10 = models.PositiveIntegerField(
        "people reached: under 10", default=0, validators=_count_validators())
    reached_10_13 = models.PositiveIntegerField(
        "people reached: 10 to 13", default=0, validators=_count_validators())
    reached_14_17 = models.PositiveIntegerField(
        "people reached: 14 to 17", default=0, validators=_count_validators())
    reached_18_24 = models.PositiveIntegerField(
        "people reached: 18 to 24", default=0, validators=_count_validators())
    reached_25_plus = models.PositiveIntegerField(
        "people reached: 25 and over", default=0, validators=_count_validators())
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["grant", "year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "name", "year"], name="programme_intervention_unique"),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR, year__lte=LAST_YEAR), name="programme_intervention_year"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k for k, _ in INTERVENTION_KINDS]), name="programme_intervention_kind"
            ),
            models.CheckConstraint(
                condition=_bounded("sessions_delivered") & Q(*(_bounded(f) for f in AGE_BAND_FIELDS)),
                name="programme_intervention_counts_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"

    @property
    def people_reached(self) -> int:
        return sum(getattr(self, f) or 0 for f in AGE_BAND_FIELDS)

    def clean(self):
        super().clean()
        grant = getattr(self, "grant", None) if self.grant_id else None
        if grant is None:
            return
        if grant.status == Grant.BID:
            raise ValidationError(
                {"grant": f"{grant.reference} is a bid: record delivery once it is awarded"})
        if self.year and grant.start_date and grant.end_date:
            if not grant.start_date.year <= self.year <= grant.end_date.year:
                raise ValidationError({"year": (
                    f"{grant.reference} runs from {grant.start_date:%B %Y} to {grant.end_date:%B %Y}; "
                    f"{self.year} is outside it")})
