"""Zones blanches: where the offer of a theme is out of reach, for whom, and where to add a site."""


import pandas as pd
import streamlit as st

import ui
from diagnostic.charts import distance_chart
from diagnostic.maps import leaflet
from diagnostic.access.capacity import capacity_access, capacity_by_territory
from diagnostic.access.siting import read_candidates, suggest_sites
from diagnostic.access.white_zones import (CROW_FLY, MIN_DEPARTURES, MOBILITY, MODES, WALK_M, WALK_MINUTES,
                                           CoverageParams,
                                           class_labels, distance_distribution, export_table, masked_target,
                                           territory_summary)
from diagnostic.errors import InputError
from diagnostic.export.csv import csv_bytes
from diagnostic.io.gtfs import HOURS
from diagnostic.io.offer_files import read_any
from diagnostic.access.points import target_choices
from diagnostic.indicators import fmt_number
from diagnostic.territory import COMMUNE_LEVEL
from diagnostic.themes import theme_labels, top_theme
from diagnostic.travel.network import network_available
from diagnostic.workspace import save_retained_coverage

DETOURS = [round(1 + 0.05 * i, 2) for i in range(21)]  # 1,00 to 2,00, shown with a decimal comma

ws = ui.setup("Zones blanches")
level = ui.level_selector(ws)
labels = theme_labels()

st.title("Zones blanches")
st.caption(ws.name)

themes_present = sorted({t for ts in ws.offer["themes"] for t in ts} | {top_theme(t) for ts in ws.offer["themes"] for t in ts},
                        key=list(labels).index)
if not themes_present:
    st.info("Aucune offre n'est recensée : importez-la dans la page « Offre d'insertion ».")
    st.stop()

targets = target_choices(ws)
with st.container(border=True):
    c1, c2, c3 = st.columns(3)
    theme = c1.selectbox("Thématique", themes_present, key="cov-theme",
                         index=themes_present.index("mobilite") if "mobilite" in themes_present else 0,
                         format_func=lambda t: labels[t] if "--" not in t else f"{labels[top_theme(t)]} › {labels[t]}")
    modes = list(MODES) if network_available(ws.path) else [CROW_FLY]
    mode = c1.radio("Mesure de l'accès", modes, format_func=MODES.get, key="cov-mode",
                    index=modes.index("route") if "route" in modes else 0)
    if mode != CROW_FLY:
        max_minutes = c2.slider("Seuil (minutes de trajet)", 5, 90, 20, key="cov-net-minutes")
        max_km, unit = 10, "minutes"
    else:
        unit = c2.radio("Seuil exprimé en", ["km", "minutes"], horizontal=True, key="cov-unit")
        if unit == "km":
            max_km = c2.slider("Seuil (km par la route)", 1, 40, 10, key="cov-km")
            max_minutes = None
        else:
            max_minutes = c2.slider("Seuil (minutes de trajet)", 5, 60, 15, key="cov-minutes")
            max_km = 10
    if len(modes) == 1:
        c1.caption("Pour des temps de trajet sur les routes et chemins réels, importez l'extrait OpenStreetMap de "
                   "votre région (page « Importer des données », onglet « Réseau routier »).")
    target = c3.selectbox("Population cible", list(targets), format_func=targets.get, key="cov-target")
    c4, c5, c6 = st.columns(3)
    detour, speed = 1.3, 40.0
    if mode == CROW_FLY:
        detour = c4.select_slider("Facteur de détour (route / vol d'oiseau)", DETOURS, 1.3, key="cov-detour",
                                  format_func=lambda v: fmt_number(v, 2))
        speed = c5.slider("Vitesse moyenne (km/h)", 10, 90, 40, 5, key="cov-speed")
    remote = c6.toggle("Compter l'offre à distance", key="cov-remote")
    n_sites = c6.number_input("Sites à suggérer", 0, 10, 3, key="cov-sites")
    walk_m, min_departures, walk_minutes = WALK_M, MIN_DEPARTURES, WALK_MINUTES
    hours, school = (0, HOURS), True
    if top_theme(theme) == MOBILITY:
        c7, c8, c9 = st.columns(3)
        if mode == CROW_FLY:
            walk_m = c7.select_slider("Distance à pied jusqu'à un arrêt", list(range(200, 2001, 100)), WALK_M,
                                      key="cov-walk", format_func=lambda m: f"{fmt_number(m, 0)} m")  # « 2 000 m »
        else:
            walk_minutes = c7.slider("Marche jusqu'à un arrêt (minutes, réseau piéton)", 2, 30, int(WALK_MINUTES),
                                     key="cov-walk-minutes")
        min_departures = c8.number_input("Départs minimum par jour de semaine pour qu'un arrêt compte", 0, 200,
                                         MIN_DEPARTURES, key="cov-departures")
        hours = c9.slider("Départs comptés entre (heures)", 0, HOURS, (0, HOURS), key="cov-hours",
                          help="24 et au-delà : après minuit, le service de la veille continue (horaires GTFS).")
        school = not c9.toggle("Ne pas compter les services scolaires", key="cov-school")

