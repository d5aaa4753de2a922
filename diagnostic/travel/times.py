"""Travel times on a workspace's network: from each demand point to the nearest service.

A crow-fly prefilter keeps the `k` nearest services of each point as candidates; points are then
sent to OSRM's table service in spatially compact chunks, each against the union of its points'
candidates, and the fastest candidate is kept. The walk from a point to the road it snaps to (and
from the road to the service) is added at walking speed; a point farther than `MAX_SNAP_M` from any
road of the network, or on a piece of network cut from the services, is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from diagnostic.travel.network import graph_path

CANDIDATES = 8  # services per point kept by the crow-fly prefilter
CHUNK = 1000  # demand points per OSRM table request
MAX_SNAP_M = 1000.0  # a point this far from every road is not on the network
WALK_M_PER_MIN = 75.0  # 4.5 km/h: the walk between a point and the road it snaps to


@dataclass
class TravelTimes:
    """Per demand point: minutes to the nearest service (inf when unreachable), its index (-1),
    and the distance (m) from the point to the road it was snapped to."""

    minutes: np.ndarray
    index: np.ndarray
    snap_m: np.ndarray

    @property
    def unreachable(self) -> np.ndarray:
        return ~np.isfinite(self.minutes)


@lru_cache(maxsize=4)
def _engine(graph: str, stamp: float):
    import osrm
    return osrm.OSRM(algorithm="MLD", storage_config=graph, use_shared_memory=False)


def engine(ws_path: Path, mode: str):
    """The OSRM engine of a workspace's network for a mode (loaded once per network version)."""
    graph = graph_path(ws_path, mode)
    return _engine(str(graph), graph.with_suffix(".osrm.partition").stat().st_mtime)


def nearest_times(osrm_engine, origins: np.ndarray, targets: np.ndarray, origins_xy: np.ndarray,
                  targets_xy: np.ndarray, k: int = CANDIDATES) -> TravelTimes:
    """Minutes from every origin (lon/lat, n × 2) to its nearest target by the network; the metric
    coordinates of both serve the crow-fly prefilter."""
    n = len(origins)
    minutes, index, snap = np.full(n, np.inf), np.full(n, -1), np.full(n, np.nan)
    if n == 0 or len(targets) == 0:
        return TravelTimes(minutes, index, snap)
    k = min(k, len(targets))
    _, candidates = cKDTree(targets_xy).query(origins_xy, k=k, workers=2)
    candidates = candidates.reshape(n, k)
    order = np.argsort(_morton(origins_xy), kind="stable")
    for start in range(0, n, CHUNK):
        rows = order[start:start + CHUNK]
        wanted = np.unique(candidates[rows])
        durations, source_snap, target_snap = _table(osrm_engine, origins[rows], targets[wanted])
        walk = (source_snap[:, None] + target_snap[None, :]) / WALK_M_PER_MIN
        total = durations / 60 + walk
        total[:, target_snap > MAX_SNAP_M] = np.inf
        best = np.argmin(total, axis=1)
        found = total[np.arange(len(rows)), best]
        on_network = source_snap <= MAX_SNAP_M
        minutes[rows] = np.where(on_network, found, np.inf)
        index[rows] = np.where(np.isfinite(minutes[rows]), wanted[best], -1)
        snap[rows] = source_snap
    return TravelTimes(minutes, index, snap)


def _table(osrm_engine, sources: np.ndarray, destinations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OSRM durations (s, inf when no route) from sources to destinations and their snap distances."""
    import osrm

    coordinates = [(float(x), float(y)) for x, y in sources] + [(float(x), float(y)) for x, y in destinations]
    ns = len(sources)
    params = osrm.TableParameters(coordinates=coordinates, sources=list(range(ns)),
                                  destinations=list(range(ns, len(coordinates))), annotations=["duration"],
                                  generate_hints=False)
    result = osrm_engine.Table(params)
    durations = np.array([[np.inf if v is None else v for v in row] for row in result["durations"]], float)
    source_snap = np.array([s["distance"] if s is not None else np.inf for s in result["sources"]], float)
    target_snap = np.array([d["distance"] if d is not None else np.inf for d in result["destinations"]], float)
    return durations.reshape(ns, len(destinations)), source_snap, target_snap


def _morton(xy: np.ndarray, cell_m: float = 500.0) -> np.ndarray:
    """A Z-order key of metric points, so that consecutive points are close to each other."""
    grid = np.floor((xy - xy.min(axis=0)) / cell_m).astype(np.int64).clip(0, 2**20 - 1)
    key = np.zeros(len(xy), np.int64)
    for bit in range(20):
        key |= ((grid[:, 0] >> bit) & 1) << (2 * bit) | ((grid[:, 1] >> bit) & 1) << (2 * bit + 1)
    return key
