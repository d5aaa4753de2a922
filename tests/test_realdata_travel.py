"""Real open data (PTI_REAL_DATA): travel times on a real OpenStreetMap extract (Monaco and its
French neighbours) compared with direct OSRM queries written here, and the Filosofi 200 m grid of
Val-de-Marne: totals per commune and the share of people beyond X minutes, computed here from the
raw cells."""

from __future__ import annotations

import csv

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from tests.osm_writer import write_lattice
from tests.test_realdata_journey import cli

# Town halls at their real addresses (lat, lon)
MONACO_SERVICES = [("Mairie de Beausoleil", 43.7424, 7.4236, "06012"), ("Mairie de Cap-d'Ail", 43.7224, 7.4047, "06032"),
                   ("Mairie de La Turbie", 43.7459, 7.4001, "06150"), ("Mairie d'Èze", 43.7280, 7.3620, "06059")]
INSIDE = ["06012", "06032", "06150"]  # wholly inside the extract (SOURCES.md)
VDM_SERVICES = [("Mairie de Créteil", 48.7904, 2.4556, "94028"), ("Mairie de Vitry-sur-Seine", 48.7875, 2.3928, "94081"),
                ("Mairie de Champigny-sur-Marne", 48.8172, 2.5156, "94017"), ("Mairie de Villejuif", 48.7922, 2.3635, "94076")]
WALK_M_PER_MIN, MAX_SNAP_M = 75.0, 1000.0  # the method's walk to the road, as the annex states it


def services_csv(path, services):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["nom", "thematiques", "latitude", "longitude", "code_insee", "modes_accueil"])
        writer.writerows([name, "numerique", lat, lon, code, "en-presentiel"] for name, lat, lon, code in services)
    return path


def result_csv(path):
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype={"code_insee": str}, decimal=",")


