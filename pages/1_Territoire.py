"""Territoire: the communes coloured by group, the group names and their key figures."""

import streamlit as st

import ui
from diagnostic.maps import leaflet
from diagnostic.indicators import fmt_number
from diagnostic.territory import COMMUNE_LEVEL

ws = ui.setup("Territoire")
level = ui.level_selector(ws)

st.title("Territoire")
st.caption(ws.name)
if level == COMMUNE_LEVEL:
    st.subheader("Les communes selon leur population")
else:
    st.subheader(f"{ws.groupings[level].nunique()} groupes · {level}")

state = ui.map_block(ws, ("territoire", level),
                     lambda: leaflet.territory_map(ui.topology(ws, COMMUNE_LEVEL), ws.communes, ws.groupings, level,
                                                ui.group_colours(ws, level)), 560, clicks=["last_active_drawing"])

code = leaflet.clicked_key(state)
if code in ws.commune_names().index:
    commune = ws.communes.set_index("code_insee").loc[code]
    st.subheader(f"{commune['name']} ({code})")
    st.caption(f"{fmt_number(commune['population'], 0)} habitants · "
               + " · ".join(ws.groupings.loc[code]))
    ui.table(ui.cached_commune_card(ws, code))
else:
    st.caption("Cliquez sur une commune de la carte pour afficher sa fiche.")

st.subheader("Chiffres clés")
if ws.fictional:
    st.caption("Données fictives du département de démonstration.")
table = ui.cached_key_figures(ws, level)
ui.table(table.round(1))
ui.download(table.round(1), "chiffres_cles.csv")
st.caption("Les taux sont recalculés à partir des numérateurs et dénominateurs de chaque territoire ; "
           "les valeurs vides sont masquées (secret statistique) ou non renseignées.")
