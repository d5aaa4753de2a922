"""Séances de travail: join a session, add findings, vote, draft action sheets, position stakeholders.

A session is found by its code alone, whatever workspace the browser has open. Who is who is kept in
this tab and in a cookie of the device, never in the address: a copied link gives the join form. The
rules (roles, closed session, lengths, vote allowance) are enforced by the store.
"""

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

import ui
from diagnostic.charts import stakeholder_chart
from diagnostic.errors import InputError
from diagnostic.sessions.store import (COOPERATION_MODES, FINDING_KINDS, LIMITS, SHEET_LABELS, SHEET_STATUSES,
                                       STAGES, StaleEdit, display_code, follow_up_text, normalise_code)
from diagnostic.territory import COMMUNE_LEVEL
from diagnostic.themes import theme_labels, top_themes

ws = ui.setup("Séances de travail")
level = ui.level_selector(ws)
store = ui.store()
labels = theme_labels()
themes = ["", *top_themes()]
territories = ["", *(sorted(ws.groupings[level].unique()) if level != COMMUNE_LEVEL else [])]
projection = st.query_params.get("projection") == "1"
LIVE_REFRESH_S = 1.5  # findings and votes reach every page within 3 s (refresh + shared read + drawing)
DRAFTS = ("finding-text",)  # texts kept aside while the database is down
UNAVAILABLE = ("La base des séances est momentanément inaccessible. Votre saisie est gardée dans la page : "
               "elle sera réessayée automatiquement, ou cliquez de nouveau dans quelques secondes.")


def attempt(action, success: str | None = None) -> bool:
    """Run a store action; a French message on bad input or when the database is down."""
    st.session_state["wrote"] = True
    try:
        action()
    except InputError as exc:
        st.error(exc.french())
        return False
    except SQLAlchemyError:
        st.error(UNAVAILABLE)
        return False
    if success:
        st.toast(success)
    return True


@st.fragment(run_every=3)
def wait_for_database() -> None:
    """Shown while the database is down: reloads the page as soon as it answers again."""
    try:
        store.participant("?")
    except SQLAlchemyError:
        st.caption("Nouvel essai de connexion dans 3 secondes…")
        return
    st.rerun(scope="app")


def share_link(code: str) -> str:
    """The address that lets a participant in (the code only, never an identity)."""
    page = str(st.context.url or "").split("?")[0]
    return f"{page}?seance={code}"


def live_read(read):
    """What a live part reads, or None with a warning while the database is down (it retries)."""
    try:
        return read()
    except SQLAlchemyError:
        st.warning("Connexion à la base des séances perdue : nouvel essai dans 2 secondes.")
        return None


@st.fragment(run_every=LIVE_REFRESH_S)
def live_findings(session_id: int, me=None) -> None:
    """The ranking, refreshed every 1.5 seconds for everyone, without reloading the page; votes
    left and the session state come with it. Without a participant (projection), read-only."""
    fresh = st.session_state.pop("wrote", False)  # the page that just wrote reads afresh, the others share
    read = live_read(lambda: (store.session_by_id(session_id),
                              store.ranking(session_id) if fresh else store.live_ranking(session_id),
                              store.my_votes(me) if me else set(), store.votes_left(me) if me else 0))
    if read is None:
        return
    session, ranking, mine, left = read
    closed = session["closed"]
    if closed:
        st.warning("Séance close : elle reste consultable, plus rien n'y est modifié.")
    if me:
        st.caption(f"Votes restants : {left} sur {session['votes_per_participant']} · {len(ranking)} constat(s)"
                   + (" · vous avez utilisé tous vos votes : retirez-en un pour voter ailleurs" if not left else ""))
    kinds = st.pills("Types", list(FINDING_KINDS), format_func=FINDING_KINDS.get, selection_mode="multi",
                     key="filter-kinds") if me else []
    names = ws.commune_names()
    for finding in ranking:
        if kinds and finding["kind"] not in kinds:
            continue
        with st.container(border=True):
            text_col, button_col = st.columns([6, 1])
            with text_col:
                st.markdown(f"**{finding['votes']} vote(s)** · {FINDING_KINDS[finding['kind']]}")
                ui.plain(finding["text"])
                context = " · ".join(x for x in (labels.get(finding["theme"], ""), finding["territory"],
                                                 names.get(finding["commune"], "")) if x)
                ui.plain(f"{finding['author']} ({finding['organisation']})" + (f" · {context}" if context else ""),
                         small=True)
            if me is None or closed:
                continue
            if finding["id"] in mine:
                if button_col.button("Retirer mon vote", key=f"unvote-{finding['id']}"):
                    attempt(lambda: store.unvote(me, finding["id"]))
                    st.rerun()
            elif button_col.button("Voter", key=f"vote-{finding['id']}", disabled=not left):
                attempt(lambda: store.vote(me, finding["id"]))
                st.rerun()


