"""White zones: communes beyond a threshold from the nearest service of a theme, for whom, where.

By crow-fly, the straight line from where people live (one population-weighted point per commune)
to the nearest service, times a detour factor for the road, and a travel time at a given speed;
on the network, minutes by road or on foot from every demand point (network_coverage). For
mobility themes a white zone also lacks public transport: no served stop nearby (transit). The
settings are in params.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from diagnostic.access.capacity import capacity_access
from diagnostic.access.network_coverage import (MINUTE_LABELS, commune_times, demand_text,
                                                minute_classes, mode_text, point_times, require_network)
from diagnostic.access.params import (CROW_FLY, MIN_DEPARTURES, MOBILITY, MODES, WALK_M, WALK_MINUTES,  # noqa: F401
                                      CoverageParams, check_mode, check_themes, matches_themes)
from diagnostic.access.points import demand_points, nearest, target_counts, to_metric
from diagnostic.access.transit import network_transit, transit_access
from diagnostic.secrecy.suppression import protected_cells, publishable_sums
from diagnostic.territory import group_of, metric_crs
from diagnostic.themes import top_theme, top_themes

DISTANCE_CLASSES_KM = [5, 10, 20]
DISTANCE_LABELS = ["0 à 5 km", "5 à 10 km", "10 à 20 km", "plus de 20 km"]


@dataclass
class CoverageResult:
    params: CoverageParams
    communes: pd.DataFrame  # one row per commune, see commune_coverage
    services: pd.DataFrame  # the services that were counted (in person, located)
    stops: pd.DataFrame | None = None  # mobility: the served stops that were counted
    note: str = ""  # what the demand geography, the network and public transport allowed
    points: pd.DataFrame | None = None  # on the network: every demand point with its minutes

    def white_zones(self) -> pd.DataFrame:
        return self.communes[self.communes["white_zone"]]

    def white_population(self) -> float:
        """People in a white zone: whole communes by crow-fly, each commune's share on the network."""
        return float((self.communes["population"] * self.communes["white_share"]).sum())

    def describe(self) -> str:
        """The method, parameters and what the data allowed, in plain French."""
        return " ".join(t for t in (self.params.describe(), self.note) if t)


