"""Admin pages of the tagging app. Only the link of an organisation to a police force is plain
configuration; wearers, their identities and activations are personal data, so their admin pages are
audited (AuditedAdminMixin) and, as no role holds their permissions in the admin but a superuser,
administrators (who manage users, not trails) cannot open them. Trails are never in the admin: positions
live in the store, not in the database. Matches are reviewed only on their page (which audits the
justification), never here."""

from django.contrib import admin

from vru.web.accounts.admin import AuditedAdminMixin

from .models import DeviceActivation, ForceOrganisation, Wearer, WearerIdentity


@admin.register(ForceOrganisation)
class ForceOrganisationAdmin(admin.ModelAdmin):
    list_display = ["organisation", "force"]


class ActivationInline(admin.TabularInline):
    model = DeviceActivation
    extra = 0


@admin.register(Wearer)
class WearerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["ref", "order_type", "order_start", "order_end", "organisation"]
    list_filter = ["order_type"]
    search_fields = ["ref"]
    inlines = [ActivationInline]


@admin.register(WearerIdentity)
class WearerIdentityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["wearer"]
    search_fields = ["wearer__ref"]
