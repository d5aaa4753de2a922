"""The insertion offer: importers of each format, placement, deduplication, inventory tables."""

from pathlib import Path

import pandas as pd
import pytest

from diagnostic.errors import InputError
from diagnostic.maps.leaflet import service_popup
from diagnostic.offer import OfferFilter, filter_offer, merge_offer, read_offer, theme_table, update_records
from diagnostic.offer_import import import_offer
from diagnostic.workspace import load_workspace

FIXTURES = Path(__file__).parent / "fixtures" / "offer"


@pytest.fixture
def ws(tmp_path, demo_copy):
    """The demo workspace without its offer."""
    (demo_copy / "offer.csv").unlink()
    return load_workspace(demo_copy)


def reload(ws):
    return load_workspace(ws.path)


def by_name(ws):
    return reload(ws).offer.set_index("name")


def test_datainclusion_structures_are_placed_and_themes_translated(ws):
    report = import_offer(ws, FIXTURES / "datainclusion_structures.csv")
    assert report.format == "datainclusion" and report.imported == 3 and not report.errors
    offer = by_name(ws)
    emploi = offer.loc["Espace emploi de Valmorin"]
    assert emploi["themes"] == ["numerique--maitriser-les-fondamentaux-du-numerique", "preparer-sa-candidature"]
    assert emploi["publics"] == ["jeunes", "tous-publics"]
    assert (emploi["code_insee"], emploi["precision"]) == ("00103", "exacte")
    garage = offer.loc["Garage solidaire de Brivezac"]  # no coordinates: centre of its commune
    assert (garage["code_insee"], garage["precision"]) == ("00052", "commune")
    assert garage["themes"] == ["numerique--acquerir-un-equipement"]
    accueil = offer.loc["Accueil de jour"]  # coordinates only: commune found by the polygons
    assert accueil["code_insee"] == "00001" and "a-distance" in accueil["modes"]
    assert accueil["source"] == "data·inclusion (siao)" and accueil["updated"] == "2023-02-01"


def test_datainclusion_services_sit_at_their_structure(ws):
    import_offer(ws, FIXTURES / "datainclusion_structures.csv")
    report = import_offer(reload(ws), FIXTURES / "datainclusion_services.json")
    assert report.imported == 2
    assert [(e.line, e.field) for e in report.errors] == [(4, "structure_id")]
    assert "importez d'abord" in report.errors[0].reason
    offer = by_name(ws)
    cv = offer.loc["Atelier CV"]
    assert cv["structure"] == "Espace emploi de Valmorin" and cv["code_insee"] == "00103"
    assert cv["publics"] == ["jeunes"]
    assert offer.loc["Réparation de véhicules", "themes"] == ["mobilite"]
    assert offer.loc["Réparation de véhicules", "publics"] == ["beneficiaires-des-minimas-sociaux"]


def test_mednum_places_merge_with_datainclusion_on_siret(ws):
    import_offer(ws, FIXTURES / "datainclusion_structures.csv")
    report = import_offer(reload(ws), FIXTURES / "mednum_lieux.csv")
    assert report.format == "mednum" and report.imported == 3
    assert [(m.kept_name, m.merged_name) for m in report.merges] == [
        ("Espace emploi de Valmorin", "ESPACE EMPLOI DE VALMORIN")]
    assert report.merges[0].reason == "même SIRET (12345678900011)"
    offer = reload(ws).offer.set_index("id")
    kept = offer.loc["datainclusion:s-1"]
    assert kept["merged_from"] == ["mednum:m-1"] and kept["capacity"] == 2
    assert kept["source"] == "data·inclusion (dora) + Médiation numérique (conseiller-numerique)"
    assert "numerique--maitriser-les-fondamentaux-du-numerique" in kept["themes"]
    assert len(offer) == 5
    no_point = offer.loc["mednum:m-3"]  # postcode 00300 belongs to one commune only
    assert (no_point["code_insee"], no_point["precision"]) == ("00052", "commune")


def test_reimporting_a_file_updates_instead_of_duplicating(ws):
    import_offer(ws, FIXTURES / "mednum_lieux.csv")
    import_offer(reload(ws), FIXTURES / "mednum_lieux.csv")
    assert len(reload(ws).offer) == 3


