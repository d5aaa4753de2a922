"""Readers of offer files: data·inclusion, lieux de médiation numérique, France services, partners'.

Each reader turns a file into candidate records of the offer model (one per line, with its line
number) and a list of line errors; placing them on the territory is done by ``offer_import``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io.privacy import check_not_nominative
from diagnostic.io.tables import check_size, line_numbers, read_table
from diagnostic.io.text import clean_frame
from diagnostic.themes import MODES, PUBLICS, normalise_name, theme_labels, translate

MAX_OFFER_ROWS = 50_000  # a département's offer is a few thousand places; a national file is filtered first
FORMATS = {"datainclusion": "data·inclusion (structures ou services)",
           "mednum": "Lieux de médiation numérique",
           "france-services": "Liste des France services",
           "csv": "Fichier d'un partenaire (CSV ou Excel)"}
# Target fields of a partner file and the column names recognised for each
PARTNER_FIELDS = {
    "name": ("nom", "name", "libelle", "intitule", "nom_service", "nom du service", "lib_fs", "raison sociale",
             "nom de la structure"),
    "themes": ("thematiques", "thematique", "themes", "theme", "thème", "thèmes"),
    "structure": ("structure", "nom_structure", "porteur", "organisme"),
    "address": ("adresse", "address", "adresse_postale"),
    "code_insee": ("code_insee", "insee", "codgeo", "insee_com", "code_commune_insee_norm", "code commune insee",
                   "city insee code", "code_commune", "code commune"),
    "commune": ("commune", "ville", "lib_com", "city", "nom_commune", "nom de la commune", "commune insee"),
    "postcode": ("code_postal_norm", "code_postal", "cp", "codepostal", "code postal", "postcode", "zip code",
                 "zip"),
    "lat": ("latitude", "lat", "y"),
    "lon": ("longitude", "lon", "lng", "long", "x"),
    "siret": ("siret", "pivot_siret", "pivot"),
    "publics": ("publics", "public", "profils"),
    "modes": ("modes_accueil", "mode_accueil", "modalites"),
    "updated": ("date_maj", "date de mise à jour", "mise_a_jour", "updated"),
    "capacity": ("capacite", "capacité", "places", "nb_conseillers", "conseillers", "nombre d'aidants",
                 "nombre de conseillers validés par le coselec"),
}
FIELD_LABELS = {"name": "Nom du service", "themes": "Thématiques", "structure": "Structure",
                "address": "Adresse", "code_insee": "Code INSEE de la commune", "commune": "Nom de la commune",
                "postcode": "Code postal",
                "lat": "Latitude", "lon": "Longitude", "siret": "SIRET", "publics": "Publics",
                "modes": "Modes d'accueil", "updated": "Date de mise à jour", "capacity": "Capacité"}
FIELDS = ["line", "id", "name", "structure", "siret", "themes", "publics", "modes", "zone_type",
          "zone_code", "address", "postcode", "code_insee", "commune", "lat", "lon", "precision", "source",
          "updated", "capacity"]


@dataclass(frozen=True)
class FileDefaults:
    """What a whole file is about when its lines do not say it: one theme, public or reception mode
    (the Aidants Connect or CNFS lists have no themes column)."""

    theme: str = ""
    public: str = ""
    mode: str = ""

    def checked(self) -> "FileDefaults":
        """The same defaults as vocabulary values (French labels accepted), or InputError."""
        theme = _vocabulary_value(self.theme, theme_labels(), "thématique inconnue", "--theme")
        public = _vocabulary_value(self.public, PUBLICS, "public inconnu", "--public")
        mode = _vocabulary_value(self.mode, MODES, "mode d'accueil inconnu", "--mode")
        return FileDefaults(theme, public, mode)


def _vocabulary_value(text: str, vocabulary: dict[str, str], unknown: str, option: str) -> str:
    if not str(text or "").strip():
        return ""
    key = normalise_name(text)
    for value, label in vocabulary.items():
        if key in (normalise_name(value), normalise_name(label)):
            return value
    examples = ", ".join(list(vocabulary)[:4])
    raise InputError(f"{unknown} « {text} ».", field=option,
                     fix=f"Écrivez une valeur du référentiel data·inclusion ou son libellé (ex. {examples}).")


@dataclass
class LineError:
    """One line of a file that could not be imported, and why."""

    file: str
    line: int
    field: str
    reason: str

    def french(self) -> str:
        return f"fichier « {self.file} », ligne {self.line}, champ « {self.field} » : {self.reason}"


def read_any(path: Path) -> pd.DataFrame:
    """A table from CSV (any usual separator/encoding), Excel or JSON (a list of objects)."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_size(path)
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            items = data if isinstance(data, list) else data.get("data") or data.get("items") or []
            _check_rows(len(items), path.name)
            frame = pd.DataFrame([{k: _flatten(v) for k, v in item.items()} for item in items])
        else:
            frame = read_table(path, contacts_allowed=True)
    except RecursionError as exc:
        raise InputError("le fichier JSON est trop profondément imbriqué.", file=path.name,
                         fix="Fournissez une liste d'objets (un par service), comme l'export de data·inclusion.") from exc
    except (ValueError, OSError, KeyError, AttributeError, TypeError) as exc:
        raise InputError("le fichier est illisible : ce n'est ni un CSV, ni un classeur Excel, ni une liste JSON "
                         "de services.", file=path.name, fix="Vérifiez son format (CSV, Excel .xlsx ou JSON).") from exc
    if suffix != ".json":
        _check_rows(len(frame), path.name)
        return frame
    if frame.empty:
        raise InputError("le fichier ne contient aucune ligne.", file=path.name)
    frame.columns = [str(c).strip() for c in frame.columns]
    check_not_nominative(frame, path.name, contacts_allowed=True)
    return clean_frame(frame.astype(str).replace({"nan": "", "None": ""}))


