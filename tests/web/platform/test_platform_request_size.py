"""Request size limits: a body over its page's limit is refused (413) before it is read, under WSGI and
ASGI, chunked or not; the upload pages (and the admin's boundary form) take their own, larger limits."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from factories import signed_in, user
from platform_helpers import Body, asgi, superuser, wsgi

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/accounts/login/", "/opportunities/sign-up/", "/programme/import/"])
def test_an_anonymous_50_mb_body_is_refused_before_it_is_read(path):
    size = 50 * 1024 * 1024
    body = Body(size, allowed=0)  # reading one byte of it fails the test: no timing needed
    status, content, _ = wsgi(path, body, CONTENT_LENGTH=str(size))
    assert status == 413 and b"too large" in content and body.read_bytes == 0


@pytest.mark.parametrize(("path", "size", "expected"), [
    ("/accounts/login/", 5 * 1024 * 1024, 413),  # over the page's limit, under the proxy's
    ("/programme/import/", 10 * 1024 * 1024, 403),  # under the page's limit, no CSRF token: 403 unread
])
def test_a_refused_body_the_proxy_let_through_is_read_to_its_end_before_the_answer(path, size, expected):
    """gunicorn closing a socket with unread bytes makes the kernel send a reset, and nginx then shows
    "502 Bad Gateway" instead of the page's answer (seen in CI, tests/web/test_deployment.py): a refused
    body no longer than the largest page limit is read and dropped, whatever refused it."""
    body = Body(size, allowed=size)
    status, _, _ = wsgi(path, body, CONTENT_LENGTH=str(size), CONTENT_TYPE="application/octet-stream")
    assert status == expected and body.read_bytes == size


def test_a_chunked_body_is_read_at_most_one_byte_past_the_limit(settings):
    limit = settings.VRU_WEB_MAX_BODY_BYTES
    body = Body(50 * 1024 * 1024, allowed=limit + 1)
    status, _, _ = wsgi("/accounts/login/", body, HTTP_TRANSFER_ENCODING="chunked",
                         **{"wsgi.input_terminated": True})
    assert status == 413 and body.read_bytes == limit + 1
    # a server that cannot end a chunked body: refused without reading
    status, _, _ = wsgi("/accounts/login/", Body(10, allowed=0), HTTP_TRANSFER_ENCODING="chunked")
    assert status == 411


def test_a_small_chunked_form_still_reaches_the_view(alice):
    token = Client().get(reverse("login")).cookies["csrftoken"].value
    body = f"csrfmiddlewaretoken={token}&username=alice%40example.org&password=wrong".encode()
    status, content, _ = wsgi("/accounts/login/", io.BytesIO(body), HTTP_TRANSFER_ENCODING="chunked",
                               HTTP_COOKIE=f"csrftoken={token}", **{"wsgi.input_terminated": True})
    assert status == 200 and b"did not match" in content  # the form was read and checked


def test_under_asgi_a_body_over_the_limit_is_refused_while_it_arrives(settings):
    """Django's ASGI handler reads the whole body before any middleware: vru.web.asgi.BodyLimit applies
    the same per-page limits around it, on Content-Length before reading and on a chunked body as soon
    as it passes the limit."""
    limit = settings.VRU_WEB_MAX_BODY_BYTES
    size = 50 * 1024 * 1024
    status, body, asked = asgi("/accounts/login/", [b"x" * 1024], [(b"content-length", str(size).encode())])
    assert status == 413 and b"too large" in body and asked == 0
    chunk = b"x" * (256 * 1024)
    many = [chunk] * (size // len(chunk))
    status, body, asked = asgi("/accounts/login/", many, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and asked == limit // len(chunk) + 1  # stopped one chunk past the limit
    # the import page takes its own, larger limit; a small form reaches Django (403: no CSRF token)
    status, _, _ = asgi("/programme/import/", [b"x" * (limit + 1)], [])
    assert status != 413
    status, _, _ = asgi("/accounts/login/", [b"username=a&password=b"],
                         [(b"content-type", b"application/x-www-form-urlencoded")])
    assert status == 403


def test_the_upload_pages_accept_their_forms_own_limits(settings):
    from vru.web.programme import csvio, forms
    limits = settings.VRU_WEB_UPLOAD_LIMITS
    assert limits["programme:import"] > csvio.MAX_BYTES
    assert limits["programme:area_create"] == limits["programme:area_edit"] > forms.MAX_GEOJSON_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > forms.MAX_GEOJSON_BYTES  # a pasted boundary
    assert max(limits.values()) <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE  # uploads never touch the disk


def test_a_5_mb_upload_reaches_the_import_form_and_a_5_mb_boundary_the_area_form():
    c = signed_in(user("pm@example.org", "programme manager"))
    f = io.BytesIO(b"name\n" + b"x" * (5 * 1024 * 1024) + b"\n")
    f.name = "areas.csv"
    r = c.post(reverse("programme:import"), {"table": "areas", "file": f})
    assert r.status_code == 200
    assert "nothing was imported" in r.content.decode()  # the import's own checks answered
    big = json.dumps({"type": "Polygon", "coordinates": [[[0.0, 51.5]] * 380_000]})
    assert 4.5 * 1024 * 1024 < len(big) < 5 * 1024 * 1024
    r = c.post(reverse("programme:area_create"), {"name": "Big", "kind": "estate", "geometry": big})
    assert r.status_code == 200 and "govuk-error-summary" in r.content.decode()
    # every other page: the default limit
    r = c.post(reverse("login"), {"username": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413


def test_a_boundary_over_1_mb_is_saved_from_the_admin(settings):
    import math

    from vru.web.middleware import limit_for_path
    from vru.web.programme.models import ProgrammeArea

    add = reverse("admin:programme_programmearea_add")
    assert limit_for_path(add) == settings.VRU_WEB_UPLOAD_LIMITS["programme:area_create"]
    ring = [[round(-0.1156 + 0.01 * math.cos(2 * math.pi * i / 90_000), 6),
             round(51.4613 + 0.006 * math.sin(2 * math.pi * i / 90_000), 6)] for i in range(90_000)]
    geometry = json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert 1.5 * 1024 * 1024 < len(geometry) < 5 * 1024 * 1024
    root = superuser()
    c = signed_in(root)
    r = c.post(add, {"name": "Big estate", "kind": "estate", "borough": "E09000022", "lsoa_codes": "[]",
                     "geometry": geometry, "selected_year": 2024, "funding_round": 1, "_save": "Save"})
    assert r.status_code == 302, r.content.decode()[:2000]
    area = ProgrammeArea.objects.get(name="Big estate")
    assert len(area.geometry["coordinates"][0]) > 80_000
    change = reverse("admin:programme_programmearea_change", args=[area.pk])
    assert limit_for_path(change) == limit_for_path(add)
    r = c.post(change, {"name": "Big estate", "kind": "estate", "borough": "E09000022", "lsoa_codes": "[]",
                        "geometry": geometry, "selected_year": 2025, "funding_round": 1, "_save": "Save"})
    assert r.status_code == 302 and ProgrammeArea.objects.get(pk=area.pk).selected_year == 2025
