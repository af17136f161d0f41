"""Records of the tagging app (docs/web-tagging.md). Positions are NOT here: they live in the Parquet
store of ``vru.tagging.store`` (``settings.VRU_TAGGING_STORE``); the database holds who wore which device
when, the orders and zones, the crimes and their versions, matching runs and their results, breaches.

Every number is bounded (validators for forms and the admin, and a CHECK constraint in the database),
as the programme register's are: nothing a form, import or batch can send may overflow a sum or break a
page.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from vru.tagging import crimes as tcrimes
from vru.tagging.positions import MAX_PRECISION_M, MAX_SPEED_KMH  # one bound for the importer and the table

# Bounds (British National Grid extent, WGS 84, and generous physical limits).
MAX_EASTING, MAX_NORTHING = 700_000.0, 1_300_000.0
MAX_DWELL_S = 1_000_000.0  # ~11.6 days, far beyond a 12-hour crime window plus tolerance
MAX_COUNT = 1_000_000
MAX_VERSION = 10_000
MAX_RADIUS_M = 5_000.0
#: a matched fix lies within R + precision of the crime (vru.tagging.matching), and the importer allows a
#: precision up to MAX_PRECISION_M: the distance bound is that plus the largest radius (review 4), so an
#: LBS fix with a 100 km circle matched at the edge of it is stored, not a failed run
MAX_DISTANCE_M = MAX_PRECISION_M + MAX_RADIUS_M

ORDER_TYPES = [
    ("knife_licence", "Knife crime, on licence"),
    ("da_licence", "Domestic abuse, on licence"),
    ("stalking", "Stalking"),
    ("acquisitive", "Acquisitive crime"),
]
FORCE_CHOICES = [(f.identifier, f.label) for f in tcrimes.POLICE_FORCES]


def _rng(field: str, low, high) -> Q:
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


def _rng_or_null(field: str, low, high) -> Q:
    return Q(**{f"{field}__isnull": True}) | _rng(field, low, high)


def _between(low, high):
    return [MinValueValidator(low), MaxValueValidator(high)]


class Wearer(models.Model):
    """A person wearing a tag, by a pseudonymous reference; identifying details are in WearerIdentity."""

    ref = models.CharField("reference", max_length=40, unique=True)
    order_type = models.CharField(max_length=20, choices=ORDER_TYPES)
    order_start = models.DateField()
    order_end = models.DateField(null=True, blank=True)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="tag_wearers",
                                     help_text="the responsible probation region or police force")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ref"]
        permissions = [
            ("view_identity", "View the identifying details of a tag wearer"),
            ("view_trail", "Search a tag wearer's positions (with a justification)"),
            ("manage_breach", "Record the steps of a breach's lifecycle"),
            ("view_figures", "View the tagging programme figures"),
        ]
        constraints = [models.CheckConstraint(
            condition=Q(order_end__isnull=True) | Q(order_end__gte=models.F("order_start")),
            name="tagging_wearer_order_dates")]

    def __str__(self) -> str:
        return self.ref


class WearerIdentity(models.Model):
    """Identifying details, kept apart from the trail data; shown only with ``tagging.view_identity``."""

    wearer = models.OneToOneField(Wearer, on_delete=models.CASCADE, related_name="identity")
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    pnc_id = models.CharField("PNC id", max_length=20, blank=True)
    address = models.TextField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"identity of {self.wearer_id}"


class DeviceActivation(models.Model):
    """Which wearer wore which device when: half-open [active_from, active_to)."""

    wearer = models.ForeignKey(Wearer, on_delete=models.CASCADE, related_name="activations")
    device_id = models.CharField(max_length=40)
    active_from = models.DateTimeField()
    active_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wearer", "active_from"]
        constraints = [models.CheckConstraint(
            condition=Q(active_to__isnull=True) | Q(active_to__gt=models.F("active_from")),
            name="tagging_activation_dates")]

    def __str__(self) -> str:
        return f"{self.device_id} ({self.wearer_id})"

    def overlapping(self):
        """The other activations of this device whose period overlaps this one's: a device is worn by one
        wearer at a time, or one fix would be attributed to two wearers (and one's trail shown as the
        other's)."""
        qs = DeviceActivation.objects.filter(device_id=self.device_id).exclude(pk=self.pk)
        qs = qs.filter(Q(active_to__isnull=True) | Q(active_to__gt=self.active_from))
        if self.active_to is not None:
            qs = qs.filter(active_from__lt=self.active_to)
        return qs.select_related("wearer")

    def clean(self):
        super().clean()
        if not self.device_id or self.active_from is None:
            return
        other = self.overlapping().first()
        if other is not None:
            from django.core.exceptions import ValidationError

            until = other.active_to.isoformat() if other.active_to else "still active"
            msg = (f"Device {self.device_id} is worn by {other.wearer.ref} from "
                   f"{other.active_from.isoformat()} to {until}: a device's activations must not overlap")
            raise ValidationError({"active_from": msg})


class Zone(models.Model):
    """An exclusion or inclusion zone (a polygon), or a curfew (a circle round an address), with a
    schedule: an iCalendar RRULE, a local (Europe/London) start and a duration. No rule: always active."""

    KINDS = [("exclusion", "Exclusion zone"), ("inclusion", "Inclusion zone"), ("curfew", "Curfew")]
    wearer = models.ForeignKey(Wearer, on_delete=models.CASCADE, related_name="zones")
    kind = models.CharField(max_length=10, choices=KINDS)
    name = models.CharField(max_length=200)
    geometry = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry in BNG (EPSG:27700)")
    rrule = models.CharField("schedule rule (RRULE)", max_length=300, blank=True)
    local_start = models.DateTimeField("first occurrence (local London time)", null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True, validators=_between(1, 10_080))
    curfew_easting = models.FloatField(null=True, blank=True, validators=_between(0, MAX_EASTING))
    curfew_northing = models.FloatField(null=True, blank=True, validators=_between(0, MAX_NORTHING))
    curfew_radius_m = models.FloatField(null=True, blank=True, validators=_between(1, MAX_RADIUS_M))

    class Meta:
        ordering = ["wearer", "name"]
        constraints = [
            models.CheckConstraint(condition=_rng_or_null("duration_minutes", 1, 10_080),
                                   name="tagging_zone_duration"),
            models.CheckConstraint(condition=_rng_or_null("curfew_easting", 0, MAX_EASTING),
                                   name="tagging_zone_curfew_e"),
            models.CheckConstraint(condition=_rng_or_null("curfew_northing", 0, MAX_NORTHING),
                                   name="tagging_zone_curfew_n"),
            models.CheckConstraint(condition=_rng_or_null("curfew_radius_m", 1, MAX_RADIUS_M),
                                   name="tagging_zone_curfew_r"),
        ]

    def __str__(self) -> str:
        return self.name


class ForceOrganisation(models.Model):
    """Which organisation is which police force (the force of its analysts' crime batches and matches)."""

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE,
                                        related_name="police_force")
    force = models.CharField(max_length=40, choices=FORCE_CHOICES, unique=True)

    def __str__(self) -> str:
        return f"{self.organisation} = {self.force}"


