from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vru.web.core"
    verbose_name = "Platform look and access"
