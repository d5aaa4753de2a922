"""Profil socio-économique: one indicator at one level — map, comparison chart, alerts, metadata."""

import streamlit as st

import ui
from diagnostic.maps import leaflet
from diagnostic.charts import comparison_chart
from diagnostic.indicators import FAMILIES, MIN_POPULATION_SHARE, STATUS_PARTIAL, fmt_number
from diagnostic.territory import COMMUNE_LEVEL

CLASS_METHODS = {"quantiles": "Quantiles (effectifs égaux)", "jenks": "Seuils naturels (Jenks)",
                 "seuils": "Seuils d'alerte du catalogue"}

ws = ui.setup("Profil socio-économique")
level = ui.level_selector(ws)

st.title("Profil socio-économique")
st.caption(ws.name)

available = ws.indicators_with_data()
families = [f for f in FAMILIES if any(i.family == f for i in available)]
c1, c2, c3 = st.columns([1, 3, 2])
family = c1.radio("Famille", families, index=families.index("contexte") if "contexte" in families else 0,
                  key="family", format_func=str.capitalize)
choices = [i.id for i in available if i.family == family]
indicator_id = c2.selectbox("Indicateur", choices, key=f"indicator-{family}",
                            format_func=lambda i: ws.catalogue[i].label,
                            index=min(1, len(choices) - 1))
indicator = ws.catalogue[indicator_id]
methods = [m for m in CLASS_METHODS if m != "seuils" or indicator.status(0.0) is not None]
method = c3.selectbox("Classes de la carte", methods, format_func=CLASS_METHODS.get,
                      index=methods.index("seuils") if "seuils" in methods else 0, key="method")

profile = ui.profile(ws, indicator_id, level)
table = profile.table
level_label = "Communes" if level == COMMUNE_LEVEL else level
secret, unknown = profile.masked_counts()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Département", f"{fmt_number(profile.reference)} {indicator.unit}")
m1.caption(profile.completeness().capitalize())
m2.metric("Territoires en alerte", int((table["status"] == "alerte").sum()))
partial = int((table["status"] == STATUS_PARTIAL).sum())
if partial:
    m2.caption(f"{partial} valeur(s) non significative(s) : calculées sur moins de "
               f"{MIN_POPULATION_SHARE:g} % de la population du territoire.")
m3.metric("Valeurs masquées (secret)", secret)
m4.metric("Valeurs non renseignées", unknown)

ui.map_block(ws, ("profil", indicator_id, level, method),
             lambda: leaflet.profile_map(ui.topology(ws, level), profile, method), 520,
             note=f"Source : {indicator.source} — millésime {indicator.vintage}.")

st.subheader(f"Comparaison des territoires — {level_label}")
ui.chart(ws, ("comparaison", indicator_id, level), lambda: comparison_chart(profile))

st.subheader("Alertes")
alerts = profile.alerts()
st.caption(indicator.threshold_rule())
if indicator.status(0.0) is None:
    st.info("Aucun seuil n'est défini pour cet indicateur : modifiez-le dans le catalogue.")
elif alerts.empty:
    st.success("Aucun territoire au-delà des seuils.")
else:
    ui.table(alerts[["territory", "value", "status"]].round({"value": 1}).rename(
        columns={"territory": "Territoire", "value": f"Valeur ({indicator.unit})", "status": "Niveau"}))

with st.expander("Fiche de l'indicateur", expanded=True):
    st.markdown(ui.metadata_card(indicator))

st.subheader("Tableau")
shown = table.assign(secret=table["secret"].map(lambda x: "masqué" if x else "")).round(
    {"value": 1, "population_share": 0}).rename(columns={
        "territory": "Territoire", "numerator": indicator.numerator, "denominator": indicator.denominator or "—",
        "value": f"Valeur ({indicator.unit})", "communes": "Communes", "communes_known": "Communes renseignées",
        "communes_missing": "Communes non renseignées", "population_share": "Population couverte (%)",
        "secret": "Secret statistique", "status": "Seuil"})
shown = shown.drop(columns=["—"], errors="ignore")
ui.table(shown, hide_index=level != COMMUNE_LEVEL)
ui.download(shown.reset_index(names="Code"), f"profil_{indicator_id}.csv")
st.caption(f"Petits effectifs (moins de {ws.secret_threshold}) masqués, ainsi que les valeurs qui, croisées avec "
           "les autres niveaux et les autres pages, permettraient de les recalculer.")
