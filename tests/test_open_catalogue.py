"""The open catalogue: indicators added from a user's table (counts, ratios of sums, rates × base,
weighted indices, medians), edited and removed, in the library, the CLI and the pages."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from diagnostic.errors import InputError
from diagnostic.indicators import AGGREGATION_NONE, AGGREGATION_WEIGHTED, aggregate
from diagnostic.open_catalogue import (ROUNDING_NOTE, NewIndicator, add_indicator, catalogue_status, edit_indicator,
                                       remove_indicator)
from diagnostic.workspace import load_workspace
from tests.workspaces import small_workspace

ROOT = Path(__file__).resolve().parent.parent
# A partner's table, one row per commune and year, counts rounded to 5 like the CAF's
CAF = ("code_insee,annee,foyers,foyers_rsa,foyers_ppa,revenu_median,score\n"
       "34001,2023,700,60,90,21000,4.0\n34001,2024,710,65,95,21500,4.5\n"
       "34002,2023,500,30,40,20000,6.0\n34002,2024,505,35,45,20500,6.5\n"
       "34093,2024,55,5,10,19000,9.0\n34144,2024,300,25,30,19500,7.0\n")


@pytest.fixture
def ws_path(tmp_path):
    path = small_workspace(tmp_path)
    (tmp_path / "caf.csv").write_text(CAF, encoding="utf-8")
    return path


def values(path, indicator):
    rows = load_workspace(path).values
    return rows[rows["indicator"] == indicator].set_index("code_insee")[["numerator", "denominator"]]


def test_a_ratio_of_summed_columns_for_one_year(ws_path, tmp_path):
    spec = NewIndicator("part_foyers_minima", "Part des foyers au RSA ou à la prime d'activité",
                        ["foyers_rsa", "foyers_ppa"], ["foyers"], source="CAF", vintage="décembre 2024",
                        confidential=True, higher_is_better=False, lower=15, upper=25)
    with pytest.raises(InputError, match="apparaît deux fois.*--where"):
        add_indicator(ws_path, tmp_path / "caf.csv", spec)
    report = add_indicator(ws_path, tmp_path / "caf.csv", spec, where={"annee": "2024"})
    assert report.indicators == ["part_foyers_minima"]
    got = values(ws_path, "part_foyers_minima")
    assert got.loc["34001"].tolist() == [160, 710] and got.loc["34144"].tolist() == [70, 355]  # 34093 merged in
    ws = load_workspace(ws_path)
    entry = ws.catalogue["part_foyers_minima"]
    assert entry.custom and entry.unit == "%" and entry.scale == 100 and entry.confidential
    assert entry.status(30) == "alerte" and ROUNDING_NOTE in entry.definition
    tas = aggregate(ws.values, ws.groupings["TAS"], entry).loc["Biterrois", "value"]
    assert tas == pytest.approx((160 + 80) / (710 + 505) * 100)


def test_an_index_is_a_population_weighted_mean_and_a_median_is_not_aggregated(ws_path, tmp_path):
    add_indicator(ws_path, tmp_path / "caf.csv", NewIndicator("score_partenaire", "Score du partenaire", ["score"],
                                                              aggregation=AGGREGATION_WEIGHTED), where={"annee": "2024"})
    add_indicator(ws_path, tmp_path / "caf.csv", NewIndicator("revenu_median", "Revenu médian", ["revenu_median"],
                                                              unit="€", aggregation=AGGREGATION_NONE),
                  where={"annee": "2024"})
    ws = load_workspace(ws_path)
    population = ws.communes.set_index("code_insee")["population"]
    score = aggregate(ws.values, ws.groupings["TAS"], ws.catalogue["score_partenaire"], population)
    expected = (4.5 * population["34001"] + 6.5 * population["34002"]) / (population["34001"] + population["34002"])
    assert score.loc["Biterrois", "value"] == pytest.approx(expected)
    median = aggregate(ws.values, ws.groupings["TAS"], ws.catalogue["revenu_median"], population)
    assert pd.isna(median.loc["Biterrois", "value"])  # two communes: a median of medians is not published
    assert median.loc["Cœur d'Hérault", "communes"] == 1  # one commune, but made of two in 2024: unknown
    assert pd.isna(median.loc["Cœur d'Hérault", "value"])
    assert values(ws_path, "revenu_median").loc["34001", "numerator"] == 21500
    assert "non agrégeable" in dict(ws.catalogue["revenu_median"].metadata())["Agrégation"]


@pytest.mark.parametrize("spec, expected", [
    (NewIndicator("Part RSA", "x", ["foyers_rsa"]), "identifiant.*invalide"),
    (NewIndicator("taux_pauvrete", "x", ["foyers_rsa"]), "catalogue de base"),
    (NewIndicator("part_x", " ", ["foyers_rsa"]), "libellé.*vide"),
    (NewIndicator("part_x", "x", []), "numérateur"),
    (NewIndicator("part_x", "x", ["colonne_absente"], ["foyers"]), "colonne_absente.*absente"),
    (NewIndicator("part_x", "x", ["foyers_rsa"], higher_is_better=True), "seuil manque"),
])
def test_a_bad_new_indicator_is_refused_and_changes_nothing(ws_path, tmp_path, spec, expected):
    before = (ws_path / "catalogue.json").read_bytes(), (ws_path / "values.csv").read_bytes()
    with pytest.raises(InputError, match=expected):
        add_indicator(ws_path, tmp_path / "caf.csv", spec, where={"annee": "2024"})
    assert ((ws_path / "catalogue.json").read_bytes(), (ws_path / "values.csv").read_bytes()) == before


def test_own_indicators_are_edited_and_removed_built_in_ones_are_not(ws_path, tmp_path):
    add_indicator(ws_path, tmp_path / "caf.csv", NewIndicator("foyers_rsa", "Foyers au RSA", ["foyers_rsa"],
                                                              unit="foyers"), where={"annee": "2024"})
    status = catalogue_status(load_workspace(ws_path)).set_index("id")
    assert status.at["foyers_rsa", "Données"] == "oui" and status.at["foyers_rsa", "Communes renseignées"] == "3 / 3"
    assert status.at["taux_pauvrete", "Données"] == "non"
    edit_indicator(ws_path, "foyers_rsa", label="Foyers allocataires du RSA", vintage="décembre 2024")
    assert load_workspace(ws_path).catalogue["foyers_rsa"].label == "Foyers allocataires du RSA"
    with pytest.raises(InputError, match="catalogue de base"):
        remove_indicator(ws_path, "population")
    assert remove_indicator(ws_path, "foyers_rsa") == 3
    ws = load_workspace(ws_path)
    assert "foyers_rsa" not in ws.catalogue and "foyers_rsa" not in set(ws.values["indicator"])


def test_the_cli_adds_an_indicator(ws_path, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "diagnostic", "import-indicators", "--workspace", str(ws_path), str(tmp_path / "caf.csv"),
         "--where", "annee=2024", "--new-indicator", "part_foyers_rsa_caf", "--label", "Part des foyers CAF au RSA",
         "--numerator", "foyers_rsa", "--denominator", "foyers", "--source", "CAF", "--vintage", "décembre 2024",
         "--family", "contexte", "--lower-is-better", "--lower", "8", "--upper", "12", "--confidential"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 indicateur(s) importé(s)" in result.stdout and "arrondis à 5" in result.stdout
    entry = load_workspace(ws_path).catalogue["part_foyers_rsa_caf"]
    assert entry.threshold_rule().startswith("Favorable jusqu'à 8") and entry.confidential
    assert values(ws_path, "part_foyers_rsa_caf").loc["34002"].tolist() == [35, 505]


def open_page(ws_path, monkeypatch, page):
    monkeypatch.setenv("PTI_WORKSPACE", str(ws_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception
    return at


def test_an_indicator_is_added_edited_and_removed_in_the_pages(ws_path, tmp_path, monkeypatch):
    at = open_page(ws_path, monkeypatch, "pages/9_Importer_des_donnees.py")
    at.file_uploader(key="values-file").set_value(("caf.csv", CAF.encode(), "text/csv"))
    at.run()
    tag = next(s for s in at.selectbox if s.label == "Colonne").key.removeprefix("values-where-col-")
    assert at.selectbox(key=f"values-where-col-{tag}").value == "annee"
    at.selectbox(key=f"values-where-val-{tag}").set_value("2024")
    at.text_input(key=f"new-id-{tag}").input("part_foyers_rsa_caf")
    at.text_input(key=f"new-label-{tag}").input("Part des foyers CAF au RSA")
    at.multiselect(key=f"new-num-{tag}").set_value(["foyers_rsa"])
    at.multiselect(key=f"new-den-{tag}").set_value(["foyers"])
    at.run()
    at.button(key="values-new").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "part_foyers_rsa_caf" in at.success[0].value
    assert values(ws_path, "part_foyers_rsa_caf").loc["34001"].tolist() == [65, 710]

    at = open_page(ws_path, monkeypatch, "pages/3_Catalogue_des_indicateurs.py")
    status = next(d.value for d in at.dataframe if "Communes renseignées" in d.value.columns)
    assert "Part des foyers CAF au RSA" in set(status["Indicateur"])
    at.text_input[0].set_value("Foyers CAF au RSA (part)")
    next(b for b in at.button if b.label == "Enregistrer la fiche").click()
    at.run()
    assert load_workspace(ws_path).catalogue["part_foyers_rsa_caf"].label == "Foyers CAF au RSA (part)"
    at.checkbox(key="own-confirm-part_foyers_rsa_caf").check()
    at.run()
    at.button(key="own-remove-part_foyers_rsa_caf").click()
    at.run()
    assert not at.exception and "supprimé avec ses 3 valeur(s)" in at.success[0].value
    assert "part_foyers_rsa_caf" not in load_workspace(ws_path).catalogue
