"""The annex on any workspace: an offer without a theme, no offer, no groupings, partial data, odd
values and control characters; each format independent of the others; the settings the group
retained; the completeness of every rate."""

import io
import json
import shutil
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box, mapping

from diagnostic.access.white_zones import CoverageParams
from diagnostic.errors import InputError
from diagnostic.export import formats
from diagnostic.export.annex import AnnexChoice, annex_coverage, annex_tables
from diagnostic.export.formats import build_formats
from diagnostic.offer import write_offer
from diagnostic.workspace import create_workspace, load_workspace, save_retained_coverage
from tests.workspaces import small_workspace, snapshot, write_geojson

TAS = "Territoire d'action sociale"


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "annexe.pdf"
    path.write_bytes(data)
    raw = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(raw.split())


def all_three(ws, choice, tmp_path) -> dict:
    files, failures = build_formats(ws, choice)
    assert not failures, failures
    assert set(files) == {"pdf", "xlsx", "zip"}
    return files


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils absent")


@needs_poppler
def test_an_offer_without_mobility_still_gives_the_three_formats(demo_copy, tmp_path):
    offer = load_workspace(demo_copy).offer
    digital = offer[offer["themes"].map(lambda ts: all(t.startswith("numerique") for t in ts))]
    write_offer(digital, demo_copy / "offer.csv")
    ws = load_workspace(demo_copy)
    files = all_three(ws, AnnexChoice(TAS), tmp_path)
    text = pdf_text(files["pdf"], tmp_path)
    assert "Zones blanches — Mobilité — au-delà de 20 min en voiture (réseau routier)" in text
    assert "Aucun service de cette thématique n'est recensé sur place" in text
    with zipfile.ZipFile(io.BytesIO(files["zip"])) as archive:
        mobility = pd.read_csv(archive.open("zones_blanches_mobilite_20min_route.csv"), sep=";", encoding="utf-8-sig")
    total = mobility.set_index("Territoire").loc["Département"]
    served = total["Communes desservies par le transport public"]  # most people 10 minutes' walk from a bus
    assert total["Communes hors de portée des services"] == len(ws.communes)  # no mobility service at all
    assert served > 0 and total["Communes en zone blanche"] <= len(ws.communes) - served  # the buses still count


@needs_poppler
def test_no_offer_and_no_groupings_each_section_says_why(tmp_path):
    communes = write_geojson(tmp_path / "communes.geojson", [
        ({"code_insee": "34001", "nom": "Abeilhan", "population": 1850}, (3.28, 43.44, 3.32, 43.48)),
        ({"code_insee": "34002", "nom": "Adissan", "population": 1371}, (3.40, 43.52, 3.44, 43.56))])
    ws = create_workspace(tmp_path / "ws", communes, None, None, "Sans regroupement")
    assert ws.groupings.columns.empty and ws.offer.empty
    files = all_three(ws, AnnexChoice("commune"), tmp_path)
    text = pdf_text(files["pdf"], tmp_path)
    for sentence in ("Aucune offre d'insertion n'est recensée", "les zones blanches ne peuvent pas être calculées"):
        assert sentence in text
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert {"communes", "offre", "zones_blanches"} <= set(book.sheetnames)


@needs_poppler
def test_retained_settings_go_into_the_annex_and_a_choice_overrides_them(demo_copy, tmp_path):
    save_retained_coverage(demo_copy, [CoverageParams(("sante",), max_minutes=25, count_remote=True),
                                       CoverageParams(("mobilite",), max_km=15)])
    ws = load_workspace(demo_copy)
    assert [p.label() for p in ws.retained_coverage] == ["Santé — au-delà de 25 min — offre à distance comptée",
                                                          "Mobilité — au-delà de 15 km"]
    tables = {t.key: t for t in annex_tables(ws, AnnexChoice(TAS, sections=["zones_blanches"]))}
    assert list(tables) == ["zones_blanches_sante_25min", "zones_blanches_mobilite_15km"]
    assert "plus de 25 minutes de trajet" in tables["zones_blanches_sante_25min"].note
    assert "l'offre à distance et les zones de diffusion comptent" in tables["zones_blanches_sante_25min"].note
    choice = AnnexChoice(TAS, coverage=(CoverageParams(("numerique",), max_km=7),))
    assert annex_coverage(ws, choice) == (CoverageParams(("numerique",), max_km=7),)
    (demo_copy / "zones_blanches.json").unlink()
    themes = {p.themes[0] for p in annex_coverage(load_workspace(demo_copy), AnnexChoice(TAS))}
    assert "mobilite" in themes and len(themes) >= 10  # every top-level theme of the offer, at 10 km


