"""Importer des données: indicator tables (INSEE, CAF, France Travail…) and new indicators, groupings
of communes (from a table or drawn on the map), the correspondence of former commune codes and the
public-transport feeds (GTFS)."""

import pandas as pd
import streamlit as st

import ui
from diagnostic.maps import leaflet
from diagnostic.access.grid import grid_info, import_grid
from diagnostic.access.transit import import_gtfs
from diagnostic.travel.network import import_roads, network_info
from diagnostic.errors import InputError
from diagnostic.indicator_import import (WORKSPACE_POPULATION, ColumnMap, TableMapping, guess_mapping, is_long,
                                         remembered_mapping, selectable_indicators)
from diagnostic.indicators import (AGGREGATION_NONE, AGGREGATION_SUMS, AGGREGATION_WEIGHTED, FAMILIES, french_date,
                                   parse_decimal)
from diagnostic.io.tables import read_table
from diagnostic.open_catalogue import NewIndicator, add_indicator, columns_of
from diagnostic.territory import COMMUNE_LEVEL, UNASSIGNED, WGS84, assign_group, group_of
from diagnostic.workspace import import_groupings, import_indicators, save_groupings

ws = ui.setup("Importer des données")
st.title("Importer des données")
st.caption(f"Espace de travail : {ws.name}. Un fichier refusé ne change rien ; le message dit quelle "
           "ligne et quel champ corriger.")
if ws.fictional:
    st.info("Vous êtes sur le département de démonstration : créez d'abord l'espace de travail de votre "
            "territoire (page « Nouveau territoire ») pour y importer vos fichiers.")

if "import-result" in st.session_state:
    summary, details = st.session_state.pop("import-result")
    st.success(summary)
    for detail in details:
        st.warning(detail)


def done(summary: str, details: list[str]) -> None:
    """Show the result after the page reloads with the new data."""
    st.session_state["import-result"] = (summary, details)
    st.rerun()


NEW_LEVEL = "+ nouveau niveau"
SELECTION = "● Sélection en cours"


def row_filter(frame: pd.DataFrame, tag: str) -> dict[str, str] | None:
    """For a table with several rows per commune (one per year, quarter…), the rows to keep."""
    code = guess_mapping(list(frame.columns)).code_column
    if not frame[code].duplicated().any():
        return None
    st.markdown("**Lignes retenues** : ce tableau a plusieurs lignes par commune (une par année, par catégorie…).")
    choices = [c for c in frame.columns if c != code and 1 < frame[c].nunique() <= 50]
    c1, c2 = st.columns(2)
    column = c1.selectbox("Colonne", choices, key=f"values-where-col-{tag}")
    if column is None:
        return None
    values = sorted(frame[column].astype(str).str.strip().unique(), reverse=True)
    return {column: c2.selectbox("Valeur", values, key=f"values-where-val-{tag}")}


def new_indicator_form(columns: list[str], tag: str) -> NewIndicator:
    """The fields of an indicator a user adds, from the columns of their table."""
    c1, c2 = st.columns([1, 2])
    ident = c1.text_input("Identifiant", key=f"new-id-{tag}", placeholder="ex. part_foyers_rsa_caf")
    label = c2.text_input("Libellé", key=f"new-label-{tag}", placeholder="ex. Part des foyers CAF au RSA")
    method = st.radio("Calcul", list(METHODS), format_func=METHODS.get, horizontal=True, key=f"new-method-{tag}")
    c1, c2, c3 = st.columns(3)
    numerator = c1.multiselect("Numérateur (colonnes additionnées)" if method == AGGREGATION_SUMS else "Valeur",
                               columns, key=f"new-num-{tag}", max_selections=None if method == AGGREGATION_SUMS else 1)
    denominator = c2.multiselect("Dénominateur (facultatif)", columns, key=f"new-den-{tag}",
                                 disabled=method != AGGREGATION_SUMS)
    unit = c3.text_input("Unité", key=f"new-unit-{tag}", placeholder="% pour un taux")
    c1, c2, c3 = st.columns(3)
    source = c1.text_input("Source", key=f"new-source-{tag}")
    vintage = c2.text_input("Millésime", key=f"new-vintage-{tag}")
    family = c3.selectbox("Famille", list(FAMILIES), index=list(FAMILIES).index("contexte"), key=f"new-family-{tag}")
    definition = st.text_area("Définition", key=f"new-definition-{tag}", height=68)
    c1, c2, c3, c4 = st.columns(4)
    direction = c1.selectbox("Sens", list(DIRECTIONS), format_func=DIRECTIONS.get, key=f"new-direction-{tag}")
    lower = ui.decimal_input("Seuil bas", None, f"new-lower-{tag}", c2, disabled=direction is None)
    upper = ui.decimal_input("Seuil haut", None, f"new-upper-{tag}", c3, disabled=direction is None)
    confidential = c4.checkbox("Secret statistique (petits effectifs masqués)", key=f"new-secret-{tag}")
    return NewIndicator(ident.strip(), label, numerator, denominator, "", unit, source, vintage, family,
                        direction, parse_decimal(lower, "Seuil bas") if direction is not None else None,
                        parse_decimal(upper, "Seuil haut") if direction is not None else None,
                        confidential, method, definition)


