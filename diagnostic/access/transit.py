"""Public-transport stops of the workspace, from GTFS feeds (the mobility criterion is in white_zones)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from diagnostic.access.white_zones import MIN_DEPARTURES
from diagnostic.errors import InputError
from diagnostic.io.gtfs import read_gtfs
from diagnostic.io.lock import workspace_lock

STOPS_FILE = "stops.csv"
STOP_COLUMNS = ["stop_id", "name", "lat", "lon", "departures", "code_insee", "feed", "hours", "school", "school_hours"]


def read_stops(path: Path) -> pd.DataFrame:
    """The stops of a workspace (empty when no feed was imported)."""
    if not Path(path).is_file():
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("lat", "lon", "departures", "school") else object)
                             for c in STOP_COLUMNS})
    stops = pd.read_csv(path, dtype={"stop_id": str, "code_insee": str, "name": str, "feed": str, "hours": str,
                                     "school_hours": str})
    return stops.reindex(columns=STOP_COLUMNS)  # files written before the hours were counted have none


@dataclass
class GtfsReport:
    file: str
    kept: int
    outside: int
    day: str
    served: int = 0  # stops kept with at least MIN_DEPARTURES departures on the day counted

    def summary(self) -> str:
        if self.day:
            levels = (f", départs comptés sur {self.day} : {self.served} arrêt(s) desservi(s) au moins "
                      f"{MIN_DEPARTURES} fois")
        else:
            levels = (" ; le flux n'a pas d'horaires (stop_times.txt, trips.txt) : chaque arrêt compte comme "
                      "desservi")
        return (f"{self.kept} arrêt(s) importé(s) depuis « {self.file} »{levels} ; "
                f"{self.outside} arrêt(s) hors du territoire ignoré(s).")


def import_gtfs(ws, path: Path, display_name: str | None = None) -> GtfsReport:
    """Add a GTFS feed's stops inside the territory to the workspace (replacing the same feed)."""
    file = display_name or Path(path).name
    stops, day = read_gtfs(path)
    points = gpd.GeoDataFrame(stops, geometry=gpd.points_from_xy(stops["lon"], stops["lat"]), crs=ws.communes.crs)
    joined = gpd.sjoin(points, ws.communes[["code_insee", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated()]
    if joined.empty:
        raise InputError("aucun arrêt du flux n'est dans le territoire de l'espace de travail.", file=file,
                         fix="Vérifiez que le flux couvre ce département ; rien n'a été modifié.")
    kept = pd.DataFrame(joined.drop(columns=["geometry", "index_right"])).assign(feed=file)
    with workspace_lock(ws.path):
        existing = read_stops(ws.path / STOPS_FILE)
        merged = pd.concat([existing[existing["feed"] != file], kept[STOP_COLUMNS]], ignore_index=True)
        tmp = ws.path / (STOPS_FILE + ".tmp")
        merged.to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(ws.path / STOPS_FILE)
    served = int((kept["departures"] >= MIN_DEPARTURES).sum()) if day else len(kept)
    return GtfsReport(file, len(kept), len(stops) - len(kept), day, served)
