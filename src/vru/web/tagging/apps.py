from django.apps import AppConfig


class TaggingConfig(AppConfig):
    name = "vru.web.tagging"
    verbose_name = "GPS tagging"
    default_auto_field = "django.db.models.BigAutoField"