params = CoverageParams((theme,), float(max_km), float(max_minutes) if max_minutes else None, float(detour),
                        float(speed), bool(remote), target, float(walk_m), int(min_departures), mode,
                        int(hours[0]), int(hours[1]), bool(school), float(walk_minutes))
with st.spinner("Calcul des temps de trajet sur le réseau…" if params.on_network else "Calcul des distances…"):
    result = ui.coverage(ws, params)
white = result.white_zones()
target_label = targets[target]
retained = params in ws.retained_coverage
r1, r2 = st.columns([1, 3])
if r1.button("Retenu pour l'annexe" if retained else "Retenir pour l'annexe", key="cov-retain", disabled=retained,
             icon=":material/check:" if retained else ":material/push_pin:"):
    save_retained_coverage(ws.path, [*ws.retained_coverage, params])
    st.rerun()
r2.caption("Réglages retenus pour l'annexe : " + (" ; ".join(p.label() for p in ws.retained_coverage)
           if ws.retained_coverage else "aucun (l'annexe prendra chaque thématique de l'offre à 10 km). "
                                        "Ils se modifient aussi dans la page « Export »."))
m1, m2, m3 = st.columns(3)
m1.metric("Communes en zone blanche", len(white))
m2.metric("Habitants en zone blanche", fmt_number(result.white_population(), 0))
group_level = level if level != COMMUNE_LEVEL else (ws.groupings.columns[0] if len(ws.groupings.columns) else None)
summary = territory_summary(result, ws, group_level) if group_level else None
m3.metric(f"Couverture — {target_label}", f"{fmt_number(summary.loc['Département', 'target_coverage_rate'])} %"
          if summary is not None else "–")

candidates = None
if n_sites:
    with st.expander("Lieux candidats pour un nouveau service"):
        upload = st.file_uploader("Liste de lieux (CSV ou Excel : nom, latitude, longitude) — sinon, les "
                                  "centres des communes", type=["csv", "xlsx"], key="cov-candidates")
        if upload is not None:
            path = ui.saved_upload(upload)
            try:
                candidates = read_candidates(read_any(path), upload.name)
                st.caption(f"{len(candidates)} lieu(x) candidat(s).")
            except InputError as exc:
                st.error(exc.french())
sites = suggest_sites(ws, result, int(n_sites), candidates) if n_sites else None
is_mobility = params.is_mobility
stops = result.stops if is_mobility else None
ui.map_block(ws, ("zones", params, n_sites,
              None if candidates is None else candidates.to_json()),
             lambda: leaflet.coverage_map(ui.topology(ws, COMMUNE_LEVEL), result.communes, result.services, stops,
                                       sites.candidates if sites is not None else None, target_label,
                                       masked_target(result, ws).set_axis(result.communes["code_insee"]).astype(str),
                                       class_labels(params)), 540)

with st.expander("Méthode et paramètres", expanded=False):
    st.text(result.describe())
    st.caption("Ces paramètres sont repris dans chaque ligne du fichier exporté.")

if summary is not None:
    st.subheader(f"Par territoire — {group_level}")
    table = pd.DataFrame({
        "Territoire": summary.index, "Communes en zone blanche": summary["white_communes"].astype(int),
        "Habitants en zone blanche": summary["white_population"].round(0),
        f"{target_label} en zone blanche": summary["white_target"].round(0),
        "Taux de couverture (% des habitants)": summary["coverage_rate"].round(1),
        f"Taux de couverture ({target_label})": summary["target_coverage_rate"].round(1)})
    if target == "population":
        table = table.iloc[:, [0, 1, 2, 4]]
    if is_mobility:
        table.insert(2, "Communes hors de portée des services", summary["service_white_communes"].astype(int))
        table.insert(3, "Communes desservies par le transport public", summary["transit_communes"].astype(int))
    ui.table(table)

