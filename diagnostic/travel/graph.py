"""The graph OSRM prepared for a mode, read back from its files for searches from every service at once.

OSRM's extract writes an edge-based graph: a node is a road stretch taken in one direction (its
duration in `.enw`), an edge is a turn from one stretch to the next (its penalty in
`.turn_duration_penalties`); this is the graph its MLD queries walk, turn penalties and forbidden
turns included. Points are snapped to the nearest segment of the R-tree leaves (`.fileIndex`) as OSRM
does, at their position along the stretch (segment durations in `.geometry`). One Dijkstra search
on the reversed graph, started from all services together, then gives every stretch its time to the
nearest service: the whole territory in one pass, where a table asks OSRM point by point.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

SEGMENT = np.dtype([("forward", "<u4"), ("reverse", "<u4"), ("u", "<u4"), ("v", "<u4"), ("position", "<u2"),
                    ("pad", "<u2")])  # OSRM's EdgeBasedNodeSegment, the R-tree's leaves
EDGE = np.dtype([("source", "<u4"), ("target", "<u4"), ("turn", "<u4"), ("weight", "<i4"), ("distance", "<f4"),
                 ("flags", "<u4")])  # OSRM's EdgeBasedEdge
DURATION_BITS = 22  # segment durations are packed on 22 bits; all ones is « no way in this direction »
ID_MASK = 0x7FFFFFFF
EPSILON = 1e-3  # deciseconds added to every edge: a zero would read as « no edge » in a sparse graph
SAMPLE_M = 20.0  # spacing (Mercator metres) of the points indexed along each segment to find the nearest
MERCATOR_M = 6_378_137.0
EARTH_RADIUS_M = 6_372_797.560856  # OSRM's


@dataclass
class Snap:
    """Where points meet the network: distance (m), and for each direction of the stretch the node
    (-1 when the stretch is one-way the other way) and the duration (ds) from its start to the point."""

    metres: np.ndarray
    forward: np.ndarray
    forward_offset: np.ndarray
    reverse: np.ndarray
    reverse_offset: np.ndarray

    def take(self, rows: np.ndarray) -> Snap:
        return Snap(self.metres[rows], self.forward[rows], self.forward_offset[rows], self.reverse[rows],
                    self.reverse_offset[rows])

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each point on each open direction of its stretch: (point, node, offset)."""
        node = np.concatenate([self.forward, self.reverse])
        offset = np.concatenate([self.forward_offset, self.reverse_offset])
        point = np.tile(np.arange(len(self.metres)), 2)
        open_ = node >= 0
        return point[open_], node[open_], offset[open_]


