"""Referrals past their retention period (every state: closed, declined, submitted and never decided,
intelligence included, and accepted cases, allocated or not, their last step more than
VRU_REFERRALS_RETENTION_DAYS ago, default six years), and abandoned drafts (not saved for
VRU_REFERRALS_DRAFT_DAYS, default 30): listed, and with --anonymise erased (the person's details deleted, free
text blanked, dates coarsened to the month, the figures kept) and the drafts purged (deleted). Each erasure or
purge is one audit row of the actor: a named user (--user, who must hold the subject access permission), or,
unattended (the systemd timer docs/deploy/vru-referrals-retention.timer), the retention job's own account
(--system), which cannot sign in. --on with --anonymise may not be after today. docs/web-referrals.md,
"Subject access and erasure"."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ... import services

#: who may erase: the permission of subject access (the platform has no data-protection officer's role)
ERASER_PERM = "referrals.export_subject"


class Command(BaseCommand):
    help = (
        "List (or with --anonymise erase) the referrals whose retention period has ended, and the drafts "
        "abandoned for the draft period (purged with --anonymise)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--on", help="the day to count from (YYYY-MM-DD; default today)")
        parser.add_argument("--anonymise", action="store_true", help="erase them (cannot be undone)")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--user", help="with --anonymise: the e-mail of the platform user who erases")
        who.add_argument(
            "--system",
            action="store_true",
            help=f"with --anonymise: act as the retention job's account ({services.SYSTEM_EMAIL}, which "
            "cannot sign in), for the scheduled run",
        )

    def handle(self, on=None, anonymise=False, user=None, system=False, **options):
        try:
            day = date.fromisoformat(on) if on else None
        except ValueError:
            raise CommandError(f"--on: {on!r} is not a date like 2030-03-31") from None
        if (user or system) and not anonymise:
            raise CommandError("--user and --system name who erases: give them with --anonymise")
        who = None
        if anonymise:
            from django.utils import timezone

            from vru.web.accounts.models import User

            if day is not None and day > timezone.localdate():
                raise CommandError(
                    f"--on: {day} is after today; --anonymise erases only what is due now, never what a "
                    "later day would make due (list a later day without --anonymise)"
                )
            if system:
                who = services.system_actor()
            else:
                who = User.objects.filter(email__iexact=(user or "").strip(), is_active=True).first()
                if who is None:
                    raise CommandError(
                        "--user: --anonymise needs the e-mail of an active platform user (or --system for "
                        "the scheduled run)"
                    )
                if not who.has_perm(ERASER_PERM):
                    raise CommandError(
                        f"--user: {who.email} may not erase records: it needs the permission {ERASER_PERM} "
                        "(the data-protection role of subject access: provider manager)"
                    )
        due = list(services.retention_due(day).order_by("reference"))
        for r in due:
            self.stdout.write(f"{r.reference}\t{r.get_status_display()}")
            if anonymise:
                services.anonymise(r, who)
        verb = "anonymised" if anonymise else "due for erasure"
        self.stdout.write(f"{len(due)} referral(s) {verb}")
        from django.utils import timezone

        now = None
        if day is not None:
            now = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
        drafts = list(services.drafts_due(now).order_by("reference"))
        for r in drafts:
            self.stdout.write(f"{r.reference}\tDraft (abandoned)")
            if anonymise:
                services.purge_draft(r, who)
        self.stdout.write(f"{len(drafts)} draft(s) {'purged' if anonymise else 'abandoned, due for purging'}")
