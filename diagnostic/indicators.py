"""Indicator catalogue, aggregation from numerators and denominators, thresholds, map classes
(statistical secrecy is in ``diagnostic.secrecy``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from diagnostic.errors import InputError

DEFAULT_CATALOGUE = Path(__file__).parent / "data" / "catalogue.json"
FAMILIES = ("résultat", "moyens", "contexte")
REQUIRED_METADATA = ("label", "short_label", "definition", "source", "unit", "vintage")
DEFAULT_SECRET_THRESHOLD = 5
# How a commune indicator becomes a group's: sums of numerators and denominators (counts, rates),
# a population-weighted mean (indices, stored as value × population over population), or not at all
# (a median income: only communes show a value)
AGGREGATION_SUMS = "somme"
AGGREGATION_WEIGHTED = "moyenne pondérée par la population"
AGGREGATION_NONE = "non agrégeable"
AGGREGATIONS = (AGGREGATION_SUMS, AGGREGATION_WEIGHTED, AGGREGATION_NONE)

STATUS_ALERT = "alerte"
STATUS_WATCH = "vigilance"
STATUS_FAVOURABLE = "favorable"
STATUS_PARTIAL = "non significatif"
# A grouped value resting on less than this share of its territory's population (communes whose
# numerator or denominator is secret or unknown are left out of the sums) is not compared with the
# thresholds: it is shown pale and labelled « non significatif ».
MIN_POPULATION_SHARE = 80.0


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry, following the method of the PTI guide."""

    id: str
    label: str
    short_label: str
    family: str
    definition: str
    numerator: str
    denominator: str | None
    unit: str
    scale: float
    source: str
    vintage: str
    frequency: str
    owner: str
    lower: float | None
    upper: float | None
    higher_is_better: bool | None
    confidential: bool
    aggregation: str = AGGREGATION_SUMS
    custom: bool = False  # added by the workspace's users (editable and removable)

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    def status(self, value: float | None) -> str | None:
        """Alert level of a value against the thresholds: favorable, vigilance or alerte."""
        if value is None or pd.isna(value) or self.higher_is_better is None:
            return None
        if self.lower is None or self.upper is None:
            return None
        if self.higher_is_better:
            if value < self.lower:
                return STATUS_ALERT
            return STATUS_WATCH if value < self.upper else STATUS_FAVOURABLE
        if value > self.upper:
            return STATUS_ALERT
        return STATUS_WATCH if value > self.lower else STATUS_FAVOURABLE

    def threshold_rule(self) -> str:
        """The thresholds in plain French."""
        if self.status(0.0) is None:
            return "Pas de seuil d'alerte pour cet indicateur."
        lo, up = fmt_number(self.lower), fmt_number(self.upper)
        unit = f" {self.unit}"
        if self.higher_is_better:
            return (f"Alerte sous {lo}{unit}, vigilance entre {lo} et {up}{unit}, "
                    f"favorable à partir de {up}{unit}.")
        return (f"Favorable jusqu'à {lo}{unit}, vigilance entre {lo} et {up}{unit}, "
                f"alerte au-delà de {up}{unit}.")


    def metadata(self) -> list[tuple[str, str]]:
        """The catalogue card, as (French label, text) pairs."""
        formula = self.numerator if not self.is_rate else f"{self.numerator} / {self.denominator}"
        if self.is_rate and self.scale != 1:
            formula += f" × {fmt_number(self.scale, 0)}"
        method = {AGGREGATION_SUMS: "somme des numérateurs et des dénominateurs des communes",
                  AGGREGATION_WEIGHTED: "moyenne des communes pondérée par leur population",
                  AGGREGATION_NONE: "non agrégeable : valeur communale seulement"}[self.aggregation]
        return [("Indicateur", self.label), ("Famille", self.family),
                ("Définition", self.definition), ("Formule", formula), ("Agrégation", method), ("Unité", self.unit),
                ("Source", self.source), ("Millésime", self.vintage),
                ("Fréquence de collecte", self.frequency), ("Responsable", self.owner),
                ("Seuils", self.threshold_rule())]


Catalogue = dict[str, Indicator]


MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]


def french_date(day: date | str) -> str:
    """« 5 mars 2016 », « 1er mai 2025 » (a date or an ISO string)."""
    day = date.fromisoformat(day[:10]) if isinstance(day, str) else day
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def french_day(text: str) -> str:
    """« 6 janvier 2025 » for a date written the ISO way in a file, the text itself when it is not one."""
    try:
        return french_date(text)
    except ValueError:
        return text


