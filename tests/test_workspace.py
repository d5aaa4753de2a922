"""Workspaces: creation from files, string codes, all-or-nothing writes, the demo."""

import json

import pandas as pd
import pytest
from shapely.geometry import box, mapping

from diagnostic.errors import InputError
from diagnostic.profile import indicator_profile, key_figures
from diagnostic.workspace import DEMO_WORKSPACE, create_workspace, load_workspace


def write_communes(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": mapping(box(*bounds))}
        for props, bounds in features]}), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    communes = write_communes(tmp_path / "communes.geojson", [
        ({"code_insee": "01001", "nom": "L'Abergement-Clémenciat", "population": 800}, (4.9, 46.1, 5.0, 46.2)),
        ({"code_insee": "2A004", "nom": "Ajaccio", "population": 70000}, (8.7, 41.9, 8.8, 42.0)),
        ({"code_insee": "2B033", "nom": "Bastia", "population": 48000}, (9.4, 42.6, 9.5, 42.7)),
    ])
    indicators = tmp_path / "indicateurs.csv"
    indicators.write_text("code_insee;indicateur;numerateur;denominateur\n"
                          "01001;part_foyers_rsa;12;340\n"
                          "2A004;part_foyers_rsa;2 100;31 000\n"
                          "2B033;part_foyers_rsa;1500,0;21000\n"
                          "2B033;taux_pauvrete;s;46000\n", encoding="utf-8")
    groupings = tmp_path / "regroupements.csv"
    groupings.write_text("code_insee,Territoire d'action sociale\n01001,Ain\n2A004,Corse\n2B033,Corse\n",
                         encoding="utf-8")
    return communes, indicators, groupings


def test_codes_with_leading_zero_and_corsica_survive_a_round_trip(tmp_path, files):
    ws = create_workspace(tmp_path / "ws", *files)
    again = load_workspace(tmp_path / "ws")
    assert again.communes["code_insee"].tolist() == ["01001", "2A004", "2B033"]
    assert again.groupings.index.tolist() == ["01001", "2A004", "2B033"]
    assert set(again.values["code_insee"]) == {"01001", "2A004", "2B033"}
    assert ws.groupings.loc["2B033", "Territoire d'action sociale"] == "Corse"
    text = (tmp_path / "ws" / "values.csv").read_text(encoding="utf-8")
    assert "01001," in text and "\n1001," not in text


def test_level_is_named_after_the_groupings_column_and_rates_aggregate(tmp_path, files):
    ws = create_workspace(tmp_path / "ws", *files)
    profile = indicator_profile(ws, "part_foyers_rsa", "Territoire d'action sociale")
    assert profile.table.loc["Corse", "value"] == pytest.approx(3600 / 52000 * 100)
    assert profile.reference == pytest.approx(3612 / 52340 * 100)
    poverty = indicator_profile(ws, "taux_pauvrete", "commune").table
    assert pd.isna(poverty.loc["2B033", "value"])  # "s" is a secret, not a zero


@pytest.mark.parametrize("content, expected", [
    ("code_insee;indicateur;numerateur;denominateur\n12;part_foyers_rsa;1;2\n", "ligne 2.*code commune invalide"),
    ("code_insee;indicateur;numerateur;denominateur\n01001;part_foyers_rsa;douze;340\n", "ligne 2.*numerateur.*n'est pas un nombre"),
    ("code_insee;indicateur;numerateur;denominateur\n01001;inconnu;1;2\n", "indicateur inconnu"),
    ("code_insee;indicateur;numerateur;denominateur\n01001;part_foyers_rsa;1;2\n01001;part_foyers_rsa;1;2\n", "ligne 3.*déjà une valeur"),
    ("code_insee;indicateur;numerateur;denominateur\n99999;part_foyers_rsa;1;2\n", "aucune ligne ne concerne"),
    ("commune;valeur\n01001;1\n", "aucune colonne n.est associée"),
    ("", "vide"),
])
def test_bad_indicator_files_are_refused_and_nothing_is_written(tmp_path, files, content, expected):
    communes, indicators, groupings = files
    indicators.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=expected) as info:
        create_workspace(tmp_path / "ws", communes, indicators, groupings)
    assert "indicateurs.csv" in info.value.french()
    assert not (tmp_path / "ws").exists()
    assert not any(p.name.startswith(".ws-") for p in tmp_path.iterdir())


