"""Where people live: the INSEE Filosofi 200 m grid (« données carroyées ») of a workspace.

`import_grid` reads the official file (CSV, GeoPackage or Parquet, national or local: it is read
in chunks and only the cells of the territory are kept), ties each cell to the commune that holds
its centre, and stores ``carreaux.csv``. A cell's counts are never shown: imputed cells (fewer than
11 households, i_est_200 = 1) hold approximate values, so cells only give how a commune's
population is spread, and every figure is re-aggregated to the commune and above.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from diagnostic.errors import InputError
from diagnostic.indicators import fmt_number
from diagnostic.io.lock import workspace_lock
from diagnostic.territory import WGS84

GRID_FILE = "carreaux.csv"
GRID_INFO = "carreaux.json"
GRID_CRS = "EPSG:3035"  # the INSPIRE grid: idcar gives the lower-left corner in ETRS89-LAEA
CELL_M = 200
ID_PATTERN = re.compile(r"^CRS3035RES(\d+)mN(\d+)E(\d+)$")
COLUMNS = {"idcar": ("idcar_200m", "idinspire", "idcar"), "ind": ("ind",), "men": ("men",),
           "men_pauv": ("men_pauv",), "imputed": ("i_est_200", "i_est_cr", "i_est")}
CHUNK_ROWS = 200_000
MARGIN_M = 2_000  # cells read around the territory's bounds before the commune test


@dataclass(frozen=True)
class GridInfo:
    source: str
    vintage: str
    cells: int  # cells kept, tied to a commune
    outside: int  # cells near the territory whose centre lies in no commune of it
    imputed: int
    communes: int  # communes with at least one cell

    def french(self) -> str:
        return (f"{fmt_number(self.cells, 0)} carreaux de 200 m importés ({fmt_number(self.communes, 0)} communes), "
                f"dont {fmt_number(self.imputed, 0)} estimés (moins de 11 ménages : jamais affichés seuls) ; "
                f"{fmt_number(self.outside, 0)} carreau(x) hors du territoire ignoré(s).")


def import_grid(ws_path: Path, file: Path, communes: gpd.GeoDataFrame, source_name: str | None = None,
                vintage: str = "") -> GridInfo:
    """Keep the cells of the territory, tie them to their commune, store them in the workspace."""
    name = source_name or Path(file).name
    bounds = communes.to_crs(GRID_CRS).total_bounds + np.array([-MARGIN_M, -MARGIN_M, MARGIN_M, MARGIN_M])
    cells = pd.concat(list(_read_cells(Path(file), name, bounds)), ignore_index=True)
    if cells.empty:
        raise InputError("aucun carreau de ce fichier n'est dans le territoire.", file=name,
                         fix="Choisissez le fichier carroyé qui couvre le département (France métropolitaine "
                             "ou votre région).")
    x, y = cells["x"].to_numpy() + CELL_M / 2, cells["y"].to_numpy() + CELL_M / 2
    centres = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=GRID_CRS).to_crs(communes.crs)
    joined = gpd.sjoin(centres, communes[["code_insee", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    cells["code_insee"] = joined["code_insee"].to_numpy()
    inside = cells[cells["code_insee"].notna()].copy()
    lon, lat = Transformer.from_crs(GRID_CRS, WGS84, always_xy=True).transform(
        inside["x"].to_numpy() + CELL_M / 2, inside["y"].to_numpy() + CELL_M / 2)
    inside["lon"], inside["lat"] = np.round(lon, 6), np.round(lat, 6)
    found = re.search(r"(20\d\d)", name)
    year = vintage or (found[1] if found else "")
    info = GridInfo(name, year, len(inside), int(len(cells) - len(inside)), int(inside["imputed"].sum()),
                    int(inside["code_insee"].nunique()))
    if inside.empty:
        raise InputError("aucun carreau de ce fichier n'a son centre dans une commune du territoire.", file=name,
                         fix="Choisissez le fichier carroyé qui couvre le département.")
    columns = ["idcar", "code_insee", "lon", "lat", "ind", "men", "men_pauv", "imputed"]
    with workspace_lock(ws_path):
        staging = Path(ws_path) / f".{GRID_FILE}.tmp"
        inside[columns].to_csv(staging, index=False, quoting=csv.QUOTE_MINIMAL)
        staging.replace(Path(ws_path) / GRID_FILE)
        (Path(ws_path) / GRID_INFO).write_text(json.dumps(asdict(info), ensure_ascii=False), encoding="utf-8")
    return info


def read_grid(ws_path: Path) -> pd.DataFrame | None:
    """The workspace's cells (None without a grid)."""
    file = Path(ws_path) / GRID_FILE
    if not file.is_file():
        return None
    return pd.read_csv(file, dtype={"idcar": str, "code_insee": str})


