"""Admin of Rescue and Response: the configuration only (providers and their capacity, councils and their
boroughs, the allocation rule table). Referrals, people and casework are not in the admin: they are opened
on their own, audited pages, by the staff of the organisation that holds the case."""

from django.contrib import admin, messages

from vru.web.accounts.admin import AuditedAdminMixin

from .models import AllocationRule, Council, Provider
from .services import hub_problem, untriaged_without_hub


class _FixedOrganisation:
    """The organisation of a provider or council is set when it is created and read-only after: changing it
    would move a caseload, or a council's intelligence, to another organisation's staff (review 15, 13).
    So is a council's borough: changing it would send one borough's intelligence to another borough's
    council, which would keep the old borough's too (``fixed_once_made``)."""

    fixed_once_made: tuple[str, ...] = ("organisation",)

    def get_readonly_fields(self, request, obj=None):
        fixed = list(self.fixed_once_made) if obj is not None else []
        return [*super().get_readonly_fields(request, obj), *fixed]


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
    fixed_once_made = ("organisation", "borough")


@admin.register(AllocationRule)
class AllocationRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["priority", "need", "gender", "provider", "active"]
    list_editable = ["active"]
