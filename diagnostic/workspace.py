"""Where a diagnostic's data lives: one folder per workspace, one way to load it.

A workspace folder holds:
- ``workspace.json``: name, département, fictional flag, secrecy threshold;
- ``communes.geojson``: code_insee, name, population, postcodes, the population point
  (pop_lon/pop_lat, when the boundaries file gave one) and geometry (WGS84);
- ``groupings.csv``: code_insee then one column per grouping level (commune → group name);
- ``catalogue.json``: the indicator catalogue with this workspace's thresholds;
- ``values.csv``: code_insee, indicator, numerator, denominator (long format);
- ``offer.csv`` (optional): the insertion offer, see ``diagnostic.offer``;
- ``stops.csv`` (optional): public-transport stops imported from GTFS feeds;
- ``correspondances.csv`` (optional): former commune code → current code (merged communes);
- ``mappings.json`` (optional): the column mappings of imported tables, remembered;
- ``zones_blanches.json`` (optional): the white-zone settings the working group retained for the annex;
- ``populations_fusions.csv`` (optional): populations of the parts of merged communes, from the
  tables that gave them, to weight indices of an older geography.

The population of the communes is the ``population`` indicator when it is known, else the one of
the boundaries file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from diagnostic.errors import InputError, disk_error
from diagnostic.indicator_import import (MAPPINGS_FILE, ImportReport, TableMapping, catalogue_with,
                                         read_indicator_table, remember_mapping, selectable_indicators)
from diagnostic.io import geo, tables
from diagnostic.io.lock import workspace_lock
from diagnostic.io.text import clean_text
from diagnostic.offer import OFFER_FILE, fold_offer, read_offer, write_offer
from diagnostic.themes import normalise_name
from diagnostic.access.transit import STOPS_FILE, read_stops
from diagnostic.access.white_zones import CoverageParams
from diagnostic.access.grid import GRID_FILE
from diagnostic.travel.network import INFO_FILE as NETWORK_INFO, NETWORK_DIR
from diagnostic.indicators import (DEFAULT_CATALOGUE, DEFAULT_SECRET_THRESHOLD, Catalogue, Indicator,
                                   load_catalogue, save_catalogue)
from diagnostic.vintages import CORRESPONDENCE_FILE, former_codes, read_correspondence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_WORKSPACE = PROJECT_ROOT / "data" / "demo"
FILES = ("workspace.json", "communes.geojson", "groupings.csv", "catalogue.json", "values.csv")
RETAINED_FILE = "zones_blanches.json"
PART_POPULATIONS_FILE = "populations_fusions.csv"
OPTIONAL_FILES = (OFFER_FILE, STOPS_FILE, CORRESPONDENCE_FILE, MAPPINGS_FILE, RETAINED_FILE, PART_POPULATIONS_FILE,
                  GRID_FILE, f"{NETWORK_DIR}/{NETWORK_INFO}")
NO_CORRESPONDENCE = pd.DataFrame({"ancien_code": pd.Series(dtype=str), "code_insee": pd.Series(dtype=str)})


@dataclass
class Workspace:
    """A diagnostic's territory data, loaded in memory."""

    path: Path
    meta: dict
    communes: gpd.GeoDataFrame
    groupings: pd.DataFrame
    catalogue: Catalogue
    values: pd.DataFrame
    offer: pd.DataFrame  # as users see it: duplicates of different sources folded
    stops: pd.DataFrame
    correspondence: pd.DataFrame = field(default_factory=NO_CORRESPONDENCE.copy)  # former → current code
    retained_coverage: tuple[CoverageParams, ...] = ()  # white-zone settings retained for the annex
    offer_records: pd.DataFrame | None = None  # the offer's records as imported (``offer.csv``)
    memo: dict = field(default_factory=dict, repr=False)  # results computed on this loaded version

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def key(self) -> str:
        """How the sessions' database names this workspace (its folder, resolved)."""
        return str(Path(self.path).resolve())

    @property
    def fictional(self) -> bool:
        return bool(self.meta.get("fictional"))

    @property
    def secret_threshold(self) -> int:
        return int(self.meta.get("secret_threshold", DEFAULT_SECRET_THRESHOLD))

    def commune_names(self) -> pd.Series:
        return self.communes.set_index("code_insee")["name"]

    def indicators_with_data(self) -> list[Indicator]:
        """Catalogue entries that have at least one known value in this workspace."""
        known = set(self.values.loc[self.values["numerator"].notna(), "indicator"])
        return [ind for ind in self.catalogue.values() if ind.id in known]


