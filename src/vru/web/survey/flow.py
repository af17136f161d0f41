"""The respondent's flow, without the HTTP: start a draft, save a page, resume, complete.

Each function either does all it says or nothing (one transaction), and raises :class:`Refused` with the
id of the message to show (``err.*`` of the questionnaire's strings) when it will not.
"""

from __future__ import annotations

from django.db import transaction

from . import codes
from .models import Answer, Draft, Invitation, QuestionnaireVersion, Response
from .questionnaire import Questionnaire

SLUG = "victim-voice"


class Refused(Exception):
    def __init__(self, message_id: str, status: int = 400):
        super().__init__(message_id)
        self.message_id = message_id
        self.status = status


def live_version(slug: str = SLUG) -> QuestionnaireVersion | None:
    return QuestionnaireVersion.objects.filter(slug=slug, status=QuestionnaireVersion.LIVE).first()


def purge_expired() -> int:
    """Delete the drafts whose week has passed; returns how many."""
    n, _ = Draft.objects.filter(expires__lt=codes.current_week_number()).delete()
    return n


def start(version: QuestionnaireVersion, invitation_code: str = "") -> tuple[str, Draft]:
    """A new draft (and its resume code, returned once and never stored) for ``version``.

    With an invitation code, the code must exist and be unused, and it is burnt here, at the start, in a
    transaction of its own (a conditional update: of two starts with one code, one wins); the draft is
    then written by another transaction and keeps only that a code was used (``verified``), never which.
    So no stored value ever links a code to answers, and no draft row shares a transaction id with an
    invitation row. The price: a code starts one survey; whoever loses the resume code cannot start
    again with it (the survey stays open without a code, unverified)."""
    verified = False
    if invitation_code.strip():
        if not codes.looks_valid(invitation_code):
            raise Refused("err.code_invalid")
        with transaction.atomic():
            invitation = Invitation.objects.filter(code_hash=codes.code_hash(invitation_code, "invitation"))
            if not invitation.filter(used=False).update(used=True):
                raise Refused("err.code_used", 409) if invitation.exists() else Refused("err.code_invalid")
        verified = True
    resume = codes.new_code()
    draft = Draft.objects.create(key_hash=codes.code_hash(resume, "resume"), version=version,
                                 verified=verified, expires=codes.draft_expiry())
    return resume, draft


def find_draft(resume_code: str) -> Draft | None:
    if not codes.looks_valid(resume_code):
        return None
    return (Draft.objects.select_related("version")
            .filter(key_hash=codes.code_hash(resume_code, "resume"),
                    expires__gte=codes.current_week_number()).first())


def check_version(draft: Draft, posted_version: str | None) -> None:
    """The page was built for the draft's version (every POST must say which), and that version still takes
    answers."""
    if posted_version in (None, ""):
        raise Refused("err.stale_version", 400)
    if str(posted_version) != str(draft.version_id):
        raise Refused("err.stale_version", 409)
    if draft.version.status != QuestionnaireVersion.LIVE:
        raise Refused("err.stale_version", 409)


def save_page(draft: Draft, cleaned: dict) -> None:
    answers = dict(draft.answers)
    for key, value in cleaned.items():
        if value in ("", None):
            answers.pop(key, None)
        else:
            answers[key] = value
    Draft.objects.filter(pk=draft.pk).update(answers=answers, expires=codes.draft_expiry())
    draft.answers = answers


def complete(draft: Draft, language: str) -> Response:
    """Store the draft as a response and delete the draft (one transaction: all or nothing). The invitation
    code, if any, was burnt when the draft was started (:func:`start`)."""
    from .forms import validate_all

    q = Questionnaire(draft.version.definition)
    if validate_all(q, draft.answers):
        raise Refused("err.required")
    year, week = codes.iso_week()
    with transaction.atomic():
        deleted, _ = Draft.objects.filter(pk=draft.pk).delete()
        if not deleted:  # completed already, by another request with the same resume code
            raise Refused("err.no_draft", 409)
        response = Response.objects.create(version=draft.version, language=language, iso_year=year,
                                           iso_week=week, verified=draft.verified)
        Answer.objects.bulk_create([
            Answer(response=response, version=draft.version, question=key,
                   value="" if q.questions[key].text else value, text=value if q.questions[key].text else "")
            for key, value in sorted(draft.answers.items())])
    return response
