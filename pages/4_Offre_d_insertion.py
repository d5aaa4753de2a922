"""Offre d'insertion: map, territory × theme table, list of services, import of offer files."""


import pandas as pd
import streamlit as st

import ui
from diagnostic.maps import leaflet
from diagnostic.charts import MEASURES, theme_heatmap
from diagnostic.errors import InputError
from diagnostic.io.offer_files import FIELD_LABELS, FORMATS, FileDefaults, detect_format, guess_mapping, read_any
from diagnostic.offer import OfferFilter, filter_offer, offer_list, sources_of, theme_table, top_themes_present
from diagnostic.offer_import import import_offer
from diagnostic.secrecy import protected_cells
from diagnostic.territory import COMMUNE_LEVEL, group_of
from diagnostic.themes import MODES, PUBLICS, theme_labels, top_theme

ws = ui.setup("Offre d'insertion")
level = ui.level_selector(ws)
labels = theme_labels()

st.title("Offre d'insertion")
st.caption(f"{ws.name} · {len(ws.offer)} services et lieux recensés")

if ws.offer.empty:
    st.info("Aucune offre n'est encore recensée : importez un fichier ci-dessous.")
else:
    groups = group_of(ws.communes, ws.groupings, level)
    with st.container(border=True):
        c1, c2, c3 = st.columns(3)
        themes = c1.multiselect("Thématiques", top_themes_present(ws.offer), format_func=labels.get,
                                key="offer-themes", placeholder="Toutes")
        subthemes = sorted({t for ts in ws.offer["themes"] for t in ts
                            if "--" in t and (not themes or top_theme(t) in themes)})
        subtheme = c2.selectbox("Sous-thématique", ["", *subthemes], key="offer-subtheme",
                                format_func=lambda t: labels.get(t, "Toutes"))
        public = c3.selectbox("Public", ["", *PUBLICS], key="offer-public",
                              format_func=lambda p: PUBLICS.get(p, "Tous"))
        c4, c5, c6 = st.columns(3)
        modes = c4.multiselect("Accueil", list(MODES), format_func=MODES.get, key="offer-modes",
                               placeholder="Tous")
        sources = c5.multiselect("Source", sources_of(ws.offer), key="offer-sources", placeholder="Toutes")
        territories = ["", *sorted(groups.dropna().unique())] if level != COMMUNE_LEVEL else [""]
        territory = c6.selectbox("Territoire", territories, key="offer-territory",
                                 format_func=lambda t: t or "Tout le département",
                                 disabled=level == COMMUNE_LEVEL)
    chosen = OfferFilter(themes=themes, subtheme=subtheme, public=public, modes=modes, sources=sources,
                         communes=list(groups.index[groups == territory]) if territory else [])
    shown = filter_offer(ws.offer, chosen)
    st.metric("Services correspondant aux filtres", len(shown))

    ui.map_block(ws, ("offre", str(chosen)),
                 lambda: leaflet.offer_map(ui.topology(ws, COMMUNE_LEVEL), ws.commune_names(), shown, themes), 540,
                 note="Cercle à bord pointillé : position approximative (centre de la commune). "
                      "Les nombres regroupent les services proches ; zoomez pour les séparer.")

    if level != COMMUNE_LEVEL:
        st.subheader(f"Services par territoire et thématique — {level}")
        rsa = ws.values[ws.values["indicator"] == "part_foyers_rsa"].set_index("code_insee")["numerator"]
        population = ws.communes.set_index("code_insee")["population"]
        rsa_indicator = ws.catalogue.get("part_foyers_rsa")
        confidential = rsa_indicator is not None and rsa_indicator.confidential and not rsa.empty
        secret = protected_cells(ws, rsa_indicator).hidden_at(level) if confidential else set()
        table = theme_table(shown, groups, population, rsa if not rsa.empty else None, secret)
        measures = [m for m in MEASURES if m in table.columns]
        measure = st.radio("Mesure", measures, format_func=MEASURES.get, horizontal=True,
                           index=measures.index("per_10000"), key="offer-measure")
        ui.chart(ws, ("carte-thematique", str(chosen), level, measure),
                 lambda: theme_heatmap(table, measure))
        st.caption("En rouge : aucun service de la thématique dans le territoire. Un service compte "
                   "dans chacune de ses thématiques ; l'offre à distance n'est pas comptée ici.")
    else:
        st.caption("Choisissez un niveau de regroupement pour voir le tableau par territoire.")

    st.subheader("Liste des services")
    listing = offer_list(shown, ws.commune_names(), pd.Timestamp.today().normalize()) \
        .sort_values("Mise à jour", ascending=False)
    ui.table(listing)
    ui.download(listing, "offre_insertion.csv")

