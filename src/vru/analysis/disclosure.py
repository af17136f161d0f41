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
``docs/methods-confidence.md``). Each published table is protected on its own, with its margins:
tables that share cells beyond their grand total must be protected together (pass all their
constraints to :func:`suppress`).
"""

from __future__ import annotations

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
    from scipy.optimize import linprog

    v = np.asarray(values, dtype=float)
    m = np.asarray(mask, dtype=bool)
    hidden = np.flatnonzero(m)
    pos = {c: i for i, c in enumerate(hidden)}
    rows, rhs = [], []
    for members, total in constraints:
        coef = np.zeros(len(hidden))
        b = 0.0
        for c in members:
            if m[c]:
                coef[pos[c]] += 1.0
            else:
                b -= v[c]
        if m[total]:
            coef[pos[total]] -= 1.0
        else:
            b += v[total]
        if coef.any():
            rows.append(coef)
            rhs.append(b)
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    want = hidden if cells is None else np.asarray(list(cells), dtype=int)
    out = []
    for c in want:
        if not m[c]:
            raise ValueError(f"cell {c} is not suppressed")
        obj = np.zeros(len(hidden))
        obj[pos[c]] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            res = linprog(sign * obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded
                bounds.append(-np.inf if sign > 0 else np.inf)
            elif res.status != 0:
                raise RuntimeError(f"audit LP failed for cell {c}: {res.message}")
            else:
                bounds.append(sign * res.fun)
        lo, hi = max(bounds[0], 0.0), bounds[1]
        out.append((int(c), lo, hi, hi - lo))
    return pd.DataFrame(out, columns=["cell", "lower", "upper", "width"]).set_index("cell")


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
    while True:
        idx = np.flatnonzero(prim & mask)
        if len(idx) == 0:
            break
        iv = feasible_intervals(v, constraints, mask, cells=idx)
        weak = iv.index[~(iv["width"] > protection + tol)]
        if len(weak) == 0:
            break
        group = _component(int(weak[0]), constraints, mask)
        candidates = {d for members, total in constraints
                      if group & {*members, total} for d in (*members, total) if not mask[d]}
        if not candidates:
            raise RuntimeError(f"cannot protect cell {int(weak[0])}: every linked cell is hidden")
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
