"""Admin: users and organisations are managed here; the audit log is read-only.

- **Audited.** Every admin page of personal data (users, the audit log, other apps' records of people)
  uses ``AuditedAdminMixin``: each list, each search (``search``, with the number of results but not
  the words searched for, which are themselves personal data), each record shown (its change page, its
  history, its deletion page, a user's password page), each addition, change and deletion is a row of
  the audit log with the purpose ``administration: ...``. Other admin pages that name a member of staff
  (the moderation and grant history inlines) show them as ``user <id> (<organisation>)``
  (:func:`staff_member`), never by their e-mail address.
- **No one grants more than they hold.** Only a superuser may grant or take away superuser or staff
  status; those fields are read-only for everyone else, and ``save_model`` keeps them as they were, so a
  crafted POST changes nothing. A non-superuser may give or take away only the roles (groups) whose
  permissions they hold themselves, and may not give a group a permission they do not hold.
- **Who manages which account** (a non-superuser with ``change_user``; a superuser manages every one):
  any account that is neither staff nor superuser (a young person, a provider, a caseworker...): its
  name, organisation and active status, and the roles they may give; its e-mail address and password,
  and deleting it, only when it holds no permission the editor does not (a takeover of an account
  that can see more would be an escalation). A staff account: only one that holds no permission the
  editor does not, and its e-mail address and password only by its owner (no administrator takes over
  another's account). A superuser account: never. See :func:`may_manage` and :func:`may_take_over`.
- **Role changes are audited.** A change of a person's roles, permissions, staff, superuser or active
  status is an audit row ``change_roles`` whose purpose records before and after, also when a role is
  deleted (a row for each of its members); a change of a group's permissions is
  ``change_group_permissions``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR

# Imported first: it registers Django's GroupAdmin, which this module replaces (accounts is listed before
# django.contrib.auth in INSTALLED_APPS, so the admin would otherwise load it after this module).
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from .audit import audit
from .models import AuditLog, Organisation, User

ADMINISTRATION = "administration"


class ReadOnlyAdminMixin:
    """For a ModelAdmin of a record nobody may add, change or delete in the admin (a log): it is listed
    and shown only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdminMixin:
    """For a ModelAdmin of personal data: every list, record view, addition, change, deletion and
    history view is written to the audit log (purpose ``administration: ...``)."""

    def _name(self, plural: bool = False) -> str:
        meta = self.model._meta
        return str(meta.verbose_name_plural if plural else meta.verbose_name)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            if request.GET.get(SEARCH_VAR) and changelist is not None:
                # that a search was made and what it found; not the words searched for (personal data)
                audit(request, "search", None, f"{ADMINISTRATION}: search {self._name(plural=True)}, "
                                               f"{changelist.result_count} found")
            else:
                audit(request, "list", None, f"{ADMINISTRATION}: list {self._name(plural=True)}")
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        if request.method != "POST" and response.status_code == 200:  # the confirmation page shows it
            audit(request, "view", (self.model._meta.label_lower, unquote(object_id)),
                  f"{ADMINISTRATION}: deletion page of a {self._name()}")
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            audit(request, "view", obj, f"{ADMINISTRATION}: view {self._name()}")
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url,
                                          obj=obj)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            audit(request, "view history", (self.model._meta.label_lower, object_id),
                  f"{ADMINISTRATION}: history of a {self._name()}")
        return response

    def log_addition(self, request, obj, message):
        audit(request, "add", obj, f"{ADMINISTRATION}: add {self._name()}")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        changed = sorted({f for m in message if "changed" in m for f in m["changed"].get("fields", [])}) \
            if isinstance(message, list) else []
        what = f" ({', '.join(changed)})" if changed else ""
        audit(request, "change", obj, f"{ADMINISTRATION}: change {self._name()}{what}")
        return super().log_change(request, obj, message)

    def delete_model(self, request, obj):
        audit(request, "delete", obj, f"{ADMINISTRATION}: delete {self._name()}")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit(request, "delete", obj, f"{ADMINISTRATION}: delete {self._name()}")
        super().delete_queryset(request, queryset)


