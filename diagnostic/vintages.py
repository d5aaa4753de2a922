"""Reconcile data keyed by the commune codes of another year with the workspace's communes.

Communes merge (communes nouvelles) almost every 1 January: a 2021 file still has the codes of
communes that have since become part of another one. A correspondence table (former code →
current code) lets the import add their counts to the current commune; rates are then recomputed
from the summed numerators and denominators, never averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io.tables import check_codes, line_numbers, read_table, repair_codes
from diagnostic.territory import is_commune_code

CORRESPONDENCE_FILE = "correspondances.csv"


@dataclass
class Merge:
    """Former communes whose data were added to a current commune."""

    code: str
    name: str
    former: list[str]
    unknown: list[str]  # indicators left unknown because a part was secret or missing

    def french(self) -> str:
        text = f"{', '.join(self.former)} → {self.code} {self.name}"
        if self.unknown:
            text += f" (inconnu faute d'une partie : {', '.join(self.unknown)})"
        return text


def former_codes(values: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Correspondence rows from a "former codes" field of a communes file ("34093|34144")."""
    rows = []
    for code, text in zip(current, values.fillna("").astype(str), strict=True):
        for former in text.replace(",", "|").replace(";", "|").replace(" ", "|").split("|"):
            if former and former != code and is_commune_code(former):
                rows.append((former, code))
    return pd.DataFrame(rows, columns=["ancien_code", "code_insee"])


def read_correspondence(path: Path, codes: set[str]) -> pd.DataFrame:
    """A correspondence table (e.g. INSEE's « table de passage »): two columns of commune codes,
    former and current; the current one is the column whose codes are the workspace's communes."""
    file = Path(path).name
    frame = read_table(path)
    code_columns = [c for c in frame.columns
                    if frame[c].str.strip().map(lambda v: v == "" or is_commune_code(v.zfill(5))).all()]
    if len(code_columns) < 2:
        raise InputError("il faut deux colonnes de codes commune (ancien code, code actuel).", file=file,
                         fix="Colonnes attendues par exemple : « ancien_code ; code_insee » ou celles de la "
                             "table de passage de l'INSEE (CODGEO_2021 ; CODGEO_2026).")
    share = {c: frame[c].isin(codes).mean() for c in code_columns}
    current = max(code_columns, key=share.get)
    former = next(c for c in code_columns if c != current)
    if share[current] < 0.5:
        raise InputError("aucune des colonnes ne contient les codes des communes de l'espace de travail.",
                         file=file, fix="Vérifiez que la table couvre votre département.")
    warnings: list[str] = []
    frame[former] = repair_codes(frame[former], file, None, warnings)
    frame[current] = repair_codes(frame[current], file, codes, warnings)
    table = frame[frame[current].isin(codes) & (frame[former] != frame[current])]
    check_codes(table[former], file, former, None, frame.attrs["first_line"])
    conflicting = table.groupby(former)[current].nunique() > 1
    if conflicting.any():
        code = conflicting[conflicting].index[0]
        line = int(line_numbers(frame)[frame[former] == code].iloc[0])
        raise InputError(f"l'ancien code « {code} » correspond à plusieurs communes actuelles.", file=file,
                         line=line, field=former, fix="Une commune scindée ne peut pas être rapprochée : "
                                                      "gardez une seule commune actuelle par ancien code.")
    return pd.DataFrame({"ancien_code": table[former].to_numpy(), "code_insee": table[current].to_numpy()}
                        ).drop_duplicates()


def reconcile(rows: pd.DataFrame, correspondence: pd.DataFrame, names: pd.Series,
              not_additive: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, list[Merge]]:
    """Rows (code_insee, indicator, numerator, denominator) with former codes replaced by the current
    commune; the numerators and denominators of merged communes are summed (unknown if one part is
    unknown, e.g. secret). An indicator of `not_additive` (a median) is unknown for a commune made
    of several parts: nothing can be computed from the parts' values."""
    current = dict(zip(correspondence["ancien_code"], correspondence["code_insee"], strict=True))
    mapped = rows["code_insee"].map(lambda c: current.get(c, c))
    if (mapped == rows["code_insee"]).all():
        return rows, []
    former = sorted(set(rows["code_insee"][mapped != rows["code_insee"]]))
    rows = rows.assign(code_insee=mapped)
    grouped = rows.groupby(["code_insee", "indicator"], sort=False)[["numerator", "denominator"]]
    summed = grouped.sum(min_count=1)
    incomplete = grouped.count().lt(grouped.size(), axis=0)
    parts = grouped.size()
    several = (parts > 1) & parts.index.get_level_values("indicator").isin(list(not_additive))
    incomplete = incomplete | pd.DataFrame({c: several for c in incomplete.columns})
    summed = summed.mask(incomplete).reset_index()
    unknown = summed[summed["numerator"].isna()].groupby("code_insee")["indicator"].agg(list)
    merges = [Merge(code, str(names.get(code, "")), [f for f in former if current[f] == code],
                    unknown.get(code, []))
              for code in dict.fromkeys(current[f] for f in former)]
    return summed, merges