def save_workspace_catalogue(path: Path, catalogue: Catalogue) -> None:
    """Keep an edited catalogue (new thresholds) in the workspace folder."""
    with workspace_lock(path):
        save_catalogue(catalogue, Path(path) / "catalogue.json")


def save_secret_threshold(path: Path, threshold: int, who: str = "") -> None:
    """Set the smallest count shown (secret statistique) for this workspace, never below the
    sources' rules (CAF, MSA, France Travail: 5), and record who changed it and when."""
    if not DEFAULT_SECRET_THRESHOLD <= int(threshold) <= 50:
        raise InputError(f"seuil de secret statistique invalide : {threshold}.",
                         fix=f"Choisissez un entier entre {DEFAULT_SECRET_THRESHOLD} et 50 : la CAF, la MSA et France "
                             f"Travail ne publient aucun effectif inférieur à {DEFAULT_SECRET_THRESHOLD}.")
    meta_file = Path(path) / "workspace.json"
    with workspace_lock(path):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta.setdefault("secret_history", []).append({
            "date": datetime.now().isoformat(timespec="seconds"), "par": clean_text(who, one_line=True).strip()[:80]
            or "non indiqué", "ancien": int(meta.get("secret_threshold", DEFAULT_SECRET_THRESHOLD)),
            "nouveau": int(threshold)})
        meta["secret_threshold"] = int(threshold)
        _replace(meta_file, json.dumps(meta, ensure_ascii=False, indent=1))


def version(path: Path) -> tuple:
    """Modification times of the workspace's files: changes whenever any of them is rewritten."""
    path = Path(path)
    return tuple((path / name).stat().st_mtime_ns if (path / name).exists() else 0
                 for name in (*FILES, *OPTIONAL_FILES))


def default_workspace_path() -> Path:
    """The workspace the app opens: $PTI_WORKSPACE, or the built-in demo."""
    return Path(os.environ.get("PTI_WORKSPACE") or DEMO_WORKSPACE)


def workspaces_root() -> Path:
    """Where the workspaces created from the app are kept: $PTI_WORKSPACES_DIR or ./workspaces."""
    return Path(os.environ.get("PTI_WORKSPACES_DIR") or PROJECT_ROOT / "workspaces")


def available_workspaces() -> dict[Path, str]:
    """The workspaces a user can open, with their names: the default one, then those created."""
    found = {default_workspace_path(): ""}
    root = workspaces_root()
    if root.is_dir():
        found |= {child: "" for child in sorted(root.iterdir()) if (child / "workspace.json").is_file()}
    names = {}
    for path in found:
        try:
            names[path] = json.loads((path / "workspace.json").read_text(encoding="utf-8"))["name"]
        except (OSError, ValueError, KeyError):
            continue  # a folder being written or damaged is not offered
    return names


def sessions_url() -> str:
    """The sessions' database of the server, shared by every workspace so that a join code leads
    to its session whatever workspace a browser has open: $PTI_DATABASE_URL (PostgreSQL), else
    ``seances.sqlite`` in the workspaces root."""
    return os.environ.get("PTI_DATABASE_URL") or f"sqlite:///{workspaces_root() / 'seances.sqlite'}"


def new_workspace_path(name: str) -> Path:
    """A new folder under the workspaces root, named after the workspace."""
    slug = re.sub(r"[^a-z0-9]+", "-", normalise_name(name)).strip("-") or "territoire"
    path, n = workspaces_root() / slug, 2
    while path.exists():
        path, n = workspaces_root() / f"{slug}-{n}", n + 1
    return path


def load_workspace(path: Path | str | None = None) -> Workspace:
    """Load a workspace folder (the demo when no path is given)."""
    path = Path(path) if path else default_workspace_path()
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise InputError(f"ce dossier n'est pas un espace de travail complet (manque : "
                         f"{', '.join(missing)}).", file=str(path),
                         fix="Créez-le avec « python -m diagnostic create ».")
    meta = json.loads((path / "workspace.json").read_text(encoding="utf-8"))
    communes = geo.read_communes(path / "communes.geojson")
    groupings = tables.read_groupings(path / "groupings.csv", communes["code_insee"], required=False)
    values = tables.read_values(path / "values.csv", set(communes["code_insee"]))
    catalogue = load_catalogue(path / "catalogue.json")
    population = values[values["indicator"] == "population"].set_index("code_insee")["numerator"].dropna()
    communes["population"] = communes["code_insee"].map(population).fillna(communes["population"])
    correspondence = (pd.read_csv(path / CORRESPONDENCE_FILE, dtype=str, keep_default_na=False)
                      if (path / CORRESPONDENCE_FILE).is_file() else NO_CORRESPONDENCE.copy())
    records = read_offer(path / OFFER_FILE)
    return Workspace(path, meta, communes, groupings, catalogue, values, fold_offer(records).offer,
                     read_stops(path / STOPS_FILE), correspondence, read_retained_coverage(path), offer_records=records)


