"""Real open data (PTI_REAL_DATA) imported as published: no preparation in the test, the tool reads the
raw files (2018 boundaries with 2026 codes, `;` and decimal comma and `s` in Filosofi, census tables,
digital-fragility index, offer files) and the test checks values computed independently."""

import csv

import pandas as pd
import pytest

from diagnostic.offer_import import import_offer
from diagnostic.profile import indicator_profile
from diagnostic.workspace import create_workspace, import_groupings, import_indicators, load_workspace

SOCIO = ["filosofi_2021_communes_94_34.csv", "population_age_menages_2022_94_34.csv",
         "population_emploi_2021_cog2024_94_34.csv", "indice_fragilite_numerique_communes_2024_94_34.csv"]
OFFER = ["data_inclusion_structures_2023-02_94_34.csv", "cnfs_lieux_mediation_numerique_2022-12_94_34.csv",
         "france_services_2022-12-01_94_34.csv"]


def rows(path, delimiter=","):
    with open(path, encoding="utf-8", newline="") as handle:
        return {r[next(iter(r))]: r for r in csv.DictReader(handle, delimiter=delimiter)}


@pytest.fixture(scope="module", params=["94", "34"])
def built(request, real_data, tmp_path_factory):
    dept = request.param
    path = tmp_path_factory.mktemp(f"real{dept}") / "ws"
    create_workspace(path, real_data / dept / "communes.geojson", real_data / dept / "communes.csv", None,
                     f"Département {dept}")
    levels = {"epci_nom": "EPCI", **({"ept_nom": "EPT"} if dept == "94" else {})}
    import_groupings(path, real_data / dept / "communes.csv", levels)
    reports = {name: import_indicators(path, real_data / "socio" / name) for name in SOCIO}
    offers = [import_offer(load_workspace(path), real_data / "offer" / name) for name in OFFER]
    return dept, load_workspace(path), reports, offers


def test_counts_population_and_levels(built, real_data):
    dept, ws, reports, offers = built
    communes = rows(real_data / dept / "communes.csv")
    assert len(ws.communes) == len(communes) == {"94": 47, "34": 341}[dept]
    assert ws.communes["population"].sum() == sum(int(r["population_municipale"]) for r in communes.values())
    assert set(ws.groupings.columns) == ({"EPCI", "EPT"} if dept == "94" else {"EPCI"})
    assert ws.groupings["EPCI"].nunique() == {"94": 1, "34": 17}[dept]
    for report in reports.values():
        assert report.communes == len(communes) and not report.unmatched
    assert all(r.imported > 0 for r in offers)
    assert ws.offer["code_insee"].str.startswith(dept).all()


def test_merged_communes_of_herault_are_reconciled(built, real_data):
    dept, ws, reports, _ = built
    if dept != "34":
        pytest.skip("Val-de-Marne has no merged commune")
    pairs = set(map(tuple, ws.correspondence[["ancien_code", "code_insee"]].to_numpy()))
    assert {("34093", "34144"), ("34330", "34246")} <= pairs
    merges = reports["filosofi_2021_communes_94_34.csv"].merges
    assert [(m.code, m.former) for m in merges] == [("34144", ["34093"])]
    # independently: Filosofi persons and census unemployed/actives of Lunas + Dio-et-Valquières
    filosofi = rows(real_data / "socio" / "filosofi_2021_communes_94_34.csv", ";")
    persons = int(filosofi["34144"]["NBPERSMENFISC21"]) + int(filosofi["34093"]["NBPERSMENFISC21"])
    values = ws.values.set_index(["indicator", "code_insee"])
    assert values.loc[("taux_pauvrete", "34144"), "denominator"] == persons
    assert pd.isna(values.loc[("taux_pauvrete", "34144"), "numerator"])  # both parts are secret ("s")
    census = rows(real_data / "socio" / "population_emploi_2021_cog2024_94_34.csv")
    unemployed = sum(int(census[c]["pop_15_64_chomage_2021"]) for c in ("34144", "34093"))
    active = sum(int(census[c]["pop_15_64_active_2021"]) for c in ("34144", "34093"))
    rate = indicator_profile(ws, "taux_chomage_rp", "commune").table.loc["34144", "value"]
    assert rate == pytest.approx(100 * unemployed / active)


def test_secret_cells_stay_unknown_and_rates_are_recomputed_from_sums(built, real_data):
    dept, ws, reports, _ = built
    filosofi = {c: r for c, r in rows(real_data / "socio" / "filosofi_2021_communes_94_34.csv", ";").items()
                if c.startswith(dept)}
    poverty = ws.values[ws.values["indicator"] == "taux_pauvrete"].set_index("code_insee")
    secret = {c for c, r in filosofi.items() if r["TP6021"] == "s" and c != "34093"}  # 34093 is now in 34144
    assert set(poverty.index[poverty["numerator"].isna()]) == secret
    known = [r for c, r in filosofi.items() if c not in secret]
    sample = known[0]
    value = indicator_profile(ws, "taux_pauvrete", "commune").table.loc[sample["CODGEO"], "value"]
    assert value == pytest.approx(float(sample["TP6021"].replace(",", ".")))
    # the 60+ share of each EPCI: sums of age groups of its communes, not a mean of shares
    ages = rows(real_data / "socio" / "population_age_menages_2022_94_34.csv")
    epci = ws.groupings["EPCI"]
    name = epci.value_counts().index[0]
    members = epci.index[epci == name]
    seniors = sum(int(ages[c][k]) for c in members for k in ("P22_POP6074", "P22_POP7589", "P22_POP90P"))
    everyone = sum(int(ages[c][k]) for c in members for k in ages[c] if k.startswith("P22_POP"))
    share = indicator_profile(ws, "part_60_ans_et_plus", "EPCI").table.loc[name, "value"]
    assert share == pytest.approx(100 * seniors / everyone)


def test_digital_fragility_is_weighted_by_population(built, real_data):
    dept, ws, _, _ = built
    ifn = rows(real_data / "socio" / "indice_fragilite_numerique_communes_2024_94_34.csv")
    by_code = {r["code"]: r for r in ifn.values()}
    population = ws.communes.set_index("code_insee")["population"]
    level = "EPT" if dept == "94" else "EPCI"
    groups = ws.groupings[level]
    name = groups.value_counts().index[-1]
    members = [c for c in groups.index[groups == name] if c in by_code]
    expected = sum(float(by_code[c]["total"]) * population[c] for c in members) / sum(population[c] for c in members)
    value = indicator_profile(ws, "indice_fragilite_numerique", level).table.loc[name, "value"]
    assert value == pytest.approx(expected)
