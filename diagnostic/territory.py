"""Communes, groupings of communes and the projections used to measure them."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

WGS84 = "EPSG:4326"
LAMBERT93 = "EPSG:2154"
COMMUNE_LEVEL = "commune"
CODE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def is_commune_code(code: object) -> bool:
    """True for a 5-character INSEE code kept as a string ("01001", "2A004", "97411")."""
    return isinstance(code, str) and bool(CODE_PATTERN.match(code))


# Boxes (south, north, west, east in degrees) around metropolitan France and the DROM
FRANCE_BOXES = [(41.0, 51.3, -5.5, 9.9),  # metropolitan France and Corsica
                (15.8, 16.6, -61.9, -61.0), (14.3, 14.9, -61.3, -60.8),  # Guadeloupe, Martinique
                (2.0, 6.0, -54.7, -51.5), (-21.5, -20.8, 55.2, 55.9), (-13.1, -12.6, 44.9, 45.4)]


def in_france(lat: float, lon: float) -> bool:
    """True for a point (WGS84 degrees) in France."""
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in FRANCE_BOXES)


def departement_of(code: str) -> str:
    """The département of a commune code or a postcode (5 characters; 97x overseas, 20 = Corsica)."""
    code = str(code).strip()
    if code.isdigit() and len(code) == 4:
        code = code.zfill(5)
    if code.startswith("97"):
        return code[:3]
    return code[:2]


def metric_crs(communes: gpd.GeoDataFrame) -> str:
    """Lambert-93 for metropolitan France, an estimated UTM zone overseas (codes 97x/98x)."""
    codes = communes["code_insee"].astype(str)
    if len(codes) and codes.str.match(r"^9[78]").all():
        return communes.to_crs(WGS84).estimate_utm_crs().to_string()
    return LAMBERT93


def levels(groupings: pd.DataFrame) -> list[str]:
    """The territory levels a user can choose: communes, then each grouping level."""
    return [COMMUNE_LEVEL, *groupings.columns]


UNASSIGNED = "Non affectée"


def assign_group(groupings: pd.DataFrame, level: str, group: str, codes: list[str]) -> pd.DataFrame:
    """Groupings where these communes belong to `group` at `level`; a new level starts with every
    other commune « Non affectée »."""
    level, group = level.strip(), group.strip()
    if not level or level == COMMUNE_LEVEL:
        raise ValueError("level")
    out = groupings.copy()
    if level not in out.columns:
        out[level] = UNASSIGNED
    out.loc[list(codes), level] = group
    return out


def group_of(communes: gpd.GeoDataFrame, groupings: pd.DataFrame, level: str) -> pd.Series:
    """For each commune code, the name of its group at this level (the code itself for communes)."""
    codes = communes["code_insee"]
    if level == COMMUNE_LEVEL:
        return pd.Series(codes.to_numpy(), index=codes.to_numpy(), name=level)
    return groupings[level].reindex(codes.to_numpy()).rename(level)


def display_geometry(communes: gpd.GeoDataFrame, tolerance_m: float = 150.0,
                     decimals: int = 4) -> gpd.GeoDataFrame:
    """Communes simplified for a map: shared borders stay shared, coordinates rounded (WGS84).

    The coverage is simplified as a whole in a metric projection, so neighbouring communes keep
    exactly the same border and no gap opens between them.
    """
    crs = metric_crs(communes)
    metric = communes.to_crs(crs)
    simplified = shapely.coverage_simplify(metric.geometry.to_numpy(), tolerance_m)
    out = communes[["code_insee", "name"]].copy()
    out = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(simplified, crs=crs).to_crs(WGS84).to_numpy(),
                           crs=WGS84)
    out.geometry = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    return out


def group_geometry(communes: gpd.GeoDataFrame, groupings: pd.DataFrame,
                   level: str) -> gpd.GeoDataFrame:
    """One (multi)polygon per group of a level, dissolved from its communes."""
    frame = communes[["code_insee", "geometry"]].copy()
    frame["group"] = group_of(communes, groupings, level).to_numpy()
    return frame.dissolve(by="group", as_index=False)[["group", "geometry"]]


def commune_neighbours(communes: gpd.GeoDataFrame, tolerance_m: float = 50.0) -> pd.DataFrame:
    """The pairs of communes that border each other (columns a, b; borders closer than
    `tolerance_m` count: boundary files often leave slivers between neighbours)."""
    shapes = gpd.GeoDataFrame({"code": communes["code_insee"].to_numpy()}, geometry=communes.geometry.to_numpy(),
                              crs=communes.crs).to_crs(metric_crs(communes))
    shapes["geometry"] = shapes.buffer(tolerance_m / 2)
    pairs = gpd.sjoin(shapes, shapes, predicate="intersects")
    pairs = pairs[pairs["code_left"] != pairs["code_right"]]
    return pd.DataFrame({"a": pairs["code_left"].to_numpy(), "b": pairs["code_right"].to_numpy()})


def group_adjacency(communes: gpd.GeoDataFrame, groups: pd.Series,
                    pairs: pd.DataFrame | None = None) -> dict[str, set[str]]:
    """For each group, the groups it borders: those holding a neighbour of one of its communes
    (`pairs`, from commune_neighbours, computed when not given)."""
    pairs = commune_neighbours(communes) if pairs is None else pairs
    of = groups.reindex(communes["code_insee"])
    neighbours: dict[str, set[str]] = {g: set() for g in of.dropna().unique()}
    for left, right in zip(of.reindex(pairs["a"]).to_numpy(), of.reindex(pairs["b"]).to_numpy(), strict=True):
        if left != right and not pd.isna(left) and not pd.isna(right):
            neighbours[left].add(right)
    return neighbours
