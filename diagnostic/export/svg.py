"""Static SVG maps for documents: the same shapes and classes as the app, no tiles, no script."""

from __future__ import annotations

import base64
import html

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from diagnostic.territory import display_geometry, metric_crs

WIDTH = 520
HATCH = ('<defs><pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
         'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" stroke="#555555" stroke-width="1"/>'
         '</pattern></defs>')
HATCH_CSS = "repeating-linear-gradient(45deg, #555555 0, #555555 1px, #ffffff 1px, #ffffff 3px)"  # legend box
PRINT_DETAIL_PX = 2  # smallest detail kept on a printed map, in pixels
LABEL_CHARS = 31  # bar labels longer than this are shortened so that they are not cut


def print_shapes(communes: gpd.GeoDataFrame, width: int = WIDTH) -> gpd.GeoDataFrame:
    """The communes simplified for a printed map `width` pixels wide: nothing smaller than about
    two pixels is kept (shared borders stay shared), which is what the eye can see on paper."""
    metric = communes.to_crs(metric_crs(communes))
    minx, _, maxx, _ = metric.total_bounds
    return display_geometry(communes, tolerance_m=PRINT_DETAIL_PX * (maxx - minx) / width)


class MapFrame:
    """Shapes ready for printed maps: projected in a metric projection, scaled to `width` pixels and
    written once, so that each map of the annex only chooses their colours. Thicker `borders` (e.g.
    the territories) are drawn once per edge (two neighbours share theirs), the département's
    outline with them; the `highlight` shapes (the territory of a single-territory annex) stand out:
    the rest is veiled and their outline is drawn thick."""

    def __init__(self, shapes: gpd.GeoDataFrame, borders: gpd.GeoDataFrame | None = None,
                 highlight: gpd.GeoDataFrame | None = None, width: int = WIDTH):
        crs = metric_crs(shapes.assign(code_insee=shapes.get("code_insee", "00000")))
        metric = shapes.to_crs(crs)
        self.minx, miny, maxx, self.maxy = metric.total_bounds
        self.scale, self.width = width / (maxx - self.minx), width
        self.height = int((self.maxy - miny) * self.scale) + 1
        self.paths = [self._path(geom) for geom in metric.geometry]
        whole = shapely.union_all(metric.geometry.to_numpy())
        if borders is None:  # the outline of the whole
            edges = shapely.boundary(whole)
        else:  # each shared edge once
            edges = shapely.line_merge(shapely.union_all(shapely.boundary(borders.to_crs(crs).geometry.to_numpy())))
        over = [f'<path d="{self._path(edges)}" fill="none" stroke="#222222" stroke-width="1.2" '
                'stroke-linejoin="round"/>']
        if highlight is not None and not highlight.empty:
            chosen = shapely.union_all(highlight.to_crs(crs).geometry.to_numpy())
            rest = whole.difference(chosen)
            if not rest.is_empty:
                over.append(f'<path d="{self._path(rest)}" fill="#ffffff" fill-opacity="0.6" stroke="none"/>')
            over.append(f'<path d="{self._path(chosen)}" fill="none" stroke="#000000" stroke-width="2.8"/>')
        self.over = "".join(over)
        self.to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def _path(self, geom) -> str:
        parts = []
        for line in _lines(geom):
            xy = np.asarray(line.coords)
            x = np.round((xy[:, 0] - self.minx) * self.scale, 1)
            y = np.round((self.maxy - xy[:, 1]) * self.scale, 1)
            keep = np.r_[True, (np.diff(x) != 0) | (np.diff(y) != 0)]  # points closer than 0.1 px
            x, y, end = x[keep], y[keep], ""
            if line.geom_type == "LinearRing":  # closed: its last point is its first
                x, y, end = x[:-1], y[:-1], "Z"
            parts.append("M" + "L".join(f"{a:g},{b:g}" for a, b in zip(x, y, strict=True)) + end)
        return "".join(parts)

    def _xy(self, items) -> list[tuple[str, str]]:
        """Page coordinates (one decimal) of (lon, lat, …) items."""
        return [(f"{(x - self.minx) * self.scale:.1f}", f"{(self.maxy - y) * self.scale:.1f}")
                for x, y in _metric(self.to_metric, items)]

    def draw(self, fills: list[str], points: list[tuple[float, float, str]] = (),
             labels: list[tuple[float, float, str]] = (), hatched: list[bool] | None = None) -> str:
        """The map with one colour per shape (`fills`), points (lon, lat, colour) and text labels
        (lon, lat, text); `hatched` shapes (values resting on too small a part of the population) are
        pale and hatched."""
        marks = hatched or [False] * len(fills)
        body = [HATCH] if any(marks) else []
        by_style: dict[tuple[str, bool], list[str]] = {}  # one path per colour: the typesetter draws far fewer
        for d, fill, mark in zip(self.paths, fills, marks, strict=True):
            by_style.setdefault((fill, mark), []).append(d)
        for (fill, mark), shapes_d in by_style.items():
            d = "".join(shapes_d)
            if mark:
                body.append(f'<path d="{d}" fill="{fill}" fill-opacity="0.45" stroke="#ffffff" stroke-width="0.4"/>'
                            f'<path d="{d}" fill="url(#hatch)" stroke="none"/>')
            else:
                body.append(f'<path d="{d}" fill="{fill}" stroke="#ffffff" stroke-width="0.4"/>')
        body.append(self.over)
        for (_, _, colour), (x, y) in zip(points, self._xy(points), strict=True):
            body.append(f'<circle cx="{x}" cy="{y}" r="2.6" fill="{colour}" stroke="#ffffff" stroke-width="0.5"/>')
        for (_, _, text), (x, y) in zip(labels, self._xy(labels), strict=True):
            body.append(f'<text x="{x}" y="{y}" font-size="9" text-anchor="middle" font-weight="bold" '
                        f'fill="#111111">{html.escape(text)}</text>')
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
                f'width="{self.width}" height="{self.height}">{"".join(body)}</svg>')