st.subheader("Importer un fichier")
with st.expander("Ajouter des services ou des lieux (data·inclusion, médiation numérique, "
                 "France services, fichier d'un partenaire)",
                 expanded=ws.offer.empty or st.session_state.get("offer-file") is not None):
    upload = st.file_uploader("Fichier CSV, Excel ou JSON", type=["csv", "xlsx", "json"], key="offer-file")
    if upload is not None:
        path = ui.saved_upload(upload)
        tag = upload.file_id  # every widget below belongs to this file: a new file is guessed again
        try:
            frame = read_any(path)
            guessed = detect_format(list(frame.columns))
            fmt = st.selectbox("Format (deviné d'après les colonnes, modifiable)", list(FORMATS),
                               index=list(FORMATS).index(guessed), format_func=FORMATS.get, key=f"offer-format-{tag}")
            mapping, defaults = None, FileDefaults()
            if fmt == "csv":
                st.markdown("**Correspondance des colonnes** (devinée d'après leurs noms, à vérifier)")
                guess = guess_mapping(list(frame.columns))
                mapping = {}
                cols = st.columns(3)
                for i, (target, label) in enumerate(FIELD_LABELS.items()):
                    options = ["", *frame.columns]
                    choice = cols[i % 3].selectbox(label, options, key=f"map-{target}-{tag}",
                                                   index=options.index(guess.get(target, "")),
                                                   format_func=lambda c: c or "— aucune —")
                    if choice:
                        mapping[target] = choice
                st.markdown("**Pour tout le fichier** (remplace ce que disent les lignes ; utile pour une liste "
                            "sans colonne de thématiques, comme Aidants Connect)")
                c1, c2, c3 = st.columns(3)
                theme = c1.selectbox("Thématique", ["", *labels], key=f"offer-theme-{tag}",
                                     format_func=lambda t: labels.get(t, "— d'après le fichier —"))
                public = c2.selectbox("Public", ["", *PUBLICS], key=f"offer-public-{tag}",
                                      format_func=lambda p: PUBLICS.get(p, "— d'après le fichier —"))
                mode = c3.selectbox("Accueil", ["", *MODES], key=f"offer-mode-{tag}",
                                    format_func=lambda m: MODES.get(m, "— d'après le fichier —"))
                defaults = FileDefaults(theme, public, mode)
            st.caption("Aperçu des premières lignes")
            st.dataframe(frame.head(5), hide_index=True, width="stretch")
            if st.button("Importer", type="primary", key=f"offer-import-{tag}", disabled=ws.fictional):
                report = import_offer(ws, path, fmt, mapping, display_name=upload.name, defaults=defaults)
                st.session_state["offer-report"] = (tag, report)
                st.rerun()
        except InputError as exc:
            st.error(exc.french())

        shown_tag, report = st.session_state.get("offer-report", (None, None))
        if report is not None and shown_tag == tag:
            st.success(report.summary())
            for line in report.stale:
                st.warning(line)
            if report.merges:
                st.markdown("**Doublons fusionnés**")
                ui.table(pd.DataFrame([{"Service conservé": m.kept_name, "Fusionné avec": m.merged_name,
                                        "Raison": m.reason} for m in report.merges]))
            for title, lines in (("Lignes refusées", report.errors), ("Lignes d'autres territoires, ignorées",
                                                                      report.ignored)):
                if lines:
                    st.markdown(f"**{title}**")
                    ui.table(pd.DataFrame([{"Fichier": e.file, "Ligne": e.line, "Champ": e.field,
                                            "Raison": e.reason} for e in lines]))

ui.forget_uploads()  # no uploaded file stays on the server after this run
