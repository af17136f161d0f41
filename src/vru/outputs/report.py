"""The needs assessment: a single offline HTML file written from the warehouse.

The report runs each pipeline of :data:`vru.pipelines.REPORT` in turn and presents its result with
the module of the same name in :mod:`vru.outputs.sections`: summary, trends, league table, maps and
street-level data (``london``); hot spots; drivers; targeting; evaluation; trust and confidence;
reconciliation of overlapping sources and the data sources (``sources``). A pipeline that finds
the warehouse without its data (:class:`vru.pipelines.base.MissingData`) leaves its sections out,
and the data-sources section says which and why. This module only assembles. The HTML embeds all
charts as inline SVG and all styles inline: it makes no network request when opened.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import jinja2

import vru
from vru import format as fmt
from vru.outputs.html import Section
from vru.pipelines import REPORT
from vru.pipelines.base import MissingData
from vru.warehouse.store import Warehouse

#: The steps :func:`build` reports to its progress callback: one per pipeline.
STEPS = len(REPORT)


def _sections(out: Section | list[Section]) -> list[Section]:
    return [out] if isinstance(out, Section) else list(out)


def build(wh: Warehouse, progress: Callable[[str, int], None] | None = None) -> list[Section]:
    """Every section, in report order. ``progress(name, total)`` is called after each of
    :data:`STEPS` pipelines."""
    done = progress or (lambda _name, _total: None)
    out: list[Section] = []
    left_out: list[tuple[str, str]] = []
    for name in REPORT:
        try:
            result = importlib.import_module(f"vru.pipelines.{name}").run(wh)
        except MissingData as e:
            left_out.append((name, str(e)))
            secs = []
        else:
            if name == "sources":  # the last section: it lists what was left out
                result = dataclasses.replace(result, left_out=tuple(left_out))
            secs = _sections(importlib.import_module(f"vru.outputs.sections.{name}").present(result))
        out += secs
        done(name, STEPS)
    return out


def render(sections: list[Section], title: str = "Serious violence needs assessment: London") -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vru.outputs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    env.filters.update(fmt.FILTERS)
    return env.get_template("report.html.j2").render(
        title=title, sections=sections, version=vru.__version__, generated=date.today()
    )


def report_html(wh: Warehouse, progress: Callable[[str, int], None] | None = None) -> str:
    """The needs assessment built from the warehouse, as one HTML page."""
    return render(build(wh, progress))


def write_report(wh: Warehouse, out: str | Path,
                 progress: Callable[[str, int], None] | None = None) -> Path:
    """Build the needs assessment from the warehouse and write it to ``out`` (one HTML file)."""
    text = report_html(wh, progress)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report behind
    return out
