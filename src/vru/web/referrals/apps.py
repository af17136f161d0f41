from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "vru.web.referrals"
    verbose_name = "Rescue and Response referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from .conf import check

        check(settings)  # out-of-range settings stop start-up (docs/web-referrals.md, "Settings")