try:
    asked = st.session_state.get("code") or normalise_code(st.query_params.get("seance", ""))
    found = None
    if asked:
        try:
            found = store.session(asked)
        except InputError as exc:
            st.error(exc.french())
            st.session_state.pop("code", None)
    if found and found["workspace"] and found["workspace"] != ws.key:  # the session of another workspace
        st.session_state["code"] = found["code"]
        if ui.open_workspace(found["workspace"]):
            st.rerun()
        st.error(f"La séance « {found['title']} » appartient à un espace de travail que ce serveur ne propose "
                 "plus ; demandez à l'animateur de vérifier.")
        st.stop()
    me = ui.device_participant(store, found["code"]) if found else None
except SQLAlchemyError:
    st.error(UNAVAILABLE)
    for key in DRAFTS:  # what was being typed survives the page that cannot be drawn
        if st.session_state.get(key):
            st.session_state[f"draft-{key}"] = st.session_state[key]
    wait_for_database()
    st.stop()
if me is not None and me.session_id != found["id"]:
    me = None

if projection:  # the facilitator's screen: large type, no sidebar, the code, the link, the QR code
    if found is None:
        st.stop()
    link = share_link(found["code"])
    st.html("<style>section[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl] {display:none}"
            "h1 {font-size: 3.2rem !important} .stMarkdown p, li {font-size: 1.6rem !important}"
            ".pti-code {font-size: 7rem; font-weight: 800; letter-spacing: .08em; line-height: 1.1}</style>")
    st.title(found["title"])
    left, right = st.columns([3, 1])
    left.markdown(f"Rejoignez la séance avec le code **{found['code']}**")
    left.html(f'<div class="pti-code" aria-label="Code de la séance">{display_code(found["code"])}</div>')
    left.text(link)
    ui.qr_code(link, 320, right)
    live_findings(found["id"])
    st.stop()


def join_form(code: str) -> None:
    with st.form("join-session"):
        st.subheader("Rejoindre une séance")
        typed = st.text_input("Code de la séance", key="join-code", value=code, max_chars=12)
        name = st.text_input("Votre nom", key="join-name", max_chars=LIMITS["name"])
        organisation = st.text_input("Votre organisation", key="join-org", max_chars=LIMITS["organisation"])
        if st.form_submit_button("Rejoindre", type="primary"):
            def join_it():
                wanted = normalise_code(typed)
                client, network = ui.client_keys()
                known = ui.device_participant(store, wanted)  # this device joined before: same identity
                who = store.join(wanted, name, organisation, client, network, token=known.token if known else None)
                st.session_state["code"] = wanted
                st.session_state.setdefault("tokens", {})[wanted] = who.token
            if attempt(join_it):
                st.rerun()


def create_form() -> None:
    with st.form("create-session"):
        st.subheader("Créer une séance")
        title = st.text_input("Titre", key="new-title", max_chars=LIMITS["title"])
        theme = st.selectbox("Thématique", themes, format_func=lambda t: labels.get(t, "Toutes"), key="new-theme")
        territory = st.selectbox("Territoire", territories, format_func=lambda t: t or "Tout le département",
                                 key="new-territory")
        day = st.date_input("Date", value=date.today(), key="new-day", format="DD/MM/YYYY")
        allowance = st.number_input("Votes par participant", 1, 20, 5, key="new-votes")
        name = st.text_input("Votre nom", key="new-name", max_chars=LIMITS["name"])
        organisation = st.text_input("Votre organisation", key="new-org", max_chars=LIMITS["organisation"])
        if st.form_submit_button("Créer la séance", type="primary"):
            def create_it():
                code, who = store.create_session(title, name, organisation, theme, territory, day, int(allowance),
                                                 workspace=ws.key)
                st.session_state["code"] = code
                st.session_state.setdefault("tokens", {})[code] = who.token
            if attempt(create_it):
                st.rerun()


