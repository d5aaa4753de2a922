"""Travel times on a small OpenStreetMap network written by the test: known lengths and speeds,
snapping, unreachable points, the network chosen over crow-fly, bad extracts."""

from __future__ import annotations

import numpy as np
import pytest

from diagnostic.errors import InputError
from diagnostic.territory import WGS84
from diagnostic.travel import network
from diagnostic.travel.network import import_roads, network_info
from diagnostic.travel.times import MAX_SNAP_M, WALK_M_PER_MIN, engine, nearest_times
from diagnostic.workspace import load_workspace
from tests.osm_writer import metres_east, write_lattice, write_osm
from tests.workspaces import small_workspace, snapshot

LAT = 43.46
WEST = 3.285
EAST = WEST + metres_east(LAT, 2000)  # a 2 km residential street, due east
ISLAND_LAT = LAT + 1670 / 110_574  # a 300 m street 1.67 km north, joined to nothing


@pytest.fixture(scope="module")
def roads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("roads")
    ws_path = small_workspace(folder)
    extract = write_osm(folder / "essai.osm.pbf", [
        ([(WEST, LAT), (EAST, LAT)], {"highway": "residential"}),
        ([(WEST, ISLAND_LAT), (WEST + metres_east(LAT, 300), ISLAND_LAT)], {"highway": "residential"}),
    ])
    ws = load_workspace(ws_path)
    import_roads(ws_path, extract, tuple(ws.communes.to_crs(WGS84).total_bounds))
    return ws_path


def times(ws_path, mode, origins, targets):
    return nearest_times(engine(ws_path, mode), np.asarray(origins, float), np.asarray(targets, float))


def test_times_follow_the_length_and_the_profile_speed(roads):
    info = network_info(roads)
    assert info.ways == 2 and info.top_speed("route") == 25  # a residential street: OSRM's car profile
    walk = times(roads, "marche", [(WEST, LAT)], [(EAST, LAT)])
    assert walk.minutes[0] == pytest.approx(2000 / 5000 * 60, rel=0.03)  # 5 km/h on foot: 24 min
    drive = times(roads, "route", [(WEST, LAT)], [(EAST, LAT)])
    assert drive.minutes[0] == pytest.approx(2000 / 25_000 * 60, rel=0.05)  # 25 km/h: 4.8 min
    assert walk.snap_m[0] < 2 and walk.index[0] == 0


def test_the_walk_to_the_road_is_measured_and_added(roads):
    off = LAT + 300 / 110_574  # 300 m north of the street, halfway
    middle = WEST + metres_east(LAT, 1000)
    on_road = times(roads, "marche", [(middle, LAT)], [(EAST, LAT)]).minutes[0]
    result = times(roads, "marche", [(middle, off)], [(EAST, LAT)])
    assert result.snap_m[0] == pytest.approx(300, abs=3)
    assert result.minutes[0] == pytest.approx(on_road + result.snap_m[0] / WALK_M_PER_MIN, abs=0.05)


def test_points_off_the_network_or_cut_from_the_services_are_unreachable(roads):
    far = (WEST + metres_east(LAT, 1000), LAT - 2100 / 110_574)  # 2.1 km from any road
    island = (WEST + metres_east(LAT, 150), ISLAND_LAT)
    result = times(roads, "route", [far, island, (WEST, LAT)], [(EAST, LAT)])
    assert np.isinf(result.minutes[:2]).all() and list(result.index[:2]) == [-1, -1]
    assert result.snap_m[0] > MAX_SNAP_M and np.isfinite(result.minutes[2])
    assert result.unreachable.tolist() == [True, True, False]


def test_the_nearest_by_the_network_beats_the_nearest_as_the_crow_flies(roads):
    origin = (WEST + metres_east(LAT, 100), LAT)
    island_service = (WEST + metres_east(LAT, 100), ISLAND_LAT)  # 1.67 km away, but no road leads there
    street_end = (EAST, LAT)  # 1.9 km away by the street
    result = times(roads, "marche", [origin], [island_service, street_end])
    assert result.index[0] == 1 and result.minutes[0] == pytest.approx(1900 / 5000 * 60, rel=0.03)