class CrimeBatch(models.Model):
    """One uploaded batch file and its outcome (SUCCESSFUL, PARTIAL, FAILED)."""

    OUTCOMES = [(o.value, o.value) for o in tcrimes.Outcome]
    file_name = models.CharField(max_length=255)
    force = models.CharField(max_length=40, blank=True)
    batch_id = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=12, choices=OUTCOMES)
    record_count = models.PositiveIntegerField(default=0, validators=_between(0, MAX_COUNT))
    file_errors = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [models.CheckConstraint(condition=_rng("record_count", 0, MAX_COUNT),
                                              name="tagging_batch_count")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.outcome})"


class BatchError(models.Model):
    """One error of one row of a batch, with the MoJ's code and the required action."""

    batch = models.ForeignKey(CrimeBatch, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField(validators=_between(0, MAX_COUNT))
    line = models.PositiveIntegerField(validators=_between(0, MAX_COUNT))
    crime_ref = models.CharField(max_length=255, blank=True)
    field = models.CharField(max_length=40, blank=True)
    value = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=60)
    message = models.CharField(max_length=255)
    action = models.CharField(max_length=500)

    class Meta:
        ordering = ["batch", "row", "pk"]
        constraints = [models.CheckConstraint(
            condition=_rng("row", 0, MAX_COUNT) & _rng("line", 0, MAX_COUNT), name="tagging_batcherror_row")]


class Crime(models.Model):
    force = models.CharField(max_length=40, choices=FORCE_CHOICES)
    crime_ref = models.CharField(max_length=255)

    class Meta:
        ordering = ["force", "crime_ref"]
        constraints = [models.UniqueConstraint(fields=["force", "crime_ref"], name="tagging_crime_unique")]

    def __str__(self) -> str:
        return self.crime_ref

    def latest(self):
        return self.versions.order_by("-version").first()


