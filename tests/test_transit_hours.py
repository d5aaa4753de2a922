"""Public transport as it runs: departures per hour of a typical weekday, school-only services
flagged, the hours chosen, and on the network the walk to a served stop."""

from __future__ import annotations

import numpy as np
import pytest

from diagnostic.access.grid import import_grid
from diagnostic.access.transit import import_gtfs
from diagnostic.access.white_zones import CoverageParams, commune_coverage
from diagnostic.io.gtfs import window_departures
from diagnostic.territory import WGS84
from diagnostic.travel.network import import_roads
from diagnostic.workspace import load_workspace
from tests.osm_writer import metres_east, write_osm
from tests.test_grid import official_csv
from tests.workspaces import small_workspace

LAT, WEST = 43.46, 3.285
FEED = {
    "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\nA,Abeilhan mairie,{LAT},{WEST}\nB,Adissan,43.54,3.42\n",
    "routes.txt": "route_id,route_short_name,route_long_name\nL1,1,Béziers - Abeilhan\nSC,S2,Desserte scolaire collège\n",
    "trips.txt": "route_id,service_id,trip_id\n" + "".join(f"L1,S,l{h}\n" for h in (7, 8, 12, 18, 25))
                 + "SC,S,s7\nSC,S,s16\nL1,W,weekend\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      + "".join(f"l{h},{h:02d}:05:00,{h:02d}:05:00,A,1\n" for h in (7, 8, 12, 18, 25))
                      + "s7,07:40:00,07:40:00,A,1\ns16,16:30:00,16:30:00,A,1\nweekend,10:00:00,10:00:00,A,1\n"
                      + "l8,08:30:00,08:30:00,B,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                    "S,1,1,1,1,1,0,0,20260101,20261231\nW,0,0,0,0,0,1,1,20260101,20261231\n",
}


@pytest.fixture
def ws_path(tmp_path):
    path = small_workspace(tmp_path / "ws")
    feed = tmp_path / "feed"
    feed.mkdir()
    for name, text in FEED.items():
        (feed / name).write_text(text, encoding="utf-8")
    import_gtfs(load_workspace(path), feed, "Réseau essai")
    return path


def test_departures_are_counted_per_hour_with_the_school_services_apart(ws_path):
    stops = load_workspace(ws_path).stops.set_index("stop_id")
    a = stops.loc["A"]
    assert a["departures"] == 7 and a["school"] == 2  # 5 line trips (one after midnight) + 2 school trips
    hours = [int(v) for v in a["hours"].split(";")]
    assert len(hours) == 30 and hours[7] == 2 and hours[25] == 1 and sum(hours) == 7
    everything = window_departures(stops, 0, 30, True)
    assert everything["A"] == 7 and everything["B"] == 1
    assert window_departures(stops, 6, 20, True)["A"] == 6  # the 1:05 bus is outside
    assert window_departures(stops, 6, 20, False)["A"] == 4  # without the two school trips


def test_the_mobility_criterion_follows_the_hours_and_the_school_choice(ws_path):
    ws = load_workspace(ws_path)
    base = dict(max_km=10, min_departures=6)
    all_day = commune_coverage(ws, CoverageParams(("mobilite",), **base)).communes.set_index("code_insee")
    assert all_day.loc["34001", "transit_covered"]  # 7 departures at Abeilhan's stop
    no_school = commune_coverage(ws, CoverageParams(("mobilite",), school=False, **base))
    assert not no_school.communes.set_index("code_insee").loc["34001", "transit_covered"]  # 7 - 2 school trips = 5 < 6
    assert "services scolaires non comptés" in no_school.describe()
    daytime = commune_coverage(ws, CoverageParams(("mobilite",), first_hour=6, last_hour=20, **base))
    assert daytime.communes.set_index("code_insee").loc["34001", "transit_covered"]  # 6 between 6 h and 20 h
    assert "entre 6 h et 20 h" in daytime.describe()


def test_on_the_network_a_cell_is_served_when_the_stop_is_within_the_walk(ws_path, tmp_path):
    east = WEST + metres_east(LAT, 2500)
    extract = write_osm(tmp_path / "rues.osm.pbf", [([(WEST, LAT), (east, LAT)], {"highway": "residential"})])
    ws = load_workspace(ws_path)
    import_roads(ws_path, extract, tuple(ws.communes.to_crs(WGS84).total_bounds))
    import_grid(ws_path, official_csv(tmp_path / "carreaux.csv"), ws.communes)
    ws = load_workspace(ws_path)
    result = commune_coverage(ws, CoverageParams(("mobilite",), max_minutes=15, mode="marche", walk_minutes=10))
    points = result.points[result.points["code_insee"] == "34001"]
    assert (points["transit"] == (points["stop_minutes"] <= 10)).all() and points["transit"].any()
    assert not points["transit"].all()  # the cell 2 km east is 24 minutes' walk from the stop
    share = points.loc[~points["transit"], "share"].sum() / points["share"].sum()  # no mobility service at all
    assert result.communes.set_index("code_insee").loc["34001", "white_share"] == pytest.approx(share)
    assert "à 10 minutes à pied au plus, sur le réseau piéton" in result.describe()
    assert np.isinf(result.points.loc[result.points["code_insee"] == "34144", "stop_minutes"]).all()
