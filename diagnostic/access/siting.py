"""Where new services would help most: greedy maximal coverage of the people still out of reach."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from diagnostic.access.points import demand_points, to_metric
from diagnostic.errors import InputError
from diagnostic.territory import WGS84, metric_crs


@dataclass
class Sites:
    """Suggested new sites, in the order they were chosen."""

    candidates: pd.DataFrame  # code_insee / name / x / y of the chosen sites, with gain
    covered_before: float
    covered_after: float
    total: float


def greedy_sites(demand_xy: np.ndarray, weights: np.ndarray, covered: np.ndarray,
                 candidates_xy: np.ndarray, reach_m: float, k: int) -> tuple[list[int], list[float]]:
    """Greedy maximal coverage: pick, one after another, the candidate that covers the most
    still-uncovered weight within `reach_m`. Returns the chosen candidates and their gains.

    The candidate × demand reach matrix is sparse, so each round is one matrix-vector product.
    """
    reach = cKDTree(demand_xy).query_ball_point(candidates_xy, r=reach_m, workers=2)
    lengths = np.fromiter((len(r) for r in reach), dtype=np.int64, count=len(reach))
    columns = np.concatenate([np.asarray(r, dtype=np.int64) for r in reach]) if lengths.sum() else \
        np.zeros(0, dtype=np.int64)
    matrix = csr_matrix((np.ones(len(columns)), columns, np.concatenate([[0], np.cumsum(lengths)])),
                        shape=(len(candidates_xy), len(demand_xy)))
    uncovered = np.where(covered, 0.0, weights.astype(float))
    chosen, gains = [], []
    for _ in range(min(k, len(candidates_xy))):
        gain = matrix @ uncovered
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        uncovered[matrix.indices[matrix.indptr[best]:matrix.indptr[best + 1]]] = 0.0
    return chosen, gains


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
    chosen, gains = greedy_sites(demand[["x", "y"]].to_numpy(), weights, covered,
                                 places[["x", "y"]].to_numpy(), result.params.reach_m(), k)
    sites = places.iloc[chosen].assign(gain=gains).reset_index(drop=True)
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(sites["x"].to_numpy(),
                                                                           sites["y"].to_numpy())
    sites["lon"], sites["lat"] = lon, lat
    before = float(weights[covered].sum())
    return Sites(sites, before, before + sum(gains), float(weights.sum()))


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
