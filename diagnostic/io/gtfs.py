"""Public-transport stops from a GTFS feed (a zip, or a folder of its .txt files), with departures on
a typical weekday, per hour, and those of school-only services."""

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
    if departures is None:
        out["departures"], out["hours"], out["school"], out["school_hours"] = np.nan, "", np.nan, ""
    else:
        out = out.join(departures, on="stop_id")
        out["departures"], out["school"] = out["departures"].fillna(0), out["school"].fillna(0)
        out[["hours", "school_hours"]] = out[["hours", "school_hours"]].fillna(";".join(["0"] * HOURS))
    return out.reset_index(drop=True), day


HOURS = 30  # GTFS times run past midnight (25:10:00 is 1:10 the next morning)
SCHOOL = r"scolaire|[ée]cole|coll[èe]ge|lyc[ée]e|\bscol\b"  # how French feeds name school-only services


def _weekday_departures(archive: zipfile.ZipFile | FeedFolder, file: str) -> tuple[pd.DataFrame | None, str]:
    """Departures per stop on a typical weekday (services running on Tuesdays in calendar.txt, else
    the weekday of calendar_dates.txt with the most services): in all, per hour of departure
    (« hours », 30 counts joined by « ; »), and those of school-only trips (a route or trip named
    « scolaire », « collège », « lycée »…: « school », « school_hours »)."""
    stop_times = _read(archive, "stop_times.txt", file)
    trips = _read(archive, "trips.txt", file)
    if stop_times is None or trips is None or not {"trip_id", "stop_id"} <= set(stop_times) or \
            not {"trip_id", "service_id"} <= set(trips):
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
    running = trips[trips["service_id"].isin(services)]
    routes = _read(archive, "routes.txt", file)
    names = running.get("trip_headsign", pd.Series("", index=running.index)).astype(str)
    if routes is not None and "route_id" in routes and "route_id" in running:
        labels = routes.set_index("route_id").reindex(columns=["route_short_name", "route_long_name", "route_desc"],
                                                      fill_value="").astype(str).agg(" ".join, axis=1)
        names = names + " " + running["route_id"].map(labels).fillna("")
    school_trips = set(running.loc[names.str.contains(SCHOOL, case=False, regex=True).to_numpy(), "trip_id"])
    times = stop_times[stop_times["trip_id"].isin(set(running["trip_id"]))]
    clock = times.get("departure_time", pd.Series("", index=times.index)).where(lambda t: t != "",
                                                                                 times.get("arrival_time", ""))
    hour = pd.to_numeric(clock.astype(str).str.split(":").str[0], errors="coerce").fillna(0).clip(0, HOURS - 1)
    frame = pd.DataFrame({"stop_id": times["stop_id"].to_numpy(), "hour": hour.astype(int).to_numpy(),
                          "school": times["trip_id"].isin(school_trips).to_numpy()})
    per_hour = frame.groupby(["stop_id", "hour"]).size().unstack(fill_value=0).reindex(columns=range(HOURS), fill_value=0)
    school = frame[frame["school"]].groupby(["stop_id", "hour"]).size().unstack(fill_value=0) \
        .reindex(index=per_hour.index, columns=range(HOURS), fill_value=0).fillna(0).astype(int)
    join = lambda table: table.astype(int).astype(str).agg(";".join, axis=1)  # noqa: E731
    return pd.DataFrame({"departures": per_hour.sum(axis=1), "hours": join(per_hour),
                         "school": school.sum(axis=1), "school_hours": join(school)}), day


def window_departures(stops: pd.DataFrame, first_hour: int, last_hour: int, school: bool) -> pd.Series:
    """Departures of each stop between `first_hour` (included) and `last_hour` (excluded), school-only
    ones included or not; NaN for a stop of a feed without timetable. Stops counted before the
    hours were recorded keep their whole-day count."""
    def hours(column: str) -> np.ndarray:
        text = stops[column].fillna("").astype(str)
        known = text.str.count(";") == HOURS - 1
        table = np.zeros((len(stops), HOURS))
        if known.any():
            table[known.to_numpy()] = np.array([row.split(";") for row in text[known]], float)
        return table, known.to_numpy()

    all_hours, known = hours("hours")
    school_hours, _ = hours("school_hours")
    counted = all_hours if school else all_hours - school_hours
    window = counted[:, first_hour:last_hour].sum(axis=1)
    return pd.Series(np.where(known, window, stops["departures"].to_numpy(float)), index=stops.index)
