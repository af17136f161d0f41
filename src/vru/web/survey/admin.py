"""The admin shows questionnaire versions; a live or retired one is read-only and cannot be deleted
(the model refuses too). Responses, answers, drafts and invitations are not in the admin."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .models import QuestionnaireVersion


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ("slug", "number", "status")
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != QuestionnaireVersion.DRAFT:
            return ("slug", "number", "status", "definition")
        return ("status",)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != QuestionnaireVersion.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Publish (refused while a language lacks a string)")
    def publish(self, request, queryset):
        for version in queryset:
            try:
                version.publish()
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, f"{version} is live")
