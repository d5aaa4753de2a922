"""Public-transport stops of the workspace (from GTFS feeds) and walking access to them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from diagnostic.coverage import demand_points, nearest, to_metric
from diagnostic.errors import InputError
from diagnostic.io.gtfs import read_gtfs
from diagnostic.territory import metric_crs

STOPS_FILE = "stops.csv"
STOP_COLUMNS = ["stop_id", "name", "lat", "lon", "departures", "code_insee", "feed"]
WALK_M = 800  # a stop "within walking distance": about 10 minutes on foot


def read_stops(path: Path) -> pd.DataFrame:
    """The stops of a workspace (empty when no feed was imported)."""
    if not Path(path).is_file():
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("lat", "lon", "departures") else object)
                             for c in STOP_COLUMNS})
    return pd.read_csv(path, dtype={"stop_id": str, "code_insee": str, "name": str, "feed": str})


@dataclass
class GtfsReport:
    file: str
    kept: int
    outside: int
    day: str

    def summary(self) -> str:
        departures = f", départs comptés sur {self.day}" if self.day else ", sans horaires (arrêts seuls)"
        return (f"{self.kept} arrêt(s) importé(s) depuis « {self.file} »{departures} ; "
                f"{self.outside} arrêt(s) hors du territoire ignoré(s).")


def import_gtfs(ws, path: Path) -> GtfsReport:
    """Add a GTFS feed's stops inside the territory to the workspace (replacing the same feed)."""
    file = Path(path).name
    stops, day = read_gtfs(path)
    points = gpd.GeoDataFrame(stops, geometry=gpd.points_from_xy(stops["lon"], stops["lat"]), crs=ws.communes.crs)
    joined = gpd.sjoin(points, ws.communes[["code_insee", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated()]
    if joined.empty:
        raise InputError("aucun arrêt du flux n'est dans le territoire de l'espace de travail.", file=file,
                         fix="Vérifiez que le flux couvre ce département ; rien n'a été modifié.")
    kept = pd.DataFrame(joined.drop(columns=["geometry", "index_right"])).assign(feed=file)
    existing = read_stops(ws.path / STOPS_FILE)
    merged = pd.concat([existing[existing["feed"] != file], kept[STOP_COLUMNS]], ignore_index=True)
    tmp = ws.path / (STOPS_FILE + ".tmp")
    merged.to_csv(tmp, index=False, encoding="utf-8")
    tmp.replace(ws.path / STOPS_FILE)
    return GtfsReport(file, len(kept), len(stops) - len(kept), day)


def stop_access(ws, min_departures: int = 1) -> pd.Series:
    """Straight-line distance (m) from each commune's central point to the nearest served stop
    (a stop with at least `min_departures` departures; any stop when the feed has no timetable)."""
    stops = ws.stops
    served = stops[stops["departures"].isna() | (stops["departures"] >= min_departures)]
    demand = demand_points(ws.communes)
    xy = to_metric(served["lon"].to_numpy(float), served["lat"].to_numpy(float), metric_crs(ws.communes))
    distance, _ = nearest(xy, demand[["x", "y"]].to_numpy())
    return pd.Series(distance, index=demand["code_insee"].to_numpy())


def mobility_white_zones(ws, coverage: pd.DataFrame, walk_m: float = WALK_M,
                         min_departures: int = 1) -> pd.DataFrame:
    """Both criteria of a mobility white zone per commune: no served stop within walking distance,
    and no mobility service within the threshold (`coverage` from commune_coverage on mobility)."""
    distance = stop_access(ws, min_departures).reindex(coverage["code_insee"]).to_numpy()
    out = coverage[["code_insee", "name", "population", "target", "white_zone"]].copy()
    out["stop_m"] = np.where(np.isfinite(distance), distance, np.nan)
    out["stop_nearby"] = distance <= walk_m
    out["no_service"] = out.pop("white_zone")
    out["mobility_white_zone"] = ~out["stop_nearby"] & out["no_service"]
    return out