if me is None:
    st.title("Séances de travail")
    if found is not None:  # a participant following the link: « Rejoindre » first, on any screen
        st.markdown(f"Séance **{found['title']}**" + (" — séance close" if found["closed"] else ""))
        join_form(found["code"])
        with st.expander("Créer une autre séance (animateur)"):
            create_form()
    else:
        st.markdown("L'animateur crée la séance et communique son **code** ; chaque participant la rejoint "
                    "avec ce code, son nom et son organisation, sans compte.")
        join_col, create_col = st.columns(2)
        with join_col:
            join_form("")
        with create_col:
            create_form()
    st.stop()

session = found
code = session["code"]
st.session_state["code"] = code
st.query_params["seance"] = code  # the address holds the code only: copying it gives the join form
st.query_params.pop("jeton", None)
ui.remember_device(code, me.token)
closed = session["closed"]

st.title(session["title"])
st.markdown(f"Code de la séance : **{code}** · {labels.get(session['theme'], 'toutes thématiques')}"
            f" · {ui.escape(session['territory'] or 'tout le département')}" + (" · **séance close**" if closed else ""))
ui.plain(f"Vous : {me.name} ({me.organisation}){' — animateur' if me.facilitator else ''}", small=True)
if me.facilitator:
    with st.expander("Inviter les participants et animer", expanded=True):
        link = share_link(code)
        c1, c2 = st.columns([3, 1])
        c1.markdown("**Lien à partager** (il ne contient que le code : il mène au formulaire « Rejoindre ») :")
        c1.code(link, language=None)
        ui.qr_code(link, 160, c2)
        b1, b2 = c1.columns(2)
        b1.link_button("Mode projection", f"?projection=1&seance={code}")
        if not closed and b2.button("Clore la séance", key="close-session"):
            attempt(lambda: store.close_session(me), "Séance close : elle reste consultable.")
            st.rerun()
        others = [p for p in store.participants_of(me.session_id) if not p.facilitator]
        if others and not closed:
            chosen = c1.selectbox("Partager le rôle d'animateur avec", [p.id for p in others], key="co-facilitator",
                                  format_func=lambda i: next(f"{p.name} ({p.organisation})" for p in others if p.id == i))
            if c1.button("Donner aussi le rôle d'animateur", key="share-role"):
                attempt(lambda: store.set_facilitator(me, chosen), "Rôle d'animateur partagé")

tab_findings, tab_sheets, tab_stakeholders = st.tabs(["Constats", "Fiches-actions", "Parties prenantes"])

