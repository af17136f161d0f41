from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "vru.web.survey"
    label = "survey"
    verbose_name = "Victim Voice survey"
    default_auto_field = "django.db.models.BigAutoField"
