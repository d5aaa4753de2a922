"""Real open data (PTI_REAL_DATA): a chargé de mission builds Hérault and Val-de-Marne from the raw
files, in the order the home page suggests, with the command line a user has: the official communes
list as indicators and as groupings (its postcodes come with it), then every offer file of the pack,
including the lists without themes. The figures are compared with computations written here from
the raw files."""

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from diagnostic.offer_import import commune_key
from diagnostic.workspace import load_workspace

ROOT = Path(__file__).resolve().parent.parent
AGES = ["P22_POP0014", "P22_POP1529", "P22_POP3044", "P22_POP4559", "P22_POP6074", "P22_POP7589", "P22_POP90P"]
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
    socio = real_data / "socio"
    for name in ("population_emploi_2021_cog2024_94_34.csv", "indice_fragilite_numerique_communes_2024_94_34.csv",
                 "filosofi_2021_communes_94_34.csv"):
        outputs[name] = cli("import-indicators", "--workspace", path, socio / name)
    outputs["75+"] = cli("import-indicators", "--workspace", path, socio / "population_age_menages_2022_94_34.csv",
                         "--new-indicator", "part_75_ans_et_plus", "--label", "Part des personnes de 75 ans et plus",
                         "--numerator", "P22_POP7589 + P22_POP90P", "--denominator", " + ".join(AGES),
                         "--source", "INSEE, recensement de la population", "--vintage", "2022")
    outputs["caf"] = cli("import-indicators", "--workspace", path, socio / "caf_foyers_allocataires_2020-2024_94_34.csv",
                         "--where", "annee=2024", "--new-indicator", "part_foyers_rsa_caf",
                         "--label", "Part des foyers allocataires CAF percevant le RSA", "--numerator", "indfoy_rsa",
                         "--denominator", "indfoy_ndur", "--source", "CNAF, données allocataires (data.caf.fr)",
                         "--vintage", "décembre 2024", "--lower-is-better", "--lower", "12", "--upper", "18",
                         "--confidential")
    outputs["defm"] = cli("import-indicators", "--workspace", path,
                          real_data / "emploi" / "dares_defm_abc_t4_2015-2024_94_34.csv", "--where", "annee=2024",
                          "--new-indicator", "defm_abc", "--label", "Demandeurs d'emploi de catégories A, B, C",
                          "--numerator", "defm_abc", "--unit", "personnes", "--source", "DARES, France Travail",
                          "--vintage", "4e trimestre 2024")
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


def epci_of(real_data, dept) -> dict[str, str]:
    return {r["code_insee"]: r["epci_nom"] for r in rows(real_data / dept / "communes.csv")}


def test_caf_and_job_seekers_become_indicators_of_the_chosen_year(journey, real_data):
    dept, path, outputs = journey
    assert "arrondis à 5" in outputs["caf"].stdout and "arrondis à 5" in outputs["defm"].stdout
    ws = load_workspace(path)
    caf = {r["code_insee"]: r for r in rows(real_data / "socio" / "caf_foyers_allocataires_2020-2024_94_34.csv")
           if r["annee"] == "2024" and r["code_insee"][:2] == dept}
    got = ws.values[ws.values["indicator"] == "part_foyers_rsa_caf"].set_index("code_insee")
    assert len(got) == len(caf) == len(ws.communes)
    for code, r in caf.items():
        assert got.at[code, "numerator"] == float(r["indfoy_rsa"]) and got.at[code, "denominator"] == float(r["indfoy_ndur"])
    entry = ws.catalogue["part_foyers_rsa_caf"]
    assert entry.confidential and entry.vintage == "décembre 2024" and "multiple de 5" in entry.definition
    # at EPCI level: the ratio of the sums, never a mean of rates
    epci = epci_of(real_data, dept)
    population = ws.communes.set_index("code_insee")["population"]
    from diagnostic.indicators import aggregate
    table = aggregate(ws.values, ws.groupings["EPCI"], entry, population)
    for name in set(epci.values()):
        codes = [c for c, e in epci.items() if e == name]
        expected = sum(float(caf[c]["indfoy_rsa"]) for c in codes) / sum(float(caf[c]["indfoy_ndur"]) for c in codes)
        assert table.at[name, "value"] == pytest.approx(expected * 100)
    defm = {r["code_insee"]: float(r["defm_abc"]) for r in rows(real_data / "emploi" / "dares_defm_abc_t4_2015-2024_94_34.csv")
            if r["annee"] == "2024" and r["code_insee"][:2] == dept}
    got = ws.values[ws.values["indicator"] == "defm_abc"].set_index("code_insee")["numerator"]
    assert got.to_dict() == defm
    total = aggregate(ws.values, ws.groupings["EPCI"], ws.catalogue["defm_abc"], population)["value"].sum()
    assert total == sum(defm.values())