def test_lost_leading_zeros_are_repaired_with_a_warning(tmp_path, files):
    communes = write_communes(tmp_path / "c.geojson", [
        ({"code_insee": 1001, "nom": "A", "population": 10}, (4.9, 46.1, 5.0, 46.2)),
        ({"code_insee": 1002, "nom": "B", "population": 20}, (5.0, 46.1, 5.1, 46.2))])
    indicators = tmp_path / "ind.csv"
    indicators.write_text("code_insee;indicateur;numerateur;denominateur\n1001;part_foyers_rsa;1;2\n", encoding="utf-8")
    ws = create_workspace(tmp_path / "ws", communes, indicators)
    assert ws.communes["code_insee"].tolist() == ["01001", "01002"]
    assert ws.values[ws.values["indicator"] == "part_foyers_rsa"]["code_insee"].tolist() == ["01001"]
    warnings = ws.meta["import_warnings"]
    assert len(warnings) == 2 and "« 1001 » → « 01001 »" in warnings[0] and "ind.csv" in warnings[1]


def test_a_short_code_that_is_no_commune_is_still_refused(tmp_path):
    communes = write_communes(tmp_path / "c.geojson", [
        ({"code_insee": 12, "nom": "A", "population": 10}, (0, 45, 1, 46))])
    with pytest.raises(InputError, match="code commune invalide"):
        create_workspace(tmp_path / "ws", communes)


def test_groupings_must_cover_every_commune(tmp_path, files):
    communes, indicators, groupings = files
    groupings.write_text("code_insee,TAS\n01001,Ain\n2A004,Corse\n", encoding="utf-8")
    with pytest.raises(InputError, match="sans groupe"):
        create_workspace(tmp_path / "ws", communes, indicators, groupings)


def test_existing_workspace_is_never_overwritten(tmp_path, files):
    create_workspace(tmp_path / "ws", *files)
    before = {p.name: p.read_bytes() for p in (tmp_path / "ws").iterdir()}
    with pytest.raises(InputError, match="pas vide"):
        create_workspace(tmp_path / "ws", *files)
    assert before == {p.name: p.read_bytes() for p in (tmp_path / "ws").iterdir()}


def test_cp1252_file_is_read(tmp_path, files):
    communes, indicators, _ = files
    groupings = tmp_path / "g.csv"
    groupings.write_bytes("code_insee;Secteur\n01001;Cœur d’Ain\n2A004;Corse\n2B033;Corse\n".encode("cp1252"))
    ws = create_workspace(tmp_path / "ws", communes, indicators, groupings)
    assert ws.groupings.loc["01001", "Secteur"] == "Cœur d’Ain"


def test_key_figures_end_with_the_departement(tmp_path, files):
    ws = create_workspace(tmp_path / "ws", *files)
    table = key_figures(ws, "Territoire d'action sociale")
    assert table["Territoire"].tolist() == ["Ain", "Corse", "Département"]
    assert table["Population"].tolist() == [800, 118000, 118800]


def test_only_indicators_with_values_are_offered(tmp_path, files):
    ws = create_workspace(tmp_path / "ws", *files)
    assert [i.id for i in ws.indicators_with_data()] == ["population", "part_foyers_rsa"]


def test_commune_card_compares_with_territory_and_departement(tmp_path, files):
    from diagnostic.profile import commune_card
    ws = create_workspace(tmp_path / "ws", *files)
    card = commune_card(ws, "2A004").set_index("Indicateur")
    assert card.loc["Ménages au RSA", "Commune"] == "6,8 %"  # 2 100 / 31 000
    assert card.loc["Ménages au RSA", "Territoire d'action sociale"] == "6,9 %"  # 3 600 / 52 000
    assert card.loc["Ménages au RSA", "Département"] == "6,9 %"
    assert card.loc["Population", "Commune"] == "70\u202f000 habitants"
    # 12 foyers over 340 households is shown, a count of 1 to 4 would not be
    assert commune_card(ws, "01001").set_index("Indicateur").loc["Ménages au RSA", "Commune"] == "3,5 %"


