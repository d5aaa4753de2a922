"""The audit of a workspace, for people: each confidential indicator's masked cells and the
interval an attacker can narrow each to from everything published."""

from __future__ import annotations

from dataclasses import dataclass

from diagnostic.indicators import fmt_number
from diagnostic.secrecy.audit import feasible_intervals
from diagnostic.secrecy.cells import COMMUNE
from diagnostic.secrecy.suppression import protected_cells, required


@dataclass
class AuditLine:
    indicator: str
    cell: str
    low: float
    high: float
    required: float

    @property
    def narrow(self) -> bool:
        return self.high - self.low < self.required - 1e-9

    def french(self) -> str:
        high = "sans limite" if self.high == float("inf") else fmt_number(self.high, 0)
        return (f"  {self.cell} : intervalle possible [{fmt_number(self.low, 0)} ; {high}]"
                + (" — TROP ÉTROIT" if self.narrow else ""))


def audit_workspace(ws) -> dict[str, list[AuditLine]]:
    """For each confidential indicator with data (its label as key): every masked cell's interval."""
    names = ws.commune_names()
    out = {}
    for indicator in ws.indicators_with_data():
        if not indicator.confidential:
            continue
        protection = protected_cells(ws, indicator)
        intervals = feasible_intervals(protection.cells, protection.hidden)
        upper = protection.cells.upper(protection.hidden)
        out[indicator.label] = [
            AuditLine(indicator.id, f"{names.get(key, key)} ({key})" if level == COMMUNE else
                      ("Département" if level == "département" else f"{level} : {key}"), low, high,
                      required(protection.cells, (level, key), protection.threshold, upper))
            for (level, key), (low, high) in intervals.items()]
    return out
