"""Catalogue des indicateurs: metadata of every indicator, which have data; thresholds and secrecy
editable; the indicators the team added, edited or removed."""

import pandas as pd
import streamlit as st

import ui
from diagnostic.errors import InputError
from diagnostic.indicators import FAMILIES, missing_metadata, parse_decimal, with_thresholds
from diagnostic.open_catalogue import edit_indicator, remove_indicator
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

st.subheader("Données disponibles")
st.caption("Pour chaque indicateur : s'il a des valeurs dans cet espace de travail, combien de communes et quelle "
           "part de la population elles couvrent, et son millésime.")
ui.table(ui.cached_catalogue_status(ws).drop(columns="id"))

st.subheader("Vos indicateurs")
own = [i for i in ws.catalogue.values() if i.custom]
if not own:
    st.info("Aucun indicateur ajouté : créez-en un à partir de n'importe quel tableau importé (page « Importer des "
            "données », onglet Indicateurs, « Créer un nouvel indicateur »).")
else:
    chosen = st.selectbox("Indicateur ajouté", [i.id for i in own], key="own-indicator",
                          format_func=lambda i: ws.catalogue[i].label)
    entry = ws.catalogue[chosen]
    with st.form(f"own-{chosen}"):
        label = st.text_input("Libellé", value=entry.label)
        definition = st.text_area("Définition", value=entry.definition)
        c1, c2, c3 = st.columns(3)
        unit = c1.text_input("Unité", value=entry.unit)
        source = c2.text_input("Source", value=entry.source)
        vintage = c3.text_input("Millésime", value=entry.vintage)
        c1, c2, c3 = st.columns(3)
        owner = c1.text_input("Responsable", value=entry.owner)
        frequency = c2.text_input("Fréquence de collecte", value=entry.frequency)
        family = c3.selectbox("Famille", list(FAMILIES), index=list(FAMILIES).index(entry.family))
        confidential = st.checkbox("Secret statistique (petits effectifs masqués)", value=entry.confidential)
        if st.form_submit_button("Enregistrer la fiche", disabled=ws.fictional):
            try:
                edit_indicator(ws.path, chosen, label=label, definition=definition, unit=unit, source=source,
                               vintage=vintage, owner=owner, frequency=frequency, family=family,
                               confidential=confidential)
                st.session_state["catalogue-done"] = "Fiche enregistrée."
                st.rerun()
            except InputError as exc:
                st.error(exc.french())
    confirm = st.checkbox(f"Je veux supprimer « {entry.label} » et ses valeurs", key=f"own-confirm-{chosen}")
    if st.button("Supprimer l'indicateur", key=f"own-remove-{chosen}", disabled=not confirm or ws.fictional):
        try:
            removed = remove_indicator(ws.path, chosen)
            st.session_state["catalogue-done"] = f"Indicateur supprimé avec ses {removed} valeur(s)."
            st.rerun()
        except InputError as exc:
            st.error(exc.french())
if "catalogue-done" in st.session_state:
    st.success(st.session_state.pop("catalogue-done"))

st.subheader("Modifier les seuils d'alerte")
with_thresholds_first = sorted(ws.catalogue, key=lambda i: ws.catalogue[i].status(0.0) is None)
indicator_id = st.selectbox("Indicateur", with_thresholds_first, key="threshold-indicator",
                            format_func=lambda i: ws.catalogue[i].label)
ind = ws.catalogue[indicator_id]
with st.form(f"thresholds-{indicator_id}"):
    c1, c2 = st.columns(2)
    lower = ui.decimal_input(f"Seuil bas ({ind.unit})", as_float(ind.lower), f"lower-{indicator_id}", c1)
    upper = ui.decimal_input(f"Seuil haut ({ind.unit})", as_float(ind.upper), f"upper-{indicator_id}", c2)
    direction = st.radio("Sens", list(DIRECTIONS), format_func=DIRECTIONS.get,
                         index=list(DIRECTIONS).index(ind.higher_is_better))
    if st.form_submit_button("Enregistrer les seuils"):
        try:
            catalogue = with_thresholds(ws.catalogue, indicator_id, parse_decimal(lower, "Seuil bas"),
                                        parse_decimal(upper, "Seuil haut"), direction)
            save_workspace_catalogue(ws.path, catalogue)
            st.success(f"Seuils enregistrés : {catalogue[indicator_id].threshold_rule()}")
        except InputError as exc:
            st.error(exc.french())

st.subheader("Secret statistique")
st.caption("Un effectif d'un indicateur confidentiel inférieur au seuil est masqué, puis d'autres cellules, à tous "
           "les niveaux à la fois, jusqu'à ce qu'aucun calcul sur les chiffres publiés (tableaux, exports, zones "
           "blanches, offre) ne permette d'approcher un effectif masqué à moins du seuil. Le seuil ne descend pas "
           "sous la règle des sources (5 pour la CAF, la MSA et France Travail ; 11 ménages pour Filosofi).")
with st.form("secret"):
    threshold = st.number_input("Masquer les effectifs inférieurs à", min_value=5, max_value=50,
                                value=max(ws.secret_threshold, 5), step=1)
    who = st.text_input("Votre nom et votre organisation (gardés dans l'historique)")
    if st.form_submit_button("Enregistrer", disabled=ws.fictional):
        try:
            save_secret_threshold(ws.path, int(threshold), who)
            st.session_state["catalogue-done"] = (f"Les effectifs de 1 à {int(threshold) - 1} seront masqués, avec "
                                                  "ceux qui permettraient de les recalculer.")
            st.rerun()
        except InputError as exc:
            st.error(exc.french())
history = ws.meta.get("secret_history", [])
if history:
    st.markdown("**Historique des changements du seuil**")
    ui.table(pd.DataFrame(history).rename(columns={"date": "Date", "par": "Par", "ancien": "Ancien seuil",
                                                   "nouveau": "Nouveau seuil"}))