def fmt_number(value: float | None, decimals: int = 1) -> str:
    """A number written the French way: narrow no-break space for thousands, decimal comma."""
    if value is None or pd.isna(value):
        return "–"
    if float(value).is_integer() and abs(value) >= 100 or decimals == 0:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def decimal_text(value: float | None) -> str:
    """A value to edit, the French way and without trailing zeros: « 6,5 », « 3 », « » for none."""
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):.6f}".rstrip("0").rstrip(".").replace(".", ",")


def parse_decimal(text: str, field: str) -> float | None:
    """A number typed by a user, with a decimal comma or point (« 12,5 », « 1 000 »); None when empty."""
    cleaned = "".join(str(text or "").split()).replace("\u202f", "").replace(",", ".")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(f"« {text} » n'est pas un nombre.", field=field,
                         fix="Écrivez un nombre, avec une virgule pour les décimales (par exemple 12,5).") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"« {text} » n'est pas un nombre.", field=field, fix="Écrivez un nombre fini, par exemple 12,5.")
    return value


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> Catalogue:
    """Read a catalogue JSON file (a list of entries) into a dict keyed by indicator id."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError("le catalogue des indicateurs est illisible (fichier endommagé).", file=Path(path).name,
                         fix="Restaurez le fichier depuis une sauvegarde.") from exc
    names = {f.name for f in fields(Indicator)}
    catalogue: Catalogue = {}
    for number, entry in enumerate(entries, start=1):
        entry.setdefault("short_label", entry.get("label"))  # catalogues written before they existed
        entry.setdefault("aggregation", _default_aggregation(entry.get("id")))
        entry.setdefault("custom", False)
        missing = names - entry.keys()
        if missing:
            raise InputError(f"l'entrée n° {number} n'a pas les champs {sorted(missing)}.",
                             file=Path(path).name)
        catalogue[entry["id"]] = Indicator(**{k: entry[k] for k in names})
    return catalogue


@cache
def _default_aggregations() -> dict[str, str]:
    return {e["id"]: e.get("aggregation", AGGREGATION_SUMS) for e in json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))}


def _default_aggregation(indicator_id: str) -> str:
    """The method of a built-in indicator for catalogues written before methods were stated."""
    return _default_aggregations().get(indicator_id, AGGREGATION_SUMS)


def save_catalogue(catalogue: Catalogue, path: Path) -> None:
    """Write the catalogue atomically (a crash never leaves half a file)."""
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(i) for i in catalogue.values()], ensure_ascii=False, indent=1),
                   encoding="utf-8")
    tmp.replace(path)


def missing_metadata(catalogue: Catalogue) -> dict[str, list[str]]:
    """For each entry lacking required metadata, the names of the empty fields."""
    gaps = {}
    for ind in catalogue.values():
        empty = [name for name in REQUIRED_METADATA if not str(getattr(ind, name) or "").strip()]
        if ind.family not in FAMILIES:
            empty.append("family")
        if empty:
            gaps[ind.id] = empty
    return gaps


def with_thresholds(catalogue: Catalogue, indicator_id: str, lower: float | None,
                    upper: float | None, higher_is_better: bool | None) -> Catalogue:
    """A copy of the catalogue with new thresholds for one indicator (validated)."""
    if higher_is_better is not None and (lower is None or upper is None):
        raise InputError("un sens est choisi mais un seuil manque.", field=catalogue[indicator_id].label,
                         fix="Indiquez le seuil bas et le seuil haut, ou choisissez « sans orientation ».")
    if lower is not None and upper is not None and lower > upper:
        raise InputError("le seuil bas doit être inférieur ou égal au seuil haut.",
                         field=catalogue[indicator_id].label, fix="Inversez les deux valeurs.")
    updated = dict(catalogue)
    updated[indicator_id] = replace(catalogue[indicator_id], lower=lower, upper=upper,
                                    higher_is_better=higher_is_better)
    return updated


def aggregate(values: pd.DataFrame, groups: pd.Series, indicator: Indicator,
              population: pd.Series | None = None) -> pd.DataFrame:
    """Recompute one indicator per group from the sums of numerators and denominators.

    `values` is the long table (code_insee, indicator, numerator, denominator); `groups` maps each
    commune code to its group. Communes whose numerator or denominator is unknown are left out of
    the sums and counted in `communes_missing`; `population_share` is the share (%) of the group's
    `population` living in the communes that have a value. A rate is never an average of rates.
    """
    rows = values[values["indicator"] == indicator.id]
    at = pd.Index(rows["code_insee"]).get_indexer(groups.index)  # a commune once per indicator (checked on reading)
    found = at >= 0

    def column(name: str) -> np.ndarray:
        data = rows[name].to_numpy(float)
        return np.where(found, data[np.where(found, at, 0)] if len(data) else np.nan, np.nan)

    numerator, denominator = column("numerator"), column("denominator")
    known = ~np.isnan(numerator) & (~np.isnan(denominator) if indicator.is_rate else True)
    numerator, denominator = np.where(known, numerator, np.nan), np.where(known, denominator, np.nan)
    people = (population.reindex(groups.index).to_numpy(float) if population is not None
              else np.ones(len(groups)))
    keys, names = pd.factorize(groups, sort=True)  # -1: a commune without a group is left out

    def total(weights: np.ndarray) -> np.ndarray:
        keep = (keys >= 0) & ~np.isnan(weights)
        return np.bincount(keys[keep], weights=weights[keep], minlength=len(names))

    def total_or_nan(weights: np.ndarray) -> np.ndarray:  # a group with no value has no sum
        counted = np.bincount(keys[(keys >= 0) & ~np.isnan(weights)], minlength=len(names))
        return np.where(counted > 0, total(weights), np.nan)

    out = pd.DataFrame({"numerator": total_or_nan(numerator), "denominator": total_or_nan(denominator),
                        "communes": np.bincount(keys[keys >= 0], minlength=len(names)),
                        "communes_known": np.bincount(keys[(keys >= 0) & known], minlength=len(names))},
                       index=pd.Index(names, name="group"))
    out["communes_missing"] = out["communes"] - out["communes_known"]
    people_all, people_known = total(people), total(np.where(known, people, 0.0))
    out["population_share"] = people_known / np.where(people_all > 0, people_all, np.nan) * 100
    out["value"] = _value(out["numerator"], out["denominator"], indicator)
    if indicator.aggregation == AGGREGATION_NONE:  # a median of a group is not the median of its communes
        out.loc[out["communes"] > 1, ["numerator", "denominator", "value"]] = np.nan
    return out


def reference(values: pd.DataFrame, codes: pd.Series, indicator: Indicator,
              population: pd.Series | None = None) -> pd.Series:
    """The indicator for all the communes together (the département reference), with its
    communes and population share as in `aggregate`."""
    groups = pd.Series("département", index=codes.to_numpy())
    return aggregate(values, groups, indicator, population).iloc[0]


def _value(numerator: pd.Series, denominator: pd.Series, indicator: Indicator) -> pd.Series:
    if not indicator.is_rate:
        return numerator.astype(float)
    den = denominator.where(denominator > 0)
    return numerator / den * indicator.scale


def class_breaks(values: pd.Series, method: str, k: int = 5,
                 indicator: Indicator | None = None) -> list[float]:
    """Inner class limits for a choropleth: "quantiles", "jenks" (natural breaks) or "seuils"."""
    data = np.sort(pd.Series(values, dtype=float).dropna().to_numpy())
    if method == "seuils":
        if indicator is None or indicator.lower is None or indicator.upper is None:
            raise ValueError("cet indicateur n'a pas de seuils")
        return sorted({float(indicator.lower), float(indicator.upper)})
    if data.size == 0:
        return []
    if method == "quantiles":
        cuts = np.quantile(data, np.linspace(0, 1, k + 1)[1:-1])
    elif method == "jenks":
        cuts = _jenks_breaks(data, k)
    else:
        raise ValueError(f"méthode de classes inconnue : {method}")
    return sorted(set(float(c) for c in cuts))


def _jenks_breaks(data: np.ndarray, k: int) -> list[float]:
    """Fisher-Jenks natural breaks (exact dynamic programme on the sorted values)."""
    n = data.size
    k = min(k, np.unique(data).size)
    if k < 2:
        return []
    csum = np.concatenate([[0.0], np.cumsum(data)])
    csq = np.concatenate([[0.0], np.cumsum(data**2)])

    def ssd(i: np.ndarray, j: int) -> np.ndarray:
        # sum of squared deviations of data[i:j] for many i at once
        cnt = j - i
        s = csum[j] - csum[i]
        return csq[j] - csq[i] - s * s / cnt

    cost = np.full((k + 1, n + 1), np.inf)
    back = np.zeros((k + 1, n + 1), dtype=int)
    cost[1, 1:] = [ssd(np.array([0]), j)[0] for j in range(1, n + 1)]
    for c in range(2, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            total = cost[c - 1, i] + ssd(i, j)
            best = int(np.argmin(total))
            cost[c, j] = total[best]
            back[c, j] = i[best]
    cuts, j = [], n
    for c in range(k, 1, -1):
        j = back[c, j]
        cuts.append(data[j - 1])
    return sorted(cuts)


def classify(values: pd.Series, breaks: list[float]) -> pd.Series:
    """Class number (0..len(breaks)) of each value; values equal to a limit fall in the lower class."""
    arr = pd.Series(values, dtype=float)
    classes = np.searchsorted(np.asarray(breaks, dtype=float), arr.to_numpy(), side="left")
    return pd.Series(np.where(arr.isna(), -1, classes), index=arr.index)
