"""Statistical disclosure control for published survey tables: cell suppression.

A published table of respondent counts (and anything computed from them: weighted percentages,
confidence intervals) must never reveal a cell resting on fewer than ``min_n`` respondents
(default 50, unweighted), neither directly nor through totals.

Method
------
1. **Primary suppression.** Every cell, *totals included*, with fewer than ``min_n`` respondents
   is suppressed (a zero cell too: it reveals that a group has no respondents).
2. **Secondary (complementary) suppression.** A table with margins is a set of linear
   constraints ``sum(members) == total`` (each row and column of interior cells with its margin;
   the row totals and the column totals with the grand total). If a constraint has exactly one
   suppressed cell, that cell equals the published total minus the published members. Rule: every
   constraint holds either no suppressed cell or at least two. Wherever a constraint holds
   exactly one, the smallest unsuppressed cell of that constraint (ties: first in table order) is
   suppressed too; this is repeated until no constraint holds exactly one suppressed cell (a fixed
   point: each step suppresses one more cell, so it ends). Complementary cells are never below
   ``min_n`` (those are already suppressed), so the smallest-cell choice hides as little as
   possible.
3. **Audit.** The counting rule is necessary but not sufficient: several constraints together
   (and the fact that counts are non-negative) can still pin a cell. For every primarily
   suppressed cell the *feasible interval* given everything published is computed by linear
   programming (minimise and maximise the cell subject to all constraints, the published values
   and non-negativity; :func:`feasible_intervals`, scipy's HiGHS). A cell is protected when its
   interval is wider than ``protection`` (default 0: it must not be pinned to one value; for
   integer counts in a table with margins the constraint matrix is totally unimodular, so the LP
   bounds are integers and a non-zero width means at least two possible counts). If a cell is not
   protected, the smallest unsuppressed cell in a constraint touching its group of linked
   suppressed cells is suppressed, step 2 is re-run, and the audit repeats until every primary
   cell is protected.

This is the classical "at least two suppressions per line" heuristic with a linear-programming
audit (the interval check follows the attacker model of Cox 1980 and of tau-ARGUS' audit; see
``docs/methods-confidence.md``). :func:`suppress_table` and :func:`suppress_series` protect one
table on its own, with its margins, against the "never one value" rule above.

Releases (linked tables)
------------------------
A real release is several tables that share cells: one-way and two-way margins, the same cross
table in either order, a year to date beside its quarters, earlier releases. They are protected
together by::

    protect_release(tables: list[Table], *, published: Ledger | None, min_n) -> Release

``Table(counts, period, population, name)``: interior counts (a Series with named index levels, a
two-way DataFrame with named index and columns, or a number), every documented category listed;
``period``: the base periods covered (a year to date lists its quarters). ``Ledger``: the cells
earlier releases published (:meth:`Ledger.record`; its JSON file: :mod:`vru.outputs.ledger`).
The result holds each table's cells with margins, ``n`` and ``suppressed`` (``published()`` gives
what may be published, with no flag saying why), and the audit of every sensitive cell.

1. **Cells are canonical.** A cell is its population, its (dimension, category) pairs (margins
   leave the dimension out) and its set of base periods. The same cell in two tables, or in either
   order of ``--by``, is one cell with one status, and every choice is made in the canonical order
   (smallest count first, then the key), so the pattern does not depend on the order of the tables
   or of their dimensions.
2. **The attacker's linear system** is built over the finest cells (every category of every
   dimension by every *period atom*: base periods that fall in exactly the same period sets), held
   as the cliques of a junction tree of the dimensions (min-fill triangulation): for tables whose
   dimension sets are decomposable this is exact (non-negative margins that agree on their
   separators always come from some joint table), and a non-decomposable set (a x b, b x c, a x c)
   is triangulated into one clique. Each published cell, this release's and the ledger's, is an
   equation.
3. **Sensitive cells** are every cell of every table (margins included) *and* every cell of each
   table in each period atom of its period (a quarter is a year to date minus its earlier quarters;
   hidden cells of earlier releases stay sensitive). Primary: cells of this release with fewer than
   ``min_n`` respondents, zero included. The counting rule of step 2 above runs on each table's
   lines first.
4. **Audit and rule.** For each sensitive cell that is not published and is not known to hold at
   least ``min_n``, the largest value it can take given every published cell (LP, HiGHS) must be
   at least ``min_n``: the attacker can never show that a cell is small, and so never pins one.
   While it is lower,
   the published cell of this release with a non-zero dual value in that LP (the equations that
   bind the maximum) and the smallest count is suppressed too. Suppressing more only widens every
   interval, so each cell is checked once. ``Release.audit`` reports each bound on the final
   pattern: a bound found before later suppressions is the final one when none of the equations
   hidden since had a non-zero dual value in its LP (that dual solution still proves it), and is
   solved again otherwise. A cell pinned by earlier releases alone cannot be protected and is an
   error.
5. **Cost.** Each cell's 0/1 row over the finest cells is built once, and each pattern's system
   (links, then the published cells in canonical order) once; a HiGHS model of the system is kept
   and only the objective changes from one bound to the next (:class:`_Maximiser`). The LP whose
   duals choose the cell to hide is solved exactly as before, by ``scipy.optimize.linprog``, so
   the choice (and the pattern) does not depend on the warm start.

What this does not cover: an attacker who solves over integers rather than reals (the LP bound is
an upper bound on the integer one; for one two-way table with margins the two agree, for linked
tables the integer bound can be lower), who knows bounds on
individual survey weights, or who links populations (tables of different measures are treated as
unrelated), and cross-classifications never published (a three-way cell behind three two-way
tables is not a sensitive cell). See ``docs/methods-confidence.md``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_MIN_N = 50
TOTAL = "Total"

Constraint = tuple[tuple[int, ...], int]  # (member cell indices, total cell index)


def primary_mask(values, min_n: int = DEFAULT_MIN_N) -> np.ndarray:
    """Cells with fewer than ``min_n`` respondents (including zero)."""
    if min_n < 1:
        raise ValueError("min_n must be at least 1")
    v = np.asarray(values, dtype=float)
    if np.isnan(v).any() or (v < 0).any():
        raise ValueError("counts must be non-negative numbers")
    return v < min_n


def _check(values: np.ndarray, constraints: Sequence[Constraint]) -> None:
    n = len(values)
    for members, total in constraints:
        if not members or total in members:
            raise ValueError(f"bad constraint {members} -> {total}")
        if any(not 0 <= i < n for i in (*members, total)):
            raise ValueError(f"constraint {members} -> {total} refers to a cell out of range")
        if not np.isclose(values[list(members)].sum(), values[total], rtol=1e-9, atol=1e-6):
            raise ValueError(f"cells {members} do not add up to their total cell {total}")


def _complete(values: np.ndarray, constraints: Sequence[Constraint], mask: np.ndarray) -> None:
    """Step 2: add complementary suppressions until no constraint has exactly one (in place)."""
    changed = True
    while changed:
        changed = False
        for members, total in constraints:
            cells = (*members, total)
            if sum(bool(mask[c]) for c in cells) != 1:
                continue
            free = [c for c in cells if not mask[c]]
            best = min(free, key=lambda c: (values[c], c))
            mask[best] = True
            changed = True


def feasible_intervals(values, constraints: Sequence[Constraint], mask,
                       cells: Sequence[int] | None = None) -> pd.DataFrame:
    """The range each suppressed cell can take given every published value and the constraints.

    An attacker knows the published cells, the constraints (rows and columns add up to their
    totals) and that counts are non-negative. For each cell in ``cells`` (default: every
    suppressed cell) this solves ``min x_c`` and ``max x_c`` over the suppressed cells ``x >= 0``
    subject to ``sum(members) == total`` with published values substituted. Returns a frame
    indexed by cell with ``lower``, ``upper`` (``inf`` when unbounded) and ``width``.
    """
    m = np.asarray(mask, dtype=bool)
    audit = _Audit(values, constraints, m)
    want = np.flatnonzero(m) if cells is None else np.asarray(list(cells), dtype=int)
    out = []
    for c in want:
        lo, hi = audit.interval(int(c))
        out.append((int(c), lo, hi, hi - lo))
    return pd.DataFrame(out, columns=["cell", "lower", "upper", "width"]).set_index("cell")


class _Audit:
    """The attacker's linear system for one suppression mask, built once; :meth:`interval` solves the
    two LPs (``min x_c`` and ``max x_c``) of one suppressed cell on it."""

    def __init__(self, values, constraints: Sequence[Constraint], mask: np.ndarray) -> None:
        v = np.asarray(values, dtype=float)
        m = np.asarray(mask, dtype=bool)
        self.mask = m
        hidden = np.flatnonzero(m)
        self.pos = {c: i for i, c in enumerate(hidden)}
        self.n = len(hidden)
        rows, rhs = [], []
        for members, total in constraints:
            coef = np.zeros(self.n)
            b = 0.0
            for c in members:
                if m[c]:
                    coef[self.pos[c]] += 1.0
                else:
                    b -= v[c]
            if m[total]:
                coef[self.pos[total]] -= 1.0
            else:
                b += v[total]
            if coef.any():
                rows.append(coef)
                rhs.append(b)
        self.a_eq = np.array(rows) if rows else None
        self.b_eq = np.array(rhs) if rows else None

    def interval(self, c: int) -> tuple[float, float]:
        from scipy.optimize import linprog

        if not self.mask[c]:
            raise ValueError(f"cell {c} is not suppressed")
        obj = np.zeros(self.n)
        obj[self.pos[c]] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            res = linprog(sign * obj, A_eq=self.a_eq, b_eq=self.b_eq, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded
                bounds.append(-np.inf if sign > 0 else np.inf)
            elif res.status != 0:
                raise RuntimeError(f"audit LP failed for cell {c}: {res.message}")
            else:
                bounds.append(sign * res.fun)
        return max(bounds[0], 0.0), bounds[1]


def _component(start: int, constraints: Sequence[Constraint], mask: np.ndarray) -> set[int]:
    """Suppressed cells linked to ``start`` through constraints holding suppressed cells."""
    seen, todo = {start}, [start]
    while todo:
        c = todo.pop()
        for members, total in constraints:
            cells = (*members, total)
            if c in cells:
                for d in cells:
                    if mask[d] and d not in seen:
                        seen.add(d)
                        todo.append(d)
    return seen


def suppress(values, constraints: Sequence[Constraint], *, min_n: int = DEFAULT_MIN_N,
             primary=None, protection: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary suppression of a linked set of cells (see the module docstring).

    ``values``: respondent counts of every cell (interior cells and totals) as a flat array;
    ``constraints``: ``(members, total)`` index tuples with ``values[members].sum() ==
    values[total]``; ``primary``: a boolean mask overriding the ``< min_n`` rule.

    Returns ``(suppressed, primary)`` boolean masks.
    """
    v = np.asarray(values, dtype=float)
    prim = primary_mask(v, min_n) if primary is None else np.asarray(primary, dtype=bool).copy()
    _check(v, constraints)
    mask = prim.copy()
    _complete(v, constraints, mask)
    tol = 1e-6 * max(1.0, float(v.max(initial=0.0)))  # LP solver tolerance, relative to the table
    # Suppressing a cell more only widens every interval (a published value becomes one more unknown),
    # so a cell found protected stays protected: each pass audits only the cells not yet found so, in
    # table order, and stops at the first weak one (the one the rule acts on), as auditing them all
    # would, with far fewer LPs.
    protected: set[int] = set()
    while True:
        audit = _Audit(v, constraints, mask)
        weak = None
        for c in np.flatnonzero(prim & mask):
            if int(c) in protected:
                continue
            lo, hi = audit.interval(int(c))
            if hi - lo > protection + tol:
                protected.add(int(c))
            else:
                weak = int(c)
                break
        if weak is None:
            break
        group = _component(weak, constraints, mask)
        candidates = {d for members, total in constraints
                      if group & {*members, total} for d in (*members, total) if not mask[d]}
        if not candidates:
            raise RuntimeError(f"cannot protect cell {weak}: every linked cell is hidden")
        mask[min(candidates, key=lambda c: (v[c], c))] = True
        _complete(v, constraints, mask)
    return mask, prim


