"""The survey's tables (docs/web-survey.md). Anonymous by construction:

- :class:`Response` and :class:`Answer` rows have random UUID4 keys, no timestamp (the ISO week of
  completion is the finest time kept) and are ordered by that random key, so neither their ids nor their
  order say which came first;
- :class:`Invitation` holds only a keyed hash of each code and whether it is used; no table points from a
  response to an invitation or back;
- a respondent's partial answers (a *draft*) are not in the database at all: they are encrypted files of
  :mod:`vru.web.survey.drafts`, so no chain of row versions joins a burnt code to a response, and
  responses are written in batches of at least ``VRU_SURVEY_BATCH`` (:mod:`vru.web.survey.pool`), so the
  order of transaction ids narrows a code only to a batch, until the nightly shuffle.

Questionnaire versions are data (:mod:`vru.web.survey.questionnaire`): a live or retired version is never
changed (``save``, the queryset's ``update`` and the admin all refuse); a change is a new version.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from .questionnaire import Questionnaire


class VersionLocked(Exception):
    """Raised on any attempt to change a live or retired questionnaire version."""


class VersionQuerySet(models.QuerySet):
    """A version goes live only through :meth:`QuestionnaireVersion.publish` (which checks every string):
    ``update`` and ``bulk_create`` refuse to set any status but draft, and refuse to touch a version that is
    not a draft."""

    def update(self, **kwargs):
        if kwargs.get("status", QuestionnaireVersion.DRAFT) != QuestionnaireVersion.DRAFT:
            raise VersionLocked("a version goes live only through publish(), which checks its strings")
        if self.exclude(status=QuestionnaireVersion.DRAFT).exists():
            raise VersionLocked("a live or retired questionnaire version cannot be changed")
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(status=QuestionnaireVersion.DRAFT).exists():
            raise VersionLocked("a live or retired questionnaire version is never deleted")
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if any(obj.status != QuestionnaireVersion.DRAFT for obj in objs):
            raise VersionLocked("a version is created as a draft; it goes live only through publish()")
        return super().bulk_create(objs, *args, **kwargs)


class QuestionnaireVersion(models.Model):
    DRAFT, LIVE, RETIRED = "draft", "live", "retired"
    STATUSES = [(DRAFT, "Draft"), (LIVE, "Live"), (RETIRED, "Retired")]

    slug = models.SlugField(max_length=64)
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=STATUSES, default=DRAFT)
    definition = models.JSONField(help_text="The whole questionnaire: groups, options and every string.")

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["slug", "number"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "number"], name="survey_version_unique"),
            models.UniqueConstraint(fields=["slug"], condition=models.Q(status="live"),
                                    name="survey_one_live_version"),
        ]
        permissions = [
            ("issue_invitations", "Can issue batches of survey invitation codes"),
            ("view_results", "Can view the survey's published results"),
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.number} ({self.status})"

    @property
    def questionnaire(self) -> Questionnaire:
        return Questionnaire(self.definition)

    def save(self, *args, **kwargs):
        stored = None
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values("slug", "number", "status",
                                                                  "definition").first()
        if (stored is None or stored["status"] == self.DRAFT) and self.status != self.DRAFT:
            raise VersionLocked(f"{self}: a version goes live only through publish(), which checks that "
                                "every offered language has every string")
        if stored is not None:
            if stored["status"] != self.DRAFT:
                same = (stored["slug"], stored["number"], stored["definition"]) == (
                    self.slug, self.number, self.definition)
                retiring = stored["status"] == self.LIVE and self.status == self.RETIRED
                if not (same and (retiring or stored["status"] == self.status)):
                    raise VersionLocked(f"{self}: a {stored['status']} version is never edited; "
                                        "make a new version instead")
                if stored["status"] == self.status:
                    return  # nothing changed
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != self.DRAFT:
            raise VersionLocked(f"{self}: a {self.status} version is never deleted")
        return super().delete(*args, **kwargs)

    def publish(self) -> None:
        """Make this draft the live version of its questionnaire (the live one before it is retired).

        Refused (``ValidationError``) while any offered language lacks a string."""
        if self.status != self.DRAFT:
            raise ValidationError(f"{self} is not a draft")
        missing = self.questionnaire.missing_strings()
        if missing:
            detail = "; ".join(f"{lang}: {len(ids)} missing ({', '.join(ids[:5])}"
                               f"{', ...' if len(ids) > 5 else ''})" for lang, ids in sorted(missing.items()))
            raise ValidationError(f"{self} cannot be published: strings are missing in {detail}")
        with transaction.atomic():
            for old in type(self).objects.filter(slug=self.slug, status=self.LIVE).exclude(pk=self.pk):
                old.status = self.RETIRED
                old.save()
            self.status = self.LIVE
            super().save(update_fields=["status"])


class Response(models.Model):
    """One completed questionnaire. No timestamp, no sequential key, no link to an invitation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="responses")
    language = models.CharField(max_length=8)
    iso_year = models.PositiveSmallIntegerField()
    iso_week = models.PositiveSmallIntegerField()
    verified = models.BooleanField(help_text="Completed with an invitation code (the code is not kept here).")

    class Meta:
        ordering = ["id"]  # random: says nothing about the order of completion
        indexes = [models.Index(fields=["iso_year", "iso_week"])]