def test_france_services_list(ws):
    report = import_offer(ws, FIXTURES / "france_services_2022-12-01.csv")
    assert report.format == "france-services" and report.imported == 2
    offer = by_name(ws)
    bus = offer.loc["Bus France services du Département"]
    assert bus["modes"] == ["itinerant"] and bus["updated"] == "2022-12-01"
    assert "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives" in bus["themes"]


PARTNER_MAPPING = {"name": "Nom du service", "themes": "Thème", "code_insee": "Commune",
                   "postcode": "CP", "address": "Adresse"}


def test_partner_file_with_column_mapping(ws):
    report = import_offer(ws, FIXTURES / "partenaire_mobilite.csv", "csv", PARTNER_MAPPING)
    assert report.imported == 2
    assert [(e.line, e.field) for e in report.errors] == [(4, "Thème")]
    assert "thématique inconnue « Gestion des déchets »" in report.errors[0].reason
    offer = by_name(ws)
    assert offer.loc["Permis solidaire", "themes"] == ["mobilite"]  # a French label is understood
    assert offer.loc["Café numérique", "code_insee"] == "00052"
    assert offer.loc["Permis solidaire", "source"] == "Partenaire : partenaire_mobilite.csv"


def test_partner_file_in_cp1252_with_usual_column_names(ws, tmp_path):
    path = tmp_path / "offre_ccas.csv"
    path.write_bytes("nom;thematiques;commune;date_maj\nÉpicerie sociale « Cœur »;"
                     "equipement-et-alimentation--alimentation;00150;2024-05-02\n"
                     "Permanence CAF;difficultes-administratives-ou-juridiques;MONTFERENS;2024-05-02\n"
                     .encode("cp1252"))
    report = import_offer(ws, path)
    assert report.format == "csv" and report.imported == 2
    offer = by_name(ws)
    assert offer.index.tolist() == ["Épicerie sociale « Cœur »", "Permanence CAF"]
    assert offer.loc["Permanence CAF", "code_insee"] == "00150"  # found by the commune's name


def test_partner_excel_file(ws, tmp_path):
    path = tmp_path / "offre.xlsx"
    pd.DataFrame({"nom": ["Chantier d'insertion"], "thematiques": ["trouver-un-emploi"],
                  "latitude": [46.09034], "longitude": [2.58709]}).to_excel(path, index=False)
    report = import_offer(ws, path)
    assert report.imported == 1 and by_name(ws).loc["Chantier d'insertion", "code_insee"] == "00150"


@pytest.mark.parametrize("lat, lon, expected", [
    ("3.11604", "46.20139", "inversées"),
    ("40.7128", "-74.0060", "n'est pas en France"),
    ("6570000", "705000", "Lambert-93"),
    ("quarante-six", "3", "illisibles"),
])
def test_bad_coordinates_are_reported_per_line(ws, tmp_path, lat, lon, expected):
    path = tmp_path / "points.csv"
    path.write_text(f"nom,thematiques,latitude,longitude\nBon,mobilite,46.20139,3.11604\nMauvais,mobilite,{lat},{lon}\n",
                    encoding="utf-8")
    report = import_offer(ws, path)
    assert report.imported == 1
    assert len(report.errors) == 1 and report.errors[0].line == 3 and expected in report.errors[0].reason


BAD_FILES = {
    "vide": ("", "vide"),
    "entete seule": ("nom,thematiques,latitude,longitude\n", "aucune ligne"),
    "mauvaises colonnes": ("a,b,c\n1,2,3\n", "colonnes introuvables"),
    "aucune ligne valable": ("nom,thematiques,code_insee\nX,inconnue,00150\nY,mobilite,99999\n",
                             "aucune ligne n'a pu être importée"),
}


