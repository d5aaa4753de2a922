"""Séances de travail: join a session, add findings, vote, draft action sheets, position stakeholders.

What is written goes to the sessions' database (SQLite in the workspace, or PostgreSQL): every row
keeps its author and time, deletions are soft, and a stale edit is refused with both versions shown.
"""

from datetime import date

import pandas as pd
import streamlit as st

import ui
from diagnostic.charts import stakeholder_chart
from diagnostic.errors import InputError
from diagnostic.store import (COOPERATION_MODES, FINDING_KINDS, SHEET_STATUSES, STAGES, StaleEdit)
from diagnostic.territory import COMMUNE_LEVEL
from diagnostic.themes import theme_labels, top_themes

ws = ui.setup("Séances de travail")
level = ui.level_selector(ws)
store = ui.store(ws)
labels = theme_labels()
themes = ["", *top_themes()]
territories = ["", *(sorted(ws.groupings[level].unique()) if level != COMMUNE_LEVEL else [])]
projection = st.query_params.get("projection") == "1"


def attempt(action, success: str | None = None) -> bool:
    """Run a store action; French message on bad input; True when it worked."""
    try:
        action()
    except InputError as exc:
        st.error(exc.french())
        return False
    if success:
        st.toast(success)
    return True


@st.fragment(run_every=2)
def live_findings(session_id: int, me=None, closed: bool = False) -> None:
    """The ranking, refreshed every two seconds for everyone, without reloading the page.
    Without a participant (projection), it is read-only."""
    ranking = store.ranking(session_id)
    mine = store.my_votes(me) if me else set()
    if me:
        st.caption(f"Votes restants : {store.votes_left(me)} · {len(ranking)} constat(s)")
    kinds = st.pills("Types", list(FINDING_KINDS), format_func=FINDING_KINDS.get, selection_mode="multi",
                     key="filter-kinds") if me else []
    names = ws.commune_names()
    for finding in ranking:
        if kinds and finding["kind"] not in kinds:
            continue
        with st.container(border=True):
            left, right = st.columns([6, 1])
            left.markdown(f"**{finding['votes']} vote(s)** · {FINDING_KINDS[finding['kind']]} — "
                          f"{ui.escape(finding['text'])}")
            context = " · ".join(x for x in (labels.get(finding["theme"], ""), finding["territory"],
                                             names.get(finding["commune"], "")) if x)
            left.caption(f"{finding['author']} ({finding['organisation']})" + (f" · {context}" if context else ""))
            if me is None or closed:
                continue
            if finding["id"] in mine:
                if right.button("Retirer", key=f"unvote-{finding['id']}"):
                    attempt(lambda: store.unvote(me, finding["id"]))
                    st.rerun()
            elif right.button("Voter", key=f"vote-{finding['id']}"):
                attempt(lambda: store.vote(me, finding["id"]))
                st.rerun()


if projection:  # the facilitator's screen: large type, no sidebar, the code and the live ranking
    try:
        projected = store.session(st.query_params.get("seance", st.session_state.get("code", "")))
    except InputError as exc:
        st.error(exc.french())
        st.stop()
    st.html("<style>section[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl] {display:none}"
            "h1 {font-size: 3.2rem !important} .stMarkdown p, li {font-size: 1.6rem !important}</style>")
    st.title(projected["title"])
    st.markdown(f"Rejoignez la séance avec le code **{projected['code']}**")
    live_findings(projected["id"])
    st.stop()

me = st.session_state.get("participant")
if me is None and st.query_params.get("jeton"):  # a reloaded page finds its participant again
    me = store.participant(st.query_params["jeton"])
    if me is not None:
        st.session_state["participant"] = me
        st.session_state["code"] = store.session_code(me.session_id)
if me is None:
    st.title("Séances de travail")
    st.markdown("L'animateur crée la séance et communique son **code** ; chaque participant la rejoint "
                "avec ce code, son nom et son organisation, sans compte.")
    create, join = st.columns(2)
    with create.form("create-session"):
        st.subheader("Créer une séance")
        title = st.text_input("Titre", key="new-title")
        theme = st.selectbox("Thématique", themes, format_func=lambda t: labels.get(t, "Toutes"), key="new-theme")
        territory = st.selectbox("Territoire", territories, format_func=lambda t: t or "Tout le département",
                                 key="new-territory")
        day = st.date_input("Date", value=date.today(), key="new-day", format="DD/MM/YYYY")
        allowance = st.number_input("Votes par participant", 1, 20, 5, key="new-votes")
        name = st.text_input("Votre nom", key="new-name")
        organisation = st.text_input("Votre organisation", key="new-org")
        if st.form_submit_button("Créer la séance", type="primary"):
            def create_it():
                code, who = store.create_session(title, name, organisation, theme, territory, day, int(allowance))
                st.session_state["participant"], st.session_state["code"] = who, code
            if attempt(create_it):
                st.rerun()
    with join.form("join-session"):
        st.subheader("Rejoindre une séance")
        code = st.text_input("Code de la séance", key="join-code", value=st.query_params.get("seance", ""))
        name = st.text_input("Votre nom", key="join-name")
        organisation = st.text_input("Votre organisation", key="join-org")
        if st.form_submit_button("Rejoindre", type="primary"):
            def join_it():
                st.session_state["participant"] = store.join(code, name, organisation)
                st.session_state["code"] = code.strip().upper()
            if attempt(join_it):
                st.rerun()
    st.stop()

