from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "vru.web.dashboard"