with tab_findings:
    if not closed:
        if st.session_state.pop("finding-clear", False):
            st.session_state["finding-text"] = ""
        elif "draft-finding-text" in st.session_state:  # typed while the database was down
            st.session_state["finding-text"] = st.session_state.pop("draft-finding-text")
        with st.form("add-finding"):
            text = st.text_area("Constat", key="finding-text", max_chars=LIMITS["finding"])
            c1, c2, c3 = st.columns(3)
            kind = c1.selectbox("Type", list(FINDING_KINDS), format_func=FINDING_KINDS.get, key="finding-kind")
            theme = c2.selectbox("Thématique", themes, index=themes.index(session["theme"]) if session["theme"] in themes else 0,
                                 format_func=lambda t: labels.get(t, "—"), key="finding-theme")
            territory = c3.selectbox("Territoire", territories, format_func=lambda t: t or "—", key="finding-territory")
            names = ws.commune_names()
            commune = st.selectbox("Commune concernée (facultatif)", ["", *names.sort_values().index],
                                   format_func=lambda c: names.get(c, "—"), key="finding-commune")
            if st.form_submit_button("Ajouter le constat", type="primary"):
                if attempt(lambda: store.add_finding(me, text, kind, theme, territory, commune), "Constat ajouté"):
                    st.session_state["finding-clear"] = True  # emptied once saved, kept when refused
                    st.rerun()
    live_findings(me.session_id, me)
    if not closed:
        with st.expander("Retirer ou restaurer un constat"):
            everything = store.ranking(me.session_id, include_deleted=True)
            removable = [f for f in everything if not f["deleted_at"] and (me.facilitator or f["participant_id"] == me.id)]
            if removable:
                choice = st.selectbox("Constat", [f["id"] for f in removable], key="delete-finding",
                                      format_func=lambda i: next(f["text"] for f in removable if f["id"] == i)[:80])
                if st.button("Retirer ce constat", key="delete-finding-button"):
                    attempt(lambda: store.delete_finding(me, choice), "Constat retiré (restaurable)")
                    st.rerun()
            for f in everything:
                if f["deleted_at"] and (me.facilitator or f["participant_id"] == me.id):
                    if st.button(f"Restaurer « {f['text'][:60]} »", key=f"restore-{f['id']}"):
                        attempt(lambda f=f: store.restore_finding(me, f["id"]), "Constat restauré")
                        st.rerun()


def sheet_form(current: dict | None, base_version: int, data: dict) -> None:
    """The action sheet being written, from the version first shown (someone else's save neither
    erases what is typed nor is overwritten by it)."""
    findings_by_id = {f["id"]: f["text"] for f in store.ranking(me.session_id)}
    indicators = {i.id: i.label for i in ws.catalogue.values()}
    key = current["id"] if current else "new"
    with st.form(f"sheet-{key}"):
        values = {"title": st.text_input(SHEET_LABELS["title"], data.get("title", ""), max_chars=LIMITS["title"])}
        values["axis"] = st.text_input(SHEET_LABELS["axis"], data.get("axis", ""), max_chars=LIMITS["short"])
        values["finding_ids"] = st.multiselect(SHEET_LABELS["finding_ids"], list(findings_by_id),
                                               [i for i in data.get("finding_ids", []) if i in findings_by_id],
                                               format_func=lambda i: findings_by_id[i][:80])
        values["objectives"] = st.text_area(SHEET_LABELS["objectives"], data.get("objectives", ""),
                                            max_chars=LIMITS["field"])
        for field in ("public", "pilot", "partners", "human_means", "financial_means", "calendar", "deliverables"):
            values[field] = st.text_input(SHEET_LABELS[field], data.get(field, ""), max_chars=LIMITS["short"])
        follow = pd.DataFrame(data.get("indicators") or [], columns=["indicateur", "cible"])
        follow = st.data_editor(follow, num_rows="dynamic", key=f"sheet-indicators-{key}",
                                column_config={"indicateur": st.column_config.SelectboxColumn(
                                    "Indicateur de suivi", options=list(indicators), format_func=indicators.get),
                                    "cible": st.column_config.TextColumn("Valeur cible", max_chars=LIMITS["short"])})
        values["indicators"] = follow.dropna(how="all").to_dict("records")
        values["status"] = st.radio(SHEET_LABELS["status"], list(SHEET_STATUSES), format_func=SHEET_STATUSES.get,
                                    horizontal=True, index=list(SHEET_STATUSES).index(data.get("status", "brouillon")))
        if st.form_submit_button("Enregistrer la fiche", type="primary", disabled=closed):
            save_sheet(current, base_version, values)


def save_sheet(current: dict | None, base_version: int, values: dict) -> None:
    try:
        if current is None:  # a new sheet becomes the selected one: a second click edits it
            st.session_state["select-sheet"] = store.add_sheet(me, values)
        else:
            st.session_state[f"sheet-base-{current['id']}"] = (store.update_sheet(me, current["id"], base_version,
                                                                                  values), values)
        st.session_state["sheet-saved"] = True
        st.rerun()
    except StaleEdit as stale:
        st.session_state["stale"] = (current["id"], stale)
        st.rerun()
    except InputError as exc:
        st.error(exc.french())
    except SQLAlchemyError:
        st.error(UNAVAILABLE)


