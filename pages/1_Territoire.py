"""Territoire: the communes coloured by group, the group names and their key figures."""

import streamlit as st
from streamlit_folium import st_folium

import ui
from diagnostic import maps
from diagnostic.indicators import class_breaks
from diagnostic.territory import COMMUNE_LEVEL, group_geometry, group_of

ws = ui.setup("Territoire")
level = ui.level_selector(ws)
shapes = ui.display_shapes(ws)

st.title("Territoire")
st.caption(ws.name)
names = ws.commune_names()

if level == COMMUNE_LEVEL:
    st.subheader("Les communes selon leur population")
    values = ws.communes.set_index("code_insee")["population"]
    breaks = class_breaks(values, "quantiles", 5)
    colours = maps.class_colours(len(breaks) + 1, None)
    labels = maps.class_labels(breaks, "hab.")
    outline = None
else:
    groups = group_of(ws.communes, ws.groupings, level)
    group_names = sorted(groups.unique())
    st.subheader(f"{len(group_names)} groupes · {level}")
    rank = {name: i for i, name in enumerate(group_names)}
    values = groups.map(rank).astype(float)
    breaks = [i + 0.5 for i in range(len(group_names) - 1)]
    colours = [maps.QUALITATIVE[i % len(maps.QUALITATIVE)] for i in range(len(group_names))]
    labels = group_names
    outline = group_geometry(shapes, ws.groupings, level)

population = ws.communes.set_index("code_insee")["population"]
tooltip = {"Commune": names, "Code INSEE": names.index.to_series(),
           "Population": population.map(lambda v: f"{v:,.0f}".replace(",", "\u202f"))}
for other in ws.groupings.columns:
    tooltip[other] = ws.groupings[other]

col_map, col_legend = st.columns([4, 1])
with col_map:
    fmap = maps.choropleth(shapes, "code_insee", values, breaks, colours, tooltip, outline=outline)
    st_folium(fmap, key=f"territory-map-{level}", height=560, use_container_width=True,
              returned_objects=[])
with col_legend:
    ui.legend(colours, labels, level if level != COMMUNE_LEVEL else "Population")

st.subheader("Chiffres clés")
if ws.fictional:
    st.caption("Données fictives du département de démonstration.")
table = ui.cached_key_figures(ws, level)
st.dataframe(table.round(1), hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="localized")
                            for c in table.columns if c != "Territoire"})
st.caption("Les taux sont recalculés à partir des numérateurs et dénominateurs de chaque territoire ; "
           "les valeurs vides sont masquées (secret statistique) ou non renseignées.")
