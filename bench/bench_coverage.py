"""Benchmark of the coverage computations (distances, all themes, siting).

Prints: the per-commune computation for a 700-commune département with 10,000 services, all
themes against a 150,000-cell population grid, a national-scale run (2.3 million grid points
against 10,000 services) and the siting of 5 sites among 1,000 candidates for 150,000 demand
points. Run: .venv/bin/python bench/bench_coverage.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostic.access.points import demand_points, nearest, to_metric  # noqa: E402
from diagnostic.access.siting import greedy_sites  # noqa: E402
from diagnostic.access.white_zones import CoverageParams, commune_coverage, distances_by_theme  # noqa: E402
from diagnostic.demo import write_demo  # noqa: E402
from diagnostic.indicators import fmt_number  # noqa: E402
from diagnostic.offer import COLUMNS  # noqa: E402
from diagnostic.territory import LAMBERT93, WGS84  # noqa: E402
from diagnostic.themes import top_themes  # noqa: E402
from diagnostic.workspace import load_workspace  # noqa: E402

RNG = np.random.default_rng(42)


def best_of(function, repeat: int = 5) -> tuple[float, object]:
    """The fastest of a few runs (seconds) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def synthetic_offer(bounds, n: int) -> pd.DataFrame:
    """n services at random in the bounds, one or two random themes each."""
    from pyproj import Transformer
    minx, miny, maxx, maxy = bounds
    x, y = RNG.uniform(minx, maxx, n), RNG.uniform(miny, maxy, n)
    lon, lat = Transformer.from_crs(LAMBERT93, WGS84, always_xy=True).transform(x, y)
    themes = top_themes()
    return pd.DataFrame({c: "" for c in COLUMNS} | {
        "id": [f"s{i}" for i in range(n)], "name": [f"Service {i}" for i in range(n)],
        "themes": [list(RNG.choice(themes, size=RNG.integers(1, 3), replace=False)) for _ in range(n)],
        "publics": [[] for _ in range(n)], "modes": [["en-presentiel"] for _ in range(n)],
        "merged_from": [[] for _ in range(n)], "lat": lat, "lon": lon, "capacity": np.nan}, columns=COLUMNS)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_demo(Path(tmp) / "ws700", n_communes=700, seed=7)
        ws = load_workspace(Path(tmp) / "ws700")
    metric = ws.communes.to_crs(LAMBERT93)
    ws.offer = synthetic_offer(metric.total_bounds, 10_000)

    seconds, result = best_of(lambda: commune_coverage(ws, CoverageParams(("mobilite",), max_km=10)))
    print(f"Département de {len(ws.communes)} communes, {fmt_number(len(ws.offer), 0)} services, une "
          f"thématique : {seconds:.3f} s ({result.communes['white_zone'].sum()} commune(s) en zone blanche)")

    supply = to_metric(ws.offer["lon"].to_numpy(), ws.offer["lat"].to_numpy(), LAMBERT93)
    minx, miny, maxx, maxy = metric.total_bounds
    grid = np.column_stack([RNG.uniform(minx, maxx, 150_000), RNG.uniform(miny, maxy, 150_000)])
    themes = top_themes()
    seconds, _ = best_of(lambda: distances_by_theme(supply, list(ws.offer["themes"]), grid, themes))
    print(f"Toutes les thématiques ({len(themes)}) pour une grille de 150 000 carreaux : {seconds:.3f} s "
          f"(budget 0,5 s)")

    national = np.column_stack([RNG.uniform(100_000, 1_200_000, 2_300_000),
                                RNG.uniform(6_050_000, 7_100_000, 2_300_000)])
    services = np.column_stack([RNG.uniform(100_000, 1_200_000, 10_000), RNG.uniform(6_050_000, 7_100_000, 10_000)])
    seconds, _ = best_of(lambda: nearest(services, national), repeat=3)
    print(f"Échelle nationale, 2,3 millions de points contre 10 000 services : {seconds:.3f} s (budget 0,6 s)")

    demand = grid
    weights = RNG.integers(0, 50, len(demand)).astype(float)
    covered = RNG.random(len(demand)) < 0.6
    candidates = np.column_stack([RNG.uniform(minx, maxx, 1_000), RNG.uniform(miny, maxy, 1_000)])
    seconds, (chosen, gains) = best_of(lambda: greedy_sites(demand, weights, covered, candidates, 8_000, 5))
    print(f"Choix de 5 sites parmi 1 000 candidats pour 150 000 points de demande (matrice comprise) : "
          f"{seconds:.3f} s (budget 0,5 s), gains {' ; '.join(fmt_number(g, 0) for g in gains)}")

    seconds, _ = best_of(lambda: demand_points(ws.communes))
    print(f"Points de population des {len(ws.communes)} communes : {seconds:.3f} s")


if __name__ == "__main__":
    main()