# -- tables --------------------------------------------------------------------------------------

@dataclass
class Suppressed:
    """A protected table: ``counts`` (with margins), and boolean frames of the same shape."""

    counts: pd.DataFrame
    suppressed: pd.DataFrame
    primary: pd.DataFrame

    def published(self) -> pd.DataFrame:
        """The counts as they may be published: suppressed cells are ``<NA>``."""
        return self.counts.astype("Int64").mask(self.suppressed)


def table_constraints(shape: tuple[int, int], *, row_totals: bool = True,
                      col_totals: bool = True) -> tuple[list[Constraint], tuple[int, int]]:
    """Constraints of an ``R x C`` table laid out with a totals column and/or row (row-major).

    Returns the constraints and the shape of the augmented table. With both margins the grand
    total is the bottom-right cell and is constrained both as the sum of the row totals and of the
    column totals.
    """
    r, c = shape
    rr, cc = r + int(col_totals), c + int(row_totals)

    def at(i: int, j: int) -> int:
        return i * cc + j

    out: list[Constraint] = []
    if row_totals:
        out += [(tuple(at(i, j) for j in range(c)), at(i, c)) for i in range(rr)]
    if col_totals:
        out += [(tuple(at(i, j) for i in range(r)), at(r, j)) for j in range(cc)]
    return out, (rr, cc)


