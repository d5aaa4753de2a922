"""Exports of the shared diagnostic: CSV bytes, Excel numbers, the PDF annex."""

import re
import shutil
import subprocess
import zipfile
import zlib
from datetime import date

import openpyxl
import pandas as pd
import pytest

from diagnostic.export.annex import AnnexChoice, annex_context, annex_tables, csv_zip
from diagnostic.export.csv import csv_bytes, write_csv_folder
from diagnostic.export.excel import workbook_bytes
from diagnostic.export.pdf import TITLE, annex_pdf
from diagnostic.profile import indicator_profile
from diagnostic.workspace import DEMO_WORKSPACE, load_workspace

TAS = "Territoire d'action sociale"


@pytest.fixture(scope="module")
def ws():
    return load_workspace(DEMO_WORKSPACE)


def test_csv_bytes_are_exactly_what_french_spreadsheets_expect():
    frame = pd.DataFrame({"nom": ["=HYPERLINK(\"x\")", "+33 6", "-2", "@SUM(A1)", "\tcaché", "Épicerie ; « Cœur »"],
                          "effectif": [12, 3, 0, 1500, 7, 2],
                          "taux": [12.5, 0.25, 1.0, 3.0, 10.0, 1 / 3],
                          "valeur": ["secret statistique", "4,2", "", "x", "y", "z"]})
    expected = ("\ufeffnom;effectif;taux;valeur\r\n"
                "\"'=HYPERLINK(\"\"x\"\")\";12;12,5;secret statistique\r\n"
                "'+33 6;3;0,25;4,2\r\n"
                "'-2;0;1,0;\r\n"
                "'@SUM(A1);1500;3,0;x\r\n"
                "'\tcaché;7;10,0;y\r\n"
                "\"Épicerie ; « Cœur »\";2;0,3333333333333333;z\r\n")
    assert csv_bytes(frame) == expected.encode("utf-8")


def test_counts_computed_as_floats_are_written_without_decimals():
    frame = pd.DataFrame({"population": [28583.0, None, 12.0], "taux": [12.5, None, 3.0]})
    assert csv_bytes(frame).decode("utf-8-sig").split("\r\n") == [
        "population;taux", "28583;12,5", ";", "12;3,0", ""]  # a rate keeps its decimals, a count has none


def test_annex_tables_mask_small_counts_as_the_app(ws):
    tables = {t.key: t for t in annex_tables(ws, AnnexChoice("commune", sections=["profil"]))}
    rsa = tables["profil_part_foyers_rsa"].frame
    app = indicator_profile(ws, "part_foyers_rsa", "commune").table
    masked = (rsa["Foyers allocataires du RSA"] == "secret statistique").sum()
    assert masked == (app["secret"] != "").sum() > 0
    shown = pd.to_numeric(rsa["Foyers allocataires du RSA"], errors="coerce").dropna()
    assert ((shown == 0) | (shown >= 5)).all()
    assert "Millésime : décembre 2024" in tables["profil_part_foyers_rsa"].note


def test_territory_choice_keeps_its_rows_and_the_reference(ws):
    tables = {t.key: t for t in annex_tables(ws, AnnexChoice(TAS, "Territoire du Centre"))}
    assert tables["chiffres_cles"].frame["Territoire"].tolist() == ["Territoire du Centre", "Département"]
    centre = set(ws.groupings.index[ws.groupings[TAS] == "Territoire du Centre"])
    assert set(tables["communes"].frame["Code INSEE"]) == centre
    assert set(tables["zones_blanches_mobilite_20min_route"].frame["Territoire"]) == {"Territoire du Centre", "Département"}


def test_csv_folder_has_a_metadata_sidecar(ws, tmp_path):
    tables = annex_tables(ws, AnnexChoice(TAS))
    files = write_csv_folder(tables, tmp_path, annex_context(ws, AnnexChoice(TAS)))
    meta = pd.read_csv(tmp_path / "metadonnees.csv", sep=";", encoding="utf-8-sig")
    assert len(files) == len(tables) + 1 and set(meta["fichier"]) == {f"{t.key}.csv" for t in tables}
    mobility = meta.set_index("fichier").loc["zones_blanches_mobilite_20min_route.csv", "sources_millesimes_parametres"]
    assert "dépasse 20 minutes" in mobility and "en voiture" in mobility  # the threshold and the profile
    assert "© les contributeurs d'OpenStreetMap (ODbL)" in mobility and "carreaux habités de 200 m" in mobility
    with zipfile.ZipFile(__import__("io").BytesIO(csv_zip(tables, "ctx"))) as archive:
        assert "metadonnees.csv" in archive.namelist()


