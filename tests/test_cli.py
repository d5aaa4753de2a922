"""The command line: French help, create and indicators, clean failures."""

import errno
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostic.workspace import DEMO_WORKSPACE, load_workspace

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "diagnostic", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_help_is_in_french():
    result = run("--help")
    assert result.returncode == 0
    assert "utilisation" in result.stdout and "indicators" in result.stdout and "create" in result.stdout


def test_indicators_of_a_level_as_french_csv(tmp_path):
    out = tmp_path / "tas.csv"
    result = run("indicators", "--level", "Territoire d'action sociale", "--out", out)
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out, sep=";", decimal=",", dtype={"code": str}, encoding="utf-8-sig")
    rsa = table[table["indicateur"] == "part_foyers_rsa"]
    assert len(rsa) == 5
    values = pd.read_csv(DEMO_WORKSPACE / "values.csv", dtype={"code_insee": str})
    groups = pd.read_csv(DEMO_WORKSPACE / "groupings.csv", dtype=str).set_index("code_insee")
    rows = values[values["indicator"] == "part_foyers_rsa"].join(groups, on="code_insee")
    sums = rows.groupby("Territoire d'action sociale")[["numerator", "denominator"]].sum()
    expected = (sums["numerator"] / sums["denominator"] * 100).round(2)
    got = rsa.set_index("territoire")["valeur"].astype(float)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_commune_level_masks_small_counts(tmp_path):
    out = tmp_path / "communes.csv"
    assert run("indicators", "--level", "commune", "--out", out).returncode == 0
    table = pd.read_csv(out, sep=";", dtype=str, encoding="utf-8-sig")
    rsa = table[table["indicateur"] == "part_foyers_rsa"]
    assert rsa["code"].str.len().eq(5).all() and rsa["code"].iloc[0] == "00001"
    assert (rsa["valeur"] == "secret statistique").sum() > 0
    shown = pd.to_numeric(rsa["numerateur"], errors="coerce").dropna()
    assert ((shown == 0) | (shown >= 5)).all()


def test_unknown_level_fails_in_french_and_writes_nothing(tmp_path):
    out = tmp_path / "x.csv"
    result = run("indicators", "--level", "Canton", "--out", out)
    assert result.returncode != 0
    assert "niveau inconnu" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_create_then_indicators(tmp_path):
    ws = tmp_path / "ws"
    result = run("create", "--workspace", ws, "--communes", DEMO_WORKSPACE / "communes.geojson",
                 "--indicators", DEMO_WORKSPACE / "values.csv",
                 "--groupings", DEMO_WORKSPACE / "groupings.csv")
    assert result.returncode == 0, result.stderr
    assert "200 communes" in result.stdout
    out = tmp_path / "epci.csv"
    assert run("indicators", "--workspace", ws, "--level", "EPCI", "--out", out).returncode == 0
    assert len(pd.read_csv(out, sep=";", encoding="utf-8-sig")["territoire"].unique()) == 8


@pytest.mark.parametrize("bad_line", ["00001;part_foyers_rsa;abc;10", "1;part_foyers_rsa;1;10"])
def test_create_with_bad_file_reports_line_and_creates_nothing(tmp_path, bad_line):
    indicators = tmp_path / "ind.csv"
    indicators.write_text(f"code_insee;indicateur;numerateur;denominateur\n00002;population;5;\n{bad_line}\n",
                          encoding="utf-8")
    ws = tmp_path / "ws"
    result = run("create", "--workspace", ws, "--communes", DEMO_WORKSPACE / "communes.geojson",
                 "--indicators", indicators)
    assert result.returncode == 1
    assert "ind.csv" in result.stderr and "ligne 3" in result.stderr
    assert "Traceback" not in result.stderr
    assert not ws.exists()


def test_missing_file_is_a_french_error(tmp_path):
    result = run("create", "--workspace", tmp_path / "ws", "--communes", tmp_path / "absent.geojson")
    assert result.returncode == 1 and "introuvable" in result.stderr


def test_import_offer_reports_and_updates_the_workspace(demo_copy):
    fixtures = ROOT / "tests" / "fixtures" / "offer"
    (demo_copy / "offer.csv").unlink()
    result = run("import-offer", "--workspace", demo_copy, fixtures / "datainclusion_structures.csv")
    assert result.returncode == 0, result.stderr
    assert "3 service(s) importé(s)" in result.stdout
    result = run("import-offer", "--workspace", demo_copy, fixtures / "mednum_lieux.csv", "--format", "mednum")
    assert "1 doublon(s) fusionné(s)" in result.stdout and "même SIRET" in result.stdout
    # a partner file: columns recognised by their usual names, the bad line reported
    result = run("import-offer", "--workspace", demo_copy, fixtures / "partenaire_mobilite.csv")
    assert result.returncode == 0 and "1 ligne(s) refusée(s)" in result.stdout
    assert "ligne 4" in result.stderr and "Gestion des déchets" in result.stderr


