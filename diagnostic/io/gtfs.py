"""Public-transport stops from a GTFS feed (a zip, or a folder of its .txt files), with departures on
a typical weekday."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from diagnostic.errors import InputError

MAX_UNCOMPRESSED = 2_000_000_000  # refuse archives that would expand beyond 2 GB


class FeedFolder:
    """A feed given as its .txt files in a folder, read like the zip archive."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def namelist(self) -> list[str]:
        return [p.name for p in self.path.iterdir() if p.is_file()]

    def read(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def infolist(self) -> list:
        return [zipfile.ZipInfo.from_file(p, p.name) for p in self.path.iterdir() if p.is_file()]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _read(archive: zipfile.ZipFile | FeedFolder, name: str, file: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    """One GTFS table (UTF-8, with or without BOM), None when the feed does not have it."""
    member = next((m for m in archive.namelist() if m.split("/")[-1] == name), None)
    if member is None:
        return None
    try:
        text = archive.read(member).decode("utf-8-sig")
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, usecols=columns)
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"la table {name} du flux GTFS est illisible (encodage ou colonnes incohérentes).", file=file,
                         fix="Vérifiez que le fichier est un export GTFS complet, en UTF-8.") from exc


def read_gtfs(path: Path) -> tuple[pd.DataFrame, str]:
    """Stops of a GTFS feed (zip or folder of .txt files): stop_id, name, lat, lon, departures (NaN
    when the feed has no timetable), and the day the departures were counted on."""
    file = Path(path).name
    try:
        archive = FeedFolder(path) if Path(path).is_dir() else zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError("ce fichier n'est pas une archive zip GTFS lisible.", file=file,
                         fix="Fournissez le fichier .zip publié par le réseau de transport, ou ses fichiers "
                             ".txt (au moins stops.txt).") from exc
    with archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED:
            raise InputError("l'archive est trop volumineuse une fois décompressée.", file=file)
        stops = _read(archive, "stops.txt", file)
        if stops is None:
            raise InputError("le flux n'a pas de fichier stops.txt.", file=file,
                             fix="Un flux GTFS contient au moins stops.txt.")
        missing = {"stop_id", "stop_lat", "stop_lon"} - set(stops.columns)
        if missing:
            raise InputError(f"colonnes manquantes dans stops.txt : {', '.join(sorted(missing))}.", file=file)
        if "location_type" in stops:
            stops = stops[stops["location_type"].isin(["", "0"])]
        out = pd.DataFrame({"stop_id": stops["stop_id"], "name": stops.get("stop_name", stops["stop_id"]),
                            "lat": pd.to_numeric(stops["stop_lat"], errors="coerce"),
                            "lon": pd.to_numeric(stops["stop_lon"], errors="coerce")})
        bad = out[["lat", "lon"]].isna().any(axis=1)
        if bad.all():
            raise InputError("aucun arrêt n'a de coordonnées lisibles.", file=file)
        out = out[~bad]
        departures, day = _weekday_departures(archive, file)
    out["departures"] = out["stop_id"].map(departures) if departures is not None else np.nan
    if departures is not None:
        out["departures"] = out["departures"].fillna(0)
    return out.reset_index(drop=True), day


def _weekday_departures(archive: zipfile.ZipFile | FeedFolder, file: str) -> tuple[pd.Series | None, str]:
    """Departures per stop on a typical weekday: services running on Tuesdays in calendar.txt,
    else the weekday of calendar_dates.txt with the most services."""
    stop_times = _read(archive, "stop_times.txt", file, ["trip_id", "stop_id"])
    trips = _read(archive, "trips.txt", file, ["trip_id", "service_id"])
    if stop_times is None or trips is None:
        return None, ""
    calendar = _read(archive, "calendar.txt", file)
    dates = _read(archive, "calendar_dates.txt", file)
    services: set[str] = set()
    day = ""
    if calendar is not None and "tuesday" in calendar:
        services = set(calendar.loc[calendar["tuesday"] == "1", "service_id"])
        day = "un mardi (calendar.txt)"
    if not services and dates is not None:
        added = dates[dates["exception_type"] == "1"].copy()
        added["weekday"] = pd.to_datetime(added["date"], format="%Y%m%d", errors="coerce").dt.weekday
        weekdays = added[added["weekday"] < 5]
        if not weekdays.empty:
            busiest = weekdays["date"].value_counts().idxmax()
            services = set(weekdays.loc[weekdays["date"] == busiest, "service_id"])
            day = f"le {busiest[6:8]}/{busiest[4:6]}/{busiest[:4]}"
    running = trips[trips["service_id"].isin(services)]["trip_id"]
    counts = stop_times[stop_times["trip_id"].isin(set(running))]["stop_id"].value_counts()
    return counts, day
