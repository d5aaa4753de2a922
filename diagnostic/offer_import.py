"""Import an offer file into a workspace: read it, place each record in a commune, keep the records.

A record is placed by its coordinates (« exacte »), else at the centre of its commune, found from
its INSEE code, a postcode that the workspace knows, or its commune's name when no other commune of
the territory has the same (« commune »). Rows of other départements are counted as ignored, not
as errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io import offer_files
from diagnostic.io.lock import workspace_lock
from diagnostic.io.offer_files import FileDefaults, LineError
from diagnostic.offer import (COLUMNS, OFFER_FILE, PRECISION_COMMUNE, PRECISION_EXACT, Merge, empty_offer,
                              fold_offer, read_offer, update_records, write_offer)
from diagnostic.territory import departement_of, in_france, is_commune_code
from diagnostic.themes import normalise_name

ARTICLES = {"le", "la", "les", "l", "d", "de", "du", "des"}
PREFIXES = ("commune de ", "commune d ", "ville de ", "ville d ", "mairie de ", "mairie d ")
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints"}


def commune_key(name: str) -> str:
    """A commune name compared loosely: accents, case, hyphens, « COMMUNE DE », articles, « St »,
    « CEDEX » ignored (« COMMUNE DE PEROLS », « Pérols » → « perols »)."""
    text = normalise_name(name)
    for prefix in PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = re.sub(r"\bcedex\b.*$", "", text)
    words = [ABBREVIATIONS.get(w, w) for w in text.split()]
    return " ".join(w for w in words if w not in ARTICLES)


@dataclass
class Gazetteer:
    """The communes of a workspace, found by code, postcode or name."""

    codes: pd.Index
    centres: gpd.GeoSeries
    by_postcode: dict[str, list[str]]
    by_name: dict[str, list[str]]
    departements: set[str]

    @classmethod
    def of(cls, communes: gpd.GeoDataFrame) -> "Gazetteer":
        centres = communes.set_index("code_insee").geometry.representative_point()
        by_postcode: dict[str, list[str]] = {}
        postcodes = communes["postcodes"] if "postcodes" in communes else pd.Series("", index=communes.index)
        for code, text in zip(communes["code_insee"], postcodes.fillna(""), strict=True):
            for postcode in str(text).split("|"):
                if postcode:
                    by_postcode.setdefault(postcode.zfill(5), []).append(code)
        by_name: dict[str, list[str]] = {}
        for code, name in zip(communes["code_insee"], communes["name"], strict=True):
            by_name.setdefault(commune_key(name), []).append(code)
        return cls(centres.index, centres, by_postcode, by_name,
                   {departement_of(c) for c in communes["code_insee"]})

    def departement(self, record) -> str | None:
        """The département a record says it is in (code, else postcode), None when it says nothing."""
        code, postcode = str(record["code_insee"]).strip(), str(record["postcode"]).strip()
        if not code and re.fullmatch(r"\d{4,5}|2[AB]\d{3}", str(record["commune"]).strip()):
            code = str(record["commune"]).strip()
        if is_commune_code(code.zfill(5) if code.isdigit() else code):
            return departement_of(code)
        if re.fullmatch(r"\d{4,5}", postcode):
            found = self.by_postcode.get(postcode.zfill(5))
            return departement_of(found[0]) if found else departement_of(postcode)
        return None

    def foreign(self, record) -> bool:
        dept = self.departement(record)
        if dept in (None, *self.departements):
            return False
        return not (dept == "20" and self.departements & {"2A", "2B"})

    def commune(self, record) -> str | tuple[str, str]:
        """The commune of a record from its code, postcode or name, or (field, reason)."""
        code = str(record["code_insee"]).strip()
        name = str(record["commune"]).strip()
        if not code and re.fullmatch(r"\d{4,5}|2[AB]\d{3}", name):  # a code in the commune column
            code, name = name, ""
        if code:
            for candidate in (code, code.zfill(5) if code.isdigit() else code):
                if candidate in self.codes:
                    return candidate
            if is_commune_code(code.zfill(5) if code.isdigit() else code):
                return "code_insee", f"la commune « {code} » n'est pas dans le territoire de l'espace de travail."
            name = name or code  # a name written in the code column
        postcode = str(record["postcode"]).strip()
        among = self.by_postcode.get(postcode.zfill(5), []) if postcode else []
        if len(among) == 1:
            return among[0]
        if name:
            matches = self.by_name.get(commune_key(name), [])
            if among:
                matches = [c for c in matches if c in among]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                return "commune", (f"plusieurs communes du territoire s'appellent « {name} » : indiquez le code "
                                   "INSEE ou le code postal.")
        if len(among) > 1:
            return "code_postal", (f"le code postal « {postcode} » couvre {len(among)} communes : indiquez le code "
                                   "INSEE ou le nom de la commune.")
        if name:
            return "commune", f"la commune « {name} » n'est pas dans le territoire de l'espace de travail."
        if postcode and not self.by_postcode:
            return "code_postal", (f"l'espace de travail ne connaît pas les codes postaux (« {postcode} ») : importez "
                                   "la liste officielle des communes (communes.csv, colonne codes_postaux) comme "
                                   "regroupements ou indicateurs, ou indiquez le code INSEE.")
        if postcode:
            return "code_postal", f"le code postal « {postcode} » ne correspond à aucune commune du territoire."
        return "localisation", "ni coordonnées, ni code commune, ni code postal, ni nom de commune : le service ne " \
                               "peut être placé."


def place(records: pd.DataFrame, communes: gpd.GeoDataFrame,
          file: str) -> tuple[pd.DataFrame, list[LineError], list[LineError]]:
    """Locate each candidate record in a commune of the workspace.

    Coordinates give an exact point (its commune found by the polygons); without them, or when the
    point falls just outside the polygons but the record names a commune of the territory, the
    record is placed at its commune's centre and flagged as approximate. A remote-only service may
    have no place. Returns the placed records (offer columns), the line errors and the lines ignored
    because they belong to another territory.
    """
    errors: list[LineError] = []
    places = Gazetteer.of(communes)
    foreign = records.apply(places.foreign, axis=1) if len(records) else pd.Series(dtype=bool)
    ignored = [LineError(file, int(r["line"]), "localisation", f"autre département ({places.departement(r)})")
               for _, r in records[foreign].iterrows()] if len(records) else []
    records = records[~foreign] if len(records) else records
    points = _points(records, file, errors)
    located = _commune_of(points, communes)
    refused = {e.line for e in errors}
    rows = []
    for idx, record in records.iterrows():
        line = int(record["line"])
        if line in refused:
            continue
        if not str(record["name"]).strip():
            errors.append(LineError(file, line, "nom", "le nom du service est vide."))
            continue
        row = {c: record[c] for c in COLUMNS if c in record.index}
        row.update(precision="", merged_from=[], capacity=_number(record["capacity"]))
        if idx in located.index:
            row.update(lat=points.at[idx, "lat"], lon=points.at[idx, "lon"], code_insee=located[idx],
                       precision=PRECISION_EXACT)
            rows.append(row)
            continue
        code = places.commune(record)
        if isinstance(code, str):
            centre = places.centres[code]
            row.update(lat=round(centre.y, 6), lon=round(centre.x, 6), code_insee=code, precision=PRECISION_COMMUNE)
        elif idx in points.index and places.departement(record) is None:
            ignored.append(LineError(file, line, "latitude/longitude", "point hors du territoire de l'espace de "
                                                                       "travail (autre département ?)"))
            continue
        elif idx in points.index:
            errors.append(LineError(file, line, "latitude/longitude",
                                    "le point est hors du territoire de l'espace de travail."))
            continue
        elif record["modes"] == ["a-distance"]:
            row.update(lat=np.nan, lon=np.nan, code_insee="", zone_type=record["zone_type"] or "departement")
        else:
            errors.append(LineError(file, line, code[0], code[1]))
            continue
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty_offer()
    return frame, errors, ignored


def _number(text) -> float:
    try:
        value = float(str(text).replace(",", ".")) if str(text).strip() else np.nan
    except ValueError:
        return np.nan
    return value if np.isfinite(value) else np.nan


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


@dataclass
class ImportReport:
    """What an import did: records added, duplicates merged, lines refused or ignored."""

    file: str
    format: str
    imported: int
    merges: list[Merge]
    errors: list[LineError]
    ignored: list[LineError] = field(default_factory=list)  # lines of other territories
    stale: list[str] = field(default_factory=list)
    superseded: int = 0

    def summary(self) -> str:
        text = (f"{self.imported} service(s) importé(s) depuis « {self.file} », "
                f"{len(self.merges)} doublon(s) fusionné(s), {len(self.errors)} ligne(s) refusée(s)")
        if self.ignored:
            text += f", {len(self.ignored)} ligne(s) d'autres territoires ignorée(s)"
        if self.superseded:
            text += f", {self.superseded} fiche(s) absente(s) de cette liste plus récente retirée(s)"
        if self.stale:
            text += f", {len(self.stale)} fiche(s) plus ancienne(s) que celles déjà importées ignorée(s)"
        return text + "."


def read_records(ws, path: Path, fmt: str, mapping: dict | None,
                 defaults: FileDefaults) -> tuple[pd.DataFrame, list[LineError]]:
    """The candidate records of a file in a given format."""
    if fmt != "csv" and defaults != FileDefaults():
        raise InputError("une thématique, un public ou un mode pour tout le fichier ne s'indique que pour le "
                         "fichier d'un partenaire.", field="--theme", fix="Choisissez le format « csv » (fichier "
                         "d'un partenaire), ou retirez l'option.")
    if fmt == "datainclusion":
        return offer_files.read_datainclusion(path, ws.offer)
    if fmt == "mednum":
        return offer_files.read_mednum(path)
    if fmt == "france-services":
        return offer_files.read_france_services(path)
    if fmt == "csv":
        return offer_files.read_partner(path, mapping, defaults)
    raise InputError(f"format inconnu « {fmt} ».", field="--format",
                     fix=f"Formats possibles : {', '.join(offer_files.FORMATS)}.")


def import_offer(ws, path: Path, fmt: str | None = None, mapping: dict | None = None,
                 display_name: str | None = None, defaults: FileDefaults = FileDefaults()) -> ImportReport:
    """Read an offer file, place its records and add them to the workspace's records.

    Nothing is written when the file cannot be read or when none of its lines can be imported.
    """
    file = display_name or Path(path).name
    fmt = fmt or offer_files.detect_format(list(offer_files.read_any(path).columns))
    records, errors = read_records(ws, path, fmt, mapping, defaults)
    for error in errors:
        error.file = file
    refused = {e.line for e in errors}
    placed, place_errors, ignored = place(records[~records["line"].isin(refused)], ws.communes, file)
    errors = sorted(errors + place_errors, key=lambda e: e.line)
    if placed.empty:
        first = "; ".join(e.french() for e in (errors or ignored)[:3])
        detail = f"{len(errors)} erreur(s), {len(ignored)} ligne(s) d'autres territoires"
        raise InputError(f"aucune ligne n'a pu être importée ({detail}). {first}", file=file,
                         fix="Corrigez le fichier ou choisissez un autre format ; l'espace de travail n'a pas été "
                             "modifié.")
    departements = {departement_of(c) for c in placed["code_insee"] if c}
    with workspace_lock(ws.path):  # the records as they are now, not as this page loaded them
        update = update_records(read_offer(ws.path / OFFER_FILE), placed, departements)
        write_offer(update.records, ws.path / OFFER_FILE)
    incoming = set(placed["id"])
    merges = [m for m in fold_offer(update.records).merges if m.merged in incoming or m.kept in incoming]
    return ImportReport(file, fmt, update.applied, merges, errors, ignored, update.stale, update.superseded)
