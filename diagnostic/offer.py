"""The insertion offer: services in the data·inclusion model, themes, placement, deduplication.

A service row (the workspace file ``offer.csv``) has: id, name, structure, siret, themes, publics,
modes, zone_type, zone_code, address, postcode, code_insee, lat, lon, precision, source, updated,
capacity, merged_from. List fields are stored joined with ``|``.

Themes use the data·inclusion v1 *thématiques* (``mobilite``, ``mobilite--preparer-un-permis``);
older vocabularies are translated by ``data/correspondances_thematiques.csv``. Reception modes are
the v1 ``modes-accueil`` (``en-presentiel``, ``a-distance``) plus ``itinerant`` for a service that
stops in several places (one row per stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io import offer_files
from diagnostic.io.offer_files import LineError
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
    """Add incoming records to the offer, folding duplicates from another source into the record
    already there: same SIRET with a theme in common, or the same name within 150 m.

    A record with the same id as an existing one replaces it (re-importing a file updates it),
    unless the existing one is more recent: an older list never overwrites a newer one.
    """
    known = existing.set_index("id")["updated"].to_dict()
    merges: list[Merge] = []
    stale = [r for r in incoming.to_dict("records") if r["id"] in known and known[r["id"]] > (r["updated"] or "")]
    for r in stale:
        merges.append(Merge(r["id"], r["name"], r["id"], r["name"],
                            f"version plus ancienne ({r['updated'] or 'date inconnue'}) que celle déjà "
                            f"importée ({known[r['id']]}) : ignorée"))
    incoming = incoming[~incoming["id"].isin([r["id"] for r in stale])]
    base = existing[~existing["id"].isin(incoming["id"])]
    rows = base.to_dict("records")
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


# --- placing records on the territory and importing a file --------------------------------------

FRANCE_BOXES = [(41.0, 51.3, -5.5, 9.9),  # metropolitan France and Corsica
                (15.8, 16.6, -61.9, -61.0), (14.3, 14.9, -61.3, -60.8),  # Guadeloupe, Martinique
                (2.0, 6.0, -54.7, -51.5), (-21.5, -20.8, 55.2, 55.9), (-13.1, -12.6, 44.9, 45.4)]


def in_france(lat: float, lon: float) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in FRANCE_BOXES)


def place(records: pd.DataFrame, communes: gpd.GeoDataFrame, file: str) -> tuple[pd.DataFrame, list[LineError]]:
    """Locate each candidate record in a commune of the workspace.

    Coordinates give an exact point (its commune found by the polygons); without them the record
    is placed at its commune's centre (from the INSEE code, else an unambiguous postcode) and
    flagged as approximate. A remote-only service may have no place.
    Returns the placed records (offer columns) and the line errors.
    """
    errors: list[LineError] = []
    centres = communes.set_index("code_insee").geometry.representative_point()
    by_postcode: dict[str, list[str]] = {}
    for code, postcodes in zip(communes["code_insee"], communes.get("postcodes", pd.Series("", index=communes.index)), strict=True):
        for postcode in str(postcodes or "").split("|"):
            if postcode:
                by_postcode.setdefault(postcode, []).append(code)
    names = communes["name"].map(normalise_name)
    by_name = dict(zip(names[~names.duplicated(keep=False)], communes["code_insee"][~names.duplicated(keep=False)],
                       strict=True))
    rows = []
    points = _points(records, file, errors)
    located = _commune_of(points, communes)
    for idx, record in records.iterrows():
        line = int(record["line"])
        if not str(record["name"]).strip():
            errors.append(LineError(file, line, "nom", "le nom du service est vide."))
            continue
        row = {c: record.get(c, "") for c in COLUMNS if c in record.index}
        row.update(precision="", merged_from=[], capacity=_number(record["capacity"]))
        if idx in points.index:
            if idx not in located.index:
                errors.append(LineError(file, line, "latitude/longitude",
                                        "le point est hors du territoire de l'espace de travail."))
                continue
            row.update(lat=points.at[idx, "lat"], lon=points.at[idx, "lon"],
                       code_insee=located[idx], precision=PRECISION_EXACT)
        elif any(e.line == line for e in errors):
            continue  # its coordinates were refused
        else:
            code = _commune_from_codes(record, centres.index, by_postcode, by_name)
            if isinstance(code, str) and code in centres.index:
                row.update(lat=round(centres[code].y, 6), lon=round(centres[code].x, 6),
                           code_insee=code, precision=PRECISION_COMMUNE)
            elif record["modes"] == ["a-distance"]:
                row.update(lat=np.nan, lon=np.nan, code_insee="", zone_type=record["zone_type"] or "departement")
            else:
                errors.append(LineError(file, line, code[0], code[1]))
                continue
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty_offer()
    return frame, errors


def _number(text) -> float:
    try:
        return float(str(text).replace(",", ".")) if str(text).strip() else np.nan
    except ValueError:
        return np.nan


def _points(records: pd.DataFrame, file: str, errors: list) -> pd.DataFrame:
    """Records with usable coordinates; bad or foreign coordinates are reported."""
    out = {}
    for idx, record in records.iterrows():
        lat_text, lon_text = str(record["lat"]).strip(), str(record["lon"]).strip()
        if not lat_text and not lon_text:
            continue
        line = int(record["line"])
        try:
            lat, lon = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
        except ValueError:
            errors.append(LineError(file, line, "latitude/longitude",
                                    f"coordonnées illisibles « {lat_text} ; {lon_text} » : écrivez des "
                                    "degrés décimaux (ex. 48,79 et 2,45)."))
            continue
        if not in_france(lat, lon):
            hint = ("latitude et longitude semblent inversées." if in_france(lon, lat)
                    else "ce point n'est pas en France : vérifiez qu'il s'agit de degrés décimaux "
                         "(WGS84) et non de Lambert-93.")
            errors.append(LineError(file, line, "latitude/longitude", f"coordonnées ({lat}, {lon}) : {hint}"))
            continue
        out[idx] = (lat, lon)
    return pd.DataFrame.from_dict(out, orient="index", columns=["lat", "lon"])


def _commune_of(points: pd.DataFrame, communes: gpd.GeoDataFrame) -> pd.Series:
    """The commune code under each point (points outside every commune are left out)."""
    if points.empty:
        return pd.Series(dtype=str)
    gdf = gpd.GeoDataFrame(index=points.index, geometry=gpd.points_from_xy(points["lon"], points["lat"]),
                           crs=communes.crs)
    joined = gpd.sjoin(gdf, communes[["code_insee", "geometry"]], predicate="within", how="inner")
    return joined[~joined.index.duplicated()]["code_insee"]


def _commune_from_codes(record, codes: pd.Index, by_postcode: dict, by_name: dict) -> str | tuple[str, str]:
    """The commune of a record from its INSEE code (or its name, when unambiguous) or its
    postcode, or (field, reason) when it cannot be found."""
    code = str(record["code_insee"]).strip()
    if code:
        if code in codes:
            return code
        if code.isdigit() and code.zfill(5) in codes:  # leading zero lost by a spreadsheet
            return code.zfill(5)
        if normalise_name(code) in by_name:
            return by_name[normalise_name(code)]
        return "code_insee", f"la commune « {code} » n'est pas dans le territoire de l'espace de travail."
    postcode = str(record["postcode"]).strip()
    if postcode:
        matches = by_postcode.get(postcode.zfill(5), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            return "code_postal", (f"le code postal « {postcode} » couvre {len(matches)} communes : "
                                   "indiquez le code INSEE ou les coordonnées.")
        return "code_postal", f"le code postal « {postcode} » ne correspond à aucune commune du territoire."
    return "localisation", "ni coordonnées, ni code commune, ni code postal : le service ne peut être placé."


@dataclass
class ImportReport:
    """What an import did: records added, duplicates merged, lines refused."""

    file: str
    format: str
    imported: int
    merges: list[Merge]
    errors: list[LineError]

    def summary(self) -> str:
        return (f"{self.imported} service(s) importé(s) depuis « {self.file} », "
                f"{len(self.merges)} doublon(s) fusionné(s), {len(self.errors)} ligne(s) refusée(s).")


def import_offer(ws, path: Path, fmt: str | None = None, mapping: dict | None = None,
                 display_name: str | None = None) -> ImportReport:
    """Read an offer file, place and deduplicate its records, and save the workspace's offer.

    Nothing is written when the file cannot be read or when none of its lines can be imported.
    """
    file = display_name or Path(path).name
    fmt = fmt or offer_files.detect_format(list(offer_files.read_any(path).columns))
    if fmt == "datainclusion":
        records, errors = offer_files.read_datainclusion(path, ws.offer)
    elif fmt == "mednum":
        records, errors = offer_files.read_mednum(path)
    elif fmt == "france-services":
        records, errors = offer_files.read_france_services(path)
    elif fmt == "csv":
        records, errors = offer_files.read_partner(path, mapping)
    else:
        raise InputError(f"format inconnu « {fmt} ».", field="--format",
                         fix=f"Formats possibles : {', '.join(offer_files.FORMATS)}.")
    for error in errors:
        error.file = file
    refused = {e.line for e in errors}
    placed, place_errors = place(records[~records["line"].isin(refused)], ws.communes, file)
    errors = sorted(errors + place_errors, key=lambda e: e.line)
    if placed.empty:
        first = "; ".join(e.french() for e in errors[:3])
        raise InputError(f"aucune ligne n'a pu être importée ({len(errors)} erreur(s)). {first}",
                         file=file, fix="Corrigez le fichier ou choisissez un autre format ; "
                                        "l'espace de travail n'a pas été modifié.")
    result = merge_offer(ws.offer, placed)
    write_offer(result.offer, ws.path / OFFER_FILE)
    return ImportReport(file, fmt, len(placed), result.merges, errors)



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
                rsa_households: pd.Series | None = None) -> pd.DataFrame:
    """Services per territory and top-level theme (long format), with rates.

    `groups` maps commune codes to territories; a service counts once in each of its top-level
    themes, in the territory of its commune. Columns: territory, theme, services,
    per_10000 (inhabitants) and per_100_rsa (foyers allocataires du RSA, when known).
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
        table["per_100_rsa"] = table["services"] / table["territory"].map(rsa).where(lambda s: s > 0) * 100
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
