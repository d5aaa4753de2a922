"""Interactive maps (folium) that work offline: Leaflet served by the app, no tiles by default."""

from __future__ import annotations

import html
import json

import folium
import numpy as np
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from diagnostic.access.white_zones import DISTANCE_LABELS
from diagnostic.indicators import class_breaks, classify, fmt_number, french_day
from diagnostic.maps import (COVERAGE_COLOURS, NO_DATA_COLOUR, PARTIAL_COLOUR, PARTIAL_LABEL, SERVICE_COLOUR,
                             STOP_COLOUR, THEME_COLOURS, Legend, class_colours, class_labels, completeness_texts,
                             coverage_classes, coverage_legend, group_colours, group_label_points, threshold_colours)
from diagnostic.profile import SECRET_LABEL, Profile
from diagnostic.territory import COMMUNE_LEVEL, group_of
from diagnostic.themes import MODES, PUBLICS, theme_labels, top_theme
from diagnostic.topology import Topology

LEAFLET_JS = "/app/static/leaflet/leaflet.js"

LEAFLET_CSS = "/app/static/leaflet/leaflet.css"

TOPOJSON_JS = "/app/static/topojson-client.min.js"



class OfflineMap(folium.Map):
    """A folium map whose Leaflet script and style come from the app's static folder; `text` is
    what it shows as a table, its text alternative for keyboards and screen readers."""

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]
    text: pd.DataFrame | None = None



class MetricScale(MacroElement):
    """A scale bar in kilometres only."""

    _template = Template("""{% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
    {% endmacro %}""")