def test_created_workspaces_are_offered_by_name(tmp_path, monkeypatch, files):
    from diagnostic.workspace import available_workspaces, new_workspace_path
    monkeypatch.setenv("PTI_WORKSPACES_DIR", str(tmp_path / "espaces"))
    first = new_workspace_path("Val-de-Marne — diagnostic 2027")
    assert first.name == "val-de-marne-diagnostic-2027"
    create_workspace(first, *files, name="Val-de-Marne — diagnostic 2027")
    assert new_workspace_path("Val-de-Marne — diagnostic 2027").name == "val-de-marne-diagnostic-2027-2"
    (tmp_path / "espaces" / "en-cours").mkdir()  # a folder without workspace.json is not offered
    names = available_workspaces()
    assert list(names.values())[-1] == "Val-de-Marne — diagnostic 2027" and len(names) == 2


@pytest.mark.parametrize("driver, suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".zip")])
def test_boundaries_in_lambert93_from_geopackage_or_zipped_shapefile(tmp_path, driver, suffix):
    import zipfile

    import geopandas as gpd
    demo = gpd.read_file(DEMO_WORKSPACE / "communes.geojson").head(20).to_crs("EPSG:2154")
    demo = demo.rename(columns={"code_insee": "INSEE_COM", "name": "NOM", "population": "POPULATION"})
    demo = demo.drop(columns=[c for c in demo.columns if c == "postcodes"])
    if suffix == ".gpkg":
        path = tmp_path / "communes.gpkg"
        demo.to_file(path, driver=driver)
    else:
        (tmp_path / "shp").mkdir()
        demo.to_file(tmp_path / "shp" / "communes.shp", driver=driver)
        path = tmp_path / "communes.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in (tmp_path / "shp").iterdir():
                archive.write(part, part.name)
    ws = create_workspace(tmp_path / "ws", path)
    assert ws.communes["code_insee"].tolist() == demo["INSEE_COM"].tolist()
    assert ws.communes.crs.to_epsg() == 4326
    assert abs(ws.communes.to_crs("EPSG:2154").area.sum() - demo.area.sum()) / demo.area.sum() < 1e-6


def test_zip_with_a_path_escaping_the_folder_is_refused(tmp_path):
    import zipfile
    path = tmp_path / "communes.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../evil.shp", "x")
    with pytest.raises(InputError, match="chemin dangereux"):
        create_workspace(tmp_path / "ws", path)
    assert not (tmp_path / "ws").exists()


def test_lambert93_coordinates_labelled_as_wgs84_are_refused(tmp_path):
    communes = write_communes(tmp_path / "c.geojson", [
        ({"code_insee": "01001", "nom": "A", "population": 10}, (700000, 6600000, 701000, 6601000))])
    with pytest.raises(InputError, match="en mètres"):
        create_workspace(tmp_path / "ws", communes)


def test_population_points_of_the_boundaries_are_kept_and_used(tmp_path):
    from diagnostic.access.points import demand_points
    from tests.workspaces import COMMUNES, write_geojson
    features = [({**props, "pop_lon": (a + c) / 2 + 0.01, "pop_lat": (b + d) / 2} if props["code_insee"] != "34002"
                 else props, (a, b, c, d)) for props, (a, b, c, d) in COMMUNES]
    ws = create_workspace(tmp_path / "ws", write_geojson(tmp_path / "c.geojson", features))
    points = ws.communes.set_index("code_insee")
    assert points.at["34001", "pop_lon"] == pytest.approx(3.31) and pd.isna(points.at["34002", "pop_lon"])
    demand = demand_points(ws.communes).set_index("code_insee")
    inside = demand_points(ws.communes.drop(columns=["pop_lon", "pop_lat"])).set_index("code_insee")
    assert demand.at["34001", "x"] != pytest.approx(inside.at["34001", "x"])  # the people's point is used
    assert demand.at["34002", "x"] == pytest.approx(inside.at["34002", "x"])  # without one, a point inside