def test_a_file_that_is_not_an_extract_is_refused_and_nothing_changes(tmp_path):
    ws_path = small_workspace(tmp_path)
    before = snapshot(ws_path)
    fake = tmp_path / "region.osm.pbf"
    fake.write_text("nom;adresse\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        import_roads(ws_path, fake, (3.2, 43.4, 3.4, 43.8))
    assert "n'est pas un extrait OpenStreetMap" in error.value.french() and "region.osm.pbf" in error.value.french()
    assert snapshot(ws_path) == before and not list(ws_path.glob(".reseau-*"))


def test_an_extract_of_somewhere_else_is_refused_and_nothing_changes(tmp_path):
    ws_path = small_workspace(tmp_path)
    before = snapshot(ws_path)
    elsewhere = write_osm(tmp_path / "bretagne.osm.pbf", [([(-3.0, 48.0), (-2.99, 48.0)], {"highway": "primary"})])
    with pytest.raises(InputError, match="aucune route de l'extrait n'atteint le territoire"):
        import_roads(ws_path, elsewhere, (3.2, 43.4, 3.4, 43.8))
    assert snapshot(ws_path) == before and not list(ws_path.glob(".reseau-*"))


def test_too_little_memory_is_said_in_french_and_the_old_network_stays(roads, tmp_path, monkeypatch):
    before = snapshot(roads)
    extract = write_osm(tmp_path / "essai2.osm.pbf", [([(WEST, LAT), (EAST, LAT)], {"highway": "primary"})])
    monkeypatch.setattr(network, "MEMORY_LIMIT_BYTES", 60 * 1024**2)
    with pytest.raises(InputError, match="la mémoire de la machine ne suffit pas"):
        import_roads(roads, extract, (3.2, 43.4, 3.4, 43.8))
    assert snapshot(roads) == before and network_info(roads).top_speed("route") == 25


def test_a_one_way_street_is_driven_one_way_and_walked_both(tmp_path):
    ws_path = small_workspace(tmp_path)
    extract = write_osm(tmp_path / "sens.osm.pbf", [([(WEST, LAT), (EAST, LAT)],
                                                      {"highway": "residential", "oneway": "yes"})])
    import_roads(ws_path, extract, (3.2, 43.4, 3.4, 43.8))
    assert times(ws_path, "route", [(WEST, LAT)], [(EAST, LAT)]).minutes[0] == pytest.approx(4.8, rel=0.05)
    assert np.isinf(times(ws_path, "route", [(EAST, LAT)], [(WEST, LAT)]).minutes[0])  # against the one-way
    assert times(ws_path, "marche", [(EAST, LAT)], [(WEST, LAT)]).minutes[0] == pytest.approx(24, rel=0.03)


def test_a_service_further_along_the_same_street_is_reached_without_going_to_its_end(roads):
    at = lambda metres: (WEST + metres_east(LAT, metres), LAT)  # noqa: E731
    ahead = times(roads, "marche", [at(500)], [at(1500)])
    behind = times(roads, "marche", [at(1500)], [at(500)])
    assert ahead.minutes[0] == pytest.approx(12, rel=0.03) and behind.minutes[0] == pytest.approx(12, rel=0.03)


def lattice_kind(number: int, east_west: bool) -> dict:
    """A town of mixed streets: main roads, one-way streets both ways, residential streets."""
    if number % 4 == 0:
        return {"highway": "primary"}
    if number % 4 == 1:
        return {"highway": "residential", "oneway": "yes" if east_west else "-1"}
    return {"highway": "tertiary" if number % 4 == 2 else "residential"}


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("town")
    ws_path = small_workspace(folder)
    extract = write_lattice(folder / "ville.osm.pbf", 3.26, 43.44, 3.32, 43.48, step_m=300, tags=lattice_kind)
    import_roads(ws_path, extract, (3.2, 43.4, 3.4, 43.8))
    return ws_path


@pytest.mark.parametrize("mode", ["route", "marche"])
def test_times_equal_osrm_own_answers_on_a_town_with_one_way_streets_and_turns(town, mode):
    import osrm

    rng = np.random.default_rng(7)
    points = np.column_stack([rng.uniform(3.262, 3.318, 120), rng.uniform(43.442, 43.478, 120)])
    services = np.column_stack([rng.uniform(3.262, 3.318, 6), rng.uniform(43.442, 43.478, 6)])
    result = times(town, mode, points, services)
    direct = osrm.OSRM(algorithm="MLD", storage_config=str(network.graph_path(town, mode)), use_shared_memory=False)
    answer = direct.Table(osrm.TableParameters(
        coordinates=[tuple(p) for p in points] + [tuple(s) for s in services], sources=list(range(len(points))),
        destinations=list(range(len(points), len(points) + len(services))), annotations=["duration"]))
    walks = np.array([s["distance"] for s in answer["sources"]])[:, None] + [d["distance"] for d in answer["destinations"]]
    minutes = np.array(answer["durations"], float) / 60 + walks / WALK_M_PER_MIN
    assert result.snap_m == pytest.approx(walks[:, 0] - answer["destinations"][0]["distance"], abs=0.5)
    assert result.minutes == pytest.approx(minutes.min(axis=1), abs=0.02)  # a second: OSRM's rounding
    assert (result.index == minutes.argmin(axis=1)).mean() > 0.95  # near-ties aside, the same service


def test_reach_within_minutes_agrees_with_the_nearest_service(town):
    from diagnostic.travel.times import times_within

    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(3.262, 3.318, 200), rng.uniform(43.442, 43.478, 200)])
    sites = np.column_stack([rng.uniform(3.262, 3.318, 12), rng.uniform(43.442, 43.478, 12)])
    graph = engine(town, "route")
    within = times_within(graph, points, sites, 2.5).toarray()
    nearest = nearest_times(graph, points, sites)
    reached = within.max(axis=0) > 0
    assert reached.tolist() == (nearest.minutes <= 2.5).tolist() and 0.2 < reached.mean() < 0.9
    best = np.where(within > 0, within, np.inf).min(axis=0)
    assert best[reached] == pytest.approx(nearest.minutes[reached], abs=1e-9)