class RoadGraph:
    """A mode's edge-based graph with its segments, read from the files OSRM wrote beside `prefix`."""

    def __init__(self, prefix: Path):
        prefix = Path(prefix)
        part = lambda ext, name, dtype: np.frombuffer(_members(prefix.with_suffix(f".osrm.{ext}"), name)[0], dtype)  # noqa: E731
        self.durations = part("enw", "/extractor/edge_based_node_durations", "<i4").astype(float)
        edges = part("ebg", "/common/edge_based_edge_list", EDGE)
        edges = edges[(edges["flags"] >> 30) & 1 == 1]  # a graph without turns holds one blank edge
        turns = part("turn_duration_penalties", "/common/turn_penalty/duration", "<i2").astype(float)
        self.n = n = len(self.durations)
        # reversed graph: node u is « the end of stretch u », node n + u « its start »
        rows = np.concatenate([n + edges["target"].astype(np.int64), np.arange(n)])
        cols = np.concatenate([edges["source"].astype(np.int64), n + np.arange(n)])
        weights = np.concatenate([np.maximum(turns[edges["turn"]], 0), self.durations]) + EPSILON
        self.base = csr_matrix((weights, (rows, cols)), shape=(2 * n, 2 * n))
        self._segments(prefix, part)

    def _segments(self, prefix: Path, part) -> None:
        index, count, forward, reverse = _members(
            prefix.with_suffix(".osrm.geometry"), "/common/segment_data/index", "/common/segment_data/nodes.meta",
            "/common/segment_data/forward_durations/packed", "/common/segment_data/reverse_durations/packed")
        index = np.frombuffer(index, "<u4").astype(np.int64)
        count = int(np.frombuffer(count, "<u8")[0])  # the number of geometry nodes, from its .meta
        forward, reverse = _unpack(forward, count), _unpack(reverse, count)
        nodes = part("ebg_nodes", "/common/ebg_node_data/nodes", "<u4").reshape(-1, 3)
        coords = part("nbg_nodes", "/common/nbn_data/coordinates", "<i4").reshape(-1, 2) / 1e6
        segments = np.fromfile(prefix.with_suffix(".osrm.fileIndex"), SEGMENT)
        fwd_on, rev_on = segments["forward"] >> 31 == 1, segments["reverse"] >> 31 == 1
        known = np.where(fwd_on, segments["forward"] & ID_MASK, segments["reverse"] & ID_MASK)
        # as OSRM: no trip starts on a ferry or the like, nor in a tiny piece cut from the network
        # (unless the whole network is such pieces)
        start, big = (segments["position"] >> 15) == 1, (nodes[known, 1] >> 31) == 0
        keep = start & big if (start & big).any() else start
        segments, fwd_on, rev_on = segments[keep], fwd_on[keep], rev_on[keep]
        self.seg_forward = np.where(fwd_on, (segments["forward"] & ID_MASK).astype(np.int64), -1)
        self.seg_reverse = np.where(rev_on, (segments["reverse"] & ID_MASK).astype(np.int64), -1)
        known = np.where(fwd_on, self.seg_forward, self.seg_reverse)
        geometry = (nodes[known, 0] & ID_MASK).astype(np.int64)  # both directions share it
        first = index[geometry] + (segments["position"] & 0x7FFF).astype(np.int64)  # the segment's first node
        clean = lambda d: np.where(d == (1 << DURATION_BITS) - 1, 0, d).astype(float)  # noqa: E731
        forward, reverse = clean(forward), clean(reverse)
        cum_f = np.concatenate([[0.0], np.cumsum(forward)])  # forward[j + 1] is segment j → j + 1
        cum_r = np.concatenate([[0.0], np.cumsum(reverse)])  # reverse[j] is segment j + 1 → j
        starts, ends = index[geometry], index[geometry + 1]
        self.seg_fwd_start = cum_f[first + 1] - cum_f[starts + 1]
        self.seg_fwd_len = forward[first + 1]
        self.seg_rev_start = cum_r[ends - 1] - cum_r[first + 1]  # from the stretch's start to the v end
        self.seg_rev_len = reverse[first]
        xy = self.metric(coords)
        self.seg_a, self.seg_b = xy[segments["u"]], xy[segments["v"]]
        length = np.hypot(*(self.seg_b - self.seg_a).T)
        pieces = np.maximum(np.ceil(length / SAMPLE_M), 1).astype(np.int64)
        owner = np.repeat(np.arange(len(segments)), pieces)
        step = (np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces) + 0.5) / pieces[owner]
        samples = self.seg_a[owner] + (self.seg_b - self.seg_a)[owner] * step[:, None]
        self._owner, self._tree = owner, cKDTree(samples, balanced_tree=False, compact_nodes=False)  # built 2× faster

    @staticmethod
    def metric(lonlat: np.ndarray) -> np.ndarray:
        """Web Mercator metres, where OSRM ranks the segments near a point (coordinates to 1e-6°)."""
        lonlat = np.round(np.asarray(lonlat, float).reshape(-1, 2), 6)
        return MERCATOR_M * np.column_stack([np.radians(lonlat[:, 0]),
                                             np.log(np.tan(np.pi / 4 + np.radians(lonlat[:, 1]) / 2))])

    def snap(self, lonlat: np.ndarray, k: int = 8) -> Snap:
        """The nearest segment of each point, the distance to it and the point's place on it."""
        xy = self.metric(lonlat)
        k = min(k, len(self._owner))
        _, near = self._tree.query(xy, k=k, workers=2)
        candidates = self._owner[near.reshape(len(xy), k)]
        a, b = self.seg_a[candidates], self.seg_b[candidates]
        ab = b - a
        along = np.einsum("nkd,nkd->nk", xy[:, None, :] - a, ab)
        t = np.clip(along / np.maximum(np.einsum("nkd,nkd->nk", ab, ab), 1e-9), 0, 1)
        ranked = np.hypot(*(a + ab * t[..., None] - xy[:, None, :]).transpose(2, 0, 1))
        best = np.argmin(ranked, axis=1)
        rows = np.arange(len(xy))
        seg, t = candidates[rows, best], t[rows, best]
        on_road = a[rows, best] + ab[rows, best] * t[:, None]
        return Snap(_ground_m(xy, on_road), self.seg_forward[seg], self.seg_fwd_start[seg] + t * self.seg_fwd_len[seg],
                    self.seg_reverse[seg], self.seg_rev_start[seg] + (1 - t) * self.seg_rev_len[seg])

    def search(self, seeds: Snap, extra: np.ndarray, limit: float = np.inf, together: bool = True):
        """Times (ds) from the end of every stretch to the seeds (each one reached `extra` ds after
        the network, e.g. its walk), by the reversed graph: with `together`, to the nearest seed
        (times, which seed); else one row per seed."""
        n, s = self.n, len(extra)
        seed, node, offset = seeds.entries()  # seed s is graph node 2n + s, joined to the start of its stretch
        graph = _stack(self.base, csr_matrix((offset + extra[seed] + EPSILON, (seed, n + node)), shape=(s, 2 * n + s)))
        sources = 2 * n + np.arange(s)
        if together:
            times, _, nearest = dijkstra(graph, indices=sources, min_only=True, return_predecessors=True, limit=limit)
            return times[:n], np.where(nearest[:n] >= 0, nearest[:n] - 2 * n, -1)
        return dijkstra(graph, indices=sources, limit=limit)[:, :n]

    def from_points(self, points: Snap, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per point (last axis), the time (ds) to what `ends` (… × stretches) measures from the end
        of each stretch, leaving by the faster direction of the point's stretch, and that stretch."""
        options = []
        for node, offset in ((points.forward, points.forward_offset), (points.reverse, points.reverse_offset)):
            rest = np.where(node >= 0, self.durations[np.maximum(node, 0)] - offset, np.inf)
            options.append(rest + np.where(node >= 0, ends[..., np.maximum(node, 0)], np.inf))
        both = np.stack(options)
        return both.min(axis=0), np.where(both.argmin(axis=0) == 0, points.forward, points.reverse)


def ahead_on_stretch(points: Snap, seeds: Snap, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the time (ds) to the nearest seed further along its own stretch (inf when none)
    and that seed: a trip that never reaches the stretch's end."""
    best, which = np.full(len(points.metres), np.inf), np.full(len(points.metres), -1)
    seed, node, offset = seeds.entries()
    if len(seed) == 0:
        return best, which
    order = np.lexsort((offset, node))
    seed, node, offset = seed[order], node[order], offset[order]
    cost = offset + extra[seed]
    for i in range(len(cost) - 2, -1, -1):  # the cheapest seed at or after each one on its stretch
        if node[i] == node[i + 1] and cost[i + 1] < cost[i]:
            cost[i], seed[i] = cost[i + 1], seed[i + 1]
    point, at_node, at_offset = points.entries()
    at = np.minimum(np.searchsorted(node.astype(float) * 1e8 + offset, at_node.astype(float) * 1e8 + at_offset),
                    len(node) - 1)
    time = np.where((node[at] == at_node) & (offset[at] >= at_offset), cost[at] - at_offset, np.inf)
    first = np.lexsort((time, point))  # per point, its faster direction first
    point, time, seed = point[first], time[first], seed[at][first]
    _, once = np.unique(point, return_index=True)
    best[point[once]], which[point[once]] = time[once], np.where(np.isfinite(time[once]), seed[once], -1)
    return best, which


def _ground_m(xy: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Great-circle metres between Web Mercator points, as OSRM reports a snap."""
    lon1, lat1, lon2, lat2 = (c for p in (xy, other)
                              for c in (p[:, 0] / MERCATOR_M, 2 * np.arctan(np.exp(p[:, 1] / MERCATOR_M)) - np.pi / 2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


def _stack(base: csr_matrix, extra: csr_matrix) -> csr_matrix:
    """`base` (square) with the rows of `extra` appended, as one square graph."""
    size = extra.shape[1]
    indptr = np.concatenate([base.indptr, base.indptr[-1] + extra.indptr[1:]])
    return csr_matrix((np.concatenate([base.data, extra.data]), np.concatenate([base.indices, extra.indices]), indptr),
                      shape=(size, size))


def _members(path: Path, *names: str) -> list[bytes]:
    """The named members of one of OSRM's files (tar archives), read in one opening."""
    with tarfile.open(path) as tar:
        return [tar.extractfile(tar.getmember(name)).read() for name in names]


def _unpack(data: bytes, count: int, bits: int = DURATION_BITS) -> np.ndarray:
    """The values of an OSRM PackedVector: `bits` per value in a stream of little-endian 64-bit words."""
    words = np.concatenate([np.frombuffer(data, "<u8"), np.zeros(1, "<u8")])
    position = np.arange(count, dtype=np.uint64) * np.uint64(bits)
    word, shift = (position >> np.uint64(6)).astype(np.int64), position & np.uint64(63)
    low = words[word] >> shift
    high = np.where(shift + np.uint64(bits) > 64, words[word + 1] << ((np.uint64(64) - shift) & np.uint64(63)),
                    np.uint64(0))
    return ((low | high) & np.uint64((1 << bits) - 1)).astype(np.int64)
