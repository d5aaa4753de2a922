"""Real open data (PTI_REAL_DATA): workspaces of Val-de-Marne and Hérault from the official files."""

import csv
import json

import pytest

from diagnostic.profile import indicator_profile
from diagnostic.territory import is_commune_code
from diagnostic.workspace import create_workspace

AGE_GROUPS = ["P22_POP0014", "P22_POP1529", "P22_POP3044", "P22_POP4559", "P22_POP6074",
              "P22_POP7589", "P22_POP90P"]
SENIORS = ["P22_POP6074", "P22_POP7589", "P22_POP90P"]


def read_rows(path, delimiter=","):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def build_inputs(real_data, dept, tmp_path):
    """Files as a chargé de mission would prepare them from the open-data pack."""
    communes_csv = {r["code_insee"]: r for r in read_rows(real_data / dept / "communes.csv")}
    geo = json.loads((real_data / dept / "communes.geojson").read_text(encoding="utf-8"))
    for feature in geo["features"]:
        code = feature["properties"]["code_insee"]
        feature["properties"]["population"] = int(communes_csv[code]["population_municipale"])
        feature["properties"]["codes_postaux"] = communes_csv[code]["codes_postaux"]
    communes = tmp_path / "communes.geojson"
    communes.write_text(json.dumps(geo), encoding="utf-8")

    groupings = tmp_path / "groupings.csv"
    levels = ["EPCI", "EPT"] if dept == "94" else ["EPCI"]
    with open(groupings, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["code_insee", *levels])
        for code, row in communes_csv.items():
            writer.writerow([code, row["epci_nom"], *([row["ept_nom"]] if dept == "94" else [])])

    indicators = tmp_path / "indicators.csv"
    with open(indicators, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["code_insee", "indicateur", "numerateur", "denominateur"])
        for row in read_rows(real_data / "socio" / "population_age_menages_2022_94_34.csv"):
            if row["CODGEO"] in communes_csv:
                writer.writerow([row["CODGEO"], "part_60_ans_et_plus", sum(int(row[c]) for c in SENIORS),
                                 sum(int(row[c]) for c in AGE_GROUPS)])
        for row in read_rows(real_data / "socio" / "filosofi_2021_communes_94_34.csv", ";"):
            if row["CODGEO"] in communes_csv:
                rate, people = row["TP6021"], row["NBPERSMENFISC21"]
                poor = "s" if rate == "s" else f"{float(rate.replace(',', '.')) * float(people) / 100:.1f}".replace(".", ",")
                writer.writerow([row["CODGEO"], "taux_pauvrete", poor, people])
    return communes, indicators, groupings, communes_csv


@pytest.mark.parametrize("dept, n_communes, n_epci", [("94", 47, 1), ("34", 341, 17)])
def test_real_workspace_counts_and_joins(real_data, tmp_path, dept, n_communes, n_epci):
    communes, indicators, groupings, communes_csv = build_inputs(real_data, dept, tmp_path)
    ws = create_workspace(tmp_path / "ws", communes, indicators, groupings)
    assert len(ws.communes) == n_communes
    assert ws.communes["code_insee"].map(is_commune_code).all()
    assert ws.groupings["EPCI"].nunique() == n_epci
    assert ws.groupings.index.tolist() == ws.communes["code_insee"].tolist()
    population = indicator_profile(ws, "population", "commune").reference
    assert population == sum(int(r["population_municipale"]) for r in communes_csv.values())
    seniors = ws.values[ws.values["indicator"] == "part_60_ans_et_plus"]
    assert len(seniors) == n_communes  # the 2022 census file joins on every 2026 code


def test_real_aggregate_matches_independent_computation(real_data, tmp_path):
    communes, indicators, groupings, communes_csv = build_inputs(real_data, "34", tmp_path)
    ws = create_workspace(tmp_path / "ws", communes, indicators, groupings)
    epci = "Montpellier Méditerranée Métropole"
    members = {c for c, r in communes_csv.items() if r["epci_nom"] == epci}
    assert len(members) == 31
    num = den = 0
    for row in read_rows(real_data / "socio" / "population_age_menages_2022_94_34.csv"):
        if row["CODGEO"] in members:
            num += sum(int(row[c]) for c in SENIORS)
            den += sum(int(row[c]) for c in AGE_GROUPS)
    table = indicator_profile(ws, "part_60_ans_et_plus", "EPCI").table
    assert table.loc[epci, "value"] == pytest.approx(100 * num / den)
    assert table.loc[epci, "communes"] == 31


def test_real_filosofi_secret_cells_stay_missing(real_data, tmp_path):
    communes, indicators, groupings, _ = build_inputs(real_data, "34", tmp_path)
    ws = create_workspace(tmp_path / "ws", communes, indicators, groupings)
    table = indicator_profile(ws, "taux_pauvrete", "commune").table
    known = table["communes_missing"] == 0
    # Filosofi publishes the poverty rate for about a third of Hérault's communes only
    assert 90 <= known.sum() <= 110
    montpellier = next(r for r in read_rows(real_data / "socio" / "filosofi_2021_communes_94_34.csv", ";")
                       if r["CODGEO"] == "34172")
    assert table.loc["34172", "value"] == pytest.approx(float(montpellier["TP6021"].replace(",", ".")),
                                                        abs=0.01)


def test_profile_page_renders_the_real_herault(real_data, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_pages import PROFIL, ROOT
    communes, indicators, groupings, _ = build_inputs(real_data, "34", tmp_path)
    create_workspace(tmp_path / "ws", communes, indicators, groupings, name="Hérault")
    monkeypatch.setenv("PTI_WORKSPACE", str(tmp_path / "ws"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PROFIL)
    at.query_params["niveau"] = "EPCI"
    at.run()
    assert not at.exception
    assert at.selectbox(key="indicator-contexte").options == ["Population municipale",
                                                              "Taux de pauvreté (seuil à 60 % du revenu médian)",
                                                              "Part des personnes de 60 ans et plus"]
    assert len(at.dataframe[-1].value) == 17
