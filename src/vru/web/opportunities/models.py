"""Local Village Network data model: opportunities posted by verified providers, their
moderation history, and what young people do with them (favourites, registrations).

Lifecycle of an opportunity (``Opportunity.STATUS``): ``pending`` (posted, awaiting moderation) ->
``approved`` (a moderator accepted it) -> ``published`` (approved and inside its visible-from/to
window) -> ``expired`` (the window or the dates have passed) ->
``archived``; a moderator may also ``reject`` it, with a reason. Every change of status is a
``ModerationEvent`` (who, when, from, to, reason). Young people see only *live* items
(``lifecycle.live_q``: approved or published, inside the window, from a provider verified now).

Safeguarding (MISSION.md): no exchange of personal contact details between adults and young people.
A ``Registration`` holds only what the young person chose to share with the provider.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Lower

from vru.geography.boroughs import BOROUGHS

#: The most places one opportunity may offer (a stadium's worth): keeps every count and sum far inside
#: the databases' integers (migration 0007 holds the same bounds as CHECK constraints).
MAX_CAPACITY = 100_000
#: The most a price may be, in pounds (what ``max_digits=7, decimal_places=2`` holds).
MAX_PRICE = Decimal("99999.99")
#: The years of birth the platform may hold (sign-up itself takes 14 to 24 year-olds).
BIRTH_YEARS = (1900, 2100)

BOROUGH_CHOICES = sorted(BOROUGHS.items(), key=lambda kv: kv[1])


class Opportunity(models.Model):
    KINDS = [
        ("activity", "Activity"),
        ("event", "Event"),
        ("job", "Job"),
        ("apprenticeship", "Apprenticeship"),
        ("training", "Training"),
        ("volunteering", "Volunteering"),
        ("mentoring", "Mentoring"),
        ("youth_service", "Youth service"),
    ]
    STATUS = [
        ("pending", "Pending moderation"),
        ("approved", "Approved"),
        ("published", "Published"),
        ("rejected", "Rejected"),
        ("expired", "Expired"),
        ("archived", "Archived"),
    ]
    RECURRENCE = [
        ("one_off", "One-off"),
        ("daily", "Every day"),
        ("weekly", "Every week"),
    ]

    provider = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="opportunities"
    )
    kind = models.CharField(max_length=20, choices=KINDS)
    title = models.CharField(max_length=200)
    description = models.TextField()
    # A topic such as "football", "coding", "music" (free text, lower case): searchable, and mapped
    # to the Open Referral UK taxonomy with the kind.
    topic = models.CharField(max_length=60, blank=True, db_index=True)

    borough = models.CharField(max_length=9, choices=BOROUGH_CHOICES)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField(validators=[MinValueValidator(51.2), MaxValueValidator(51.75)])
    longitude = models.FloatField(validators=[MinValueValidator(-0.6), MaxValueValidator(0.35)])

    min_age = models.PositiveSmallIntegerField(validators=[MinValueValidator(10), MaxValueValidator(25)])
    max_age = models.PositiveSmallIntegerField(validators=[MinValueValidator(10), MaxValueValidator(25)])

    start_date = models.DateField()
    end_date = models.DateField()
    recurrence = models.CharField(max_length=10, choices=RECURRENCE, default="one_off")
    days_of_week = models.CharField(
        max_length=27, blank=True, help_text="For weekly sessions: comma-separated MO,TU,WE,TH,FR,SA,SU"
    )
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)

    is_free = models.BooleanField(default=True)
    price = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True,
                                help_text="In pounds; only when not free")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit",
        validators=[MinValueValidator(1), MaxValueValidator(
            MAX_CAPACITY, message=f"Enter at most {MAX_CAPACITY:,} places, or leave empty for no limit")])
    places_taken = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_CAPACITY)])

    accessibility = models.TextField(blank=True)
    eligibility = models.TextField(blank=True)
    how_to_apply = models.TextField()
    apply_url = models.URLField(blank=True)

    status = models.CharField(max_length=10, choices=STATUS, default="pending", db_index=True)
    visible_from = models.DateTimeField()
    visible_to = models.DateTimeField()

    # Where a record came from: "" when posted on the platform, else the Open Referral UK feed, with
    # the service id it had there (re-importing the same feed updates rather than duplicates).
    source = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True)

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # Title, topic and description lower-cased, computed and stored by the database (whoever writes
    # the row: the forms, the Open Referral UK import, bulk inserts): keyword search matches it with a
    # plain LIKE instead of upper-casing three columns of every row on every search.
    search_text = models.GeneratedField(
        expression=Lower(Concat("title", Value(" "), "topic", Value(" "), "description",
                                output_field=models.TextField())),
        output_field=models.TextField(), db_persist=True)

    class Meta:
        ordering = ["start_date", "id"]
        verbose_name_plural = "opportunities"
        permissions = [
            ("moderate_opportunity", "Can approve, reject and archive opportunities"),
            ("signpost", "Can build shortlists of opportunities for a young person"),
            ("verify_provider", "Can verify provider organisations"),
        ]
        indexes = [
            models.Index(fields=["status", "visible_from", "visible_to"]),
            models.Index(fields=["borough", "start_date"]),
            models.Index(fields=["latitude", "longitude"]),
            models.Index(fields=["start_date", "id"], name="opp_start_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(min_age__lte=models.F("max_age")), name="opp_age_range"),
            models.CheckConstraint(condition=Q(start_date__lte=models.F("end_date")), name="opp_dates"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(places_taken__lte=models.F("capacity")),
                name="opp_not_overbooked",
            ),
            models.CheckConstraint(
                condition=(Q(is_free=True) & Q(price__isnull=True)) | (Q(is_free=False) & Q(price__gt=0)),
                name="opp_cost",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1, capacity__lte=MAX_CAPACITY),
                name="opp_capacity_bounds",
            ),
            models.CheckConstraint(condition=Q(places_taken__gte=0, places_taken__lte=MAX_CAPACITY),
                                   name="opp_places_taken_bounds"),
            models.CheckConstraint(condition=Q(min_age__gte=10, max_age__lte=25), name="opp_age_bounds"),
            models.CheckConstraint(condition=Q(price__isnull=True) | Q(price__lte=MAX_PRICE),
                                   name="opp_price_bounds"),
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(source=""), name="opp_unique_external"
            ),
        ]

    def clean(self):
        """Capacity never below the places already booked (the database's ``opp_not_overbooked`` holds
        the same rule): a message next to the field wherever the record is edited, the admin included,
        instead of the constraint's error. The provider's page re-checks on the locked row (a booking
        between the check and the save); the admin, used rarely, relies on this check."""
        super().clean()
        if self.capacity is not None and self.places_taken and self.capacity < self.places_taken:
            raise ValidationError({"capacity": f"Capacity cannot be less than the {self.places_taken} "
                                               "places already booked"})

    def __str__(self) -> str:
        return self.title

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else self.capacity - self.places_taken


class ModerationEvent(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "opportunity"], name="fav_once")]


class Registration(models.Model):
    """A young person's place on an opportunity. Holds only what they chose to share with the provider."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="registrations")
    created = models.DateTimeField(auto_now_add=True)
    cancelled = models.DateTimeField(null=True, blank=True)
    # What the provider may see: a first name (or nickname) always; email only if the young person
    # ticked "share my email" (copied at registration, deleted with the registration).
    shared_name = models.CharField(max_length=60)
    shared_email = models.EmailField(blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="e.g. access needs, shown to the provider")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "opportunity"], condition=Q(cancelled__isnull=True),
                                    name="reg_once"),
        ]


class YoungPerson(models.Model):
    """A young person's account details beyond the email and password: what to call them and their year
    of birth (to check 14-24 and an opportunity's age range). Nothing else: no full name, no address,
    no date of birth (data minimisation)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="young_person")
    nickname = models.CharField(max_length=60, help_text="First name or nickname")
    birth_year = models.PositiveSmallIntegerField(validators=[MinValueValidator(BIRTH_YEARS[0]),
                                                              MaxValueValidator(BIRTH_YEARS[1])])
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__gte=BIRTH_YEARS[0], birth_year__lte=BIRTH_YEARS[1]),
                name="yp_birth_year_bounds"),
        ]

    def __str__(self) -> str:
        return self.nickname

    def ages(self, today) -> tuple[int, int]:
        """The ages the person may be on ``today`` (before and after their birthday this year)."""
        turns = today.year - self.birth_year
        return turns - 1, turns