def read_retained_coverage(path: Path) -> tuple[CoverageParams, ...]:
    """The white-zone settings retained for the annex (none when the group has not chosen yet)."""
    file = Path(path) / RETAINED_FILE
    if not file.is_file():
        return ()
    try:
        return tuple(CoverageParams.from_dict(entry) for entry in json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, TypeError, AttributeError, InputError) as exc:
        raise InputError("les réglages de zones blanches retenus pour l'annexe sont illisibles.",
                         file=RETAINED_FILE, fix="Supprimez ce fichier et retenez à nouveau les réglages "
                                                 "depuis la page « Zones blanches ».") from exc


def save_retained_coverage(path: Path, retained: list[CoverageParams]) -> None:
    """Keep the white-zone settings retained for the annex, in order, each once."""
    unique = list(dict.fromkeys(retained))
    with workspace_lock(path):
        _replace(Path(path) / RETAINED_FILE, json.dumps([p.to_dict() for p in unique], ensure_ascii=False, indent=1))


def write_workspace(path: Path, meta: dict, communes: gpd.GeoDataFrame, groupings: pd.DataFrame,
                    catalogue: Catalogue, values: pd.DataFrame, offer: pd.DataFrame | None = None,
                    stops: pd.DataFrame | None = None, correspondence: pd.DataFrame | None = None) -> None:
    """Write a complete workspace into an empty or new folder, all files or none."""
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise InputError("le dossier existe déjà et n'est pas vide.", file=str(path),
                         fix="Choisissez un nouveau dossier pour l'espace de travail.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ws-", dir=path.parent))
    except OSError as exc:
        raise InputError(f"l'espace de travail n'a pas pu être créé : {disk_error(exc)}") from exc
    try:
        (staging / "workspace.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1),
                                                encoding="utf-8")
        geo.write_communes(communes, staging / "communes.geojson")
        groupings.rename_axis("code_insee").to_csv(staging / "groupings.csv", encoding="utf-8")
        save_catalogue(catalogue, staging / "catalogue.json")
        values[["code_insee", "indicator", "numerator", "denominator"]].to_csv(
            staging / "values.csv", index=False, encoding="utf-8")
        if offer is not None:
            write_offer(offer, staging / OFFER_FILE)
        if stops is not None:
            stops.to_csv(staging / STOPS_FILE, index=False, encoding="utf-8")
        if correspondence is not None and len(correspondence):
            correspondence.to_csv(staging / CORRESPONDENCE_FILE, index=False, encoding="utf-8")
        load_workspace(staging)  # what was written reads back whole, or nothing is created
        staging.chmod(0o755)
        if path.exists():
            path.rmdir()
        staging.rename(path)
    except OSError as exc:
        raise InputError(f"l'espace de travail n'a pas pu être créé : {disk_error(exc)}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def create_workspace(path: Path, communes_file: Path, indicators_file: Path | None = None,
                     groupings_file: Path | None = None, name: str | None = None,
                     fields: dict[str, str] | None = None, grouping_columns: dict[str, str] | None = None) -> Workspace:
    """Create a workspace from a boundaries file, an indicators table (long, or wide with
    well-known INSEE columns) and a groupings table (all its columns, or `grouping_columns`: file
    column → level name).

    The population comes from the boundaries or, failing that, from the indicators table. Former
    codes listed in the boundaries (``anciens_codes``) reconcile data of older vintages.
    Every file is read and checked before anything is written; on error nothing is created.
    """
    warnings: list[str] = []
    communes = geo.read_communes(Path(communes_file), warnings, fields, require_population=False)
    codes = communes["code_insee"]
    for table in (indicators_file, groupings_file):
        found = postcodes_of(Path(table), codes) if table and "postcodes" not in communes else None
        if found is not None:
            communes["postcodes"] = codes.map(found).fillna("").to_numpy()
    groupings = (tables.read_groupings(Path(groupings_file), codes, warnings=warnings,
                                       columns=list(grouping_columns) if grouping_columns else None)
                 .rename(columns={k: v.strip() for k, v in (grouping_columns or {}).items() if v.strip()})
                 if groupings_file else pd.DataFrame(index=pd.Index(codes, name="code_insee")))
    correspondence = (former_codes(communes["former_codes"], codes) if "former_codes" in communes
                      else NO_CORRESPONDENCE.copy())
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    values = population_values(communes)
    if indicators_file:
        extra, report = read_indicator_table(Path(indicators_file), set(codes), catalogue,
                                             communes.set_index("code_insee")["population"], correspondence,
                                             communes.set_index("code_insee")["name"])
        values = pd.concat([values[~values["indicator"].isin(extra["indicator"])], extra], ignore_index=True)
        warnings += report.details()
    population = values[values["indicator"] == "population"].set_index("code_insee")["numerator"]
    if population.reindex(codes).isna().any():
        raise InputError("population des communes introuvable : ni dans les contours, ni dans les indicateurs.",
                         file=Path(communes_file).name, fix="Ajoutez un champ « population » aux contours, ou "
                         "joignez un tableau d'indicateurs avec la population municipale de chaque commune.")
    communes["population"] = codes.map(population).to_numpy()
    departements = sorted(codes.str[:2].unique())
    meta = {
        "name": clean_text(name or "", one_line=True).strip() or f"Département {', '.join(departements)}",
        "departement": ", ".join(departements),
        "fictional": False,
        "secret_threshold": DEFAULT_SECRET_THRESHOLD,
        "import_warnings": warnings,
        "sources": {"communes": Path(communes_file).name,
                    "indicators": Path(indicators_file).name if indicators_file else None,
                    "groupings": Path(groupings_file).name if groupings_file else None},
    }
    write_workspace(Path(path), meta, communes, groupings, catalogue, values, correspondence=correspondence)
    return load_workspace(path)


