"""Travel times on a workspace's network: from each demand point to the nearest service.

Services and points are snapped to the nearest segment of the network, as OSRM does; the walk
between a point (or a service) and its segment is added at walking speed, and a point farther than
`MAX_SNAP_M` from every road, or on a piece of network cut from the services, is unreachable. One
search from all the services of a theme together (`RoadGraph.search`) times every point at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from diagnostic.travel.graph import RoadGraph, ahead_on_stretch
from diagnostic.travel.network import graph_path

MAX_SNAP_M = 1000.0  # a point this far from every road is not on the network
WALK_M_PER_MIN = 75.0  # 4.5 km/h: the walk between a point and the road it snaps to
SITES_PER_SEARCH = 8  # sites searched together by `times_within` (one row of the graph's size each)


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
def _graph(prefix: str, stamp: float) -> RoadGraph:
    return RoadGraph(Path(prefix))


def engine(ws_path: Path, mode: str) -> RoadGraph:
    """The graph of a workspace's network for a mode (read once per network version)."""
    graph = graph_path(ws_path, mode)
    return _graph(str(graph), graph.with_suffix(".osrm.enw").stat().st_mtime)


def nearest_times(graph: RoadGraph, origins: np.ndarray, targets: np.ndarray) -> TravelTimes:
    """Minutes from every origin (lon/lat, n × 2) to its nearest target (lon/lat) by the network."""
    n = len(origins)
    minutes, index = np.full(n, np.inf), np.full(n, -1)
    if n == 0:
        return TravelTimes(minutes, index, np.zeros(0))
    points = graph.snap(origins)
    seeds, usable, walk = _seeds(graph, targets)
    if len(usable):
        ends, nearest = graph.search(seeds, walk)
        through, stretch = graph.from_points(points, ends)
        which = nearest[np.maximum(stretch, 0)]
        along, seed = ahead_on_stretch(points, seeds, walk)
        time = np.minimum(through, along)
        which = np.where(along < through, seed, which)
        on = (points.metres <= MAX_SNAP_M) & np.isfinite(time) & (which >= 0)
        minutes[on] = time[on] / 600 + points.metres[on] / WALK_M_PER_MIN
        index[on] = usable[which[on]]
    return TravelTimes(minutes, index, points.metres)


def times_within(graph: RoadGraph, points: np.ndarray, sites: np.ndarray, max_minutes: float):
    """Minutes (sites × points, sparse) from each point (lon/lat) to each site (lon/lat), kept when at
    most `max_minutes`. A stored zero is a time under a second."""
    from scipy.sparse import csr_matrix

    snapped = graph.snap(points)
    seeds, usable, walk = _seeds(graph, sites)
    rows, columns, values = [], [], []
    reach = snapped.metres <= MAX_SNAP_M
    for start in range(0, len(usable), SITES_PER_SEARCH):
        chunk = np.arange(start, min(start + SITES_PER_SEARCH, len(usable)))
        ends = graph.search(seeds.take(chunk), walk[chunk], limit=max_minutes * 600, together=False)
        through, _ = graph.from_points(snapped, ends)
        for row, site in enumerate(chunk):
            along, _ = ahead_on_stretch(snapped, seeds.take([site]), walk[[site]])
            total = np.minimum(through[row], along) / 600 + snapped.metres / WALK_M_PER_MIN
            ok = np.flatnonzero(reach & (total <= max_minutes))
            rows.append(np.full(len(ok), usable[site]))
            columns.append(ok)
            values.append(np.maximum(total[ok], 1e-6))
    join = lambda parts, kind: np.concatenate(parts) if parts else np.zeros(0, kind)  # noqa: E731
    return csr_matrix((join(values, float), (join(rows, np.int64), join(columns, np.int64))),
                      shape=(len(sites), len(points)))


def _seeds(graph: RoadGraph, targets: np.ndarray):
    """The targets near enough to the network: their snap, their positions and their walk (ds)."""
    if len(targets) == 0:
        return None, np.zeros(0, np.int64), np.zeros(0)
    snapped = graph.snap(targets)
    usable = np.flatnonzero(snapped.metres <= MAX_SNAP_M)
    seeds = snapped.take(usable)
    return seeds, usable, seeds.metres / WALK_M_PER_MIN * 600
