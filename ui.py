"""Shared Streamlit helpers: page set-up, the workspace in use, the sidebar. Pages stay thin."""

from __future__ import annotations

import html
import secrets
import shutil
import tempfile
import time
from typing import TYPE_CHECKING
from pathlib import Path

import pandas as pd
import streamlit as st

from diagnostic import DEMO_LABEL
from diagnostic.access import white_zones
from diagnostic.access.white_zones import CoverageParams, commune_coverage
from diagnostic.export.csv import csv_bytes
from diagnostic.io.tables import read_table
from diagnostic.open_catalogue import catalogue_status
from diagnostic.progress import DONE, MISSING, OUTDATED, diagnostic_steps
from diagnostic.sessions.store import Participant, Store, all_sessions
from diagnostic.errors import InputError
from diagnostic.indicators import decimal_text
from diagnostic.profile import Profile, alerts_overview, commune_card, indicator_profile, key_figures
from diagnostic.territory import (COMMUNE_LEVEL, commune_neighbours, display_geometry, group_geometry, group_of,
                                  levels)
from diagnostic.topology import Topology, encode
from diagnostic.workspace import (Workspace, available_workspaces, default_workspace_path, load_workspace,
                                  sessions_url, version)

if TYPE_CHECKING:  # folium is only imported by the pages that draw maps
    from diagnostic.maps import Legend

PAGES = [("app.py", "Accueil", ":material/home:"),
         ("pages/1_Territoire.py", "Territoire", ":material/map:"),
         ("pages/2_Profil_socio-économique.py", "Profil socio-économique", ":material/bar_chart:"),
         ("pages/4_Offre_d_insertion.py", "Offre d'insertion", ":material/location_on:"),
         ("pages/5_Zones_blanches.py", "Zones blanches", ":material/wrong_location:"),
         ("pages/3_Catalogue_des_indicateurs.py", "Catalogue des indicateurs", ":material/menu_book:"),
         ("pages/7_Seances.py", "Séances de travail", ":material/groups:"),
         ("pages/9_Importer_des_donnees.py", "Importer des données", ":material/upload_file:"),
         ("pages/8_Nouveau_territoire.py", "Nouveau territoire", ":material/add_location_alt:"),
         ("pages/6_Export.py", "Export", ":material/download:")]
FRENCH_SCRIPT = f"<script>{(Path(__file__).parent / 'static' / 'francais.js').read_text(encoding='utf-8')}</script>"


def setup(title: str) -> Workspace:
    """Configure the page, make Streamlit's own words French, load the workspace, draw the sidebar."""
    st.set_page_config(page_title=f"{title} · Diagnostic PTI", page_icon="🧭", layout="wide")
    st.html(FRENCH_SCRIPT, unsafe_allow_javascript=True)
    with st.sidebar:
        for page, label, icon in PAGES:
            st.page_link(page, label=label, icon=icon)
        st.divider()
        choices = available_workspaces()
        if "open_workspace" in st.session_state:  # asked by a page (e.g. after creating one)
            st.session_state["workspace"] = st.session_state.pop("open_workspace")
        if st.session_state.get("workspace") not in choices:
            st.session_state["workspace"] = default_workspace_path()
        st.session_state["workspace"] = st.session_state["workspace"]  # kept when the page changes
        st.selectbox("Espace de travail", list(choices), format_func=choices.get, key="workspace")
    ws = current_workspace()
    with st.sidebar:
        if ws.fictional:
            st.warning(DEMO_LABEL, icon=":material/warning:")
        st.caption(f"{len(ws.communes)} communes · {ws.communes['population'].sum():,.0f} habitants"
                   .replace(",", "\u202f"))
    return ws


@st.cache_resource(show_spinner="Chargement de l'espace de travail…")
def _load(path: str, stamp: tuple) -> Workspace:
    return load_workspace(path)


