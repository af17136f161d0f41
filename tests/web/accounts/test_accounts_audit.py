"""The append-only audit log (vru.web.accounts.audit): who, what, why and from where; no entry without a
purpose or a signed-in user; no update or delete; a user with entries cannot be deleted."""

from __future__ import annotations

import pytest

from vru.web.accounts.audit import audit
from vru.web.accounts.models import AuditLog, AuditLogImmutable, Organisation

pytestmark = pytest.mark.django_db


def test_audit_records_who_what_and_why(alice, rf):
    org = Organisation.objects.create(name="Youth Project")
    request = rf.get("/", REMOTE_ADDR="192.0.2.7")
    request.user = alice
    entry = audit(request, "view", org, "checking a referral")
    got = AuditLog.objects.get(pk=entry.pk)
    assert (got.user, got.user_email, got.action) == (alice, "alice@example.org", "view")
    assert (got.object_type, got.object_id) == ("accounts.organisation", str(org.pk))
    assert got.purpose == "checking a referral"
    assert got.ip_address == "192.0.2.7"
    assert got.timestamp is not None
    e2 = audit(alice, "export", ("casework.person", 42), "court report")
    assert (e2.object_type, e2.object_id, e2.ip_address) == ("casework.person", "42", None)


def test_audit_refuses_missing_purpose_or_anonymous(alice):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValueError, match="purpose"):
        audit(alice, "view", None, "  ")
    with pytest.raises(ValueError, match="authenticated"):
        audit(AnonymousUser(), "view", None, "curiosity")
    assert AuditLog.objects.count() == 0


def test_audit_log_refuses_update_and_delete(alice):
    entry = audit(alice, "view", ("x", 1), "test")
    entry.purpose = "rewritten"
    with pytest.raises(AuditLogImmutable):
        entry.save()
    with pytest.raises(AuditLogImmutable):
        entry.delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.filter(pk=entry.pk).update(purpose="rewritten")
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.all().delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.bulk_update([entry], ["purpose"])
    assert AuditLog.objects.get(pk=entry.pk).purpose == "test"


def test_a_user_with_audit_entries_cannot_be_deleted(alice):
    from django.db.models import ProtectedError

    audit(alice, "view", None, "test")
    with pytest.raises(ProtectedError):
        alice.delete()
