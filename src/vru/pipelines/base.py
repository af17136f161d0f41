"""What every pipeline shares: validated parameters, the missing-data signal, JSON-ready results."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Self

import numpy as np

from vru import taxonomy
from vru.errors import VRUError
from vru.plain import jsonable as jsonable  # re-exported: the pipelines' converter
from vru.sources import catalogue


class ParamsError(VRUError, ValueError):
    """A parameter of a pipeline is unknown or has an impossible value; the message names it."""


class MissingData(VRUError):
    """The warehouse lacks the data a pipeline needs. The report leaves the section out (and says
    so in its sources section); the CLI and the API show the message."""


class Params:
    """Mixin for a pipeline's frozen parameter dataclass.

    Subclasses are ``@dataclass(frozen=True)`` and check their values in ``__post_init__`` (raise
    :class:`ParamsError` naming the field). Build them with :meth:`of`.
    """

    @classmethod
    def of(cls, params: Self | None = None, /, **overrides: Any) -> Self:
        """``params`` (default: every default) with keyword ``overrides``; an unknown name is refused
        with the list of known ones. ``None`` overrides are ignored (a CLI option not given)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        bad = sorted(set(overrides) - names)
        if bad:
            raise ParamsError(f"unknown parameter {bad[0]!r}: one of {', '.join(sorted(names))}")
        given = {k: v for k, v in overrides.items() if v is not None}
        base = params if params is not None else cls()
        return dataclasses.replace(base, **given) if given else base  # type: ignore[type-var]

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready Python (tuples become lists)."""
        return jsonable(dataclasses.asdict(self))  # type: ignore[call-overload]


# -- checks of the values the pipelines' parameters share (each raises ParamsError naming the field) --

def check_year(name: str, value: Any, example: int = 2020) -> int:
    """``value`` as a year: a whole number (numpy's too) from 1900 to 2100."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1900 <= value <= 2100:
        raise ParamsError(f"{name}: a year such as {example}, not {value!r}")
    return int(value)


def check_source(name: str, value: Any) -> None:
    """``value`` is the key of a source of the catalogue (:mod:`vru.sources.catalogue`)."""
    keys = {s.key for s in catalogue.CATALOGUE}
    if value not in keys:
        raise ParamsError(f"{name}: a source of the catalogue ({', '.join(sorted(keys))}), not {value!r}")


def check_category(name: str, value: Any) -> None:
    """``value`` is a harmonised crime category (:mod:`vru.taxonomy`); the refusal suggests the
    closest one."""
    known = list(taxonomy.categories()["code"])
    if not isinstance(value, str) or value not in known:
        close = difflib.get_close_matches(str(value), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParamsError(f"{name}: unknown harmonised category {value!r}{hint}; the categories are "
                          "listed in docs/taxonomy.md")
