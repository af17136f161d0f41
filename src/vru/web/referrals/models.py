"""Records of Rescue and Response (docs/web-referrals.md).

The young person's identifying details (:class:`YoungPerson`: name, date of birth, contact) are kept apart
from the case facts (:class:`Referral` and the casework records), so that erasure at the end of retention
deletes them, blanks free text and coarsens every date to its month while every figure the reports count
(type, sector, borough, gender, referral month, decision, outcomes, days to first contact) stays
(``services.anonymise``). Every URL names a referral by its UUID; pages, titles, logs and the audit
log name it by its reference (``RR-`` and eight characters), never by the person.

Allocations, change records, break-glass openings and disclosures are append-only (:class:`AppendOnly`): the
ORM's ordinary paths (``save`` of an existing row or of a new instance given an existing primary key,
``delete``, ``QuerySet.update``/``delete``/``bulk_update``, ``bulk_create(update_conflicts=True)``, the base
manager) raise.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from vru.geography.boroughs import BOROUGHS
from vru.tagging.crimes import POLICE_FORCES

BOROUGH_CHOICES = sorted(BOROUGHS.items(), key=lambda kv: kv[1])
MIN_AGE, MAX_AGE = 10, 25
MAX_EPISODES = 1000
MAX_TEXT = 4000

SECTORS = [
    ("social_care", "Children's or adult social care"),
    ("youth_justice", "Youth justice"),
    ("police", "Police"),
    ("education", "School or college"),
    ("health", "Health"),
    ("voluntary", "Voluntary sector"),
    ("other", "Other"),
]
KINDS = [
    ("intervention", "Intervention (support from a provider)"),
    ("intelligence", "Intelligence (shared with the council)"),
]
GENDERS = [
    ("female", "Female"),
    ("male", "Male"),
    ("non_binary", "Non-binary"),
    ("not_known", "Not known or prefer not to say"),
]
DECISIONS = [("", "Not yet decided"), ("positive", "Positive"), ("negative", "Negative")]
CONSENT = [
    ("given", "The young person (or parent, for a young child) consented"),
    ("not_sought", "Not sought: seeking it would prejudice their protection"),
    ("refused", "Refused, and the referral goes ahead to protect them"),
]
LAWFUL_BASES = [
    (
        "public_task_safeguarding",
        "UK GDPR 6(1)(e) public task, with DPA 2018 Schedule 1 para 18 (safeguarding)",
    ),
    (
        "legitimate_interests_safeguarding",
        "UK GDPR 6(1)(f) legitimate interests, with DPA 2018 Schedule 1 para 18 (safeguarding)",
    ),
    ("consent", "UK GDPR 6(1)(a) and 9(2)(a) consent"),
    ("law_enforcement", "DPA 2018 Part 3 (a police referrer, law enforcement purposes)"),
]
STATUSES = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("accepted", "Accepted"),
    ("declined", "Declined"),
    ("closed", "Closed"),
]
DECLINE_REASONS = [
    ("", "Choose a reason"),
    ("not_eligible", "Does not meet the criteria"),
    ("statutory", "Better met by statutory services"),
    ("duplicate", "Duplicate of an open referral"),
    ("already_supported", "Already supported by another service"),
    ("no_consent", "Consent withdrawn and no safeguarding ground"),
    ("moved", "Moved out of London"),
    ("other", "Other (say why)"),
]
INDICATORS = [
    ("ind_county_lines", "Known or suspected involvement in county-lines activity"),
    (
        "ind_association",
        "Known or suspected association with others involved in county lines, or being "
        "coerced and controlled",
    ),
    (
        "ind_cse",
        "Known or suspected child sexual exploitation, sexual violence, coercion, control or "
        "victimisation in the context of county lines or gangs",
    ),
    ("ind_missing", "Missing episodes suspected to be linked to any of the above"),
]
NEEDS = [
    ("rescue", "Rescue from another county"),
    ("young_women", "Work with young women and girls"),
    ("relocation", "Relocation or housing"),
    ("family", "Support for parents and family"),
    ("any", "Any other need"),
]


class AppendOnlyImmutable(Exception):
    """Raised on any attempt to change or delete an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    """As ``accounts.AuditLogQuerySet``: no bulk update or delete."""

    def update(self, **kwargs):
        raise AppendOnlyImmutable(f"{self.model._meta.verbose_name} records cannot be updated")

    def delete(self):
        raise AppendOnlyImmutable(f"{self.model._meta.verbose_name} records cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyImmutable(f"{self.model._meta.verbose_name} records cannot be updated")

    def bulk_create(self, objs, *args, update_conflicts=False, **kwargs):
        if update_conflicts:  # an upsert would rewrite existing rows
            raise AppendOnlyImmutable(f"{self.model._meta.verbose_name} records cannot be updated")
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        base_manager_name = "objects"  # the guarded queryset on Django's internal paths too

    def save(self, *args, **kwargs):
        """Insert only: a loaded instance, or a new one given an existing row's primary key (which Django
        would turn into an UPDATE), is refused."""
        if not self._state.adding or (
            self.pk is not None and type(self)._base_manager.filter(pk=self.pk).exists()
        ):
            raise AppendOnlyImmutable(f"{self._meta.verbose_name} records cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyImmutable(f"{self._meta.verbose_name} records cannot be deleted")


def dates_in_order(start: str, end: str, name: str) -> models.CheckConstraint:
    """The database's check that the date ``end``, when there is one, is not before ``start``."""
    condition = Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": models.F(start)})
    return models.CheckConstraint(condition=condition, name=name)


def new_reference() -> str:
    return "RR-" + secrets.token_hex(4).upper()


def age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


# ------------------------------------------------------------------------------------ configuration
class Provider(models.Model):
    """A delivery partner (an organisation) and how many open cases it can hold."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="rr_provider"
    )
    capacity = models.PositiveIntegerField(
        validators=[MaxValueValidator(100_000)], help_text="Open cases it can hold at once"
    )
    active = models.BooleanField(default=True)
    triage_hub = models.BooleanField(
        "central triage hub",
        default=False,
        help_text="Its managers triage every new referral (accept, decline, allocate). The other providers' "
        "managers see only the cases allocated to them. At most one provider is the hub.",
    )

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__lte=100_000), name="rr_provider_capacity"),
            models.UniqueConstraint(fields=["triage_hub"], condition=Q(triage_hub=True), name="rr_one_hub"),
        ]

    def __str__(self) -> str:
        return self.organisation.name

    def open_cases(self) -> int:
        # an erased case (its retention ended while open) holds no place
        return Referral.objects.filter(
            status="accepted", current_provider=self, anonymised_at__isnull=True
        ).count()

    def has_room(self) -> bool:
        return self.open_cases() < self.capacity


class Council(models.Model):
    """A local authority organisation and its borough: intelligence referrals about young people of that
    borough are shared with its council users."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="rr_council"
    )
    borough = models.CharField(max_length=9, choices=BOROUGH_CHOICES, unique=True)

    class Meta:
        ordering = ["borough"]

    def __str__(self) -> str:
        return f"{self.organisation.name} ({self.get_borough_display()})"


class AllocationRule(models.Model):
    """A rule of the allocation table (editable in the admin): the first active rule, by priority, whose
    need the referral has (and whose gender matches, when one is set) names the suggested provider."""

    priority = models.PositiveSmallIntegerField(help_text="Lower numbers are tried first")
    need = models.CharField(max_length=20, choices=NEEDS)
    gender = models.CharField(max_length=12, choices=GENDERS, blank=True, help_text="Empty: any gender")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="rules")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        g = f", {self.get_gender_display().lower()}" if self.gender else ""
        return f"{self.priority}: {self.get_need_display()}{g} -> {self.provider}"


