"""Issuing invitation codes (docs/web-survey.md, "Invitations").

A batch of random single-use codes: each is shown once (a letter's text, a text message with the link, a
QR code of the link) and stored only as a keyed hash. The link carries the code in its query string
(``/survey/?c=...``): the platform never logs a query string, and opening the link (a GET, e.g. a mail
client's preview) records nothing; the code is checked when the respondent presses Start, and burnt when
they finish.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.db import IntegrityError, transaction

from . import codes
from .models import Invitation, InvitationBatch

MAX_BATCH = 500
# The smallest batch: the platform keeps each batch's issuer, day, note and how many of its codes are used,
# so a batch of one code is a record about one person (that this victim started the survey). 20 is twice
# the results' threshold of 10: at the response rates of such surveys a batch is rarely used up, so its
# count of used codes says little about any one of its people.
MIN_BATCH = 20

LETTER = ("We would like to hear about your experience of reporting a crime to the police. The survey is "
          "anonymous and takes about 10 minutes. Go to {link} or scan the QR code, and enter this code when "
          "asked: {code}. The code starts one survey and is used up when you start. Your answers are kept "
          "without your name, your code or your crime reference.")
SMS = "Tell us how the police treated you (anonymous, 10 min): {link}"


def issue(user, count: int, note: str = "") -> tuple[InvitationBatch, list[str]]:
    """Create a batch of ``count`` codes issued by ``user``; the codes are returned once, never stored."""
    if not MIN_BATCH <= count <= MAX_BATCH:
        raise ValueError(f"a batch has {MIN_BATCH} to {MAX_BATCH} codes: a smaller batch would be a record "
                         "about a few people")
    while True:
        issued = sorted({codes.new_code() for _ in range(count)})
        if len(issued) != count:
            continue
        try:
            with transaction.atomic():
                batch = InvitationBatch.objects.create(issued_by=user, size=count, note=note.strip())
                Invitation.objects.bulk_create(
                    [Invitation(batch=batch, code_hash=codes.code_hash(c, "invitation")) for c in issued])
            return batch, issued
        except IntegrityError:  # a hash already taken (about 1 in 2**57 per code): draw the batch again
            continue


def link(code: str, base: str) -> str:
    return f"{base}?{urlencode({'c': codes.normalise(code)})}"


def letter(code: str, base: str) -> dict:
    url = link(code, base)
    qr = segno.make(url, error="m")
    return {"code": codes.display(code), "link": url,
            "letter": LETTER.format(link=base, code=codes.display(code)),
            "sms": SMS.format(link=url), "qr_svg": qr.svg_data_uri(scale=4, border=2)}
