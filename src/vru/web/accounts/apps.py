from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vru.web.accounts"
    verbose_name = "Accounts and audit"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="vru.web.accounts.roles.sync_roles")
