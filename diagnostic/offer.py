"""The insertion offer: services in the data·inclusion model, themes, deduplication, inventory.

The workspace file ``offer.csv`` keeps every imported record as it came (one row per record of a
source, in import order); the offer users see is computed from it by folding the duplicates of
different sources into the first one (``fold_offer``), so that re-importing or replacing a file never
loses what another file brought. A row has: id, name, structure, siret, themes, publics,
modes, zone_type, zone_code, address, postcode, code_insee, lat, lon, precision, source, updated,
capacity, merged_from. List fields are stored joined with ``|``.

Themes use the data·inclusion v1 *thématiques* (``mobilite``, ``mobilite--preparer-un-permis``);
older vocabularies are translated by ``data/correspondances_thematiques.csv``. Reception modes are
the v1 ``modes-accueil`` (``en-presentiel``, ``a-distance``) plus ``itinerant`` for a service that
stops in several places (one row per stop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from diagnostic.territory import departement_of
from diagnostic.themes import MODES, PUBLICS, normalise_name, theme_labels, top_theme, top_themes


COLUMNS = ["id", "name", "structure", "siret", "themes", "publics", "modes", "zone_type", "zone_code",
           "address", "postcode", "code_insee", "lat", "lon", "precision", "source", "updated",
           "capacity", "merged_from"]
LIST_COLUMNS = ["themes", "publics", "modes", "merged_from"]
PRECISION_EXACT = "exacte"
PRECISION_COMMUNE = "commune"
DUPLICATE_DISTANCE_M = 150
OFFER_FILE = "offer.csv"


def empty_offer() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    for column in ("lat", "lon", "capacity"):
        frame[column] = frame[column].astype(float)
    return frame


def read_offer(path: Path) -> pd.DataFrame:
    """The offer file of a workspace (empty when there is none yet)."""
    if not Path(path).is_file():
        return empty_offer()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in LIST_COLUMNS:
        frame[column] = frame[column].map(lambda s: [v for v in s.split("|") if v])
    for column in ("lat", "lon", "capacity"):
        frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
    return frame[COLUMNS]


def write_offer(offer: pd.DataFrame, path: Path) -> None:
    """Write the offer file atomically."""
    frame = offer[COLUMNS].copy()
    for column in LIST_COLUMNS:
        frame[column] = frame[column].map("|".join)
    tmp = Path(path).with_suffix(".tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8")
    tmp.replace(path)


@dataclass
class Merge:
    """Two records found to be the same service: the one kept and the one folded into it."""

    kept: str
    kept_name: str
    merged: str
    merged_name: str
    reason: str


@dataclass
class MergeResult:
    offer: pd.DataFrame
    merges: list[Merge] = field(default_factory=list)


def merge_offer(existing: pd.DataFrame, incoming: pd.DataFrame) -> MergeResult:
    """Add incoming records to an offer, folding duplicates from another source into the record
    already there: same SIRET with a theme in common, or the same name within 150 m."""
    rows = existing.to_dict("records")
    merges: list[Merge] = []
    by_siret: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}

    def index(i: int) -> None:
        if rows[i]["siret"]:
            by_siret.setdefault(rows[i]["siret"], []).append(i)
        by_name.setdefault(normalise_name(rows[i]["name"]), []).append(i)

    for i in range(len(rows)):
        index(i)
    for record in incoming.to_dict("records"):
        match = _find_duplicate(rows, record, by_siret, by_name)
        if match is None:
            rows.append(record)
            index(len(rows) - 1)
            continue
        i, reason = match
        merges.append(Merge(rows[i]["id"], rows[i]["name"], record["id"], record["name"], reason))
        rows[i] = _fold(rows[i], record)
    offer = pd.DataFrame(rows, columns=COLUMNS) if rows else empty_offer()
    return MergeResult(offer, merges)


def fold_offer(records: pd.DataFrame) -> MergeResult:
    """The offer as users see it, from the records as imported."""
    return merge_offer(empty_offer(), records)


LIST_VINTAGE = re.compile(r"^(?P<family>.+) \((?P<date>\d{4}-\d{2}(?:-\d{2})?)\)$")


@dataclass
class RecordUpdate:
    """The records of a workspace after an import, and what the import replaced or ignored."""

    records: pd.DataFrame
    stale: list[str] = field(default_factory=list)  # French sentences: incoming records ignored
    superseded: int = 0  # records of an older vintage of the same list, absent from the new one: removed
    applied: int = 0  # incoming records added or replacing one


def update_records(records: pd.DataFrame, incoming: pd.DataFrame, departements: set[str]) -> RecordUpdate:
    """Records with an import applied: a record with the same id is replaced in place (re-importing
    a file updates it) unless the one there is more recent; a dated list (« France services
    (2022-12-01) ») replaces the records of an older vintage of the same list in the départements it
    covers, and an older list never replaces a newer one."""
    stale: list[str] = []
    dated = {LIST_VINTAGE.match(s).groups() for s in incoming["source"] if LIST_VINTAGE.match(s)}
    older = pd.Series(False, index=records.index)
    for family, date in dated:
        vintages = records["source"].map(lambda s: LIST_VINTAGE.match(s))
        same = vintages.map(lambda m: m is not None and m["family"] == family)
        newest = max((m["date"] for m in vintages[same]), default="")
        if newest > date:
            stale.append(f"liste « {family} » du {date} plus ancienne que celle du {newest} déjà importée : "
                         "ignorée")
            return RecordUpdate(records, stale)
        covered = records["code_insee"].map(lambda c: bool(c) and departement_of(c) in departements)
        older |= same & vintages.map(lambda m: m is not None and m["date"] < date) & covered
    closed = int((older & ~records["id"].isin(incoming["id"])).sum())
    records = records[~older]
    known = records.set_index("id")["updated"].to_dict()
    fresh: dict[str, dict] = {}
    for record in incoming.to_dict("records"):
        if record["id"] in known and known[record["id"]] > (record["updated"] or ""):
            stale.append(f"« {record['name']} » : version plus ancienne ({record['updated'] or 'date inconnue'}) "
                         f"que celle déjà importée ({known[record['id']]}), ignorée")
        else:
            fresh[record["id"]] = record
    rows = [fresh.pop(r["id"], r) for r in records.to_dict("records")]
    rows += list(fresh.values())
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty_offer()
    return RecordUpdate(frame, stale, closed, len(incoming) - len(stale))


def _find_duplicate(rows, record, by_siret, by_name) -> tuple[int, str] | None:
    def other_source(i: int) -> bool:
        return record["source"] not in rows[i]["source"].split(" + ")

    tops = {top_theme(t) for t in record["themes"]}
    for i in by_siret.get(record["siret"], []) if record["siret"] else []:
        if other_source(i) and tops & {top_theme(t) for t in rows[i]["themes"]}:
            return i, f"même SIRET ({record['siret']})"
    for i in by_name.get(normalise_name(record["name"]), []):
        if other_source(i) and distance_m(record, rows[i]) <= DUPLICATE_DISTANCE_M:
            return i, "même nom au même endroit"
    return None


def distance_m(a: dict, b: dict) -> float:
    """Great-circle distance in metres between two records (infinite if one has no point)."""
    if any(pd.isna(v) for v in (a["lat"], a["lon"], b["lat"], b["lon"])):
        return float("inf")
    lat1, lon1, lat2, lon2 = map(np.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * 6_371_000 * np.arcsin(np.sqrt(h)))


def _fold(kept: dict, other: dict) -> dict:
    merged = dict(kept)
    for column in ("themes", "publics", "modes"):
        merged[column] = list(dict.fromkeys([*kept[column], *other[column]]))
    merged["merged_from"] = list(dict.fromkeys([*kept["merged_from"], other["id"], *other["merged_from"]]))
    merged["source"] = " + ".join(dict.fromkeys([*kept["source"].split(" + "), other["source"]]))
    merged["updated"] = max(kept["updated"] or "", other["updated"] or "")
    if kept["precision"] != PRECISION_EXACT and other["precision"] == PRECISION_EXACT:
        for column in ("lat", "lon", "precision", "address", "code_insee"):
            merged[column] = other[column]
    for column in ("siret", "structure", "address", "postcode"):
        merged[column] = kept[column] or other[column]
    capacities = [c for c in (kept["capacity"], other["capacity"]) if not pd.isna(c)]
    merged["capacity"] = max(capacities) if capacities else np.nan
    return merged


# --- inventory: filters, territory × theme table, list -----------------------------------------

@dataclass
class OfferFilter:
    """What the user selected; empty means everything."""

    themes: list[str] = field(default_factory=list)  # top-level themes
    subtheme: str = ""
    public: str = ""
    modes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)  # commune codes of the chosen territory


def filter_offer(offer: pd.DataFrame, chosen: OfferFilter) -> pd.DataFrame:
    """The services matching every criterion (a remote service matches any territory)."""
    keep = pd.Series(True, index=offer.index)
    if chosen.themes:
        wanted = set(chosen.themes)
        keep &= offer["themes"].map(lambda ts: bool(wanted & {top_theme(t) for t in ts}))
    if chosen.subtheme:
        keep &= offer["themes"].map(lambda ts: chosen.subtheme in ts)
    if chosen.public:
        keep &= offer["publics"].map(lambda ps: chosen.public in ps or "tous-publics" in ps)
    if chosen.modes:
        keep &= offer["modes"].map(lambda ms: bool(set(chosen.modes) & set(ms)))
    if chosen.sources:
        keep &= offer["source"].map(lambda s: bool(set(chosen.sources) & set(s.split(" + "))))
    if chosen.communes:
        keep &= offer["code_insee"].isin(chosen.communes) | (offer["code_insee"] == "")
    return offer[keep]


def sources_of(offer: pd.DataFrame) -> list[str]:
    return sorted({s for joined in offer["source"] for s in joined.split(" + ") if s})


def theme_table(offer: pd.DataFrame, groups: pd.Series, population: pd.Series,
                rsa_households: pd.Series | None = None, secret: set[str] = frozenset()) -> pd.DataFrame:
    """Services per territory and top-level theme (long format), with rates.

    `groups` maps commune codes to territories; a service counts once in each of its top-level
    themes, in the territory of its commune. Columns: territory, theme, services,
    per_10000 (inhabitants) and per_100_rsa (foyers allocataires du RSA, when known; not for the
    territories in `secret`, whose count is masked by statistical secrecy: the ratio would give it).
    """
    located = offer[offer["code_insee"] != ""]
    pairs = [(groups.get(code), top) for code, themes in zip(located["code_insee"], located["themes"], strict=True)
             for top in dict.fromkeys(top_theme(t) for t in themes)]
    counts = pd.DataFrame(pairs, columns=["territory", "theme"]).dropna().value_counts()
    territories = sorted(groups.dropna().unique())
    grid = pd.MultiIndex.from_product([territories, list(dict.fromkeys(top_themes_present(offer)))],
                                      names=["territory", "theme"])
    table = counts.reindex(grid, fill_value=0).rename("services").reset_index()
    pop = population.groupby(groups).sum()
    table["per_10000"] = table["services"] / table["territory"].map(pop) * 10_000
    if rsa_households is not None:
        rsa = rsa_households.groupby(groups).sum()
        rsa = rsa.where(lambda s: (s > 0) & ~s.index.isin(list(secret)))
        table["per_100_rsa"] = table["services"] / table["territory"].map(rsa) * 100
    return table


def top_themes_present(offer: pd.DataFrame) -> list[str]:
    """Top-level themes in the vocabulary's order, those with at least one service."""
    present = {top_theme(t) for ts in offer["themes"] for t in ts}
    return [t for t in top_themes() if t in present]