def stale_choice(sheet_id: int, stale: StaleEdit) -> None:
    """Both versions of the changed fields side by side; the second writer keeps either per field."""
    st.error(str(stale))
    kept = {}
    with st.form(f"stale-{sheet_id}"):
        for field in stale.changed():
            st.markdown(f"**{SHEET_LABELS.get(field, field)}**")
            left, right = st.columns(2)
            left.caption(f"Version enregistrée (v{stale.current_version})")
            with left:
                ui.plain(describe(field, stale.current.get(field)))
            right.caption("Votre saisie")
            with right:
                ui.plain(describe(field, stale.yours.get(field)))
            kept[field] = st.radio("Garder", ["enregistrée", "la mienne"], horizontal=True, key=f"keep-{field}")
        if st.form_submit_button("Enregistrer ce choix", type="primary"):
            merged = {**stale.current, **{f: stale.yours[f] for f, k in kept.items() if k == "la mienne"}}
            st.session_state.pop("stale", None)
            try:
                version = store.update_sheet(me, sheet_id, stale.current_version, merged)
                st.session_state[f"sheet-base-{sheet_id}"] = (version, merged)
                st.session_state["sheet-saved"] = True
                st.rerun()
            except StaleEdit as again:
                st.session_state["stale"] = (sheet_id, again)
                st.rerun()
            except InputError as exc:
                st.error(exc.french())


def describe(field: str, value) -> str:
    if field == "status":
        return SHEET_STATUSES.get(value, str(value))
    if field == "indicators":
        return follow_up_text(value, {i.id: i.label for i in ws.catalogue.values()}) or "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return str(value or "—")


@st.fragment(run_every=2)
def live_sheets(session_id: int) -> None:
    """The session's action sheets as they are now, refreshed for everyone every two seconds."""
    rows = live_read(lambda: store.sheets(session_id))
    if rows is None:
        return
    if not rows:
        st.caption("Aucune fiche-action pour l'instant.")
        return
    for r in rows:
        d = r["data"]
        ui.plain(f"{d['title']} — {SHEET_STATUSES[d['status']]}" + (f" — pilote : {d['pilot']}" if d["pilot"] else "")
                 + f" (version {r['version']}, {r['author']}, {r['organisation']})")


with tab_sheets:
    live_sheets(me.session_id)
    sheets = store.sheets(me.session_id)
    options = [None, *[s["id"] for s in sheets]]
    if "select-sheet" in st.session_state:  # a sheet just created becomes the selected one
        st.session_state["sheet-choice"] = st.session_state.pop("select-sheet")
    chosen = st.selectbox("Fiche-action", options, key="sheet-choice",
                          format_func=lambda i: "Nouvelle fiche" if i is None else
                          next(s["data"]["title"] for s in sheets if s["id"] == i))
    if st.session_state.pop("sheet-saved", False):
        st.success("Fiche enregistrée.")
    current = next((s for s in sheets if s["id"] == chosen), None)
    base_key = f"sheet-base-{chosen}"
    if current is not None and base_key not in st.session_state:
        st.session_state[base_key] = (current["version"], dict(current["data"]))
    base_version, data = st.session_state.get(base_key, (0, {}))
    pending = st.session_state.get("stale")
    if pending and pending[0] == chosen:
        stale_choice(*pending)
    else:
        sheet_form(current, base_version, data)
    if current is not None and not closed and st.button("Retirer cette fiche", key="delete-sheet"):
        if attempt(lambda: store.delete_sheet(me, current["id"]), "Fiche retirée (restaurable)"):
            st.session_state.pop(base_key, None)
            st.rerun()
    removed = [s for s in store.sheets(me.session_id, include_deleted=True) if s["deleted_at"]]
    for s in removed if not closed else []:
        if st.button(f"Restaurer la fiche « {s['data']['title'][:60]} »", key=f"restore-sheet-{s['id']}"):
            attempt(lambda s=s: store.restore_sheet(me, s["id"]), "Fiche restaurée")
            st.rerun()
    if current is not None:
        with st.expander("Historique des modifications"):
            ui.table(pd.DataFrame([{"Version": h["version"], "Auteur": h["author"], "Organisation": h["organisation"],
                                    "Date": h["created_at"], "Statut": SHEET_STATUSES.get(h["data"]["status"])}
                                   for h in store.history(current["id"])]))