METHODS = {AGGREGATION_SUMS: "Effectif ou taux (sommes)", AGGREGATION_WEIGHTED: "Indice (moyenne pondérée)",
           AGGREGATION_NONE: "Médiane ou valeur non additive"}
DIRECTIONS = {None: "Sans seuil", False: "Plus bas = mieux", True: "Plus haut = mieux"}

tab_values, tab_groups, tab_draw, tab_gtfs, tab_roads = st.tabs(
    ["Indicateurs", "Regroupements (fichier)", "Regroupements (carte)", "Transport public (GTFS)",
     "Réseau routier et carreaux"])

with tab_values:
    st.markdown(
        "Tableaux de l'INSEE (Filosofi, recensement…), de la CAF, de France Travail ou d'un partenaire, "
        "en CSV ou Excel : séparateur, encodage et lignes de titre sont reconnus, la virgule décimale "
        "aussi ; `s`, `nd` ou une case vide restent des valeurs inconnues, jamais des zéros. Les données "
        "des communes fusionnées depuis le millésime du fichier sont additionnées.")
    upload = st.file_uploader("Tableau d'indicateurs (CSV ou Excel .xlsx)", type=["csv", "txt", "xlsx"],
                              key="values-file")
    correspondence = st.file_uploader("Table de passage des codes communes (facultative : ancien code, "
                                      "code actuel)", type=["csv", "xlsx"], key="values-correspondence")
    if upload is not None:
        path = ui.saved_upload(upload)
        try:
            frame = read_table(path)
            st.caption(f"Aperçu : {len(frame)} lignes, {len(frame.columns)} colonnes")
            st.dataframe(frame.head(5), hide_index=True, width="stretch")
            where = row_filter(frame, upload.file_id)
            mapping = None
            if is_long(list(frame.columns)):
                st.info("Format long reconnu (une ligne par commune et par indicateur).")
            else:
                columns = list(frame.columns)
                known = remembered_mapping(ws.path, columns)
                start = known or guess_mapping(columns)
                st.markdown("**Association des colonnes aux indicateurs** "
                            + ("(reprise de votre dernier import de ce tableau)" if known
                               else "(devinée d'après les noms de variables, à vérifier)"))
                code_column = st.selectbox("Colonne du code commune", columns,
                                           index=columns.index(start.code_column), key="values-code")
                catalogue = selectable_indicators(ws.catalogue)
                rows = pd.DataFrame([{"Indicateur": m.indicator, "Numérateur": " + ".join(m.numerator),
                                      "Dénominateur": " + ".join(m.denominator), "Taux": m.rate,
                                      "Millésime": m.vintage, "Source": m.source} for m in start.indicators],
                                    columns=["Indicateur", "Numérateur", "Dénominateur", "Taux", "Millésime",
                                             "Source"])
                edited = st.data_editor(
                    rows, num_rows="dynamic", hide_index=True, width="stretch", key="values-mapping",
                    column_config={
                        "Indicateur": st.column_config.SelectboxColumn(
                            options=list(catalogue), required=True,
                            format_func=lambda i: catalogue[i].short_label if i in catalogue else str(i)),
                        "Numérateur": st.column_config.TextColumn(help="Colonne(s) additionnées : A + B"),
                        "Dénominateur": st.column_config.TextColumn(
                            help=f"Colonne(s) additionnées, ou {WORKSPACE_POPULATION} pour la population "
                                 "des communes"),
                        "Taux": st.column_config.SelectboxColumn(
                            options=["", *columns], help="Une colonne de taux (en % ou dans l'unité de "
                                                         "l'indicateur) : numérateur = taux × dénominateur"),
                    })
                with st.expander("Colonnes du fichier"):
                    st.write(", ".join(f"`{c}`" for c in columns))
                mapping = TableMapping(code_column, [
                    ColumnMap(str(r["Indicateur"]), columns_of(r["Numérateur"]), columns_of(r["Dénominateur"]),
                              str(r["Taux"] or ""), str(r["Millésime"] or ""), str(r["Source"] or ""))
                    for r in edited.to_dict("records") if r.get("Indicateur")])
            if st.button("Importer", type="primary", key="values-import", disabled=ws.fictional):
                report = import_indicators(ws.path, path, mapping, ui.saved_upload(correspondence), where=where)
                done(report.summary(), report.details())
            with st.expander("Créer un nouvel indicateur à partir de ce tableau (chiffre de la CAF, d'un "
                             "partenaire, revenu médian…)"):
                spec = new_indicator_form(list(frame.columns), upload.file_id)
                if st.button("Créer l'indicateur et importer ses valeurs", key="values-new",
                             disabled=ws.fictional or not (spec.id and spec.label)):
                    report = add_indicator(ws.path, path, spec, where=where,
                                           correspondence_file=ui.saved_upload(correspondence))
                    done(report.summary(), report.details())
        except InputError as exc:
            st.error(exc.french())

