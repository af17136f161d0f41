"""Helpers shared by several of the programme web test modules."""

from __future__ import annotations

import csv
import io
import json
import math

from django.db import connection
from django.urls import reverse
from factories import SOUTHWARK, SQUARE

from vru.outputs import csvsafe
from vru.web.programme.models import (
    AGE_BAND_FIELDS,
    Consortium,
    Grant,
    GrantStatusChange,
    Intervention,
    Membership,
    ProgrammeArea,
)


def _intervention_post(**over):
    data = {"kind": "youth_work", "name": "Friday club", "year": "2022", "sessions_delivered": "30",
            "reached_under_10": "0", "reached_10_13": "4", "reached_14_17": "9", "reached_18_24": "2",
            "reached_25_plus": "0"}
    data.update(over)
    return data


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _form_area_post(**over):
    data = {"name": "Rockingham estate (test)", "kind": "estate", "borough": SOUTHWARK,
            "selected_year": "2024", "funding_round": "2",
            "lsoa_codes": "e01003911\nE01003912, E01003913", "geometry": json.dumps(SQUARE)}
    data.update(over)
    return data


def _consortium_post(w, **over):
    alpha, beta, gamma = w["orgs"]
    data = {"name": "New consortium (test)", "area": str(w["areas"][0].pk), "lead": str(beta.pk),
            "members": [str(beta.pk), str(gamma.pk)]}
    data.update(over)
    return data


def _grant_post(w, **over):
    data = {"reference": "T-NEW", "consortium": str(w["consortium"].pk), "amount_requested": "745000",
            "cap": "750000", "start_date": "2024-09-01", "end_date": "2025-08-31"}
    data.update(over)
    return data


def _form_counts():
    return (ProgrammeArea.objects.count(), Consortium.objects.count(), Membership.objects.count(),
            Grant.objects.count(), GrantStatusChange.objects.count())


def _error_next_to(html: str, field: str, text: str) -> bool:
    """The GOV.UK error message for ``field`` (``core/field.html``) holds ``text``."""
    marker = f'id="id_{field}-error" class="govuk-error-message">'
    if marker not in html:
        return False
    return text in html.split(marker, 1)[1].split("</p>", 1)[0]


ATTACK = 2**63 - 1  # 9223372036854775807: accepted before the bounds, and SQLite's SUM then overflowed


COUNTS = ["sessions_delivered", *AGE_BAND_FIELDS]


SQLITE = connection.vendor == "sqlite"


def _bounds_counts():
    return [m.objects.count() for m in (ProgrammeArea, Consortium, Membership, Grant, GrantStatusChange,
                                        Intervention)]


def _bounds_error_next_to(html: str, field: str, text: str) -> bool:
    marker = f'id="id_{field}-error" class="govuk-error-message">'
    return marker in html and text in html.split(marker, 1)[1].split("</p>", 1)[0]


def _export(client, table) -> bytes:
    r = client.get(reverse("programme:export", kwargs={"table": table}))
    assert r.status_code == 200
    return r.content


def _formula(cell: str) -> bool:
    """Would a spreadsheet run this cell (it starts with a trigger and is not a number)?"""
    return bool(cell) and cell[0] in csvsafe.TRIGGERS and not csvsafe._is_number(cell)


def _cells(data: bytes):
    return [c for row in csv.reader(io.StringIO(data.decode(), newline="")) for c in row]


def _circle(n: int) -> dict:
    """A valid polygon in Southwark with ``n`` vertices, written with many decimals."""
    pts = [[round(-0.085 + 0.003 * math.cos(2 * math.pi * i / n), 12),
            round(51.473 + 0.002 * math.sin(2 * math.pi * i / n), 12)] for i in range(n)]
    return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}


def _bounds_area_post(**over):
    data = {"name": "Large estate (test)", "kind": "estate", "borough": SOUTHWARK, "selected_year": "2024",
            "funding_round": "2", "lsoa_codes": "", "geometry": json.dumps(SQUARE)}
    data.update(over)
    return data