class CrimeVersion(models.Model):
    """One submission of a crime (vru.tagging.crimes.new_versions): every resubmission is a new version,
    recording which fields changed; matching results attach to a version."""

    crime = models.ForeignKey(Crime, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(validators=_between(1, MAX_VERSION))
    version_id = models.CharField(max_length=320, unique=True)  # <force>:<crime ref>:v<n>
    batch = models.ForeignKey(CrimeBatch, on_delete=models.PROTECT, related_name="versions")
    row = models.PositiveIntegerField(default=0, validators=_between(0, MAX_COUNT))
    kind = models.CharField(max_length=10)  # new | amended | unchanged
    crime_type = models.CharField(max_length=20)
    time_from = models.DateTimeField()
    time_to = models.DateTimeField()
    easting = models.FloatField(validators=_between(0, MAX_EASTING))
    northing = models.FloatField(validators=_between(0, MAX_NORTHING))
    latitude = models.FloatField(null=True, blank=True, validators=_between(-90, 90))
    longitude = models.FloatField(null=True, blank=True, validators=_between(-180, 180))
    submitted_easting = models.FloatField(null=True, blank=True)
    submitted_northing = models.FloatField(null=True, blank=True)
    datum = models.CharField(max_length=40, blank=True)
    text = models.TextField(max_length=2000, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["crime", "version"]
        constraints = [
            models.UniqueConstraint(fields=["crime", "version"], name="tagging_crimeversion_unique"),
            models.CheckConstraint(condition=_rng("version", 1, MAX_VERSION), name="tagging_cv_version"),
            models.CheckConstraint(
                condition=_rng("easting", 0, MAX_EASTING) & _rng("northing", 0, MAX_NORTHING),
                name="tagging_cv_bng"),
            models.CheckConstraint(condition=Q(time_to__gte=models.F("time_from")), name="tagging_cv_window"),
        ]

    def __str__(self) -> str:
        return self.version_id


class MatchRun(models.Model):
    """A matching run. An AUTO run of an uploaded batch is QUEUED by the upload and taken by one worker
    (``tagging_match --pending``), which moves it to RUNNING in one conditional UPDATE (so two workers
    never run it twice), then SUCCESS or FAILURE with its error. While RUNNING, the process running it writes
    the time in ``heartbeat`` every minute; a run whose heartbeat stops is marked FAILURE
    (``services.fail_stale_runs``)."""

    TRIGGERS = [("AUTO", "Automatic (on a batch)"), ("MANUAL", "Manual")]
    STATUSES = [("QUEUED", "Queued"), ("RUNNING", "Running"), ("SUCCESS", "Success"), ("FAILURE", "Failure")]
    algorithm_version = models.CharField(max_length=40)
    parameters = models.JSONField(default=dict)
    trigger = models.CharField(max_length=6, choices=TRIGGERS)
    queued_at = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True, help_text="empty while the run is queued")
    ended = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(
        null=True, blank=True,
        help_text="written every minute by the process running it; a RUNNING run silent for long is failed")
    status = models.CharField(max_length=8, choices=STATUSES, default="RUNNING")
    error = models.TextField(blank=True)
    batch = models.ForeignKey(CrimeBatch, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="runs")
    crime_versions = models.ManyToManyField(CrimeVersion, related_name="runs", blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "queued_at"], name="tagging_run_status_queued")]


class Match(models.Model):
    """A wearer near a crime version during its window (vru.tagging.matching), to be reviewed."""

    STATUSES = [("pending", "Pending review"), ("qualified", "Qualified"), ("dismissed", "Dismissed")]
    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="matches")
    crime_version = models.ForeignKey(CrimeVersion, on_delete=models.PROTECT, related_name="matches")
    wearer = models.ForeignKey(Wearer, on_delete=models.PROTECT, related_name="matches")
    device_id = models.CharField(max_length=40)
    probability = models.FloatField(validators=_between(0, 1))
    dwell_s = models.FloatField(validators=_between(0, MAX_DWELL_S))
    min_distance_m = models.FloatField(validators=_between(0, MAX_DISTANCE_M))
    n_fixes = models.PositiveIntegerField(validators=_between(0, MAX_COUNT))
    first_time = models.DateTimeField()
    last_time = models.DateTimeField()
    explanation = models.TextField(max_length=4000)
    status = models.CharField(max_length=10, choices=STATUSES, default="pending")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "crime_version", "wearer"], name="tagging_match_unique"),
            models.CheckConstraint(
                condition=_rng("probability", 0, 1) & _rng("dwell_s", 0, MAX_DWELL_S)
                & _rng("min_distance_m", 0, MAX_DISTANCE_M) & _rng("n_fixes", 0, MAX_COUNT),
                name="tagging_match_bounds"),
        ]

    def __str__(self) -> str:
        return f"{self.crime_version} / {self.wearer}"


