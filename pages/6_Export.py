"""Export: the shared diagnostic as the annex of the pact (PDF), a workbook (Excel) and CSV files."""

import streamlit as st

import ui
from diagnostic.export.annex import SECTIONS, AnnexChoice, annex_context, annex_tables, csv_zip
from diagnostic.export.excel import workbook_bytes
from diagnostic.export.pdf import TITLE, annex_pdf
from diagnostic.territory import COMMUNE_LEVEL

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
choice = AnnexChoice(level, territory, sections)
stamp = (str(ws.path), level, territory, tuple(sections))
if st.session_state.get("export-stamp") != stamp:  # another choice: earlier files are out of date
    st.session_state.pop("export-files", None)
    st.session_state["export-stamp"] = stamp

if not sections:
    st.warning("Choisissez au moins une partie.")
elif st.button("Préparer l'annexe", type="primary", key="export-prepare"):
    with st.status("Préparation de l'annexe…", expanded=True) as status:
        st.write("Tableaux (CSV et Excel)…")
        tables = annex_tables(ws, choice, ui.store(ws))
        context = annex_context(ws, choice)
        files = {"xlsx": workbook_bytes(tables, TITLE, context), "zip": csv_zip(tables, context)}
        st.write("Document PDF (cartes, graphiques, tableaux)…")
        try:
            files["pdf"] = annex_pdf(ws, choice, store=ui.store(ws))
        except (ImportError, OSError) as exc:  # WeasyPrint or its system libraries are missing
            st.error(f"Le PDF n'a pas pu être produit ({exc}). Il faut WeasyPrint et les bibliothèques "
                     "Pango du système (paquets Debian libpango-1.0-0 et libpangoft2-1.0-0). "
                     "Le classeur et les CSV restent disponibles.")
        st.session_state["export-files"] = files
        status.update(label="Annexe prête" if "pdf" in files else "Tableaux prêts, PDF indisponible",
                      state="complete" if "pdf" in files else "error")

files = st.session_state.get("export-files")
if files:
    c1, c2, c3 = st.columns(3)
    if "pdf" in files:
        c1.download_button("Télécharger l'annexe (PDF)", files["pdf"], "annexe_diagnostic_pti.pdf",
                           "application/pdf", key="dl-pdf")
    c2.download_button("Télécharger le classeur (Excel)", files["xlsx"], "diagnostic_pti.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl-xlsx")
    c3.download_button("Télécharger les tableaux (CSV, zip)", files["zip"], "diagnostic_pti_csv.zip",
                       "application/zip", key="dl-zip")
else:
    st.caption("L'annexe est préparée à la demande (quelques secondes), puis proposée au téléchargement.")
