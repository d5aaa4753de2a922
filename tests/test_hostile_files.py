"""Hostile files are refused within the limits, in French, without exhausting the server: each is
imported in a child process whose peak memory is measured."""

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.workspaces import small_workspace

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CAP_MB = 900  # generous: Python, pandas and geopandas alone take about 250 MB

IMPORT = """
import resource, sys
from diagnostic.errors import InputError
from diagnostic.offer_import import import_offer
from diagnostic.workspace import import_indicators, load_workspace
kind, workspace, path = sys.argv[1:]
try:
    if kind == "offer":
        import_offer(load_workspace(workspace), path)
    else:
        import_indicators(workspace, path)
    print("IMPORTED")
except InputError as exc:
    print("REFUSED", exc.french())
print("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def xlsx_bomb(path: Path) -> Path:
    """A valid workbook whose sheet expands to 300 MB of identical rows (a few hundred kB on disk)."""
    book = Workbook()
    book.active.append(["code_insee", "population_municipale"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, source.read(item))
        with out.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main"><sheetData>')
            row = b'<row><c t="inlineStr"><is><t>34001</t></is></c><c><v>1</v></c></row>'
            for _ in range(300 * 2**20 // len(row) // 1000):
                sheet.write(row * 1000)
            sheet.write(b"</sheetData></worksheet>")
    return path


def huge_csv(path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("code_insee;a;b;c;d\n")
        line = "34001;1;2;3;4\n" * 1000
        for _ in range(1_200):
            handle.write(line)
    return path


def wide_csv(path: Path) -> Path:
    path.write_text("code_insee;" + ";".join(f"v{i}" for i in range(1_000_000)) + "\n34001;" + "1;" * 999_999 + "1\n",
                    encoding="utf-8")
    return path


def bad_offer(path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("nom,thematiques,latitude,longitude\n")
        for n in range(100_000):
            handle.write(f"Lieu {n},numerique,quarante,{n}\n")
    return path


def deep_json(path: Path) -> Path:
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind, maker, expected", [
    ("indicators", xlsx_bomb, "anormalement compressé"), ("indicators", huge_csv, "plus de 1 000 000 lignes"),
    ("indicators", wide_csv, "caractères"), ("offer", bad_offer, "100 000 lignes"),
    ("offer", deep_json, "imbriqué"),
], ids=["xlsx-bomb", "huge-csv", "million-columns", "100000-bad-rows", "deep-json"])
def test_a_hostile_file_is_refused_within_bounded_memory(tmp_path, kind, maker, expected):
    workspace = small_workspace(tmp_path / "base")
    suffix = {"xlsx_bomb": ".xlsx", "deep_json": ".json"}.get(maker.__name__, ".csv")
    path = maker(tmp_path / f"fichier{suffix}")
    result = subprocess.run([sys.executable, "-c", IMPORT, kind, str(workspace), str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "REFUSED" in result.stdout and expected in result.stdout.replace("\u202f", " "), result.stdout
    assert str(tmp_path) not in result.stdout
    peak = int(result.stdout.split("PEAK")[1])
    assert peak < MEMORY_CAP_MB, peak