@pytest.mark.parametrize("fmt", ["datainclusion", "mednum", "france-services", "csv"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_change_nothing(ws, tmp_path, fmt, case):
    import_offer(ws, FIXTURES / "mednum_lieux.csv")
    before = (ws.path / "offer.csv").read_bytes()
    content, _ = BAD_FILES[case]
    path = tmp_path / "mauvais.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_offer(reload(ws), path, fmt)
    assert "mauvais.csv" in info.value.french()
    assert (ws.path / "offer.csv").read_bytes() == before


def test_unreadable_json_is_refused(ws, tmp_path):
    path = tmp_path / "structures.json"
    path.write_text("[{\"id\": 1,", encoding="utf-8")
    with pytest.raises(InputError, match="illisible"):
        import_offer(ws, path, "datainclusion")
    assert not (ws.path / "offer.csv").exists()


def record(**values):
    base = {"id": "x", "name": "Lieu", "structure": "", "siret": "", "themes": ["numerique"], "publics": [],
            "modes": ["en-presentiel"], "zone_type": "", "zone_code": "", "address": "", "postcode": "",
            "code_insee": "00103", "lat": 46.2, "lon": 3.1, "precision": "exacte", "source": "A",
            "updated": "", "capacity": float("nan"), "merged_from": []}
    return {**base, **values}


def test_same_name_merges_only_when_close_and_from_another_source():
    existing = pd.DataFrame([record(id="a:1", name="Maison France services", source="A")])
    near = record(id="b:1", name="MAISON FRANCE-SERVICES", source="B", lat=46.2009)  # 100 m north
    far = record(id="b:2", name="Maison France services", source="B", lat=46.21)  # 1.1 km north
    same_source = record(id="a:2", name="Maison France services", source="A")
    result = merge_offer(existing, pd.DataFrame([near, far, same_source]))
    assert [(m.kept, m.merged) for m in result.merges] == [("a:1", "b:1")]
    assert len(result.offer) == 3


def test_services_of_one_structure_are_not_merged_on_its_siret():
    existing = pd.DataFrame([record(id="a:1", name="Lieu numérique", siret="123", source="A")])
    other_theme = record(id="b:1", name="Permis", siret="123", source="B", themes=["mobilite"])
    assert merge_offer(existing, pd.DataFrame([other_theme])).merges == []


def test_popup_shows_a_hostile_name_as_text():
    popup = service_popup(record(name="<img src=x onerror=alert(1)>", structure="<b>x</b>"))
    assert "<img" not in popup and "&lt;img src=x onerror=alert(1)&gt;" in popup
    assert "&lt;b&gt;x&lt;/b&gt;" in popup


def test_theme_table_counts_and_rates():
    offer = pd.DataFrame([record(id="1", code_insee="a1", themes=["mobilite--preparer-un-permis", "mobilite"]),
                          record(id="2", code_insee="a2", themes=["numerique"]),
                          record(id="3", code_insee="b1", themes=["mobilite"]),
                          record(id="4", code_insee="", themes=["mobilite"], modes=["a-distance"])])
    groups = pd.Series({"a1": "A", "a2": "A", "b1": "B"})
    population = pd.Series({"a1": 15_000, "a2": 5_000, "b1": 2_000})
    rsa = pd.Series({"a1": 300, "a2": 100, "b1": 0})
    table = theme_table(offer, groups, population, rsa).set_index(["territory", "theme"])
    assert table.loc[("A", "mobilite"), "services"] == 1  # one service, two mobility sub-themes
    assert table.loc[("A", "mobilite"), "per_10000"] == pytest.approx(0.5)
    assert table.loc[("A", "numerique"), "per_100_rsa"] == pytest.approx(0.25)
    assert table.loc[("B", "numerique"), "services"] == 0  # a missing theme is a zero, not absent
    assert pd.isna(table.loc[("B", "mobilite"), "per_100_rsa"])  # no RSA household: no rate


def test_filters_combine():
    offer = pd.DataFrame([record(id="1", themes=["mobilite--preparer-un-permis"], publics=["jeunes"]),
                          record(id="2", themes=["numerique"], modes=["itinerant"], code_insee="00052"),
                          record(id="3", themes=["mobilite"], publics=["tous-publics"], modes=["a-distance"],
                                 code_insee="")])
    assert filter_offer(offer, OfferFilter(themes=["mobilite"]))["id"].tolist() == ["1", "3"]
    assert filter_offer(offer, OfferFilter(subtheme="mobilite--preparer-un-permis"))["id"].tolist() == ["1"]
    assert filter_offer(offer, OfferFilter(public="jeunes"))["id"].tolist() == ["1", "3"]
    assert filter_offer(offer, OfferFilter(modes=["itinerant"]))["id"].tolist() == ["2"]
    assert filter_offer(offer, OfferFilter(communes=["00052"]))["id"].tolist() == ["2", "3"]


def test_demo_offer_is_plausible():
    from diagnostic.workspace import DEMO_WORKSPACE
    demo = load_workspace(DEMO_WORKSPACE)
    offer = demo.offer
    assert 200 <= len(offer) <= 400
    assert {"itinerant", "a-distance", "en-presentiel"} <= {m for ms in offer["modes"] for m in ms}
    per_commune = offer["code_insee"].value_counts()
    towns = demo.communes.nlargest(4, "population")["code_insee"]
    assert per_commune.reindex(towns).fillna(0).min() >= 10  # services cluster in towns
    assert (~demo.communes["code_insee"].isin(offer["code_insee"])).sum() > 100  # rural white zones
    assert read_offer(DEMO_WORKSPACE / "offer.csv")["id"].is_unique


def test_an_older_list_never_overwrites_a_newer_one():
    existing = pd.DataFrame([record(id="fs:1", name="France services (2022)", updated="2022-12-01")])
    older = record(id="fs:1", name="France services (2020)", updated="2020-09-01")
    newer = record(id="fs:1", name="France services (2024)", updated="2024-01-01")
    kept = update_records(existing, pd.DataFrame([older]), {"00"})
    assert kept.records["name"].tolist() == ["France services (2022)"]
    assert "plus ancienne" in kept.stale[0] and kept.applied == 0
    assert update_records(existing, pd.DataFrame([newer]), {"00"}).records["name"].tolist() == ["France services (2024)"]


def test_a_point_of_another_departement_is_ignored_and_listed(ws, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("nom,thematiques,latitude,longitude,code_postal\nBon,mobilite,46.20139,3.11604,\n"
                    "Créteil,mobilite,48.79,2.45,94000\nAilleurs,mobilite,48.80,2.46,\n", encoding="utf-8")
    report = import_offer(ws, path)
    assert report.imported == 1 and report.errors == []
    assert [(e.line, "94" in e.reason) for e in report.ignored] == [(3, True), (4, False)]
    assert "2 ligne(s) d'autres territoires ignorée(s)" in report.summary()


def test_partner_codes_without_leading_zero_are_understood(tmp_path):
    from diagnostic.workspace import create_workspace
    import json as _json
    from shapely.geometry import box, mapping
    communes = tmp_path / "c.geojson"
    communes.write_text(_json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code_insee": "01001", "nom": "A", "population": 10},
         "geometry": mapping(box(4.9, 46.1, 5.0, 46.2))}]}), encoding="utf-8")
    ws = create_workspace(tmp_path / "ws", communes)
    path = tmp_path / "offre.csv"
    path.write_text("nom;thematiques;code_insee\nPermanence;mobilite;1001\n", encoding="utf-8")
    assert import_offer(ws, path).imported == 1
    assert load_workspace(ws.path).offer["code_insee"].tolist() == ["01001"]


def test_the_heatmap_writes_the_chosen_measure_and_slants_many_territories():
    from diagnostic.charts import theme_heatmap
    table = pd.DataFrame({"territory": [f"CC du Pays {i}" for i in range(17) for _ in range(2)],
                          "theme": ["numerique", "mobilite"] * 17, "services": [i % 3 for i in range(34)],
                          "per_10000": [i / 3 for i in range(34)], "per_100_rsa": [0.0] * 34})
    layers = theme_heatmap(table, "per_10000").to_dict()["layer"]
    assert layers[1]["encoding"]["text"] == {"field": "valeur", "format": ".1f", "type": "quantitative"}
    assert layers[0]["encoding"]["x"]["axis"]["labelAngle"] == -40  # 17 names side by side would overlap
    few = theme_heatmap(table[table["territory"].isin(["CC du Pays 1", "CC du Pays 2"])], "services").to_dict()["layer"]
    assert few[1]["encoding"]["text"]["format"] == ",.0f" and few[0]["encoding"]["x"]["axis"]["labelAngle"] == 0