session = store.session(st.session_state["code"])
st.query_params["seance"], st.query_params["jeton"] = session["code"], me.token
closed = session["closed"]

st.title(session["title"])
st.markdown(f"Code de la séance : **{session['code']}** · {labels.get(session['theme'], 'toutes thématiques')}"
            f" · {session['territory'] or 'tout le département'}" + (" · **séance close**" if closed else ""))
st.caption(f"Vous : {me.name} ({me.organisation}){' — animateur' if me.facilitator else ''}")
if me.facilitator:
    c1, c2 = st.columns(2)
    c1.link_button("Mode projection", f"?projection=1&seance={session['code']}")
    if not closed and c2.button("Clore la séance", key="close-session"):
        attempt(lambda: store.close_session(me), "Séance close : elle reste consultable.")
        st.rerun()



tab_findings, tab_sheets, tab_stakeholders = st.tabs(["Constats", "Fiches-actions", "Parties prenantes"])

with tab_findings:
    if not closed:
        with st.form("add-finding", clear_on_submit=True):
            text = st.text_area("Constat", key="finding-text")
            c1, c2, c3 = st.columns(3)
            kind = c1.selectbox("Type", list(FINDING_KINDS), format_func=FINDING_KINDS.get, key="finding-kind")
            theme = c2.selectbox("Thématique", themes, index=themes.index(session["theme"]) if session["theme"] in themes else 0,
                                 format_func=lambda t: labels.get(t, "—"), key="finding-theme")
            territory = c3.selectbox("Territoire", territories, format_func=lambda t: t or "—", key="finding-territory")
            names = ws.commune_names()
            commune = st.selectbox("Commune concernée (facultatif)", ["", *names.sort_values().index],
                                   format_func=lambda c: names.get(c, "—"), key="finding-commune")
            if st.form_submit_button("Ajouter le constat", type="primary"):
                attempt(lambda: store.add_finding(me, text, kind, theme, territory, commune), "Constat ajouté")
    live_findings(me.session_id, me, closed)
    deleted = [f for f in store.ranking(me.session_id, include_deleted=True) if f["deleted_at"]]
    if me.facilitator and not closed:
        with st.expander("Retirer ou restaurer un constat"):
            active = store.ranking(me.session_id)
            choice = st.selectbox("Constat", [f["id"] for f in active], key="delete-finding",
                                  format_func=lambda i: next(f["text"] for f in active if f["id"] == i)[:80])
            if choice and st.button("Retirer ce constat", key="delete-finding-button"):
                attempt(lambda: store.delete_finding(me, choice), "Constat retiré (restaurable)")
                st.rerun()
            for f in deleted:
                if st.button(f"Restaurer « {f['text'][:60]} »", key=f"restore-{f['id']}"):
                    attempt(lambda f=f: store.restore_finding(me, f["id"]), "Constat restauré")
                    st.rerun()