class MatchPoint(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="points")
    label = models.CharField(max_length=12)  # A1, A2, B1...
    fix_time = models.DateTimeField()
    easting = models.FloatField(validators=_between(0, MAX_EASTING))
    northing = models.FloatField(validators=_between(0, MAX_NORTHING))
    lat = models.FloatField(validators=_between(-90, 90))
    lon = models.FloatField(validators=_between(-180, 180))
    precision_m = models.FloatField(validators=_between(0, MAX_PRECISION_M))
    speed_kmh = models.FloatField(null=True, blank=True, validators=_between(0, MAX_SPEED_KMH))
    heading_deg = models.FloatField(null=True, blank=True, validators=_between(0, 360))
    mechanism = models.CharField(max_length=8)
    distance_m = models.FloatField(validators=_between(0, MAX_DISTANCE_M))
    interpolated = models.BooleanField(default=False)

    class Meta:
        ordering = ["match", "fix_time", "pk"]
        constraints = [models.CheckConstraint(
            condition=_rng("easting", 0, MAX_EASTING) & _rng("northing", 0, MAX_NORTHING)
            & _rng("precision_m", 0, MAX_PRECISION_M) & _rng("distance_m", 0, MAX_DISTANCE_M)
            & _rng_or_null("speed_kmh", 0, MAX_SPEED_KMH) & _rng_or_null("heading_deg", 0, 360),
            name="tagging_point_bounds")]


class Breach(models.Model):
    """A breach of a zone (vru.tagging.zones.detect_breaches) and its lifecycle."""

    OUTCOMES = [("warning", "Warning"), ("recall", "Recall"), ("no_action", "No action")]
    #: the lifecycle, in order: (field, label)
    STEPS = [("identified_at", "Identified"), ("police_notified_at", "Police notified"),
             ("response_at", "Response"), ("outcome_at", "Outcome")]
    wearer = models.ForeignKey(Wearer, on_delete=models.PROTECT, related_name="breaches")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="breaches")
    started_at = models.DateTimeField()
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=40, blank=True)
    n_fixes = models.PositiveIntegerField(default=0, validators=_between(0, MAX_COUNT))
    proof_fixes = models.JSONField(default=list, blank=True)
    alert_at = models.DateTimeField()
    identified_at = models.DateTimeField(null=True, blank=True)
    police_notified_at = models.DateTimeField(null=True, blank=True)
    response_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=OUTCOMES, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "opened_at"], name="tagging_breach_unique"),
            models.CheckConstraint(condition=_rng("n_fixes", 0, MAX_COUNT), name="tagging_breach_count"),
        ]

    def next_step(self) -> str | None:
        for f, _ in self.STEPS:
            if getattr(self, f) is None:
                return f
        return None


MAX_FIXES = 10**12  # far beyond a billion fixes a year
MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"


class PositionImport(models.Model):
    """One supplier feed added to the positions store: what it held and what was stored. Written in one
    transaction with its :class:`PositionReceipt` counts, from the receipt the store committed with the
    fixes (``services.import_positions``), so the programme figures count what was received, and a
    retention purge of the store does not change them."""

    file_name = models.CharField(max_length=255)
    imported_at = models.DateTimeField(auto_now_add=True)
    rows = models.BigIntegerField(validators=_between(0, MAX_FIXES))
    added = models.BigIntegerField(validators=_between(0, MAX_FIXES))
    duplicates = models.BigIntegerField(validators=_between(0, MAX_FIXES))
    #: the positions store transaction that added the fixes (its receipt's key): recorded once
    store_tx = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        constraints = [models.CheckConstraint(
            condition=_rng("rows", 0, MAX_FIXES) & _rng("added", 0, MAX_FIXES)
            & _rng("duplicates", 0, MAX_FIXES),
            name="tagging_import_counts")]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.added} fixes added"


class PositionReceipt(models.Model):
    """Fixes added by one import, per order type of the wearer and month of the fix (UTC): an aggregate
    only, no device or wearer."""

    position_import = models.ForeignKey(PositionImport, on_delete=models.PROTECT, related_name="receipts")
    order_type = models.CharField(max_length=20, choices=ORDER_TYPES)
    month = models.CharField(max_length=7, help_text="YYYY-MM of the fix time (UTC)",
                             validators=[RegexValidator(MONTH_RE, "Give a month as YYYY-MM")])
    n = models.BigIntegerField(validators=_between(1, MAX_FIXES))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["position_import", "order_type", "month"],
                                    name="tagging_receipt_unique"),
            models.CheckConstraint(condition=_rng("n", 1, MAX_FIXES), name="tagging_receipt_n"),
        ]
