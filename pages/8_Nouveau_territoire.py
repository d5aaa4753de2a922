"""Nouveau territoire: create a workspace from the département's own files, then open it."""

import tempfile
from pathlib import Path

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
   son nom et sa population, dans n'importe quel système de coordonnées déclaré.
2. **Les indicateurs** (CSV, facultatif) : `code_insee ; indicateur ; numerateur ; denominateur`,
   un identifiant du catalogue par ligne (`part_foyers_rsa`, `taux_pauvrete`…), virgule décimale
   acceptée, `s` pour une valeur secrète.
3. **Les regroupements** (CSV, facultatif) : `code_insee` puis une colonne par niveau (par exemple
   « Territoire d'action sociale », « EPCI ») ; le nom de la colonne devient le nom du niveau.
"""
)
with st.form("new-workspace"):
    name = st.text_input("Nom de l'espace de travail", placeholder="Département du … — diagnostic 2027")
    communes = st.file_uploader("Communes (GeoJSON, GeoPackage ou Shapefile zippé)",
                                type=["geojson", "json", "gpkg", "zip"], key="new-communes")
    indicators = st.file_uploader("Indicateurs (CSV)", type=["csv"], key="new-indicators")
    groupings = st.file_uploader("Regroupements (CSV)", type=["csv"], key="new-groupings")
    submitted = st.form_submit_button("Créer et ouvrir", type="primary")

if "created" in st.session_state:
    st.success(st.session_state.pop("created"))
    for warning in st.session_state.pop("created_warnings", []):
        st.warning(warning)

if submitted:
    if communes is None or not name.strip():
        st.error("Indiquez un nom et le fichier des communes.")
    else:
        folder = Path(tempfile.mkdtemp(prefix="pti-new-"))

        def saved(upload):
            if upload is None:
                return None
            path = folder / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            return path

        try:
            with st.spinner("Vérification des fichiers et création de l'espace de travail…"):
                ws = create_workspace(new_workspace_path(name), saved(communes), saved(indicators),
                                      saved(groupings), name.strip())
            st.session_state["open_workspace"] = ws.path
            st.session_state["created_warnings"] = ws.meta.get("import_warnings", [])
            st.session_state["created"] = (f"Espace de travail « {ws.name} » créé : {len(ws.communes)} communes, "
                                           f"{len(ws.indicators_with_data())} indicateur(s), niveaux : "
                                           f"{', '.join(ws.groupings.columns) or 'communes seulement'}. Il est ouvert.")
            st.rerun()
        except InputError as exc:
            st.error(exc.french())