with tab_sheets:
    findings_by_id = {f["id"]: f["text"] for f in store.ranking(me.session_id)}
    indicators = {i.id: i.label for i in ws.catalogue.values()}
    sheets = store.sheets(me.session_id)
    options = [None, *[s["id"] for s in sheets]]
    chosen = st.selectbox("Fiche-action", options, key="sheet-choice",
                          format_func=lambda i: "Nouvelle fiche" if i is None else
                          next(s["data"]["title"] for s in sheets if s["id"] == i))
    current = next((s for s in sheets if s["id"] == chosen), None)
    # the form starts from the version first shown, so that someone else's save neither erases
    # what is being typed nor gets overwritten by it
    base_key = f"sheet-base-{chosen}"
    if current is not None and base_key not in st.session_state:
        st.session_state[base_key] = (current["version"], dict(current["data"]))
    base_version, data = st.session_state.get(base_key, (0, {}))
    with st.form(f"sheet-{chosen}"):
        values = {"title": st.text_input("Intitulé", data.get("title", "")),
                  "axis": st.text_input("Axe du pacte", data.get("axis", "")),
                  "finding_ids": st.multiselect("Constats auxquels elle répond", list(findings_by_id),
                                                [i for i in data.get("finding_ids", []) if i in findings_by_id],
                                                format_func=lambda i: findings_by_id[i][:80]),
                  "objectives": st.text_area("Objectifs", data.get("objectives", "")),
                  "public": st.text_input("Public visé", data.get("public", "")),
                  "pilot": st.text_input("Pilote (portage)", data.get("pilot", "")),
                  "partners": st.text_input("Partenaires associés", data.get("partners", "")),
                  "human_means": st.text_input("Moyens humains", data.get("human_means", "")),
                  "financial_means": st.text_input("Moyens financiers", data.get("financial_means", "")),
                  "calendar": st.text_input("Calendrier", data.get("calendar", "")),
                  "deliverables": st.text_input("Livrables", data.get("deliverables", ""))}
        follow = pd.DataFrame(data.get("indicators") or [], columns=["indicateur", "cible"])
        follow = st.data_editor(follow, num_rows="dynamic", key=f"sheet-indicators-{chosen}",
                                column_config={"indicateur": st.column_config.SelectboxColumn(
                                    "Indicateur de suivi", options=list(indicators)),
                                    "cible": st.column_config.TextColumn("Valeur cible")})
        values["indicators"] = follow.dropna(how="all").to_dict("records")
        values["status"] = st.radio("Statut", list(SHEET_STATUSES), format_func=SHEET_STATUSES.get, horizontal=True,
                                    index=list(SHEET_STATUSES).index(data.get("status", "brouillon")))
        if st.form_submit_button("Enregistrer la fiche", type="primary", disabled=closed):
            try:
                if current is None:
                    store.add_sheet(me, values)
                else:
                    st.session_state[base_key] = (store.update_sheet(me, current["id"], base_version, values), values)
                st.success("Fiche enregistrée.")
            except StaleEdit as stale:
                st.session_state["stale"] = stale
            except InputError as exc:
                st.error(exc.french())
    stale = st.session_state.pop("stale", None)
    if stale is not None:
        st.error(str(stale))
        left, right = st.columns(2)
        left.markdown(f"**Version enregistrée (v{stale.current_version})**")
        left.json(stale.current)
        right.markdown("**Votre saisie (non enregistrée)**")
        right.json(stale.yours)
        st.caption("Reprenez la version enregistrée ci-dessous, ajoutez-y vos changements, puis enregistrez.")
        st.session_state[base_key] = (stale.current_version, {**stale.current})
    if current is not None:
        with st.expander("Historique des modifications"):
            ui.table(pd.DataFrame([{"Version": h["version"], "Auteur": h["author"], "Organisation": h["organisation"],
                                    "Date": h["created_at"], "Statut": SHEET_STATUSES.get(h["data"]["status"])}
                                   for h in store.history(current["id"])]))

with tab_stakeholders:
    rows = store.stakeholders(me.session_id)
    if not closed:
        with st.form("stakeholder", clear_on_submit=True):
            c1, c2 = st.columns(2)
            entry = {"name": c1.text_input("Partenaire"), "mission": c2.text_input("Mission"),
                     "history": c1.text_input("Historique du partenariat"), "role": c2.text_input("Rôle dans le PTI")}
            c3, c4, c5 = st.columns(3)
            entry["fit"] = c3.slider("Adéquation à sa stratégie", 1, 5, 3)
            entry["impact"] = c4.slider("Impact à court terme pour lui", 1, 5, 3)
            entry["influence"] = c5.slider("Influence potentielle", 1, 5, 3)
            stage_cols = st.columns(len(STAGES))
            entry["modes"] = {stage: col.selectbox(label, list(COOPERATION_MODES), format_func=COOPERATION_MODES.get,
                                                   key=f"mode-{stage}")
                              for col, (stage, label) in zip(stage_cols, STAGES.items(), strict=True)}
            if st.form_submit_button("Ajouter le partenaire", type="primary"):
                if attempt(lambda: store.save_stakeholder(me, entry), "Partenaire ajouté"):
                    st.rerun()
    if rows:
        frame = pd.DataFrame([r["data"] for r in rows])
        st.altair_chart(stakeholder_chart(frame), width="stretch")
        ui.table(pd.DataFrame({"Partenaire": frame["name"], "Mission": frame["mission"], "Rôle": frame["role"],
                               **{label: frame["modes"].map(lambda m, s=stage: COOPERATION_MODES[m[s]])
                                  for stage, label in STAGES.items()}}))
