"""Formula payloads in every text a user can type or import, through every export: no cell of the
CSV (re-read with Python's csv module) or of the workbook (openpyxl) can run as a formula."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import openpyxl

from diagnostic.open_catalogue import NewIndicator, add_indicator
from diagnostic.offer_import import import_offer
from diagnostic.workspace import create_workspace, load_workspace
from tests.workspaces import COMMUNES, write_geojson

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "ok\r=1+1", "ok\n@x", " =2",
            "=HYPERLINK(\"http://exemple.test\",\"clic\")", "x cmd|'/C notepad'!A1", "＝1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "＝")


def dangerous(text: str) -> bool:
    """A cell a spreadsheet could run: a line starting with a trigger, or a DDE call, unprotected."""
    if text.startswith("'"):
        return False
    lines = re.split(r"\r\n|\r|\n", text)
    return any(line.lstrip(" ").startswith(TRIGGERS) for line in lines) or bool(re.search(r"\w\|.*!", text))


def build(tmp_path) -> Path:
    contours = write_geojson(tmp_path / "c.geojson", COMMUNES)
    groupings = tmp_path / "groupes.csv"
    with open(groupings, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["code_insee", PAYLOADS[8]])
        for (props, _), payload in zip(COMMUNES, PAYLOADS[:3], strict=True):
            writer.writerow([props["code_insee"], payload])
    path = tmp_path / "ws"
    create_workspace(path, contours, None, groupings, PAYLOADS[1])
    offer = tmp_path / "offre.csv"
    with open(offer, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["nom", "thematiques", "code_insee", "adresse", "structure"])
        for n, payload in enumerate(PAYLOADS):
            writer.writerow([f"{payload}", "numerique", COMMUNES[n % 3][0]["code_insee"], payload, payload])
    import_offer(load_workspace(path), offer)
    table = tmp_path / "partenaire.csv"
    table.write_text("code_insee;valeur\n34001;10\n34002;20\n34144;30\n", encoding="utf-8")
    add_indicator(path, table, NewIndicator("indicateur_piege", PAYLOADS[3], ["valeur"], unit="@u",
                                            source=PAYLOADS[5], definition=PAYLOADS[9]))
    return path


def run(*args):
    result = subprocess.run([sys.executable, "-m", "diagnostic", *map(str, args)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def test_no_exported_cell_runs_as_a_formula(tmp_path):
    path = build(tmp_path)
    level = PAYLOADS[8]
    run("export", "--workspace", path, "--format", "csv", "--out", tmp_path / "csv", "--level", level)
    run("export", "--workspace", path, "--format", "xlsx", "--out", tmp_path / "annexe.xlsx", "--level", level)
    run("indicators", "--workspace", path, "--level", level, "--out", tmp_path / "indicateurs.csv")
    cells = 0
    for file in [*sorted((tmp_path / "csv").glob("*.csv")), tmp_path / "indicateurs.csv"]:
        with open(file, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle, delimiter=";"):
                for cell in row:
                    cells += 1
                    assert not dangerous(cell), (file.name, cell)
    book = openpyxl.load_workbook(tmp_path / "annexe.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                cells += 1
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not dangerous(cell.value), (sheet.title, cell.coordinate, cell.value)
    assert cells > 500
    text = (tmp_path / "csv" / "metadonnees.csv").read_text(encoding="utf-8-sig")
    assert "'+cmd|" in text  # the workspace's name is kept, made harmless
