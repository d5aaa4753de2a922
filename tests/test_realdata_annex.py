"""Real open data (PTI_REAL_DATA): Val-de-Marne and Hérault built from the raw files as a user would
(boundaries, groupings, every socio table and offer list the tool reads, the TaM GTFS feed), then
`coverage` for every theme of the offer and for themes without any service, `indicators` and
`export` in the three formats at département and territory level, run from the command line. The
figures are compared with computations written here from the raw files."""

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point, shape

from diagnostic.access.transit import import_gtfs
from diagnostic.access.white_zones import present_themes
from diagnostic.offer_import import import_offer
from diagnostic.profile import indicator_profile
from diagnostic.workspace import create_workspace, import_groupings, import_indicators, load_workspace

ROOT = Path(__file__).resolve().parent.parent
SOCIO = ["filosofi_2021_communes_94_34.csv", "population_age_menages_2022_94_34.csv",
         "population_emploi_2021_cog2024_94_34.csv", "indice_fragilite_numerique_communes_2024_94_34.csv"]
OFFER = ["data_inclusion_structures_2023-02_94_34.csv", "cnfs_lieux_mediation_numerique_2022-12_94_34.csv",
         "france_services_2020-09_94_34.csv", "france_services_2022-12-01_94_34.csv"]
TERRITORY = {"94": ("EPT", "Grand-Orly Seine Bièvre"), "34": ("EPCI", "Montpellier Méditerranée Métropole")}
GEOD = Geod(ellps="GRS80")