st.subheader("Répartition des temps d'accès au service le plus proche" if params.on_network
             else "Répartition des distances au service le plus proche")
ui.chart(ws, ("distances", params),
         lambda: distance_chart(distance_distribution(result), class_labels(params)))

with st.expander("Toutes les thématiques avec ces seuils"):
    wanted = not params.on_network or st.toggle("Calculer les temps de trajet de toutes les thématiques (quelques "
                                                "secondes par thématique)", key="cov-all")
    if wanted:
        overview = ui.themes_overview(ws, params)
        ui.table(pd.DataFrame({"Thématique": overview["theme"].map(labels),
                               "Communes en zone blanche": overview["white_communes"],
                               "Habitants en zone blanche": overview["white_population"].round(0),
                               "Taux de couverture (%)": overview["coverage_rate"].round(1)})
                 .sort_values("Taux de couverture (%)"))

if sites is not None and not sites.candidates.empty:
    st.subheader("Où ouvrir un nouveau service ?")
    st.caption(sites.method or f"Choix glouton parmi {'les lieux proposés' if candidates is not None else 'les centres des communes'} : "
               f"chaque site ajouté couvre le plus de « {target_label} » encore hors de portée, les services existants "
               "restant en place.")
    ui.table(pd.DataFrame({"Ordre": range(1, len(sites.candidates) + 1), "Lieu": sites.candidates["name"],
                           f"{target_label} nouvellement couverts": sites.candidates["gain"].round(0)}))
    st.markdown(f"Couverture de « {target_label} » : **{fmt_number(sites.covered_before / sites.total * 100)} %** "
                f"aujourd'hui, **{fmt_number(sites.covered_after / sites.total * 100)} %** avec ces sites.")

access = capacity_access(ws, result)
if access is not None:
    st.subheader("Accès pondéré par la capacité (2SFCA)")
    st.caption("Capacité des services (conseillers, places) pour 1 000 habitants à portée, en partageant "
               "chaque service entre toutes les personnes qui l'atteignent : un service saturé ne couvre "
               "pas 50 000 personnes." + (" Sur le réseau, un service compte pleinement jusqu'à la moitié du seuil, "
               "aux deux tiers jusqu'aux trois quarts, au tiers jusqu'au seuil, comme l'indice d'accessibilité "
               "potentielle localisée (APL) de la DREES." if params.on_network else ""))
    if group_level:
        by_territory = capacity_by_territory(access, ws, group_level)
        ui.table(pd.DataFrame({"Territoire": by_territory.index,
                               "Capacité pour 1 000 habitants (moyenne pondérée)": by_territory["mean_index"].round(2),
                               "Habitants sans capacité à portée": by_territory["without"].round(0)}))

if is_mobility:
    st.subheader("Mobilité : les deux critères")
    near = (f"à moins de {fmt_number(params.walk_minutes, 0)} minutes à pied (réseau piéton) d'un lieu de vie"
            if params.on_network else f"dans la commune ni à moins de {params.walk_m:g} m")
    st.caption(f"Zone blanche de mobilité : aucun arrêt desservi (au moins {params.min_departures} départs un jour "
               f"de semaine) {near}, et aucun service de mobilité dans le seuil. Carte, tableaux et fichiers suivent "
               "ce critère combiné.")
    c1, c2, c3 = st.columns(3)
    c1.metric("Communes hors de portée des services", int(result.communes["service_white_zone"].sum()))
    c2.metric("Communes desservies par le transport public", int(result.communes["transit_covered"].sum()))
    c3.metric("Zones blanches de mobilité", len(white))
    if ws.stops.empty:
        st.info("Aucun arrêt de transport public : importez un flux GTFS (ligne de commande "
                "« python -m diagnostic import-gtfs ») pour tenir compte du transport public.")
    elif result.note:
        st.caption(result.note)

st.download_button("Télécharger le résultat par commune (CSV)", csv_bytes(export_table(result, ws)),
                   file_name=f"zones_blanches_{theme}.csv", mime="text/csv")

ui.forget_uploads()  # no uploaded file stays on the server after this run
