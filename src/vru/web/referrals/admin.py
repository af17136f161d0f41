"""Admin of Rescue and Response: the configuration only (providers and their capacity, councils and their
boroughs, the allocation rule table). Referrals, people and casework are not in the admin: they are opened
on their own, audited pages, by the staff of the organisation that holds the case."""

from django.contrib import admin

from .models import AllocationRule, Council, Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["organisation", "capacity", "open_cases", "active"]

    @admin.display(description="open cases")
    def open_cases(self, obj):
        return obj.open_cases()


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ["organisation", "borough"]


@admin.register(AllocationRule)
class AllocationRuleAdmin(admin.ModelAdmin):
    list_display = ["priority", "need", "gender", "provider", "active"]
    list_editable = ["active"]