def suppress_table(counts: pd.DataFrame, *, min_n: int = DEFAULT_MIN_N, row_totals: bool = True,
                   col_totals: bool = True, protection: float = 0.0) -> Suppressed:
    """Protect a two-way table of respondent counts (interior cells only; margins are added).

    The totals row/column are labelled ``"Total"``. Every cell (totals included) below ``min_n``
    is suppressed, with complementary suppression so that none can be recovered from the rest.
    """
    if counts.empty:
        raise ValueError("empty table")
    aug = counts.astype(float).copy()
    if row_totals:
        aug[TOTAL] = aug.sum(axis=1)
    if col_totals:
        aug.loc[TOTAL] = aug.sum(axis=0)
    constraints, shape = table_constraints(counts.shape, row_totals=row_totals,
                                           col_totals=col_totals)
    assert aug.shape == shape
    mask, prim = suppress(aug.to_numpy().ravel(), constraints, min_n=min_n, protection=protection)
    frame = lambda m: pd.DataFrame(m.reshape(shape), index=aug.index, columns=aug.columns)  # noqa: E731
    return Suppressed(counts=aug, suppressed=frame(mask), primary=frame(prim))


def suppress_series(counts: pd.Series, *, min_n: int = DEFAULT_MIN_N,
                    protection: float = 0.0) -> Suppressed:
    """Protect a one-way table (groups and their total): a ``1 x C`` table with a totals column."""
    t = suppress_table(pd.DataFrame([counts.to_numpy()], columns=counts.index,
                                    index=[counts.name or "n"]),
                       min_n=min_n, col_totals=False, protection=protection)
    return t


# -- releases: every linked table of a release protected together --------------------------------

#: Internal name of the period dimension (cannot clash with a caller's dimension name).
_PERIOD = "\x00period"
LEDGER_FORMAT = "vru disclosure ledger, version 1"

Key = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]  # ((dim, label) sorted, base periods sorted)


