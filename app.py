"""Diagnostic PTI — home page. Run with: streamlit run app.py"""

import streamlit as st

# the title first: the page shows while the libraries and the workspace load
st.set_page_config(page_title="Accueil · Diagnostic PTI", page_icon="🧭", layout="wide")
st.title("Diagnostic territorial du Pacte territorial pour l'insertion")

import ui  # noqa: E402
from diagnostic.territory import levels  # noqa: E402

ws = ui.setup("Accueil")
level = ui.level_selector(ws)
if ws.fictional:
    st.info("Vous explorez le **département de démonstration** : communes, territoires et chiffres "
            "sont **fictifs**, générés par l'outil pour montrer ses fonctions.", icon=":material/info:")

population = ws.communes["population"].sum()
c1, c2, c3 = st.columns(3)
c1.metric("Communes", f"{len(ws.communes)}")
c2.metric("Habitants", f"{population:,.0f}".replace(",", "\u202f"))
c3.metric("Indicateurs au catalogue", f"{len(ws.catalogue)}")

st.markdown("Ce tableau de bord réunit le **diagnostic partagé** du pacte : les besoins des habitants de chaque "
            "territoire, l'offre d'insertion existante et les manques. Le niveau territorial choisi dans la barre "
            "latérale s'applique à toutes les pages.")
st.subheader("Les étapes du diagnostic")
st.caption("Dans l'ordre conseillé ; chaque étape mène à la page qui la réalise.")
ui.guided_path(ws)
st.subheader("Points d'attention")
alerts = ui.cached_alerts(ws, level)
level_name = "communes" if level == "commune" else level
if alerts.empty:
    st.success(f"Aucun territoire au-delà d'un seuil d'alerte ({level_name}).")
else:
    st.caption(f"Territoires au-delà du seuil d'alerte d'un indicateur ({level_name}), "
               "du plus grand écart au plus petit. Seuils modifiables dans le catalogue.")
    ui.table(alerts)

st.caption("Niveaux disponibles : " + ", ".join(
    "communes" if lvl == "commune" else lvl for lvl in levels(ws.groupings)))
