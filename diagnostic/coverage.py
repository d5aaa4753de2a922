"""Coverage of the territory by the offer: distances, white zones, capacity-aware access, siting.

Every distance is computed in a metric projection (Lambert-93 in metropolitan France): the straight
line from where people live (one population-weighted point per commune, or the cells of a
population grid) to the nearest service, times a detour factor for the road, and a travel time at
a given speed. A KD-tree finds the nearest service, so a national run stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from diagnostic.errors import InputError
from diagnostic.territory import WGS84, group_of, metric_crs
from diagnostic.themes import theme_labels, top_theme, top_themes

DISTANCE_CLASSES_KM = [5, 10, 20]
DISTANCE_LABELS = ["0 à 5 km", "5 à 10 km", "10 à 20 km", "plus de 20 km"]
POPULATION = "population"


@dataclass(frozen=True)
class CoverageParams:
    """The choices behind a coverage result; they travel with it into every export."""

    themes: tuple[str, ...]  # top-level themes or sub-themes; empty means any theme
    max_km: float = 10.0  # white zone beyond this road distance...
    max_minutes: float | None = None  # ...or beyond this travel time when given
    detour: float = 1.3  # road distance / straight-line distance
    speed_kmh: float = 40.0
    count_remote: bool = False  # remote services and diffusion zones count as coverage
    target: str = POPULATION  # "population" or an indicator id whose numerator is counted

    def reach_m(self) -> float:
        """The threshold as a straight-line distance in metres (detour and speed applied)."""
        road_km = self.max_minutes / 60 * self.speed_kmh if self.max_minutes else self.max_km
        return road_km / self.detour * 1000

    def describe(self) -> str:
        """The method and parameters in plain French."""
        themes = ", ".join(self.themes) if self.themes else "toutes thématiques"
        limit = (f"{self.max_minutes:g} minutes de trajet à {self.speed_kmh:g} km/h" if self.max_minutes
                 else f"{self.max_km:g} km par la route")
        remote = ("l'offre à distance et les zones de diffusion comptent comme une couverture"
                  if self.count_remote else "seule l'offre sur place ou itinérante compte")
        return (f"Thématiques : {themes}. Une commune est en zone blanche quand le service le plus "
                f"proche est à plus de {limit}. Distance à vol d'oiseau depuis le point central "
                f"habité de la commune, en projection métrique, multipliée par un facteur de détour "
                f"de {self.detour:g} ; temps estimé à {self.speed_kmh:g} km/h ; {remote} ; les "
                f"services itinérants comptent à leurs arrêts.")


def to_metric(lon: np.ndarray, lat: np.ndarray, crs: str) -> np.ndarray:
    """WGS84 longitudes/latitudes as metric x, y (n × 2)."""
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(np.asarray(lon), np.asarray(lat))
    return np.column_stack([x, y])


def demand_points(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where people live: one point per commune (its population-weighted point when the file
    gives one as pop_lon/pop_lat, else a point inside the commune), in metric coordinates."""
    crs = metric_crs(communes)
    if {"pop_lon", "pop_lat"} <= set(communes.columns):
        xy = to_metric(communes["pop_lon"].to_numpy(float), communes["pop_lat"].to_numpy(float), crs)
    else:
        points = communes.to_crs(crs).geometry.representative_point()
        xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    return pd.DataFrame({"code_insee": communes["code_insee"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})


def matches_themes(themes: list[str], wanted: tuple[str, ...]) -> bool:
    """A service matches a top-level theme through any of its sub-themes, a sub-theme exactly."""
    if not wanted:
        return True
    return any(t in wanted or top_theme(t) in wanted for t in themes)


def nearest(supply_xy: np.ndarray, demand_xy: np.ndarray, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance (m) from each demand point to its nearest supply point, and its index."""
    if len(supply_xy) == 0:
        return np.full(len(demand_xy), np.inf), np.full(len(demand_xy), -1)
    distance, index = cKDTree(supply_xy).query(demand_xy, k=1, workers=workers)
    return distance, index


@dataclass
class CoverageResult:
    params: CoverageParams
    communes: pd.DataFrame  # one row per commune, see commune_coverage
    services: pd.DataFrame  # the services that were counted (in person, located)

    def white_zones(self) -> pd.DataFrame:
        return self.communes[self.communes["white_zone"]]


def commune_coverage(ws, params: CoverageParams) -> CoverageResult:
    """Distance from each commune to the nearest service of the themes, white zones, targets.

    Columns: code_insee, name, distance_km (straight line), road_km, minutes, nearest (service
    name), covered_remote, white_zone, population, target, distance_class.
    """
    communes = ws.communes
    crs = metric_crs(communes)
    demand = demand_points(communes)
    offer = ws.offer
    chosen = offer[offer["themes"].map(lambda ts: matches_themes(ts, params.themes))]
    in_person = chosen[chosen["modes"].map(lambda ms: bool({"en-presentiel", "itinerant"} & set(ms)))
                       & chosen["lat"].notna()]
    supply_xy = to_metric(in_person["lon"].to_numpy(float), in_person["lat"].to_numpy(float), crs)
    distance, index = nearest(supply_xy, demand[["x", "y"]].to_numpy())
    road_km = distance / 1000 * params.detour
    minutes = road_km / params.speed_kmh * 60
    remote = remote_coverage(chosen, communes) if params.count_remote else \
        pd.Series(False, index=communes["code_insee"].to_numpy())
    beyond = minutes > params.max_minutes if params.max_minutes else road_km > params.max_km
    names = in_person["name"].to_numpy()
    table = pd.DataFrame({
        "code_insee": communes["code_insee"].to_numpy(), "name": communes["name"].to_numpy(),
        "distance_km": distance / 1000, "road_km": road_km, "minutes": minutes,
        "nearest": [names[i] if i >= 0 else "" for i in index],
        "covered_remote": remote.reindex(communes["code_insee"]).to_numpy(),
        "population": communes["population"].to_numpy(float),
        "target": target_counts(ws, params.target).reindex(communes["code_insee"]).to_numpy(),
    })
    table["white_zone"] = beyond & ~table["covered_remote"]
    table["distance_class"] = pd.cut(table["road_km"], [-np.inf, *DISTANCE_CLASSES_KM, np.inf],
                                     labels=DISTANCE_LABELS, right=False).astype(str)
    return CoverageResult(params, table, in_person)


def remote_coverage(services: pd.DataFrame, communes: gpd.GeoDataFrame) -> pd.Series:
    """Communes covered by a remote service or by a service's diffusion zone."""
    codes = communes["code_insee"]
    covered = pd.Series(False, index=codes.to_numpy())
    for modes, zone_type, zone_code in zip(services["modes"], services["zone_type"], services["zone_code"],
                                           strict=True):
        if zone_type == "departement" or ("a-distance" in modes and not zone_type):
            prefix = str(zone_code or "")
            covered |= codes.str.startswith(prefix).to_numpy()
        elif zone_type == "commune" and zone_code and "a-distance" in modes:
            covered |= (codes == zone_code).to_numpy()
    return covered


def target_counts(ws, target: str) -> pd.Series:
    """The people concerned per commune: the population, or an indicator's numerator."""
    if target == POPULATION:
        return ws.communes.set_index("code_insee")["population"].astype(float)
    rows = ws.values[ws.values["indicator"] == target]
    return rows.set_index("code_insee")["numerator"].astype(float)


def territory_summary(result: CoverageResult, ws, level: str) -> pd.DataFrame:
    """Per territory and for the département: white-zone communes, people concerned, and the
    population-weighted coverage rate (people within reach / people)."""
    table = result.communes.copy()
    table["territory"] = group_of(ws.communes, ws.groupings, level).reindex(table["code_insee"]).to_numpy()
    table["covered_population"] = np.where(table["white_zone"], 0, table["population"])
    table["covered_target"] = np.where(table["white_zone"], 0, table["target"].fillna(0))
    table["white_population"] = np.where(table["white_zone"], table["population"], 0)
    table["white_target"] = np.where(table["white_zone"], table["target"].fillna(0), 0)
    sums = ["population", "target", "white_population", "white_target", "covered_population", "covered_target"]
    grouped = table.groupby("territory")[sums].sum()
    grouped["white_communes"] = table.groupby("territory")["white_zone"].sum()
    total = table[sums].sum().to_frame("Département").T
    total["white_communes"] = table["white_zone"].sum()
    out = pd.concat([grouped, total])
    out["coverage_rate"] = out["covered_population"] / out["population"] * 100
    out["target_coverage_rate"] = out["covered_target"] / out["target"].where(out["target"] > 0) * 100
    return out


def distance_distribution(result: CoverageResult) -> pd.DataFrame:
    """People (and target people) by class of road distance to the nearest service."""
    table = result.communes
    out = table.groupby("distance_class")[["population", "target"]].sum()
    return out.reindex(DISTANCE_LABELS, fill_value=0)


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


def check_themes(themes: tuple[str, ...]) -> None:
    """Refuse a theme that is not in the data·inclusion vocabulary, with the list of top levels."""
    unknown = [t for t in themes if t not in theme_labels()]
    if unknown:
        raise InputError(f"thématique inconnue « {', '.join(unknown)} ».", field="--theme",
                         fix=f"Thématiques possibles : {', '.join(top_themes())} (ou une sous-thématique "
                             "comme « mobilite--preparer-un-permis »).")


def masked_target(result: CoverageResult, ws) -> pd.Series:
    """Target counts as they may be shown: a confidential count from 1 to the secrecy threshold
    minus one is replaced by "secret" (the population itself is public)."""
    target = result.communes["target"].round(0).astype("Int64").astype(object)
    indicator = ws.catalogue.get(result.params.target)
    if indicator is not None and indicator.confidential:
        small = (result.communes["target"] > 0) & (result.communes["target"] < ws.secret_threshold)
        target[small] = "secret"
    return target


def export_table(result: CoverageResult, ws) -> pd.DataFrame:
    """The per-commune result as exported, parameters repeated on every line."""
    c = result.communes
    p = result.params
    access = capacity_access(ws, result)
    table = pd.DataFrame({
        "code_insee": c["code_insee"], "commune": c["name"],
        "distance_vol_oiseau_km": c["distance_km"].round(2), "distance_route_km": c["road_km"].round(2),
        "temps_min": c["minutes"].round(1), "service_le_plus_proche": c["nearest"],
        "couvert_a_distance": c["covered_remote"].map({True: "oui", False: "non"}),
        "zone_blanche": c["white_zone"].map({True: "oui", False: "non"}),
        "population": c["population"].round(0).astype("Int64"), "population_cible": masked_target(result, ws),
        "thematiques": ", ".join(p.themes) or "toutes", "seuil_km": p.max_km,
        "seuil_minutes": p.max_minutes if p.max_minutes else "", "facteur_detour": p.detour,
        "vitesse_kmh": p.speed_kmh, "offre_a_distance_comptee": "oui" if p.count_remote else "non",
        "cible": p.target,
    })
    if access is not None:  # capacity within reach per 1,000 inhabitants (2SFCA)
        table.insert(10, "capacite_pour_1000_habitants", access.reindex(c["code_insee"]).round(3).to_numpy())
    return table


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


def distances_by_theme(supply_xy: np.ndarray, supply_themes: list[list[str]], demand_xy: np.ndarray,
                       themes: list[str]) -> dict[str, np.ndarray]:
    """Straight-line distance (m) from every demand point to the nearest service of each theme."""
    tags = [set(ts) | {top_theme(t) for t in ts} for ts in supply_themes]  # one pass over the offer
    masks = {theme: np.fromiter((theme in tag for tag in tags), dtype=bool, count=len(tags))
             for theme in themes}
    return {theme: nearest(supply_xy[mask], demand_xy)[0] for theme, mask in masks.items()}


def themes_overview(ws, params: CoverageParams) -> pd.DataFrame:
    """For every top-level theme of the offer, with the same thresholds: white-zone communes and
    people, and the population-weighted coverage rate."""
    services = ws.offer[ws.offer["modes"].map(lambda ms: bool({"en-presentiel", "itinerant"} & set(ms)))
                        & ws.offer["lat"].notna()]
    crs = metric_crs(ws.communes)
    supply = to_metric(services["lon"].to_numpy(float), services["lat"].to_numpy(float), crs)
    demand = demand_points(ws.communes)
    themes = [t for t in top_themes() if any(top_theme(x) == t for ts in ws.offer["themes"] for x in ts)]
    distances = distances_by_theme(supply, list(services["themes"]), demand[["x", "y"]].to_numpy(), themes)
    population = ws.communes["population"].to_numpy(float)
    rows = []
    for theme, distance in distances.items():
        road_km = distance / 1000 * params.detour
        beyond = (road_km / params.speed_kmh * 60 > params.max_minutes) if params.max_minutes \
            else road_km > params.max_km
        rows.append({"theme": theme, "white_communes": int(beyond.sum()),
                     "white_population": float(population[beyond].sum()),
                     "coverage_rate": float(population[~beyond].sum() / population.sum() * 100)})
    return pd.DataFrame(rows)
