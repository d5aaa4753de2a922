"""Coverage in minutes on the workspace's network, from where people live.

Demand points are the 200 m cells of the Filosofi grid when one is imported (each tied to its
commune and weighted by its share of the commune's people), else one point per commune (its
population point). Per point, the time to the nearest service by the road or walking network;
per commune, the share of its people beyond the threshold and the median time of its people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diagnostic.access.grid import read_grid
from diagnostic.access.params import NETWORK_MODES  # noqa: F401
from diagnostic.access.points import demand_points, to_metric
from diagnostic.errors import InputError
from diagnostic.territory import WGS84, metric_crs
from diagnostic.travel.network import PROFILE_LABELS, ensure_network
from diagnostic.travel.times import engine, nearest_times

MINUTE_CLASSES = [10, 20, 30]
MINUTE_LABELS = ["moins de 10 min", "10 à 20 min", "20 à 30 min", "plus de 30 min"]


def demand(ws) -> pd.DataFrame:
    """Where people live, as points: code_insee, lon, lat, x, y, weight (people the point stands
    for: the commune's population spread over its cells by their Filosofi counts), source."""
    key = ("demand",)
    if key in ws.memo:
        return ws.memo[key]
    communes = ws.communes
    crs = metric_crs(communes)
    population = communes.set_index("code_insee")["population"].astype(float)
    points = demand_points(communes)
    lon, lat = _lonlat(points[["x", "y"]].to_numpy(), crs)
    fallback = pd.DataFrame({"code_insee": points["code_insee"], "lon": lon, "lat": lat, "x": points["x"],
                             "y": points["y"], "share": 1.0, "source": "commune"})
    cells = read_grid(ws.path)
    if cells is not None:
        cells = cells[cells["code_insee"].isin(population.index) & (cells["ind"] > 0)]
        totals = cells.groupby("code_insee")["ind"].transform("sum")
        xy = to_metric(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float), crs)
        gridded = pd.DataFrame({"code_insee": cells["code_insee"].to_numpy(), "lon": cells["lon"].to_numpy(),
                                "lat": cells["lat"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1],
                                "share": (cells["ind"] / totals).to_numpy(), "source": "carreau"})
        fallback = pd.concat([gridded, fallback[~fallback["code_insee"].isin(set(gridded["code_insee"]))]],
                             ignore_index=True)
    fallback["weight"] = fallback["share"] * fallback["code_insee"].map(population).to_numpy()
    ws.memo[key] = fallback
    return fallback


def demand_text(points: pd.DataFrame) -> str:
    """Which demand geography was used, in French."""
    cells = points["source"] == "carreau"
    if not cells.any():
        return ("Lieux de vie : un point par commune (son point central habité) — importez la grille carroyée "
                "Filosofi de l'INSEE pour partir des carreaux de 200 m.")
    communes = points.loc[cells, "code_insee"].nunique()
    rest = points.loc[~cells, "code_insee"].nunique()
    text = (f"Lieux de vie : {int(cells.sum())} carreaux habités de 200 m (Filosofi, INSEE) dans {communes} "
            f"communes, la population de chaque commune répartie selon ses carreaux")
    return text + (f" ; {rest} commune(s) sans carreau comptent par leur point central habité." if rest else ".")


def require_network(ws, mode: str):
    """The network info, or a French message saying how to import one."""
    info = ensure_network(ws.path, tuple(ws.communes.to_crs(WGS84).total_bounds))
    if info is None:
        raise InputError(f"aucun réseau n'est importé dans cet espace : le mode « {mode} » calcule les temps sur "
                         "le réseau routier et piéton d'OpenStreetMap.", field="--mode",
                         fix="Importez l'extrait OpenStreetMap de votre région (page « Importer des données », ou "
                             "« python -m diagnostic import-roads region.osm.pbf »), ou choisissez « vol-oiseau ».")
    return info


def point_times(ws, mode: str, services: pd.DataFrame) -> pd.DataFrame:
    """Demand points with the minutes to the nearest of `services` by the mode's network, the
    service's row position (-1) and the snapping distance."""
    require_network(ws, mode)
    points = demand(ws)
    key = ("times", mode, tuple(services["id"]) if "id" in services else tuple(services.index))
    if key not in ws.memo:
        ws.memo[key] = nearest_times(engine(ws.path, mode), points[["lon", "lat"]].to_numpy(float),
                                     services[["lon", "lat"]].to_numpy(float))
    times = ws.memo[key]
    return points.assign(minutes=times.minutes, service=times.index, snap_m=times.snap_m)


def commune_times(points: pd.DataFrame, beyond: np.ndarray, white: np.ndarray) -> pd.DataFrame:
    """Per commune: the share of its people beyond the services' threshold (`beyond`, per point),
    in a white zone (`white`: beyond, and for mobility without a served stop near), near a served
    stop, the median time of its people, the nearest service of its largest point, unreachable
    points."""
    frame = points.assign(white_weight=np.where(white, points["share"], 0.0),
                          beyond_weight=np.where(beyond, points["share"], 0.0),
                          unreachable=~np.isfinite(points["minutes"].to_numpy()))
    grouped = frame.groupby("code_insee")
    total = grouped["share"].sum()
    out = pd.DataFrame({"white_share": grouped["white_weight"].sum() / total,
                        "beyond_share": grouped["beyond_weight"].sum() / total,
                        "unreachable_points": grouped["unreachable"].sum(), "points": grouped.size()})
    if "transit" in points:
        transit = frame.assign(t=np.where(points["transit"], points["share"], 0.0)).groupby("code_insee")["t"].sum()
        out["transit_share"] = transit / total
    out["minutes"] = _weighted_medians(frame)
    out["service"] = frame.loc[grouped["share"].idxmax(), ["code_insee", "service"]].set_index("code_insee")["service"]
    return out


def minute_classes(minutes: pd.Series) -> pd.Series:
    index = np.searchsorted(np.asarray(MINUTE_CLASSES, float), minutes.to_numpy(float), side="right")
    return pd.Series(np.asarray(MINUTE_LABELS, dtype=object)[index], index=minutes.index)


def mode_text(mode: str, info) -> str:
    """How times were computed, with the credit of the data."""
    return (f"Temps de trajet {PROFILE_LABELS[mode]} sur le réseau OpenStreetMap ({info.date_text()}), sur le graphe "
            f"préparé par OSRM (profil « {'car' if mode == 'route' else 'foot'} » : vitesses par type de voie, sens "
            f"uniques, pénalités de virage), jusqu'au service le plus proche ; le trajet à "
            f"pied entre un lieu de vie et la voie la plus proche est ajouté à 4,5 km/h ; un lieu à plus de 1 km "
            f"de toute voie est compté « injoignable ». {info.credit()}")


def _weighted_medians(points: pd.DataFrame) -> pd.Series:
    """Per commune, the time of its median inhabitant: its points in order of time, the first at which
    half of its people are reached (one sort for all the communes)."""
    codes, names = pd.factorize(points["code_insee"], sort=True)
    minutes, shares = points["minutes"].to_numpy(float), points["share"].to_numpy(float)
    order = np.lexsort((minutes, codes))
    codes, minutes, shares = codes[order], minutes[order], shares[order]
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    medians = []
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        cumulative = np.cumsum(shares[start:end])
        medians.append(minutes[start + np.searchsorted(cumulative, cumulative[-1] / 2)])
    return pd.Series(medians, index=names[codes[bounds[:-1]]], dtype=float)


def _lonlat(xy: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer
    return Transformer.from_crs(crs, WGS84, always_xy=True).transform(xy[:, 0], xy[:, 1])
