"""Admin: opportunities (status is read-only here: it changes only through the moderation pages, which
record every change) and their moderation history (read-only). Registrations are not in the admin:
what a young person shared is shown only to the provider, on an audited page."""

from django.contrib import admin

from vru.web.accounts.admin import AuditedAdminMixin, ReadOnlyAdminMixin, staff_member

from .models import ModerationEvent, Opportunity


class EventInline(admin.TabularInline):
    model = ModerationEvent
    fields = ["at", "from_status", "to_status", "moderator", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="by")
    def moderator(self, obj):  # the moderator's id and organisation, not their e-mail address
        return staff_member(obj.by)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "kind", "borough", "start_date", "end_date", "status"]
    list_filter = ["status", "kind", "borough", "is_free"]
    search_fields = ["title", "topic", "provider__name"]
    readonly_fields = ["status", "places_taken", "created", "updated"]
    list_select_related = ["provider"]
    inlines = [EventInline]


@admin.register(ModerationEvent)  # names the moderators: audited
class ModerationEventAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "opportunity", "from_status", "to_status", "by", "reason"]
    list_filter = ["to_status"]
    list_select_related = ["opportunity", "by"]