def _check_rows(rows: int, file: str) -> None:
    if rows > MAX_OFFER_ROWS:
        raise InputError(f"le fichier a {rows:,} lignes, plus que les {MAX_OFFER_ROWS:,} qu'accepte un import."
                         .replace(",", "\u202f"), file=file, fix="Filtrez-le sur votre département.")


def _flatten(value) -> str:
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return "" if value is None else str(value)


def detect_format(columns: list[str]) -> str:
    """Guess the format of an offer file from its column names."""
    names = {c.lower() for c in columns}
    if names & {"id_fs", "matricule", "lib_fs", "lib_france_services"}:
        return "france-services"
    if "nb_conseillers" in names or ("services" in names and not names & {"typologie", "thematiques"}):
        return "mednum"
    if names & {"structure_id", "typologie", "zone_diffusion_type"}:
        return "datainclusion"
    return "csv"


def date_in_name(path: Path) -> str:
    """An ISO date (or year-month) written in a file name, e.g. liste-fs-2022-12-01.csv."""
    match = re.search(r"(20\d{2})-?(\d{2})(?:-?(\d{2}))?", Path(path).stem)
    if not match:
        return ""
    year, month, day = match.groups()
    return f"{year}-{month}-{day or '01'}"


def _split(text: str, separators: str = "|;,") -> list[str]:
    return [v.strip() for v in re.split(f"[{re.escape(separators)}]", text or "") if v.strip()]


