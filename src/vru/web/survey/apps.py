from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "vru.web.survey"
    verbose_name = "Victim Voice survey"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .logfilter import install

        install()  # no path that is not a survey page (a pasted code) reaches a log line