def commune_coverage(ws, params: CoverageParams) -> CoverageResult:
    """Distance or time from where people live to the nearest service of the themes, white zones.

    Columns: code_insee, name, distance_km (straight line, inf without any service; NaN on the
    network), road_km, minutes (on the network: the median time of the commune's people), nearest
    (service name), covered_remote, white_share (share of the people in a white zone: 0 or 1 by
    crow-fly, the share of the commune's people beyond the threshold on the network),
    service_white_zone, stop_m (nearest served stop), transit_covered, white_zone (half the people
    or more), population, target, distance_class. For mobility themes a white zone also has no
    served stop (see transit_access).
    """
    communes = ws.communes
    crs = metric_crs(communes)
    demand = demand_points(communes)
    offer = ws.offer
    chosen = offer[offer["themes"].map(lambda ts: matches_themes(ts, params.themes)).astype(bool)]
    in_person = in_person_services(chosen)
    names = in_person["name"].to_numpy()
    remote = remote_coverage(chosen, communes) if params.count_remote else \
        pd.Series(False, index=communes["code_insee"].to_numpy())
    table = pd.DataFrame({
        "code_insee": communes["code_insee"].to_numpy(), "name": communes["name"].to_numpy(),
        "covered_remote": remote.reindex(communes["code_insee"]).to_numpy(),
        "population": communes["population"].to_numpy(float),
        "target": target_counts(ws, params.target).reindex(communes["code_insee"]).to_numpy(),
    })
    points, note = None, ""
    stops, transit_note = None, ""
    if params.on_network:
        points = point_times(ws, params.mode, in_person)
        beyond = points["minutes"].to_numpy() > params.max_minutes
        white = beyond
        if params.is_mobility:  # a point near a served stop is no white zone
            stops, walk, transit_note = network_transit(ws, params, points)
            points = points.assign(stop_minutes=walk, transit=walk <= params.walk_minutes)
            white = beyond & ~points["transit"].to_numpy()
        per_commune = commune_times(points, beyond, white).reindex(table["code_insee"])
        index = per_commune["service"].fillna(-1).astype(int).to_numpy()
        table["distance_km"] = table["road_km"] = np.nan
        table["minutes"] = per_commune["minutes"].to_numpy()
        share = per_commune["white_share"].fillna(1.0).to_numpy()
        note = f"{demand_text(points)} {mode_text(params.mode, require_network(ws, params.mode))}"
        unreachable = int((~np.isfinite(points["minutes"])).sum())
        if unreachable:
            note += (f" {unreachable} lieu(x) de vie sur {len(points)} n'ont aucun service joignable par le réseau "
                     "(trop loin d'une voie ou sur une partie du réseau coupée du reste) : ils comptent en zone blanche.")
    else:
        supply_xy = to_metric(in_person["lon"].to_numpy(float), in_person["lat"].to_numpy(float), crs)
        distance, index = nearest(supply_xy, demand[["x", "y"]].to_numpy())
        table["distance_km"] = distance / 1000
        table["road_km"] = distance / 1000 * params.detour
        table["minutes"] = table["road_km"] / params.speed_kmh * 60
        beyond = table["minutes"] > params.max_minutes if params.max_minutes else table["road_km"] > params.max_km
        share = beyond.to_numpy(float)
    table["nearest"] = [names[i] if i >= 0 else "" for i in index]
    table["white_share"] = np.where(table["covered_remote"], 0.0, share)
    table["stop_m"], table["transit_covered"] = np.nan, False
    if params.on_network:
        table["service_white_zone"] = (per_commune["beyond_share"].fillna(1.0).to_numpy() >= 0.5) & \
            ~table["covered_remote"]
        if params.is_mobility:
            table["transit_covered"] = per_commune["transit_share"].fillna(0.0).to_numpy() >= 0.5
    else:
        table["service_white_zone"] = table["white_share"] >= 0.5
        if params.is_mobility:
            stops, stop_m, covered, transit_note = transit_access(ws, params, demand)
            table["stop_m"], table["transit_covered"] = stop_m, covered
        table["white_share"] = np.where(table["transit_covered"], 0.0, table["white_share"])
    table["white_zone"] = (table["white_share"] >= 0.5) if params.on_network else \
        table["service_white_zone"] & ~table["transit_covered"]
    table["distance_class"] = (minute_classes(table["minutes"]) if params.on_network
                               else distance_classes(table["road_km"]))
    return CoverageResult(params, table, in_person, stops, " ".join(t for t in (note, transit_note) if t), points)


def in_person_services(offer: pd.DataFrame) -> pd.DataFrame:
    """The located services people go to (on site, or itinerant at their stops)."""
    on_site = offer["modes"].map(lambda ms: bool({"en-presentiel", "itinerant"} & set(ms))).astype(bool)
    return offer[on_site & offer["lat"].notna()]


def distance_classes(road_km: pd.Series) -> pd.Series:
    """The class label of each road distance (no service at all falls in the last class)."""
    index = np.searchsorted(np.asarray(DISTANCE_CLASSES_KM, float), road_km.to_numpy(float), side="right")
    return pd.Series(np.asarray(DISTANCE_LABELS, dtype=object)[index], index=road_km.index)


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