def _col(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of these columns present (case-insensitive), or empty strings."""
    lower = {c.lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lower:
            return frame[lower[name.lower()]].fillna("").astype(str).str.strip()
    return pd.Series("", index=frame.index)


def _records(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    """Candidate records, one per line: a Series per field, or one value for every line."""
    out = pd.DataFrame({"line": line_numbers(frame)}, index=frame.index)
    for name in FIELDS[1:]:
        value = columns.get(name, [] if name in ("themes", "publics", "modes") else "")
        if isinstance(value, list):
            value = pd.Series([list(value) for _ in range(len(frame))], index=frame.index, dtype=object)
        out[name] = value
    return out


def _themes(raw: pd.Series, lines: pd.Series, vocabulary: str, file: str, column: str,
            errors: list[LineError], separators: str = "|;,") -> pd.Series:
    """Translate each line's themes; a line with no known theme is an error."""
    themes = []
    for line, text in zip(lines, raw, strict=True):
        values, unknown = translate(_split(text, separators), vocabulary)
        if not values and vocabulary == "partner":
            values, unknown = _themes_by_label(unknown)
        if not values:
            reason = (f"thématique inconnue « {', '.join(unknown)} »" if unknown else "aucune thématique")
            errors.append(LineError(file, int(line), column, reason + " : utilisez les thématiques de "
                                    "data·inclusion (ex. « mobilite », « numerique--acquerir-un-equipement »)."))
        themes.append(values)
    return pd.Series(themes, index=raw.index)


def _themes_by_label(values: list[str]) -> tuple[list[str], list[str]]:
    """Themes written as French labels ("Mobilité") or codes, for partners' files."""
    by_label = {normalise_name(label): value for value, label in theme_labels().items()}
    by_value = {normalise_name(value): value for value in theme_labels()}
    found, unknown = [], []
    for text in values:
        key = normalise_name(text)
        value = by_label.get(key) or by_value.get(key)
        (found if value else unknown).append(value or text)
    return found, unknown


def _publics(raw: pd.Series, separators: str = "|;,") -> pd.Series:
    by_label = {normalise_name(label): value for value, label in PUBLICS.items()}
    out = []
    for text in raw:
        values, unknown = translate(_split(text, separators), "public")
        values += [by_label[normalise_name(u)] for u in unknown if normalise_name(u) in by_label]
        out.append(list(dict.fromkeys(values)))
    return pd.Series(out, index=raw.index)


def read_datainclusion(path: Path, existing: pd.DataFrame) -> tuple[pd.DataFrame, list[LineError]]:
    """data·inclusion structures or services (CSV or JSON, schema v0 or v1).

    A service without an address of its own is placed at its structure, which must have been
    imported before (same file format, structures file).
    """
    file = Path(path).name
    frame = read_any(path)
    errors: list[LineError] = []
    is_service = "structure_id" in {c.lower() for c in frame.columns}
    upstream = _col(frame, "source").replace("", "inconnue")
    if "thematiques" in {c.lower() for c in frame.columns}:
        themes = _themes(_col(frame, "thematiques"), line_numbers(frame), "datainclusion-v0", file, "thematiques", errors)
    else:
        themes = _themes(_col(frame, "services"), line_numbers(frame), "mednum", file, "services", errors, ";|")
    modes = [_modes(m, r) for m, r in zip(_col(frame, "modes_accueil"),
                                          _col(frame, "modalites_accompagnement"), strict=True)]
    records = _records(
        frame, id="datainclusion:" + _col(frame, "id"), name=_col(frame, "nom"),
        structure=_col(frame, "nom") if not is_service else "",
        siret=_col(frame, "pivot_siret", "siret").str.replace(" ", ""),
        themes=themes, publics=_publics(_col(frame, "publics", "profils", "publics_accueillis")),
        modes=pd.Series(modes, index=frame.index),
        zone_type=_col(frame, "zone_diffusion_type", "zone_eligibilite_type"),
        zone_code=_col(frame, "zone_diffusion_code", "zone_eligibilite_code"),
        address=_col(frame, "adresse"), postcode=_col(frame, "code_postal"),
        code_insee=_col(frame, "code_insee"), commune=_col(frame, "commune"), lat=_col(frame, "latitude"),
        lon=_col(frame, "longitude"), source="data·inclusion (" + upstream + ")",
        updated=_col(frame, "date_maj").str[:10])
    if is_service:
        _locate_at_structures(records, _col(frame, "structure_id"), existing, file, errors)
    return records, errors


def _modes(modes: str, modalities: str) -> list[str]:
    out = [m for m in _split(modes) if m in ("en-presentiel", "a-distance")]
    if "distance" in modalities.lower():
        out.append("a-distance")
    return list(dict.fromkeys(out or ["en-presentiel"]))


def _locate_at_structures(records: pd.DataFrame, structure_ids: pd.Series, existing: pd.DataFrame,
                          file: str, errors: list[LineError]) -> None:
    structures = existing.set_index("id") if not existing.empty else pd.DataFrame()
    for idx, sid in structure_ids.items():
        if records.at[idx, "lat"] or records.at[idx, "code_insee"]:
            continue
        key = f"datainclusion:{sid}"
        if structures.empty or key not in structures.index:
            errors.append(LineError(file, int(records.at[idx, "line"]), "structure_id",
                                    f"structure « {sid} » inconnue : importez d'abord le fichier des "
                                    "structures data·inclusion."))
            continue
        s = structures.loc[key]
        for column in ("address", "postcode", "code_insee", "siret"):
            records.at[idx, column] = records.at[idx, column] or s[column]
        records.at[idx, "structure"] = s["name"]
        if s["precision"] == "exacte" and not pd.isna(s["lat"]):
            records.at[idx, "lat"], records.at[idx, "lon"] = str(s["lat"]), str(s["lon"])
        else:  # a structure placed at its commune's centre gives an approximate place
            records.at[idx, "lat"] = records.at[idx, "lon"] = ""


def read_mednum(path: Path) -> tuple[pd.DataFrame, list[LineError]]:
    """Lieux de médiation numérique (LaMednum standard, CSV or JSON)."""
    file = Path(path).name
    frame = read_any(path)
    errors: list[LineError] = []
    themes = _themes(_col(frame, "services"), line_numbers(frame), "mednum", file, "services", errors, ";|")
    modes = [_modes("", m) for m in _col(frame, "modalites_accompagnement")]
    upstream = _col(frame, "source").replace("", "inconnue")
    records = _records(
        frame, id="mednum:" + _col(frame, "id"), name=_col(frame, "nom"),
        structure=_col(frame, "structure_parente", "nom"),
        siret=_col(frame, "pivot_siret", "pivot", "siret").str.replace(" ", ""),
        themes=themes, publics=_publics(_col(frame, "publics_accueillis", "publics_specifiquement_adresses"), ";|"),
        modes=pd.Series(modes, index=frame.index), address=_col(frame, "adresse"),
        postcode=_col(frame, "code_postal"), code_insee=_col(frame, "code_insee"), commune=_col(frame, "commune"),
        lat=_col(frame, "latitude"), lon=_col(frame, "longitude"),
        source="Médiation numérique (" + upstream + ")", updated=_col(frame, "date_maj").str[:10],
        capacity=_col(frame, "nb_conseillers"))
    return records, errors


def read_france_services(path: Path) -> tuple[pd.DataFrame, list[LineError]]:
    """The ANCT list of France services (2020 or 2022 column names)."""
    frame = read_any(path)
    themes, _ = translate(["*"], "france-services")
    itinerant = _col(frame, "itinerance").str.lower().isin(["oui", "true", "1"])
    modes = pd.Series([["itinerant"] if i else ["en-presentiel"] for i in itinerant], index=frame.index)
    records = _records(
        frame, id="france-services:" + _col(frame, "id_fs", "MATRICULE"),
        name=_col(frame, "lib_fs", "lib_france_services"), structure="France services",
        themes=themes, publics=["tous-publics"], modes=modes,
        address=_col(frame, "adresse"), postcode=_col(frame, "code_postal"),
        code_insee=_col(frame, "insee_com"), commune=_col(frame, "lib_com"), lat=_col(frame, "latitude"),
        lon=_col(frame, "longitude"), source=f"France services ({date_in_name(path) or 'liste ANCT'})", updated=date_in_name(path))
    return records, []


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """For a partner file, which column holds each field (recognised names only, each column once)."""
    lower = {c.lower().strip(): c for c in columns}
    mapping: dict[str, str] = {}
    for target, names in PARTNER_FIELDS.items():
        found = next((lower[n] for n in names if n in lower and lower[n] not in mapping.values()), None)
        if found:
            mapping[target] = found
    return mapping


def read_partner(path: Path, mapping: dict[str, str] | None = None,
                 defaults: FileDefaults = FileDefaults()) -> tuple[pd.DataFrame, list[LineError]]:
    """Any CSV or Excel file, its columns mapped to the offer fields (guessed when not given); a
    theme, public or mode given for the whole file replaces the lines' own."""
    file = Path(path).name
    frame = read_any(path)
    mapping = mapping or guess_mapping(list(frame.columns))
    defaults = defaults.checked()
    missing = [FIELD_LABELS[f] for f in ("name", "themes") if f not in mapping
               and not (f == "themes" and defaults.theme)]
    if missing:
        raise InputError(f"colonnes introuvables : {', '.join(missing)} (colonnes présentes : "
                         f"{', '.join(frame.columns)}).", file=file,
                         fix="Indiquez quelle colonne contient chaque information (ou nommez-les « nom » et "
                             "« thematiques ») ; pour un fichier sans thématiques, choisissez une thématique "
                             "pour tout le fichier (option --theme en ligne de commande).")
    if not ({"lat", "lon"} <= mapping.keys() or mapping.keys() & {"code_insee", "postcode", "commune"}):
        raise InputError("aucune colonne de localisation (latitude/longitude, code INSEE, code postal ou nom "
                         "de la commune).", file=file, fix="Ajoutez au moins le code commune ou le code postal.")
    unknown = [c for c in mapping.values() if c not in frame.columns]
    if unknown:
        raise InputError(f"colonnes absentes du fichier : {', '.join(unknown)}.", file=file)
    errors: list[LineError] = []

    def column(target: str) -> pd.Series:
        return frame[mapping[target]].fillna("").astype(str).str.strip() if target in mapping \
            else pd.Series("", index=frame.index)

    themes = ([defaults.theme] if defaults.theme else
              _themes(column("themes"), line_numbers(frame), "partner", file, mapping["themes"], errors))
    modes = ([defaults.mode] if defaults.mode else
             pd.Series([[m for m in _split(text) if m in MODES] or ["en-presentiel"] for text in column("modes")],
                       index=frame.index))
    publics = [defaults.public] if defaults.public else _publics(column("publics"))
    records = _records(
        frame, id=f"{Path(path).stem}:" + line_numbers(frame).astype(str),
        name=column("name"), structure=column("structure"),
        siret=column("siret").str.replace(r"\.0$", "", regex=True).str.replace(" ", ""),
        themes=themes, publics=publics, modes=modes, address=column("address"),
        postcode=column("postcode"), code_insee=column("code_insee"), commune=column("commune"),
        lat=column("lat"), lon=column("lon"), source=f"Partenaire : {file}", updated=column("updated").str[:10],
        capacity=column("capacity"))
    return records, errors