def import_indicators(path: Path, file: Path, mapping: TableMapping | None = None,
                      correspondence_file: Path | None = None, new: Indicator | None = None,
                      where: dict[str, str] | None = None) -> ImportReport:
    """Add or update indicators of a workspace from a table (only its rows matching `where`): the
    communes the table covers get its values, the others keep theirs; `new` is an indicator the
    user adds to the catalogue with this import. Merged communes are reconciled with the
    workspace's correspondence table (completed by `correspondence_file`). All checks come before
    any write: on error the workspace is unchanged; two imports at once both land (one waits)."""
    with workspace_lock(path):
        ws = load_workspace(path)
        codes = set(ws.communes["code_insee"])
        correspondence = ws.correspondence
        if correspondence_file:
            correspondence = pd.concat([correspondence, read_correspondence(Path(correspondence_file), codes)]
                                       ).drop_duplicates("ancien_code", keep="last")
        own = {**ws.catalogue, **({new.id: new} if new else {})}
        parts_file = ws.path / PART_POPULATIONS_FILE
        parts = (pd.read_csv(parts_file, dtype={"code_insee": str}).set_index("code_insee")["population"].to_dict()
                 if parts_file.is_file() else {})
        rows, report = read_indicator_table(Path(file), codes, selectable_indicators(own),
                                            ws.communes.set_index("code_insee")["population"], correspondence,
                                            ws.commune_names(), mapping, ws.path, where, parts)
        updated = ws.values.set_index(["code_insee", "indicator"]).index.isin(
            rows.set_index(["code_insee", "indicator"]).index)
        kept = ws.values[~updated & ws.values["indicator"].isin(report.indicators)]
        if len(kept):
            report.warnings.append(f"{kept['code_insee'].nunique()} commune(s) absente(s) du fichier gardent leur "
                                   f"valeur précédente ({', '.join(sorted(set(kept['indicator'])))}).")
        values = pd.concat([ws.values[~updated], rows], ignore_index=True)
        save_values(ws.path, values)
        save_workspace_catalogue(ws.path, catalogue_with(own, report.mapping, report.indicators))
        if correspondence_file:
            _replace(ws.path / CORRESPONDENCE_FILE, correspondence.to_csv(index=False))
        if report.mapping is not None:
            remember_mapping(ws.path, report.columns, report.mapping)
        if report.part_populations:
            known = pd.Series({**parts, **report.part_populations}, name="population").rename_axis("code_insee")
            _replace(parts_file, known.reset_index().to_csv(index=False))
        if _save_postcodes(ws, Path(file)):
            report.warnings.append("Codes postaux des communes enregistrés (placement de l'offre par code postal).")
    return report


