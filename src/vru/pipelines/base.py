"""What every pipeline shares: validated parameters, the missing-data signal, JSON-ready results."""

from __future__ import annotations

import dataclasses
from typing import Any, Self

from vru.errors import VRUError
from vru.plain import jsonable as jsonable  # re-exported: the pipelines' converter


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