def test_import_offer_with_no_importable_line_changes_nothing(demo_copy, tmp_path):
    before = (demo_copy / "offer.csv").read_bytes()
    bad = tmp_path / "lieux.csv"
    bad.write_text("nom,thematiques,code_insee\nLieu,mobilite,94001\n", encoding="utf-8")
    result = run("import-offer", "--workspace", demo_copy, bad, "--format", "csv")
    assert result.returncode == 1
    assert "aucune ligne n'a pu être importée" in result.stderr and "ligne 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert (demo_copy / "offer.csv").read_bytes() == before


def test_coverage_writes_communes_with_parameters(tmp_path):
    out = tmp_path / "zb.csv"
    result = run("coverage", "--theme", "mobilite", "--max-km", "8", "--detour", "1.2", "--remote",
                 "--target", "part_foyers_rsa", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "zone blanche" in result.stdout
    table = pd.read_csv(out, sep=";", decimal=",", dtype={"code_insee": str, "population_cible": str},
                        encoding="utf-8-sig")
    assert len(table) == 200 and table["code_insee"].iloc[0] == "00001"
    assert set(table["zone_blanche"]) <= {"oui", "non"}
    assert (table["seuil_km"] == 8).all() and (table["facteur_detour"] == 1.2).all()
    assert (table["offre_a_distance_comptee"] == "oui").all()
    white = table[table["zone_blanche"] == "oui"]
    assert (white["distance_route_km"] > 8).all()
    assert np.allclose(table["distance_route_km"], table["distance_vol_oiseau_km"] * 1.2, atol=0.01)
    shown = pd.to_numeric(table["population_cible"], errors="coerce")
    assert ((shown == 0) | (shown >= 5) | shown.isna()).all()  # small RSA counts are masked
    assert (table["population_cible"] == "secret").any()


@pytest.mark.parametrize("args, message", [
    (["--theme", "transports"], "thématique inconnue"),
    (["--theme", "mobilite", "--detour", "0.5"], "--detour"),
    (["--theme", "mobilite", "--target", "revenu"], "population cible inconnue"),
    (["--theme", "mobilite", "--target", "indice_fragilite_numerique"], "population cible inconnue"),  # an index
])
def test_coverage_bad_arguments(tmp_path, args, message):
    out = tmp_path / "zb.csv"
    result = run("coverage", *args, "--out", out)
    assert result.returncode == 1 and message in result.stderr and not out.exists()


def test_import_gtfs_command(demo_copy, tmp_path):
    from tests.test_coverage import gtfs_zip
    result = run("import-gtfs", "--workspace", demo_copy, gtfs_zip(tmp_path / "bus.zip"))
    assert result.returncode == 0 and "2 arrêt(s) importé(s)" in result.stdout
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"x")
    result = run("import-gtfs", "--workspace", demo_copy, bad)
    assert result.returncode == 1 and "archive zip" in result.stderr
    folder = tmp_path / "car"  # the feed's .txt files in a folder
    folder.mkdir()
    with zipfile.ZipFile(gtfs_zip(tmp_path / "car.zip")) as archive:
        archive.extractall(folder)
    result = run("import-gtfs", "--workspace", demo_copy, folder)
    assert result.returncode == 0 and "2 arrêt(s) importé(s) depuis « car »" in result.stdout


@pytest.mark.parametrize("fmt, name", [("pdf", "annexe.pdf"), ("xlsx", "annexe.xlsx"), ("csv", "tableaux")])
def test_export_in_each_format(tmp_path, fmt, name):
    out = tmp_path / name
    result = run("export", "--format", fmt, "--out", out, "--level", "EPCI")
    assert result.returncode == 0, result.stderr
    if fmt == "pdf":
        assert out.read_bytes().startswith(b"%PDF")
    elif fmt == "xlsx":
        assert zipfile.is_zipfile(out)
    else:
        assert (out / "metadonnees.csv").is_file() and (out / "offre_thematiques.csv").is_file()


def test_export_unknown_territory_fails_cleanly(tmp_path):
    result = run("export", "--format", "xlsx", "--out", tmp_path / "a.xlsx", "--territory", "Atlantide")
    assert result.returncode == 1 and "territoire inconnu" in result.stderr
    assert not (tmp_path / "a.xlsx").exists()


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def no_offer(tmp_path):
    """A workspace created from files, without any offer nor indicator beyond the population."""
    from tests.workspaces import small_workspace
    return small_workspace(tmp_path / "src")


def test_former_tracebacks_are_french_messages_with_status_1(no_offer, tmp_path):
    folder = tmp_path / "dossier"
    folder.mkdir()
    result = run("coverage", "--workspace", no_offer, "--theme", "mobilite", "--out", tmp_path / "zb.csv")
    assert result.returncode == 0, result.stderr  # no offer: every commune is a white zone
    table = pd.read_csv(tmp_path / "zb.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert (table["zone_blanche"] == "oui").all() and (table["service_le_plus_proche"] == "aucun").all()
    for args in (["coverage", "--workspace", no_offer, "--theme", "mobilite", "--out", folder],
                 ["indicators", "--workspace", no_offer, "--level", "TAS", "--out", folder],
                 ["export", "--workspace", no_offer, "--format", "pdf", "--out", folder],
                 ["export", "--workspace", no_offer, "--format", "xlsx", "--out", folder]):
        result = run(*args)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "c'est un dossier" in result.stderr
    existing = tmp_path / "annexe.csv"
    existing.write_text("déjà là", encoding="utf-8")
    result = run("export", "--workspace", no_offer, "--format", "csv", "--out", existing)
    assert result.returncode == 1 and "existe déjà" in result.stderr and "Traceback" not in result.stderr
    assert existing.read_text(encoding="utf-8") == "déjà là"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annexe.csv", "dossier", "src", "zb.csv"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils absent")
