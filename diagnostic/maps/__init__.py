"""How the diagnostic draws its maps, on screen and on paper: colours, classes, legends, group
colours and where group names go. The interactive Leaflet maps are in `diagnostic.maps.leaflet`."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from diagnostic.indicators import MIN_POPULATION_SHARE, Indicator, fmt_number
from diagnostic.territory import WGS84, group_adjacency, metric_crs
from diagnostic.themes import top_themes

NO_DATA_COLOUR = "#d9d9d9"

SEQUENTIAL = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]  # ColorBrewer OrRd

SEQUENTIAL_GOOD = ["#f0f9e8", "#bae4bc", "#7bccc4", "#43a2ca", "#0868ac"]  # GnBu

NEUTRAL = "#6b8fb5"  # bars of an indicator without thresholds

MAX_BARS = 25  # communes drawn in a comparison chart at commune level

STATUS_COLOURS = {"favorable": "#1a9850", "vigilance": "#fdae61", "alerte": "#d73027",
                  "non significatif": "#c9c9c9"}

QUALITATIVE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
               "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"]



def class_colours(n_classes: int, higher_is_better: bool | None) -> list[str]:
    """A sequential palette of n colours (blues when a high value is good, reds otherwise)."""
    palette = SEQUENTIAL_GOOD if higher_is_better else SEQUENTIAL
    if n_classes <= len(palette):
        step = (len(palette) - 1) / max(n_classes - 1, 1)
        return [palette[round(i * step)] for i in range(n_classes)]
    return palette + [palette[-1]] * (n_classes - len(palette))



def class_labels(breaks: list[float], unit: str) -> list[str]:
    """Legend labels for the classes delimited by the inner limits `breaks`."""
    if not breaks:
        return ["toutes valeurs"]
    f = [fmt_number(b) for b in breaks]
    labels = [f"jusqu'à {f[0]} {unit}"]
    labels += [f"plus de {a} à {b} {unit}" for a, b in zip(f[:-1], f[1:], strict=True)]
    labels.append(f"plus de {f[-1]} {unit}")
    return labels



def threshold_colours(breaks: list[float], indicator: Indicator) -> list[str]:
    """Green / orange / red classes for the catalogue thresholds, in the indicator's direction."""
    order = [STATUS_COLOURS[s] for s in ("favorable", "vigilance", "alerte")]
    colours = order[::-1] if indicator.higher_is_better else order
    return colours[: len(breaks) + 1]



@dataclass
class Legend:
    """What a map's legend shows: one colour per label, and its title."""

    title: str
    colours: list[str]
    labels: list[str]

PARTIAL_COLOUR = "#ececec"

PARTIAL_LABEL = f"pâle : calculé sur moins de {MIN_POPULATION_SHARE:g} % de la population (non significatif)"



def completeness_texts(table: pd.DataFrame) -> pd.Series:
    """« 12 communes sur 31, 45 % de la population » for each row of a profile table."""
    return pd.Series([f"{known} commune{'s' if known > 1 else ''} sur {total}, {fmt_number(share, 0)} % de la population"
                      for known, total, share in zip(table["communes_known"], table["communes"],
                                                     table["population_share"].fillna(0), strict=True)],
                     index=table.index)



def group_colours(communes: gpd.GeoDataFrame, groups: pd.Series, pairs: pd.DataFrame | None = None) -> dict[str, str]:
    """A colour per group such that two neighbouring groups never share one (DSATUR colouring of
    the adjacency: the group with the most differently coloured neighbours is coloured first);
    `pairs`: the communes' neighbours when already known."""
    neighbours = group_adjacency(communes, groups, pairs)
    index: dict[str, int] = {}
    while len(index) < len(neighbours):
        def saturation(g: str) -> tuple[int, int, str]:
            used = {index[n] for n in neighbours[g] if n in index}
            return (len(used), len(neighbours[g]), g)
        group = max((g for g in neighbours if g not in index), key=saturation)
        taken = {index[n] for n in neighbours[group] if n in index}
        index[group] = next(i for i in range(len(neighbours) + 1) if i not in taken)
    return {g: QUALITATIVE[i % len(QUALITATIVE)] for g, i in index.items()}



