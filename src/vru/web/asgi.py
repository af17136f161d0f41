"""ASGI entry point: ``uvicorn vru.web.asgi:application``.

Django's ASGI handler reads the whole request body (into memory, then a temporary file) before any
middleware runs, so ``RequestSizeLimitMiddleware`` would see it too late. :class:`BodyLimit` wraps the
application and applies the same per-page limits (``vru.web.middleware.limit_for_path``) while the
body arrives: a ``Content-Length`` over the limit is answered 413 before a byte is read, and a chunked
body is cut off (413) as soon as it passes the limit. Its answers are those of the WSGI middleware
(``vru.web.core.errors.error_body``: JSON ``{"detail", "request_id"}`` under ``/api/``, text elsewhere),
with a request id of their own in ``X-Request-ID``.
"""

import os
import uuid

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.web.settings")
django_application = get_asgi_application()

from vru.web.core.errors import error_body  # noqa: E402  (needs the settings configured above)
from vru.web.middleware import limit_for_path, too_large_detail  # noqa: E402


class BodyLimit:
    """ASGI middleware: 413 for a request body over its page's limit, decided while it is received."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        limit = limit_for_path(path)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    return await _answer(send, path, 400, "Bad Content-Length.")
                if size > limit:
                    return await _answer(send, path, 413, too_large_detail(limit))
        got = 0
        over = False

        async def limited_receive():
            nonlocal got, over
            message = await receive()
            if message["type"] == "http.request":
                got += len(message.get("body", b""))
                if got > limit:
                    over = True
                    # Django's handler stops reading and sends nothing on a disconnect; we answer.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited_receive, send)
        if over:
            await _answer(send, path, 413, too_large_detail(limit))


async def _answer(send, path: str, status: int, detail: str) -> None:
    request_id = uuid.uuid4().hex
    body, content_type = error_body(path, detail, request_id)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-request-id", request_id.encode())]})
    await send({"type": "http.response.body", "body": body})


application = BodyLimit(django_application)