class Answer(models.Model):
    """One answer: the code of the option chosen, or the free text (never published)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="+")
    question = models.CharField(max_length=64)
    value = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once")]


class InvitationBatch(models.Model):
    """A batch of codes issued by a member of staff (who and on which day: staff-side, audited)."""

    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_on = models.DateField(auto_now_add=True)
    size = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]


class Invitation(models.Model):
    """A single-use code, kept only as a keyed hash (``codes.code_hash``). No response points here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(InvitationBatch, on_delete=models.PROTECT, related_name="invitations")
    code_hash = models.CharField(max_length=64, unique=True)
    used = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]


class ReleaseQuerySet(models.QuerySet):
    """Published releases are never changed or deleted, and are made one at a time through ``save`` (which
    checks them): the queryset's ``update``, ``delete`` and ``bulk_create`` refuse."""

    def update(self, **kwargs):
        raise VersionLocked("a published release is never changed")

    def delete(self):
        raise VersionLocked("a published release is never deleted")

    def bulk_create(self, objs, *args, **kwargs):
        raise VersionLocked("publish a period with survey_publish (results.publish_period), one at a time")


class PublishedRelease(models.Model):
    """One published period of the results (``vru.web.survey.results.publish_period``): the ledger of the
    cells the public saw (``vru.analysis.disclosure`` ledger JSON; hidden cells as null, so it holds
    nothing that was not published) and the tables as shown. Later periods are protected together with
    every ledger. Never edited or deleted: the public has seen it. Who published it is kept here; when,
    with who, in the audit log (no date on a survey table)."""

    slug = models.SlugField(max_length=64)
    period = models.CharField(max_length=8, help_text="Year to date, e.g. 2026-Q3 (2026 Q1 to Q3).")
    sequence = models.PositiveIntegerField(help_text="Order of publication (1, 2, ...).")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ledger = models.JSONField(help_text="The cells published (disclosure ledger format).")
    tables = models.JSONField(help_text="The tables as shown on the results page and in the CSV.")

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["slug", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "period"], name="survey_release_period_once"),
            models.UniqueConstraint(fields=["slug", "sequence"], name="survey_release_sequence_unique"),
        ]
        permissions = [("publish_results", "Can publish a period of the survey's results")]

    def __str__(self) -> str:
        return f"{self.slug} results {self.period}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise VersionLocked(f"{self}: a published release is never changed")
        self.check_release()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise VersionLocked(f"{self}: a published release is never deleted")

    def check_release(self) -> None:
        """What every release must be, however it is written (``ValidationError`` naming the problem): a
        well-formed period that has ended, published by someone holding ``survey.publish_results``, a
        ledger in the disclosure format whose every published count is at least the threshold, and tables
        whose every figure is a number, "suppressed" or "not available", every count (respondents,
        comments) at least the threshold. It cannot prove the protection (``publish_period`` computes it);
        it refuses a release that shows a small or unfinished figure."""
        from vru.analysis import disclosure

        from .results import MIN_N, NOT_AVAILABLE, SUPPRESSED, Period, PublishError

        try:
            period = Period.parse(self.period)
        except (PublishError, ValueError) as exc:
            raise ValidationError(f"period {self.period!r}: {exc}") from None
        if str(period) != self.period or not period.has_ended():
            raise ValidationError(f"period {self.period!r}: not a period that has ended, like 2026-Q3")
        if self.published_by_id is None or not self.published_by.has_perm("survey.publish_results"):
            raise ValidationError("a release is published by a user holding survey.publish_results")
        ledger = self.ledger if isinstance(self.ledger, dict) else {}
        if ledger.get("format") != disclosure.LEDGER_FORMAT or not isinstance(ledger.get("tables"), list):
            raise ValidationError(f"the ledger is not in the format {disclosure.LEDGER_FORMAT!r}")
        for table in ledger["tables"]:
            for cell in table.get("cells", []):
                n = cell.get("n")
                if n is not None and not (isinstance(n, int | float) and n >= MIN_N):
                    raise ValidationError(f"ledger {table.get('name')}: a published count of {n!r}, under "
                                          f"{MIN_N}: hide it")
        if not isinstance(self.tables, list) or not self.tables:
            raise ValidationError("a release has its tables")
        for table in self.tables:
            counts = [i for i, c in enumerate(table.get("columns", [])[1:], start=1)
                      if str(c).startswith(("Respondents", "Comments"))]
            for row in table.get("rows", []):
                for i, value in enumerate(row[1:], start=1):
                    if value in (SUPPRESSED, NOT_AVAILABLE):
                        continue
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        raise ValidationError(f"table {table.get('key')}, {row[0]}: {value!r} is not a "
                                              f"figure, {SUPPRESSED!r} or {NOT_AVAILABLE!r}")
                    if i in counts and value < MIN_N:
                        raise ValidationError(f"table {table.get('key')}, {row[0]}: a count of {value}, "
                                              f"under {MIN_N}: hide it")
