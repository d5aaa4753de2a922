"""Nouveau territoire: create a workspace from the département's own files, then open it."""

import streamlit as st

import ui
from diagnostic.errors import InputError
from diagnostic.fetch import fetch_departement
from diagnostic.io.geo import boundary_fields
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
3. **Les regroupements** (CSV ou Excel, facultatif) : `code_insee` puis une ou plusieurs colonnes de
   niveaux (par exemple « Territoire d'action sociale », « EPCI ») ; vous choisissez les colonnes à garder, ce
   qui permet de donner la liste officielle des communes (`communes.csv`, colonne `epci_nom`), dont les codes
   postaux sont gardés aussi.
"""
)
name = st.text_input("Nom de l'espace de travail", placeholder="Département du … — diagnostic 2027")
communes = st.file_uploader("Communes (GeoJSON, GeoPackage ou Shapefile zippé)",
                            type=["geojson", "json", "gpkg", "zip"], key="new-communes")
fields = {}
if communes is not None:
    try:
        available = boundary_fields(ui.saved_upload(communes))
        st.caption("Champs des contours à utiliser (laissés sur « reconnu automatiquement » si leurs noms "
                   "sont usuels : code_insee, nom, population…)")
        cols = st.columns(3)
        for col, (key, label) in zip(cols, [("code", "Code INSEE"), ("name", "Nom"), ("population", "Population")],
                                     strict=True):
            fields[key] = col.selectbox(label, ["", *available], key=f"new-field-{key}",
                                        format_func=lambda f: f or "reconnu automatiquement")
    except InputError as exc:
        st.error(exc.french())
indicators = st.file_uploader("Indicateurs (CSV ou Excel)", type=["csv", "txt", "xlsx"], key="new-indicators")
groupings = st.file_uploader("Regroupements (CSV ou Excel)", type=["csv", "txt", "xlsx"], key="new-groupings")
grouping_columns = None
if groupings is not None:
    try:
        grouping_columns = ui.grouping_columns(ui.saved_upload(groupings), f"new-groups-{groupings.file_id}")
    except InputError as exc:
        st.error(exc.french())
submitted = st.button("Créer et ouvrir", type="primary", key="new-create")

if "created" in st.session_state:
    st.success(st.session_state.pop("created"))
    for warning in st.session_state.pop("created_warnings", []):
        st.warning(warning)
    st.subheader("Prochaines étapes")
    ui.guided_path(ui.current_workspace())


def opened(ws) -> None:
    """Open the new workspace and say what it holds after the page reloads."""
    st.session_state["open_workspace"] = ws.path
    st.session_state["created_warnings"] = ws.meta.get("import_warnings", [])
    st.session_state["created"] = (f"Espace de travail « {ws.name} » créé : {len(ws.communes)} communes, "
                                   f"{len(ws.indicators_with_data())} indicateur(s), niveaux : "
                                   f"{', '.join(ws.groupings.columns) or 'communes seulement'}. Il est ouvert.")
    st.rerun()


if submitted:
    if communes is None or not name.strip():
        st.error("Indiquez un nom et le fichier des communes.")
    elif groupings is not None and not grouping_columns:
        st.error("Cochez au moins une colonne du tableau des regroupements (ou retirez ce fichier).")
    else:
        try:
            with st.spinner("Vérification des fichiers et création de l'espace de travail…"):
                ws = create_workspace(new_workspace_path(name), ui.saved_upload(communes),
                                      ui.saved_upload(indicators), ui.saved_upload(groupings), name.strip(),
                                      {k: v for k, v in fields.items() if v}, grouping_columns)
            opened(ws)
        except InputError as exc:
            st.error(exc.french())

st.subheader("Ou récupérer les données ouvertes (connexion Internet nécessaire)")
st.markdown("Les communes du département (contours, population, codes postaux) et leurs EPCI depuis l'API "
            "géographique nationale, puis l'offre publiée : structures et services data·inclusion, lieux de "
            "médiation numérique, France services. Hors ligne, rien n'est créé.")
code = st.text_input("Code du département", max_chars=3, placeholder="ex. 94, 2A, 974", key="fetch-code")
if st.button("Récupérer et créer", key="fetch-go", disabled=not code.strip()):
    try:
        with st.spinner("Téléchargement des données ouvertes…"):
            ws = fetch_departement(code, new_workspace_path(f"departement-{code}"))
        opened(ws)
    except InputError as exc:
        st.error(exc.french())

ui.forget_uploads()  # no uploaded file stays on the server after this run