def test_damaged_retained_settings_are_a_french_message(demo_copy):
    (demo_copy / "zones_blanches.json").write_text('[{"themes": ["inconnue"]}]', encoding="utf-8")
    with pytest.raises(InputError, match="illisibles"):
        load_workspace(demo_copy)


@needs_poppler
def test_a_partial_rate_carries_its_coverage_in_every_format(tmp_path):
    folder = tmp_path / "src"
    ws_path = small_workspace(folder)
    long = folder / "pauvrete.csv"  # Adissan secret: the Biterrois rate rests on Abeilhan only
    long.write_text("code_insee;indicateur;numerateur;denominateur\n34001;taux_pauvrete;300;1800\n"
                    "34002;taux_pauvrete;s;1300\n34144;taux_pauvrete;100;800\n", encoding="utf-8")
    from diagnostic.workspace import import_indicators
    import_indicators(ws_path, long)
    ws = load_workspace(ws_path)
    files = all_three(ws, AnnexChoice("TAS"), tmp_path)
    share = round(100 * 1850 / (1850 + 1371))
    with zipfile.ZipFile(io.BytesIO(files["zip"])) as archive:
        poverty = pd.read_csv(archive.open("profil_taux_pauvrete.csv"), sep=";", decimal=",", encoding="utf-8-sig")
    row = poverty.set_index("Territoire").loc["Biterrois"]
    assert row["Communes renseignées"] == "1 sur 2" and row["Population couverte (%)"] == share
    assert row["Seuil"] == "non significatif"  # 57 % of the people: not compared with the thresholds
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    sheet = book["profil_taux_pauvrete"]
    header = [c.value for c in sheet[3]]
    values = {r[0]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["Biterrois"]["Population couverte (%)"] == share
    text = pdf_text(files["pdf"], tmp_path)
    assert "1 sur 2" in text and "non significatif" in text and "Population couverte" in text
    from diagnostic.profile import commune_card
    card = commune_card(ws, "34001").set_index("Indicateur")
    assert card.loc["Taux de pauvreté", "TAS"] == f"16,7 % (non significatif : {share} % de la population)"


def test_absurd_values_are_refused_at_import_and_nothing_is_written(tmp_path):
    folder = tmp_path / "src"
    ws_path = small_workspace(folder)
    before = snapshot(ws_path)
    from diagnostic.workspace import import_indicators
    for value, message in (("1e20", "hors de toute mesure"), ("inf", "hors de toute mesure")):
        bad = folder / "bad.csv"
        bad.write_text(f"code_insee;indicateur;numerateur;denominateur\n34001;taux_pauvrete;{value};100\n",
                       encoding="utf-8")
        with pytest.raises(InputError, match=message) as error:
            import_indicators(ws_path, bad)
        assert "ligne 2" in error.value.french()
    assert snapshot(ws_path) == before
    geo = tmp_path / "inf.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code_insee": "34001", "nom": "A", "population": "Infinity"},
         "geometry": mapping(box(3.28, 43.44, 3.32, 43.48))}]}), encoding="utf-8")
    with pytest.raises(InputError, match="hors de toute mesure"):
        create_workspace(tmp_path / "new", geo)
    assert not (tmp_path / "new").exists()