@dataclass(frozen=True)
class Table:
    """One count table of a release.

    ``counts``: respondent counts of the interior cells, every documented category listed (zeros
    included): a Series whose index levels are named after the dimensions, a DataFrame whose index
    and columns are named (a two-way table), or a single number for a table with no dimension.
    ``period``: the base periods the table covers (e.g. ``("2023-Q1", "2023-Q2")``; a year to
    date lists its quarters). ``population``: what is counted (tables of different populations
    share no cells); ``name``: for messages.
    """

    counts: pd.Series | pd.DataFrame | float
    period: tuple[str, ...] | str = ("all",)
    population: str = ""
    name: str = ""

    def periods(self) -> tuple[str, ...]:
        p = (self.period,) if isinstance(self.period, str) else tuple(self.period)
        if not p or any(not isinstance(x, str) or not x for x in p):
            raise ValueError(f"table {self.name!r}: period must be one or more non-empty labels")
        return tuple(sorted(set(p)))

    def interior(self) -> tuple[list[str], dict[str, list[str]], dict[tuple[str, ...], float]]:
        """Dimension names, their categories and the interior counts by label tuple."""
        c = self.counts
        if isinstance(c, pd.DataFrame):
            if c.index.name is None or c.columns.name is None:
                raise ValueError(f"table {self.name!r}: name the index and the columns (the dimensions)")
            c = c.stack(future_stack=True) if hasattr(c, "stack") else c
        if not isinstance(c, pd.Series):
            v = float(c)
            _counts_ok(np.array([v]), self.name)
            return [], {}, {(): v}
        dims = [str(n) if n is not None else "" for n in c.index.names]
        if any(not n for n in dims) or len(set(dims)) != len(dims):
            raise ValueError(f"table {self.name!r}: every dimension needs a distinct name, got {dims}")
        keys = [k if isinstance(k, tuple) else (k,) for k in c.index]
        keys = [tuple(str(x) for x in k) for k in keys]
        cats = {d: list(dict.fromkeys(k[i] for k in keys)) for i, d in enumerate(dims)}
        for d, labels in cats.items():
            if TOTAL in labels:
                raise ValueError(f"table {self.name!r}: {d!r} uses the reserved label {TOTAL!r}")
        if len(set(keys)) != len(keys) or len(keys) != int(np.prod([len(v) for v in cats.values()])):
            raise ValueError(f"table {self.name!r}: list every combination of categories once "
                             f"(zeros included); got {len(keys)} cells for {[len(v) for v in cats.values()]}")
        v = c.to_numpy(dtype=float)
        _counts_ok(v, self.name)
        return dims, cats, dict(zip(keys, v, strict=True))


def _counts_ok(v: np.ndarray, name: str) -> None:
    if np.isnan(v).any() or (v < 0).any() or not np.isfinite(v).all():
        raise ValueError(f"table {name!r}: counts must be non-negative numbers")


def _key(labels: dict[str, str], period) -> Key:
    return (tuple(sorted((d, x) for d, x in labels.items() if x != TOTAL)), tuple(sorted(period)))


def _margins(dims, cats, interior) -> dict[tuple[str, ...], float]:
    """Every cell of the table with its margins: label tuples with ``TOTAL`` in summed dimensions."""
    out: dict[tuple[str, ...], float] = {}
    for k, v in interior.items():
        for keep in itertools.product((True, False), repeat=len(dims)):
            m = tuple(x if kp else TOTAL for x, kp in zip(k, keep, strict=True))
            out[m] = out.get(m, 0.0) + v
    order = [[*cats[d], TOTAL] for d in dims]
    return {m: out[m] for m in itertools.product(*order)}


@dataclass
class Protected:
    """A protected table of a release: ``cells`` has one row per cell (interior and margins; the
    label ``"Total"`` marks a summed dimension), its count ``n`` and ``suppressed``."""

    table: Table
    cells: pd.DataFrame

    def published(self) -> pd.DataFrame:
        """What may be published: the labels and ``n`` (``<NA>`` where suppressed). No flag says why
        a cell is hidden (a "primary" flag would tell the attacker that a cell is small)."""
        out = self.cells.drop(columns=["suppressed"]).copy()
        out["n"] = out["n"].round().astype("Int64").mask(self.cells["suppressed"])
        return out


@dataclass
class Release:
    """The protected tables (in the order given) and the audit of every sensitive cell: its
    ``population``, ``cell`` labels, ``period``, ``n`` (``NaN`` where only implied, e.g. a quarter
    derived from a year to date) and ``upper``, the largest value it can take given everything
    published (this release and the ledger)."""

    tables: list[Protected]
    audit: pd.DataFrame
    min_n: int


