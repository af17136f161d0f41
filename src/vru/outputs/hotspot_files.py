"""The files of ``vru hotspots``: a hot spot result (:mod:`vru.pipelines.hotspots`) as CSV,
GeoJSON or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from vru.outputs import csvsafe
from vru.pipelines.hotspots import HotspotTable

FORMATS = ("csv", "geojson", "json")


def render(result: HotspotTable, fmt: str) -> str:
    """``result`` as text: ``csv`` (one row per area, no geometry), ``geojson`` (WGS 84, as
    RFC 7946 asks) or ``json`` (``{"parameters", "source", "periods", "notes", "weights",
    "method", "areas": [...]}``, no geometry: :meth:`HotspotTable.as_dict`)."""
    fmt = fmt.lower()
    if fmt == "csv":
        return csvsafe.safe_frame(result.frame()).to_csv(index=False, quoting=csvsafe.QUOTING)
    if fmt == "geojson":
        return result.areas.to_crs(4326).to_json(na="null", drop_id=True)
    if fmt == "json":
        return json.dumps(result.as_dict(), indent=1, default=str)
    raise ValueError(f"unknown output format {fmt!r}: csv, geojson or json")


def write(result: HotspotTable, path: str | Path, fmt: str | None = None) -> Path:
    """:func:`render` into ``path``; ``fmt`` defaults to the file's extension."""
    path = Path(path)
    text = render(result, fmt or path.suffix.lstrip("."))
    path.write_text(text, encoding="utf-8", newline="")
    return path


__all__ = ["FORMATS", "render", "write"]
