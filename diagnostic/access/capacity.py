"""Capacity-aware access: the two-step floating catchment area (2SFCA) index."""

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
