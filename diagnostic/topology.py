"""TopoJSON encoding of a coverage (communes, territories) for light web maps.

Borders shared by two shapes are stored once as an arc; coordinates are quantized and
delta-encoded. A département of 700 communes weighs about a fifth of its GeoJSON.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

Point = tuple[int, int]


@dataclass(frozen=True)
class Topology:
    """Arcs and, for each shape id, its polygons as lists of rings of arc references."""

    transform: dict
    arcs: list[list[list[int]]]
    shapes: dict[str, list[list[list[int]]]]
    bounds: tuple[float, float, float, float]

    def to_json(self, properties: dict[str, dict]) -> str:
        """The TopoJSON text, with per-shape properties (object name: "shapes")."""
        geometries = []
        for key, polygons in self.shapes.items():
            geometry = ({"type": "Polygon", "arcs": polygons[0]} if len(polygons) == 1
                        else {"type": "MultiPolygon", "arcs": polygons})
            geometries.append({**geometry, "id": key, "properties": properties.get(key, {})})
        topo = {"type": "Topology", "transform": self.transform, "arcs": self.arcs,
                "objects": {"shapes": {"type": "GeometryCollection", "geometries": geometries}}}
        # "</" never appears raw, so the text can sit inside a <script> element
        return json.dumps(topo, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def encode(shapes: gpd.GeoDataFrame, key: str, quantization: int = 10_000) -> Topology:
    """Build the topology of polygons (WGS84 or any CRS) identified by `shapes[key]`."""
    minx, miny, maxx, maxy = shapes.total_bounds
    kx = (maxx - minx) / (quantization - 1) or 1.0
    ky = (maxy - miny) / (quantization - 1) or 1.0
    rings = {str(k): _quantized_rings(geom, minx, miny, kx, ky)
             for k, geom in zip(shapes[key], shapes.geometry, strict=True)}
    junctions = _junctions(rings)
    arcs: list[list[list[int]]] = []
    index: dict[tuple[Point, ...], int] = {}
    encoded = {}
    for k, polygons in rings.items():
        encoded[k] = [[_ring_arcs(ring, junctions, arcs, index) for ring in polygon]
                      for polygon in polygons]
    transform = {"scale": [kx, ky], "translate": [float(minx), float(miny)]}
    return Topology(transform, arcs, encoded, (float(minx), float(miny), float(maxx), float(maxy)))


def _quantized_rings(geom, minx, miny, kx, ky) -> list[list[list[Point]]]:
    polygons = []
    for polygon in shapely.get_parts(geom):
        rings = []
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)
            q = np.column_stack([np.round((xy[:, 0] - minx) / kx),
                                 np.round((xy[:, 1] - miny) / ky)]).astype(np.int64)
            keep = np.ones(len(q), dtype=bool)
            keep[1:] = np.any(q[1:] != q[:-1], axis=1)
            points = [tuple(p) for p in q[keep].tolist()]
            if len(points) >= 4:
                rings.append(points)
        if rings:
            polygons.append(rings)
    return polygons


def _junctions(rings: dict) -> set[Point]:
    """Points where borders meet or split: not exactly two distinct neighbours along the rings."""
    neighbours: dict[Point, set[Point]] = defaultdict(set)
    all_rings = [ring for polygons in rings.values() for polygon in polygons for ring in polygon]
    for ring in all_rings:
        for a, b in zip(ring[:-1], ring[1:], strict=True):
            neighbours[a].add(b)
            neighbours[b].add(a)
    junctions = {p for p, near in neighbours.items() if len(near) != 2}
    for ring in all_rings:  # a ring with no junction (an enclave) is cut at its smallest point
        if not junctions.intersection(ring):
            junctions.add(min(ring))
    return junctions


def _ring_arcs(ring: list[Point], junctions: set[Point], arcs: list, index: dict) -> list[int]:
    body = ring[:-1]
    start = next(i for i, p in enumerate(body) if p in junctions)
    rotated = body[start:] + body[:start] + [body[start]]
    refs, current = [], [rotated[0]]
    for point in rotated[1:]:
        current.append(point)
        if point in junctions:
            refs.append(_arc_ref(current, arcs, index))
            current = [point]
    return refs


def _arc_ref(points: list[Point], arcs: list, index: dict) -> int:
    key = tuple(points)
    if key in index:
        return index[key]
    reverse = key[::-1]
    if reverse in index:
        return ~index[reverse]
    index[key] = len(arcs)
    xy = np.asarray(points)
    arcs.append(np.vstack([xy[:1], np.diff(xy, axis=0)]).tolist())
    return index[key]
