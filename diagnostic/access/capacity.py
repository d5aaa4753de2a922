"""Capacity-aware access: the two-step floating catchment area (2SFCA) index.

By crow-fly, from each commune's population point, every service within reach counts fully. On the
network, in minutes from where people live (the Filosofi cells, else the commune points), a service
counts with the step decay of the DREES accessibility index (APL): fully up to half the threshold,
0.66 up to three quarters, 0.33 up to the threshold, not beyond (for 20 minutes: the APL's 10, 15 and
20 minutes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from diagnostic.access.points import demand_points, to_metric
from diagnostic.territory import group_of, metric_crs


def two_step_fca(supply_xy: np.ndarray, capacity: np.ndarray, demand_xy: np.ndarray,
                 population: np.ndarray, catchment_m: float) -> np.ndarray:
    """Two-step floating catchment area: capacity per inhabitant reachable from each demand point.

    Step 1: each service's capacity is shared by all the people within the catchment;
    step 2: each place sums the shares of the services within the catchment.
    """
    if len(supply_xy) == 0:
        return np.zeros(len(demand_xy))
    pairs = cKDTree(supply_xy).sparse_distance_matrix(cKDTree(demand_xy), catchment_m, output_type="ndarray")
    s, d = pairs["i"], pairs["j"]
    served = np.bincount(s, weights=population[d], minlength=len(supply_xy))
    ratio = np.divide(capacity, served, out=np.zeros(len(supply_xy)), where=served > 0)
    return np.bincount(d, weights=ratio[s], minlength=len(demand_xy))


def capacity_access(ws, result: CoverageResult) -> pd.Series | None:
    """2SFCA index per commune (capacity per 1,000 inhabitants within reach), when the services
    of the themes have a capacity; None otherwise."""
    services = result.services.dropna(subset=["capacity"])
    if services.empty:
        return None
    if result.points is not None:  # OSRM tables: computed once per loaded workspace and settings
        key = ("capacity", result.params)
        if key not in ws.memo:
            ws.memo[key] = _network_access(ws, result, services)
        return ws.memo[key]
    crs = metric_crs(ws.communes)
    demand = demand_points(ws.communes)
    index = two_step_fca(to_metric(services["lon"].to_numpy(float), services["lat"].to_numpy(float), crs),
                         services["capacity"].to_numpy(float), demand[["x", "y"]].to_numpy(),
                         ws.communes["population"].to_numpy(float), result.params.reach_m())
    return pd.Series(index * 1000, index=demand["code_insee"].to_numpy())


def capacity_by_territory(index: pd.Series, ws, level: str) -> pd.DataFrame:
    """Population-weighted mean of the 2SFCA index per territory and for the département, with
    the people who have no capacity at all within reach."""
    frame = pd.DataFrame({"index": index, "population": ws.communes.set_index("code_insee")["population"]})
    frame["territory"] = group_of(ws.communes, ws.groupings, level)
    frame["weighted"] = frame["index"] * frame["population"]
    frame["without"] = np.where(frame["index"] <= 0, frame["population"], 0)
    sums = frame.groupby("territory")[["weighted", "population", "without"]].sum()
    sums.loc["Département"] = frame[["weighted", "population", "without"]].sum()
    sums["mean_index"] = sums["weighted"] / sums["population"]
    return sums[["mean_index", "without", "population"]]


STEPS = ((0.5, 1.0), (0.75, 0.66), (1.0, 0.33))  # share of the threshold → weight (DREES APL)


def step_decay(minutes: np.ndarray, max_minutes: float) -> np.ndarray:
    """The weight of a service reached in `minutes`: 1, 0.66, 0.33 by steps of the threshold, else 0."""
    weight = np.zeros_like(minutes, dtype=float)
    for share, value in reversed(STEPS):
        weight[minutes <= share * max_minutes] = value
    return weight


def _network_access(ws, result: CoverageResult, services: pd.DataFrame) -> pd.Series:
    """2SFCA on travel times with the step decay, from where people live (the demand points: cells
    or commune points); each commune's index is the population-weighted mean of its points'."""
    from diagnostic.access.network_coverage import demand, require_network
    from diagnostic.travel.times import engine, times_within

    params = result.params
    require_network(ws, params.mode)
    points = demand(ws)
    times = times_within(engine(ws.path, params.mode), points[["lon", "lat"]].to_numpy(float),
                         services[["lon", "lat"]].to_numpy(float), params.max_minutes).tocoo()
    weight = step_decay(times.data, params.max_minutes)
    people = points["weight"].to_numpy(float)
    served = np.bincount(times.row, weights=weight * people[times.col], minlength=len(services))
    ratio = np.divide(services["capacity"].to_numpy(float), served, out=np.zeros(len(services)), where=served > 0)
    index = np.bincount(times.col, weights=weight * ratio[times.row], minlength=len(points))
    frame = pd.DataFrame({"code_insee": points["code_insee"], "weighted": index * people, "people": people})
    sums = frame.groupby("code_insee")[["weighted", "people"]].sum()
    mean = (sums["weighted"] / sums["people"].where(sums["people"] > 0)).fillna(0.0)
    return mean.reindex(ws.communes["code_insee"]).fillna(0.0).rename(None) * 1000
