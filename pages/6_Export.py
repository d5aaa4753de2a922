"""Export: the shared diagnostic as the annex of the pact (PDF), a workbook (Excel) and CSV files."""

import streamlit as st

import ui
from diagnostic.access.white_zones import CROW_FLY, MODES, CoverageParams
from diagnostic.errors import InputError
from diagnostic.indicators import parse_decimal
from diagnostic.export.annex import SECTIONS, AnnexChoice, annex_coverage
from diagnostic.export.formats import build_formats
from diagnostic.export.pdf import TITLE
from diagnostic.sessions.store import all_sessions
from diagnostic.themes import theme_labels, top_themes
from diagnostic.territory import COMMUNE_LEVEL
from diagnostic.travel.network import network_available
from diagnostic.workspace import save_retained_coverage

ws = ui.setup("Export")
level = ui.level_selector(ws)

st.title("Exporter le diagnostic partagé")
st.markdown(f"**{TITLE}** : un document prêt à joindre au pacte, avec ses sources, millésimes et "
            "méthodes ; les mêmes tableaux en Excel et en CSV (séparateur « ; », virgule décimale).")

territories = [""] if level == COMMUNE_LEVEL else ["", *sorted(ws.groupings[level].unique())]
territory = st.selectbox("Territoire", territories, key="export-territory",
                         format_func=lambda t: t or "Ensemble du département")
sections = st.multiselect("Parties", list(SECTIONS), default=list(SECTIONS), format_func=SECTIONS.get,
                          key="export-sections")

with st.expander("Zones blanches retenues pour l'annexe", expanded=True):
    if ws.retained_coverage:
        for i, params in enumerate(ws.retained_coverage):
            c1, c2 = st.columns([5, 1])
            c1.text(params.label())
            if c2.button("Retirer", key=f"export-unretain-{i}"):
                save_retained_coverage(ws.path, [p for p in ws.retained_coverage if p != params])
                st.rerun()
    else:
        st.caption("Aucun réglage retenu : l'annexe prendra chaque thématique présente dans l'offre, à 10 km. "
                   "Retenez les réglages du groupe de travail dans la page « Zones blanches » ou ci-dessous.")
    labels = theme_labels()
    with st.form("export-add-coverage", border=False):
        a1, a2, a3, a4, a5 = st.columns([3, 1, 1, 2, 1])
        theme = a1.selectbox("Thématique", top_themes(), format_func=labels.get, key="export-add-theme")
        value = ui.decimal_input("Seuil", 10.0, "export-add-value", a2)
        unit = a3.radio("Unité", ["km", "min"], horizontal=True, key="export-add-unit")
        modes = list(MODES) if network_available(ws.path) else [CROW_FLY]
        mode = a4.selectbox("Mesure de l'accès", modes, format_func=MODES.get, key="export-add-mode",
                            help="Sur le réseau, le seuil est en minutes.")
        if a5.form_submit_button("Ajouter"):
            try:
                value = parse_decimal(value, "Seuil")
                if value is None or value <= 0:
                    raise InputError("le seuil doit être un nombre positif.", field="Seuil",
                                     fix="Écrivez par exemple 10 ou 12,5.")
                params = CoverageParams.parse(f"{theme}:{value:g}{unit}" + (f":{mode}" if mode != CROW_FLY else ""))
                save_retained_coverage(ws.path, [*ws.retained_coverage, params])
                st.rerun()
            except InputError as exc:
                st.error(exc.french())

store = ui.store()
sessions = all_sessions(store, ws.key)
chosen_sessions = st.multiselect(
    "Séances de travail reprises dans l'annexe", [s["id"] for s in sessions], default=[s["id"] for s in sessions],
    format_func=lambda i: next(f"{s['title']} ({s['code']})" for s in sessions if s["id"] == i),
    key="export-sessions", placeholder="Aucune séance")

choice = AnnexChoice(level, territory, sections, sessions=tuple(chosen_sessions))
stamp = (str(ws.path), level, territory, tuple(sections), annex_coverage(ws, choice), tuple(chosen_sessions))
if st.session_state.get("export-stamp") != stamp:  # another choice: earlier files are out of date
    st.session_state.pop("export-files", None)
    st.session_state["export-stamp"] = stamp

if not sections:
    st.warning("Choisissez au moins une partie.")
elif st.button("Préparer l'annexe", type="primary", key="export-prepare"):
    with st.status("Préparation de l'annexe…", expanded=True) as status:
        files, failures = build_formats(ws, choice, store, st.write)
        st.session_state["export-files"] = files
        st.session_state["export-failures"] = failures
        status.update(label="Annexe prête" if not failures else "Annexe prête en partie",
                      state="complete" if not failures else "error")

files = st.session_state.get("export-files")
for failure in st.session_state.get("export-failures", {}).values() if files is not None else ():
    st.error(failure)
if files:
    c1, c2, c3 = st.columns(3)
    if "pdf" in files:
        c1.download_button("Télécharger l'annexe (PDF)", files["pdf"], "annexe_diagnostic_pti.pdf",
                           "application/pdf", key="dl-pdf")
    if "xlsx" in files:
        c2.download_button("Télécharger le classeur (Excel)", files["xlsx"], "diagnostic_pti.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl-xlsx")
    if "zip" in files:
        c3.download_button("Télécharger les tableaux (CSV, zip)", files["zip"], "diagnostic_pti_csv.zip",
                           "application/zip", key="dl-zip")
elif files is None:
    st.caption("L'annexe est préparée à la demande (quelques secondes), puis proposée au téléchargement.")
