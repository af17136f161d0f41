"""The user name django-axes counts failures against."""

from __future__ import annotations


def lockout_username(request, credentials: dict | None) -> str | None:
    """The email address from the login credentials (or the POSTed form), lower-cased and stripped.

    Lower-casing stops ``Alice@x`` and ``alice@x`` counting as different users; the form field is
    ``username`` (Django's AuthenticationForm) while backends may pass ``email`` (USERNAME_FIELD).
    """
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if not value and request is not None:
        data = getattr(request, "POST", None) or {}
        value = data.get("username") or data.get("email")
    return value.strip().lower() if value else None
