"""The cells of one indicator: every published count as a sum of commune numerators."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEPARTEMENT = ("département", "")
COMMUNE = "commune"


@dataclass
class Cells:
    """Commune numerators (NaN: unknown at source, in no sum), their denominators when the indicator
    is a share (a count is at most its denominator; NaN otherwise), and the published sums:
    name → commune positions. The denominator of a hidden cell is hidden too, so the attacker
    only knows it through the published denominators of the groups (``upper``)."""

    codes: pd.Index
    numerators: np.ndarray
    denominators: np.ndarray
    sums: dict[tuple[str, str], np.ndarray]
    groups: list[set] | None = None  # for each commune, the sums it belongs to (filled on demand)

    def value(self, name: tuple[str, str]) -> float:
        """The true count of a cell (NaN when none of its communes is known)."""
        members = self.sums[name]
        known = members[~np.isnan(self.numerators[members])]
        return float(self.numerators[known].sum()) if len(known) else float("nan")

    def upper(self, hidden: set[tuple[str, str]]) -> np.ndarray:
        """What an attacker knows of each commune's largest count: for a share, the smallest
        published group denominator minus its published parts' (infinite for other counts)."""
        if np.isnan(self.denominators).all():
            return np.full(len(self.codes), np.inf)
        den = np.nan_to_num(self.denominators)
        secret = np.array([(COMMUNE, c) in hidden for c in self.codes])
        out = np.where(secret, np.inf, den)
        for name, members in self.sums.items():
            if name in hidden or name[0] == COMMUNE:
                continue
            parts = members[secret[members]]
            if len(parts):
                out[parts] = np.minimum(out[parts], den[parts].sum())
        return out

    def with_sums(self, extra: dict[tuple[str, str], list[str]]) -> "Cells":
        """The same cells and more published sums (given as lists of commune codes)."""
        position = pd.Series(np.arange(len(self.codes)), index=self.codes)
        added = {name: position.reindex(codes).dropna().astype(int).to_numpy() for name, codes in extra.items()}
        return Cells(self.codes, self.numerators, self.denominators, {**self.sums, **added})


def indicator_cells(ws, indicator) -> Cells:
    """Communes, every group of every level and the département, for one indicator."""
    codes = pd.Index(ws.communes["code_insee"])
    rows = ws.values[ws.values["indicator"] == indicator.id].set_index("code_insee")
    numerators = rows["numerator"].reindex(codes).to_numpy(float, copy=True)
    if indicator.is_rate:  # an unknown denominator leaves the commune out of the sums, as in aggregate()
        numerators[np.isnan(rows["denominator"].reindex(codes).to_numpy(float))] = np.nan
    share = indicator.is_rate and indicator.unit == "%"  # a share's count is at most its denominator
    denominators = rows["denominator"].reindex(codes).to_numpy(float) if share else np.full(len(codes), np.nan)
    sums = {(COMMUNE, code): np.array([i]) for i, code in enumerate(codes)}
    for level in ws.groupings.columns:
        groups = ws.groupings[level].reindex(codes).to_numpy()
        for group in sorted(set(groups)):
            sums[(level, group)] = np.flatnonzero(groups == group)
    sums[DEPARTEMENT] = np.arange(len(codes))
    return Cells(codes, numerators, denominators, sums)
