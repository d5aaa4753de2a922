"""Travel times on a workspace's network: from each demand point to the nearest service.

A crow-fly prefilter keeps the `k` nearest services of each point as candidates, tried nearest
first; the fastest candidate of each point is kept. The walk from a point to the road it snaps to (and
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
                  targets_xy: np.ndarray, max_kmh: float, k: int = CANDIDATES) -> TravelTimes:
    """Minutes from every origin (lon/lat, n × 2) to its nearest target by the network; the metric
    coordinates of both serve the crow-fly prefilter.

    Candidates are tried nearest first. A further candidate is asked only for the points it could
    still serve faster: the walk to the road then the rest of its crow-fly distance at `max_kmh`
    (the network's top speed) is a lower bound of its time. Each asked target gets one table request with its points: OSRM answers a
    one-target table with a single backward search, far cheaper than a many-to-many table."""
    n = len(origins)
    minutes, index, snap = np.full(n, np.inf), np.full(n, -1), np.full(n, np.nan)
    if n == 0 or len(targets) == 0:
        return TravelTimes(minutes, index, snap)
    # services at the same place (several services of one structure) are one destination
    _, first = np.unique(np.round(targets, 5), axis=0, return_index=True)
    targets, targets_xy, original = targets[first], targets_xy[first], first
    k = min(k, len(targets))
    crow, candidates = cKDTree(targets_xy).query(origins_xy, k=k, workers=2)
    crow, candidates = crow.reshape(n, k), candidates.reshape(n, k)
    asked = np.zeros(n, bool)  # snapped once: a point off the network stays off it
    for rank in range(k):
        # no trip is shorter than the walk to the road then the rest at the network's top speed
        walk = np.nan_to_num(snap, nan=0.0)
        bound = walk / WALK_M_PER_MIN + np.maximum(crow[:, rank] - walk, 0) / 1000 / max_kmh * 60
        todo = np.flatnonzero((bound < minutes) & ~(asked & ~(snap <= MAX_SNAP_M)))
        for target, rows in _grouped(candidates[todo, rank], todo):
            durations, source_snap, target_snap = _table(osrm_engine, origins[rows], targets[target])
            snap[rows] = source_snap
            if target_snap > MAX_SNAP_M:
                continue
            total = np.where(source_snap <= MAX_SNAP_M,
                             durations / 60 + (source_snap + target_snap) / WALK_M_PER_MIN, np.inf)
            better = total < minutes[rows]
            minutes[rows[better]], index[rows[better]] = total[better], target
        asked[todo] = True
    return TravelTimes(minutes, np.where(index >= 0, original[np.maximum(index, 0)], -1), snap)


def times_within(osrm_engine, points: np.ndarray, points_xy: np.ndarray, sites: np.ndarray, sites_xy: np.ndarray,
                 max_minutes: float, radius_m: float):
    """Minutes (sites × points, sparse) from each point to each site, kept when at most
    `max_minutes`; only points within `radius_m` of a site as the crow flies are asked. A stored
    zero is a time under a second."""
    from scipy.sparse import csr_matrix

    tree = cKDTree(points_xy)
    rows, columns, values = [], [], []
    for site, near in enumerate(tree.query_ball_point(sites_xy, r=radius_m)):
        near = np.asarray(near, dtype=np.int64)
        if len(near) == 0:
            continue
        durations, source_snap, target_snap = _table(osrm_engine, points[near], sites[site])
        total = durations / 60 + (source_snap + target_snap) / WALK_M_PER_MIN
        ok = (total <= max_minutes) & (source_snap <= MAX_SNAP_M) & (target_snap <= MAX_SNAP_M)
        rows.append(np.full(int(ok.sum()), site))
        columns.append(near[ok])
        values.append(np.maximum(total[ok], 1e-6))
    join = lambda parts, kind: np.concatenate(parts) if parts else np.zeros(0, kind)  # noqa: E731
    return csr_matrix((join(values, float), (join(rows, np.int64), join(columns, np.int64))),
                      shape=(len(sites), len(points)))


def _grouped(keys: np.ndarray, rows: np.ndarray):
    """(key, rows having that key) for each distinct key."""
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    for part_keys, part_rows in zip(np.split(keys, bounds), np.split(rows, bounds), strict=True):
        if len(part_rows):
            yield int(part_keys[0]), part_rows


def _table(osrm_engine, sources: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """OSRM durations (s, inf when no route) from sources to one target, and the snap distances."""
    import osrm

    coordinates = [(float(x), float(y)) for x, y in sources] + [(float(target[0]), float(target[1]))]
    params = osrm.TableParameters(coordinates=coordinates, sources=list(range(len(sources))),
                                  destinations=[len(sources)], annotations=["duration"], generate_hints=False)
    result = osrm_engine.Table(params)
    durations = np.array([np.inf if row[0] is None else row[0] for row in result["durations"]], float)
    source_snap = np.array([s["distance"] if s is not None else np.inf for s in result["sources"]], float)
    target_snap = result["destinations"][0]["distance"] if result["destinations"][0] is not None else np.inf
    return durations, source_snap, float(target_snap)
