"""Small OpenStreetMap extracts written by the tests (roads of known length and class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_osm(path: Path, ways: list[tuple[list[tuple[float, float]], dict]], step_m: float = 50.0) -> Path:
    """An .osm.pbf file with one way per (lon/lat points, tags), a node every `step_m` metres."""
    import osmium

    node_id = way_id = 1
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as writer:
        for points, tags in ways:
            nodes = []
            for (lon0, lat0), (lon1, lat1) in zip(points, points[1:]):
                length = np.hypot((lon1 - lon0) * 111_320 * np.cos(np.radians(lat0)), (lat1 - lat0) * 110_574)
                steps = max(int(length // step_m), 1)
                for t in range(0 if not nodes else 1, steps + 1):
                    writer.add_node(osmium.osm.mutable.Node(
                        id=node_id, location=(lon0 + (lon1 - lon0) * t / steps, lat0 + (lat1 - lat0) * t / steps)))
                    nodes.append(node_id)
                    node_id += 1
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags=tags))
            way_id += 1
    return path


def metres_east(lat: float, metres: float) -> float:
    """The longitude difference of `metres` eastwards at latitude `lat`."""
    return metres / (111_320 * np.cos(np.radians(lat)))


def write_lattice(path: Path, west: float, south: float, east: float, north: float, step_m: float = 400.0,
                  tags=None) -> Path:
    """Streets every `step_m` metres over a rectangle, joined at every crossing: residential, or
    `tags(number, east_west)` for each line."""
    import osmium

    lons = np.arange(west, east, metres_east((south + north) / 2, step_m))
    lats = np.arange(south, north, step_m / 110_574)
    ids = np.arange(1, len(lons) * len(lats) + 1).reshape(len(lats), len(lons))
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as writer:
        for i, lat in enumerate(lats):
            for j, lon in enumerate(lons):
                writer.add_node(osmium.osm.mutable.Node(id=int(ids[i, j]), location=(float(lon), float(lat))))
        for way, line in enumerate([*ids, *ids.T], start=1):
            kind = tags(way - 1, way <= len(lats)) if tags else {"highway": "residential"}
            writer.add_way(osmium.osm.mutable.Way(id=way, nodes=[int(n) for n in line], tags=kind))
    return path
