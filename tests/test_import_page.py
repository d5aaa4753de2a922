"""AppTest of the « Importer des données » page on a small real-looking workspace."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from diagnostic.workspace import load_workspace
from tests.test_import import FILOSOFI
from tests.workspaces import small_workspace, snapshot

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/9_Importer_des_donnees.py"


@pytest.fixture
def ws_path(tmp_path, monkeypatch):
    path = small_workspace(tmp_path)
    monkeypatch.setenv("PTI_WORKSPACE", str(path))
    return path


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_insee_table_is_previewed_mapped_and_imported(ws_path):
    at = open_page()
    assert at.title[0].value == "Importer des données"
    at.file_uploader(key="values-file").set_value(("filosofi.csv", FILOSOFI.encode("cp1252"), "text/csv"))
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="values-code").value == "CODGEO"
    assert any("devinée" in m.value for m in at.markdown)
    at.button(key="values-import").click()
    at.run()
    assert not at.exception
    assert "1 indicateur(s) importé(s) depuis « filosofi.csv » (taux_pauvrete)" in at.success[0].value
    assert any("34093 → 34144" in w.value for w in at.warning)
    assert load_workspace(ws_path).values["indicator"].eq("taux_pauvrete").sum() == 3
    at.file_uploader(key="values-file").set_value(("filosofi_2.csv", FILOSOFI.encode(), "text/csv"))
    at.run()
    assert any("reprise de votre dernier import" in m.value for m in at.markdown)


def test_a_bad_table_shows_the_line_to_fix_and_changes_nothing(ws_path):
    at = open_page()
    before = snapshot(ws_path)
    bad = b"CODGEO;population_municipale\n34001;1850\n34002;mille\n34144;832\n"
    at.file_uploader(key="values-file").set_value(("pop.csv", bad, "text/csv"))
    at.run()
    at.button(key="values-import").click()
    at.run()
    assert not at.exception
    assert "ligne 3" in at.error[0].value and "n'est pas un nombre" in at.error[0].value
    assert snapshot(ws_path) == before


def test_a_groupings_column_is_imported_under_its_new_name(ws_path):
    at = open_page()
    table = "code_insee,nom,epci_nom\n34001,Abeilhan,CC A\n34002,Adissan,CA B\n34144,Lunas,CC A\n".encode()
    at.file_uploader(key="groups-file").set_value(("communes.csv", table, "text/csv"))
    at.run()
    assert not at.button(key="groups-import").disabled  # the EPCI column is recognised and chosen
    at.session_state["groups-columns"] = {"edited_rows": {0: {"Importer": False}}, "added_rows": [],
                                          "deleted_rows": []}
    at.run()
    assert at.button(key="groups-import").disabled  # nothing chosen
    at.session_state["groups-columns"] = {"edited_rows": {0: {"Importer": True, "Nom du niveau": "EPCI"}},
                                          "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="groups-import").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Niveau(x) importé(s) : EPCI." in at.success[0].value
    assert load_workspace(ws_path).groupings["EPCI"].to_dict() == {"34001": "CC A", "34002": "CA B", "34144": "CC A"}


def test_a_level_is_drawn_from_selected_communes(ws_path):
    at = open_page()
    at.selectbox(key="draw-level").set_value("+ nouveau niveau")
    at.run()
    at.text_input(key="draw-new-level").input("Bassins de vie")
    at.multiselect(key="draw-list").set_value(["34001", "34002"])
    at.text_input(key="draw-group").input("Biterrois")
    at.run()
    at.button(key="draw-assign").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "2 commune(s) affectée(s) au groupe « Biterrois » du niveau « Bassins de vie »" in at.success[0].value
    groups = load_workspace(ws_path).groupings["Bassins de vie"].to_dict()
    assert groups == {"34001": "Biterrois", "34002": "Biterrois", "34144": "Non affectée"}


OFFRE = "pages/4_Offre_d_insertion.py"
FRANCE_SERVICES = b"id_fs,lib_fs,insee_com,latitude,longitude\n11,France services Abeilhan,34001,43.46,3.30\n"
AIDANTS = (b"Name,City Insee Code,Zip Code,City\nCCAS Abeilhan,34001,34290,Abeilhan\n"
           b"Mairie de Lunas,,34650,LUNAS LES CHATEAUX\nCCAS Cr\xc3\xa9teil,94028,94000,Cr\xc3\xa9teil\n")


def format_of(at):
    return next(s for s in at.selectbox if s.label.startswith("Format"))


def import_button(at):
    return next(b for b in at.button if b.label == "Importer")


def test_two_offer_files_of_different_formats_one_after_the_other(ws_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(OFFRE)
    at.run()
    at.file_uploader(key="offer-file").set_value(("liste-fs-2022-12-01.csv", FRANCE_SERVICES, "text/csv"))
    at.run()
    assert not at.exception and format_of(at).value == "france-services"
    import_button(at).click()
    at.run()
    assert not at.exception and "1 service(s) importé(s)" in at.success[0].value
    # the next file is guessed again: a partner list, without themes
    at.file_uploader(key="offer-file").set_value(("aidants_connect.csv", AIDANTS, "text/csv"))
    at.run()
    assert not at.success  # the previous file's report is gone
    assert format_of(at).value == "csv"
    assert [s.value for s in at.selectbox if s.label == "Code INSEE de la commune"] == ["City Insee Code"]
    import_button(at).click()
    at.run()
    assert "thématique pour tout le fichier" in at.error[0].value
    next(s for s in at.selectbox if s.label == "Thématique").set_value("numerique")
    at.run()
    import_button(at).click()
    at.run()
    assert not at.exception
    assert "2 service(s) importé(s)" in at.success[0].value and "1 ligne(s) d'autres territoires" in at.success[0].value
    offer = load_workspace(ws_path).offer.set_index("name")
    assert offer.at["Mairie de Lunas", "code_insee"] == "34144" and offer.at["Mairie de Lunas", "themes"] == ["numerique"]
    assert len(offer) == 3


def test_a_territory_is_created_with_chosen_groupings_and_next_steps(tmp_path, monkeypatch):
    from tests.workspaces import COMMUNES, write_geojson
    monkeypatch.setenv("PTI_WORKSPACES_DIR", str(tmp_path / "espaces"))
    contours = write_geojson(tmp_path / "contours.geojson", COMMUNES).read_bytes()
    official = ("code_insee,nom,departement,arrondissement,epci_siren,epci_nom,codes_postaux\n"
                "34001,Abeilhan,34,343,200071058,CC Les Avant-Monts,34290\n"
                "34002,Adissan,34,343,243400694,CA Hérault Méditerranée,34230\n"
                "34144,Lunas,34,342,200017341,CC Grand Orb,34650\n").encode()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/8_Nouveau_territoire.py")
    at.run()
    at.text_input[0].input("Hérault (essai)")
    at.file_uploader(key="new-communes").set_value(("contours.geojson", contours, "application/geo+json"))
    at.file_uploader(key="new-groupings").set_value(("communes.csv", official, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="new-create").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Espace de travail « Hérault (essai) » créé : 3 communes" in at.success[0].value
    assert any(s.value == "Prochaines étapes" for s in at.subheader)
    assert any("Aucun indicateur en dehors de la population" in m.value for m in at.markdown)
    ws = load_workspace(tmp_path / "espaces" / "herault-essai")
    assert list(ws.groupings.columns) == ["EPCI"]  # only the column recognised, under its usual name
    assert ws.communes.set_index("code_insee")["postcodes"]["34144"] == "34650"


def test_a_refused_boundaries_file_leaves_no_folder(tmp_path, monkeypatch):
    from tests.workspaces import COMMUNES, write_geojson
    monkeypatch.setenv("PTI_WORKSPACES_DIR", str(tmp_path / "espaces"))
    swapped = [(props, (b, a, d, c)) for props, (a, b, c, d) in COMMUNES]  # (lat, lon) order
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/8_Nouveau_territoire.py")
    at.run()
    at.text_input[0].input("Inversé")
    at.file_uploader(key="new-communes").set_value(
        ("contours.geojson", write_geojson(tmp_path / "c.geojson", swapped).read_bytes(), "application/geo+json"))
    at.run()
    at.button(key="new-create").click()
    at.run()
    assert not at.exception and "semblent inversées" in at.error[0].value
    assert not (tmp_path / "espaces").exists() or list((tmp_path / "espaces").iterdir()) == []


GTFS = {"stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,Abeilhan centre,43.46,3.30\nB,Adissan,43.54,3.42\n"
                     "C,Béziers,43.34,3.21\n",
        "trips.txt": "route_id,service_id,trip_id\nR,S,t1\nR,S,t2\nR,S,t3\nR,S,t4\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          + "".join(f"t{n},08:00:00,08:00:00,A,1\nt{n},08:20:00,08:20:00,C,2\n" for n in range(1, 5))
                          + "t1,09:00:00,09:00:00,B,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                        "S,1,1,1,1,1,0,0,20260101,20261231\n"}


def test_a_gtfs_feed_is_uploaded_as_its_txt_files_then_as_a_zip(ws_path):
    import io
    import zipfile
    at = open_page()
    at.file_uploader(key="gtfs-files").set_value([(name, text.encode("utf-8-sig"), "text/plain")
                                                  for name, text in GTFS.items()])
    at.text_input(key="gtfs-name").input("Réseau essai")
    at.run()
    at.button(key="gtfs-import").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    summary = at.success[0].value
    assert "2 arrêt(s) importé(s) depuis « Réseau essai »" in summary and "1 arrêt(s) desservi(s)" in summary
    assert "1 arrêt(s) hors du territoire" in summary
    stops = load_workspace(ws_path).stops.set_index("stop_id")
    assert stops.loc["A", "departures"] == 4 and stops.loc["A", "code_insee"] == "34001"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("stops.txt", GTFS["stops.txt"])
    at.file_uploader(key="gtfs-files").set_value([("car.zip", archive.getvalue(), "application/zip")])
    at.run()
    at.button(key="gtfs-import").click()
    at.run()
    assert "pas d'horaires" in at.success[0].value
    assert sorted(load_workspace(ws_path).stops["feed"].unique()) == ["Réseau essai", "car.zip"]


def test_no_uploaded_file_stays_on_disk(ws_path):
    import tempfile
    before = set(Path(tempfile.gettempdir()).glob("pti-upload-*"))
    at = open_page()
    bad = b"nom;prenom;code_insee\nMartin;Lea;34001\n"
    at.file_uploader(key="values-file").set_value(("beneficiaires.csv", bad, "text/csv"))
    at.run()
    assert "données personnelles" in at.error[0].value
    at.file_uploader(key="values-file").set_value(("filosofi.csv", FILOSOFI.encode("cp1252"), "text/csv"))
    at.run()
    at.button(key="values-import").click()
    at.run()
    at.run()
    assert set(Path(tempfile.gettempdir()).glob("pti-upload-*")) <= before


def test_roads_and_grid_are_imported_from_the_page_then_white_zones_are_in_minutes(ws_path, tmp_path):
    from tests.osm_writer import write_osm
    from tests.test_grid import official_csv
    extract = write_osm(tmp_path / "occitanie.osm.pbf", [([(3.285, 43.46), (3.32, 43.46)], {"highway": "residential"})])
    at = open_page()
    at.file_uploader(key="roads-file").set_value([("occitanie.osm.pbf", extract.read_bytes(), "application/octet-stream")])
    at.run()
    at.button(key="roads-import").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Réseau importé : 1 voies autour du territoire" in at.success[0].value
    grid = official_csv(tmp_path / "carreaux_2021.csv")
    at.file_uploader(key="grid-file").set_value([("carreaux_2021.csv", grid.read_bytes(), "text/csv")])
    at.run()
    at.button(key="grid-import").click()
    at.run()
    assert "4 carreaux de 200 m importés (2 communes)" in at.success[0].value
    assert any("occitanie.osm.pbf" in c.value for c in at.caption)  # the page lists what the workspace has
    fake = tmp_path / "faux.osm.pbf"
    fake.write_bytes(b"PK\x03\x04 pas un extrait")
    at.file_uploader(key="roads-file").set_value([("faux.osm.pbf", fake.read_bytes(), "application/octet-stream")])
    at.run()
    at.button(key="roads-import").click()
    at.run()
    assert "n'est pas un extrait OpenStreetMap" in at.error[0].value
    assert "occitanie.osm.pbf" in load_workspace(ws_path).path.joinpath("reseau", "reseau.json").read_text()
