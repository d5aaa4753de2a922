"""Real open data (PTI_REAL_DATA): a chargé de mission builds Hérault and Val-de-Marne from the raw
files, in the order the home page suggests, with the command line a user has: the official communes
list as indicators and as groupings (its postcodes come with it), then every offer file of the pack,
including the lists without themes. The figures are compared with computations written here from
the raw files."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostic.offer_import import commune_key
from diagnostic.workspace import load_workspace

ROOT = Path(__file__).resolve().parent.parent
OFFER = [("france_services_2020-09_94_34.csv", []), ("france_services_2022-12-01_94_34.csv", []),
         ("data_inclusion_structures_2023-02_94_34.csv", []), ("data_inclusion_services_2022-12_94_34.csv", []),
         ("cnfs_lieux_mediation_numerique_2022-12_94_34.csv", []),
         ("cnfs_structures_conventionnees_2023-04_94_34.csv", ["--theme", "numerique"]),
         ("aidants_connect_structures_2024-02_94_34.csv", ["--theme", "numerique--acceder-a-des-services-en-ligne"])]


def cli(*args, ok=True):
    result = subprocess.run([sys.executable, "-m", "diagnostic", *map(str, args)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module", params=["34", "94"])
def journey(request, real_data, tmp_path_factory):
    dept = request.param
    path = tmp_path_factory.mktemp(f"journey{dept}") / "ws"
    cli("create", "--workspace", path, "--communes", real_data / dept / "communes.geojson",
        "--indicators", real_data / dept / "communes.csv", "--name", f"Département {dept}")
    cli("import-groupings", "--workspace", path, real_data / dept / "communes.csv", "--colonne", "epci_nom=EPCI")
    outputs = {name: cli("import-offer", "--workspace", path, real_data / "offer" / name, *options)
               for name, options in OFFER}
    return dept, path, outputs


def refused(output) -> list[str]:
    return [line for line in output.stderr.splitlines() if line.strip().startswith("refusé")]


def test_postcodes_of_the_official_list_are_kept(journey, real_data):
    dept, path, _ = journey
    ws = load_workspace(path)
    raw = {r["code_insee"]: r["codes_postaux"].replace(" ", "|") for r in rows(real_data / dept / "communes.csv")}
    assert ws.communes.set_index("code_insee")["postcodes"].to_dict() == raw


def test_every_cnfs_place_with_coordinates_or_a_unique_commune_is_imported(journey, real_data):
    dept, path, outputs = journey
    assert refused(outputs["cnfs_lieux_mediation_numerique_2022-12_94_34.csv"]) == []
    raw = [r for r in rows(real_data / "offer" / "cnfs_lieux_mediation_numerique_2022-12_94_34.csv")
           if r["code_postal"].startswith(dept)]
    ws = load_workspace(path)
    ids = {*ws.offer["id"], *(i for folded in ws.offer["merged_from"] for i in folded)}
    assert {f"mednum:{r['id']}" for r in raw} <= ids
    names = {commune_key(n) for n in ws.communes["name"]}
    for r in raw:  # the places without coordinates are placed by their commune's name
        if not r["latitude"]:
            assert commune_key(r["commune"]) in names
    ignored = outputs["cnfs_lieux_mediation_numerique_2022-12_94_34.csv"].stdout.count("ignoré : ")
    other = sum(not r["code_postal"].startswith(dept) for r in
                rows(real_data / "offer" / "cnfs_lieux_mediation_numerique_2022-12_94_34.csv"))
    assert ignored == other  # the other département's rows are ignored, not errors


def test_lists_without_themes_import_with_one_theme_for_the_file(journey, real_data):
    dept, path, outputs = journey
    for name, options in OFFER[5:]:
        raw = rows(real_data / "offer" / name)
        code = "code_commune_insee_norm" if "cnfs" in name else "City Insee Code"
        mine = [r for r in raw if r[code].startswith(dept) or (not r[code] and r.get("Zip Code", "").startswith(dept))]
        assert f"{len(mine)} service(s) importé(s)" in outputs[name].stdout, (name, outputs[name].stdout)
        assert refused(outputs[name]) == []
    ws = load_workspace(path)
    aidants = ws.offer[ws.offer["source"].str.contains("aidants_connect")]
    assert aidants["themes"].map(lambda ts: "numerique--acceder-a-des-services-en-ligne" in ts).all()


def test_france_services_2020_then_2022_count_each_place_once(journey, real_data):
    dept, path, outputs = journey
    latest = [r for r in rows(real_data / "offer" / "france_services_2022-12-01_94_34.csv") if r["insee_dep"] == dept]
    ws = load_workspace(path)
    seen = [*ws.offer["id"], *(i for folded in ws.offer["merged_from"] for i in folded)]
    france_services = [i for i in seen if i.startswith("france-services:")]
    assert sorted(france_services) == sorted(f"france-services:{r['id_fs']}" for r in latest)
    assert not ws.offer["source"].str.contains("2020").any()
