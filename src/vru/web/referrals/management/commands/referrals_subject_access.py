"""The data-protection officer's subject access search (docs/web-referrals.md, "Subject access"): everything
held about one person, found by name and date of birth among all referrals in any state (drafts, never
triaged, declined, intelligence, open, closed), which no caseload page reaches. Run by a named user holding
subject access's permission (``referrals.export_subject``), with a reason; the request is kept
(:class:`~vru.web.referrals.models.SubjectAccessRequest`, the reason on it) and each referral exported leaves
one audit row naming the request by id.

The person's name and date of birth are never arguments (a command line is seen by every user of the machine
in ``ps`` and kept in the shell's history; review 4, 9): typed at a prompt that does not echo them, or piped
in, one a line (name, then date of birth), e.g. ``referrals_subject_access --user ... --reason ... <
person.txt`` with the file readable by its owner only."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vru.web.accounts.models import User
from vru.web.core.text import MIN_REASON_LETTERS, reason_problem, visible_text

from ... import services
from ...models import SubjectAccessRequest

MIN_REASON = 10
#: the permission the user answering the request must hold (the page's subject access export's)
SAR_PERM = "referrals.export_subject"


class Command(BaseCommand):
    help = (
        "Export everything held about one person, audited per referral. Their name and date of birth are "
        "read from a prompt (not echoed) or, piped in, from standard input, one a line: never from the "
        "command line."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        import argparse

        # refused with a message: personal data on a command line (ps, shell history)
        parser.add_argument("--name", help=argparse.SUPPRESS)
        parser.add_argument("--dob", help=argparse.SUPPRESS)
        parser.add_argument(
            "--user", required=True, help="the e-mail of the platform user answering the request"
        )
        parser.add_argument("--reason", required=True, help="why: the request's reference, who asked")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--out", help="write to this file (created readable by its owner only)")

    def _person(self, stdin) -> tuple[str, str]:
        """The name and date of birth: prompted for without echo on a terminal, else two lines of input."""
        if stdin.isatty():
            return getpass.getpass("Full name: "), getpass.getpass("Date of birth (YYYY-MM-DD): ")
        lines = [stdin.readline(), stdin.readline()]
        return lines[0].rstrip("\r\n"), lines[1].strip()

    def handle(self, user, reason, format, out=None, name=None, dob=None, **options):
        if name is not None or dob is not None:
            raise CommandError(
                "--name/--dob: a name or date of birth on the command line is seen by every user of the "
                "machine and kept in the shell's history; type them at the prompt, or pipe them in, one a "
                "line (name, then date of birth)"
            )
        name, dob = self._person(options.get("stdin") or sys.stdin)
        try:
            born = date.fromisoformat(dob)
        except ValueError:
            raise CommandError("date of birth (second line): not a date like 2008-03-31") from None
        if not name.strip():
            raise CommandError("name (first line): give the person's name")
        if len(visible_text(reason)) < MIN_REASON or reason_problem(reason):
            raise CommandError(
                f"--reason: give the reason in words, in at least {MIN_REASON} characters and "
                f"{MIN_REASON_LETTERS} letters"
            )
        who = User.objects.filter(email__iexact=user.strip(), is_active=True).first()
        if who is None:
            raise CommandError(f"--user: no active user {user!r}")
        if not who.has_perm(SAR_PERM):  # as the erasure: the platform has no data-protection officer's role
            raise CommandError(
                f"--user: {who.email} may not answer a subject access request: it needs the permission "
                f"{SAR_PERM} (subject access's, held by the provider manager)"
            )
        refs = list(services.subject_referrals_all(name, born).order_by("referral_date", "reference"))
        with transaction.atomic():
            sar = SubjectAccessRequest.objects.create(user=who, reason=visible_text(reason))
            sar.referrals.set(refs)
            for r in refs:
                services.audit_case(
                    who,
                    "subject access export (DPO)",
                    r,
                    f"data-protection officer's subject access request {sar.pk}: {len(refs)} referral(s)",
                )
        data = services.subject_access(services.Referral.objects.filter(pk__in=[r.pk for r in refs]))
        text = services.subject_access_csv(data) if format == "csv" else json.dumps(data, indent=1)
        if out:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self.stdout.write(text)
        self.stderr.write(f"subject access request {sar.pk}: {len(refs)} referral(s) exported")
