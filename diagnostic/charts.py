"""Altair chart builders (French labels, same colours as the maps)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from diagnostic.maps import STATUS_COLOURS
from diagnostic.profile import Profile
from diagnostic.territory import COMMUNE_LEVEL

MAX_BARS = 25
NEUTRAL = "#6b8fb5"


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
    data = data.rename(columns={"territory": "territoire", "value": "valeur"})
    order = data["territoire"].tolist()
    colour = alt.Color("statut:N", title="Seuils",
                       scale=alt.Scale(domain=[*STATUS_COLOURS, "sans seuil"],
                                       range=[*STATUS_COLOURS.values(), NEUTRAL]))
    bars = alt.Chart(data[["territoire", "valeur", "statut"]]).mark_bar().encode(
        x=alt.X("valeur:Q", title=f"{ind.label} ({ind.unit})"),
        y=alt.Y("territoire:N", sort=order, title=None, axis=alt.Axis(labelLimit=280)),
        color=colour,
        tooltip=[alt.Tooltip("territoire:N", title="Territoire"),
                 alt.Tooltip("valeur:Q", title=ind.unit, format=".1f")],
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
    return alt.layer(bars, marks).properties(height=height).resolve_scale(color="independent")
