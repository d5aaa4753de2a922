"""Benchmark of travel times on the network (OSRM) beside the crow-fly path on the same points.

Prints, as medians of interleaved runs with the ratio to the crow-fly KD-tree anchor measured in
the same run: the preparation of the demo's network and of the real Monaco extract (time, peak
memory of the OSRM steps), one theme for the demo's grid (car and foot), all themes of the demo,
and a synthetic département of 150,000 cells and 1,000 services on two networks (the demo
generator's roads, and a street lattice the size of a real département's network).
Run: .venv/bin/python bench/bench_travel.py [runs] [--demo]  (--demo: without the synthetic département)
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostic.access.points import nearest  # noqa: E402
from diagnostic.access.white_zones import (CoverageParams, commune_coverage, in_person_services,  # noqa: E402
                                           present_themes)
from diagnostic.demo_roads import road_lines, write_roads  # noqa: E402
from diagnostic.territory import LAMBERT93, WGS84  # noqa: E402
from diagnostic.travel.network import BUNDLED_EXTRACT, import_roads  # noqa: E402
from diagnostic.travel.times import nearest_times, _graph  # noqa: E402
from diagnostic.workspace import DEMO_WORKSPACE, load_workspace  # noqa: E402
from tests.osm_writer import write_lattice  # noqa: E402

RNG = np.random.default_rng(42)
REAL = ROOT.parent / "shared" / "realdata" / "osm" / "monaco.osm.pbf"


def interleaved(runs: int, **functions) -> dict[str, float]:
    """Median seconds of each function, the functions run in turn `runs` times."""
    times = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def line(label: str, seconds: float, anchor: float, anchor_label: str) -> None:
    print(f"{label} : {seconds:.3f} s — {anchor_label} {anchor:.3f} s — rapport {seconds / anchor:.1f}")


def preparation(extract: Path, bounds, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        info = import_roads(Path(tmp), extract, bounds)
        total = time.perf_counter() - start
    copy = lambda: shutil.copy(extract, Path(tempfile.gettempdir()) / "pti-bench-copy.pbf")  # noqa: E731
    anchor = interleaved(3, copy=copy)["copy"]
    print(f"Préparation du réseau {label} ({info.ways} voies) : {total:.2f} s (voiture {info.seconds['route']:.2f} s, "
          f"marche {info.seconds['marche']:.2f} s), mémoire de pointe OSRM {max(info.peak_mb.values()):.0f} Mio — "
          f"copie du fichier {anchor:.4f} s")


def timed_themes(ws, mode: str, runs: int) -> None:
    themes = present_themes(ws.offer)
    services = in_person_services(ws.offer)

    def network():
        ws.memo.clear()
        for theme in themes:
            commune_coverage(ws, CoverageParams((theme,), max_minutes=20, mode=mode))

    def crow():
        ws.memo.clear()
        for theme in themes:
            commune_coverage(ws, CoverageParams((theme,), max_minutes=20))

    commune_coverage(ws, CoverageParams((themes[0],), max_minutes=20, mode=mode))  # the network is loaded
    one = interleaved(runs, network=lambda: (ws.memo.clear(), commune_coverage(
        ws, CoverageParams(("numerique",), max_minutes=20, mode=mode))), crow=lambda: commune_coverage(
        ws, CoverageParams(("numerique",), max_minutes=20)))
    cells = len(commune_coverage(ws, CoverageParams(("numerique",), max_minutes=20, mode=mode)).points)
    line(f"Démo, une thématique ({mode}, {cells} carreaux, {len(services)} services)", one["network"], one["crow"],
         "vol d'oiseau (un point par commune)")
    every = interleaved(max(1, runs // 2), network=network, crow=crow)
    line(f"Démo, toutes les thématiques ({len(themes)}, {mode})", every["network"], every["crow"], "vol d'oiseau")


def synthetic(cells: int, services: int, runs: int, lattice: bool = False) -> None:
    """A département of `cells` inhabited cells and `services` services on a generated network:
    the demo generator's roads between 3,000 seats, or (`lattice`) streets every 250 m over
    120 × 100 km, a network the size of a real département's."""
    from pyproj import Transformer
    to_wgs = Transformer.from_crs(LAMBERT93, WGS84, always_xy=True)
    with tempfile.TemporaryDirectory() as tmp:
        extract = Path(tmp) / BUNDLED_EXTRACT
        if lattice:
            west, south, east, north = 3.0, 43.4, 4.5, 44.3
            write_lattice(extract, west, south, east, north, step_m=250)
            lon, lat = RNG.uniform(west, east, cells + services), RNG.uniform(south, north, cells + services)
            home_ll, spot_ll = np.column_stack([lon, lat])[:cells], np.column_stack([lon, lat])[cells:]
        else:
            seats = np.column_stack([RNG.uniform(600_000, 750_000, 3_000), RNG.uniform(6_450_000, 6_600_000, 3_000)])
            kinds = ["ville" if i < 30 else "rural" for i in range(len(seats))]
            write_roads(extract, seats, road_lines(seats, kinds, RNG))
            lon, lat = to_wgs.transform(seats[:, 0], seats[:, 1])
            west, south, east, north = lon.min(), lat.min(), lon.max(), lat.max()
            home = seats[RNG.integers(0, len(seats), cells)] + RNG.normal(0, 350, (cells, 2))
            spots = seats[RNG.integers(0, len(seats), services)] + RNG.normal(0, 200, (services, 2))
            home_ll = np.column_stack(to_wgs.transform(home[:, 0], home[:, 1]))
            spot_ll = np.column_stack(to_wgs.transform(spots[:, 0], spots[:, 1]))
        to_l93 = Transformer.from_crs(WGS84, LAMBERT93, always_xy=True)
        home, spots = (np.column_stack(to_l93.transform(p[:, 0], p[:, 1])) for p in (home_ll, spot_ll))
        info = import_roads(Path(tmp), extract, (west, south, east, north))
        result = {}

        def network():
            _graph.cache_clear()  # reading the graph counts: a page reads it once per network version
            result["t"] = nearest_times(_graph(str(Path(tmp) / "reseau" / "route" / "reseau.osrm"), 0.0),
                                        home_ll, spot_ll)

        medians = interleaved(runs, network=network, crow=lambda: nearest(spots, home))
        graph = _graph(str(Path(tmp) / "reseau" / "route" / "reseau.osrm"), 0.0)
        warm = interleaved(runs, network=lambda: nearest_times(graph, home_ll, spot_ll),
                           crow=lambda: nearest(spots, home))
        unreachable = int(result["t"].unreachable.sum())
        kind = "rues tous les 250 m sur 120 × 100 km" if lattice else "routes de la démo entre 3 000 communes"
        label = f"Synthétique, {cells:_} carreaux × {services:_} services, {kind}".replace("_", "\u202f")
        line(f"{label}, {graph.n:_} tronçons orientés".replace("_", "\u202f") + ", graphe lu compris",
             medians["network"], medians["crow"], "KD-tree à vol d'oiseau")
        line(f"{label}, graphe déjà lu", warm["network"], warm["crow"], "KD-tree à vol d'oiseau")
        print(f"  (budget 3 s ; {unreachable} carreau(x) injoignable(s) ; préparation OSRM "
              f"{sum(info.seconds.values()):.0f} s, {max(info.peak_mb.values()):.0f} Mio)")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
    ws = load_workspace(DEMO_WORKSPACE)
    bounds = tuple(ws.communes.to_crs(WGS84).total_bounds)
    preparation(DEMO_WORKSPACE / BUNDLED_EXTRACT, bounds, "de la démo")
    if REAL.is_file():
        preparation(REAL, (7.35, 43.71, 7.49, 43.77), "réel de Monaco (OpenStreetMap 2016)")
    for mode in ("route", "marche"):
        timed_themes(ws, mode, runs)
    if "--demo" not in sys.argv:
        synthetic(150_000, 1_000, runs)
        synthetic(150_000, 1_000, runs, lattice=True)


if __name__ == "__main__":
    main()