def current_workspace() -> Workspace:
    """The workspace chosen in the sidebar ($PTI_WORKSPACE or the demo by default), reloaded when
    its files change; a damaged one says so and the default opens instead. The object is shared by
    all users: treat it as read-only."""
    path = Path(st.session_state.get("workspace") or default_workspace_path())
    try:
        return _load(str(path), version(path))
    except InputError as exc:
        if path == default_workspace_path():
            raise
        st.error(f"L'espace de travail choisi ne peut pas être ouvert : {exc.french()} L'espace par défaut est "
                 "ouvert à la place.")
        st.session_state["open_workspace"] = default_workspace_path()
        return _load(str(default_workspace_path()), version(default_workspace_path()))


KNOWN_LEVELS = {"epci_nom": "EPCI", "ept_nom": "EPT", "libepci": "EPCI", "nom_epci": "EPCI"}


def grouping_columns(path: Path, key: str) -> dict[str, str]:
    """Which columns of a groupings table become levels, and their names, chosen by the user (the
    official communes.csv has many columns: EPCI, arrondissement…)."""
    frame = read_table(path)
    st.dataframe(frame.head(5), hide_index=True, width="stretch")
    candidates = [c for c in frame.columns if c.lower() in KNOWN_LEVELS or 1 < frame[c].nunique() < len(frame)]
    known = [c.lower() in KNOWN_LEVELS for c in candidates]
    checked = known if any(known) else [len(candidates) <= 4] * len(candidates)
    names = [KNOWN_LEVELS.get(c.lower(), c) for c in candidates]
    choice = st.data_editor(
        pd.DataFrame({"Colonne": candidates, "Importer": checked, "Nom du niveau": names}),
        hide_index=True, disabled=["Colonne"], key=key, width="stretch")
    st.caption("Cochez les colonnes à garder comme niveaux de regroupement (par exemple epci_nom) et nommez-les.")
    return {r["Colonne"]: r["Nom du niveau"] or r["Colonne"] for r in choice.to_dict("records") if r["Importer"]}


STATUS_ICONS = {DONE: ":material/check_circle:", MISSING: ":material/radio_button_unchecked:",
                OUTDATED: ":material/update:"}


def guided_path(ws: Workspace) -> None:
    """The diagnostic's steps with this workspace's status on each and a link to the page that does it."""
    try:
        sessions = len(all_sessions(store(), ws.key))
    except Exception:  # noqa: BLE001 - the sessions' database being down must not hide the path
        sessions = 0
    for number, step in enumerate(diagnostic_steps(ws, sessions), start=1):
        c1, c2 = st.columns([1, 3])
        c1.page_link(step.page, label=f"{number}. {step.name}", icon=STATUS_ICONS[step.status])
        c2.markdown(f"**{step.status.capitalize()}** — {escape(step.detail)}")


@st.cache_resource(show_spinner=False)
def _topology(path: str, stamp: tuple, level: str, _ws: Workspace) -> Topology:
    shapes = display_geometry(_ws.communes)
    if level == COMMUNE_LEVEL:
        return encode(shapes, "code_insee")
    return encode(group_geometry(shapes, _ws.groupings, level), "group")


def topology(ws: Workspace, level: str) -> Topology:
    """The shapes of a level (communes or groups) for maps, cached per workspace version."""
    return _topology(str(ws.path), version(ws.path), level, ws)


@st.cache_data(show_spinner=False, max_entries=16)
def _commune_pairs(path: str, stamp: tuple, _ws: Workspace) -> pd.DataFrame:
    return commune_neighbours(_ws.communes)


def colours_of(ws: Workspace, groups: pd.Series) -> dict[str, str]:
    """Colours for any grouping of the communes (neighbours never alike), the communes'
    neighbours found once per workspace version."""
    from diagnostic.maps import group_colours
    return group_colours(ws.communes, groups, _commune_pairs(str(ws.path), version(ws.path), ws))


@st.cache_data(show_spinner=False, max_entries=64)
def _group_colours(path: str, stamp: tuple, level: str, _ws: Workspace) -> dict[str, str]:
    return colours_of(_ws, group_of(_ws.communes, _ws.groupings, level))


