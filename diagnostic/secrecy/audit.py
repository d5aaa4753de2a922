"""The attack, written down: from everything published, how far can a hidden cell be narrowed?

The unknowns are the hidden communes' numerators (≥ 0, and for a share at most what the published
denominators leave for them); every
published sum is an equation. For each hidden cell, two linear programmes (HiGHS) give the smallest
and largest value it can take; the width of that interval is what the attacker cannot resolve.
"""

from __future__ import annotations

import numpy as np

from diagnostic.secrecy.cells import COMMUNE, Cells


def feasible_intervals(cells: Cells, hidden: set[tuple[str, str]],
                       only: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], tuple[float, float]]:
    """For each hidden cell (or those of `only`), the [min, max] its count can take given every
    published cell (those not hidden)."""
    from scipy.optimize import linprog  # HiGHS: loaded only when an audit is solved, not when it is remembered

    known = ~np.isnan(cells.numerators)
    unknown = sorted({int(cells.sums[name][0]) for name in hidden if name[0] == COMMUNE
                      and known[cells.sums[name][0]]})
    column = {commune: j for j, commune in enumerate(unknown)}
    rows, rhs = [], []
    for name, members in cells.sums.items():
        if name in hidden:
            continue
        members = members[known[members]]
        involved = [column[m] for m in members if m in column]
        if not involved:
            continue
        row = np.zeros(len(unknown))
        row[involved] = 1.0
        rows.append(row)
        # published total minus its published parts: what the hidden parts add up to
        rhs.append(float(cells.numerators[members].sum() - cells.numerators[[m for m in members if m not in column]].sum()))
    upper = cells.upper(hidden)
    bounds = [(0.0, None if np.isinf(upper[m]) else float(upper[m])) for m in unknown]
    a_eq, b_eq = (np.array(rows), np.array(rhs)) if rows else (None, None)
    out = {}
    for name in sorted(only if only is not None else hidden):
        members = cells.sums[name][known[cells.sums[name]]]
        if len(members) == 0:
            out[name] = (0.0, float("inf"))  # nothing known: nothing to recover
            continue
        constant = float(cells.numerators[[m for m in members if m not in column]].sum())
        objective = np.zeros(len(unknown))
        objective[[column[m] for m in members if m in column]] = 1.0
        if not objective.any():
            out[name] = (constant, constant)  # every part is published
            continue
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        top = float("inf") if high.status == 3 else constant - high.fun
        out[name] = (constant + low.fun, top)
    return out