def save_values(path: Path, values: pd.DataFrame) -> None:
    """Replace the indicator values of a workspace (long format)."""
    with workspace_lock(path):
        _replace(Path(path) / "values.csv",
                 values[["code_insee", "indicator", "numerator", "denominator"]].to_csv(index=False))


def save_groupings(path: Path, groupings: pd.DataFrame) -> None:
    """Replace the grouping levels of a workspace (each commune must have a group at each level)."""
    if groupings.columns.duplicated().any():
        raise InputError(f"deux niveaux s'appellent « {groupings.columns[groupings.columns.duplicated()][0]} ».",
                         fix="Donnez un nom différent à chaque niveau.")
    groupings = groupings.rename(columns=lambda c: clean_text(str(c), one_line=True).strip())
    groupings = groupings.apply(lambda col: col.map(lambda v: clean_text(v, one_line=True).strip()
                                                    if isinstance(v, str) else v))
    for level in groupings.columns:
        if not str(level).strip() or level == "commune" or groupings[level].isna().any() or \
                (groupings[level].astype(str).str.strip() == "").any():
            raise InputError(f"niveau « {level} » incomplet ou mal nommé.", field=str(level),
                             fix="Chaque commune doit avoir un groupe non vide à chaque niveau.")
    with workspace_lock(path):
        _replace(Path(path) / "groupings.csv", groupings.rename_axis("code_insee").to_csv())


def import_groupings(path: Path, file: Path, columns: dict[str, str] | None = None) -> list[str]:
    """Add the levels of a groupings table (commune code, then one column per level) to a
    workspace, or only `columns` (file column → level name); a level of the same name is
    replaced. The postcodes of the table, if any, are kept too. Returns the levels imported."""
    with workspace_lock(path):
        ws = load_workspace(path)
        table = tables.read_groupings(Path(file), ws.communes["code_insee"],
                                      columns=list(columns) if columns is not None else None)
        table = table.rename(columns={k: v.strip() for k, v in (columns or {}).items() if v.strip()})
        save_groupings(ws.path, pd.concat([ws.groupings.drop(columns=[c for c in table.columns
                                                                       if c in ws.groupings]), table], axis=1))
        _save_postcodes(ws, Path(file))
    return list(table.columns)


def postcodes_of(file: Path, codes: pd.Series) -> pd.Series | None:
    """The postcodes of each commune in a table that lists them (the official communes.csv has
    ``codes_postaux``), joined with « | »; None when the table has no such column."""
    frame = tables.read_table(Path(file))
    lower = {c.lower(): c for c in frame.columns}
    code_col = next((lower[c] for c in tables.CODE_COLUMNS if c in lower), None)
    postcode_col = next((lower[c] for c in geo.POSTCODE_FIELDS if c in lower), None)
    if code_col is None or postcode_col is None:
        return None
    postcodes = frame[postcode_col].astype(str).str.findall(r"\b\d{5}\b").map("|".join)
    found = pd.Series(postcodes.to_numpy(), index=frame[code_col].astype(str).str.strip().str.zfill(5))
    found = found[found.index.isin(codes) & (found != "")]
    return found[~found.index.duplicated()] if len(found) else None


def _save_postcodes(ws: Workspace, file: Path) -> bool:
    """Keep the postcodes a table gives for the workspace's communes (in ``communes.geojson``)."""
    found = postcodes_of(file, ws.communes["code_insee"])
    if found is None:
        return False
    communes = ws.communes.copy()
    old = communes["postcodes"] if "postcodes" in communes else pd.Series("", index=communes.index)
    communes["postcodes"] = communes["code_insee"].map(found).fillna(old.fillna("")).to_numpy()
    geo.write_communes(communes, ws.path / "communes.geojson")
    return True


def _replace(target: Path, text: str) -> None:
    """Write a workspace file through a temporary file, so a reader never sees half of it."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)


def population_values(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """The population indicator rows taken from the communes file itself."""
    return pd.DataFrame({"code_insee": communes["code_insee"].to_numpy(), "indicator": "population",
                         "numerator": communes["population"].astype(float).to_numpy(),
                         "denominator": float("nan")})
