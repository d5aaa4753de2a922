"""The open catalogue: indicators the workspace's users add from their own tables (a CAF count, a
partner's figure, Filosofi's median income), then edit or remove; and what each indicator of the
catalogue has as data.

An added indicator is computed like the built-in ones: a count (numerator only), a ratio of sums
(numerator / denominator, each a column or a sum of columns, or a rate column × its base), a
population-weighted mean (an index), or a value kept at commune level only (a median).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from diagnostic.errors import InputError
from diagnostic.indicator_import import WORKSPACE_POPULATION, ColumnMap, ImportReport, TableMapping, guess_mapping
from diagnostic.indicators import (AGGREGATION_NONE, AGGREGATION_SUMS, AGGREGATION_WEIGHTED, AGGREGATIONS,
                                   DEFAULT_CATALOGUE, FAMILIES, Catalogue, Indicator, fmt_number, load_catalogue,
                                   reference, with_thresholds)
from diagnostic.io.lock import workspace_lock
from diagnostic.io.tables import read_table
from diagnostic.io.text import clean_text

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
SCALES = {"%": 100.0, "‰": 1000.0, "pour 1 000": 1000.0, "pour 10 000": 10000.0}
ROUNDING_NOTE = ("Effectifs arrondis au multiple de 5 par la source : une petite valeur (0, 5, 10) est approchée "
                 "et une évolution d'une année sur l'autre dans une petite commune peut n'être qu'un arrondi.")
EDITABLE = ("label", "short_label", "definition", "unit", "source", "vintage", "frequency", "owner", "family",
            "confidential")


@dataclass
class NewIndicator:
    """What a user says about an indicator they add (columns of their table, metadata)."""

    id: str
    label: str
    numerator: list[str] = field(default_factory=list)  # summed columns
    denominator: list[str] = field(default_factory=list)  # summed columns, or [WORKSPACE_POPULATION]
    rate: str = ""  # or a column of rates (numerator = rate × denominator)
    unit: str = ""
    source: str = ""
    vintage: str = ""
    family: str = "contexte"
    higher_is_better: bool | None = None
    lower: float | None = None
    upper: float | None = None
    confidential: bool = False
    aggregation: str = AGGREGATION_SUMS
    definition: str = ""
    owner: str = ""
    frequency: str = ""

    def indicator(self, catalogue: Catalogue) -> Indicator:
        """The catalogue entry, checked (InputError says which field to fix)."""
        ident = self.id.strip()
        if not ID_PATTERN.match(ident):
            raise InputError(f"identifiant « {ident[:60]} » invalide.", field="--new-indicator",
                             fix="Lettres minuscules sans accent, chiffres et « _ », commençant par une lettre "
                                 "(ex. part_foyers_rsa_caf).")
        if ident in load_catalogue(DEFAULT_CATALOGUE) or (ident in catalogue and not catalogue[ident].custom):
            raise InputError(f"« {ident} » est un indicateur du catalogue de base.", field="--new-indicator",
                             fix="Choisissez un autre identifiant, ou associez vos colonnes à cet indicateur "
                                 "(import habituel).")
        label = _text(self.label, "--label", 150)
        if not label:
            raise InputError("le libellé de l'indicateur est vide.", field="--label")
        family = {"resultat": "résultat"}.get(self.family, self.family)
        if family not in FAMILIES:
            raise InputError(f"famille « {self.family} » inconnue.", field="--family",
                             fix="contexte, moyens ou resultat.")
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"méthode d'agrégation « {self.aggregation} » inconnue.", field="--aggregation",
                             fix=f"Méthodes : {', '.join(AGGREGATIONS)}.")
        if not (self.numerator or self.rate):
            raise InputError("indiquez la ou les colonnes du numérateur (ou une colonne de taux).", field="--numerator")
        if self.rate and not self.denominator:
            raise InputError("une colonne de taux demande son dénominateur (la base du taux).", field="--denominator")
        unit = _text(self.unit, "--unit", 30) or ("%" if self.denominator and self.aggregation == AGGREGATION_SUMS
                                                  else "")
        ratio = bool(self.denominator) and self.aggregation == AGGREGATION_SUMS or self.aggregation == \
            AGGREGATION_WEIGHTED
        denominator = (_sum_text(self.denominator) if self.aggregation == AGGREGATION_SUMS
                       else "Population municipale") if ratio else None
        numerator = _sum_text(self.numerator) or f"{self.rate} × {denominator}"
        indicator = Indicator(
            id=ident, label=label, short_label=label[:40], family=family,
            definition=_text(self.definition, "--definition", 2000) or f"{numerator}" + (f" / {denominator}"
                                                                                         if denominator else "") + ".",
            numerator=numerator, denominator=denominator, unit=unit,
            scale=SCALES.get(unit, 1.0) if self.aggregation == AGGREGATION_SUMS and ratio else 1.0,
            source=_text(self.source, "--source", 300) or "Fichier importé par l'équipe du diagnostic",
            vintage=_text(self.vintage, "--vintage", 60), frequency=_text(self.frequency, "--frequency", 60),
            owner=_text(self.owner, "--owner", 150), lower=None, upper=None, higher_is_better=None,
            confidential=bool(self.confidential), aggregation=self.aggregation, custom=True)
        if self.higher_is_better is not None or self.lower is not None or self.upper is not None:
            indicator = with_thresholds({ident: indicator}, ident, self.lower, self.upper,
                                        self.higher_is_better)[ident]
        return indicator

    def column_map(self) -> ColumnMap:
        """How the table's columns give the indicator's numerator and denominator."""
        if self.aggregation == AGGREGATION_WEIGHTED:  # value × population / population
            return ColumnMap(self.id, [], [WORKSPACE_POPULATION], self.rate or self.numerator[0], self.vintage,
                             self.source)
        if self.aggregation == AGGREGATION_NONE:
            return ColumnMap(self.id, [self.rate or self.numerator[0]], [], "", self.vintage, self.source)
        return ColumnMap(self.id, list(self.numerator), list(self.denominator), self.rate, self.vintage, self.source)


def _sum_text(columns: list[str]) -> str:
    return columns[0] if len(columns) == 1 else f"({' + '.join(columns)})" if columns else ""


def _text(value, option: str, limit: int) -> str:
    text = clean_text(str(value or ""), one_line=True).strip()
    if len(text) > limit:
        raise InputError(f"texte trop long ({len(text)} caractères, {limit} au plus).", field=option)
    return text


def columns_of(text: str) -> list[str]:
    """« A + B » → ["A", "B"] (the columns summed)."""
    return [c.strip() for c in str(text or "").split("+") if c.strip()]


def add_indicator(path: Path, file: Path, spec: NewIndicator, code_column: str = "",
                  where: dict[str, str] | None = None, correspondence_file: Path | None = None) -> ImportReport:
    """Add (or update) a user's indicator from a table and import its values, in one step; counts
    rounded to 5 by the source (CAF, DARES) are noted in its definition."""
    from diagnostic.workspace import import_indicators, load_workspace, save_workspace_catalogue
    with workspace_lock(path):
        ws = load_workspace(path)
        indicator = spec.indicator(ws.catalogue)
        code = code_column or guess_mapping(list(read_table(Path(file)).columns)).code_column
        report = import_indicators(path, file, TableMapping(code, [spec.column_map()]), correspondence_file,
                                   indicator, where)
        ws = load_workspace(path)
        rows = ws.values[ws.values["indicator"] == indicator.id]
        if _rounded_to_five(rows, spec) and ROUNDING_NOTE not in ws.catalogue[indicator.id].definition:
            entry = ws.catalogue[indicator.id]
            save_workspace_catalogue(path, {**ws.catalogue, entry.id: replace(
                entry, definition=f"{entry.definition} {ROUNDING_NOTE}")})
            report.warnings.append("Les effectifs sont arrondis à 5 par la source : c'est indiqué dans la définition.")
    return report


def _rounded_to_five(rows: pd.DataFrame, spec: NewIndicator) -> bool:
    if spec.rate or spec.aggregation != AGGREGATION_SUMS:
        return False
    values = rows["numerator"].dropna().to_numpy(float)
    if spec.denominator and spec.denominator != [WORKSPACE_POPULATION]:
        values = np.concatenate([values, rows["denominator"].dropna().to_numpy(float)])
    return len(values) >= 6 and bool((values > 0).any()) and bool(np.all(np.mod(values, 5) == 0))


def edit_indicator(path: Path, indicator_id: str, **changes) -> Indicator:
    """Change the metadata of a user's indicator (label, definition, unit, source, vintage…)."""
    from diagnostic.workspace import load_workspace, save_workspace_catalogue
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InputError(f"champ non modifiable : {', '.join(sorted(unknown))}.")
    with workspace_lock(path):
        ws = load_workspace(path)
        entry = _own(ws.catalogue, indicator_id)
        cleaned = {k: (bool(v) if k == "confidential" else _text(v, k, 2000)) for k, v in changes.items()}
        if "label" in cleaned and not cleaned["label"]:
            raise InputError("le libellé de l'indicateur est vide.", field="label")
        if cleaned.get("family", entry.family) not in FAMILIES:
            raise InputError(f"famille « {cleaned['family']} » inconnue.", field="family")
        updated = replace(entry, **cleaned)
        save_workspace_catalogue(path, {**ws.catalogue, indicator_id: updated})
    return updated