def group_colours(ws: Workspace, level: str) -> dict[str, str] | None:
    """The colours of a level's groups (neighbours never alike), cached per workspace version."""
    if level == COMMUNE_LEVEL or level not in ws.groupings.columns:
        return None
    return _group_colours(str(ws.path), version(ws.path), level, ws)


def level_selector(ws: Workspace) -> str:
    """The territory level, shared by every page through the session state."""
    options = levels(ws.groupings)
    asked = st.query_params.get("niveau")
    if asked in options and "level" not in st.session_state:
        st.session_state["level"] = asked  # a shared link such as ?niveau=commune
    if st.session_state.get("level") not in options:
        st.session_state["level"] = options[1] if len(options) > 1 else options[0]
    st.session_state["level"] = st.session_state["level"]  # keep it when the page changes
    return st.sidebar.selectbox("Niveau territorial", options, key="level",
                                format_func=lambda v: "Communes" if v == "commune" else v)


@st.cache_data(show_spinner=False, max_entries=32)
def _map_page(key: tuple, _build) -> tuple[str, Legend, pd.DataFrame | None]:
    """A map built once per workspace version and settings (`key`): its HTML, legend and text."""
    fmap, shown = _build()
    return fmap.get_root().render(), shown, fmap.text


def map_block(ws: Workspace, key: tuple, build, height: int, clicks: list[str] | None = None,
              note: str = "") -> dict | None:
    """A map (`build()` → map, legend; built once per workspace version and `key`, which names
    every setting it depends on) with its legend beside it, then its text alternative (the table
    of what it shows, reachable by keyboard and read by screen readers). A map whose `clicks`
    matter goes through st_folium and returns its state; the others are embedded as they are."""
    key = (str(ws.path), version(ws.path), *key)
    col_map, col_legend = st.columns([4, 1])
    if clicks:
        from streamlit_folium import st_folium

        fmap, shown = build()
        text = fmap.text
        with col_map:
            state = st_folium(fmap, key=f"map-{key[2:]}", height=height, use_container_width=True,
                              returned_objects=clicks)
    else:
        page, shown, text = _map_page(key, build)
        state = None
        with col_map:
            st.iframe(page, height=height, alt=f"Carte : {shown.title}")
    with col_legend:
        legend(shown)
        if note:
            st.caption(note)
    if text is not None:
        with st.expander(f"Carte en version texte ({len(text)} lignes)"):
            table(text)
    return state


@st.cache_data(show_spinner=False, max_entries=64)
def _chart_spec(key: tuple, _build) -> dict:
    return _build().to_dict()


def chart(ws: Workspace, key: tuple, build) -> None:
    """An Altair chart (`build()`), its Vega-Lite spec made once per workspace version and `key`
    (the settings it depends on): Altair's building and validation are the slow part of a rerun."""
    st.vega_lite_chart(_chart_spec((str(ws.path), version(ws.path), *key), build), width="stretch")


def legend(legend: Legend) -> None:
    """A map's legend drawn beside it: coloured squares and their (escaped) labels."""
    items = "".join(
        f'<div style="display:flex;align-items:flex-start;gap:6px;margin:3px 0;line-height:1.3">'
        f'<span style="flex:0 0 16px;height:16px;background:{c};border:1px solid #999;margin-top:2px">'
        f'</span><span>{html.escape(label)}</span></div>'
        for c, label in zip(legend.colours, legend.labels, strict=True))
    st.html(f'<div aria-label="Légende"><strong>{html.escape(legend.title)}</strong>{items}</div>')


@st.cache_data(show_spinner=False, max_entries=256)
def _profile(path: str, stamp: tuple, indicator_id: str, level: str, _ws: Workspace):
    return indicator_profile(_ws, indicator_id, level)


def profile(ws: Workspace, indicator_id: str, level: str) -> Profile:
    """An indicator's profile at a level, cached per workspace version."""
    return _profile(str(ws.path), version(ws.path), indicator_id, level, ws)


