from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "vru.web.referrals"
    label = "referrals"
    verbose_name = "Rescue and Response referrals"
    default_auto_field = "django.db.models.BigAutoField"