def test_annex_without_offer_says_so_in_every_format(no_offer, tmp_path):
    for fmt, name in (("pdf", "a.pdf"), ("xlsx", "a.xlsx"), ("csv", "csv")):
        result = run("export", "--workspace", no_offer, "--format", fmt, "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
    text = " ".join(pdf_text(tmp_path / "a.pdf").split())
    assert "Aucune offre d'insertion n'est recensée" in text
    offer = pd.read_csv(tmp_path / "csv" / "offre.csv", sep=";", encoding="utf-8-sig")
    assert offer["Information"].iloc[0].startswith("Aucune offre")
    from openpyxl import load_workbook
    assert "offre" in load_workbook(tmp_path / "a.xlsx").sheetnames


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils absent")
def test_zones_blanches_option_goes_into_the_pdf(tmp_path):
    out = tmp_path / "annexe.pdf"
    result = run("export", "--format", "pdf", "--out", out, "--level", "EPCI",
                 "--zones-blanches", "mobilite:15km", "--zones-blanches", "sante:25min")
    assert result.returncode == 0, result.stderr
    text = " ".join(pdf_text(out).split())
    assert "Zones blanches — Mobilité — au-delà de 15 km" in text
    assert "Zones blanches — Santé — au-delà de 25 min" in text
    assert "plus de 25 minutes de trajet" in text and "arrêt de transport public desservi" in text
    assert "Numérique — au-delà de 20 min" not in text  # the option replaces the retained settings
    default = tmp_path / "defaut.pdf"
    assert run("export", "--format", "pdf", "--out", default, "--level", "EPCI").returncode == 0
    text = " ".join(pdf_text(default).split())
    assert "Zones blanches — Numérique — au-delà de 20 min" in text  # retained in the demo workspace
    bad = run("export", "--format", "pdf", "--out", tmp_path / "x.pdf", "--zones-blanches", "mobilite:15")
    assert bad.returncode == 1 and "THÉMATIQUE:SEUIL" in bad.stderr and not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("code, message", [(errno.ENOSPC, "disque est plein"), (errno.EROFS, "lecture seule"),
                                           (errno.EACCES, "accès refusé")])
def test_disk_errors_are_french_and_leave_no_file(tmp_path, monkeypatch, capsys, code, message):
    from diagnostic import cli

    def refuse(self, data):
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    status = cli.main(["coverage", "--theme", "mobilite", "--out", str(tmp_path / "zb.csv")])
    err = capsys.readouterr().err
    assert status == 1 and message in err and "Traceback" not in err and str(tmp_path) not in err
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_sessions_database_is_a_french_message(tmp_path, monkeypatch, capsys):
    from sqlalchemy.exc import OperationalError

    from diagnostic import cli

    def unavailable(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("attempt to write a readonly database"))

    monkeypatch.setattr(cli, "Store", unavailable)
    status = cli.main(["export", "--format", "xlsx", "--out", str(tmp_path / "a.xlsx")])
    err = capsys.readouterr().err
    assert status == 1 and "base des séances" in err and "readonly" not in err
    assert not (tmp_path / "a.xlsx").exists()


def test_create_keeps_only_the_chosen_grouping_columns(tmp_path):
    from tests.workspaces import COMMUNES, write_geojson
    contours = write_geojson(tmp_path / "c.geojson", COMMUNES)
    official = tmp_path / "communes.csv"
    official.write_text("code_insee,nom,epci_nom,ept_nom,codes_postaux\n34001,Abeilhan,CC A,,34290\n"
                        "34002,Adissan,CC B,,34230\n34144,Lunas,CC A,,34650\n", encoding="utf-8")
    refused = run("create", "--workspace", tmp_path / "non", "--communes", contours, "--groupings", official)
    assert refused.returncode == 1 and "--colonne" in refused.stderr and not (tmp_path / "non").exists()
    result = run("create", "--workspace", tmp_path / "ws", "--communes", contours, "--groupings", official,
                 "--colonne", "epci_nom=EPCI")
    assert result.returncode == 0 and "niveaux : commune, EPCI" in result.stdout
    ws = load_workspace(tmp_path / "ws")
    assert ws.groupings["EPCI"].to_dict() == {"34001": "CC A", "34002": "CC B", "34144": "CC A"}
    assert ws.communes.set_index("code_insee")["postcodes"].to_dict() == {"34001": "34290", "34002": "34230",
                                                                          "34144": "34650"}
