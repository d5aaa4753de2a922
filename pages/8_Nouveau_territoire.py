"""Nouveau territoire: create a workspace from the département's own files, then open it."""

import streamlit as st

import ui
from diagnostic.errors import InputError
from diagnostic.workspace import create_workspace, new_workspace_path

ui.setup("Nouveau territoire")

st.title("Créer un espace de travail pour votre territoire")
st.markdown(
    """
Trois fichiers suffisent ; rien n'est créé si l'un d'eux est refusé, et le message dit quoi corriger.

1. **Les communes** (GeoJSON, GeoPackage ou Shapefile zippé) : une entité par commune, avec son code INSEE (sur 5 caractères),
   son nom et, si possible, sa population, dans n'importe quel système de coordonnées déclaré. Un champ
   `anciens_codes` (ou `code_2018`) sert à rapprocher les données des communes fusionnées depuis.
2. **Les indicateurs** (CSV ou Excel, facultatif) : soit le format long
   `code_insee ; indicateur ; numerateur ; denominateur` (un identifiant du catalogue par ligne), soit un
   tableau de l'INSEE ou de l'État (une colonne par variable : population municipale, Filosofi, recensement…
   sont reconnus ; les autres colonnes s'associent ensuite sur la page « Importer des données »).
   Virgule décimale acceptée, `s` pour une valeur secrète. Sans population dans les contours, ce
   tableau doit la donner.
3. **Les regroupements** (CSV, facultatif) : `code_insee` puis une colonne par niveau (par exemple
   « Territoire d'action sociale », « EPCI ») ; le nom de la colonne devient le nom du niveau.
"""
)
with st.form("new-workspace"):
    name = st.text_input("Nom de l'espace de travail", placeholder="Département du … — diagnostic 2027")
    communes = st.file_uploader("Communes (GeoJSON, GeoPackage ou Shapefile zippé)",
                                type=["geojson", "json", "gpkg", "zip"], key="new-communes")
    indicators = st.file_uploader("Indicateurs (CSV ou Excel)", type=["csv", "txt", "xlsx"],
                                  key="new-indicators")
    groupings = st.file_uploader("Regroupements (CSV ou Excel)", type=["csv", "txt", "xlsx"],
                                 key="new-groupings")
    submitted = st.form_submit_button("Créer et ouvrir", type="primary")

if "created" in st.session_state:
    st.success(st.session_state.pop("created"))
    for warning in st.session_state.pop("created_warnings", []):
        st.warning(warning)

if submitted:
    if communes is None or not name.strip():
        st.error("Indiquez un nom et le fichier des communes.")
    else:
        try:
            with st.spinner("Vérification des fichiers et création de l'espace de travail…"):
                ws = create_workspace(new_workspace_path(name), ui.saved_upload(communes), ui.saved_upload(indicators),
                                      ui.saved_upload(groupings), name.strip())
            st.session_state["open_workspace"] = ws.path
            st.session_state["created_warnings"] = ws.meta.get("import_warnings", [])
            st.session_state["created"] = (f"Espace de travail « {ws.name} » créé : {len(ws.communes)} communes, "
                                           f"{len(ws.indicators_with_data())} indicateur(s), niveaux : "
                                           f"{', '.join(ws.groupings.columns) or 'communes seulement'}. Il est ouvert.")
            st.rerun()
        except InputError as exc:
            st.error(exc.french())