@st.cache_data(show_spinner=False, max_entries=64)
def _key_figures(path: str, stamp: tuple, level: str, _ws: Workspace):
    return key_figures(_ws, level)


def cached_key_figures(ws: Workspace, level: str):
    """The key figures table of a level, cached per workspace version."""
    return _key_figures(str(ws.path), version(ws.path), level, ws)


def metadata_card(indicator) -> str:
    """The indicator's catalogue card as a Markdown table (texts escaped)."""
    rows = "\n".join(f"| {label} | {html.escape(text).replace('|', '&#124;')} |"
                     for label, text in indicator.metadata())
    return f"| Rubrique | Contenu |\n|---|---|\n{rows}"


@st.cache_data(show_spinner=False, max_entries=64)
def _alerts(path: str, stamp: tuple, level: str, _ws: Workspace):
    return alerts_overview(_ws, level)


def cached_alerts(ws: Workspace, level: str):
    """All the alerts of a level, cached per workspace version."""
    return _alerts(str(ws.path), version(ws.path), level, ws)


@st.cache_data(show_spinner=False, max_entries=16)
def _catalogue_status(path: str, stamp: tuple, _ws: Workspace):
    return catalogue_status(_ws)


def cached_catalogue_status(ws: Workspace):
    """The catalogue with each indicator's data status, cached per workspace version."""
    return _catalogue_status(str(ws.path), version(ws.path), ws)


def decimal_input(label: str, value: float | None, key: str, container=st, **options) -> str:
    """A number field written the French way (« 6,5 »); the text typed, read by `parse_decimal`
    where it is used (a typo is then said in French)."""
    return container.text_input(label, decimal_text(value), key=key, **options)


def table(frame, hide_index: bool = True) -> None:
    """A table with numbers written the French way (in a French browser: 12 345,6)."""
    st.dataframe(frame, hide_index=hide_index, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="localized")
                                for c in frame.columns if frame[c].dtype.kind in "fi"})


@st.cache_data(show_spinner=False, max_entries=256)
def _commune_card(path: str, stamp: tuple, code: str, _ws: Workspace):
    return commune_card(_ws, code)


def cached_commune_card(ws: Workspace, code: str):
    """One commune's indicators beside its territories, cached per workspace version."""
    return _commune_card(str(ws.path), version(ws.path), code, ws)


@st.cache_data(show_spinner=False, max_entries=128)
def _coverage(path: str, stamp: tuple, params: CoverageParams, _ws: Workspace):
    return commune_coverage(_ws, params)


def coverage(ws: Workspace, params: CoverageParams):
    """The coverage of a theme with these parameters, cached per workspace version."""
    return _coverage(str(ws.path), version(ws.path), params, ws)


@st.cache_data(show_spinner="Calcul de toutes les thématiques…", max_entries=32)
def _themes_overview(path: str, stamp: tuple, params: CoverageParams, _ws: Workspace):
    return white_zones.themes_overview(_ws, params)


def themes_overview(ws: Workspace, params: CoverageParams):
    """Every theme of the offer with these thresholds, cached per workspace version."""
    return _themes_overview(str(ws.path), version(ws.path), params, ws)



UPLOAD_PREFIX = "pti-upload-"
UPLOAD_MAX_AGE_S = 3600


def saved_upload(upload) -> Path | None:
    """An uploaded file written to a private temporary folder (once per upload), under its own name;
    removed by ``forget_uploads`` at the end of the page's run, and in any case after an hour."""
    if upload is None:
        return None
    _sweep_uploads()
    saved = st.session_state.setdefault("_uploads", {})
    if upload.file_id not in saved or not saved[upload.file_id].is_file():
        path = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX)) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        saved[upload.file_id] = path
    return saved[upload.file_id]


def forget_uploads() -> None:
    """Remove this session's uploaded files from the disk: a page calls it when it has done its
    work, so that an upload exists on the server only while a page reads or imports it."""
    for path in st.session_state.pop("_uploads", {}).values():
        shutil.rmtree(path if path.is_dir() else path.parent, ignore_errors=True)


