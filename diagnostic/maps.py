"""Folium map builders that work offline: Leaflet served by the app, no tiles by default."""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from diagnostic.indicators import Indicator, classify, fmt_number

LEAFLET_JS = "/app/static/leaflet/leaflet.js"
LEAFLET_CSS = "/app/static/leaflet/leaflet.css"
NO_DATA_COLOUR = "#d9d9d9"
SEQUENTIAL = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]  # ColorBrewer OrRd
SEQUENTIAL_GOOD = ["#f0f9e8", "#bae4bc", "#7bccc4", "#43a2ca", "#0868ac"]  # GnBu
STATUS_COLOURS = {"favorable": "#1a9850", "vigilance": "#fdae61", "alerte": "#d73027"}
QUALITATIVE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
               "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"]


class OfflineMap(folium.Map):
    """A folium map whose Leaflet script and style come from the app's static folder."""

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]


class MetricScale(MacroElement):
    """A scale bar in kilometres only."""

    _template = Template("""{% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
    {% endmacro %}""")


class FitWhenSized(MacroElement):
    """Fit the map to its bounds once its frame has its final size, and again on resize."""

    _template = Template("""{% macro script(this, kwargs) %}
        (function (map) {
            var fit = function () { map.invalidateSize(); map.fitBounds({{ this.bounds }}); };
            setTimeout(fit, 0);
            window.addEventListener("resize", fit);
        })({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self.bounds = json.dumps(bounds)


def base_map(bounds: tuple[float, float, float, float], tiles: str | None = None) -> OfflineMap:
    """An empty map fitted to (minx, miny, maxx, maxy) in WGS84; no background unless asked."""
    minx, miny, maxx, maxy = bounds
    fmap = OfflineMap(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=tiles,
                      zoom_control=True, attribution_control=bool(tiles), zoom_snap=0.25)
    MetricScale().add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def class_colours(n_classes: int, higher_is_better: bool | None) -> list[str]:
    """A sequential palette of n colours (blues when a high value is good, reds otherwise)."""
    palette = SEQUENTIAL_GOOD if higher_is_better else SEQUENTIAL
    if n_classes <= len(palette):
        step = (len(palette) - 1) / max(n_classes - 1, 1)
        return [palette[round(i * step)] for i in range(n_classes)]
    return palette + [palette[-1]] * (n_classes - len(palette))


def class_labels(breaks: list[float], unit: str) -> list[str]:
    """Legend labels for the classes delimited by the inner limits `breaks`."""
    if not breaks:
        return ["toutes valeurs"]
    f = [fmt_number(b) for b in breaks]
    labels = [f"jusqu'à {f[0]} {unit}"]
    labels += [f"plus de {a} à {b} {unit}" for a, b in zip(f[:-1], f[1:], strict=True)]
    labels.append(f"plus de {f[-1]} {unit}")
    return labels


def threshold_colours(breaks: list[float], indicator: Indicator) -> list[str]:
    """Green / orange / red classes for the catalogue thresholds, in the indicator's direction."""
    order = [STATUS_COLOURS[s] for s in ("favorable", "vigilance", "alerte")]
    colours = order[::-1] if indicator.higher_is_better else order
    return colours[: len(breaks) + 1]


def choropleth(shapes: gpd.GeoDataFrame, key: str, values: pd.Series, breaks: list[float],
               colours: list[str], tooltip: dict[str, pd.Series], bounds=None,
               tiles: str | None = None, outline: gpd.GeoDataFrame | None = None) -> OfflineMap:
    """Fill each shape with the colour of its value's class.

    `shapes[key]` matches `values.index`; `tooltip` maps a French label to the texts to show
    (escaped here: they may come from users' files). `outline` draws coarser borders on top.
    """
    classes = classify(values.reindex(shapes[key]).reset_index(drop=True), breaks)
    fills = [colours[c] if c >= 0 else NO_DATA_COLOUR for c in classes]
    features = []
    for i, (code, geom) in enumerate(zip(shapes[key], shapes.geometry, strict=True)):
        props = {f"t{j}": html.escape(str(texts.get(code, ""))) for j, texts in
                 enumerate(tooltip.values())}
        props["fill"] = fills[i]
        features.append({"type": "Feature", "id": str(code), "properties": props,
                         "geometry": geom.__geo_interface__})
    fmap = base_map(bounds or tuple(shapes.total_bounds), tiles)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="valeurs",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#ffffff",
                                  "weight": 0.6, "fillOpacity": 0.85},
        highlight_function=lambda f: {"weight": 2.5, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(fields=[f"t{j}" for j in range(len(tooltip))],
                                      aliases=[html.escape(a) for a in tooltip], sticky=True),
    ).add_to(fmap)
    if outline is not None:
        add_outline(fmap, outline)
    return fmap


def add_outline(fmap: folium.Map, shapes: gpd.GeoDataFrame) -> None:
    """Draw borders only (e.g. the territories over the communes)."""
    folium.GeoJson(json.loads(shapes[["geometry"]].to_json()), name="limites", interactive=False,
                   style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2}
                   ).add_to(fmap)


def clicked_key(map_state: dict | None) -> str | None:
    """The feature id of the last shape clicked in st_folium's returned state, if any."""
    drawing = (map_state or {}).get("last_active_drawing") or {}
    return drawing.get("id")