def grid_info(ws_path: Path) -> GridInfo | None:
    file = Path(ws_path) / GRID_INFO
    return GridInfo(**json.loads(file.read_text(encoding="utf-8"))) if file.is_file() and \
        (Path(ws_path) / GRID_FILE).is_file() else None


def _read_cells(file: Path, name: str, bounds: np.ndarray):
    """The cells of the file inside `bounds` (EPSG:3035), chunk by chunk, checked."""
    suffix = file.suffix.lower()
    if suffix in (".gpkg", ".parquet"):
        try:
            frame = (gpd.read_file(file, engine="pyogrio", ignore_geometry=True) if suffix == ".gpkg"
                     else pd.read_parquet(file))
        except Exception as exc:
            raise InputError("fichier carroyé illisible.", file=name,
                             fix="Donnez le fichier de l'INSEE tel que téléchargé (CSV, GeoPackage ou Parquet).") from exc
        yield _cells(pd.DataFrame(frame).astype(str), name, bounds, 2)
        return
    try:
        head = file.open("r", encoding="utf-8-sig", errors="replace").readline()
    except OSError as exc:
        raise InputError("fichier illisible.", file=name) from exc
    sep = max((";", ",", "\t"), key=head.count)
    try:
        reader = pd.read_csv(file, sep=sep, dtype=str, chunksize=CHUNK_ROWS, encoding="utf-8-sig",
                             keep_default_na=False)
        first_line = 2
        for chunk in reader:
            yield _cells(chunk, name, bounds, first_line)
            first_line += len(chunk)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("fichier carroyé illisible (CSV mal formé).", file=name,
                         fix="Donnez le fichier de l'INSEE tel que téléchargé.") from exc


def _cells(frame: pd.DataFrame, name: str, bounds: np.ndarray, first_line: int) -> pd.DataFrame:
    """Parse one chunk: identifiers to corner coordinates, counts to numbers, the imputed flag."""
    lower = {c.lower().strip(): c for c in frame.columns}
    found = {key: next((lower[c] for c in options if c in lower), None) for key, options in COLUMNS.items()}
    for key in ("idcar", "ind"):
        if found[key] is None:
            raise InputError(f"colonne « {COLUMNS[key][0]} » absente.", file=name,
                             fix="Le fichier carroyé de l'INSEE (Filosofi, 200 m) a les colonnes idcar_200m et "
                                 "ind ; vérifiez que c'est bien ce fichier.")
    ids = frame[found["idcar"]].str.strip()
    parts = ids.str.extract(ID_PATTERN)
    bad = parts[0].isna() | (parts[0] != str(CELL_M))
    if bad.any():
        line = first_line + int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"identifiant de carreau illisible « {ids[bad].iloc[0][:40]} ».", file=name, line=line,
                         field=found["idcar"], fix="Les identifiants sont de la forme CRS3035RES200mN2869200E3773400 "
                                                  "(carreaux de 200 m).")
    x, y = parts[2].astype(float).to_numpy(), parts[1].astype(float).to_numpy()
    keep = (x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])
    out = pd.DataFrame({"idcar": ids.to_numpy()[keep], "x": x[keep], "y": y[keep]})
    for key in ("ind", "men", "men_pauv"):
        if found[key] is None:
            out[key] = np.nan
            continue
        text = frame[found[key]].to_numpy()[keep].astype(str)
        values = pd.to_numeric(pd.Series(text).str.replace(",", ".", regex=False).str.strip(), errors="coerce")
        wrong = values.isna() & (pd.Series(text).str.strip() != "") | (values < 0)
        if wrong.any():
            line = first_line + int(np.flatnonzero(keep)[int(np.flatnonzero(wrong.to_numpy())[0])])
            raise InputError(f"valeur illisible « {text[wrong.to_numpy()][0][:20]} ».", file=name, line=line,
                             field=found[key], fix="Les effectifs des carreaux sont des nombres positifs.")
        out[key] = values.to_numpy()
    out["imputed"] = (frame[found["imputed"]].to_numpy()[keep].astype(str) == "1") if found["imputed"] else False
    return out
