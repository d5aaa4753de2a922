"""Real open data (PTI_REAL_DATA): workspaces of Val-de-Marne and Hérault from the official files."""

import csv
import json

import pandas as pd
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


OFFER_FILES = [("data_inclusion_structures_2023-02_94_34.csv", "datainclusion"),
               ("data_inclusion_services_2022-12_94_34.csv", "datainclusion"),
               ("cnfs_lieux_mediation_numerique_2022-12_94_34.csv", "mednum"),
               ("france_services_2022-12-01_94_34.csv", "france-services"),
               ("france_services_2020-09_94_34.csv", "france-services")]


@pytest.fixture(scope="module")
def real_offer(real_data, tmp_path_factory):
    """Both départements with every real offer file imported, and the import reports."""
    from diagnostic.offer_import import import_offer
    from diagnostic.workspace import load_workspace
    result = {}
    for dept in ("94", "34"):
        tmp = tmp_path_factory.mktemp(f"offer{dept}")
        communes, indicators, groupings, _ = build_inputs(real_data, dept, tmp)
        create_workspace(tmp / "ws", communes, indicators, groupings)
        reports = [import_offer(load_workspace(tmp / "ws"), real_data / "offer" / name)
                   for name, _ in OFFER_FILES]
        result[dept] = (load_workspace(tmp / "ws"), reports)
    return result


def test_every_real_offer_file_is_recognised_and_imports(real_offer):
    for dept, (_, reports) in real_offer.items():
        assert [r.format for r in reports] == [fmt for _, fmt in OFFER_FILES]
        assert all(r.imported > 0 for r in reports[:-1]), dept
        # the 2020 France services list is older than the 2022 one: it replaces nothing
        assert reports[-1].imported == 0 and "plus ancienne" in reports[-1].stale[0]


def test_real_offer_points_are_inside_their_departement(real_offer, real_data):
    import geopandas as gpd
    for dept, (ws, _) in real_offer.items():
        offer = ws.offer.dropna(subset=["lat", "lon"])
        outline = gpd.read_file(real_data / dept / "departement.geojson").geometry.iloc[0]
        points = gpd.points_from_xy(offer["lon"], offer["lat"])
        inside = sum(outline.buffer(0.002).contains(p) for p in points)
        assert inside == len(offer), dept
        assert offer["code_insee"].str.startswith(dept).all()


def test_real_offer_themes_are_all_v1(real_offer):
    from diagnostic.themes import theme_labels
    for _, (ws, _) in real_offer.items():
        assert ws.offer["themes"].map(lambda ts: bool(ts) and all(t in theme_labels() for t in ts)).all()


def test_conseiller_numerique_places_merge_with_datainclusion_structures(real_offer, real_data):
    ws, reports = real_offer["34"]
    mednum = reports[2]
    by_siret = [m for m in mednum.merges if m.reason.startswith("même SIRET")]
    assert len(by_siret) >= 50
    merged = ws.offer[ws.offer["source"].str.contains("data·inclusion") &
                      ws.offer["source"].str.contains("Médiation numérique")]
    assert len(merged) == len(mednum.merges) - sum(
        1 for m in mednum.merges if not m.kept.startswith("datainclusion:"))


def test_real_france_services_are_counted_once_per_place(real_offer, real_data):
    ws, _ = real_offer["34"]
    fs_2022 = pd.read_csv(real_data / "offer" / "france_services_2022-12-01_94_34.csv", dtype=str)
    in_34 = fs_2022[fs_2022["insee_dep"] == "34"]
    ids = {f"france-services:{i}" for i in in_34["id_fs"]}
    seen = [*ws.offer["id"], *(i for folded in ws.offer["merged_from"] for i in folded)]
    assert all(seen.count(i) == 1 for i in ids)


def test_real_montpellier_gtfs_feed(real_data, tmp_path):
    import zipfile

    from diagnostic.access.transit import import_gtfs
    from diagnostic.workspace import load_workspace
    communes, indicators, groupings, _ = build_inputs(real_data, "34", tmp_path)
    create_workspace(tmp_path / "ws", communes, indicators, groupings)
    feed = real_data / "transport" / "tam_montpellier_gtfs_2025-10"
    archive = tmp_path / "TAM_MMM_GTFS.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for txt in feed.glob("*.txt"):
            out.write(txt, txt.name)
    report = import_gtfs(load_workspace(tmp_path / "ws"), archive)
    stops = pd.read_csv(feed / "stops.txt", dtype=str, encoding="utf-8-sig")
    points = stops[stops["location_type"].fillna("0").isin(["0", ""])]
    assert report.kept + report.outside == len(points)
    assert report.outside == 0  # the whole feed lies in Hérault
    ws = load_workspace(tmp_path / "ws")
    assert ws.stops["code_insee"].nunique() == 34  # Montpellier's 31 communes and 3 neighbours
    assert ws.stops["departures"].isna().all()  # this extract has no stop_times.txt


def test_real_herault_annex_in_every_format(real_data, tmp_path):
    import openpyxl

    from diagnostic.export.annex import AnnexChoice, annex_tables
    from diagnostic.export.excel import workbook_bytes
    from diagnostic.export.pdf import annex_pdf
    from diagnostic.workspace import load_workspace
    communes, indicators, groupings, _ = build_inputs(real_data, "34", tmp_path)
    create_workspace(tmp_path / "ws", communes, indicators, groupings, name="Hérault")
    ws = load_workspace(tmp_path / "ws")
    choice = AnnexChoice("EPCI", "Montpellier Méditerranée Métropole")
    tables = {t.key: t for t in annex_tables(ws, choice)}
    assert len(tables["communes"].frame) == 31
    assert annex_pdf(ws, choice).startswith(b"%PDF")
    path = tmp_path / "herault.xlsx"
    path.write_bytes(workbook_bytes(list(tables.values()), "Annexe", "Hérault"))
    assert "profil_part_60_ans_et_plus" in openpyxl.load_workbook(path).sheetnames