with tab_groups:
    st.markdown("Un tableau avec le code INSEE de chaque commune et une colonne par niveau (territoire "
                "d'action sociale, EPCI, bassin d'emploi…). Un niveau du même nom est remplacé.")
    upload = st.file_uploader("Tableau des regroupements (CSV ou Excel .xlsx)", type=["csv", "txt", "xlsx"],
                              key="groups-file")
    if upload is not None:
        path = ui.saved_upload(upload)
        try:
            chosen = ui.grouping_columns(path, "groups-columns")
            if st.button("Importer les niveaux cochés", type="primary", key="groups-import",
                         disabled=not chosen or ws.fictional):
                imported = import_groupings(ws.path, path, chosen)
                done(f"Niveau(x) importé(s) : {', '.join(imported)}.", [])
        except InputError as exc:
            st.error(exc.french())
    if len(ws.groupings.columns):
        st.markdown("**Niveaux de l'espace de travail**")
        ui.table(pd.DataFrame({"Niveau": ws.groupings.columns,
                               "Groupes": [ws.groupings[c].nunique() for c in ws.groupings.columns]}))
        drop = st.selectbox("Supprimer un niveau", ["", *ws.groupings.columns], key="groups-drop")
        if drop and st.button(f"Supprimer le niveau « {drop} »", key="groups-drop-confirm", disabled=ws.fictional):
            save_groupings(ws.path, ws.groupings.drop(columns=[drop]))
            done(f"Niveau « {drop} » supprimé.", [])

with tab_draw:
    st.markdown("Composez un niveau à la main : cliquez sur les communes de la carte pour les ajouter à la "
                "sélection (ou choisissez-les dans la liste), puis affectez-les à un groupe.")
    names = ws.commune_names()
    level = st.selectbox("Niveau", [*ws.groupings.columns, NEW_LEVEL], key="draw-level")
    if level == NEW_LEVEL:
        level = st.text_input("Nom du nouveau niveau", key="draw-new-level").strip()
    selected = st.session_state.setdefault("draw-list", [])
    shown_level = level if level and level != COMMUNE_LEVEL else "Nouveau niveau"
    drawn = assign_group(ws.groupings, shown_level, SELECTION, selected)
    state = ui.map_block(ws, ("dessin",), lambda: leaflet.territory_map(
        ui.topology(ws, COMMUNE_LEVEL), ws.communes, drawn, shown_level,
        ui.colours_of(ws, group_of(ws.communes, drawn, shown_level))), 480, clicks=["last_active_drawing"])
    clicked = leaflet.clicked_key(state)
    if clicked in names.index and st.session_state.get("draw-last-click") != clicked:
        st.session_state["draw-last-click"] = clicked
        if clicked not in selected:
            st.session_state["draw-list"] = [*selected, clicked]
            st.rerun()
    st.multiselect("Communes sélectionnées", list(names.index), format_func=lambda c: f"{names[c]} ({c})",
                   placeholder="Cliquez sur la carte ou choisissez des communes",
                   key="draw-list")
    group = st.text_input("Groupe", key="draw-group", placeholder="ex. Territoire Nord")
    if level in ws.groupings.columns:
        st.caption(f"Groupes existants : {', '.join(sorted(set(ws.groupings[level]) - {UNASSIGNED}))}")
    chosen = st.session_state["draw-list"]
    if st.button("Affecter la sélection à ce groupe", type="primary", key="draw-assign",
                 disabled=not (level and group.strip() and chosen) or ws.fictional):
        if level == COMMUNE_LEVEL:
            st.error("« commune » est réservé : choisissez un autre nom de niveau.")
        else:
            save_groupings(ws.path, assign_group(ws.groupings, level, group, chosen))
            del st.session_state["draw-list"]
            done(f"{len(chosen)} commune(s) affectée(s) au groupe « {group.strip()} » du niveau « {level} ».", [])