def territory_summary(result: CoverageResult, ws, level: str) -> pd.DataFrame:
    """Per territory and for the département: white-zone communes, people concerned, and the
    population-weighted coverage rate (people within reach / people)."""
    table = result.communes.copy()
    table["territory"] = group_of(ws.communes, ws.groupings, level).reindex(table["code_insee"]).to_numpy()
    share = table["white_share"].to_numpy()
    if target_protection(ws, result.params) is not None:  # a confidential target counts whole communes
        target_share = table["white_zone"].to_numpy(float)
    else:
        target_share = share
    table["white_population"] = table["population"] * share
    table["covered_population"] = table["population"] - table["white_population"]
    table["white_target"] = table["target"].fillna(0) * target_share
    table["covered_target"] = table["target"].fillna(0) - table["white_target"]
    sums = ["population", "target", "white_population", "white_target", "covered_population", "covered_target"]
    grouped = table.groupby("territory")[sums].sum()
    counts = ["white_zone", "service_white_zone", "transit_covered"]
    grouped[["white_communes", "service_white_communes", "transit_communes"]] = \
        table.groupby("territory")[counts].sum().to_numpy()
    total = table[sums].sum().to_frame("Département").T
    total[["white_communes", "service_white_communes", "transit_communes"]] = table[counts].sum().to_numpy()
    out = pd.concat([grouped, total])
    out["coverage_rate"] = out["covered_population"] / out["population"] * 100
    out["target_coverage_rate"] = out["covered_target"] / out["target"].where(out["target"] > 0) * 100
    protection = target_protection(ws, result.params)
    if protection is not None:  # confidential people: only what the audit lets through is published
        white = table[table["white_zone"]]
        extra = {("zone blanche", t): list(white.loc[white["territory"] == t, "code_insee"]) for t in grouped.index}
        extra[("zone blanche", "Département")] = list(white["code_insee"])
        allowed = publishable_sums(protection, extra)
        for territory in out.index:
            cell = (level, territory) if territory != "Département" else ("département", "")
            if cell in protection.hidden:
                out.loc[territory, ["target", "white_target", "covered_target", "target_coverage_rate"]] = np.nan
            elif ("zone blanche", territory) not in allowed:
                out.loc[territory, ["white_target", "covered_target", "target_coverage_rate"]] = np.nan
    return out


def target_protection(ws, params: CoverageParams):
    """The protected cells of a confidential target indicator (None for a public target)."""
    indicator = ws.catalogue.get(params.target)
    return protected_cells(ws, indicator) if indicator is not None and indicator.confidential else None


def distance_distribution(result: CoverageResult) -> pd.DataFrame:
    """People by class of road distance (or, on the network, of minutes) to the nearest service;
    on the network every demand point counts with the people it stands for."""
    if result.points is not None:
        points = result.points.assign(distance_class=minute_classes(result.points["minutes"]))
        out = points.groupby("distance_class")[["weight"]].sum().rename(columns={"weight": "population"})
    else:
        out = result.communes.groupby("distance_class")[["population"]].sum()
    return out.reindex(class_labels(result.params), fill_value=0).rename_axis("distance_class")


def class_labels(params: CoverageParams) -> list[str]:
    """The classes of the distribution and the map: minutes on the network, km by crow-fly."""
    return MINUTE_LABELS if params.on_network else DISTANCE_LABELS


def masked_target(result: CoverageResult, ws) -> pd.Series:
    """Target counts as they may be shown: a confidential commune of the protected set is replaced
    by "secret" (the population itself is public)."""
    target = result.communes["target"].round(0).astype("Int64").astype(object)
    protection = target_protection(ws, result.params)
    if protection is not None:
        target[result.communes["code_insee"].isin(protection.hidden_at("commune")).to_numpy()] = "secret"
    return target