def freshness_months(updated: pd.Series, today: pd.Timestamp) -> pd.Series:
    """Whole months since each record's last update (NaN when unknown)."""
    dates = pd.to_datetime(updated.replace("", None), errors="coerce")
    return ((today - dates).dt.days / 30.44).round()


def offer_list(offer: pd.DataFrame, commune_names: pd.Series, today: pd.Timestamp) -> pd.DataFrame:
    """The services as a table for people: French labels, commune name, age of the information."""
    labels = theme_labels()
    return pd.DataFrame({
        "Service": offer["name"], "Structure": offer["structure"],
        "Thématiques": offer["themes"].map(lambda ts: ", ".join(labels.get(t, t) for t in ts)),
        "Commune": offer["code_insee"].map(commune_names).fillna("— (à distance)"),
        "Accueil": offer["modes"].map(lambda ms: ", ".join(MODES.get(m, m) for m in ms)),
        "Publics": offer["publics"].map(lambda ps: ", ".join(PUBLICS.get(p, p) for p in ps)),
        "Source": offer["source"], "Mise à jour": offer["updated"],
        "Ancienneté (mois)": freshness_months(offer["updated"], today),
        "Localisation": offer["precision"].map({PRECISION_EXACT: "exacte",
                                                PRECISION_COMMUNE: "centre de la commune"}).fillna("—"),
    })
