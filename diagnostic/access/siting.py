"""Where new services would help most: maximal coverage of the people still out of reach.

By crow-fly, a greedy choice on the sparse reach matrix. On the network, the candidates are first
short-listed by their crow-fly gain, then the reach matrix is built in minutes with OSRM over the
uncovered demand only, and both the greedy choice and the exact maximal covering location problem
(MCLP, an integer programme solved by HiGHS through scipy) are solved on it: the better one is
kept, and both are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from diagnostic.access.points import demand_points, to_metric
from diagnostic.access.params import MODES
from diagnostic.errors import InputError
from diagnostic.indicators import fmt_number
from diagnostic.territory import WGS84, metric_crs


SHORTLIST = 40  # candidates whose network reach is computed
MILP_SECONDS = 10.0


@dataclass
class Sites:
    """Suggested new sites, in the order they were chosen."""

    candidates: pd.DataFrame  # code_insee / name / x / y of the chosen sites, with gain
    covered_before: float
    covered_after: float
    total: float
    method: str = ""  # how the sites were chosen, in French (the comparison on the network)


def crow_reach(demand_xy: np.ndarray, candidates_xy: np.ndarray, reach_m: float) -> csr_matrix:
    """0/1 matrix (candidates × demand, sparse): the demand points within `reach_m` of each candidate."""
    reach = cKDTree(demand_xy).query_ball_point(candidates_xy, r=reach_m, workers=2)
    lengths = np.fromiter((len(r) for r in reach), dtype=np.int64, count=len(reach))
    columns = np.concatenate([np.asarray(r, dtype=np.int64) for r in reach]) if lengths.sum() else \
        np.zeros(0, dtype=np.int64)
    return csr_matrix((np.ones(len(columns)), columns, np.concatenate([[0], np.cumsum(lengths)])),
                      shape=(len(candidates_xy), len(demand_xy)))


def greedy_sites(demand_xy: np.ndarray, weights: np.ndarray, covered: np.ndarray,
                 candidates_xy: np.ndarray, reach_m: float, k: int) -> tuple[list[int], list[float]]:
    """Greedy maximal coverage: pick, one after another, the candidate that covers the most
    still-uncovered weight within `reach_m`. Returns the chosen candidates and their gains.

    The candidate × demand reach matrix is sparse, so each round is one matrix-vector product.
    """
    return greedy_on(crow_reach(demand_xy, candidates_xy, reach_m), np.where(covered, 0.0, weights.astype(float)), k)


def exact_sites(matrix: csr_matrix, uncovered: np.ndarray, k: int, seconds: float = MILP_SECONDS
                ) -> tuple[list[int], float, bool]:
    """The maximal covering location problem solved exactly: k candidates (rows of the 0/1 reach
    matrix) covering the most uncovered weight. Returns the chosen rows, the weight covered, and
    whether optimality was proven within `seconds`."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import hstack, identity, vstack

    useful = np.flatnonzero((uncovered > 0) & (np.asarray(matrix.sum(axis=0)).ravel() > 0))
    n_sites, n_points = matrix.shape[0], len(useful)
    if n_points == 0 or k <= 0:
        return [], 0.0, True
    reach = matrix[:, useful].T.tocsr()  # points × candidates
    cost = np.concatenate([np.zeros(n_sites), -uncovered[useful]])
    link = hstack([-reach, identity(n_points, format="csr")])  # y_p <= sum of the x_c that reach p
    budget = hstack([csr_matrix(np.ones((1, n_sites))), csr_matrix((1, n_points))])
    answer = milp(cost, integrality=np.concatenate([np.ones(n_sites), np.zeros(n_points)]),
                  bounds=Bounds(0, 1), constraints=[LinearConstraint(vstack([link, budget]).tocsr(),
                                                                     -np.inf, np.r_[np.zeros(n_points), min(k, n_sites)])],
                  options={"time_limit": seconds})
    if answer.x is None:
        return [], 0.0, False
    chosen = [int(i) for i in np.flatnonzero(answer.x[:n_sites] > 0.5)]
    return chosen, float(-answer.fun), answer.status == 0


def _gains(matrix: csr_matrix, uncovered: np.ndarray, chosen: list[int]) -> list[float]:
    """The weight each chosen site adds, in order."""
    left, gains = uncovered.copy(), []
    for site in chosen:
        row = matrix.indices[matrix.indptr[site]:matrix.indptr[site + 1]]
        gains.append(float(left[row].sum()))
        left[row] = 0.0
    return gains


