"""``audit()``: the one call later apps make for every access to personal data."""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from vru.web.core.clientip import client_ip

from .models import AuditLog


def audit(request_or_user, action: str, obj, purpose: str) -> AuditLog:
    """Append an AuditLog entry and return it.

    ``request_or_user``: an HttpRequest (its user and the client's address are recorded: behind a trusted
    reverse proxy the address it forwards, ``vru.web.core.clientip``) or a User.
    ``obj``: a model instance (recorded as ``app_label.model`` and its primary key), a ``(type, id)`` pair,
    or None for an action on no single object (an export, a search).
    ``purpose``: why the data was accessed; required, since an access without a purpose is not auditable.
    """
    ip = None
    if isinstance(request_or_user, HttpRequest):
        user = getattr(request_or_user, "user", None)
        ip = client_ip(request_or_user) or None
    else:
        user = request_or_user
    if user is None or not getattr(user, "is_authenticated", False):
        raise ValueError("audit() needs an authenticated user")
    if not action or not action.strip():
        raise ValueError("audit() needs an action")
    if not purpose or not purpose.strip():
        raise ValueError("audit() needs a purpose")
    if obj is None:
        object_type, object_id = "", ""
    elif isinstance(obj, models.Model):
        if obj.pk is None:
            raise ValueError("audit() needs a saved object (it has no primary key)")
        object_type, object_id = obj._meta.label_lower, str(obj.pk)
    else:
        object_type, object_id = (str(x) for x in obj)
    return AuditLog.objects.create(
        user=user,
        user_email=user.email,
        action=action.strip(),
        object_type=object_type,
        object_id=object_id,
        purpose=purpose.strip(),
        ip_address=ip,
    )
