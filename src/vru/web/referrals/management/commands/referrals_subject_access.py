"""The data-protection officer's subject access search (docs/web-referrals.md, "Subject access"): everything
held about one person, found by name and date of birth among all referrals in any state (drafts, never
triaged, declined, intelligence, open, closed), which no caseload page reaches. Run by a named user holding
subject access's permission (``referrals.export_subject``), with a reason; the request is kept
(:class:`~vru.web.referrals.models.SubjectAccessRequest`, the reason on it) and each referral exported leaves
one audit row naming the request by id."""

from __future__ import annotations

import json
import os
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vru.web.accounts.models import User

from ... import services
from ...models import SubjectAccessRequest

MIN_REASON = 10
#: the permission the user answering the request must hold (the page's subject access export's)
SAR_PERM = "referrals.export_subject"


class Command(BaseCommand):
    help = "Export everything held about one person (name and date of birth), audited per referral."

    def add_arguments(self, parser):
        parser.add_argument(
            "--name", required=True, help="the person's full name (letter case and spacing aside)"
        )
        parser.add_argument("--dob", required=True, help="their date of birth, YYYY-MM-DD")
        parser.add_argument(
            "--user", required=True, help="the e-mail of the platform user answering the request"
        )
        parser.add_argument("--reason", required=True, help="why: the request's reference, who asked")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--out", help="write to this file (created readable by its owner only)")

    def handle(self, name, dob, user, reason, format, out=None, **options):
        try:
            born = date.fromisoformat(dob)
        except ValueError:
            raise CommandError(f"--dob: {dob!r} is not a date like 2008-03-31") from None
        if not name.strip():
            raise CommandError("--name: give the person's name")
        if len(reason.strip()) < MIN_REASON:
            raise CommandError(f"--reason: give the reason in at least {MIN_REASON} characters")
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
            sar = SubjectAccessRequest.objects.create(user=who, reason=reason.strip())
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
