"""Coverage: distances in Lambert-93, white zones, remote offer, 2SFCA, siting, GTFS stops."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from diagnostic.access.capacity import two_step_fca
from diagnostic.access.points import nearest
from diagnostic.access.siting import greedy_sites, suggest_sites
from diagnostic.access.white_zones import (CoverageParams, commune_coverage, distance_distribution,
                                           territory_summary)
from diagnostic.errors import InputError
from diagnostic.offer import write_offer
from diagnostic.access.transit import import_gtfs
from diagnostic.workspace import create_workspace, load_workspace

TO_WGS84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def service(sid, x, y, themes=("mobilite",), modes=("en-presentiel",), capacity=float("nan"), zone=("", "")):
    lon, lat = TO_WGS84.transform(x, y)
    return {"id": sid, "name": f"Service {sid}", "structure": "", "siret": "", "themes": list(themes),
            "publics": [], "modes": list(modes), "zone_type": zone[0], "zone_code": zone[1], "address": "",
            "postcode": "", "code_insee": "", "lat": lat, "lon": lon, "precision": "exacte", "source": "test",
            "updated": "", "capacity": capacity, "merged_from": []}


@pytest.fixture
def strip(tmp_path):
    """Three square communes of 10 km side in a row (Lambert-93), centres 10 km apart."""
    features = []
    for i, (code, pop) in enumerate([("01001", 1000), ("01002", 2000), ("01003", 4000)]):
        x0 = 700_000 + i * 10_000
        corners = [TO_WGS84.transform(x, y) for x, y in
                   [(x0, 6_600_000), (x0 + 10_000, 6_600_000), (x0 + 10_000, 6_610_000), (x0, 6_610_000)]]
        features.append({"type": "Feature", "properties": {"code_insee": code, "nom": f"C{i}", "population": pop},
                         "geometry": {"type": "Polygon", "coordinates": [[*corners, corners[0]]]}})
    communes = tmp_path / "communes.geojson"
    communes.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    groupings = tmp_path / "groupings.csv"
    groupings.write_text("code_insee,Territoire\n01001,Ouest\n01002,Ouest\n01003,Est\n", encoding="utf-8")
    indicators = tmp_path / "indicators.csv"
    indicators.write_text("code_insee,indicateur,numerateur,denominateur\n01001,part_foyers_rsa,50,400\n"
                          "01002,part_foyers_rsa,30,800\n01003,part_foyers_rsa,200,1600\n", encoding="utf-8")
    ws = create_workspace(tmp_path / "ws", communes, indicators, groupings)
    return ws


def with_offer(ws, services):
    write_offer(pd.DataFrame(services), ws.path / "offer.csv")
    return load_workspace(ws.path)


def test_nearest_distance_is_metric():
    distance, index = nearest(np.array([[700_000, 6_600_000], [710_000, 6_600_000]]),
                              np.array([[703_000, 6_604_000], [716_000, 6_608_000]]))
    assert distance.tolist() == [5_000.0, 10_000.0] and index.tolist() == [0, 1]


def test_commune_distances_road_and_time(strip):
    # a service 3 km east and 4 km north of the first commune's centre (705 000, 6 605 000)
    ws = with_offer(strip, [service("a", 708_000, 6_609_000)])
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_km=10, detour=1.2, speed_kmh=60))
    table = result.communes.set_index("code_insee")
    expected = {"01001": 5.0, "01002": np.hypot(7, 4), "01003": np.hypot(17, 4)}
    for code, km in expected.items():
        assert table.loc[code, "distance_km"] == pytest.approx(km, abs=0.01)
        assert table.loc[code, "road_km"] == pytest.approx(km * 1.2, abs=0.01)
        assert table.loc[code, "minutes"] == pytest.approx(km * 1.2, abs=0.02)  # 60 km/h
    assert table["white_zone"].tolist() == [False, False, True]  # 9.7 km ok, 21 km not


def test_threshold_in_minutes(strip):
    ws = with_offer(strip, [service("a", 708_000, 6_609_000)])
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_minutes=5.5, detour=1.0, speed_kmh=60))
    assert result.communes["white_zone"].tolist() == [False, True, True]


def test_white_zone_totals_equal_the_flagged_communes(strip):
    ws = with_offer(strip, [service("a", 705_000, 6_605_000)])
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_km=12, detour=1.0, target="part_foyers_rsa"))
    white = result.white_zones()
    summary = territory_summary(result, ws, "Territoire")
    assert summary.loc["Département", "white_population"] == white["population"].sum() == 4000
    assert summary.loc["Département", "white_target"] == white["target"].sum() == 200
    assert summary.loc["Est", "white_communes"] == 1 and summary.loc["Ouest", "white_communes"] == 0
    assert summary.loc["Département", "coverage_rate"] == pytest.approx(3000 / 7000 * 100)
    assert summary.loc["Département", "target_coverage_rate"] == pytest.approx(80 / 280 * 100)
    dist = distance_distribution(result)
    assert dist["population"].sum() == 7000 and dist.loc["0 à 5 km", "population"] == 1000


def test_only_the_chosen_themes_count(strip):
    ws = with_offer(strip, [service("a", 725_000, 6_605_000, themes=("numerique",))])
    assert commune_coverage(ws, CoverageParams(("mobilite",))).communes["white_zone"].all()
    sub = commune_coverage(ws, CoverageParams(("numerique--acquerir-un-equipement",)))
    assert sub.communes["white_zone"].all()  # a top-level-only service does not match a sub-theme
    top = with_offer(strip, [service("a", 725_000, 6_605_000, themes=("numerique--acquerir-un-equipement",))])
    assert not commune_coverage(top, CoverageParams(("numerique",))).communes["white_zone"].iloc[2]


def test_remote_switch_and_diffusion_zones(strip):
    services = [service("a", 705_000, 6_605_000),
                service("tel", 705_000, 6_605_000, modes=("a-distance",), zone=("departement", "01")),
                service("local", 725_000, 6_605_000, modes=("a-distance",), zone=("commune", "01002"))]
    ws = with_offer(strip, services)
    without = commune_coverage(ws, CoverageParams(("mobilite",), max_km=5))
    assert without.communes["white_zone"].tolist() == [False, True, True]
    with_remote = commune_coverage(ws, CoverageParams(("mobilite",), max_km=5, count_remote=True))
    assert not with_remote.communes["white_zone"].any()
    only_commune = with_offer(strip, [services[0], services[2]])
    result = commune_coverage(only_commune, CoverageParams(("mobilite",), max_km=5, count_remote=True))
    assert result.communes["white_zone"].tolist() == [False, False, True]


def test_itinerant_services_count_where_they_stop(strip):
    ws = with_offer(strip, [service("bus-1", 725_000, 6_605_000, modes=("itinerant",))])
    assert commune_coverage(ws, CoverageParams(("mobilite",), max_km=5)).communes["white_zone"].tolist() == \
        [True, True, False]


def test_two_step_floating_catchment_by_hand():
    # communes A (1000 people) and B (3000) reach service S1 (capacity 8); C (1000) reaches S1? no,
    # C reaches only S2 (capacity 2). With catchment 6 km:
    demand = np.array([[0, 0], [5_000, 0], [20_000, 0]])
    population = np.array([1000, 3000, 1000])
    supply = np.array([[2_000, 0], [20_000, 1_000]])
    capacity = np.array([8, 2])
    index = two_step_fca(supply, capacity, demand, population, 6_000)
    # S1 is shared by 4000 people: 8/4000 = 0.002 each; S2 by 1000: 0.002
    assert index.tolist() == pytest.approx([0.002, 0.002, 0.002])
    crowded = two_step_fca(supply, capacity, demand, np.array([1000, 39_000, 1000]), 6_000)
    assert crowded[0] == pytest.approx(8 / 40_000) and crowded[2] == pytest.approx(0.002)


def test_greedy_siting_finds_the_best_sites():
    # two clusters of demand, one already covered; candidates at both and one in between
    demand = np.array([[0, 0], [100, 0], [10_000, 0], [10_100, 0], [20_000, 0]])
    weights = np.array([500, 500, 300, 300, 50])
    covered = np.array([True, True, False, False, False])
    candidates = np.array([[50, 0], [10_050, 0], [20_000, 0], [15_000, 0]])
    chosen, gains = greedy_sites(demand, weights, covered, candidates, 1_000, 3)
    assert chosen == [1, 2] and gains == [600, 50]  # covered demand is not counted again


def test_suggested_sites_raise_coverage(strip):
    ws = with_offer(strip, [service("a", 705_000, 6_605_000)])
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_km=8, detour=1.0))
    sites = suggest_sites(ws, result, 2)
    assert sites.candidates["code_insee"].tolist() == ["01003", "01002"]
    assert sites.covered_before == 1000 and sites.covered_after == 7000 == sites.total


def gtfs_zip(path, with_times=True, bom=True):
    prefix = "\ufeff" if bom else ""
    files = {
        "stops.txt": prefix + "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                     "P,Gare,46.2,3.1,1,\nA,Centre,46.20139,3.11604,0,P\nB,Hameau,46.53071,3.43323,0,\n"
                     "Z,Lyon,45.76,4.83,0,\n",
        "trips.txt": prefix + "route_id,service_id,trip_id\nL1,SEM,t1\nL1,SEM,t2\nL1,WE,t3\n",
        "stop_times.txt": prefix + "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "t1,08:00:00,08:00:00,A,1\nt1,08:20:00,08:20:00,B,2\nt2,09:00:00,09:00:00,A,1\n"
                          "t3,10:00:00,10:00:00,A,1\n",
        "calendar.txt": prefix + "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                        "SEM,1,1,1,1,1,0,0,20260101,20261231\nWE,0,0,0,0,0,1,1,20260101,20261231\n",
    }
    if not with_times:
        files = {"stops.txt": files["stops.txt"]}
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_gtfs_stops_and_weekday_departures(demo_copy, tmp_path):
    ws = load_workspace(demo_copy)
    report = import_gtfs(ws, gtfs_zip(tmp_path / "reseau.zip"))
    assert (report.kept, report.outside) == (2, 1)  # the station row is not a stop; Lyon is outside
    stops = load_workspace(demo_copy).stops.set_index("stop_id")
    new = stops[stops["feed"] == "reseau.zip"]
    assert new.loc["A", "departures"] == 2 and new.loc["B", "departures"] == 1  # weekend trip left out
    assert new.loc["A", "code_insee"] == "00103"
    import_gtfs(load_workspace(demo_copy), gtfs_zip(tmp_path / "reseau.zip", with_times=False))
    again = load_workspace(demo_copy).stops
    assert (again["feed"] == "reseau.zip").sum() == 2  # the same feed is replaced, not added
    assert again.loc[again["feed"] == "reseau.zip", "departures"].isna().all()


@pytest.mark.parametrize("content, message", [(b"not a zip", "archive zip"), (None, "stops.txt")])
def test_bad_gtfs_is_refused_and_changes_nothing(demo_copy, tmp_path, content, message):
    path = tmp_path / "flux.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("routes.txt", "route_id\nL1\n")
    else:
        path.write_bytes(content)
    before = (demo_copy / "stops.csv").read_bytes()
    with pytest.raises(InputError, match=message):
        import_gtfs(load_workspace(demo_copy), path)
    assert (demo_copy / "stops.csv").read_bytes() == before


def test_mobility_white_zone_needs_both_criteria(demo_copy):
    ws = load_workspace(demo_copy)
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_km=10))
    c = result.communes
    assert (c["white_zone"] == (c["service_white_zone"] & ~c["transit_covered"])).all()
    assert 0 < c["white_zone"].sum() < c["service_white_zone"].sum()  # stops rescue some
    served = ws.stops[ws.stops["departures"] >= 4]
    # a commune with a served stop inside is covered; one whose nearest served stop is 800 m + away
    # and that has none inside is not
    inside = c["code_insee"].isin(set(served["code_insee"]))
    assert c.loc[inside, "transit_covered"].all()
    assert (c.loc[~inside, "transit_covered"] == (c.loc[~inside, "stop_m"] <= 800)).all()
    assert "arrêt" in result.describe() and "4 départs" in result.describe()
    fewer = commune_coverage(ws, CoverageParams(("mobilite",), max_km=10, min_departures=40))
    assert fewer.communes["transit_covered"].sum() < c["transit_covered"].sum()
    other = commune_coverage(ws, CoverageParams(("numerique",), max_km=10)).communes
    assert (other["white_zone"] == other["service_white_zone"]).all() and not other["transit_covered"].any()


def test_mobility_without_any_feed_says_only_services_count(strip):
    ws = with_offer(strip, [service("a", 705_000, 6_605_000)])
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_km=5))
    assert "Aucun flux de transport public" in result.describe()
    assert (result.communes["white_zone"] == result.communes["service_white_zone"]).all()


def test_a_theme_without_any_service_is_all_white_and_exports_cleanly(strip):
    from diagnostic.access.white_zones import export_table
    ws = with_offer(strip, [service("a", 705_000, 6_605_000)])
    result = commune_coverage(ws, CoverageParams(("sante",), max_km=5))
    assert result.communes["white_zone"].all()
    table = export_table(result, ws)
    assert table["distance_route_km"].isna().all() and (table["service_le_plus_proche"] == "aucun").all()
    assert set(result.communes["distance_class"]) == {"plus de 20 km"}


def test_coverage_settings_are_parsed_from_theme_and_threshold():
    assert CoverageParams.parse("mobilite:15km") == CoverageParams(("mobilite",), max_km=15)
    assert CoverageParams.parse("numerique:20min").max_minutes == 20
    assert CoverageParams.parse("numerique:7,5 km").max_km == 7.5
    for bad in ("mobilite", "mobilite:15", "inconnue:10km", ":10km", "mobilite:-3km", "mobilite:0km"):
        with pytest.raises(InputError):
            CoverageParams.parse(bad)


def test_overview_of_all_themes_matches_the_single_theme_result(demo_copy):
    from diagnostic.access.white_zones import themes_overview
    ws = load_workspace(demo_copy)
    params = CoverageParams(("mobilite",), max_km=12)
    overview = themes_overview(ws, params).set_index("theme")
    single = commune_coverage(ws, params).white_zones()
    assert overview.loc["mobilite", "white_communes"] == len(single)
    assert overview.loc["mobilite", "white_population"] == single["population"].sum()
    assert len(overview) >= 10


def test_sites_can_be_chosen_among_places_given_by_the_user(strip):
    from diagnostic.access.siting import read_candidates
    ws = with_offer(strip, [service("a", 705_000, 6_605_000)])
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_km=8, detour=1.0))
    places = [("Gare", 724_000, 6_605_000), ("Mairie annexe", 716_000, 6_605_000), ("Loin", 900_000, 6_605_000)]
    frame = pd.DataFrame({"nom": [p[0] for p in places],
                          "latitude": [str(TO_WGS84.transform(x, y)[1]).replace(".", ",") for _, x, y in places],
                          "longitude": [TO_WGS84.transform(x, y)[0] for _, x, y in places]})
    sites = suggest_sites(ws, result, 2, read_candidates(frame, "lieux.csv"))
    assert sites.candidates["name"].tolist() == ["Gare", "Mairie annexe"]
    assert sites.candidates["gain"].tolist() == [4000, 2000]
    with pytest.raises(InputError, match="colonne « nom »"):
        read_candidates(pd.DataFrame({"lieu_x": [1]}), "lieux.csv")