def group_label_points(communes: gpd.GeoDataFrame, groups: pd.Series) -> list[tuple[float, float, str]]:
    """Where to write each group's name, largest group first: inside the commune nearest to the
    group's population-weighted centre (always inside the group, even a crescent-shaped one)."""
    metric = communes.to_crs(metric_crs(communes))
    points = metric.geometry.representative_point()
    frame = pd.DataFrame({"x": points.x.to_numpy(), "y": points.y.to_numpy(),
                          "w": communes["population"].to_numpy(), "group": groups.to_numpy()})
    spots = []
    # the largest groups first: they keep their name when two would overlap
    for _, members in sorted(frame.groupby("group"), key=lambda item: -item[1]["w"].sum()):
        cx = (members["x"] * members["w"]).sum() / members["w"].sum()
        cy = (members["y"] * members["w"]).sum() / members["w"].sum()
        nearest = ((members["x"] - cx) ** 2 + (members["y"] - cy) ** 2).idxmin()
        spots.append(nearest)
    wgs84 = gpd.GeoSeries(points.loc[spots].to_numpy(), crs=metric.crs).to_crs(WGS84)
    return [(round(p.y, 5), round(p.x, 5), short_group_name(str(frame.loc[i, "group"])))
            for p, i in zip(wgs84, spots, strict=True)]

GROUP_ABBREVIATIONS = [("Communauté d'agglomération", "CA"), ("Communauté de communes", "CC"),
                       ("Communauté urbaine", "CU"), ("Territoire d'action sociale", "TAS")]



def short_group_name(name: str) -> str:
    """A group name short enough to be written on a map ("CC des Coteaux")."""
    for long, short in GROUP_ABBREVIATIONS:
        if name.startswith(long):
            return short + name[len(long):]
    return name.removeprefix("Territoire de ").removeprefix("Territoire du ")

THEME_COLOURS = dict(zip(top_themes(), [
    "#1f78b4", "#6a3d9a", "#e31a1c", "#b15928", "#ff7f00", "#fb9a99", "#cab2d6", "#a6761d",
    "#33a02c", "#1b9e77", "#fdbf6f", "#b2df8a", "#e7298a", "#66a61e", "#999999", "#386cb0"], strict=True))

COVERAGE_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#542788", "#9ecae1"]

COVERAGE_EXTRA = ["zone blanche", "hors de portée des services, desservie par le transport public"]

STOP_COLOUR = "#4d4d4d"

SERVICE_COLOUR = "#d7301f"



def coverage_classes(communes: pd.DataFrame, class_labels: list[str]) -> pd.Series:
    """Class of each commune on a white-zone map (index: code_insee): its distance or time class
    0–3 (the position of its distance_class in `class_labels`), 4 for a white zone, 5 for a
    commune beyond the services' threshold that public transport covers (mobility)."""
    table = communes.set_index("code_insee")
    classes = table["distance_class"].map({label: i for i, label in enumerate(class_labels)}).fillna(3).astype(int)
    classes[table["service_white_zone"] & table["transit_covered"]] = 5
    classes[table["white_zone"]] = 4
    return classes



def coverage_legend(communes: pd.DataFrame, with_stops: bool, class_labels: list[str]) -> Legend:
    """The legend of a white-zone map: the classes present among the communes, services, stops."""
    present = set(coverage_classes(communes, class_labels))
    shown = [i for i in range(len(COVERAGE_COLOURS)) if i < 4 or i in present]
    labels = [*class_labels, *COVERAGE_EXTRA]
    title = "Temps d'accès au service le plus proche" if "min" in class_labels[0] else "Distance au service le plus proche"
    legend = Legend(title, [COVERAGE_COLOURS[i] for i in shown] + [SERVICE_COLOUR],
                    [labels[i] for i in shown] + ["service de la thématique"])
    if with_stops:
        legend.colours.append(STOP_COLOUR)
        legend.labels.append("arrêt de transport public desservi")
    return legend

