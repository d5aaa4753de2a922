"""Where people live and where services are, as metric points; nearest-service distances.

Every distance is computed in a metric projection (Lambert-93 in metropolitan France). A KD-tree
finds the nearest service, so a national run stays fast.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from diagnostic.errors import InputError
from diagnostic.indicators import AGGREGATION_SUMS
from diagnostic.territory import WGS84, metric_crs

POPULATION = "population"


def to_metric(lon: np.ndarray, lat: np.ndarray, crs: str) -> np.ndarray:
    """WGS84 longitudes/latitudes as metric x, y (n × 2)."""
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(np.asarray(lon), np.asarray(lat))
    return np.column_stack([x, y])


def demand_points(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where people live: one point per commune (its population-weighted point when the boundaries
    file gave one, pop_lon/pop_lat, else a point inside the commune), in metric coordinates."""
    crs = metric_crs(communes)
    points = communes.to_crs(crs).geometry.representative_point()
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    if {"pop_lon", "pop_lat"} <= set(communes.columns):
        known = (communes["pop_lon"].notna() & communes["pop_lat"].notna()).to_numpy()
        xy[known] = to_metric(communes["pop_lon"].to_numpy(float)[known], communes["pop_lat"].to_numpy(float)[known],
                              crs)
    return pd.DataFrame({"code_insee": communes["code_insee"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})


def nearest(supply_xy: np.ndarray, demand_xy: np.ndarray, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance (m) from each demand point to its nearest supply point, and its index."""
    if len(supply_xy) == 0:
        return np.full(len(demand_xy), np.inf), np.full(len(demand_xy), -1)
    distance, index = cKDTree(supply_xy).query(demand_xy, k=1, workers=workers)
    return distance, index


def target_choices(ws) -> dict[str, str]:
    """The populations a white zone can count: everyone, or the people an indicator's numerator
    counts (a rate summed from counts: foyers RSA, ménages sans voiture…; never an index)."""
    return {POPULATION: "Population"} | {i.id: i.numerator for i in ws.indicators_with_data()
                                          if i.is_rate and i.aggregation == AGGREGATION_SUMS}


def target_counts(ws, target: str) -> pd.Series:
    """The people concerned per commune: the population, or an indicator's numerator."""
    if target == POPULATION:
        return ws.communes.set_index("code_insee")["population"].astype(float)
    if target not in target_choices(ws):
        raise InputError(f"« {target} » ne compte pas des personnes : ce n'est pas une population cible.",
                         field="--target", fix="Choisissez « population » ou un indicateur dont le numérateur est un "
                                              "effectif (foyers allocataires du RSA, ménages sans voiture…).")
    rows = ws.values[ws.values["indicator"] == target]
    return rows.set_index("code_insee")["numerator"].astype(float)
