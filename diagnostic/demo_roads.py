"""The demo département's road network (an OpenStreetMap extract) and its 200 m population grid.

Roads join neighbouring commune seats (a Delaunay triangulation: main roads between towns,
secondary and local roads elsewhere), and each seat has a few streets; the grid spreads each
commune's people over 200 m cells around its seat, in the official Filosofi file's form, with
the cells of fewer than 11 households marked as imputed. Both are imported like a user's files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import Delaunay

from diagnostic.territory import LAMBERT93, WGS84

GRID_SOURCE = "filosofi_demo_carreaux200m.csv"
TO_WGS84 = Transformer.from_crs(LAMBERT93, WGS84, always_xy=True)
TO_LAEA = Transformer.from_crs(LAMBERT93, "EPSG:3035", always_xy=True)
PEOPLE_PER_HOUSEHOLD = 2.2
SEGMENT_M = 100
TOWN_STREETS_M = 2_400  # a town's street grid reaches this far from its centre...
STREET_SPACING_M = 400  # ...with a street every 400 m
EXTRACT_DATE = "2026-01-01T00:00:00Z"  # the demo's roads are fictional: a fixed date keeps the file reproducible


def road_lines(seats: np.ndarray, kinds: list[str], rng: np.random.Generator) -> list[tuple[list, dict]]:
    """The roads of the seats (Lambert-93 metres, n × 2): (points, tags) per way; a point is (x, y)
    or, for a commune seat, its index (ways meet at the seats)."""
    edges = set()
    for simplex in Delaunay(seats).simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            i, j = sorted((int(simplex[a]), int(simplex[b])))
            if np.hypot(*(seats[i] - seats[j])) < 9_000:
                edges.add((i, j))
    lines = []
    for i, j in sorted(edges):
        towns = kinds[i] == "ville" and kinds[j] == "ville"
        highway = "primary" if towns else ("secondary" if "ville" in (kinds[i], kinds[j]) else "tertiary")
        bend = tuple((seats[i] + seats[j]) / 2 + rng.normal(0, 250, 2))  # roads are not straight
        lines.append(([i, bend, j], {"highway": highway, "ref": f"D{i + 1}"}))
    for i, (x, y) in enumerate(seats):  # streets: a grid in the towns, a few streets in the villages
        if kinds[i] == "ville":
            steps = np.arange(-TOWN_STREETS_M, TOWN_STREETS_M + 1, STREET_SPACING_M)
            for n, offset in enumerate(steps):
                row = [i if offset == 0 and d == 0 else (x + d, y + offset) for d in steps]
                column = [i if offset == 0 and d == 0 else (x + offset, y + d) for d in steps]
                lines += [(row, {"highway": "residential", "name": f"Rue {i}-{n}"}),
                          (column, {"highway": "residential", "name": f"Avenue {i}-{n}"})]
            continue
        for angle in rng.uniform(0, 2 * np.pi) + np.arange(4) * np.pi / 2:
            lines.append(([i, (x + 900 * np.cos(angle), y + 900 * np.sin(angle))],
                          {"highway": "residential", "name": f"Rue {i}-{int(angle * 100)}"}))
    return lines


def on_roads(points: np.ndarray, seats: np.ndarray, lines: list[tuple[list, dict]]) -> np.ndarray:
    """Each point (Lambert-93) moved to the nearest point of the roads, as bus stops are."""
    import shapely

    geometries = np.array([shapely.LineString([tuple(seats[p]) if isinstance(p, int) else p for p in points_])
                           for points_, _ in lines], dtype=object)
    tree = shapely.STRtree(geometries)
    nearest = tree.nearest(shapely.points(points))
    moved = shapely.line_interpolate_point(geometries[nearest], shapely.line_locate_point(
        geometries[nearest], shapely.points(points)))
    return shapely.get_coordinates(moved)


def write_roads(path: Path, seats: np.ndarray, lines: list[tuple[list, dict]]) -> None:
    """Write the roads (see road_lines) as an OSM PBF file, a node every ~100 m as in real data."""
    import osmium

    path.unlink(missing_ok=True)
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", EXTRACT_DATE)
    header.set("generator", "Diagnostic PTI (département de démonstration, fictif)")
    with osmium.SimpleWriter(str(path), header=header) as writer:
        node_id = [1]

        def node(x: float, y: float) -> int:
            lon, lat = TO_WGS84.transform(x, y)
            writer.add_node(osmium.osm.mutable.Node(id=node_id[0], location=(lon, lat)))
            node_id[0] += 1
            return node_id[0] - 1

        seat_nodes = [node(x, y) for x, y in seats]
        shared: dict[tuple, int] = {}  # crossings of a town's street grid are one node

        def point_node(point) -> int:
            if isinstance(point, int):
                return seat_nodes[point]
            key = (round(point[0], 1), round(point[1], 1))
            if key not in shared:
                shared[key] = node(*point)
            return shared[key]

        for way_id, (points, tags) in enumerate(lines, start=1):
            xy = [seats[p] if isinstance(p, int) else np.asarray(p) for p in points]
            nodes = [point_node(points[0])]
            for a, b, end in zip(xy, xy[1:], points[1:]):
                steps = max(int(np.hypot(*(b - a)) // SEGMENT_M), 1)
                nodes += [node(*(a + (b - a) * t / steps)) for t in range(1, steps)]
                nodes.append(point_node(end))
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags=tags))


def grid_cells(seats: np.ndarray, populations: np.ndarray, kinds: list[str], rng: np.random.Generator
               ) -> pd.DataFrame:
    """The 200 m cells of the population, in the Filosofi file's columns (idcar_200m, ind, men,
    men_pauv, i_est_200); cells that fall outside the communes are dropped by the import."""
    rows = []
    x, y = TO_LAEA.transform(seats[:, 0], seats[:, 1])
    for cx, cy, people, kind in zip(x, y, populations, kinds, strict=True):
        spread = 1_200 if kind == "ville" else 350
        count = int(min(max(people / 25, 4), 1_500))
        px, py = rng.normal(cx, spread, count), rng.normal(cy, spread, count)
        cells = pd.DataFrame({"x": np.floor(px / 200) * 200, "y": np.floor(py / 200) * 200})
        weights = cells.value_counts().rename("n").reset_index()
        weights["ind"] = np.round(weights["n"] / weights["n"].sum() * people * 2) / 2
        rows.append(weights[weights["ind"] > 0])
    cells = pd.concat(rows).groupby(["x", "y"], as_index=False)["ind"].sum()
    men = np.round(cells["ind"] / PEOPLE_PER_HOUSEHOLD, 1)
    return pd.DataFrame({
        "idcar_200m": [f"CRS3035RES200mN{int(b)}E{int(a)}" for a, b in zip(cells["x"], cells["y"], strict=True)],
        "i_est_200": (men < 11).astype(int), "ind": cells["ind"].to_numpy(), "men": men.to_numpy(),
        "men_pauv": np.round(men * rng.uniform(0.05, 0.3, len(men)), 1).to_numpy(),
    })
