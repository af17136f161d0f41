"""The platform's own middleware:

- ``ContentSecurityPolicyMiddleware``: a Content-Security-Policy header on every response (until
  Django 6's built-in CSP is available);
- ``RequestSizeLimitMiddleware``: refuses (413) a request body larger than its view accepts, before a
  byte of it is read (and then drops the unread rest of any body the reverse proxy let through);
- ``RequestIdMiddleware``: gives each request an id (``request.request_id``, the ``X-Request-ID``
  response header) that every log line of the request and the API's error answers carry
  (``vru.web.core.logs``, ``vru.web.core.errors``).
"""

from __future__ import annotations

import io
import uuid

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse
from django.urls import Resolver404, resolve

from vru.web.core import logs
from vru.web.core.errors import error_body


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


def limit_for_path(path_info: str) -> int:
    """The most bytes of request body the view at ``path_info`` accepts:
    ``settings.VRU_WEB_UPLOAD_LIMITS[url name]`` for the pages that take an upload, else
    ``settings.VRU_WEB_MAX_BODY_BYTES``."""
    default = settings.VRU_WEB_MAX_BODY_BYTES
    uploads = getattr(settings, "VRU_WEB_UPLOAD_LIMITS", {})
    if not uploads:
        return default
    try:
        name = resolve(path_info).view_name
    except Resolver404:
        return default
    return uploads.get(name, default)


def body_limit(request) -> int:
    """:func:`limit_for_path` of the request's path."""
    return limit_for_path(request.path_info)


def too_large_detail(limit: int) -> str:
    return f"Request body too large: this page accepts at most {limit / (1024 * 1024):g} MB."


def _refuse(request, status: int, detail: str) -> HttpResponse:
    """The answer of a refused body: JSON under /api/, text elsewhere (``vru.web.core.errors.error_body``)."""
    body, content_type = error_body(request.path_info, detail, getattr(request, "request_id", None))
    return HttpResponse(body, status=status, content_type=content_type)


class RequestSizeLimitMiddleware:
    """413 for a body over the view's limit, decided on ``Content-Length`` before anything reads it.

    Django's own limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``) stop only the form fields held in memory; an
    uploaded file of any size is streamed to disk by the multipart parser, which the CSRF check runs on
    every POST. A body sent without ``Content-Length`` (chunked) is read here, at most limit + 1 bytes,
    and refused when longer; a server that cannot mark the end of such a body (``wsgi.input_terminated``)
    gets 411. Must come before any middleware that reads ``request.POST`` (the CSRF middleware).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._answer(request)
        self._discard_unread_body(request)
        return response

    def _answer(self, request):
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                size = int(length)
            except ValueError:
                return _refuse(request, 400, "Bad Content-Length.")
            if size > settings.VRU_WEB_MAX_BODY_BYTES and size > body_limit(request):
                return _refuse(request, 413, too_large_detail(body_limit(request)))
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            refused = self._read_chunked(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _discard_unread_body(request) -> None:
        """Read and drop what nobody read of a body no longer than the largest page limit (the reverse
        proxy's own limit, docs/deploy/nginx.conf) before the answer goes out.

        A refused request (this 413, a CSRF 403, a login redirect) is answered without reading its body.
        gunicorn then closes a socket with unread bytes in it, which the kernel answers with a reset,
        and nginx, still sending the body or not yet reading the answer, gives the user "502 Bad
        Gateway" instead of the page's own message. Reading is cheap up to that limit (the proxy holds
        the body already); a longer body (a client talking to gunicorn directly) is left unread."""
        if "wsgi.input" not in request.META:
            return  # ASGI: the handler has read the body already
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        cap = max([settings.VRU_WEB_MAX_BODY_BYTES, *getattr(settings, "VRU_WEB_UPLOAD_LIMITS", {}).values()])
        if not 0 < length <= cap:
            return
        try:
            while request.read(64 * 1024):  # b"" at once where a view or the form parser read it all
                pass
        except OSError:  # UnreadablePostError: the client went away
            return

    @staticmethod
    def _read_chunked(request):
        stream = request.META.get("wsgi.input")
        if stream is None:
            return None  # ASGI: Django's handler has read the body, under vru.web.asgi.BodyLimit's limit
        if not request.META.get("wsgi.input_terminated"):
            return _refuse(request, 411, "Length required.")
        limit = body_limit(request)
        chunks, got = [], 0
        while got <= limit:
            chunk = stream.read(min(64 * 1024, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            return _refuse(request, 413, too_large_detail(limit))
        body = b"".join(chunks)
        # Django reads a body by CONTENT_LENGTH: hand it the bytes read, as if they had come with one.
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None


class RequestIdMiddleware:
    """A random id for each request: ``request.request_id``, the ``X-Request-ID`` response header, the
    ``request_id`` of every log line written while serving it (``vru.web.core.logs``) and of the API's
    error answers, so that a user's report can be matched with the log. Comes first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        token = logs.current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            logs.current_request.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