def _sweep_uploads() -> None:
    """Remove the upload folders older than an hour (a browser closed before its import)."""
    now = time.time()
    for folder in Path(tempfile.gettempdir()).glob(f"{UPLOAD_PREFIX}*"):
        try:
            if now - folder.stat().st_mtime > UPLOAD_MAX_AGE_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def saved_feed(uploads: list, name: str) -> tuple[Path, str]:
    """A GTFS feed uploaded as one zip or as its .txt files, on disk, and the name it is kept under."""
    zips = [u for u in uploads if u.name.lower().endswith(".zip")]
    if zips:
        if len(uploads) > 1:
            raise InputError("déposez soit l'archive .zip du flux, soit ses fichiers .txt, pas les deux.",
                             fix="Retirez les fichiers en trop.")
        return saved_upload(zips[0]), zips[0].name
    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
    st.session_state.setdefault("_uploads", {})[f"feed-{folder.name}"] = folder
    for upload in uploads:
        (folder / Path(upload.name).name).write_bytes(upload.getvalue())
    return folder, (name.strip() or "flux GTFS")[:80]


def download(frame, file_name: str, label: str = "Télécharger ce tableau (CSV)") -> None:
    """A download button for a table, as the French CSV of the exports."""
    st.download_button(label, lambda: csv_bytes(frame), file_name=file_name, mime="text/csv", key=f"dl-{file_name}")


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    """The sessions' database of the server (one for every workspace, so that a join code is found
    whatever workspace is open; one engine per server, shared by all users)."""
    return _store(sessions_url())


def open_workspace(key: str) -> bool:
    """Ask the sidebar to open the workspace of this key (a resolved folder) on the next run; False
    when this server does not offer it."""
    for path in available_workspaces():
        if str(Path(path).resolve()) == key:
            st.session_state["open_workspace"] = path
            return True
    return False


COOKIE = "pti_seance_"  # + the session code: the device's participant secret, never in an address


def device_participant(store: Store, code: str) -> Participant | None:
    """The participant this browser holds for a session: from this tab's state, else from the
    cookie left when the device joined (a reopened page keeps its identity and its votes)."""
    token = st.session_state.get("tokens", {}).get(code) or st.context.cookies.get(COOKIE + code)
    return store.participant(token)


def remember_device(code: str, token: str) -> None:
    """Keep the participant's secret in this tab and in a cookie of this device (30 days)."""
    st.session_state.setdefault("tokens", {})[code] = token
    st.html(f"<script>document.cookie = '{COOKIE}{code}={token}; path=/; max-age=2592000; SameSite=Strict';"
            "</script>", unsafe_allow_javascript=True)


def client_keys() -> tuple[str, str]:
    """Who is trying to join, for the rate limit: this browser tab, and its network address."""
    tab = st.session_state.setdefault("client-id", secrets.token_hex(8))
    return tab, str(st.context.ip_address or "")


def qr_code(link: str, width: int, container=st) -> None:
    """The QR code of a link, as a PNG image (phones read it from the projected screen)."""
    import io

    import segno
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=2)
    container.image(buffer.getvalue(), width=width, caption="Lien de la séance")


def plain(text: str, small: bool = False) -> None:
    """User text shown literally: no Markdown, no HTML, no clickable link, no remote image."""
    style = "font-size:0.875rem;color:rgba(49,51,63,0.7)" if small else ""
    st.html(f'<div style="white-space:pre-wrap;overflow-wrap:anywhere;{style}">{html.escape(str(text))}</div>')


def escape(text: str) -> str:
    """User text inside st.markdown: HTML, Markdown and automatic links neutralised."""
    text = html.escape(str(text), quote=False)  # quotes stay quotes: &#x27; would show as typed
    for char in "\\*_[]`#!<>|~":
        text = text.replace(char, "\\" + char)
    return text.replace("://", ":​//").replace("www.", "www​.")