def test_a_new_indicator_from_the_age_bands_equals_the_raw_computation(journey, real_data):
    dept, path, _ = journey
    from diagnostic.indicators import aggregate
    ws = load_workspace(path)
    raw = {r["CODGEO"]: r for r in rows(real_data / "socio" / "population_age_menages_2022_94_34.csv")
           if r["CODGEO"][:2] == dept}
    entry = ws.catalogue["part_75_ans_et_plus"]
    codes = ws.communes["code_insee"]
    communes = aggregate(ws.values, pd.Series(codes.to_numpy(), index=codes.to_numpy()), entry)
    for code, r in raw.items():
        expected = (int(r["P22_POP7589"]) + int(r["P22_POP90P"])) / sum(int(r[a]) for a in AGES) * 100
        assert communes.at[code, "value"] == pytest.approx(expected)
    epci = epci_of(real_data, dept)
    table = aggregate(ws.values, ws.groupings["EPCI"], entry)
    for name in set(epci.values()):
        codes = [c for c, e in epci.items() if e == name]
        old = sum(int(raw[c]["P22_POP7589"]) + int(raw[c]["P22_POP90P"]) for c in codes)
        assert table.at[name, "value"] == pytest.approx(old / sum(int(raw[c][a]) for c in codes for a in AGES) * 100)


def test_the_digital_fragility_of_a_merged_commune_is_weighted_by_its_parts(journey, real_data):
    dept, path, outputs = journey
    if dept != "34":
        pytest.skip("Val-de-Marne has no merged commune")
    ifn = {r["code"]: float(r["total"]) for r in rows(real_data / "socio" / "indice_fragilite_numerique_communes_2024_94_34.csv")}
    population = {r["insee_com"]: float(r["population_2021"])
                  for r in rows(real_data / "socio" / "population_emploi_2021_cog2024_94_34.csv")}
    expected = (ifn["34093"] * population["34093"] + ifn["34144"] * population["34144"]) / (
        population["34093"] + population["34144"])
    ws = load_workspace(path)
    got = ws.values[(ws.values["indicator"] == "indice_fragilite_numerique") & (ws.values["code_insee"] == "34144")]
    assert (got["numerator"] / got["denominator"]).iloc[0] == pytest.approx(expected)
    assert "34093" in outputs["indice_fragilite_numerique_communes_2024_94_34.csv"].stdout  # the merge is reported


def test_no_masked_caf_count_can_be_recovered_from_the_exports(journey, real_data, tmp_path):
    from tests.test_secrecy import SECRET, attack, exported
    dept, path, _ = journey
    ws = load_workspace(path)
    tables = {level: exported(path, level, tmp_path) for level in ["commune", *ws.groupings.columns]}
    masked = [r for r in tables["commune"] if r["indicateur"] == "part_foyers_rsa_caf" and r["numerateur"] == SECRET]
    small = [r for r in rows(real_data / "socio" / "caf_foyers_allocataires_2020-2024_94_34.csv")
             if r["annee"] == "2024" and r["code_insee"][:2] == dept and 0 < float(r["indfoy_rsa"]) < 5]
    assert len(masked) >= len(small)
    for name, (low, high, room) in attack(ws, tables, "part_foyers_rsa_caf").items():
        assert high - low >= min(5, room) - 1e-6, (name, low, high)
    result = cli("audit-secret", "--workspace", path)
    assert "aucune cellule trop étroite" in result.stdout