def export_table(result: CoverageResult, ws) -> pd.DataFrame:
    """The per-commune result as exported, parameters repeated on every line. A commune with no
    service of the themes anywhere has empty distances and « aucun » as nearest service."""
    c = result.communes
    p = result.params
    access = capacity_access(ws, result)
    yes_no = {True: "oui", False: "non"}

    def finite(column: str, decimals: int) -> pd.Series:
        return c[column].where(np.isfinite(c[column])).round(decimals)

    table = pd.DataFrame({
        "code_insee": c["code_insee"], "commune": c["name"],
        "distance_vol_oiseau_km": finite("distance_km", 2), "distance_route_km": finite("road_km", 2),
        "temps_min": finite("minutes", 1), "service_le_plus_proche": c["nearest"].replace("", "aucun"),
        "couvert_a_distance": c["covered_remote"].map(yes_no),
        "hors_seuil_services": c["service_white_zone"].map(yes_no),
        "part_population_zone_blanche": (c["white_share"] * 100).round(1),
        "zone_blanche": c["white_zone"].map(yes_no),
        "population": c["population"].round(0).astype("Int64"), "population_cible": masked_target(result, ws),
        "thematiques": ", ".join(p.themes) or "toutes", "seuil_km": p.max_km,
        "seuil_minutes": p.max_minutes if p.max_minutes else "", "facteur_detour": p.detour,
        "vitesse_kmh": p.speed_kmh, "offre_a_distance_comptee": "oui" if p.count_remote else "non",
        "cible": p.target, "mode": p.mode,
    })
    if p.on_network:  # times on the network: no detour factor, no speed; the median time of the people
        table = table.drop(columns=["distance_vol_oiseau_km", "distance_route_km", "facteur_detour", "vitesse_kmh",
                                    "seuil_km"]).rename(columns={"temps_min": "temps_median_min"})
    if p.is_mobility:  # the public-transport criterion and its parameters
        if not p.on_network:
            table.insert(8, "arret_desservi_m", c["stop_m"].round(0).astype("Int64"))
        table.insert(8, "desservi_transport_public", c["transit_covered"].map(yes_no))
        if p.on_network:
            table["marche_arret_max_min"] = p.walk_minutes
        else:
            table["marche_max_m"] = p.walk_m
        table["departs_min_arret"], table["heures_departs"] = p.min_departures, f"{p.first_hour}-{p.last_hour}"
        table["services_scolaires_comptes"] = "oui" if p.school else "non"
    if access is not None:  # capacity within reach per 1,000 inhabitants (2SFCA)
        table.insert(10, "capacite_pour_1000_habitants", access.reindex(c["code_insee"]).round(3).to_numpy())
    return table


def distances_by_theme(supply_xy: np.ndarray, supply_themes: list[list[str]], demand_xy: np.ndarray,
                       themes: list[str]) -> dict[str, np.ndarray]:
    """Straight-line distance (m) from every demand point to the nearest service of each theme."""
    tags = [set(ts) | {top_theme(t) for t in ts} for ts in supply_themes]  # one pass over the offer
    masks = {theme: np.fromiter((theme in tag for tag in tags), dtype=bool, count=len(tags))
             for theme in themes}
    return {theme: nearest(supply_xy[mask], demand_xy)[0] for theme, mask in masks.items()}


def themes_overview(ws, params: CoverageParams) -> pd.DataFrame:
    """For every top-level theme of the offer, with the same thresholds: white-zone communes and
    people, and the population-weighted coverage rate (mobility with its transport criterion)."""
    if params.on_network:
        rows = []
        for theme in present_themes(ws.offer):
            table = commune_coverage(ws, replace(params, themes=(theme,))).communes
            white = table["population"] * table["white_share"]
            rows.append({"theme": theme, "white_communes": int(table["white_zone"].sum()),
                         "white_population": float(white.sum()),
                         "coverage_rate": float((table["population"].sum() - white.sum()) / table["population"].sum() * 100)})
        return pd.DataFrame(rows, columns=["theme", "white_communes", "white_population", "coverage_rate"])
    services = in_person_services(ws.offer)
    crs = metric_crs(ws.communes)
    supply = to_metric(services["lon"].to_numpy(float), services["lat"].to_numpy(float), crs)
    demand = demand_points(ws.communes)
    themes = present_themes(ws.offer)
    distances = distances_by_theme(supply, list(services["themes"]), demand[["x", "y"]].to_numpy(), themes)
    population = ws.communes["population"].to_numpy(float)
    rows = []
    for theme, distance in distances.items():
        road_km = distance / 1000 * params.detour
        beyond = (road_km / params.speed_kmh * 60 > params.max_minutes) if params.max_minutes \
            else road_km > params.max_km
        if theme == MOBILITY:
            beyond &= ~transit_access(ws, params, demand)[2]
        rows.append({"theme": theme, "white_communes": int(beyond.sum()),
                     "white_population": float(population[beyond].sum()),
                     "coverage_rate": float(population[~beyond].sum() / population.sum() * 100)})
    return pd.DataFrame(rows, columns=["theme", "white_communes", "white_population", "coverage_rate"])


def present_themes(offer: pd.DataFrame) -> list[str]:
    """The top-level themes that at least one service of the offer has, in vocabulary order."""
    found = {top_theme(t) for ts in offer["themes"] for t in ts}
    return [t for t in top_themes() if t in found]