with tab_gtfs:
    st.markdown("Le flux **GTFS** d'un réseau de transport (car départemental, réseau urbain, TER), tel qu'il est "
                "publié sur transport.data.gouv.fr : l'archive `.zip`, ou ses fichiers `.txt` (au moins "
                "`stops.txt` ; avec `stop_times.txt`, `trips.txt` et `calendar.txt`, les départs d'un jour de semaine "
                "sont comptés). Les arrêts hors du territoire sont ignorés ; un flux du même nom est remplacé.")
    feed = st.file_uploader("Flux GTFS (.zip ou fichiers .txt)", type=["zip", "txt"], accept_multiple_files=True,
                            key="gtfs-files")
    name = st.text_input("Nom du flux", key="gtfs-name", placeholder="ex. Hérault Transport",
                         help="Pour des fichiers .txt ; une archive garde son nom de fichier.")
    if feed and st.button("Importer le flux", type="primary", key="gtfs-import", disabled=ws.fictional):
        try:
            path, label = ui.saved_feed(feed, name)
            done(import_gtfs(ws, path, label).summary(), [])
        except InputError as exc:
            st.error(exc.french())
    if len(ws.stops):
        st.markdown("**Flux de l'espace de travail**")
        ui.table(ws.stops.groupby("feed").agg(Arrêts=("stop_id", "size"),
                                              Communes=("code_insee", "nunique")).rename_axis("Flux").reset_index())

with tab_roads:
    st.markdown("**Réseau routier et piéton** : l'extrait **OpenStreetMap** de votre région au format `.osm.pbf`, "
                "tel qu'il se télécharge (par exemple sur download.geofabrik.de, rubrique France). Les voies autour du "
                "territoire sont gardées et préparées pour la voiture et la marche (OSRM) : les zones blanches se "
                "calculent alors en minutes de trajet. Jusqu'à 200 Mo ici ; un extrait plus gros s'importe en ligne "
                "de commande (« python -m diagnostic import-roads region.osm.pbf »).")
    info = network_info(ws.path)
    if info is not None:
        st.caption(f"Réseau de l'espace : {info.ways} voies, {info.date_text()} (fichier « {info.source} »), "
                   f"importé le {french_date(info.imported_at)}.")
    extract = st.file_uploader("Extrait OpenStreetMap (.osm.pbf)", type=["pbf"], key="roads-file")
    if extract is not None and st.button("Importer le réseau", type="primary", key="roads-import",
                                         disabled=ws.fictional):
        bar = st.progress(0.0, text="Import du réseau…")
        try:
            info = import_roads(ws.path, ui.saved_upload(extract), tuple(ws.communes.to_crs(WGS84).total_bounds),
                                progress=lambda share, text: bar.progress(share, text=text), source_name=extract.name)
            done(f"Réseau importé : {info.ways} voies autour du territoire, {info.date_text()}.", [])
        except InputError as exc:
            bar.empty()
            st.error(exc.french())
    st.markdown("**Où vivent les habitants** : la grille carroyée **Filosofi** de l'INSEE (carreaux de 200 m : "
                "`idcar_200m`, `ind`, `men`, `men_pauv`, `i_est_200`), en CSV, GeoPackage ou Parquet, du pays ou de "
                "la région. Les carreaux du territoire deviennent les lieux de vie des zones blanches en minutes ; "
                "leurs effectifs ne sont jamais affichés, seulement réagrégés par commune.")
    cells = grid_info(ws.path)
    if cells is not None:
        st.caption(f"Carreaux de l'espace : {cells.french()} Fichier « {cells.source} », millésime "
                   f"{cells.vintage or 'non indiqué'}.")
    grid_file = st.file_uploader("Fichier carroyé (CSV, GeoPackage ou Parquet)", type=["csv", "gpkg", "parquet"],
                                 key="grid-file")
    vintage = st.text_input("Millésime", key="grid-vintage", placeholder="ex. 2021 (sinon lu dans le nom du fichier)")
    if grid_file is not None and st.button("Importer les carreaux", type="primary", key="grid-import",
                                           disabled=ws.fictional):
        try:
            with st.spinner("Lecture des carreaux…"):
                done(import_grid(ws.path, ui.saved_upload(grid_file), ws.communes, grid_file.name,
                                 vintage.strip()).french(), [])
        except InputError as exc:
            st.error(exc.french())

ui.forget_uploads()  # no uploaded file stays on the server after this run