def cli(*args):
    result = subprocess.run([sys.executable, "-m", "diagnostic", *map(str, args)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result


def read_rows(path, delimiter=","):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def french_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", decimal=",", dtype={"code_insee": str, "code": str}, encoding="utf-8-sig")


@pytest.fixture(scope="module", params=["94", "34"])
def built(request, real_data, tmp_path_factory):
    dept = request.param
    folder = tmp_path_factory.mktemp(f"annex{dept}")
    path = folder / "ws"
    create_workspace(path, real_data / dept / "communes.geojson", real_data / dept / "communes.csv", None,
                     f"Département {dept}")
    import_groupings(path, real_data / dept / "communes.csv",
                     {"epci_nom": "EPCI", **({"ept_nom": "EPT"} if dept == "94" else {})})
    for name in SOCIO:
        import_indicators(path, real_data / "socio" / name)
    for name in OFFER:
        import_offer(load_workspace(path), real_data / "offer" / name)
    if dept == "34":
        feed = folder / "TAM_MMM_GTFS.zip"
        with zipfile.ZipFile(feed, "w") as archive:
            for txt in (real_data / "transport" / "tam_montpellier_gtfs_2025-10").glob("*.txt"):
                archive.write(txt, txt.name)
        import_gtfs(load_workspace(path), feed)
    return dept, path, folder


def raw_points(real_data, dept) -> dict[str, tuple[float, float]]:
    """Each commune's point inside its polygon, computed here in Lambert-93 from the raw boundaries."""
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    to_wgs = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    from shapely.ops import transform
    out = {}
    for feature in json.loads((real_data / dept / "communes.geojson").read_text(encoding="utf-8"))["features"]:
        polygon = transform(to_l93.transform, shape(feature["geometry"]).buffer(0))
        point = polygon.representative_point()
        out[feature["properties"]["code_insee"]] = to_wgs.transform(point.x, point.y)
    return out


def test_coverage_of_every_theme_matches_geodesic_distances(built, real_data):
    dept, path, folder = built
    ws = load_workspace(path)
    population = {r["code_insee"]: int(r["population_municipale"]) for r in read_rows(real_data / dept / "communes.csv")}
    points = raw_points(real_data, dept)
    themes = present_themes(ws.offer)
    assert "numerique" in themes
    for theme in [*themes, "mobilite", "souvrir-a-linternational"]:
        out = folder / f"zb_{theme}.csv"
        printed = cli("coverage", "--workspace", path, "--theme", theme, "--max-km", 10, "--out", out).stdout
        table = french_csv(out).set_index("code_insee")
        assert len(table) == len(population)
        services = ws.offer[ws.offer["themes"].map(lambda ts: any(t.split("--")[0] == theme for t in ts))
                            & ws.offer["modes"].map(lambda ms: "en-presentiel" in ms or "itinerant" in ms)
                            & ws.offer["lat"].notna()]
        if services.empty:  # no service of the theme at all: everyone is beyond reach
            assert (table["hors_seuil_services"] == "oui").all() and table["distance_route_km"].isna().all()
        for code, (lon, lat) in points.items():
            if services.empty:
                break
            _, _, metres = GEOD.inv([lon] * len(services), [lat] * len(services), services["lon"].to_numpy(),
                                    services["lat"].to_numpy())
            nearest_km = min(metres) / 1000
            assert table.loc[code, "distance_vol_oiseau_km"] == pytest.approx(nearest_km, rel=0.003, abs=0.05)
            if abs(nearest_km * 1.3 - 10) > 0.1:
                assert (table.loc[code, "hors_seuil_services"] == "oui") == (nearest_km * 1.3 > 10), code
        white = table[table["zone_blanche"] == "oui"]
        assert f"{len(white)} commune(s) en zone blanche" in printed
        assert white["population"].sum() == sum(population[c] for c in white.index)


def test_montpellier_is_not_a_mobility_white_zone_once_the_tam_feed_is_imported(built, real_data):
    dept, path, folder = built
    if dept != "34":
        pytest.skip("the TaM feed serves Hérault")
    out = folder / "mobilite.csv"
    cli("coverage", "--workspace", path, "--theme", "mobilite", "--out", out)
    table = french_csv(out).set_index("code_insee")
    communes = read_rows(real_data / dept / "communes.csv")
    metropolis = {r["code_insee"] for r in communes if r["epci_nom"] == "Montpellier Méditerranée Métropole"}
    assert len(metropolis) == 31
    assert (table.loc[sorted(metropolis), "zone_blanche"] == "non").all()
    assert (table.loc[sorted(metropolis), "hors_seuil_services"] == "oui").all()  # no mobility service listed
    # independently: every commune that holds a TaM stop (stops.txt, stop points only) is served
    polygons = {f["properties"]["code_insee"]: shape(f["geometry"]) for f in
                json.loads((real_data / dept / "communes.geojson").read_text(encoding="utf-8"))["features"]}
    stops = [r for r in read_rows(real_data / "transport" / "tam_montpellier_gtfs_2025-10" / "stops.txt")
             if r.get("location_type", "") in ("", "0")]
    holding = {code for r in stops for code, poly in polygons.items()
               if poly.contains(Point(float(r["stop_lon"]), float(r["stop_lat"])))}
    assert len(holding) == 34
    assert (table.loc[sorted(holding), "desservi_transport_public"] == "oui").all()
    rural = table[~table.index.isin(holding) & (table["arret_desservi_m"].isna() | (table["arret_desservi_m"] > 800))]
    assert (rural["zone_blanche"] == "oui").all() and len(rural) > 250


def test_completeness_of_the_poverty_rate_per_epci_in_csv(built, real_data):
    dept, path, folder = built
    out = folder / "epci.csv"
    cli("indicators", "--workspace", path, "--level", "EPCI", "--out", out)
    table = french_csv(out)
    poverty = table[table["indicateur"] == "taux_pauvrete"].set_index("territoire")
    communes = read_rows(real_data / dept / "communes.csv")
    filosofi = {r["CODGEO"]: r for r in read_rows(real_data / "socio" / "filosofi_2021_communes_94_34.csv", ";")}
    for epci in {r["epci_nom"] for r in communes}:
        members = [r for r in communes if r["epci_nom"] == epci]
        known = [r for r in members if filosofi[r["code_insee"]]["TP6021"] != "s"
                 and not (r["code_insee"] == "34144")]  # Lunas absorbed Dio-et-Valquières: both secret
        share = 100 * sum(int(r["population_municipale"]) for r in known) / sum(
            int(r["population_municipale"]) for r in members)
        assert poverty.loc[epci, "communes"] == len(members)
        assert poverty.loc[epci, "communes_renseignees"] == len(known)
        assert poverty.loc[epci, "part_population_renseignee"] == pytest.approx(share, abs=0.05)
        if 0 < share < 80 and poverty.loc[epci, "valeur"] != "secret statistique":
            assert poverty.loc[epci, "alerte"] == "non significatif"  # never « alerte » on a third of the people
        elif share == 0:
            assert pd.isna(poverty.loc[epci, "valeur"])
    ws = load_workspace(path)
    secret, unknown = indicator_profile(ws, "taux_pauvrete", "commune").masked_counts()
    raw_unknown = sum(1 for r in communes if filosofi[r["code_insee"]]["TP6021"] == "s")
    assert unknown == raw_unknown == {"94": 2, "34": 239}[dept] and secret == 0


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils absent")
def test_annex_in_three_formats_at_departement_and_territory_level(built, real_data):
    dept, path, folder = built
    level, territory = TERRITORY[dept]
    ws = load_workspace(path)
    themes = present_themes(ws.offer)
    for scope in ("", territory):
        extra = ["--territory", scope] if scope else []
        tag = "t" if scope else "d"
        cli("export", "--workspace", path, "--format", "pdf", "--level", level, *extra, "--out", folder / f"{tag}.pdf")
        cli("export", "--workspace", path, "--format", "xlsx", "--level", level, *extra, "--out", folder / f"{tag}.xlsx")
        cli("export", "--workspace", path, "--format", "csv", "--level", level, *extra, "--out", folder / f"{tag}-csv")
        text = " ".join(subprocess.run(["pdftotext", str(folder / f"{tag}.pdf"), "-"], capture_output=True,
                                       text=True, check=True).stdout.split())
        assert "Zones blanches — Numérique — au-delà de 10 km" in text and "&#39;" not in text
        zones = sorted(p.name for p in (folder / f"{tag}-csv").glob("zones_blanches_*.csv"))
        assert len(zones) == len(themes)  # every top-level theme of the offer, at 10 km
        poverty = french_csv(folder / f"{tag}-csv" / "profil_taux_pauvrete.csv").set_index("Territoire")
        assert {"Communes renseignées", "Population couverte (%)"} <= set(poverty.columns)
        book = openpyxl.load_workbook(folder / f"{tag}.xlsx", read_only=True)
        header = [c.value for c in next(book["profil_taux_pauvrete"].iter_rows(min_row=3, max_row=3))]
        assert "Population couverte (%)" in header
        if scope:
            assert set(poverty.index) == {territory, "Département"}
            assert territory in text
    # the population share of the département printed in the annex, computed from the raw files
    communes = read_rows(real_data / dept / "communes.csv")
    filosofi = {r["CODGEO"]: r for r in read_rows(real_data / "socio" / "filosofi_2021_communes_94_34.csv", ";")}
    known = sum(int(r["population_municipale"]) for r in communes
                if filosofi[r["code_insee"]]["TP6021"] != "s" and r["code_insee"] != "34144")
    share = round(100 * known / sum(int(r["population_municipale"]) for r in communes))
    department = french_csv(folder / "d-csv" / "profil_taux_pauvrete.csv").set_index("Territoire").loc["Département"]
    assert department["Population couverte (%)"] == share


def test_touching_epci_of_herault_never_share_a_colour(built, real_data):
    dept, path, _ = built
    if dept != "34":
        pytest.skip("17 EPCI in Hérault")
    from diagnostic.maps import group_colours
    from diagnostic.territory import group_of
    ws = load_workspace(path)
    groups = group_of(ws.communes, ws.groupings, "EPCI")
    colours = group_colours(ws.communes, groups)
    # adjacency from the raw boundaries and the raw EPCI membership, commune by commune
    epci = {r["code_insee"]: r["epci_nom"] for r in read_rows(real_data / dept / "communes.csv")}
    features = json.loads((real_data / dept / "communes.geojson").read_text(encoding="utf-8"))["features"]
    shapes = {f["properties"]["code_insee"]: shape(f["geometry"]).buffer(0) for f in features}
    pairs = {tuple(sorted((epci[a], epci[b]))) for a in shapes for b in shapes
             if a < b and epci[a] != epci[b] and shapes[a].distance(shapes[b]) < 1e-4}
    assert len(colours) == 17 and len(pairs) > 20
    assert all(colours[a] != colours[b] for a, b in pairs) and len(set(colours.values())) <= 5
