"""``manage.py survey_invite --count N --issued-by EMAIL --base-url URL --out FILE.csv [--qr-dir DIR]``:
a batch of invitation codes for letters and text messages. The CSV (and the QR codes) hold the codes:
hand them to the print run and delete them; the platform keeps only keyed hashes."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vru.outputs import csvsafe
from vru.web.accounts.audit import audit
from vru.web.accounts.models import User
from vru.web.survey import invitations


class Command(BaseCommand):
    help = "Issue a batch of single-use survey invitation codes (letter text, SMS text, link, QR code)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--issued-by", required=True,
                            help="the e-mail of the member of staff issuing them")
        parser.add_argument("--base-url", required=True, help="the survey's public address, https://.../survey/")
        parser.add_argument("--out", required=True, help="CSV file to write (must not exist)")
        parser.add_argument("--qr-dir", help="also write one QR code (SVG) per code into this folder")
        parser.add_argument("--note", default="")

    def handle(self, count, issued_by, base_url, out, qr_dir, note, **options):
        user = User.objects.filter(email=issued_by.strip().lower(), is_active=True).first()
        if user is None or not user.has_perm("survey.issue_invitations"):
            raise CommandError(f"--issued-by {issued_by}: no active user with survey.issue_invitations")
        if not base_url.startswith(("https://", "http://")):
            raise CommandError(f"--base-url {base_url!r}: an http(s) address")
        path = Path(out)
        if path.exists():
            raise CommandError(f"--out {out}: exists; codes are never overwritten")
        try:
            batch, issued = invitations.issue(user, count, note)
        except ValueError as exc:
            raise CommandError(f"--count {count}: {exc}") from exc
        audit(user, "issue survey invitations", batch, f"survey invitations: {count} codes (command line)")
        import segno

        with path.open("w", newline="", encoding="utf-8") as f:
            w = csvsafe.writer(f)
            w.writerow(["code", "link", "letter", "sms"])
            for code in issued:
                item = invitations.letter(code, base_url)
                w.writerow([item["code"], item["link"], item["letter"], item["sms"]])
                if qr_dir:
                    Path(qr_dir).mkdir(parents=True, exist_ok=True)
                    segno.make(item["link"], error="m").save(str(Path(qr_dir) / f"{item['code']}.svg"),
                                                             scale=4)
        self.stdout.write(f"{count} codes (batch {batch.pk}) written to {out}\n")
