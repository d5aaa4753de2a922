"""Import indicator tables (INSEE, CAF, France Travail…) into a workspace.

A table is either *long* (code, indicator, numerator, denominator: our own format) or *wide*
(one row per commune, one column per variable, as INSEE publishes). For a wide table the user maps
columns to catalogue indicators once: numerator and denominator columns (several columns are
summed: ``P22_POP6074 + P22_POP7589``), or a rate column with its denominator (the numerator is
then rate × denominator), plus the vintage and the source. The mapping is remembered in the
workspace for the next file with the same columns; well-known INSEE variables are guessed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from diagnostic.errors import InputError
from diagnostic.indicators import AGGREGATION_NONE, DEFAULT_CATALOGUE, Catalogue, load_catalogue
from diagnostic.io.tables import (CODE_COLUMNS, VALUE_COLUMNS, check_codes, line_numbers, parse_number,
                                  read_table, repair_codes)
from diagnostic.vintages import Merge, reconcile

MAPPINGS_FILE = "mappings.json"
WORKSPACE_POPULATION = "@population"  # a denominator: the population of the workspace's communes
AGE_BANDS = ("0014", "1529", "3044", "4559", "6074", "7589", "90P")


@dataclass
class ColumnMap:
    """How one catalogue indicator is computed from the columns of a wide table."""

    indicator: str
    numerator: list[str] = field(default_factory=list)  # summed
    denominator: list[str] = field(default_factory=list)  # summed, or [WORKSPACE_POPULATION]
    rate: str = ""  # a column holding the value in the indicator's unit (%, score…)
    vintage: str = ""
    source: str = ""

    def columns(self) -> list[str]:
        return [c for c in (*self.numerator, *self.denominator, self.rate) if c and c != WORKSPACE_POPULATION]


@dataclass
class TableMapping:
    """The code column of a wide table and its indicators."""

    code_column: str
    indicators: list[ColumnMap]

    def to_json(self) -> dict:
        return {"code_column": self.code_column, "indicators": [asdict(m) for m in self.indicators]}

    @classmethod
    def from_json(cls, data: dict) -> "TableMapping":
        return cls(data["code_column"], [ColumnMap(**m) for m in data["indicators"]])


@dataclass
class ImportReport:
    """What an import did, in French."""

    file: str
    indicators: list[str]
    communes: int
    merges: list[Merge]
    unmatched: list[str]
    outside: int
    secret: int
    warnings: list[str]
    columns: list[str]  # of the file
    mapping: TableMapping | None  # used for a wide table
    part_populations: dict[str, float] = field(default_factory=dict)  # of merged communes' parts, in the file

    def summary(self) -> str:
        text = (f"{len(self.indicators)} indicateur(s) importé(s) depuis « {self.file} » "
                f"({', '.join(self.indicators)}) pour {self.communes} commune(s)")
        if self.secret:
            text += f" ; {self.secret} valeur(s) secrète(s) ou manquante(s) gardées comme inconnues"
        if self.outside:
            text += f" ; {self.outside} ligne(s) d'autres départements ignorées"
        return text + "."

    def details(self) -> list[str]:
        """Warnings, merged communes and codes that could not be matched, one sentence each."""
        lines = list(self.warnings)
        lines += [f"Communes fusionnées, données additionnées : {m.french()}." for m in self.merges]
        if self.unmatched:
            lines.append(f"{len(self.unmatched)} code(s) du département sans commune correspondante, ignoré(s) : "
                         f"{', '.join(self.unmatched[:20])}{' …' if len(self.unmatched) > 20 else ''}. "
                         "Ajoutez une table de passage des codes si ce sont d'anciennes communes.")
        return lines


def is_long(columns: list[str]) -> bool:
    """A table in our long format (a column naming the indicator of each row)."""
    lower = {c.lower() for c in columns}
    return bool(lower & set(VALUE_COLUMNS["indicator"])) and bool(lower & set(VALUE_COLUMNS["numerator"]))


def signature(columns: list[str]) -> str:
    """Identifies a table's layout: the same columns give the same remembered mapping."""
    return hashlib.sha1("\x1f".join(sorted(c.lower() for c in columns)).encode()).hexdigest()[:16]


