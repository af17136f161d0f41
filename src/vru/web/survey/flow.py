"""The respondent's flow, without the HTTP: start a draft, save a page, resume, complete.

Each function either does all it says or nothing (one transaction), and raises :class:`Refused` with the
id of the message to show (``err.*`` of the questionnaire's strings) when it will not.
"""

from __future__ import annotations

import logging

from django.db import transaction

from . import codes, drafts, pool
from .drafts import Draft
from .models import Invitation, QuestionnaireVersion, Response
from .questionnaire import Questionnaire

SLUG = "victim-voice"
logger = logging.getLogger(__name__)


class Refused(Exception):
    def __init__(self, message_id: str, status: int = 400):
        super().__init__(message_id)
        self.message_id = message_id
        self.status = status


def live_version(slug: str = SLUG) -> QuestionnaireVersion | None:
    return QuestionnaireVersion.objects.filter(slug=slug, status=QuestionnaireVersion.LIVE).first()


def purge_expired() -> int:
    """Delete the drafts whose week has passed (whole week folders of the draft store); returns how many."""
    return drafts.store().purge()


def start(version: QuestionnaireVersion, invitation_code: str = "") -> tuple[str, Draft]:
    """A new draft (and its resume code, returned once and never stored) for ``version``.

    With an invitation code, the code must exist and be unused, and it is burnt here, at the start, in a
    transaction of its own (a conditional update: of two starts with one code, one wins). The draft is a
    file of the draft store (:mod:`vru.web.survey.drafts`), not a row: it keeps only that a code was used
    (``verified``), never which, and nothing it does is written to the database: no chain of row versions
    joins the burn to the response, and the response itself reaches the database only in a batch of at
    least ``VRU_SURVEY_BATCH`` (:mod:`.pool`), written by the weekly flush, so the order of transaction ids
    narrows a burnt code only to such a batch, until the nightly shuffle gives every row one. The price: a
    code starts one survey; whoever loses the resume code cannot start again with it (the survey stays
    open without a code, unverified)."""
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
    draft = drafts.store().create(resume, version.pk, verified)
    draft.version = version
    return resume, draft


def find_draft(resume_code: str) -> Draft | None:
    """The draft of ``resume_code`` with its version, or None (unknown, expired, sent, a file that does
    not open, or a version that no longer exists)."""
    draft = drafts.store().load(resume_code)
    if draft is None:
        return None
    draft.version = QuestionnaireVersion.objects.filter(pk=draft.version_id).first()
    return draft if draft.version is not None else None


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
    """Save one page's answers into the draft (an empty answer removes the one given before)."""
    def update(answers: dict) -> dict:
        for key, value in cleaned.items():
            if value in ("", None):
                answers.pop(key, None)
            else:
                answers[key] = value
        return answers

    if not drafts.store().save(draft, update):
        raise Refused("err.no_draft", 404)


def complete(draft: Draft, language: str) -> Response:
    """Send the draft: validate it, write the complete response to the batch pool (:mod:`.pool`, a file,
    durably) and then delete the draft. Nothing is written to the database here: the weekly
    ``survey_flush`` writes the pool's batches (unless ``VRU_SURVEY_FLUSH_ON_SEND``, for the test suite:
    then a send that makes a batch writes it). Returns the response (saved only if its batch was written).

    The draft's file is claimed first (renamed to a private name: of two sends, one finds nothing and is
    refused); then its spent marker is recorded (:meth:`~.drafts.DraftStore.spend`), so that a copy of the
    file restored from a backup is refused; if the pool file cannot be written, the marker goes and the
    draft is put back so that the respondent can send again. The invitation code, if any, was burnt when
    the draft was started (:func:`start`)."""
    import uuid

    from .forms import validate_all

    store = drafts.store()
    claim = store.claim(draft)
    if claim is None:  # sent already, by another request with the same resume code, or expired
        raise Refused("err.no_draft", 409)
    if store.spent(claim.draft):  # a copy of a sent draft (restored from a backup): never a second response
        claim.done()
        raise Refused("err.no_draft", 409)
    marker = None
    try:
        sent = claim.draft
        if sent.version_id != draft.version_id:
            raise Refused("err.stale_version", 409)
        q = Questionnaire(draft.version.definition)
        if validate_all(q, sent.answers):
            raise Refused("err.required")
        year, week = codes.iso_week()
        response = Response(id=uuid.uuid4(), version=draft.version, language=language, iso_year=year,
                            iso_week=week, verified=sent.verified)
        marker = store.spend(sent)
        if marker is None:
            raise Refused("err.no_draft", 409)
        pool.pool().put({
            "id": str(response.id), "version": draft.version.pk, "language": language, "iso_year": year,
            "iso_week": week, "verified": bool(sent.verified),
            "answers": [[key, "" if q.questions[key].text else value, value if q.questions[key].text else ""]
                        for key, value in sorted(sent.answers.items())]})
    except BaseException:
        if marker is not None:
            marker.unlink(missing_ok=True)
        claim.release()
        raise
    claim.done()
    if pool.flush_on_send():  # the test suite only (VRU_SURVEY_FLUSH_ON_SEND): see pool.flush_on_send
        try:
            pool.flush()
        except Exception:  # the response is safe in the pool: the weekly flush writes it
            logger.exception("survey: the batch pool could not be flushed after a send")
    return response