@st.fragment(run_every=2)
def live_stakeholders(session_id: int) -> None:
    """The partners' positions, refreshed for everyone every two seconds."""
    rows = live_read(lambda: store.stakeholders(session_id))
    if rows is None:
        return
    if rows:
        frame = pd.DataFrame([r["data"] for r in rows])
        st.altair_chart(stakeholder_chart(frame), width="stretch")
        for d in frame.to_dict("records"):
            modes = " · ".join(f"{label} : {COOPERATION_MODES[d['modes'][stage]]}" for stage, label in STAGES.items())
            ui.plain(f"{d['name']}" + (f" — {d['role']}" if d["role"] else "") + f" — {modes}")
    else:
        st.caption("Aucun partenaire positionné pour l'instant.")


with tab_stakeholders:
    rows = store.stakeholders(me.session_id)
    if not closed:
        editable = {None: None, **{r["id"]: r for r in rows}}
        picked = st.selectbox("Partenaire à ajouter ou à modifier", list(editable), key="stakeholder-choice",
                              format_func=lambda i: "Nouveau partenaire" if i is None else editable[i]["data"]["name"])
        row = editable[picked]
        d = row["data"] if row else {}
        with st.form(f"stakeholder-{picked}", clear_on_submit=row is None):
            c1, c2 = st.columns(2)
            entry = {"name": c1.text_input("Partenaire", d.get("name", ""), max_chars=LIMITS["title"]),
                     "mission": c2.text_input("Mission", d.get("mission", ""), max_chars=LIMITS["short"]),
                     "history": c1.text_input("Historique du partenariat", d.get("history", ""), max_chars=LIMITS["short"]),
                     "role": c2.text_input("Rôle dans le PTI", d.get("role", ""), max_chars=LIMITS["short"])}
            c3, c4, c5 = st.columns(3)
            entry["fit"] = c3.slider("Adéquation à sa stratégie", 1, 5, d.get("fit", 3))
            entry["impact"] = c4.slider("Impact à court terme pour lui", 1, 5, d.get("impact", 3))
            entry["influence"] = c5.slider("Influence potentielle", 1, 5, d.get("influence", 3))
            stage_cols = st.columns(len(STAGES))
            modes = d.get("modes", {})
            entry["modes"] = {stage: col.selectbox(label, list(COOPERATION_MODES), format_func=COOPERATION_MODES.get,
                                                   index=list(COOPERATION_MODES).index(modes.get(stage, "information")),
                                                   key=f"mode-{stage}-{picked}")
                              for col, (stage, label) in zip(stage_cols, STAGES.items(), strict=True)}
            if st.form_submit_button("Ajouter le partenaire" if row is None else "Enregistrer le partenaire",
                                     type="primary"):
                def save_it():
                    if row is None:
                        store.save_stakeholder(me, entry)
                    else:
                        store.save_stakeholder(me, entry, row["id"], row["version"])
                try:
                    if attempt(save_it, "Partenaire enregistré"):
                        st.rerun()
                except StaleEdit as stale:
                    st.error(f"{stale} Rechargez le partenaire pour voir la version enregistrée.")
        if row is not None and st.button("Retirer ce partenaire", key="delete-stakeholder"):
            if attempt(lambda: store.delete_stakeholder(me, row["id"]), "Partenaire retiré (restaurable)"):
                st.rerun()
        for r in store.stakeholders(me.session_id, include_deleted=True):
            if r["deleted_at"] and st.button(f"Restaurer « {r['data']['name'][:60]} »", key=f"restore-st-{r['id']}"):
                attempt(lambda r=r: store.restore_stakeholder(me, r["id"]), "Partenaire restauré")
                st.rerun()
    live_stakeholders(me.session_id)
