"""Admin pages for the register (programme managers with staff access). A grant's status is changed
only on its page in the register (which records the history), never here."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet

from vru.web.accounts.admin import staff_member

from .geojson import StrictJSONField
from .models import Consortium, Grant, GrantStatusChange, Intervention, Membership, ProgrammeArea


class MembershipFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        lead = self.instance.lead_id
        for form in self.forms:
            if (self.can_delete and self._should_delete_form(form) and form.instance.pk
                    and form.instance.organisation_id == lead):
                raise ValidationError("The lead organisation cannot leave the consortium; "
                                      "change the lead first.")


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 1


@admin.register(ProgrammeArea)
class ProgrammeAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "borough", "selected_year", "funding_round"]
    list_filter = ["kind", "borough", "selected_year"]
    search_fields = ["name"]
    # LSOA codes and the boundary are read strictly (deep nesting, NaN, lone surrogates: a message next to
    # the field); the model's clean() then checks them and stores the canonical boundary.
    formfield_overrides = {models.JSONField: {"form_class": StrictJSONField}}


@admin.register(Consortium)
class ConsortiumAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "lead"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # The lead joined when the consortium was saved; a row for it in the inline is not a second one.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if obj.pk is None and Membership.objects.filter(
                    consortium=obj.consortium, organisation=obj.organisation).exists():
                continue
            obj.save()
        formset.save_m2m()


class StatusChangeInline(admin.TabularInline):
    model = GrantStatusChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["from_status", "to_status", "changed_at", "changed_by_staff", "end_date",
                                "amount_awarded", "note"]

    @admin.display(description="changed by")
    def changed_by_staff(self, obj):  # their id and organisation, not their e-mail address
        return staff_member(obj.changed_by)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["reference", "consortium", "status", "amount_requested", "amount_awarded", "cap"]
    list_filter = ["status"]
    search_fields = ["reference", "consortium__name"]
    readonly_fields = ["status"]
    inlines = [StatusChangeInline]


@admin.register(Intervention)
class InterventionAdmin(admin.ModelAdmin):
    list_display = ["name", "grant", "kind", "year", "sessions_delivered"]
    list_filter = ["kind", "year"]
    search_fields = ["name", "grant__reference"]
