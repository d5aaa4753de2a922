"""Map builders: offline Leaflet, escaped texts, light geometry with shared borders."""

import pandas as pd
import shapely

from diagnostic import maps
from diagnostic.territory import LAMBERT93, display_geometry
from diagnostic.workspace import DEMO_WORKSPACE, load_workspace


def render(fmap) -> str:
    return fmap.get_root().render()


def demo_map(names=None):
    ws = load_workspace(DEMO_WORKSPACE)
    shapes = display_geometry(ws.communes)
    values = ws.communes.set_index("code_insee")["population"]
    names = names if names is not None else ws.commune_names()
    return maps.choropleth(shapes, "code_insee", values, [500, 2000], ["#a", "#b", "#c"],
                           {"Commune": names})


def test_map_uses_no_cdn_and_no_tiles():
    html = render(demo_map())
    assert maps.LEAFLET_JS in html
    assert "cdn." not in html and "tile.openstreetmap" not in html and "code.jquery" not in html


def test_user_text_is_escaped_in_tooltips():
    ws = load_workspace(DEMO_WORKSPACE)
    names = ws.commune_names().copy()
    names.iloc[0] = '<img src=x onerror="alert(1)">'
    html = render(demo_map(names))
    assert "<img src=x" not in html
    # escaped, then JSON-encoded by folium (& becomes \u0026)
    assert "\\u0026lt;img src=x onerror=\\u0026quot;alert(1)\\u0026quot;\\u0026gt;" in html


def test_display_geometry_keeps_shared_borders_and_is_light():
    ws = load_workspace(DEMO_WORKSPACE)
    shapes = display_geometry(ws.communes)
    before = shapely.get_num_coordinates(ws.communes.geometry.to_numpy()).sum()
    after = shapely.get_num_coordinates(shapes.geometry.to_numpy()).sum()
    assert after < before / 2
    metric = shapes.to_crs(LAMBERT93).geometry
    union = shapely.union_all(metric.to_numpy())
    assert abs(union.area - metric.area.sum()) / union.area < 1e-3  # no overlaps
    assert len(shapely.get_parts(union)) == 1 and len(union.interiors) == 0  # no gaps


def test_class_labels_and_colours():
    assert maps.class_labels([4, 7], "%") == ["jusqu'à 4,0 %", "plus de 4,0 à 7,0 %", "plus de 7,0 %"]
    assert len(maps.class_colours(3, False)) == 3


def test_click_returns_feature_id():
    assert maps.clicked_key({"last_active_drawing": {"id": "00012", "properties": {}}}) == "00012"
    assert maps.clicked_key(None) is None


def test_missing_values_get_the_no_data_colour():
    shapes = display_geometry(load_workspace(DEMO_WORKSPACE).communes).head(2)
    values = pd.Series([float("nan"), 10.0], index=shapes["code_insee"])
    html = render(maps.choropleth(shapes, "code_insee", values, [5], ["#111111", "#222222"],
                                  {"x": values.astype(str)}))
    assert maps.NO_DATA_COLOUR in html and "#222222" in html
