"""Users (email login), organisations, and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class Organisation(models.Model):
    """A partner organisation (a provider, a council, the police, probation...).

    Providers' staff belong to one; per-object checks compare a record's organisation with the user's.
    """

    KINDS = [
        ("provider", "Provider"),
        ("local_authority", "Local authority"),
        ("police", "Police"),
        ("probation", "Probation service"),
        ("health", "Health"),
        ("vru", "Violence reduction unit"),
        ("other", "Other"),
    ]
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=KINDS, default="provider")
    created = models.DateTimeField(auto_now_add=True)
    # An administrator verifies a provider before its staff may post opportunities.
    verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("a user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, email):
        # Addresses are stored lower-cased, so sign-in ignores the case the user types.
        return self.get(email=(email or "").strip().lower())

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address; roles are their groups (vru.web.accounts.roles)."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        # Platform-wide permissions held by roles; later apps add their own.
        permissions = [
            ("view_dashboard", "Can view the analysis dashboard"),
            ("view_unsuppressed", "Can view analysis below the disclosure thresholds"),
            ("manage_programme", "Can manage the programme register"),
            ("view_personal_data", "Can view personal data about individuals"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.email.strip().lower()

    def save(self, *args, **kwargs):
        # However a user is made (manager, admin form, fixture), the address is stored lower-cased,
        # which sign-in (UserManager.get_by_natural_key) relies on.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name or self.email

    @property
    def roles(self) -> list[str]:
        return sorted(g.name for g in self.groups.all())


class AuditLogImmutable(Exception):
    """Raised on any attempt to change or delete an audit-log entry."""


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogImmutable("audit-log entries cannot be updated")

    def delete(self):
        raise AuditLogImmutable("audit-log entries cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogImmutable("audit-log entries cannot be updated")

    def bulk_create(self, objs, *args, update_conflicts=False, **kwargs):
        if update_conflicts:  # an upsert would rewrite existing entries
            raise AuditLogImmutable("audit-log entries cannot be updated")
        return super().bulk_create(objs, *args, **kwargs)


class AuditLog(models.Model):
    """One access to (or change of) personal data: who, when, what, which object, and why. Append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    user_email = models.CharField(max_length=254, help_text="The user's email when the entry was written.")
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    purpose = models.TextField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        base_manager_name = "objects"  # the guarded queryset on Django's internal paths too

    def __str__(self) -> str:
        what = f"{self.object_type}:{self.object_id}"
        return f"{self.timestamp:%Y-%m-%d %H:%M} {self.user_email} {self.action} {what}"

    def save(self, *args, **kwargs):
        """Insert only: an instance loaded from the database, or a new one given an existing entry's primary
        key (``AuditLog(pk=old).save()``, which Django would turn into an UPDATE), is refused."""
        if not self._state.adding or (
            self.pk is not None and type(self)._base_manager.filter(pk=self.pk).exists()
        ):
            raise AuditLogImmutable("audit-log entries cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("audit-log entries cannot be deleted")
