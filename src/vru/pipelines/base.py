"""What every pipeline shares: validated parameters, the missing-data signal, JSON-ready results."""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from typing import Any, Self, cast

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


class _NotGiven:
    """The type of :data:`NOT_GIVEN`."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: An override of :meth:`Params.of` that leaves the field as it is (an option the user did not give).
NOT_GIVEN: Any = _NotGiven()


_NULLABLE: dict[type, frozenset[str]] = {}


def _admits_none(cls: type) -> frozenset[str]:
    """The fields of the dataclass ``cls`` whose type admits ``None``."""
    if cls not in _NULLABLE:
        try:
            hints = typing.get_type_hints(cls)
            names = frozenset(n for n, h in hints.items() if type(None) in typing.get_args(h))
        except (NameError, TypeError):
            names = frozenset(f.name for f in dataclasses.fields(cls) if "None" in str(f.type))
        _NULLABLE[cls] = names
    return _NULLABLE[cls]


class Params:
    """Mixin for a pipeline's frozen parameter dataclass.

    Subclasses are ``@dataclass(frozen=True)`` and check their values in ``__post_init__`` (raise
    :class:`ParamsError` naming the field). Build them with :meth:`of`.
    """

    @classmethod
    def of(cls, params: Self | None = None, /, **overrides: Any) -> Self:
        """``params`` (default: every default) with keyword ``overrides``; an unknown name is refused
        with the list of known ones.

        An override of :data:`NOT_GIVEN` leaves its field as it is. ``None`` is set where the field's
        type admits it (``of(p, fdr=None)``: no correction) and otherwise also means "not given", so
        a caller may pass an option the user left out as ``None`` (the CLI and the dashboard's forms
        do); for a field that admits ``None`` such a caller passes :data:`NOT_GIVEN` or leaves the
        name out."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        bad = sorted(set(overrides) - names)
        if bad:
            raise ParamsError(f"unknown parameter {bad[0]!r}: one of {', '.join(sorted(names))}")
        nullable = _admits_none(cls)
        given = {k: v for k, v in overrides.items()
                 if v is not NOT_GIVEN and (v is not None or k in nullable)}
        base = params if params is not None else cls()
        return dataclasses.replace(base, **given) if given else base  # type: ignore[type-var]

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready Python (tuples become lists)."""
        return cast(dict[str, Any], jsonable(dataclasses.asdict(self)))  # type: ignore[call-overload]


# -- checks of the values the pipelines' parameters share (each raises ParamsError naming the field) --

def check_year(name: str, value: Any, example: int = 2020) -> int:
    """``value`` as a year: a whole number (numpy's too) from 1900 to 2100."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1900 <= value <= 2100:
        raise ParamsError(f"{name}: a year such as {example}, not {value!r}")
    return int(value)


def check_source(name: str, value: Any) -> None:
    """``value`` is the key of a source of the catalogue (:mod:`vru.sources.catalogue`)."""
    keys = {s.key for s in catalogue.CATALOGUE}
    if not isinstance(value, str) or value not in keys:
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


def check_categories(name: str, value: Any) -> tuple[str, ...]:
    """``value`` (a comma-separated string or a sequence) as a tuple of harmonised categories: at
    least one, each known (:func:`check_category`), none repeated and none part of another (both
    would count the same crimes twice)."""
    if isinstance(value, str):
        value = [c.strip() for c in value.split(",") if c.strip()]
    try:
        cats = tuple(value)
    except TypeError:
        raise ParamsError(f"{name}: crime category codes are needed, not {value!r}") from None
    if not cats:
        raise ParamsError(f"{name}: no crime category given")
    for c in cats:
        check_category(name, c)
    seen: set[str] = set()
    for c in cats:
        if c in seen:
            raise ParamsError(f"{name}: {c!r} is given twice")
        seen.add(c)
    for a in cats:
        for b in cats:
            if a != b and a in taxonomy.descendants(b):
                raise ParamsError(f"{name} overlap: {a!r} is part of {b!r}")
    return cats


def check_chi_file(weighting: str, chi_file: Any) -> str | None:
    """``chi_file`` as a path string (or ``None``); ``weighting="chi"`` needs one, as no Cambridge
    Crime Harm Index table ships with the platform (:mod:`vru.analysis.harm`)."""
    if chi_file is not None and not isinstance(chi_file, str | os.PathLike):
        raise ParamsError(f"chi_file: the path of a CSV file, not {chi_file!r}")
    if weighting == "chi" and chi_file is None:
        raise ParamsError("chi_file: weighting 'chi' needs a Cambridge Crime Harm Index table (none "
                          "ships with the platform): a CSV with columns 'category' (or "
                          "'offence_code') and 'days'; or use weighting 'css' or 'count'")
    return None if chi_file is None else os.fspath(chi_file)