@needs_poppler
def test_control_characters_are_cleaned_and_every_export_works(tmp_path):
    communes = write_geojson(tmp_path / "communes.geojson", [
        ({"code_insee": "34001", "nom": "Abeil\x0bhan", "population": 1850}, (3.28, 43.44, 3.32, 43.48)),
        ({"code_insee": "34002", "nom": "Adissan\x0c", "population": 1371}, (3.40, 43.52, 3.44, 43.56))])
    groupings = tmp_path / "groupings.csv"
    groupings.write_text("code_insee;TAS\n34001;Nord\x0bOuest\n34002;CA du Pays de l'Or\x1f\n", encoding="utf-8")
    ws = create_workspace(tmp_path / "ws", communes, None, groupings, "Essai\x0b <b>gras</b>")
    assert ws.commune_names().tolist() == ["Abeil han", "Adissan"]
    assert sorted(ws.groupings["TAS"]) == ["CA du Pays de l'Or", "Nord Ouest"]
    files = all_three(ws, AnnexChoice("TAS", "CA du Pays de l'Or"), tmp_path)
    text = pdf_text(files["pdf"], tmp_path)
    assert "CA du Pays de l'Or" in text and "&#39;" not in text and "&amp;" not in text
    assert "Essai <b>gras</b>" in text  # the workspace name printed as text in the running header


def test_one_format_failing_leaves_the_others_with_a_french_reason(demo_copy, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("/srv/secret/path: boom")

    monkeypatch.setattr(formats, "annex_pdf", broken)
    files, failures = build_formats(load_workspace(demo_copy), AnnexChoice(TAS, sections=["territoire"]))
    assert set(files) == {"xlsx", "zip"} and set(failures) == {"pdf"}
    assert failures["pdf"].startswith("Le document PDF n'a pas pu être produit")
    assert "/srv" not in failures["pdf"] and "boom" not in failures["pdf"]


def test_sessions_chosen_for_the_annex(demo_copy, tmp_path):
    from diagnostic.sessions.store import Store
    store = Store(f"sqlite:///{tmp_path / 'seances.sqlite'}")
    key = load_workspace(demo_copy).key
    _, real = store.create_session("Atelier mobilité", "Claire", "CD", workspace=key)
    _, trial = store.create_session("Séance d'essai", "Claire", "CD", workspace=key)
    store.create_session("Séance d'un autre espace", "Paul", "DDETS", workspace="/ailleurs")
    store.add_finding(real, "Pas de bus le samedi", "manque")
    store.add_finding(trial, "test test", "besoin")
    ws = load_workspace(demo_copy)
    sessions = {s["title"]: s["id"] for s in __import__("diagnostic.sessions.store", fromlist=["x"]).all_sessions(store)}
    choice = AnnexChoice(TAS, sections=["constats", "fiches"], sessions=(sessions["Atelier mobilité"],))
    tables = {t.key: t for t in annex_tables(ws, choice, store)}
    assert tables["constats"].frame["Constat"].tolist() == ["Pas de bus le samedi"]
    assert tables["fiches_actions"].empty_reason.startswith("Aucune fiche-action")


def test_a_huge_offer_is_listed_partly_in_the_pdf_and_whole_elsewhere(demo_copy):
    from diagnostic.export import pdf
    from diagnostic.export.annex import AnnexTable
    from diagnostic.export.svg import MapFrame
    ws = load_workspace(demo_copy)
    rows = pd.DataFrame({"Service": [f"Lieu {n}" for n in range(4000)], "Structure": "", "Thématiques": "",
                         "Commune": "", "Mise à jour": ""})
    blocks = pdf.offer_blocks(ws, ws.communes, [AnnexTable("offre_liste", "offre", "Liste", rows, "Sources.")],
                              MapFrame(ws.communes))
    listing = blocks[-1]
    assert listing["listing"].count("<li>") == pdf.MAX_PDF_LIST
    assert "liste complète est dans l'export Excel et CSV" in listing["note"]


def test_the_printed_list_writes_dates_the_french_way():
    from diagnostic.export.pdf import html_listing
    rows = pd.DataFrame({"Service": ["Lieu A", "Lieu B", "Lieu C"], "Structure": ["CCAS", "", ""],
                         "Thématiques": ["", "", ""], "Commune": ["Brivezac", "", ""],
                         "Mise à jour": ["2025-01-06", "", "juin 2024"]})
    listing = html_listing(rows)
    assert "CCAS · Brivezac · mise\u00a0à\u00a0jour\u00a0:\u00a06\u00a0janvier\u00a02025" in listing
    assert "2025-01-06" not in listing and "mise à jour inconnue" in listing
    assert "mise\u00a0à\u00a0jour\u00a0:\u00a0juin\u00a02024" in listing  # not a date: kept as it is