def remove_indicator(path: Path, indicator_id: str) -> int:
    """Remove a user's indicator and its values; returns the number of values removed."""
    from diagnostic.workspace import load_workspace, save_values, save_workspace_catalogue
    with workspace_lock(path):
        ws = load_workspace(path)
        _own(ws.catalogue, indicator_id)
        removed = ws.values["indicator"] == indicator_id
        save_values(path, ws.values[~removed])
        save_workspace_catalogue(path, {k: v for k, v in ws.catalogue.items() if k != indicator_id})
    return int(removed.sum())


def _own(catalogue: Catalogue, indicator_id: str) -> Indicator:
    entry = catalogue.get(indicator_id)
    if entry is None:
        raise InputError(f"indicateur « {indicator_id} » inconnu.")
    if not entry.custom:
        raise InputError(f"« {entry.label} » est un indicateur du catalogue de base : seuls ses seuils se modifient.")
    return entry


def catalogue_status(ws) -> pd.DataFrame:
    """For each indicator of the catalogue: whether it has data, how many communes and what share of
    the population it covers, its vintage and whether the users added it."""
    population = ws.communes.set_index("code_insee")["population"]
    rows = []
    for ind in ws.catalogue.values():
        ref = reference(ws.values, ws.communes["code_insee"], ind, population)
        known = int(ref["communes_known"])
        rows.append({"Indicateur": ind.label, "Données": "oui" if known else "non",
                     "Communes renseignées": f"{known} / {len(ws.communes)}",
                     "Part de la population couverte (%)": fmt_number(ref["population_share"], 1) if known else "—",
                     "Millésime": ind.vintage or "—", "Agrégation": ind.aggregation,
                     "Ajouté par l'équipe": "oui" if ind.custom else "non", "id": ind.id})
    return pd.DataFrame(rows)