class FitOnResize(MacroElement):
    """Fit the map to its bounds again whenever its frame changes size (first layout included):
    a map created before its frame has its final size would otherwise be badly zoomed."""

    _template = Template("""{% macro script(this, kwargs) %}
        (function (map) {
            var bounds = {{ this.bounds }};
            new ResizeObserver(function () {
                map.invalidateSize();
                map.fitBounds(bounds);
            }).observe(map.getContainer());
        })({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "FitOnResize"
        self.bounds = json.dumps(bounds)



def base_map(bounds: tuple[float, float, float, float], tiles: str | None = None) -> OfflineMap:
    """An empty map fitted to (minx, miny, maxx, maxy) in WGS84; no background unless asked."""
    minx, miny, maxx, maxy = bounds
    fmap = OfflineMap(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=tiles,
                      zoom_control=True, attribution_control=bool(tiles), zoom_snap=0.25)
    fmap.options.update(maxZoom=18, minZoom=5)  # folium gives these to tiles only; clusters need them
    MetricScale().add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(
        "<style>.leaflet-container{background:#f3f5f7;font:13px/1.35 'Source Sans Pro',"
        "'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
        ".pti-label{background:rgba(255,255,255,.8);border:0;box-shadow:none;font-weight:600;"
        "font-size:12px;padding:1px 4px;white-space:normal;width:max-content;max-width:130px;"
        "text-align:center}.pti-label:before{display:none}"
        ".leaflet-tooltip:not(.pti-label){white-space:normal;width:max-content;max-width:min(280px,44vw)}</style>"))
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    FitOnResize([[miny, minx], [maxy, maxx]]).add_to(fmap)
    return fmap



class TopoJsonLayer(JSCSSMixin, MacroElement):
    """Shapes drawn from a TopoJSON text: fill colour by class index, tooltip, the outer border
    and, optionally, the borders between groups (the arcs where the group changes)."""

    default_js = [("topojson", TOPOJSON_JS)]
    _template = Template("""{% macro script(this, kwargs) %}
        (function (map) {
            var topo = {{ this.topojson }};
            var colours = {{ this.colours }};
            var labels = {{ this.labels }};
            var shapes = topojson.feature(topo, topo.objects.shapes);
            var layer = L.geoJSON(shapes, {
                style: function (f) {
                    return f.properties.p ? {fillColor: colours[f.properties.c], color: "#555555", weight: 1,
                                             dashArray: "3 3", fillOpacity: 0.3}
                        : {fillColor: colours[f.properties.c], color: "#ffffff", weight: 0.6, fillOpacity: 0.85};
                },
                onEachFeature: function (f, l) {
                    l.bindTooltip(labels.map(function (label, i) {
                        return "<b>" + label + "</b> : " + f.properties.t[i];
                    }).join("<br>"), {sticky: true});
                }
            }).addTo(map);
            layer.on("mouseover", function (e) {
                e.layer.setStyle({weight: 2.5, color: "#222222"});
            });
            layer.on("mouseout", function (e) { layer.resetStyle(e.layer); });
            var borders = topojson.mesh(topo, topo.objects.shapes, function (a, b) {
                return a === b{% if this.group_borders %} || a.properties.g !== b.properties.g{% endif %};
            });
            L.geoJSON(borders, {interactive: false, style: {color: "#222222", weight: 2, fill: false}})
                .addTo(map);
            // names written on the map, largest group first: one that would overlap a name already
            // written, or leave the frame, is not written (its full name stays in the shapes' tooltips)
            var written = {{ this.place_labels }}.map(function (p) {
                var t = L.tooltip({permanent: true, direction: "center", interactive: false,
                                   className: "pti-label"}).setLatLng([p[0], p[1]]).setContent(p[2]);
                map.openTooltip(t);
                return t;
            });
            function declutter() {
                var frame = map.getContainer().getBoundingClientRect(), kept = [];
                written.forEach(function (t) {
                    var el = t.getElement();
                    if (!el) return;
                    var r = el.getBoundingClientRect();
                    var inside = r.left >= frame.left && r.right <= frame.right && r.top >= frame.top
                        && r.bottom <= frame.bottom;
                    var free = kept.every(function (k) {
                        return r.right < k.left || r.left > k.right || r.bottom < k.top || r.top > k.bottom;
                    });
                    el.style.visibility = inside && free ? "visible" : "hidden";
                    if (inside && free) kept.push(r);
                });
            }
            map.on("zoomend moveend resize", declutter);
            map.whenReady(function () { setTimeout(declutter, 0); });
        })({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self, topojson_text: str, colours: list[str], labels: list[str],
                 group_borders: bool, place_labels: list[tuple[float, float, str]] = ()):
        super().__init__()
        self._name = "TopoJsonLayer"
        self.topojson = topojson_text
        self.colours = json.dumps(colours)
        self.labels = json.dumps([html.escape(label) for label in labels]).replace("</", "<\\/")
        self.group_borders = group_borders
        self.place_labels = json.dumps([[lat, lon, html.escape(text)] for lat, lon, text in place_labels],
                                       ensure_ascii=False).replace("</", "<\\/")



def choropleth(topology: Topology, values: pd.Series, breaks: list[float], colours: list[str],
               tooltip: dict[str, pd.Series], groups: pd.Series | None = None,
               place_labels: list[tuple[float, float, str]] = (),
               tiles: str | None = None, partial: pd.Series | None = None) -> OfflineMap:
    """Fill each shape of the topology with the colour of its value's class.

    `values` is indexed by shape id; `tooltip` maps a French label to the texts to show (escaped
    here: they may come from users' files); `groups` (shape id → group name) draws the borders
    between groups on top; `place_labels` are (lat, lon, text) written on the map; shapes flagged
    in `partial` (a value resting on too small a part of the population) are drawn pale and dashed.
    """
    keys = pd.Index(list(topology.shapes))
    classes = classify(values.reindex(keys), breaks).to_numpy()
    no_data = len(colours)
    group_rank = ({name: i for i, name in enumerate(sorted(groups.dropna().unique()))}
                  if groups is not None else {})
    text = pd.DataFrame({label: column.reindex(keys).fillna("").astype(str).to_numpy()
                         for label, column in tooltip.items()}, index=pd.RangeIndex(len(keys)))
    rows = [[html.escape(t) for t in row] for row in text.itertuples(index=False)]  # one lookup per column
    ranks = (groups.reindex(keys).map(group_rank).fillna(-1).astype(int).to_numpy() if groups is not None else None)
    pale = partial.reindex(keys).fillna(False).astype(bool).to_numpy() if partial is not None else None
    properties = {}
    for i, key in enumerate(keys):
        props = {"c": int(classes[i]) if classes[i] >= 0 else no_data, "t": rows[i]}
        if ranks is not None:
            props["g"] = int(ranks[i])
        if pale is not None and pale[i]:
            props["p"] = 1
        properties[key] = props
    fmap = base_map(topology.bounds, tiles)
    TopoJsonLayer(topology.to_json(properties), [*colours, NO_DATA_COLOUR], list(tooltip),
                  group_borders=groups is not None, place_labels=place_labels).add_to(fmap)
    fmap.text = text
    return fmap



def clicked_key(map_state: dict | None) -> str | None:
    """The feature id of the last shape clicked in st_folium's returned state, if any."""
    drawing = (map_state or {}).get("last_active_drawing") or {}
    return drawing.get("id")



def profile_map(topology: Topology, profile: Profile, method: str) -> tuple[OfflineMap, Legend]:
    """The choropleth of an indicator's profile, classes by `method`, secret values in grey, values
    resting on too small a part of the population pale and dashed."""
    ind, table = profile.indicator, profile.table
    breaks = class_breaks(table["value"], method, 5, ind)
    colours = (threshold_colours(breaks, ind) if method == "seuils"
               else class_colours(len(breaks) + 1, ind.higher_is_better))
    value_text = table["value"].map(lambda v: f"{fmt_number(v)} {ind.unit}")
    value_text[table["secret"] != ""] = SECRET_LABEL
    value_text[table["value"].isna() & (table["secret"] == "")] = "non renseigné"
    place = "Commune" if profile.level == COMMUNE_LEVEL else "Territoire"
    partial = profile.partial()
    value_text[partial & table["value"].notna()] += " (non significatif)"
    fmap = choropleth(topology, table["value"], breaks, colours,
                      {place: table["territory"], f"{ind.label} ({ind.vintage})": value_text,
                       "Calculé sur": completeness_texts(table)}, partial=partial)
    legend = Legend(f"{ind.label} ({ind.unit})", [*colours, NO_DATA_COLOUR],
                    [*class_labels(breaks, ind.unit), "secret statistique ou non renseigné"])
    if (partial & table["value"].notna()).any():
        legend.colours.append(PARTIAL_COLOUR)
        legend.labels.append(PARTIAL_LABEL)
    return fmap, legend



def territory_map(topology: Topology, communes: gpd.GeoDataFrame, groupings: pd.DataFrame,
                  level: str, colours: dict[str, str] | None = None) -> tuple[OfflineMap, Legend]:
    """Communes coloured by their group at a level (by population class at commune level); the
    groups' `colours` (see group_colours) are computed when not given."""
    names = communes.set_index("code_insee")["name"]
    population = communes.set_index("code_insee")["population"]
    tooltip = {"Commune": names, "Code INSEE": names.index.to_series(),
               "Population": population.map(lambda v: fmt_number(v, 0))}
    for other in groupings.columns:
        tooltip[other] = groupings[other]
    if level == COMMUNE_LEVEL:
        breaks = class_breaks(population, "quantiles", 5)
        colours = class_colours(len(breaks) + 1, None)
        fmap = choropleth(topology, population, breaks, colours, tooltip)
        return fmap, Legend("Population", colours, class_labels(breaks, "hab."))
    groups = group_of(communes, groupings, level)
    names_sorted = sorted(groups.unique())
    chosen = colours or group_colours(communes, groups)
    rank = groups.map({name: i for i, name in enumerate(names_sorted)}).astype(float)
    colours = [chosen[name] for name in names_sorted]
    breaks = [i + 0.5 for i in range(len(names_sorted) - 1)]
    fmap = choropleth(topology, rank, breaks, colours, tooltip, groups=groups,
                      place_labels=group_label_points(communes, groups))
    return fmap, Legend(level, colours, names_sorted)

MARKERCLUSTER_JS = "/app/static/leaflet/leaflet.markercluster.js"

MARKERCLUSTER_CSS = ["/app/static/leaflet/MarkerCluster.css", "/app/static/leaflet/MarkerCluster.Default.css"]



class ServiceLayer(JSCSSMixin, MacroElement):
    """Services as circles coloured by theme, grouped in clusters when dense (unless told not
    to), with popups.

    The number of services drawn is written on the map element (data-services) for tests."""

    default_js = [("markercluster", MARKERCLUSTER_JS)]
    default_css = [(f"markercluster_css_{i}", href) for i, href in enumerate(MARKERCLUSTER_CSS)]
    _template = Template("""{% macro script(this, kwargs) %}
        (function (map) {
            var services = {{ this.services }};
            var colours = {{ this.colours }};
            var cluster = {{ this.cluster }} ? L.markerClusterGroup({maxClusterRadius: 35,
                disableClusteringAtZoom: 13, showCoverageOnHover: false}) : L.featureGroup();
            services.forEach(function (s) {
                var style = {radius: 6, color: "#ffffff", weight: 1, fillColor: colours[s[2]],
                             fillOpacity: 0.95};
                if (s[4]) { style.dashArray = "2 2"; style.color = "#333333"; }
                cluster.addLayer(L.circleMarker([s[0], s[1]], style).bindPopup(s[3], {maxWidth: 320}));
            });
            map.addLayer(cluster);
            map.getContainer().dataset.services = services.length;
        })({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self, services: list, colours: list[str], cluster: bool = True):
        super().__init__()
        self._name = "ServiceLayer"
        self.cluster = json.dumps(cluster)
        self.services = json.dumps(services, ensure_ascii=False).replace("</", "<\\/")
        self.colours = json.dumps(colours)



def service_popup(service: dict) -> str:
    """The popup of a service; every text from the files is escaped."""
    labels = theme_labels()
    rows = [("Structure", service["structure"]),
            ("Thématiques", ", ".join(labels.get(t, t) for t in service["themes"])),
            ("Publics", ", ".join(PUBLICS.get(p, p) for p in service["publics"])),
            ("Accueil", ", ".join(MODES.get(m, m) for m in service["modes"])),
            ("Adresse", f"{service['address']} {service['postcode']}".strip()),
            ("Source", service["source"]), ("Mise à jour", french_day(service["updated"]) if service["updated"] else "inconnue")]
    if service["precision"] == "commune":
        rows.append(("Localisation", "approximative (centre de la commune)"))
    body = "".join(f"<br><b>{label}</b> : {html.escape(str(text))}" for label, text in rows if text)
    return f"<b>{html.escape(str(service['name']))}</b>{body}"



def offer_map(topology: Topology, communes_names: pd.Series, services: pd.DataFrame,
              preferred: list[str] = ()) -> tuple[OfflineMap, Legend]:
    """The communes in light grey, and the services coloured by their main theme: the first of
    their themes among `preferred` (the themes filtered on), else their first theme."""
    fmap = choropleth(topology, pd.Series(0.0, index=communes_names.index), [], ["#eef1f4"],
                      {"Commune": communes_names})
    located = services.dropna(subset=["lat", "lon"]).to_dict("records")
    themes = list(THEME_COLOURS)

    def main_theme(service: dict) -> str:
        tops = [top_theme(t) for t in service["themes"]]
        return next((t for t in tops if t in preferred), tops[0])

    mains = [main_theme(s) for s in located]
    points = [[round(s["lat"], 5), round(s["lon"], 5), themes.index(main), service_popup(s),
               s["precision"] == "commune"] for s, main in zip(located, mains, strict=True)]
    ServiceLayer(points, list(THEME_COLOURS.values())).add_to(fmap)
    shown = [t for t in themes if t in mains]
    labels = theme_labels()
    fmap.text = pd.DataFrame({"Service": [s["name"] for s in located],
                              "Thématique principale": [labels[m] for m in mains],
                              "Commune": [communes_names.get(s.get("code_insee"), "") for s in located]})
    return fmap, Legend("Thématique principale", [THEME_COLOURS[t] for t in shown], [labels[t] for t in shown])



def coverage_map(topology: Topology, communes: pd.DataFrame, services: pd.DataFrame,
                 stops: pd.DataFrame | None = None, sites: pd.DataFrame | None = None,
                 target_label: str = "Population", target_texts: pd.Series | None = None,
                 class_labels: list[str] | None = None) -> tuple[OfflineMap, Legend]:
    """Communes coloured by distance (or time) class, white zones in purple, communes that only
    public transport covers in light blue; the services of the theme, the served stops and the
    suggested sites on top."""
    table = communes.set_index("code_insee")
    yes_no = {True: "oui", False: "non"}
    class_labels = class_labels or DISTANCE_LABELS
    on_network = table["road_km"].isna().all()
    tooltip = {"Commune": table["name"]}
    if on_network:
        tooltip["Temps médian des habitants"] = table["minutes"].map(
            lambda v: f"{fmt_number(v, 0)} min" if np.isfinite(v) else "aucun service joignable")
        tooltip["Habitants au-delà du seuil"] = table["white_share"].map(lambda v: f"{fmt_number(v * 100, 0)} %")
    else:
        tooltip["Distance par la route"] = table["road_km"].map(
            lambda v: f"{fmt_number(v)} km" if np.isfinite(v) else "aucun service")
        tooltip["Temps estimé"] = table["minutes"].map(lambda v: f"{fmt_number(v, 0)} min" if np.isfinite(v) else "–")
    tooltip |= {"Service le plus proche": table["nearest"].replace("", "aucun"),
               target_label: target_texts if target_texts is not None else table["target"].map(
                   lambda v: fmt_number(v, 0))}
    if stops is not None:
        tooltip["Arrêt desservi le plus proche"] = table["stop_m"].map(
            lambda v: "aucun" if pd.isna(v) else f"{fmt_number(v, 0)} m")
        tooltip["Desservie par le transport public"] = table["transit_covered"].map(yes_no)
    tooltip["Zone blanche"] = table["white_zone"].map(yes_no)
    labels = [] if sites is None else [
        (lat, lon, f"Site {i + 1} : +{fmt_number(gain, 0)}") for i, (lat, lon, gain)
        in enumerate(zip(sites["lat"], sites["lon"], sites["gain"], strict=True))]
    classes = coverage_classes(communes, class_labels).astype(float)
    fmap = choropleth(topology, classes, [0.5, 1.5, 2.5, 3.5, 4.5], COVERAGE_COLOURS, tooltip, place_labels=labels)
    points = [[round(s["lat"], 5), round(s["lon"], 5), 0, service_popup(s), s["precision"] == "commune"]
              for s in services.dropna(subset=["lat", "lon"]).to_dict("records")]
    with_stops = stops is not None and not stops.empty
    if with_stops:
        points += [[round(lat, 5), round(lon, 5), 1,
                    f"<b>Arrêt {html.escape(str(name))}</b><br>"
                    + ("horaires inconnus" if pd.isna(dep) else f"{fmt_number(dep, 0)} départs un jour de semaine"),
                    False] for lat, lon, name, dep in zip(stops["lat"], stops["lon"], stops["name"],
                                                          stops["departures"], strict=True)]
    ServiceLayer(points, [SERVICE_COLOUR, STOP_COLOUR], cluster=False).add_to(fmap)
    return fmap, coverage_legend(communes, with_stops, class_labels)