def staff_member(user: User | None) -> str:
    """A member of staff as the admin's history inlines show them: ``user <id> (<organisation>)``, not
    their e-mail address (who did it can be traced through the user's own, audited, page)."""
    if user is None:
        return "-"
    return f"user {user.pk} ({user.organisation or 'no organisation'})"


# --- who may grant what -------------------------------------------------------------------------------


def _names(perms) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


def permissions_of(user: User) -> set[str] | None:
    """Every permission ``user`` holds through their groups or directly, active or not (an inactive
    account can be reactivated); None for a superuser (every permission)."""
    if user.is_superuser:
        return None
    if user.pk is None:
        return set()
    return _names(Permission.objects.filter(Q(group__user=user) | Q(user=user))
                  .select_related("content_type").distinct())


def holds_all(granter: User, perms: set[str] | None) -> bool:
    """Whether ``granter`` holds every permission in ``perms`` (None: every permission there is)."""
    if granter.is_superuser:
        return True
    if perms is None:
        return False
    return perms <= permissions_of(granter)


def group_permissions(group: Group) -> set[str]:
    return _names(group.permissions.select_related("content_type"))


def may_manage(editor: User, target: User | None) -> bool:
    """Whether ``editor`` (who has ``change_user``) may change ``target``'s name, organisation, active
    status and (within their own permissions) roles: a superuser always; anyone else any account that is
    neither staff nor superuser, and a staff account that holds no permission they do not hold."""
    if target is None or editor.is_superuser:
        return True
    if target.is_superuser:
        return False
    return not target.is_staff or holds_all(editor, permissions_of(target))


def may_take_over(editor: User, target: User | None) -> bool:
    """Whether ``editor`` may change ``target``'s e-mail address or password, or delete it: a superuser;
    the person themselves; anyone else only an account that is neither staff nor superuser and holds no
    permission they do not hold (changing its address or password would give them what it can see)."""
    if target is None or editor.is_superuser or target.pk == editor.pk:
        return True
    if target.is_staff or target.is_superuser:
        return False
    return holds_all(editor, permissions_of(target))


def _roles_snapshot(user: User) -> dict:
    return {
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(_names(user.user_permissions.select_related("content_type"))),
        "staff": user.is_staff,
        "superuser": user.is_superuser,
        "active": user.is_active,
    }


def _describe_change(before: dict, after: dict) -> str:
    def show(v):
        if isinstance(v, bool):
            return "yes" if v else "no"
        return "[" + ", ".join(v) + "]"

    return "; ".join(f"{k}: {show(before[k])} -> {show(after[k])}" for k in before if before[k] != after[k])


# --- users ----------------------------------------------------------------------------------------------


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