def _lines(geom):
    """The rings of polygons, or the lines of a (multi)line, one after the other."""
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            yield part.exterior
            yield from part.interiors
        elif not part.is_empty:
            yield part


def as_image(svg: str, alt: str) -> str:
    """An SVG drawing as an image of the document with its text alternative (read by screen
    readers, and the typesetter reads the drawing as XML, not as part of the page)."""
    encoded = base64.b64encode(svg.encode()).decode()
    return f'<img src="data:image/svg+xml;base64,{encoded}" alt="{html.escape(alt)}">'


def _metric(transformer: Transformer, items) -> list[tuple[float, float]]:
    if not items:
        return []
    lon, lat = np.array([i[0] for i in items]), np.array([i[1] for i in items])
    x, y = transformer.transform(lon, lat)
    return list(zip(x, y, strict=True))


def svg_bar_chart(labels: list[str], values: list[float], colours: list[str], unit: str,
                  rules: list[tuple[str, float, str]], width: int = 520,
                  highlight: list[bool] | None = None) -> str:
    """Horizontal bars (one per territory) with vertical reference rules (label, value, dash); a
    `highlight`ed bar (the chosen territory) is outlined and its label bold."""
    row, left, right, top = 18, 190, 20, 8
    height = top + row * len(labels) + 40
    finite = [v for v in [*values, *(v for _, v, _ in rules)] if np.isfinite(v)]
    peak = max([*finite, 1e-9]) * 1.08
    low = min([*finite, 0.0])
    scale = (width - left - right) / (peak - low)
    left_zero = left - low * scale  # where zero is, when some values are negative
    marks = highlight or [False] * len(labels)
    body = []
    for i, (label, value, colour, mark) in enumerate(zip(labels, values, colours, marks, strict=True)):
        y = top + i * row
        weight = ' font-weight="bold"' if mark else ""
        stroke = ' stroke="#000000" stroke-width="1.6"' if mark else ""
        short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"
        body.append(f'<text x="{left - 6}" y="{y + 12}" font-size="9" text-anchor="end"{weight}>'
                    f'{html.escape(short)}</text>')
        x0, x1 = sorted((left_zero, left_zero + value * scale))
        body.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{x1 - x0:.1f}" height="{row - 6}" fill="{colour}"{stroke}/>')
        body.append(f'<text x="{x1 + 3:.1f}" y="{y + 12}" font-size="8">'
                    f'{html.escape(_fr(value))}</text>')
    bottom = top + row * len(labels)
    rules = [(label, value, dash) for label, value, dash in rules if np.isfinite(value)]
    for label, value, dash in rules:
        x = left_zero + value * scale
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#222222" '
                    f'stroke-width="1.2" stroke-dasharray="{dash}"/>')
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{width - right}" y2="{bottom}" stroke="#888888"/>')
    legend = " · ".join(f"{label} : {_fr(value)} {unit}" for label, value, _ in rules)
    body.append(f'<text x="{left}" y="{bottom + 16}" font-size="8.5">{html.escape(legend)}</text>')
    body.append(f'<text x="{left}" y="{bottom + 30}" font-size="8" fill="#555555">trait plein : département ; '
                f'tirets : seuils</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}">{"".join(body)}</svg>')


def _fr(value: float) -> str:
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
