"""The Filosofi 200 m grid: official column names and formats, imputed cells, cells outside the
territory, totals per commune, and white zones in minutes from the cells."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from diagnostic.access.grid import import_grid, read_grid
from diagnostic.access.white_zones import CoverageParams, commune_coverage, distance_distribution
from diagnostic.errors import InputError
from diagnostic.territory import WGS84
from diagnostic.travel.network import import_roads
from diagnostic.workspace import load_workspace
from tests.osm_writer import metres_east, write_osm
from tests.workspaces import small_workspace, snapshot

TO_LAEA = Transformer.from_crs(WGS84, "EPSG:3035", always_xy=True)


def cell_id(lon: float, lat: float) -> str:
    x, y = TO_LAEA.transform(lon, lat)
    return f"CRS3035RES200mN{int(y // 200 * 200)}E{int(x // 200 * 200)}"


# (lon, lat, people, imputed): three cells in Abeilhan (34001), one in Adissan (34002), one in Brittany
CELLS = [(3.290, 43.460, "120,5", 0), (3.300, 43.460, "8", 1), (3.310, 43.470, "40", 0),
         (3.420, 43.540, "75", 0), (-3.0, 48.0, "30", 0)]


def official_csv(path, cells=CELLS):
    lines = ["Idcar_200m;I_est_200;Ind;Men;Men_pauv"]
    lines += [f"{cell_id(lon, lat)};{imputed};{people};3;1" for lon, lat, people, imputed in cells]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ws_path(tmp_path):
    return small_workspace(tmp_path)


def test_official_columns_imputed_cells_and_cells_outside(ws_path, tmp_path):
    info = import_grid(ws_path, official_csv(tmp_path / "Filosofi2021_carreaux_200m_met.csv"),
                       load_workspace(ws_path).communes)
    assert (info.cells, info.outside, info.imputed, info.communes, info.vintage) == (4, 0, 1, 2, "2021")
    cells = read_grid(ws_path)
    assert dict(cells.groupby("code_insee")["ind"].sum()) == {"34001": 168.5, "34002": 75.0}
    assert cells.set_index("idcar").loc[cell_id(3.300, 43.460), "imputed"]
    assert "1 estimés" in info.french() and "jamais affichés seuls" in info.french()


def test_a_national_file_is_read_in_chunks_keeping_the_territory(ws_path, tmp_path, monkeypatch):
    import diagnostic.access.grid as grid
    monkeypatch.setattr(grid, "CHUNK_ROWS", 2)
    info = import_grid(ws_path, official_csv(tmp_path / "carreaux.csv"), load_workspace(ws_path).communes)
    assert info.cells == 4 and info.outside == 0  # the Brittany cell is far outside: never kept


@pytest.mark.parametrize("suffix", ["gpkg", "parquet"])
def test_geopackage_and_parquet(ws_path, tmp_path, suffix):
    frame = pd.DataFrame({"idcar_200m": [cell_id(lon, lat) for lon, lat, *_ in CELLS],
                          "i_est_200": [c[3] for c in CELLS], "ind": [float(c[2].replace(",", ".")) for c in CELLS]})
    file = tmp_path / f"carreaux.{suffix}"
    if suffix == "gpkg":
        gpd.GeoDataFrame(frame, geometry=[box(0, 0, 200, 200)] * len(frame), crs="EPSG:3035").to_file(file)
    else:
        frame.to_parquet(file)
    assert import_grid(ws_path, file, load_workspace(ws_path).communes).cells == 4


def test_bad_grid_files_are_refused_with_line_and_field(ws_path, tmp_path):
    communes = load_workspace(ws_path).communes
    before = snapshot(ws_path)
    wrong = tmp_path / "carreaux.csv"
    wrong.write_text("Idcar_200m;Ind\nCRS3035RES200mN2300000E3700000;3\nCRS3035RES1000mN23E37;4\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        import_grid(ws_path, wrong, communes)
    assert error.value.line == 3 and error.value.field == "Idcar_200m"
    wrong.write_text("code;population\n34001;3\n", encoding="utf-8")
    with pytest.raises(InputError, match="idcar_200m"):
        import_grid(ws_path, wrong, communes)
    official_csv(wrong, [(3.29, 43.46, "beaucoup", 0)])
    with pytest.raises(InputError) as error:
        import_grid(ws_path, wrong, communes)
    assert error.value.line == 2 and error.value.field == "Ind"
    official_csv(wrong, [(-3.0, 48.0, "30", 0)])
    with pytest.raises(InputError, match="aucun carreau"):
        import_grid(ws_path, wrong, communes)
    assert snapshot(ws_path) == before


def test_white_zones_in_minutes_weight_each_commune_by_its_cells(ws_path, tmp_path):
    lat = 43.46
    west, east = 3.285, 3.285 + metres_east(lat, 2500)
    extract = write_osm(tmp_path / "essai.osm.pbf", [([(west, lat), (east, lat)], {"highway": "residential"}),
                                                    ([(3.41, 43.54), (3.43, 43.54)], {"highway": "residential"})])
    ws = load_workspace(ws_path)
    import_roads(ws_path, extract, tuple(ws.communes.to_crs(WGS84).total_bounds))
    import_grid(ws_path, official_csv(tmp_path / "carreaux.csv"), ws.communes)
    service = tmp_path / "offre.csv"
    service.write_text(f"nom,thematiques,latitude,longitude,code_insee\nPoint numérique,numerique,{lat},{west},34001\n",
                       encoding="utf-8")
    from diagnostic.offer_import import import_offer
    import_offer(load_workspace(ws_path), service, "csv")
    ws = load_workspace(ws_path)
    result = commune_coverage(ws, CoverageParams(("numerique",), max_minutes=10, mode="marche"))
    points = result.points
    assert set(points["source"]) == {"carreau", "commune"}  # Lunas has no cell: its central point counts
    abeilhan = points[points["code_insee"] == "34001"].set_index("lon")["minutes"]
    assert abeilhan.is_monotonic_increasing  # further east along the street, further from the service
    # the share beyond 10 minutes, computed here from the cells: people of the cells beyond / all people
    people = {cell_id(lon, lat_): float(p.replace(",", ".")) for lon, lat_, p, _ in CELLS}
    cells = read_grid(ws_path).set_index("idcar")
    minutes = dict(zip(points.loc[points["source"] == "carreau", "lon"], points.loc[points["source"] == "carreau", "minutes"]))
    beyond = sum(people[i] for i in cells.index if cells.loc[i, "code_insee"] == "34001" and minutes[cells.loc[i, "lon"]] > 10)
    total = sum(people[i] for i in cells.index if cells.loc[i, "code_insee"] == "34001")
    row = result.communes.set_index("code_insee").loc["34001"]
    assert row["white_share"] == pytest.approx(beyond / total) and 0 < beyond < total
    assert result.white_population() == pytest.approx(sum(result.communes["population"] * result.communes["white_share"]))
    distribution = distance_distribution(result)
    assert distribution["population"].sum() == pytest.approx(ws.communes["population"].sum())
    assert list(distribution.index) == ["moins de 10 min", "10 à 20 min", "20 à 30 min", "plus de 30 min"]
    assert np.isinf(points.loc[points["code_insee"] == "34144", "minutes"]).all()  # no road near Lunas


def test_the_exact_covering_solver_beats_greedy_where_greedy_is_trapped():
    from scipy.sparse import csr_matrix
    from diagnostic.access.siting import exact_sites, greedy_on
    # the classic trap of greedy coverage: the middle site covers most, but the two others together cover all
    reach = csr_matrix(np.array([[1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 0, 0, 1, 1]], float))
    weights = np.array([10, 10, 10, 10, 9, 9, 9, 9], float)
    greedy, gains = greedy_on(reach, weights, 2)
    exact, total, optimal = exact_sites(reach, weights, 2)
    assert greedy == [0, 1] and sum(gains) == 58
    assert sorted(exact) == [1, 2] and total == 76 and optimal


def test_sites_and_capacity_on_the_demo_network_are_in_minutes():
    from diagnostic.access.capacity import capacity_access, step_decay
    from diagnostic.access.siting import suggest_sites
    ws = load_workspace()
    result = commune_coverage(ws, CoverageParams(("numerique",), max_minutes=20, mode="route"))
    sites = suggest_sites(ws, result, 4)
    assert "temps de trajet en voiture" in sites.method and "HiGHS" in sites.method
    assert sites.covered_after > sites.covered_before and len(sites.candidates) >= 1
    assert list(step_decay(np.array([5.0, 10.0, 12.0, 16.0, 20.0, 21.0]), 20)) == [1, 1, 0.66, 0.33, 0.33, 0]
    access = capacity_access(ws, result)
    assert access is not None and (access > 0).any() and len(access) == len(ws.communes)


def test_capacity_on_the_network_shares_each_service_among_the_people_of_the_cells_it_reaches():
    from diagnostic.access.capacity import capacity_access
    from diagnostic.access.network_coverage import demand
    from diagnostic.travel.times import engine, nearest_times
    ws = load_workspace()
    result = commune_coverage(ws, CoverageParams(("numerique",), max_minutes=20, mode="route"))
    services = result.services.dropna(subset=["capacity"]).reset_index(drop=True)
    points = demand(ws)
    people = points["weight"].to_numpy()
    # the test's own matrix: one nearest-service search per service, then the APL steps
    minutes = np.column_stack([nearest_times(engine(ws.path, "route"), points[["lon", "lat"]].to_numpy(float),
                                             services.loc[[i], ["lon", "lat"]].to_numpy(float)).minutes
                               for i in range(len(services))])
    weight = np.select([minutes <= 10, minutes <= 15, minutes <= 20], [1.0, 0.66, 0.33], 0.0)
    ratio = services["capacity"].to_numpy() / (weight * people[:, None]).sum(axis=0)
    cell_index = (weight * np.nan_to_num(ratio)).sum(axis=1)
    frame = points.assign(weighted=cell_index * people)
    expected = frame.groupby("code_insee")["weighted"].sum() / frame.groupby("code_insee")["weight"].sum() * 1000
    access = capacity_access(ws, result)
    partial = frame.assign(reach=cell_index > 0).groupby("code_insee")["reach"].mean()
    assert ((partial > 0) & (partial < 1)).any()  # communes whose cells do not all reach a service
    assert access.to_numpy() == pytest.approx(expected.reindex(access.index).to_numpy(), rel=1e-6)
