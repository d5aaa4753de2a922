"""Catalogue des indicateurs: metadata of every indicator; thresholds and secrecy editable."""

import pandas as pd
import streamlit as st

import ui
from diagnostic.errors import InputError
from diagnostic.indicators import missing_metadata, with_thresholds
from diagnostic.workspace import save_secret_threshold, save_workspace_catalogue

DIRECTIONS = {False: "Plus la valeur est basse, mieux c'est", True: "Plus la valeur est haute, mieux c'est",
              None: "Sans orientation (pas d'alerte)"}



def as_float(value):
    return None if value is None else float(value)


ws = ui.setup("Catalogue des indicateurs")
ui.level_selector(ws)

st.title("Catalogue des indicateurs")
st.markdown("Chaque indicateur suit la méthode du guide du PTI : définition ou formule, source, unité, "
            "millésime, fréquence de collecte, responsable et **seuils** au-delà desquels il faut agir.")

gaps = missing_metadata(ws.catalogue)
for ind_id, fields in gaps.items():
    st.warning(f"Fiche incomplète pour « {ws.catalogue[ind_id].label} » : {', '.join(fields)}.")

rows = [dict(ind.metadata()) for ind in ws.catalogue.values()]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader("Modifier les seuils d'alerte")
with_thresholds_first = sorted(ws.catalogue, key=lambda i: ws.catalogue[i].status(0.0) is None)
indicator_id = st.selectbox("Indicateur", with_thresholds_first, key="threshold-indicator",
                            format_func=lambda i: ws.catalogue[i].label)
ind = ws.catalogue[indicator_id]
with st.form(f"thresholds-{indicator_id}"):
    c1, c2 = st.columns(2)
    lower = c1.number_input(f"Seuil bas ({ind.unit})", value=as_float(ind.lower), step=0.5, format="%.1f")
    upper = c2.number_input(f"Seuil haut ({ind.unit})", value=as_float(ind.upper), step=0.5, format="%.1f")
    direction = st.radio("Sens", list(DIRECTIONS), format_func=DIRECTIONS.get,
                         index=list(DIRECTIONS).index(ind.higher_is_better))
    if st.form_submit_button("Enregistrer les seuils"):
        try:
            catalogue = with_thresholds(ws.catalogue, indicator_id, lower, upper, direction)
            save_workspace_catalogue(ws.path, catalogue)
            st.success(f"Seuils enregistrés : {catalogue[indicator_id].threshold_rule()}")
        except InputError as exc:
            st.error(exc.french())

st.subheader("Secret statistique")
with st.form("secret"):
    threshold = st.number_input("Masquer les effectifs inférieurs à", min_value=2, max_value=50,
                                value=ws.secret_threshold, step=1)
    if st.form_submit_button("Enregistrer"):
        save_secret_threshold(ws.path, int(threshold))
        st.success(f"Les effectifs de 1 à {int(threshold) - 1} seront masqués, avec le secret secondaire.")