@dataclass
class Ledger:
    """Cells published by earlier releases, as the public saw them (hidden cells recorded as
    ``None``: the ledger holds nothing that was not published). Its JSON document is
    :meth:`document` (checked back by :meth:`from_document`); the file is read and written by
    :mod:`vru.outputs.ledger`. :meth:`record` adds a release."""

    tables: list[dict]

    @classmethod
    def empty(cls) -> Ledger:
        return cls([])

    @classmethod
    def from_document(cls, doc, *, where: str = "ledger") -> Ledger:
        """The ledger of a parsed JSON document; ``ValueError`` starting with ``where`` (the file) when
        ``doc`` is not a ledger."""
        if not isinstance(doc, dict) or doc.get("format") != LEDGER_FORMAT:
            raise ValueError(f"{where}: not a disclosure ledger (expected \"format\": \"{LEDGER_FORMAT}\")")
        tables = doc.get("tables")
        if not isinstance(tables, list):
            raise ValueError(f"{where}: \"tables\" must be a list")
        for i, t in enumerate(tables):
            try:
                _ledger_table(t)
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{where}: table {i}: {e}") from None
        return cls(tables)

    def document(self) -> dict:
        """The JSON document of the ledger."""
        return {"format": LEDGER_FORMAT, "tables": self.tables}

    @classmethod
    def from_json(cls, text: str | bytes, *, where: str = "ledger") -> Ledger:
        """The ledger of the content of a ledger file (UTF-8 JSON; :meth:`from_document` of it)."""
        import json

        try:
            doc = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{where}: not a disclosure ledger ({e})") from None
        return cls.from_document(doc, where=where)

    def to_json(self) -> str:
        """The JSON text of a ledger file (what :func:`vru.outputs.ledger.write_ledger` writes)."""
        import json

        return json.dumps(self.document(), indent=1, ensure_ascii=False) + "\n"

    def record(self, release: Release) -> None:
        """Add the published cells of ``release``."""
        for t in release.tables:
            dims, cats, _ = t.table.interior()
            pub = t.published()
            cells = [{"labels": {d: str(r[d]) for d in dims},
                      "n": None if pd.isna(r["n"]) else int(r["n"])} for r in pub.to_dict("records")]
            self.tables.append({"name": t.table.name, "population": t.table.population,
                                "period": list(t.table.periods()), "dimensions": cats, "cells": cells})


LedgerTable = tuple[str, tuple[str, ...], dict[str, list[str]], list[tuple[dict, float | None]]]


def _ledger_table(t: dict) -> LedgerTable:
    pop = str(t["population"])
    period = tuple(sorted(str(x) for x in t["period"]))
    if not period:
        raise ValueError("empty period")
    cats = {str(d): [str(x) for x in v] for d, v in t["dimensions"].items()}
    cells = []
    for c in t["cells"]:
        labels = {str(d): str(x) for d, x in c["labels"].items()}
        if set(labels) != set(cats) or any(x != TOTAL and x not in cats[d] for d, x in labels.items()):
            raise ValueError(f"cell {labels} does not match the dimensions {list(cats)}")
        n = c["n"]
        if n is not None and (not isinstance(n, int | float) or n < 0):
            raise ValueError(f"cell {labels}: n must be a non-negative number or null")
        cells.append((labels, None if n is None else float(n)))
    return pop, period, cats, cells


class _Model:
    """The attacker's linear system for one population: the finest cells, held as the cliques of a
    junction tree over the dimensions (exact: for a decomposable set of margins any locally
    consistent non-negative tables extend to a joint one), and each cell as a 0/1 row."""

    def __init__(self, cats: dict[str, list[str]], edges: list[frozenset[str]]):
        self.cats = cats
        self.cliques = _cliques(sorted(cats), edges)
        self.offset, self.grids, n = [], [], 0
        for c in self.cliques:
            dims = sorted(c)
            shape = [len(cats[d]) for d in dims]
            grid = {d: g.ravel() for d, g in zip(dims, np.indices(shape), strict=True)} if dims else {}
            self.grids.append((dims, grid, int(np.prod(shape))))
            self.offset.append(n)
            n += int(np.prod(shape))
        self.n = n
        self.link_rows = self._links()

    def row(self, labels: dict[str, str], atoms: set[str]) -> np.ndarray:
        """The finest cells (column indices, ascending) that add up to the cell ``labels`` over ``atoms``."""
        need = {d for d, x in labels.items() if x != TOTAL} | {_PERIOD}
        i = min((i for i, c in enumerate(self.cliques) if need <= c), key=lambda i: self.grids[i][2])
        dims, grid, size = self.grids[i]
        sel = np.ones(size, dtype=bool)
        for d in need:
            allowed = atoms if d == _PERIOD else {labels[d]}
            codes = [j for j, x in enumerate(self.cats[d]) if x in allowed]
            sel &= np.isin(grid[d], codes)
        return self.offset[i] + np.flatnonzero(sel)

    def matrix(self, rows: Sequence[np.ndarray]):
        """The 0/1 rows (column indices from :meth:`row`) as one sparse matrix (CSR)."""
        from scipy.sparse import csr_matrix

        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=indptr[1:])
        cols = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        return csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(rows), self.n))

    def _links(self):
        """The equations linking neighbouring cliques of the junction tree (their separator margins
        agree), as a sparse matrix with right-hand side zero."""
        from scipy.sparse import csr_matrix

        data, ri, ci, i = [], [], [], 0
        for a, b in _junction_tree(self.cliques):
            sep = sorted(self.cliques[a] & self.cliques[b])
            for combo in itertools.product(*[range(len(self.cats[d])) for d in sep]):
                for k, sign in ((a, 1.0), (b, -1.0)):
                    _dims, grid, size = self.grids[k]
                    sel = np.ones(size, dtype=bool)
                    for d, v in zip(sep, combo, strict=True):
                        sel &= grid[d] == v
                    j = self.offset[k] + np.flatnonzero(sel)
                    ci.append(j)
                    ri.append(np.full(len(j), i))
                    data.append(np.full(len(j), sign))
                i += 1
        cat = (lambda x, t: np.concatenate(x) if x else np.zeros(0, dtype=t))  # noqa: E731
        return csr_matrix((cat(data, float), (cat(ri, np.int64), cat(ci, np.int64))), shape=(i, self.n))

    def system(self, published):
        """The equality system of the links and the ``published`` rows (a CSR matrix of :meth:`matrix`):
        ``(A, b)`` for :meth:`upper` given the published values ``values``."""
        from scipy.sparse import vstack

        return vstack([self.link_rows, published], format="csr")

    def upper(self, target: np.ndarray, a, b: np.ndarray):
        """Largest value of the sum of the finest cells ``target`` subject to ``a x == b``, ``x >= 0``;
        returns it, the duals of the published rows (after the links) and the maximising point."""
        from scipy.optimize import linprog

        c = np.zeros(self.n)
        c[target] = -1.0
        links = self.link_rows.shape[0]
        if a.shape[0] == 0:
            a, b = None, None
        res = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if res.status == 3:
            return np.inf, np.zeros(0 if b is None else len(b) - links), None
        if res.status != 0:
            raise RuntimeError(f"audit LP failed: {res.message}")
        duals = np.asarray(res.eqlin.marginals)[links:] if a is not None else np.zeros(0)
        return -res.fun, duals, res.x


