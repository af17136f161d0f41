"""Signposting shortlists: a youth worker or police officer picks opportunities for a young person and
hands them over as a link or a printed sheet.

The shortlist exists only in the URL (``?ids=12,40,7``): no database row, nothing about the young
person, nothing about who made it. Opening the link needs no account, and shows only opportunities
that are still live (the others are counted as "no longer available").
"""

from __future__ import annotations

from urllib.parse import urlencode

from .lifecycle import live_q
from .models import Opportunity

MAX_ITEMS = 30


def parse_ids(value: str | None) -> list[int]:
    """Opportunity ids from ``"12,40,7"``: in order, without repeats or junk, at most MAX_ITEMS."""
    ids: list[int] = []
    for part in (value or "").replace(" ", ",").split(","):
        if part.isdigit() and 0 < int(part) < 2**63 and int(part) not in ids:
            ids.append(int(part))
    return ids[:MAX_ITEMS]


def format_ids(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


def with_item(ids: list[int], pk: int) -> list[int]:
    return ids if pk in ids else (ids + [pk])[:MAX_ITEMS]


def without_item(ids: list[int], pk: int) -> list[int]:
    return [i for i in ids if i != pk]


def query(ids: list[int]) -> str:
    return urlencode({"ids": format_ids(ids)}) if ids else ""


def items(ids: list[int]) -> tuple[list[Opportunity], int]:
    """The live opportunities of the shortlist, in its order, and how many are no longer available."""
    found = {o.pk: o for o in Opportunity.objects.filter(live_q(), pk__in=ids).select_related("provider")}
    return [found[i] for i in ids if i in found], sum(1 for i in ids if i not in found)