# ------------------------------------------------------------------------------------------ referral
class Referral(models.Model):
    """One referral and its case facts (no name, date of birth or contact: see :class:`YoungPerson`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    kind = models.CharField("referral type", max_length=12, choices=KINDS, default="intervention")
    status = models.CharField(max_length=10, choices=STATUSES, default="draft")
    referrer = models.ForeignKey(  # empty only after erasure (review 4, 2): the case no longer names them
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="rr_referrals"
    )
    referrer_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, on_delete=models.PROTECT, related_name="rr_referrals_made"
    )
    sector = models.CharField("referrer's sector", max_length=20, choices=SECTORS)
    referral_date = models.DateField(default=timezone.localdate)
    # the young person's case facts (kept after anonymisation)
    borough = models.CharField("borough where they live", max_length=9, choices=BOROUGH_CHOICES, blank=True)
    gender = models.CharField(max_length=12, choices=GENDERS, blank=True)
    age_at_referral = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    ind_county_lines = models.BooleanField(INDICATORS[0][1], default=False)
    ind_association = models.BooleanField(INDICATORS[1][1], default=False)
    ind_cse = models.BooleanField(INDICATORS[2][1], default=False)
    ind_missing = models.BooleanField(INDICATORS[3][1], default=False)
    missing_episodes = models.PositiveIntegerField(
        "missing episodes in the last 12 months", default=0, validators=[MaxValueValidator(MAX_EPISODES)]
    )
    need_rescue = models.BooleanField("needs a rescue from another county", default=False)
    need_relocation = models.BooleanField("needs relocation or housing", default=False)
    need_family = models.BooleanField("needs support for parents or family", default=False)
    nrm_referred = models.BooleanField("referred to the National Referral Mechanism", default=False)
    nrm_referred_on = models.DateField("date of the NRM referral", null=True, blank=True)
    rg_decision = models.CharField(
        "reasonable-grounds decision", max_length=10, choices=DECISIONS, blank=True
    )
    rg_decided_on = models.DateField("date of the reasonable-grounds decision", null=True, blank=True)
    cg_decision = models.CharField(
        "conclusive-grounds decision", max_length=10, choices=DECISIONS, blank=True
    )
    cg_decided_on = models.DateField("date of the conclusive-grounds decision", null=True, blank=True)
    consent = models.CharField(max_length=12, choices=CONSENT, blank=True)
    lawful_basis = models.CharField(max_length=40, choices=LAWFUL_BASES, blank=True)
    concerns = models.TextField("what worries you", max_length=MAX_TEXT, blank=True)
    # workflow
    created = models.DateTimeField(auto_now_add=True)
    saved_at = models.DateTimeField(
        "last saved by its referrer",
        null=True,
        blank=True,
        help_text="A draft is purged VRU_REFERRALS_DRAFT_DAYS after this (empty: after its creation)",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decline_reason = models.CharField(max_length=20, choices=DECLINE_REASONS, blank=True)
    decision_note = models.TextField(max_length=MAX_TEXT, blank=True)
    current_provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    shared_with = models.ForeignKey(
        Council, null=True, blank=True, on_delete=models.PROTECT, related_name="intelligence"
    )
    # who may see it
    restricted = models.BooleanField(
        default=False, help_text="Only the named staff may open it without giving a reason (break-glass)"
    )
    allowed_staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    barred_staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    anonymised_at = models.DateTimeField(null=True, blank=True)
    days_to_first_contact = models.IntegerField(
        null=True,
        blank=True,
        help_text="Set at erasure (the contacts' dates are coarsened then): days from the referral to the "
        "first attended contact, the one figure the reports take from exact dates; empty: none",
    )

    class Meta:
        ordering = ["-referral_date", "reference"]
        permissions = [
            ("view_case", "View and record the casework of their organisation's cases"),
            ("triage_referral", "Accept, decline and allocate referrals; see break-glass openings"),
            ("view_intelligence", "View the intelligence shared with their council (redacted)"),
            ("view_reports", "View the service's figures (small numbers suppressed)"),
            ("export_subject", "Export everything about a young person (subject access)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(missing_episodes__lte=MAX_EPISODES), name="rr_referral_missing"
            ),
            models.CheckConstraint(
                condition=Q(age_at_referral__isnull=True) | Q(age_at_referral__lte=120),
                name="rr_referral_age",
            ),
        ]
        indexes = [models.Index(fields=["status", "current_provider"])]

    def __str__(self) -> str:
        return self.reference

    def indicators(self) -> list[str]:
        return [label for f, label in INDICATORS if getattr(self, f)]

    def needs(self) -> list[str]:
        out = [
            n
            for n, f in (
                ("rescue", "need_rescue"),
                ("relocation", "need_relocation"),
                ("family", "need_family"),
            )
            if getattr(self, f)
        ]
        if self.gender == "female" or self.ind_cse:
            out.append("young_women")
        return [*out, "any"]

    def first_contact_days(self) -> int | None:
        """Days from the referral to the first attended contact (None: none yet); after erasure, the figure
        kept then (``days_to_first_contact``). Reads ``self.contacts.all()``, so a prefetch serves it."""
        if self.anonymised_at is not None:
            return self.days_to_first_contact
        firsts = [c.when for c in self.contacts.all() if c.attendance in ("attended", "late")]
        return (min(firsts).date() - self.referral_date).days if firsts else None

    def first_contact(self):
        c = self.contacts.filter(attendance__in=["attended", "late"]).order_by("when").first()
        return c.when if c else None


class YoungPerson(models.Model):
    """The identifying details of the young person of one referral; deleted at erasure."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="person")
    name = models.CharField("full name", max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    contact = models.CharField(
        "contact details (only if the provider needs them to reach them)", max_length=300, blank=True
    )

    def __str__(self) -> str:
        return f"person of {self.referral_id}"


class Allocation(AppendOnly):
    """One allocation of a referral to a provider (append-only; the latest is the current one)."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="allocations")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="allocations")
    allocated_at = models.DateTimeField(default=timezone.now)
    allocated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(  # PROTECT: the row is append-only; a rule is switched off with ``active``
        AllocationRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(max_length=MAX_TEXT, blank=True, help_text="Required for a reassignment")

    class Meta(AppendOnly.Meta):
        ordering = ["referral", "allocated_at", "pk"]
        # the holder of a case at a time (services.openings_of_organisation: a subquery per opening)
        indexes = [models.Index(fields=["referral", "allocated_at"], name="referrals_alloc_referral_at")]


class ChangeRecord(AppendOnly):
    """A change made after submission: the field, old and new value, the reason, who and when."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="changes")
    record = models.CharField(max_length=40)  # referral, person, ...
    field = models.CharField(max_length=40)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(max_length=MAX_TEXT)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta(AppendOnly.Meta):
        ordering = ["referral", "changed_at", "pk"]


class BreakGlass(AppendOnly):
    """An opening of a restricted record by someone outside its named staff, with their reason."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=MAX_TEXT)
    at = models.DateTimeField(default=timezone.now)

    class Meta(AppendOnly.Meta):
        ordering = ["-at", "-pk"]
        verbose_name_plural = "break-glass openings"


class Disclosure(AppendOnly):
    """Intelligence shown to a council user: the recipient, their council, when."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="disclosures")
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta(AppendOnly.Meta):
        ordering = ["-at", "-pk"]


class SubjectAccessRequest(models.Model):
    """A data-protection officer's search for everything held about one person (``referrals_subject_access``):
    who ran it, why, when and which referrals it exported. The reason is kept here, not in the audit log
    (whose rows name this request by id), and is blanked when those referrals are erased."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=MAX_TEXT)
    at = models.DateTimeField(default=timezone.now)
    referrals = models.ManyToManyField(Referral, blank=True, related_name="subject_access_requests")

    class Meta:
        ordering = ["-at", "-pk"]


class PublishedFigures(AppendOnly):
    """The service's figures for one completed financial year, as first published (``reports.release``):
    frozen, so that comparing two reports never shows a single new referral or outcome (review 15, 7)."""

    period = models.CharField(max_length=7, unique=True, help_text="The financial year, e.g. 2020-21")
    made_at = models.DateTimeField(default=timezone.now)
    figures = models.JSONField()

    class Meta(AppendOnly.Meta):
        ordering = ["-period"]
        verbose_name_plural = "published figures"


# ----------------------------------------------------------------------------------------- casework
class Contact(models.Model):
    ATTENDANCE = [("attended", "Attended"), ("late", "Attended late"), ("dna", "Did not attend")]
    KINDS = [
        ("session", "Session"),
        ("visit", "Home or community visit"),
        ("phone", "Phone or video call"),
        ("rescue", "Rescue"),
        ("other", "Other"),
    ]
    DNA_REASONS = [
        ("", "Not applicable"),
        ("yp_acceptable", "The young person's reason was acceptable"),
        ("yp_unacceptable", "The young person's reason was not acceptable"),
        ("logistics", "Logistics (transport, venue, staff)"),
        ("unknown", "Not known"),
    ]
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="contacts")
    when = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=KINDS, default="session")
    attendance = models.CharField(max_length=10, choices=ATTENDANCE)
    dna_reason = models.CharField("reason for not attending", max_length=16, choices=DNA_REASONS, blank=True)
    note = models.TextField(max_length=MAX_TEXT, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["referral", "when", "pk"]


class Need(models.Model):
    CATEGORIES = [
        ("exit", "Exit from county lines"),
        ("safety", "Safety and risk"),
        ("eet", "Education, training or work"),
        ("housing", "Housing"),
        ("family", "Family relationships"),
        ("health", "Health and wellbeing"),
        ("missing", "Missing episodes"),
        ("other", "Other"),
    ]
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="need_records")
    category = models.CharField(max_length=10, choices=CATEGORIES)
    desired_outcome = models.CharField(max_length=300)

    class Meta:
        ordering = ["referral", "pk"]


class RiskNote(models.Model):
    LEVELS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="risk_notes")
    level = models.CharField(max_length=6, choices=LEVELS)
    text = models.TextField(max_length=MAX_TEXT)
    review_on = models.DateField("review by")
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField("what the review found", max_length=MAX_TEXT, blank=True)
    follow_up = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_from",
        help_text="The note that carries a risk that remains to its next review",
    )

    class Meta:
        ordering = ["review_on", "pk"]

    def due(self, day: date | None = None) -> bool:
        return self.reviewed_at is None and self.review_on <= (day or timezone.localdate())


class Rescue(models.Model):
    FORCES = [(f.identifier, f.label) for f in POLICE_FORCES]
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rescues")
    county = models.CharField("county where they were found", max_length=100)
    police_force = models.CharField(max_length=40, choices=FORCES)
    rescued_on = models.DateField()
    returned_on = models.DateField("date back in London", null=True, blank=True)
    note = models.TextField(max_length=MAX_TEXT, blank=True)

    class Meta:
        ordering = ["referral", "rescued_on", "pk"]
        constraints = [dates_in_order("rescued_on", "returned_on", "rr_rescue_dates")]


class MissingEpisode(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="missing_records")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    reported_to_police = models.BooleanField(default=True)

    class Meta:
        ordering = ["referral", "started_on", "pk"]
        constraints = [dates_in_order("started_on", "ended_on", "rr_missing_dates")]


class Closure(models.Model):
    REASONS = [
        ("completed", "Support completed"),
        ("disengaged", "Disengaged"),
        ("moved", "Moved out of London"),
        ("statutory", "Passed to statutory services"),
        ("custody", "Entered custody"),
        ("other", "Other"),
    ]
    INVOLVEMENT = [
        ("ceased", "Ceased"),
        ("reduced", "Reduced"),
        ("no_change", "No change"),
        ("increased", "Increased"),
        ("unknown", "Not known"),
    ]
    YES_NO_NA = [("yes", "Yes"), ("no", "No"), ("na", "Not applicable")]
    NRM = [
        ("none", "No NRM referral"),
        ("pending", "Awaiting a decision"),
        ("positive_cg", "Positive conclusive grounds"),
        ("negative", "Negative decision"),
    ]
    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="closure")
    closed_on = models.DateField()
    reason = models.CharField(max_length=12, choices=REASONS)
    engaged = models.BooleanField("the young person engaged with the service")
    involvement = models.CharField("involvement in county lines", max_length=10, choices=INVOLVEMENT)
    in_eet = models.CharField("in education, training or work at closure", max_length=3, choices=YES_NO_NA)
    fewer_missing = models.CharField("fewer missing episodes", max_length=3, choices=YES_NO_NA)
    nrm_outcome = models.CharField("NRM outcome", max_length=12, choices=NRM)
    note = models.TextField(max_length=MAX_TEXT, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")


class NeedOutcome(models.Model):
    ACHIEVEMENT = [("achieved", "Achieved"), ("partly", "Partly achieved"), ("not", "Not achieved")]
    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="outcomes")
    need = models.OneToOneField(Need, on_delete=models.PROTECT, related_name="outcome")
    achievement = models.CharField(max_length=10, choices=ACHIEVEMENT)
    comment = models.TextField(max_length=MAX_TEXT, blank=True)