def remembered_mapping(workspace: Path, columns: list[str]) -> TableMapping | None:
    """The mapping saved for a table with these columns, if any."""
    saved = _read_mappings(workspace).get(signature(columns))
    return TableMapping.from_json(saved) if saved else None


def remember_mapping(workspace: Path, columns: list[str], mapping: TableMapping) -> None:
    """Save a mapping for the next table with the same columns."""
    mappings = _read_mappings(workspace)
    mappings[signature(columns)] = mapping.to_json()
    target = Path(workspace) / MAPPINGS_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(mappings, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(target)


def _read_mappings(workspace: Path) -> dict:
    try:
        return json.loads((Path(workspace) / MAPPINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def guess_mapping(columns: list[str]) -> TableMapping:
    """The code column and the indicators recognised among well-known INSEE and open-data variables."""
    lower = {c.lower(): c for c in columns}
    code = next((lower[name] for name in CODE_COLUMNS if name in lower), columns[0])

    def find(pattern: str) -> str:
        return next((c for c in columns if re.fullmatch(pattern, c, flags=re.IGNORECASE)), "")

    def year(column: str) -> str:  # P22_POP → 2022, pop_chomage_2021 → 2021, TP6021 → 2021
        match = (re.match(r"[A-Za-z]+(\d{2})_", column) or re.search(r"_(20\d{2})$", column)
                 or re.search(r"(\d{2})$", column))
        return "" if not match else match[1] if len(match[1]) == 4 else f"20{match[1]}"

    found: list[ColumnMap] = []
    population = find(r"population_municipale") or find(r"pmun\d{0,4}") or find(r"population")
    if population and population != code:
        found.append(ColumnMap("population", [population], vintage=year(population),
                               source=_insee_source(population)))
    rate, persons = find(r"tp60\d\d"), find(r"nbpersmenfisc\d\d")
    if rate and persons:
        found.append(ColumnMap("taux_pauvrete", [], [persons], rate, year(rate),
                               "INSEE-DGFiP-CNAF-CNAV-CCMSA, Fichier localisé social et fiscal (Filosofi)"))
    bands = [find(rf"p\d\d_pop{band}") for band in AGE_BANDS]
    if all(bands):
        found.append(ColumnMap("part_60_ans_et_plus", bands[4:], bands, vintage=year(bands[0]),
                               source="INSEE, recensement de la population"))
    lone, families = find(r"c\d\d_fammono"), find(r"c\d\d_fam")
    if lone and families:
        found.append(ColumnMap("part_familles_monoparentales", [lone], [families], vintage=year(lone),
                               source="INSEE, recensement de la population"))
    unemployed = find(r"pop_15_64_chomage_\d{4}") or find(r"p\d\d_chom1564")
    active = find(r"pop_15_64_active_\d{4}") or find(r"p\d\d_act1564")
    if unemployed and active:
        found.append(ColumnMap("taux_chomage_rp", [unemployed], [active], vintage=year(unemployed),
                               source="INSEE, recensement de la population"))
    if find("total") and find("no_thd_coverage_rate"):
        found.append(ColumnMap("indice_fragilite_numerique", [], [WORKSPACE_POPULATION], find("total"),
                               source="ANCT / Mednum, indice de fragilité numérique"))
    return TableMapping(code, found)


def _insee_source(column: str) -> str:
    return ("INSEE, recensement de la population" if re.match(r"p\d\d_", column, re.IGNORECASE)
            else "INSEE, populations légales")


def wide_values(frame: pd.DataFrame, mapping: TableMapping, catalogue: Catalogue, file: str,
                population: pd.Series) -> pd.DataFrame:
    """Long rows (code_insee, indicator, numerator, denominator) computed from a wide table."""
    if mapping.code_column not in frame.columns:
        raise InputError(f"colonne de code commune « {mapping.code_column} » absente.", file=file,
                         fix="Choisissez la colonne des codes INSEE.")
    if not mapping.indicators:
        raise InputError("aucune colonne n'est associée à un indicateur du catalogue.", file=file,
                         fix="Associez au moins un indicateur à ses colonnes (numérateur, dénominateur ou taux) "
                                 "sur la page « Importer des données », ou utilisez le format long "
                                 "(code_insee ; indicateur ; numerateur ; denominateur).")
    lines = line_numbers(frame)
    parts = []
    for column_map in mapping.indicators:
        indicator = catalogue.get(column_map.indicator)
        if indicator is None:
            raise InputError(f"indicateur inconnu « {column_map.indicator} ».", file=file,
                             fix=f"Indicateurs du catalogue : {', '.join(catalogue)}.")
        missing = [c for c in column_map.columns() if c not in frame.columns]
        if missing:
            raise InputError(f"colonne « {missing[0]} » absente (indicateur {indicator.id}).", file=file,
                             fix=f"Colonnes du fichier : {', '.join(frame.columns)}.")

        def summed(columns: list[str]) -> np.ndarray:
            if columns == [WORKSPACE_POPULATION]:
                return frame[mapping.code_column].map(population).astype(float).to_numpy()
            total = np.zeros(len(frame))
            for column in columns:  # unknown if any part is unknown (secret)
                total = total + np.array([parse_number(v, file, line, column)
                                          for line, v in zip(lines, frame[column], strict=True)])
            return total

        if indicator.is_rate and not column_map.denominator:
            raise InputError(f"l'indicateur « {indicator.short_label} » est un taux : indiquez son "
                             "dénominateur.", file=file, fix="Choisissez la colonne du dénominateur.")
        denominator = summed(column_map.denominator) if column_map.denominator else np.full(len(frame), np.nan)
        if column_map.rate:
            scale = indicator.scale if indicator.is_rate else 1
            rate = summed([column_map.rate])
            numerator = rate * denominator / scale
        elif column_map.numerator:
            numerator = summed(column_map.numerator)
        else:
            raise InputError(f"indicateur « {indicator.short_label} » : indiquez la colonne du numérateur "
                             "ou du taux.", file=file)
        parts.append(pd.DataFrame({"code_insee": frame[mapping.code_column].to_numpy(),
                                   "indicator": indicator.id, "numerator": numerator,
                                   "denominator": denominator}))
    return pd.concat(parts, ignore_index=True)


def read_indicator_table(path: Path, codes: set[str], catalogue: Catalogue, population: pd.Series,
                         correspondence: pd.DataFrame, names: pd.Series, mapping: TableMapping | None = None,
                         workspace: Path | None = None, where: dict[str, str] | None = None,
                         part_populations: dict[str, float] | None = None) -> tuple[pd.DataFrame, ImportReport]:
    """Rows for the workspace's communes from a long or wide table (only its rows where each column
    of `where` has the given value, e.g. one year of a file with a row per commune and year),
    reconciled with the correspondence table; nothing is written. An index weighted by the
    population (``@population``) is weighted, for the parts of a merged commune, by their own
    populations: this table's population column or `part_populations` recorded from earlier tables.
    Raises InputError on anything that cannot be used."""
    file = Path(path).name
    frame = select_rows(read_table(path), where or {}, file)
    warnings: list[str] = []
    long = is_long(list(frame.columns))
    if long:
        code_col = next(c for c in frame.columns if c.lower() in CODE_COLUMNS) if any(
            c.lower() in CODE_COLUMNS for c in frame.columns) else frame.columns[0]
    else:
        mapping = mapping or (remembered_mapping(workspace, list(frame.columns)) if workspace else None) \
            or guess_mapping(list(frame.columns))
        code_col = mapping.code_column
    if code_col not in frame.columns:
        raise InputError(f"colonne de code commune « {code_col} » absente.", file=file)
    raw_codes = frame[code_col].astype(str).str.strip()
    if raw_codes.str.fullmatch(r"\d{9}").mean() > 0.5:
        raise InputError("ce fichier est donné par EPCI (codes SIREN à 9 chiffres), pas par commune.",
                         file=file, field=code_col, fix="Importez la version communale du fichier.")
    known = codes | set(correspondence["ancien_code"])
    frame[code_col] = repair_codes(raw_codes, file, known, warnings)
    check_codes(frame[code_col], file, code_col, None, frame.attrs["first_line"])
    duplicated = frame[code_col].duplicated()
    if not long and duplicated.any():
        raise InputError(f"la commune « {frame[code_col][duplicated].iloc[0]} » apparaît deux fois.", file=file,
                         line=int(line_numbers(frame)[duplicated].iloc[0]), field=code_col,
                         fix="Gardez une seule ligne par commune, ou ne retenez que les lignes d'une année (ou d'une "
                             "catégorie) : filtre « Lignes retenues » de la page, option --where COLONNE=VALEUR.")
    departements = {c[:3] if c.startswith("97") else c[:2] for c in codes}
    in_scope = frame[code_col].isin(known)
    same_dept = frame[code_col].map(lambda c: (c[:3] if c.startswith("97") else c[:2]) in departements)
    unmatched = sorted(frame[code_col][~in_scope & same_dept])
    outside = int((~same_dept).sum())
    frame = frame[in_scope]
    if frame.empty:
        raise InputError("aucune ligne ne concerne les communes de l'espace de travail.", file=file,
                         field=code_col, fix="Vérifiez que le fichier couvre votre département.")
    parts = set(correspondence["ancien_code"]) | set(correspondence["code_insee"])
    found = _part_populations(frame, code_col, parts, file)
    if long:
        rows = _long_values(frame, code_col, catalogue, file)
    else:
        weighted = any(m.denominator == [WORKSPACE_POPULATION] for m in mapping.indicators)
        weights = _weights(population, correspondence, set(frame[code_col]), {**(part_populations or {}), **found},
                           warnings, names) if weighted else population
        rows = wide_values(frame, mapping, catalogue, file, weights)
    medians = frozenset(i for i in rows["indicator"].unique() if catalogue[i].aggregation == AGGREGATION_NONE)
    rows, merges = reconcile(rows, correspondence, names, medians)
    report = ImportReport(file, list(dict.fromkeys(rows["indicator"])), int(rows["code_insee"].nunique()),
                          merges, unmatched, outside, int(rows["numerator"].isna().sum()), warnings,
                          list(frame.columns), None if long else mapping, found)
    return rows, report


POPULATION_COLUMN = re.compile(r"population_municipale|pmun\d{0,4}|population(_\d{4})?|p\d\d_pop", re.IGNORECASE)


def _part_populations(frame: pd.DataFrame, code_col: str, parts: set[str], file: str) -> dict[str, float]:
    """The populations a table gives for the communes of a merger (former and absorbing), to weight
    their indices by the people of the same vintage."""
    column = next((c for c in frame.columns if POPULATION_COLUMN.fullmatch(c) and c != code_col), None)
    if column is None or not parts:
        return {}
    lines = line_numbers(frame)
    found = {code: parse_number(text, file, line, column)
             for code, text, line in zip(frame[code_col], frame[column], lines, strict=True) if code in parts}
    return {code: value for code, value in found.items() if not np.isnan(value)}


def _weights(population: pd.Series, correspondence: pd.DataFrame, in_file: set[str], known: dict[str, float],
             warnings: list[str], names: pd.Series) -> pd.Series:
    """The population of each code of a file, for a weighted mean: the workspace's, except for the
    parts of a merged commune found in the file, weighted by their own populations (same vintage)."""
    weights = population.astype(float).copy()
    for current, group in correspondence.groupby("code_insee"):
        former = [c for c in group["ancien_code"] if c in in_file]
        if not former:
            continue
        parts = [current, *former]
        if all(p in known for p in parts):
            weights = pd.concat([weights.drop(index=parts, errors="ignore"), pd.Series({p: known[p] for p in parts})])
        else:
            warnings.append(f"Pondération par la population : population inconnue pour {', '.join(former)} "
                            f"(fusionnée dans {current} {names.get(current, '')}) ; importez d'abord un tableau de "
                            "population du même millésime (ex. population_2021) pour pondérer ses indices.")
    return weights


def select_rows(frame: pd.DataFrame, where: dict[str, str], file: str) -> pd.DataFrame:
    """The rows of a table where each given column has the given value (compared as text)."""
    for column, value in where.items():
        if column not in frame.columns:
            raise InputError(f"colonne « {column} » absente (filtre des lignes).", file=file, field=column,
                             fix=f"Colonnes du fichier : {', '.join(frame.columns)}.")
        keep = frame[column].astype(str).str.strip() == str(value).strip()
        if not keep.any():
            values = ", ".join(sorted(frame[column].astype(str).str.strip().unique())[:12])
            raise InputError(f"aucune ligne n'a la valeur « {value} » dans la colonne « {column} ».", file=file,
                             field=column, fix=f"Valeurs présentes : {values}.")
        attrs = frame.attrs
        frame = frame[keep]
        frame.attrs = attrs
    return frame


def _long_values(frame: pd.DataFrame, code_col: str, catalogue: Catalogue, file: str) -> pd.DataFrame:
    cols = {key: next((c for c in frame.columns if c.lower() in names), None)
            for key, names in VALUE_COLUMNS.items()}
    if cols["denominator"] is None:
        raise InputError("colonne « denominateur » introuvable.", file=file,
                         fix="Le format long a les colonnes code_insee, indicateur, numerateur, denominateur.")
    lines = line_numbers(frame)
    out = pd.DataFrame({"code_insee": frame[code_col].to_numpy(),
                        "indicator": frame[cols["indicator"]].str.strip().to_numpy()})
    unknown = ~out["indicator"].isin(list(catalogue))
    if unknown.any():
        raise InputError(f"indicateur inconnu « {out['indicator'][unknown].iloc[0]} ».", file=file,
                         line=int(lines.iloc[int(np.flatnonzero(unknown)[0])]), field=cols["indicator"],
                         fix=f"Indicateurs du catalogue : {', '.join(catalogue)}.")
    for key in ("numerator", "denominator"):
        out[key] = [parse_number(v, file, line, cols[key]) for line, v in zip(lines, frame[cols[key]], strict=True)]
    duplicated = out.duplicated(["code_insee", "indicator"])
    if duplicated.any():
        raise InputError("cette commune a déjà une valeur pour cet indicateur.", file=file,
                         line=int(lines.iloc[int(np.flatnonzero(duplicated)[0])]), field=code_col,
                         fix="Gardez une seule ligne par commune et par indicateur.")
    return out


def catalogue_with(catalogue: Catalogue, mapping: TableMapping | None, indicators: list[str]) -> Catalogue:
    """The workspace catalogue completed with the default entries used by an import, with the
    vintage and source given in the mapping."""
    defaults = load_catalogue(DEFAULT_CATALOGUE)
    out = dict(catalogue)
    for indicator in indicators:
        if indicator not in out and indicator in defaults:
            out[indicator] = defaults[indicator]
    for column_map in (mapping.indicators if mapping else []):
        entry = out.get(column_map.indicator)
        if entry is not None:
            out[entry.id] = replace(entry, vintage=column_map.vintage or entry.vintage,
                                    source=column_map.source or entry.source)
    return out


def selectable_indicators(catalogue: Catalogue) -> Catalogue:
    """The indicators a column can be mapped to: the workspace's and the default catalogue's."""
    return {**load_catalogue(DEFAULT_CATALOGUE), **catalogue}

