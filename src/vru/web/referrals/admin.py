"""Admin of Rescue and Response: the configuration only (providers and their capacity, councils and their
boroughs, the allocation rule table). Referrals, people and casework are not in the admin: they are opened
on their own, audited pages, by the staff of the organisation that holds the case."""

from django.contrib import admin, messages

from vru.web.accounts.admin import AuditedAdminMixin

from .models import AllocationRule, Council, Provider, Referral
from .services import hub_problem, untriaged_without_hub


class _FixedOrganisation:
    """The organisation of a provider or council is set when it is created and read-only after: changing it
    would move a caseload, or a council's intelligence, to another organisation's staff (review 15, 13)."""

    def fixed(self, obj) -> list[str]:
        return ["organisation"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(self.fixed(obj) if obj is not None else [])]


@admin.register(Provider)
class ProviderAdmin(AuditedAdminMixin, _FixedOrganisation, admin.ModelAdmin):
    list_display = ["organisation", "capacity", "open_cases", "active", "triage_hub"]

    def changelist_view(self, request, extra_context=None):
        # without a hub no one triages: say so where the hub is marked (docs/web-referrals.md, "Triage hub")
        waiting = untriaged_without_hub()
        if waiting is not None:
            self.message_user(
                request,
                f"{hub_problem()}, so no one can triage new referrals: {waiting} referral(s) waiting. Mark "
                f'one active provider with a provider manager as the "central triage hub".',
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="open cases")
    def open_cases(self, obj):
        return obj.open_cases()


@admin.register(Council)
class CouncilAdmin(AuditedAdminMixin, _FixedOrganisation, admin.ModelAdmin):
    list_display = ["organisation", "borough"]

    def fixed(self, obj) -> list[str]:
        """The borough too, once any intelligence has been shared with the council: changing it then would
        send another borough's intelligence to a council that keeps the old borough's (a borough set wrongly
        is corrected before the first referral is shared)."""
        shared = Referral.objects.filter(shared_with=obj).exists()
        return ["organisation", *(["borough"] if shared else [])]


@admin.register(AllocationRule)
class AllocationRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["priority", "need", "gender", "provider", "active"]
    list_editable = ["active"]
