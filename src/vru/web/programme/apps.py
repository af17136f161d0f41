from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "vru.web.programme"