def test_workbook_numbers_are_numbers(ws, tmp_path):
    tables = annex_tables(ws, AnnexChoice(TAS))
    path = tmp_path / "annexe.xlsx"
    path.write_bytes(workbook_bytes(tables, TITLE, "contexte"))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Sommaire" and len(book.sheetnames) == len(tables) + 1
    sheet = book["profil_part_foyers_rsa"]
    header = [c.value for c in sheet[3]]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    value_col = header.index("Valeur (%)")
    centre = rows["Territoire du Centre"]
    assert isinstance(centre[header.index("Foyers allocataires du RSA")], int)
    assert isinstance(centre[value_col], float)
    expected = indicator_profile(ws, "part_foyers_rsa", TAS).table.loc["Territoire du Centre", "value"]
    assert centre[value_col] == pytest.approx(round(expected, 2))
    assert sheet.cell(row=4, column=value_col + 1).number_format == "#,##0.0#"
    assert book["Sommaire"]["A1"].value == TITLE


@pytest.fixture(scope="module")
def annex(ws, tmp_path_factory, output_dir):
    path = tmp_path_factory.mktemp("pdf") / "annexe.pdf"
    path.write_bytes(annex_pdf(ws, AnnexChoice(TAS), today=date(2026, 11, 23)))
    shutil.copy(path, output_dir / "annexe.pdf")
    return path


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils absent")
def test_pdf_annex_has_every_section_and_the_app_numbers(ws, annex):
    info = subprocess.run(["pdfinfo", str(annex)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    assert 12 <= pages <= 40
    text = pdf_text(annex)
    for title in ["Annexe au pacte territorial pour l'insertion", "Sommaire", "Le territoire et ses regroupements",
                  "Profil socio-économique", "L'offre d'insertion", "Zones blanches",
                  "Sources et millésimes des indicateurs", "23 novembre 2026", "données sont fictives"]:
        assert title in text, title
    reference = indicator_profile(ws, "part_foyers_rsa", TAS).reference
    assert f"{reference:.1f}".replace(".", ",") in text  # the département rate shown in the app
    assert "341 637" in text.replace("\u202f", " ")  # the population of the département
    assert f"Page 2 / {pages}" in text


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils absent")
def test_pdf_annex_is_tagged_in_french_with_its_title(annex):
    info = subprocess.run(["pdfinfo", str(annex)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info  # a structure tree screen readers follow
    assert re.search(r"^Title:\s+Annexe au pacte territorial pour l'insertion", info, re.M), info
    objects = b"".join(_inflated(annex.read_bytes()))
    assert b"/Lang (fr)" in objects  # the document language, for speech
    assert b"/MarkInfo <</Marked true>>" in objects and b"/StructTreeRoot" in objects
    assert b"pdfuaid" in objects  # declared PDF/UA in its metadata


def test_pdf_maps_and_charts_carry_their_text_alternative(ws, annex):
    """Each drawing is a tagged figure whose alternative text says what it shows (read aloud by
    screen readers): the maps their title and legend, the charts what their bars are."""
    objects = b"".join(_inflated(annex.read_bytes()))
    alts = [bytes.fromhex(h.decode()).decode("utf-16") for h in re.findall(rb"/Alt <([0-9a-f]+)>", objects)]
    maps, charts = [a for a in alts if a.startswith("Carte : ")], [a for a in alts if a.startswith("Graphique : ")]
    assert len(maps) >= 5 and len(charts) >= 3, alts
    rsa = ws.catalogue["part_foyers_rsa"].label
    assert any(rsa in a and "secret statistique ou non renseigné" in a for a in maps), maps
    assert any("Territoire de Brivezac" in a for a in maps)  # the groups named in the territory map's legend


def test_a_table_wider_than_the_page_is_cut_into_tables_that_fit():
    from diagnostic.export.pdf import MAX_COLUMNS, html_table
    frame = pd.DataFrame({"Territoire": ["A", "B"], **{f"Thème {i}": [i, i + 1] for i in range(17)}})
    tables = re.findall(r"<table.*?</table>", html_table(frame))
    assert len(tables) == 2
    assert all(t.count("<th>") <= MAX_COLUMNS and "<th>Territoire</th>" in t for t in tables)
    assert sum(t.count("<th>") - 1 for t in tables) == 17  # every theme column printed once


def _inflated(raw: bytes):
    """The decompressed streams of a PDF (its catalogue sits in a compressed object stream)."""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.S):
        try:
            yield zlib.decompress(match.group(1))
        except zlib.error:
            yield match.group(1)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils absent")
def test_pdf_first_pages_rendered_for_a_person_to_look_at(annex, output_dir):
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "4", str(annex),
                    str(output_dir / "annexe-page")], check=True)
    assert len(list(output_dir.glob("annexe-page-*.png"))) == 4


def test_annex_includes_the_sessions_findings_sheets_and_stakeholders(ws, tmp_path):
    from diagnostic.sessions.store import Store
    store = Store(f"sqlite:///{tmp_path / 'seances.sqlite'}")
    code, claire = store.create_session("Atelier mobilité", "Claire", "CD", territory="Territoire du Centre",
                                        workspace=ws.key)
    alice = store.join(code, "Alice", "CAF")
    first = store.add_finding(alice, "Pas de bus le samedi", "manque", "mobilite")
    second = store.add_finding(claire, "Un garage solidaire existe", "ressource")
    store.vote(alice, second)
    store.vote(claire, second)
    store.vote(claire, first)
    store.add_sheet(claire, {"title": "Transport à la demande", "pilot": "CD",
                             "indicators": [{"indicateur": "part_menages_sans_voiture", "cible": "15 %"},
                                            {"indicateur": "taux_pauvrete", "cible": float("nan")},  # an empty cell
                                            {"indicateur": None, "cible": None}]})
    store.save_stakeholder(alice, {"name": "CAF", "fit": 4, "impact": 3, "influence": 5,
                                   "modes": {"diagnostic": "co-construction"}})
    other_code, paul = store.create_session("Atelier numérique", "Paul", "DDETS", territory="Territoire de Brivezac",
                                            workspace=ws.key)
    store.add_finding(paul, "Autre territoire", "besoin")
    choice = AnnexChoice(TAS, "Territoire du Centre")
    tables = {t.key: t for t in annex_tables(ws, choice, store)}
    assert tables["constats"].frame["Constat"].tolist() == ["Un garage solidaire existe", "Pas de bus le samedi"]
    assert tables["constats"].frame["Votes"].tolist() == [2, 1]
    label = ws.catalogue["part_menages_sans_voiture"].label  # the indicator's name, never its identifier
    assert tables["fiches_actions"].frame.loc[0, "Indicateurs de suivi"] == (
        f"{label} (cible : 15 %) ; {ws.catalogue['taux_pauvrete'].label}")
    assert tables["parties_prenantes"].frame.loc[0, "Diagnostic"] == "Co-construction"
    pdf = tmp_path / "annexe.pdf"
    pdf.write_bytes(annex_pdf(ws, AnnexChoice(TAS, "Territoire du Centre", ["constats", "fiches", "parties_prenantes"]),
                              store=store))
    if shutil.which("pdftotext"):
        text = pdf_text(pdf)
        for expected in ["Constats partagés, classés par votes", "Un garage solidaire existe", "Fiches-actions",
                         "Transport à la demande", "Parties prenantes et modes de coopération"]:
            assert expected in text, expected
        assert "Autre territoire" not in text


def test_the_pdf_is_laid_out_by_a_worker_whose_time_and_memory_are_bounded():
    from diagnostic.errors import InputError
    from diagnostic.export.typeset import Typesetter

    page = "<html lang='fr'><title>Essai</title><body><p>Bonjour</p></body></html>"
    with Typesetter() as typesetter:
        worker = typesetter._worker
        assert typesetter.pdf(page).startswith(b"%PDF")
    with Typesetter() as typesetter:  # left without a document: stopped, not left behind
        idle = typesetter._worker
    assert worker.poll() == 0 and idle.poll() is not None
    with pytest.raises(InputError, match=r"dépasse 0,3 secondes\. Choisissez un seul territoire"):
        with Typesetter(seconds=0.3) as typesetter:
            typesetter.pdf(page)
    heavy = "<table>" + "".join(f"<tr><td>ligne {i} {'mot ' * 30}</td></tr>" for i in range(3000)) + "</table>"
    with pytest.raises(InputError, match=r"demande plus de 30 Mio de mémoire"):
        with Typesetter(layout_mib=30) as typesetter:
            typesetter.pdf(heavy)