def write_crossing(path, restricted: bool):
    """Four 500 m arms of residential street meeting at one node; with `restricted`, no right turn
    from the west arm into the south arm."""
    import osmium

    centre = (WEST, LAT)
    ends = {"ouest": (WEST - metres_east(LAT, 500), LAT), "est": (WEST + metres_east(LAT, 500), LAT),
            "sud": (WEST, LAT - 500 / 110_574), "nord": (WEST, LAT + 500 / 110_574)}
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as writer:
        writer.add_node(osmium.osm.mutable.Node(id=1, location=centre))
        for arm, (lon, lat) in enumerate(ends.values()):
            ids = [1]
            for step in range(1, 11):
                ids.append(100 * (arm + 1) + step)
                writer.add_node(osmium.osm.mutable.Node(id=ids[-1], location=(
                    centre[0] + (lon - centre[0]) * step / 10, centre[1] + (lat - centre[1]) * step / 10)))
            writer.add_way(osmium.osm.mutable.Way(id=arm + 1, nodes=ids[::-1] if arm == 0 else ids,
                                                  tags={"highway": "residential"}))
        if restricted:
            writer.add_relation(osmium.osm.mutable.Relation(
                id=1, members=[("w", 1, "from"), ("n", 1, "via"), ("w", 3, "to")],
                tags={"type": "restriction", "restriction": "no_right_turn"}))
    return path, ends


@pytest.mark.parametrize("restricted", [False, True])
def test_a_forbidden_turn_of_the_extract_is_respected(tmp_path, restricted):
    ws_path = small_workspace(tmp_path)
    extract, ends = write_crossing(tmp_path / "carrefour.osm.pbf", restricted)
    import_roads(ws_path, extract, (3.2, 43.4, 3.4, 43.8))
    minutes = times(ws_path, "route", [ends["ouest"]], [ends["sud"]]).minutes[0]
    walk = times(ws_path, "marche", [ends["ouest"]], [ends["sud"]]).minutes[0]
    assert walk == pytest.approx(12, rel=0.05)  # on foot the restriction does not apply
    if restricted:  # the car goes on to an arm's end and comes back: twice the way
        assert minutes >= 2 * 1000 / 25_000 * 60
    else:
        assert minutes == pytest.approx(1000 / 25_000 * 60, rel=0.1)
