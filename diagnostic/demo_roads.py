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
EXTRACT_DATE = "2026-01-01T00:00:00Z"  # the demo's roads are fictional: a fixed date keeps the file reproducible


def write_roads(path: Path, seats: np.ndarray, kinds: list[str], rng: np.random.Generator) -> None:
    """Write the road network of the seats (Lambert-93 metres, n × 2) as an OSM PBF file."""
    import osmium

    edges = set()
    for simplex in Delaunay(seats).simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            i, j = sorted((int(simplex[a]), int(simplex[b])))
            if np.hypot(*(seats[i] - seats[j])) < 9_000:
                edges.add((i, j))
    path.unlink(missing_ok=True)
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", EXTRACT_DATE)
    header.set("generator", "Diagnostic PTI (département de démonstration, fictif)")
    with osmium.SimpleWriter(str(path), header=header) as writer:
        node_id, way_id = [1], [1]

        def node(x: float, y: float) -> int:
            lon, lat = TO_WGS84.transform(x, y)
            writer.add_node(osmium.osm.mutable.Node(id=node_id[0], location=(lon, lat)))
            node_id[0] += 1
            return node_id[0] - 1

        seat_nodes = [node(x, y) for x, y in seats]

        def way(points: list, tags: dict) -> None:
            """A way through the points, with a node every ~100 m as in real OpenStreetMap data."""
            nodes = [points[0][1]]
            for (a, start), (b, end) in zip(points, points[1:]):
                steps = max(int(np.hypot(*(np.asarray(b) - a)) // SEGMENT_M), 1)
                nodes += [node(*(np.asarray(a) + (np.asarray(b) - a) * t / steps)) for t in range(1, steps)]
                nodes.append(end if end is not None else node(*b))
            writer.add_way(osmium.osm.mutable.Way(id=way_id[0], nodes=nodes, tags=tags))
            way_id[0] += 1

        for i, j in sorted(edges):
            towns = kinds[i] == "ville" and kinds[j] == "ville"
            highway = "primary" if towns else ("secondary" if "ville" in (kinds[i], kinds[j]) else "tertiary")
            bend = (seats[i] + seats[j]) / 2 + rng.normal(0, 250, 2)  # roads are not straight
            way([(seats[i], seat_nodes[i]), (bend, None), (seats[j], seat_nodes[j])],
                {"highway": highway, "ref": f"D{i + 1}"})
        for i, (x, y) in enumerate(seats):  # streets of the village or town
            reach = 2_500 if kinds[i] == "ville" else 900
            for angle in rng.uniform(0, 2 * np.pi) + np.arange(4) * np.pi / 2:
                end = (x + reach * np.cos(angle), y + reach * np.sin(angle))
                way([((x, y), seat_nodes[i]), (end, None)], {"highway": "residential", "name": f"Rue {i}-{int(angle * 100)}"})


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
