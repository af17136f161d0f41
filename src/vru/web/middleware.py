"""A Content-Security-Policy header on every response (until Django 6's built-in CSP is available)."""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Set ``Content-Security-Policy`` from ``settings.VRU_CSP`` unless the view already set one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "VRU_CSP", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
