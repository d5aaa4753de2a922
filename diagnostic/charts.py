"""Altair chart builders (French labels, same colours as the maps)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from diagnostic.maps import MAX_BARS, NEUTRAL, STATUS_COLOURS, completeness_texts, short_group_name
from diagnostic.profile import Profile
from diagnostic.territory import COMMUNE_LEVEL
from diagnostic.themes import theme_labels

# French number and date formats for every chart (Vega-Lite config.locale, as d3 defines fr-FR):
# decimal comma, narrow no-break space between thousands, French day and month names
FRENCH_LOCALE = {
    "number": {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0€"],
               "percent": "\u202f%"},
    "time": {"dateTime": "%A %e %B %Y à %X", "date": "%d/%m/%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
             "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
             "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
             "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                        "octobre", "novembre", "décembre"],
             "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                             "nov.", "déc."]}}
TEXT = "#31333f"  # axis and legend text: contrast 12:1 on white (Vega's default grey is 3.7:1)


def french(chart):
    """A chart with the French locale and readable axis and legend text."""
    return (chart.configure(locale=FRENCH_LOCALE)
            .configure_axis(labelColor=TEXT, titleColor=TEXT, labelFontSize=12)
            .configure_legend(labelColor=TEXT, titleColor=TEXT, labelFontSize=12))


def comparison_chart(profile: Profile) -> alt.LayerChart:
    """Horizontal bars per territory, with the département reference and the thresholds as rules.

    At commune level only the communes most exposed (highest, or lowest when a high value is good)
    are drawn, up to MAX_BARS.
    """
    ind = profile.indicator
    data = profile.table.dropna(subset=["value"]).copy()
    data = data.sort_values("value", ascending=bool(ind.higher_is_better))
    if profile.level == COMMUNE_LEVEL:
        data = data.head(MAX_BARS)
    data["statut"] = data["status"].fillna("sans seuil")
    data["couverture"] = completeness_texts(data)
    data = data.rename(columns={"territory": "territoire", "value": "valeur"})
    order = data["territoire"].tolist()
    colours = {**STATUS_COLOURS, "sans seuil": NEUTRAL}
    shown = [s for s in colours if s in set(data["statut"])]
    colour = alt.Color("statut:N", title="Seuils",
                       scale=alt.Scale(domain=shown, range=[colours[s] for s in shown]))
    bars = alt.Chart(data[["territoire", "valeur", "statut", "couverture"]]).mark_bar().encode(
        x=alt.X("valeur:Q", title=f"{ind.label} ({ind.unit})", axis=alt.Axis(format=".1f")),
        y=alt.Y("territoire:N", sort=order, title=None, axis=alt.Axis(labelLimit=280)),
        color=colour,
        tooltip=[alt.Tooltip("territoire:N", title="Territoire"),
                 alt.Tooltip("valeur:Q", title=ind.unit, format=".1f"),
                 alt.Tooltip("statut:N", title="Seuil"), alt.Tooltip("couverture:N", title="Calculé sur")],
    )
    rules = [{"repère": "Département", "valeur": profile.reference}]
    if ind.lower is not None and ind.upper is not None and ind.higher_is_better is not None:
        rules += [{"repère": "Seuil bas", "valeur": ind.lower}, {"repère": "Seuil haut", "valeur": ind.upper}]
    marks = alt.Chart(pd.DataFrame(rules)).mark_rule(strokeWidth=2).encode(
        x="valeur:Q",
        strokeDash=alt.StrokeDash("repère:N", title="Repères",
                                  scale=alt.Scale(domain=["Département", "Seuil bas", "Seuil haut"],
                                                  range=[[1, 0], [6, 3], [2, 2]])),
        color=alt.value("#222222"),
        tooltip=[alt.Tooltip("repère:N", title="Repère"), alt.Tooltip("valeur:Q", format=".1f")],
    )
    height = max(220, 28 * len(data))
    return french(alt.layer(bars, marks).properties(height=height).resolve_scale(color="independent"))


MISSING = "#b2182b"
MEASURES = {"services": "Nombre de services", "per_10000": "Services pour 10 000 habitants",
            "per_100_rsa": "Services pour 100 foyers allocataires du RSA"}


HEATMAP_UPRIGHT = 6  # more territories than this: their names are slanted so that none overlaps


def theme_heatmap(table: pd.DataFrame, measure: str = "per_10000") -> alt.LayerChart:
    """Themes × territories: shade by `measure`, its value written in each cell, and the cells
    without any service in red so that missing themes stand out."""
    labels = theme_labels()
    data = table.assign(thème=table["theme"].map(labels), valeur=table[measure].round(2),
                        manque=table["services"] == 0)
    data["sombre"] = data["valeur"] > 0.6 * data["valeur"].max()  # the darkest blues take white text
    data["territoire"] = data.pop("territory").map(short_group_name)
    order = list(dict.fromkeys(data["thème"]))
    slanted = data["territoire"].nunique() > HEATMAP_UPRIGHT
    axis = (alt.Axis(orient="top", labelAngle=-40, labelAlign="left", labelLimit=130, labelOverlap=False)
            if slanted else alt.Axis(orient="top", labelAngle=0, labelLimit=150, labelOverlap=False))
    base = alt.Chart(data[["territoire", "thème", "valeur", "services", "manque", "sombre"]]).encode(
        x=alt.X("territoire:N", title=None, axis=axis),
        y=alt.Y("thème:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        tooltip=[alt.Tooltip("territoire:N", title="Territoire"), alt.Tooltip("thème:N", title="Thématique"),
                 alt.Tooltip("services:Q", title="Services"),
                 alt.Tooltip("valeur:Q", title=MEASURES[measure], format=".2f")])
    cells = base.mark_rect(stroke="#ffffff", strokeWidth=1).encode(
        color=alt.condition(alt.datum.manque, alt.value(MISSING),
                            alt.Color("valeur:Q", title=MEASURES[measure], scale=alt.Scale(scheme="blues"))))
    counts = base.mark_text(fontSize=11 if slanted else 12).encode(
        text=alt.Text("valeur:Q", format=",.0f" if measure == "services" else ".1f"),
        color=alt.condition(alt.datum.manque | alt.datum.sombre, alt.value("#ffffff"), alt.value("#1a1a1a")))
    return french(alt.layer(cells, counts).properties(height=30 * data["thème"].nunique()))


def stakeholder_chart(rows: pd.DataFrame) -> alt.LayerChart:
    """Influence × motivation of the partners (motivation: mean of the fit with their strategy and
    the short-term impact on them), with the quadrants that suggest a cooperation mode."""
    data = rows.assign(motivation=(rows["fit"] + rows["impact"]) / 2)[["name", "influence", "motivation"]]
    scale = alt.Scale(domain=[0.5, 5.5])
    points = alt.Chart(data).mark_circle(size=220, color="#1f5f99").encode(
        x=alt.X("motivation:Q", title="Motivation (adéquation à sa stratégie, impact à court terme)", scale=scale),
        y=alt.Y("influence:Q", title="Influence potentielle", scale=scale),
        tooltip=[alt.Tooltip("name:N", title="Partenaire"), alt.Tooltip("influence:Q", title="Influence"),
                 alt.Tooltip("motivation:Q", title="Motivation", format=".1f")])
    labels = points.mark_text(dy=-14, fontSize=12, color="#1a1a1a").encode(text="name:N")
    quadrants = pd.DataFrame({"x": [1.2, 4.8, 1.2, 4.8], "y": [5.3, 5.3, 0.7, 0.7],
                              "texte": ["à convaincre (consultation)", "co-construction",
                                        "information", "à associer (consultation)"]})
    notes = alt.Chart(quadrants).mark_text(fontSize=11, color="#777777").encode(x="x:Q", y="y:Q", text="texte:N")
    rules = alt.Chart(pd.DataFrame({"v": [3]})).mark_rule(strokeDash=[4, 4], color="#999999")
    return french(alt.layer(rules.encode(x="v:Q"), rules.encode(y="v:Q"), notes, points, labels).properties(height=420))


def distance_chart(distribution: pd.DataFrame, classes: list[str]) -> alt.Chart:
    """Inhabitants by class of distance (or of travel time) to the nearest service."""
    data = distribution.reset_index().rename(columns={"distance_class": "classe"})
    in_minutes = classes[0].endswith("min")
    return french(alt.Chart(data).mark_bar(color="#6b8fb5").encode(
        x=alt.X("classe:N", sort=classes, title="Temps de trajet" if in_minutes else "Distance par la route",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("population:Q", title="Habitants", axis=alt.Axis(format=",.0f")),
        tooltip=[alt.Tooltip("classe:N", title="Temps" if in_minutes else "Distance"),
                 alt.Tooltip("population:Q", title="Habitants", format=",.0f")]))