def _granted_change(form, field: str) -> tuple:
    """The cleaned many-to-many ``field`` of ``form``, the user granting it (``form.granter``, set by the
    admin), and the related objects it adds or takes away: none to check when the field is absent, no
    granter is known, or the granter is a superuser."""
    value = form.cleaned_data.get(field)
    granter = getattr(form, "granter", None)
    if value is None or granter is None or granter.is_superuser:
        return value, granter, set()
    before = set(getattr(form.instance, field).all()) if form.instance.pk else set()
    return value, granter, before.symmetric_difference(set(value))


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean_groups(self):
        groups, granter, changed = _granted_change(self, "groups")
        refused = sorted(g.name for g in changed if not holds_all(granter, group_permissions(g)))
        if refused:
            raise ValidationError(
                "You cannot give or take away the role %(roles)s: it carries permissions you do not hold. "
                "Ask a superuser.", params={"roles": ", ".join(refused)})
        return groups


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "organisation", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "groups", "organisation"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "organisation"]}),
        ("Roles and permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups"]
    # Only a superuser grants these (read-only for everyone else, and kept as they were on save).
    SUPERUSER_ONLY = ("is_staff", "is_superuser", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in self.SUPERUSER_ONLY if f not in fields]
        if obj is not None and not may_take_over(request.user, obj):
            fields.append("email")
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not may_take_over(request.user, obj):
            # no password field, nor its link to the password page (which answers 403)
            fieldsets = [(name, {**opts, "fields": [f for f in opts["fields"] if f != "password"]})
                         for name, opts in fieldsets]
        return fieldsets

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, unquote(id))
        if target is not None and not may_take_over(request.user, target):
            raise PermissionDenied
        response = super().user_change_password(request, id, form_url)
        if request.method != "POST" and response.status_code == 200:
            audit(request, "view", target, f"{ADMINISTRATION}: password page of a user")
        return response

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.granter = request.user
        return form

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_take_over(request.user, obj)

    def save_model(self, request, obj, form, change):
        if change:
            stored = User.objects.get(pk=obj.pk)
            form._roles_before = _roles_snapshot(stored)
            if not request.user.is_superuser:  # whatever the request said
                obj.is_staff, obj.is_superuser = stored.is_staff, stored.is_superuser
                if not may_take_over(request.user, stored):
                    obj.email, obj.password = stored.email, stored.password
        elif not request.user.is_superuser:
            obj.is_staff = obj.is_superuser = False
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(form, "_roles_before", None) or {
            "roles": [], "permissions": [], "staff": False, "superuser": False, "active": True}
        after = _roles_snapshot(form.instance)
        if after != before:
            audit(request, "change_roles", form.instance,
                  f"{ADMINISTRATION}: roles and status of a user changed: {_describe_change(before, after)}")


# --- groups (roles) -----------------------------------------------------------------------------------


class GroupEditForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = "__all__"

    def clean_permissions(self):
        perms, granter, changed = _granted_change(self, "permissions")
        refused = sorted(_names(changed) - (permissions_of(granter) or set())) if changed else []
        if refused:
            raise ValidationError("You cannot give or take away permissions you do not hold: %(perms)s",
                                  params={"perms": ", ".join(refused)})
        return perms


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    form = GroupEditForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.granter = request.user
        return form

    def has_change_permission(self, request, obj=None):
        # A role that carries permissions one does not hold is changed only by a superuser (or by
        # someone holding all of them).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or holds_all(request.user, group_permissions(obj)))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or holds_all(request.user, group_permissions(obj)))

    def save_model(self, request, obj, form, change):
        form._perms_before = sorted(group_permissions(obj)) if change else []
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self._delete_auditing_members(request, [obj],
                                      lambda: super(GroupAdmin, self).delete_model(request, obj))

    def delete_queryset(self, request, queryset):
        groups = list(queryset)
        self._delete_auditing_members(request, groups,
                                      lambda: super(GroupAdmin, self).delete_queryset(request, queryset))

    @staticmethod
    def _delete_auditing_members(request, groups, delete):
        """Delete ``groups`` (by ``delete()``), and write a ``change_roles`` row for each of their members:
        deleting a role takes it away from everyone who held it."""
        members = {u.pk: u for g in groups for u in g.user_set.all()}
        before = {pk: _roles_snapshot(u) for pk, u in members.items()}
        delete()
        for pk, user in members.items():
            after = _roles_snapshot(user)
            if after != before[pk]:
                audit(request, "change_roles", user, f"{ADMINISTRATION}: roles and status of a user changed "
                                                     f"(role deleted): {_describe_change(before[pk], after)}")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before, after = form._perms_before, sorted(group_permissions(form.instance))
        if before != after:
            audit(request, "change_group_permissions", form.instance,
                  f"{ADMINISTRATION}: permissions of the role {form.instance.name} changed: "
                  f"[{', '.join(before)}] -> [{', '.join(after)}]")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(AuditLog)
class AuditLogAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["timestamp", "user_email", "action", "object_type", "object_id", "purpose"]
    list_filter = ["action", "object_type"]
    search_fields = ["user_email", "object_id", "purpose"]
    date_hierarchy = "timestamp"