@pytest.fixture(scope="module")
def monaco(real_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("monaco")
    ws = folder / "ws"
    cli("create", "--workspace", ws, "--communes", real_data / "06" / "communes_2018_monaco_bbox.geojson",
        "--indicators", real_data / "06" / "communes.csv", "--name", "Alpes-Maritimes (bord de Monaco)")
    roads = cli("import-roads", "--workspace", ws, real_data / "osm" / "monaco.osm.pbf")
    cli("import-offer", "--workspace", ws, services_csv(folder / "mairies.csv", MONACO_SERVICES))
    cli("coverage", "--workspace", ws, "--theme", "numerique", "--mode", "route", "--max-minutes", 10,
        "--out", folder / "route.csv")
    return ws, folder, roads.stdout


def direct_route(engine, origin, services):
    """The fastest service by OSRM's route service from one point, with the walks to the road."""
    import osrm
    best = (np.inf, "")
    for name, lat, lon, _ in services:
        answer = engine.Route(osrm.RouteParameters(coordinates=[tuple(origin), (lon, lat)], overview="false"))
        snaps = [w["distance"] for w in answer["waypoints"]]
        if max(snaps) <= MAX_SNAP_M:
            best = min(best, (answer["routes"][0]["duration"] / 60 + sum(snaps) / WALK_M_PER_MIN, name))
    return best


def test_times_by_road_equal_direct_osrm_queries(monaco, real_data):
    import osrm
    ws, folder, output = monaco
    assert "extrait du 5 mars 2016" in output
    engine = osrm.OSRM(algorithm="MLD", storage_config=str(ws / "reseau" / "route" / "reseau.osrm"),
                       use_shared_memory=False)
    raw = gpd.read_file(real_data / "06" / "communes_2018_monaco_bbox.geojson").set_index("code")
    points = raw.to_crs(2154).representative_point().to_crs(4326)  # one point per commune: no grid here
    result = result_csv(folder / "route.csv").set_index("code_insee")
    for code in INSIDE:
        minutes, name = direct_route(engine, (points[code].x, points[code].y), MONACO_SERVICES)
        assert result.loc[code, "temps_median_min"] == pytest.approx(minutes, abs=0.06), code
        assert result.loc[code, "service_le_plus_proche"] == name
        assert result.loc[code, "zone_blanche"] == ("oui" if minutes > 10 else "non")
    menton = result.loc["06083"]  # 3 % inside the extract: its point is far from every road of it
    assert menton["zone_blanche"] == "oui" and pd.isna(menton["temps_median_min"])


def test_the_annex_carries_the_osm_credit_the_extract_date_and_the_method(monaco):
    ws, folder, _ = monaco
    cli("export", "--workspace", ws, "--format", "csv", "--out", folder / "annexe", "--level", "commune",
        "--zones-blanches", "numerique:10min:route")
    meta = pd.read_csv(folder / "annexe" / "metadonnees.csv", sep=";", encoding="utf-8-sig")
    text = " ".join(meta["sources_millesimes_parametres"].dropna())
    assert "© les contributeurs d'OpenStreetMap (ODbL)" in text and "extrait du 5 mars 2016" in text
    assert "en voiture" in text and "10 minutes" in text and "un point par commune" in text


def test_a_wrong_file_as_extract_is_refused_in_french(monaco, real_data):
    ws, _, _ = monaco
    before = (ws / "reseau" / "reseau.json").read_bytes()
    answer = cli("import-roads", "--workspace", ws, real_data / "06" / "communes.csv", ok=False)
    assert answer.returncode == 1 and "n'est pas un extrait OpenStreetMap" in answer.stderr
    assert (ws / "reseau" / "reseau.json").read_bytes() == before


@pytest.fixture(scope="module")
def val_de_marne(real_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("vdm")
    ws = folder / "ws"
    cli("create", "--workspace", ws, "--communes", real_data / "94" / "communes.geojson",
        "--indicators", real_data / "94" / "communes.csv")
    grid = cli("import-grid", "--workspace", ws, real_data / "socio" / "filosofi_2021_carreaux200m_94.csv")
    return ws, folder, grid.stdout


def raw_cells(real_data):
    raw = pd.read_csv(real_data / "socio" / "filosofi_2021_carreaux200m_94.csv", dtype=str)
    raw = raw[raw["code_commune_centroide"].fillna("") != ""].copy()
    raw["ind"] = raw["ind"].astype(float)
    parts = raw["idcar_200m"].str.extract(r"N(\d+)E(\d+)").astype(float)
    raw["lon"], raw["lat"] = Transformer.from_crs(3035, 4326, always_xy=True).transform(parts[1] + 100, parts[0] + 100)
    return raw


def test_grid_totals_per_commune_equal_the_raw_cells(val_de_marne, real_data):
    ws, _, output = val_de_marne
    assert "carreaux de 200 m importés (47 communes)" in output
    kept = pd.read_csv(ws / "carreaux.csv", dtype={"code_insee": str, "idcar": str})
    raw = raw_cells(real_data)
    assert kept.groupby("code_insee")["ind"].sum().round(1).to_dict() == \
        raw.groupby("code_commune_centroide")["ind"].sum().round(1).to_dict()
    imputed = set(raw.loc[raw["i_est_200"] == "1", "idcar_200m"])
    assert set(kept.loc[kept["imputed"], "idcar"]) == imputed


def test_share_beyond_x_minutes_on_foot_equals_the_sum_over_cells(val_de_marne, real_data):
    import osrm
    ws, folder, _ = val_de_marne
    cli("import-roads", "--workspace", ws, write_lattice(folder / "rues.osm.pbf", 2.30, 48.68, 2.62, 48.87))
    cli("import-offer", "--workspace", ws, services_csv(folder / "mairies.csv", VDM_SERVICES))
    cli("coverage", "--workspace", ws, "--theme", "numerique", "--mode", "marche", "--max-minutes", 30,
        "--out", folder / "marche.csv")
    result = result_csv(folder / "marche.csv").set_index("code_insee")
    raw = raw_cells(real_data)
    raw = raw[raw["ind"] > 0].reset_index(drop=True)
    engine = osrm.OSRM(algorithm="MLD", storage_config=str(ws / "reseau" / "marche" / "reseau.osrm"),
                       use_shared_memory=False)
    best = np.full(len(raw), np.inf)
    origins = list(zip(raw["lon"], raw["lat"], strict=True))
    for _, lat, lon, _ in VDM_SERVICES:  # every service for every cell: no prefilter here
        answer = engine.Table(osrm.TableParameters(coordinates=[*origins, (lon, lat)],
                                                   sources=list(range(len(origins))), destinations=[len(origins)],
                                                   annotations=["duration"]))
        snap_s = np.array([w["distance"] for w in answer["sources"]])
        snap_t = answer["destinations"][0]["distance"]
        minutes = np.array([np.inf if r[0] is None else r[0] / 60 for r in answer["durations"]])
        minutes = np.where(snap_s <= MAX_SNAP_M, minutes + (snap_s + snap_t) / WALK_M_PER_MIN, np.inf)
        best = np.minimum(best, minutes)
    raw["beyond"] = np.where(best > 30, raw["ind"], 0.0)
    shares = raw.groupby("code_commune_centroide")["beyond"].sum() / raw.groupby("code_commune_centroide")["ind"].sum()
    assert 0.05 < (shares > 0.5).mean() < 0.95  # a test that can tell: some communes in, some out
    for code, share in shares.items():
        assert result.loc[code, "part_population_zone_blanche"] == pytest.approx(share * 100, abs=0.06), code