def suggest_sites(ws, result: CoverageResult, k: int = 3, candidates: pd.DataFrame | None = None) -> Sites:
    """Where k new services would cover the most uncovered target people, existing services kept.

    Candidates are the communes' central points, or the places given (name, lat, lon).
    """
    demand = demand_points(ws.communes)
    weights = result.communes["target"].fillna(0).to_numpy()
    covered = ~result.communes["white_zone"].to_numpy()
    crs = metric_crs(ws.communes)
    if candidates is None:
        places = demand.assign(name=ws.commune_names().reindex(demand["code_insee"]).to_numpy())
    else:
        xy = to_metric(candidates["lon"].to_numpy(float), candidates["lat"].to_numpy(float), crs)
        places = pd.DataFrame({"name": candidates["name"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})
    if result.points is not None:  # OSRM tables and an integer programme: once per workspace and settings
        key = ("sites", result.params, k, tuple(map(tuple, places[["x", "y"]].round(1).to_numpy())))
        if key not in ws.memo:
            ws.memo[key] = _network_sites(ws, result, k, places, crs)
        return ws.memo[key]
    chosen, gains = greedy_sites(demand[["x", "y"]].to_numpy(), weights, covered,
                                 places[["x", "y"]].to_numpy(), result.params.reach_m(), k)
    return _sites(places, chosen, gains, crs, float(weights[covered].sum()), float(weights.sum()))


def _network_sites(ws, result: CoverageResult, k: int, places: pd.DataFrame, crs: str) -> Sites:
    """Siting on travel times: uncovered demand points, short-listed candidates, greedy and exact."""
    from diagnostic.access.network_coverage import require_network
    from diagnostic.travel.times import engine, times_within

    params, points = result.params, result.points
    communes = result.communes.set_index("code_insee")
    target = communes["target"].fillna(0) / communes["population"].where(communes["population"] > 0)
    weight = (points["weight"] * points["code_insee"].map(target).fillna(0)).to_numpy()
    kept = (communes["covered_remote"] | communes["transit_covered"]).reindex(points["code_insee"]).to_numpy()
    covered = (points["minutes"].to_numpy() <= params.max_minutes) | kept
    uncovered = np.where(covered, 0.0, weight)
    info = require_network(ws, params.mode)
    reach_m = params.max_minutes / 60 * info.top_speed(params.mode) * 1000
    xy = points[["x", "y"]].to_numpy()
    crow = crow_reach(xy, places[["x", "y"]].to_numpy(), reach_m) @ uncovered  # an upper bound of each gain
    shortlist = [int(i) for i in np.argsort(-crow, kind="stable")[:SHORTLIST] if crow[i] > 0]
    site_xy = places[["x", "y"]].to_numpy()[shortlist]
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(site_xy[:, 0], site_xy[:, 1])
    todo = np.flatnonzero(uncovered > 0)
    matrix = times_within(engine(ws.path, params.mode), points[["lon", "lat"]].to_numpy()[todo],
                          np.column_stack([lon, lat]), params.max_minutes)
    full = csr_matrix((np.ones(matrix.nnz), todo[matrix.indices], matrix.indptr), shape=(len(shortlist), len(points)))
    greedy, greedy_gains = greedy_on(full, uncovered, k)
    exact, exact_total, optimal = exact_sites(full, uncovered, k)
    exact = [exact[i] for i in greedy_on(full[exact], uncovered, len(exact))[0]]  # largest gain first
    best = exact if exact_total > sum(greedy_gains) + 1e-9 else greedy
    greedy_total = sum(greedy_gains)
    verdict = ("la solution exacte est retenue" if best is exact else "les deux coïncident"
               if exact_total >= greedy_total - 1e-9 else "la solution gloutonne est retenue")
    method = (f"Sites choisis sur les temps de trajet {MODES[params.mode]} : parmi les {len(shortlist)} lieux "
              f"candidats les plus prometteurs à vol d'oiseau, la méthode gloutonne couvre "
              f"{fmt_number(greedy_total, 0)} personnes de plus, la résolution exacte du problème de couverture "
              f"maximale (programme linéaire en nombres entiers, HiGHS) {fmt_number(exact_total, 0)}"
              f"{'' if optimal else ' (optimum non prouvé dans le temps imparti)'} ; {verdict}.")
    chosen = [shortlist[i] for i in best]
    before = float(np.where(covered, weight, 0).sum())
    return _sites(places, chosen, _gains(full, uncovered, best), crs, before, float(weight.sum()), method)


def greedy_on(matrix: csr_matrix, uncovered: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """The greedy choice on a given reach matrix (candidates × demand)."""
    left, chosen, gains = uncovered.astype(float).copy(), [], []
    for _ in range(min(k, matrix.shape[0])):
        gain = matrix @ left
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        left[matrix.indices[matrix.indptr[best]:matrix.indptr[best + 1]]] = 0.0
    return chosen, gains


def _sites(places: pd.DataFrame, chosen: list[int], gains: list[float], crs: str, before: float, total: float,
           method: str = "") -> Sites:
    sites = places.iloc[chosen].assign(gain=gains).reset_index(drop=True)
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(sites["x"].to_numpy(),
                                                                           sites["y"].to_numpy())
    sites["lon"], sites["lat"] = lon, lat
    return Sites(sites, before, before + sum(gains), total, method)


def read_candidates(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """Candidate places from a user's table: a name and decimal latitude/longitude columns."""
    lower = {c.lower().strip(): c for c in frame.columns}
    columns = {}
    for target, names in {"name": ("nom", "name", "lieu", "libelle"), "lat": ("latitude", "lat", "y"),
                          "lon": ("longitude", "lon", "lng", "x")}.items():
        found = next((lower[n] for n in names if n in lower), None)
        if found is None:
            raise InputError(f"colonne « {names[0]} » introuvable (colonnes : {', '.join(frame.columns)}).",
                             file=file, fix="Le fichier des lieux candidats a les colonnes nom, latitude, longitude.")
        columns[target] = found
    out = pd.DataFrame({"name": frame[columns["name"]].astype(str),
                        "lat": pd.to_numeric(frame[columns["lat"]].astype(str).str.replace(",", "."), errors="coerce"),
                        "lon": pd.to_numeric(frame[columns["lon"]].astype(str).str.replace(",", "."), errors="coerce")})
    bad = out[["lat", "lon"]].isna().any(axis=1)
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError("coordonnées illisibles.", file=file, line=line, field="latitude/longitude",
                         fix="Écrivez des degrés décimaux, par exemple 46,20 et 3,11.")
    return out
