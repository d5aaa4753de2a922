"""Public-transport stops of the workspace, from GTFS feeds, and the mobility criterion they give:
the stops with a real service, and whether people live near one (crow-fly or on the foot network)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from diagnostic.access.network_coverage import point_times
from diagnostic.access.params import MIN_DEPARTURES, CoverageParams
from diagnostic.access.points import nearest, to_metric
from diagnostic.errors import InputError
from diagnostic.indicators import fmt_number
from diagnostic.io.gtfs import HOURS, read_gtfs, window_departures
from diagnostic.io.lock import workspace_lock
from diagnostic.territory import metric_crs

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


def served_stops(ws, params: CoverageParams) -> tuple[pd.DataFrame, str]:
    """The stops with a real service (at least `min_departures` in the hours chosen of a weekday,
    school-only services counted or not; every stop of a feed without timetable), and a sentence
    on what the feeds allowed."""
    stops = ws.stops
    if stops.empty:
        return stops, ("Aucun flux de transport public n'est importé : seul le critère des services de mobilité "
                       "est appliqué.")
    unknown = stops["departures"].isna()
    counted = window_departures(stops, params.first_hour, params.last_hour, params.school)
    served = stops[unknown | (counted >= params.min_departures)]
    feeds = ", ".join(sorted(set(stops["feed"].dropna())))
    hours = ("" if (params.first_hour, params.last_hour) == (0, HOURS)
             else f" entre {params.first_hour} h et {params.last_hour} h")
    note = (f"Transport public : {len(served)} arrêt(s) desservi(s) sur {len(stops)} ({feeds}), au moins "
            f"{params.min_departures} départs un jour de semaine{hours}"
            f"{'' if params.school else ', services scolaires non comptés'}.")
    if unknown.any():
        note += (f" {int(unknown.sum())} arrêt(s) viennent d'un flux sans horaires : ils comptent tous, leur "
                 "niveau de service est inconnu.")
    return served, note


def transit_access(ws, params: CoverageParams, demand: pd.DataFrame
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str]:
    """The mobility criterion of public transport by crow-fly: the served stops, the straight-line
    distance (m) from each commune's central point to the nearest of them, whether each commune
    is covered (a served stop in the commune or within walking distance), and the note."""
    served, note = served_stops(ws, params)
    if served.empty:
        return served, np.full(len(demand), np.nan), np.zeros(len(demand), bool), note
    xy = to_metric(served["lon"].to_numpy(float), served["lat"].to_numpy(float), metric_crs(ws.communes))
    distance, _ = nearest(xy, demand[["x", "y"]].to_numpy())
    covered = (distance <= params.walk_m) | demand["code_insee"].isin(set(served["code_insee"])).to_numpy()
    return served, np.where(np.isfinite(distance), distance, np.nan), covered, note


def network_transit(ws, params: CoverageParams, points: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, str]:
    """The mobility criterion on the network: the served stops, the walk (minutes, on the foot
    network) from each demand point to the nearest of them, and the note."""
    served, note = served_stops(ws, params)
    walk = point_times(ws, "marche", served)["minutes"].to_numpy() if len(served) else np.full(len(points), np.inf)
    return served, walk, note + (f" Un lieu de vie est desservi quand un tel arrêt est à {fmt_number(params.walk_minutes, 0)} "
                                 "minutes à pied au plus, sur le réseau piéton." if len(served) else "")
