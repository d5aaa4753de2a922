"""Map builders: offline Leaflet, escaped texts, light TopoJSON geometry with shared borders."""

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from diagnostic import maps
from diagnostic.maps import leaflet
from diagnostic.territory import LAMBERT93, display_geometry
from diagnostic.topology import encode
from diagnostic.workspace import DEMO_WORKSPACE, load_workspace


@pytest.fixture(scope="module")
def demo():
    ws = load_workspace(DEMO_WORKSPACE)
    return ws, encode(display_geometry(ws.communes), "code_insee")


def render(fmap) -> str:
    return fmap.get_root().render()


def test_map_uses_no_cdn_and_no_tiles(demo):
    ws, topo = demo
    html = render(leaflet.choropleth(topo, ws.communes.set_index("code_insee")["population"], [500],
                                  ["#aaaaaa", "#bbbbbb"], {"Commune": ws.commune_names()}))
    assert leaflet.LEAFLET_JS in html and leaflet.TOPOJSON_JS in html
    assert "cdn." not in html and "tile.openstreetmap" not in html and "code.jquery" not in html


def test_user_text_is_escaped_in_tooltips(demo):
    ws, topo = demo
    names = ws.commune_names().copy()
    names.iloc[0] = '</script><img src=x onerror="alert(1)">'
    html = render(leaflet.choropleth(topo, pd.Series(dtype=float), [], ["#aaaaaa"], {"Commune": names}))
    assert "<img src=x" not in html and "</script><img" not in html
    assert "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_display_geometry_keeps_shared_borders_and_is_light(demo):
    ws, _ = demo
    shapes = display_geometry(ws.communes)
    before = shapely.get_num_coordinates(ws.communes.geometry.to_numpy()).sum()
    after = shapely.get_num_coordinates(shapes.geometry.to_numpy()).sum()
    assert after < before / 2
    metric = shapes.to_crs(LAMBERT93).geometry
    union = shapely.union_all(metric.to_numpy())
    assert abs(union.area - metric.area.sum()) / union.area < 1e-3  # no overlaps
    assert len(shapely.get_parts(union)) == 1 and len(union.interiors) == 0  # no gaps


def decode(topo_json: str) -> dict[str, shapely.Geometry]:
    """An independent TopoJSON decoder (delta arcs, transform) for the tests."""
    topo = json.loads(topo_json)
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(refs):
        points = []
        for ref in refs:
            part = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
            points.extend(part if not points else part[1:])
        return points

    shapes = {}
    for geom in topo["objects"]["shapes"]["geometries"]:
        polygons = [geom["arcs"]] if geom["type"] == "Polygon" else geom["arcs"]
        shapes[geom["id"]] = shapely.MultiPolygon(
            [shapely.Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polygons])
    return shapes


def test_topology_round_trip_and_shared_arcs():
    # three squares side by side and one enclave inside the third
    shapes = gpd.GeoDataFrame({"code": ["a", "b", "c", "d"]}, geometry=[
        box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1).difference(box(2.4, 0.4, 2.6, 0.6)),
        box(2.4, 0.4, 2.6, 0.6)])
    topo = encode(shapes, "code", quantization=3001)
    decoded = decode(topo.to_json({}))
    for code, geom in zip(shapes["code"], shapes.geometry, strict=True):
        assert decoded[code].symmetric_difference(geom).area < 1e-6, code
    # the border a|b is stored once and used by both squares in opposite directions
    refs_a = {r if r >= 0 else ~r for r in topo.shapes["a"][0][0]}
    refs_b = {r if r >= 0 else ~r for r in topo.shapes["b"][0][0]}
    assert refs_a & refs_b


def test_demo_topology_matches_geometry_and_is_small(demo):
    ws, topo = demo
    text = topo.to_json({})
    decoded = decode(text)
    shapes = display_geometry(ws.communes).set_index("code_insee")
    for code in ["00001", "00100", "00200"]:
        assert decoded[code].symmetric_difference(shapes.loc[code, "geometry"]).area < 1e-5
    assert len(text) < len(shapes[["geometry"]].to_json()) / 2.5


def test_class_labels_and_colours():
    assert maps.class_labels([4, 7], "%") == ["jusqu'à 4,0 %", "plus de 4,0 à 7,0 %", "plus de 7,0 %"]
    assert len(maps.class_colours(3, False)) == 3


def test_click_returns_feature_id():
    assert leaflet.clicked_key({"last_active_drawing": {"id": "00012", "properties": {}}}) == "00012"
    assert leaflet.clicked_key(None) is None


def test_missing_values_get_the_no_data_class(demo):
    ws, topo = demo
    values = pd.Series({"00001": float("nan"), "00002": 10.0})
    html = render(leaflet.choropleth(topo, values, [5], ["#111111", "#222222"], {"x": values.astype(str)}))
    assert json.dumps(["#111111", "#222222", maps.NO_DATA_COLOUR]) in html
    assert '"id":"00001","properties":{"c":2' in html and '"id":"00002","properties":{"c":1' in html


def test_group_borders_are_drawn_only_when_groups_are_given(demo):
    ws, topo = demo
    groups = ws.groupings["EPCI"]
    with_groups = render(leaflet.choropleth(topo, pd.Series(dtype=float), [], ["#aaaaaa"], {},
                                         groups=groups))
    without = render(leaflet.choropleth(topo, pd.Series(dtype=float), [], ["#aaaaaa"], {}))
    assert "a.properties.g !== b.properties.g" in with_groups
    assert "a.properties.g !== b.properties.g" not in without
    assert '"g":' in with_groups and '"g":' not in without


def test_group_names_are_written_inside_their_group(demo):
    ws, _ = demo
    groups = ws.groupings["EPCI"].reindex(ws.communes["code_insee"])
    spots = maps.group_label_points(ws.communes, groups)
    assert len(spots) == 8
    for lat, lon, text in spots:
        inside = ws.communes[ws.communes.contains(shapely.Point(lon, lat))]
        assert len(inside) == 1
        assert maps.short_group_name(groups.loc[inside["code_insee"].iloc[0]]) == text
    assert maps.short_group_name("Communauté de communes des Coteaux") == "CC des Coteaux"
    assert maps.short_group_name("Territoire du Centre") == "Centre"


def neighbouring_groups(communes, groups) -> set[tuple[str, str]]:
    """Pairs of groups with two communes that touch, found here commune by commune (no dissolve)."""
    metric = communes.to_crs("EPSG:2154").set_index("code_insee").geometry
    pairs = set()
    codes = list(metric.index)
    tree = shapely.STRtree(metric.to_numpy())
    for i, code in enumerate(codes):
        for j in tree.query(metric.iloc[i].buffer(30), predicate="intersects"):
            a, b = groups[code], groups[codes[j]]
            if a != b:
                pairs.add(tuple(sorted((a, b))))
    return pairs


def test_neighbouring_groups_never_share_a_colour_on_the_demo():
    from diagnostic.maps import group_colours
    from diagnostic.territory import group_of
    from diagnostic.workspace import DEMO_WORKSPACE, load_workspace
    ws = load_workspace(DEMO_WORKSPACE)
    for level in ws.groupings.columns:
        groups = group_of(ws.communes, ws.groupings, level)
        colours = group_colours(ws.communes, groups)
        pairs = neighbouring_groups(ws.communes, groups)
        assert pairs and all(colours[a] != colours[b] for a, b in pairs), level
        assert len(set(colours.values())) <= 5  # a map of regions needs few colours
