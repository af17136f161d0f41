"""The presentation of each pipeline's result: its section of the needs assessment.

A module here has ``present(result) -> Section | list[Section]``. It takes a pipeline's ``Result``
(:mod:`vru.pipelines`) and nothing else: it never reads the warehouse or calls a method. Prose lives
in Jinja templates under ``vru/outputs/templates/sections/``, rendered with :func:`render`, whose
filters are the shared formatter :mod:`vru.format`; tables and figures come from
:mod:`vru.outputs.html` and the ``charts*`` modules.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from vru import format as fmt
from vru.outputs.html import Section


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja environment of the section templates, with :data:`vru.format.FILTERS` as filters.
    Autoescaping is on: values are escaped unless marked ``|safe`` (tables and figures, which
    :mod:`vru.outputs.html` builds with escaped values)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vru.outputs", "templates/sections"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name is an error, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt.FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    """The HTML of ``templates/sections/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)


def section(id: str, title: str, template: str, **context: Any) -> Section:
    """A report section whose body is the rendered ``template``."""
    return Section(id, title, render(template, **context))
