"""Admin pages of the tagging app. Only the link of an organisation to a police force is plain
configuration; wearers, their identities and activations are personal data, so their admin pages are
audited (AuditedAdminMixin) and, as no role holds their permissions in the admin but a superuser,
administrators (who manage users, not trails) cannot open them. Trails are never in the admin: positions
live in the store, not in the database. Matches are reviewed only on their page (which audits the
justification), never here."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from vru.web.accounts.admin import AuditedAdminMixin

from .models import DeviceActivation, ForceOrganisation, Wearer, WearerIdentity


@admin.register(ForceOrganisation)
class ForceOrganisationAdmin(admin.ModelAdmin):
    list_display = ["organisation", "force"]


class ActivationFormSet(BaseInlineFormSet):
    """Refuses two activations of one device with overlapping periods among the rows sent together (each
    row is also checked against the stored ones by ``DeviceActivation.clean``)."""

    def clean(self):
        super().clean()
        rows = [f.cleaned_data for f in self.forms
                if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
                and f.cleaned_data.get("device_id") and f.cleaned_data.get("active_from")]
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a["device_id"] == b["device_id"] and _overlap(a, b):
                    raise ValidationError(f"Two activations of device {a['device_id']} overlap")


def _overlap(a, b) -> bool:
    return ((a.get("active_to") is None or b["active_from"] < a["active_to"])
            and (b.get("active_to") is None or a["active_from"] < b["active_to"]))


class ActivationInline(admin.TabularInline):
    model = DeviceActivation
    formset = ActivationFormSet
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