def _quiet_highs():
    """A ``highspy.Highs`` that writes nothing: its constructor enables the callbacks, which prints the
    HiGHS banner on standard output (where ``vru confidence`` writes its CSV) unless output is off
    first, so output is switched off before the callbacks are enabled."""
    import highspy

    class Quiet(highspy.Highs):
        def __init__(self):
            super(highspy.Highs, self).__init__()  # the solver itself, without the callbacks yet
            self.silent()
            self.callbacks = []
            self.enableCallbacks()

    return Quiet()


class _Maximiser:
    """The largest value of one target after another on one system ``a x == b``, ``x >= 0``: HiGHS
    keeps the model between solves and only the objective changes, so each solve starts from the
    previous basis (about a third of the time of a fresh :meth:`_Model.upper`). It uses ``highspy``,
    the HiGHS project's own Python package (a dependency); a solve that ends in any state but optimal
    or unbounded is answered by :meth:`_Model.upper` (``scipy.optimize.linprog``) instead.
    The optimum value is unique, so either gives the same bound; the duals may be another optimal
    dual solution, so the choice of the cell to hide (which reads duals) never uses this class."""

    def __init__(self, model: _Model, a, b: np.ndarray) -> None:
        self.model, self.a, self.b = model, a, b
        self.links = model.link_rows.shape[0]
        self.highs = None
        if a.shape[0] == 0:
            return
        self.highs, self.cols = self._kept(a, b)

    def _kept(self, a, b):
        import highspy

        n, csc = self.model.n, a.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, a.shape[0]
        lp.col_cost_, lp.col_lower_ = np.zeros(n), np.zeros(n)
        lp.col_upper_ = np.full(n, highspy.kHighsInf)
        lp.row_lower_ = lp.row_upper_ = np.asarray(b, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
        lp.sense_ = highspy.ObjSense.kMaximize
        highs = _quiet_highs()
        if highs.passModel(lp) != highspy.HighsStatus.kOk:  # pragma: no cover - a malformed system
            return None, None
        return highs, np.arange(n, dtype=np.int32)

    def upper(self, target: np.ndarray) -> tuple[float, np.ndarray]:
        """The largest value of the sum of the finest cells ``target`` and the duals of the published rows."""
        if self.highs is not None:
            from highspy import HighsModelStatus

            c = np.zeros(self.model.n)
            c[target] = 1.0
            self.highs.changeColsCost(len(c), self.cols, c)
            self.highs.run()
            status = self.highs.getModelStatus()
            if status == HighsModelStatus.kOptimal:
                duals = np.asarray(self.highs.getSolution().row_dual)[self.links:]
                return float(self.highs.getInfo().objective_function_value), duals
            if status == HighsModelStatus.kUnbounded:
                return np.inf, np.zeros(self.a.shape[0] - self.links)
        return self.model.upper(target, self.a, self.b)[:2]


def _cliques(dims: list[str], edges: list[frozenset[str]]) -> list[frozenset[str]]:
    """Maximal cliques of the triangulated graph of ``edges`` (min-fill elimination, ties by name)."""
    adj = {d: set() for d in [*dims, _PERIOD]}
    for e in edges:
        for a in e:
            adj[a] |= e - {a}
    left, found = set(adj), []
    while left:
        def fill(v):
            nb = adj[v] & left
            return sum(1 for a, b in itertools.combinations(sorted(nb), 2) if b not in adj[a])
        v = min(sorted(left), key=lambda v: (fill(v), len(adj[v] & left)))
        nb = adj[v] & left
        for a, b in itertools.combinations(sorted(nb), 2):
            adj[a].add(b)
            adj[b].add(a)
        found.append(frozenset({v} | nb))
        left.remove(v)
    maximal = [c for c in found if not any(c < o for o in found)]
    return sorted(set(maximal), key=lambda c: (-len(c), sorted(c)))


def _junction_tree(cliques: list[frozenset[str]]) -> list[tuple[int, int]]:
    """Maximum-weight spanning tree of the cliques (weight: shared dimensions), Kruskal."""
    pairs = sorted(itertools.combinations(range(len(cliques)), 2),
                   key=lambda p: (-len(cliques[p[0]] & cliques[p[1]]), p))
    root = list(range(len(cliques)))

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    out = []
    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            root[ra] = rb
            out.append((a, b))
    return out


def _atoms(periods: list[tuple[str, ...]]) -> dict[str, str]:
    """Base period -> atom label: base periods in exactly the same period sets form one atom."""
    base = sorted({p for ps in periods for p in ps})
    sig = {p: tuple(p in ps for ps in periods) for p in base}
    atoms: dict[tuple, list[str]] = {}
    for p in base:
        atoms.setdefault(sig[p], []).append(p)
    return {p: "+".join(atoms[sig[p]]) for p in base}


def protect_release(tables: Sequence[Table], *, published: Ledger | None = None,
                    min_n: int = DEFAULT_MIN_N) -> Release:
    """Protect every table of a release together (see "Releases" in the module docstring)."""
    if min_n < 1:
        raise ValueError("min_n must be at least 1")
    if not tables:
        raise ValueError("a release needs at least one table")
    ledger = published or Ledger.empty()
    parsed = [(t, t.population, t.periods(), *t.interior()) for t in tables]
    old = [_ledger_table(t) for t in ledger.tables]
    results: dict[int, pd.DataFrame] = {}
    audits = []
    for pop in sorted({p[1] for p in parsed}):
        mine = [(i, p) for i, p in enumerate(parsed) if p[1] == pop]
        theirs = [o for o in old if o[0] == pop]
        sup, audit = _protect_population(pop, [p for _, p in mine], theirs, min_n)
        for (i, _), cells in zip(mine, sup, strict=True):
            results[i] = cells
        audits.append(audit)
    return Release([Protected(t, results[i]) for i, t in enumerate(tables)],
                   pd.concat(audits, ignore_index=True), min_n)


def _protect_population(pop, mine, theirs, min_n):
    # categories of each dimension must agree everywhere (a table that leaves a category out
    # would publish different margins under the same name)
    cats: dict[str, list[str]] = {}
    where: dict[str, str] = {}
    for name, dims_cats in [(t.name or "(unnamed)", c) for t, _, _, _, c, _ in mine] + \
                           [("earlier release", c) for _, _, c, _ in theirs]:
        for d, labels in dims_cats.items():
            if d in cats and set(cats[d]) != set(labels):
                raise ValueError(f"population {pop!r}: table {name!r} lists categories {sorted(labels)} of "
                                 f"{d!r}, table {where[d]!r} lists {sorted(cats[d])}")
            cats.setdefault(d, sorted(labels))
            where.setdefault(d, name)
    periods = [p for _, _, p, *_ in mine] + [p for _, p, _, _ in theirs]
    atom_of = _atoms(periods)
    atoms = sorted(set(atom_of.values()))
    model_cats = {**cats, _PERIOD: atoms}
    edges = [frozenset({*dims, _PERIOD}) for _, _, _, dims, _, _ in mine] + \
            [frozenset({*c, _PERIOD}) for _, _, c, _ in theirs]
    model = _Model(model_cats, edges)

    value: dict[Key, float] = {}
    fixed: dict[Key, float | None] = {}  # ledger: published value, or None if hidden then
    row_of: dict[Key, tuple[dict[str, str], set[str]]] = {}
    lines: list[tuple[Key, ...]] = []  # (members..., total) within each new table
    new_keys: list[list[tuple[tuple[str, ...], Key]]] = []
    sensitive: set[Key] = set()

    def note(labels, period) -> Key:
        k = _key(labels, period)
        row_of.setdefault(k, ({d: x for d, x in labels.items() if x != TOTAL},
                              {atom_of[p] for p in period}))
        return k

    def implied(dims, cats_, period):
        """Cells of the table at each atom of its period: derivable by differencing."""
        ats = sorted({atom_of[p] for p in period})
        if len(ats) < 2:
            return
        for a in ats:
            ps = tuple(p for p in period if atom_of[p] == a)
            for labels in itertools.product(*[[*cats_[d], TOTAL] for d in dims]):
                sensitive.add(note(dict(zip(dims, labels, strict=True)), ps))

    for _, period, cats_, cells in theirs:
        dims = list(cats_)
        for labels, n in cells:
            k = note(labels, period)
            if k in fixed and fixed[k] is not None and n is not None and not np.isclose(fixed[k], n):
                raise ValueError(f"earlier releases disagree on cell {dict(k[0])} {list(k[1])}")
            fixed[k] = n if fixed.get(k) is None else fixed[k]
            if n is None:
                sensitive.add(k)
        implied(dims, cats_, period)
    for t, _, period, dims, cats_, interior in mine:
        full = _margins(dims, cats_, interior)
        keys = []
        for labels, v in full.items():
            k = note(dict(zip(dims, labels, strict=True)), period)
            if k in value and not np.isclose(value[k], v):
                raise ValueError(f"tables disagree on cell {dict(k[0])} {list(k[1])}: {value[k]:g} and {v:g}")
            if fixed.get(k) is not None and not np.isclose(fixed[k], v):
                raise ValueError(f"table {t.name!r}: cell {dict(k[0])} {list(k[1])} is {v:g} but an earlier "
                                 f"release published {fixed[k]:g}; revised figures cannot be protected")
            value[k] = v
            keys.append((labels, k))
            sensitive.add(k)
        new_keys.append(keys)
        at = {lab: k for lab, k in keys}
        for i, d in enumerate(dims):
            for labels in at:
                if labels[i] == TOTAL:
                    members = [at[labels[:i] + (x,) + labels[i + 1:]] for x in cats_[d]]
                    lines.append((*members, at[labels]))
        implied(dims, cats_, period)

    order = sorted(row_of)  # canonical: nothing depends on the order of tables or of `--by`
    free = {k for k in value if k not in fixed}  # new cells we may hide
    hidden = {k for k in order if (k in fixed and fixed[k] is None) or (k not in fixed and k not in value)}
    hidden |= {k for k in free if value[k] < min_n}

    def cost(k):
        return (value[k], k)

    changed = True  # the counting rule first: no line of a table with exactly one hidden cell
    while changed:
        changed = False
        for line in sorted(lines):
            h = [k for k in line if k in hidden]
            can = [k for k in line if k in free and k not in hidden]
            if len(h) == 1 and can:
                hidden.add(min(can, key=cost))
                changed = True
    # The audit. Every cell of ``order`` is one 0/1 row over the finest cells, built once; the system
    # of a pattern (links, then the published cells in canonical order) is built once per pattern and
    # only the objective changes from one LP to the next.
    pos = {k: i for i, k in enumerate(order)}
    rows = [model.row(*row_of[k]) for k in order]
    every = model.matrix(rows)
    known = np.array([value.get(k, fixed.get(k)) for k in order], dtype=float)  # NaN: never published
    shown = np.array([k not in hidden for k in order])
    hides: list[int] = []  # rows hidden by the rule, in order
    system: list = []  # (A, b, published rows) of the current pattern

    def current():
        if not system:
            at = np.flatnonzero(shown)
            a = model.system(every[at])
            b = np.concatenate([np.zeros(model.link_rows.shape[0]), known[at]])
            system.append((a, b, at, _Maximiser(model, a, b)))
        return system[0]

    def hide(k):
        hidden.add(k)
        shown[pos[k]] = False
        hides.append(pos[k])
        system.clear()

    # The rule, cell by cell in canonical order (a cell hidden by the rule holds at least min_n, so the
    # cells to check are known from the start).
    limit = min_n - 1e-6 * max(1.0, min_n)
    todo = [k for k in sorted(sensitive) if k in hidden and not (k in value and value[k] >= min_n)]
    solved: dict[Key, tuple[float, int, np.ndarray]] = {}  # bound, hides before it, rows with a dual
    for k in todo:
        hi, duals = current()[3].upper(rows[pos[k]])
        binds = current()[2][np.abs(duals) > 1e-9]
        while hi < limit:  # then the same LP as ever, whose duals choose the cell to hide
            a, b, at, _m = current()
            hi, duals, _x = model.upper(rows[pos[k]], a, b)
            binds = at[np.abs(duals) > 1e-9] if len(duals) else at[:0]
            if hi >= limit:
                break
            binding = [order[i] for i in binds if order[i] in free]
            pick = binding or [order[i] for i in at if order[i] in free]
            if not pick:
                raise ValueError(f"population {pop!r}: cell {dict(k[0])} {list(k[1])} is pinned below "
                                 f"{min_n} by earlier releases alone; it cannot be protected now")
            hide(min(pick, key=cost))
        solved[k] = (hi, len(hides), binds)
    # The final bounds, given the final pattern. Hiding a cell removes its equation, so a bound found
    # earlier is a lower bound of the final one; it is the final one when none of the equations hidden
    # since carried a non-zero dual value in its LP (the dual solution is then still feasible and proves
    # the same bound), or when it was unbounded. Only the others are solved again.
    final = []
    for k, (hi, before, binds) in solved.items():
        if np.isfinite(hi) and np.isin(hides[before:], binds).any():
            hi = current()[3].upper(rows[pos[k]])[0]
        final.append({"population": pop, "cell": dict(k[0]), "period": "+".join(k[1]),
                      "n": value.get(k, np.nan), "upper": hi})
    audit = final
    out = []
    for (_t, _p, _period, dims, _cats, _interior), keys in zip(mine, new_keys, strict=True):
        frame = pd.DataFrame([lab for lab, _ in keys], columns=dims)
        frame["n"] = [value[k] for _, k in keys]
        frame["suppressed"] = [k in hidden for _, k in keys]
        out.append(frame)
    return out, pd.DataFrame(audit, columns=["population", "cell", "period", "n", "upper"])
