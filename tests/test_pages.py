"""AppTest of every page: renders the demo, reacts to the level and the indicator."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TERRITOIRE = "pages/1_Territoire.py"
PROFIL = "pages/2_Profil_socio-économique.py"
CATALOGUE = "pages/3_Catalogue_des_indicateurs.py"


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page, title", [(None, "Diagnostic territorial"), (TERRITOIRE, "Territoire"),
                                         (PROFIL, "Profil socio-économique"),
                                         (CATALOGUE, "Catalogue des indicateurs"),
                                         ("pages/8_Nouveau_territoire.py", "Créer un espace de travail"),
                                         ("pages/6_Export.py", "Exporter le diagnostic"),
                                         ("pages/7_Seances.py", "Séances de travail"),
                                         ("pages/4_Offre_d_insertion.py", "Offre d'insertion"),
                                         ("pages/5_Zones_blanches.py", "Zones blanches"),
                                         ("pages/9_Importer_des_donnees.py", "Importer des données")])
def test_every_page_renders_the_demo(demo_copy, page, title):
    at = open_page(page)
    assert at.title[0].value.startswith(title)
    assert any("données fictives" in w.value for w in at.sidebar.warning)


def test_territory_page_follows_the_level(demo_copy):
    at = open_page(TERRITOIRE)
    assert at.selectbox(key="level").value == "Territoire d'action sociale"
    assert at.subheader[0].value == "5 groupes · Territoire d'action sociale"
    assert len(at.dataframe[-1].value) == 6  # five territories and the département
    at.selectbox(key="level").set_value("EPCI").run()
    assert at.subheader[0].value == "8 groupes · EPCI"
    assert len(at.dataframe[-1].value) == 9
    at.selectbox(key="level").set_value("commune").run()
    assert len(at.dataframe[-1].value) == 201


def test_profile_page_follows_indicator_and_level(demo_copy):
    at = open_page(PROFIL)
    rsa = at.metric[0].value
    table_rows = len(at.dataframe[-1].value)
    assert table_rows == 5
    at.selectbox(key="indicator-contexte").set_value("taux_pauvrete").run()
    assert at.metric[0].value != rsa and at.metric[0].value.endswith("%")
    assert any("Filosofi" in m.value for m in at.markdown)  # the metadata card follows
    at.selectbox(key="level").set_value("commune").run()
    assert len(at.dataframe[-1].value) == 200
    assert int(at.metric[2].value) > 0  # small counts masked at commune level


def test_profile_page_lists_alerts_from_thresholds(demo_copy):
    at = open_page(PROFIL)
    at.selectbox(key="indicator-contexte").set_value("taux_pauvrete").run()
    alerts = int(at.metric[1].value)
    # lower the thresholds in the workspace: more territories in alert
    catalogue = json.loads((demo_copy / "catalogue.json").read_text(encoding="utf-8"))
    for entry in catalogue:
        if entry["id"] == "taux_pauvrete":
            entry["lower"], entry["upper"] = 1, 2
    (demo_copy / "catalogue.json").write_text(json.dumps(catalogue), encoding="utf-8")
    at.run()
    assert int(at.metric[1].value) == 5 > alerts


def test_families_switch_indicator_lists(demo_copy):
    at = open_page(PROFIL)
    at.radio(key="family").set_value("résultat").run()
    assert at.selectbox(key="indicator-résultat").value == "taux_sortie_rsa_emploi"
    assert not at.exception


def test_thresholds_are_edited_and_saved_in_the_workspace(demo_copy):
    at = open_page(CATALOGUE)
    at.selectbox(key="threshold-indicator").set_value("part_foyers_rsa").run()
    at.text_input(key="lower-part_foyers_rsa").input("3")
    at.text_input(key="upper-part_foyers_rsa").input("6,5")  # a decimal comma, as French users type
    at.button[0].click().run()
    assert not at.exception
    assert "Seuils enregistrés" in at.success[0].value
    saved = {e["id"]: e for e in json.loads((demo_copy / "catalogue.json").read_text(encoding="utf-8"))}
    assert (saved["part_foyers_rsa"]["lower"], saved["part_foyers_rsa"]["upper"]) == (3.0, 6.5)


def test_inverted_thresholds_get_a_french_error_and_nothing_saved(demo_copy):
    before = (demo_copy / "catalogue.json").read_bytes()
    at = open_page(CATALOGUE)
    indicator = at.selectbox(key="threshold-indicator").value
    at.text_input(key=f"lower-{indicator}").input("50")
    at.text_input(key=f"upper-{indicator}").input("10")
    at.button[0].click().run()
    assert "seuil bas doit être inférieur" in at.error[0].value
    assert (demo_copy / "catalogue.json").read_bytes() == before


def test_a_threshold_that_is_not_a_number_is_said_in_french_and_nothing_saved(demo_copy):
    before = (demo_copy / "catalogue.json").read_bytes()
    at = open_page(CATALOGUE)
    indicator = at.selectbox(key="threshold-indicator").value
    at.text_input(key=f"lower-{indicator}").input("3,5,1")
    at.button[0].click().run()
    assert "« 3,5,1 » n'est pas un nombre" in at.error[0].value and "virgule" in at.error[0].value
    assert (demo_copy / "catalogue.json").read_bytes() == before


def test_secret_threshold_is_saved_with_who_and_when_and_never_below_the_rule(tmp_path, monkeypatch):
    from diagnostic.errors import InputError
    from diagnostic.workspace import save_secret_threshold
    from tests.workspaces import small_workspace
    path = small_workspace(tmp_path)
    monkeypatch.setenv("PTI_WORKSPACE", str(path))
    at = open_page(CATALOGUE)
    assert at.number_input[0].min == 5  # nobody can ask for less than the sources' rule
    at.number_input[0].set_value(11)
    at.text_input[-1].input("Claire (Département)")
    next(b for b in at.button if b.label == "Enregistrer").click().run()
    meta = json.loads((path / "workspace.json").read_text(encoding="utf-8"))
    assert meta["secret_threshold"] == 11
    assert meta["secret_history"][0]["par"] == "Claire (Département)" and meta["secret_history"][0]["ancien"] == 5
    assert any("Historique" in m.value for m in at.markdown)
    with pytest.raises(InputError, match="entre 5 et 50"):
        save_secret_threshold(path, 2, "quelqu'un")


def test_level_can_be_given_in_the_link(demo_copy):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PROFIL)
    at.query_params["niveau"] = "commune"
    at.run()
    assert at.selectbox(key="level").value == "commune"
    assert len(at.dataframe[-1].value) == 200


def test_home_lists_alerts_of_the_level(demo_copy):
    at = open_page()
    alerts = at.dataframe[0].value
    assert set(alerts.columns) >= {"Indicateur", "Territoire", "Valeur", "Seuil d'alerte"}
    assert "Territoire de Montferrand-les-Eaux" in set(alerts["Territoire"])
    at.selectbox(key="level").set_value("commune").run()
    assert len(at.dataframe[0].value) > len(alerts)


OFFRE = "pages/4_Offre_d_insertion.py"


def test_offer_page_filters_change_what_is_shown(demo_copy):
    at = open_page(OFFRE)
    total = int(at.metric[0].value)
    assert total == 236
    at.multiselect(key="offer-themes").set_value(["mobilite"]).run()
    mobility = int(at.metric[0].value)
    assert 0 < mobility < total
    assert len(at.dataframe[-1].value) == mobility
    at.selectbox(key="offer-subtheme").set_value("mobilite--preparer-un-permis").run()
    assert 0 < int(at.metric[0].value) < mobility
    at.selectbox(key="offer-territory").set_value("Territoire du Centre").run()
    centre = int(at.metric[0].value)
    assert set(at.dataframe[-1].value["Thématiques"]) == {"Préparer un permis"}
    at.selectbox(key="offer-subtheme").set_value("").run()
    at.multiselect(key="offer-modes").set_value(["a-distance"]).run()
    assert int(at.metric[0].value) == 1  # the remote mobility platform covers every territory
    assert not at.exception and centre >= 1


def test_offer_page_shows_the_territory_theme_table(demo_copy):
    at = open_page(OFFRE)
    assert any("Services par territoire et thématique" in s.value for s in at.subheader)
    at.radio(key="offer-measure").set_value("per_100_rsa").run()
    assert not at.exception
    at.selectbox(key="level").set_value("commune").run()
    assert not any("Services par territoire" in s.value for s in at.subheader)


def test_offer_page_without_offer_invites_to_import(demo_copy):
    (demo_copy / "offer.csv").unlink()
    at = open_page(OFFRE)
    assert any("Aucune offre" in i.value for i in at.info)


ZONES = "pages/5_Zones_blanches.py"


def test_white_zones_page_follows_threshold_theme_and_remote_switch(demo_copy):
    at = open_page(ZONES)
    at.radio(key="cov-mode").set_value("vol-oiseau").run()
    at_10 = int(at.metric[0].value)
    at.slider(key="cov-km").set_value(20).run()
    at_20 = int(at.metric[0].value)
    assert at_20 < at_10
    at.toggle(key="cov-remote").set_value(True).run()
    assert int(at.metric[0].value) == 0  # the remote mobility platform covers the département
    at.toggle(key="cov-remote").set_value(False).run()
    at.selectbox(key="cov-theme").set_value("mobilite--preparer-un-permis").run()
    assert int(at.metric[0].value) > at_20
    assert any("Mobilité : les deux critères" in s.value for s in at.subheader)
    walk = at.select_slider(key="cov-walk")
    assert walk.options[-1] == "2\u202f000 m"  # thousands written the French way
    before = int(at.metric[0].value)
    walk.set_value(2000).run()
    assert int(at.metric[0].value) <= before  # a stop farther away still covers: fewer white zones
    assert not at.exception


def test_white_zones_page_in_minutes_with_sites_and_target(demo_copy):
    at = open_page(ZONES)
    at.radio(key="cov-mode").set_value("vol-oiseau").run()
    at.radio(key="cov-unit").set_value("minutes").run()
    assert "Indice × population" not in at.selectbox(key="cov-target").options  # an index counts nobody
    at.selectbox(key="cov-target").set_value("part_foyers_rsa").run()
    assert "Foyers allocataires du RSA" in at.metric[2].label
    assert any("Où ouvrir" in s.value for s in at.subheader)
    sites = [d.value for d in at.dataframe if "Ordre" in d.value.columns]
    assert len(sites) == 1 and len(sites[0]) == 3
    at.number_input(key="cov-sites").set_value(0).run()
    assert not any("Où ouvrir" in s.value for s in at.subheader)
    assert not at.exception


def test_white_zones_page_in_minutes_on_the_road_network(demo_copy):
    at = open_page(ZONES)
    assert at.radio(key="cov-mode").value == "route"  # the demo has its roads: minutes by default
    route = int(at.metric[0].value)
    assert "moins de 10 min" in at.get("vega_lite_chart")[0].proto.spec
    method = " ".join(t.value for t in at.text)
    assert "en voiture" in method and "© les contributeurs d'OpenStreetMap (ODbL)" in method
    assert "carreaux habités de 200 m" in method
    at.slider(key="cov-net-minutes").set_value(40).run()
    assert int(at.metric[0].value) < route
    at.radio(key="cov-mode").set_value("marche").run()
    assert int(at.metric[0].value) > route
    assert not at.exception and not at.error


def test_white_zones_page_without_network_offers_crow_fly_and_says_how(demo_copy):
    import shutil
    shutil.rmtree(demo_copy / "reseau")
    (demo_copy / "reseau.osm.pbf").unlink()
    at = open_page(ZONES)
    assert at.radio(key="cov-mode").options == ["à vol d'oiseau"]
    assert any("extrait OpenStreetMap" in c.value for c in at.caption)
    assert not at.exception


EXPORT = "pages/6_Export.py"


def test_export_page_prepares_the_annex_on_demand(demo_copy):
    at = open_page(EXPORT)
    assert not at.get("download_button")  # nothing is generated before it is asked
    at.selectbox(key="export-territory").set_value("Territoire du Centre").run()
    at.button(key="export-prepare").click().run()
    assert not at.exception
    assert at.status[0].label == "Annexe prête"
    assert len(at.get("download_button")) == 3
    at.selectbox(key="export-territory").set_value("").run()
    assert not at.get("download_button")  # another territory: the files must be prepared again


def test_white_zone_settings_retained_on_the_page_are_listed_and_edited_on_export(demo_copy):
    import json
    (demo_copy / "zones_blanches.json").unlink()
    at = open_page(ZONES)
    at.selectbox(key="cov-theme").set_value("numerique").run()
    at.slider(key="cov-net-minutes").set_value(25).run()
    at.button(key="cov-retain").click().run()
    assert not at.exception
    saved = json.loads((demo_copy / "zones_blanches.json").read_text(encoding="utf-8"))
    assert [(s["themes"], s["max_minutes"], s["mode"]) for s in saved] == [(["numerique"], 25, "route")]
    assert at.button(key="cov-retain").disabled  # these settings are retained already
    at = open_page(EXPORT)
    road = "Numérique — au-delà de 25 min en voiture (réseau routier)"
    assert [t.value for t in at.text] == [road]
    at.selectbox(key="export-add-theme").set_value("mobilite")
    at.text_input(key="export-add-value").input("12")
    at.button[[b.label for b in at.button].index("Ajouter")].click().run()
    assert [t.value for t in at.text] == [road, "Mobilité — au-delà de 12 km"]
    at.selectbox(key="export-add-theme").set_value("numerique")
    at.text_input(key="export-add-value").input("30")
    at.selectbox(key="export-add-mode").set_value("marche")
    at.button[[b.label for b in at.button].index("Ajouter")].click().run()
    assert "en mode « marche », le seuil est un temps de trajet" in at.error[0].value  # 30 km on foot: refused
    at.radio(key="export-add-unit").set_value("min")
    at.button[[b.label for b in at.button].index("Ajouter")].click().run()
    assert [t.value for t in at.text][-1] == "Numérique — au-delà de 30 min à pied (réseau piéton)"
    at.button(key="export-unretain-2").click().run()
    at.button(key="export-unretain-0").click().run()
    assert [t.value for t in at.text] == ["Mobilité — au-delà de 12 km"]
    saved = json.loads((demo_copy / "zones_blanches.json").read_text(encoding="utf-8"))
    assert [(s["themes"], s["max_km"]) for s in saved] == [(["mobilite"], 12.0)]


def test_export_page_reports_a_failed_format_and_keeps_the_others(demo_copy, monkeypatch):
    from diagnostic.export import formats

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(formats, "annex_pdf", broken)
    at = open_page(EXPORT)
    at.multiselect(key="export-sections").set_value(["territoire"]).run()
    at.button(key="export-prepare").click().run()
    assert not at.exception
    assert at.status[0].label == "Annexe prête en partie"
    assert len(at.get("download_button")) == 2
    assert any("Le document PDF n'a pas pu être produit" in e.value for e in at.error)


def test_profile_page_says_how_much_of_the_population_a_rate_covers(demo_copy):
    at = open_page(PROFIL)
    labels = [m.label for m in at.metric]
    assert labels == ["Département", "Territoires en alerte", "Valeurs masquées (secret)", "Valeurs non renseignées"]
    assert any("Calculé sur" in c.value and "% de la population" in c.value for c in at.caption)


SEANCES = "pages/7_Seances.py"


def submit(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]


def sessions_store():
    from diagnostic.sessions.store import Store
    from diagnostic.workspace import sessions_url
    return Store(sessions_url())


def create_in_page(title="Mobilité dans le Centre", at=None):
    at = at or open_page(SEANCES)
    at.text_input(key="new-title").input(title)
    at.text_input(key="new-name").input("Claire")
    at.text_input(key="new-org").input("Conseil départemental")
    submit(at, "Créer la séance")
    return at, at.markdown[0].value.split("**")[1]


def page_texts(at) -> list[str]:
    """What the page shows as literal text (st.html blocks: user text is never Markdown)."""
    return [h.proto.body for h in at.get("html")]


def test_session_page_create_add_vote_and_sheet(demo_copy):
    at, code = create_in_page()
    assert at.title[0].value == "Mobilité dans le Centre" and len(code) == 8
    assert "jeton" not in at.query_params and at.query_params["seance"] == code
    at.text_area(key="finding-text").input("Aucun transport le samedi <b>matin</b> [lien](http://x.fr) **gras**")
    at.selectbox(key="finding-commune").set_value("00103")
    submit(at, "Ajouter le constat")
    texts = page_texts(at)
    assert any("Valmorin" in t for t in texts)  # the commune is kept with the finding
    assert any("Aucun transport le samedi &lt;b&gt;matin&lt;/b&gt; [lien](http://x.fr) **gras**" in t for t in texts)
    assert at.text_area(key="finding-text").value == ""  # emptied once saved
    submit(at, "Voter")
    assert any("**1 vote(s)**" in m.value for m in at.markdown)
    assert any("Votes restants : 4" in c.value for c in at.caption)
    # an action sheet: saved twice, it stays one sheet (the new sheet becomes the selected one)
    at.tabs[1].text_input[0].input("Plateforme mobilité")
    submit(at, "Enregistrer la fiche")
    assert any("Fiche enregistrée" in s.value for s in at.success)
    submit(at, "Enregistrer la fiche")
    store = sessions_store()
    other = store.join(code, "Alice", "CAF")
    assert len(store.sheets(other.session_id)) == 1
    sheet = store.sheets(other.session_id)[0]
    assert at.selectbox(key="sheet-choice").value == sheet["id"]
    # a stale edit: Alice saves version 3 meanwhile, Claire's change shows both values in French
    store.update_sheet(other, sheet["id"], sheet["version"], {**sheet["data"], "pilot": "CAF"})
    next(t for t in at.tabs[1].text_input if t.label == "Pilote (portage)").input("Région")
    submit(at, "Enregistrer la fiche")
    assert "modifiée par quelqu'un d'autre" in at.error[0].value
    assert any(m.value == "**Pilote (portage)**" for m in at.markdown)
    assert not at.json and not any("human_means" in t for t in page_texts(at))
    assert store.sheets(other.session_id)[0]["data"]["pilot"] == "CAF"  # nothing overwritten
    at.radio(key="keep-pilot").set_value("la mienne")
    submit(at, "Enregistrer ce choix")
    assert store.sheets(other.session_id)[0]["data"]["pilot"] == "Région"
    # removal and restore of the sheet
    submit(at, "Retirer cette fiche")
    assert store.sheets(other.session_id) == []
    submit(at, "Restaurer la fiche « Plateforme mobilité »")
    assert len(store.sheets(other.session_id)) == 1


def test_session_page_join_with_a_wrong_code_says_so(demo_copy):
    at = open_page(SEANCES)
    at.text_input(key="join-code").input("ZZZZZZ")
    at.text_input(key="join-name").input("Bob")
    at.text_input(key="join-org").input("CCAS")
    submit(at, "Rejoindre")
    assert "aucune séance n'a le code" in at.error[0].value


def test_projection_mode_shows_the_code_link_and_qr_code(demo_copy):
    store = sessions_store()
    from diagnostic.workspace import load_workspace
    code, claire = store.create_session("Numérique", "Claire", "CD", workspace=load_workspace(demo_copy).key)
    store.add_finding(claire, "Trop peu de conseillers numériques", "manque")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(SEANCES)
    at.query_params["projection"] = "1"  # opened in a new tab: no participant in this browser session
    at.query_params["seance"] = code
    at.run()
    assert not at.exception
    assert code in at.markdown[0].value and at.title[0].value == "Numérique"
    texts = page_texts(at)
    assert any(f"{code[:4]} {code[4:]}" in t and "pti-code" in t for t in texts)  # the code, very large
    assert at.get("image") and any(f"?seance={code}" in t.value for t in at.text)  # the QR code and the link
    assert any("Trop peu de conseillers numériques" in t for t in texts)
    assert not at.button  # nothing to click on the projected screen
    store.close_session(claire)
    at.run()
    assert any("Séance close" in w.value for w in at.warning)


def test_the_facilitators_address_does_not_give_the_role(demo_copy):
    at, code = create_in_page("Emploi")
    copied = {k: at.query_params[k] for k in at.query_params}
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    fresh.switch_page(SEANCES)
    for key, value in copied.items():
        fresh.query_params[key] = value
    fresh.query_params["jeton"] = sessions_store().participants_of(1)[0].token[:5]  # and a guessed token
    fresh.run()
    assert not fresh.exception
    assert fresh.title[0].value == "Séances de travail"  # the join form, nobody's identity
    labels = [b.label for b in fresh.button]
    assert labels[0] == "Rejoindre" and "Clore la séance" not in labels


def test_a_session_of_another_workspace_is_joined_with_its_code_alone(demo_copy, private_workspaces_root):
    import shutil
    second = private_workspaces_root / "second"
    shutil.copytree(demo_copy, second)
    meta = second / "workspace.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace("Département de démonstration", "Second"),
                    encoding="utf-8")
    at = open_page(SEANCES)
    at.selectbox(key="workspace").set_value(second).run()  # the facilitator opens it from the sidebar
    at, code = create_in_page("Atelier du second", at)
    from diagnostic.workspace import load_workspace
    assert sessions_store().session(code)["workspace"] == load_workspace(second).key
    fresh = open_page(SEANCES)  # a participant's new browser, on the default workspace
    assert fresh.selectbox(key="workspace").value != second
    fresh.text_input(key="join-code").input(code.lower())
    fresh.text_input(key="join-name").input("Alice")
    fresh.text_input(key="join-org").input("CAF")
    submit(fresh, "Rejoindre")
    assert fresh.title[0].value == "Atelier du second"
    assert fresh.selectbox(key="workspace").value == second  # the session's workspace was opened
    link = open_page(None)
    link.switch_page(SEANCES)
    link.query_params["seance"] = code  # the shared link
    link.run()
    assert [b.label for b in link.button][0] == "Rejoindre" and link.selectbox(key="workspace").value == second


def test_a_participant_reopening_the_page_on_the_same_device_keeps_its_identity(demo_copy):
    store = sessions_store()
    from diagnostic.workspace import load_workspace
    code, _ = store.create_session("Emploi", "Claire", "CD", workspace=load_workspace(demo_copy).key)
    alice = store.join(code, "Alice", "CAF")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(SEANCES)
    at.session_state["tokens"] = {code: alice.token}  # what the device's cookie gives back
    at.query_params["seance"] = code
    at.run()
    assert not at.exception and at.title[0].value == "Emploi"
    assert any("Vous : Alice (CAF)" in t for t in page_texts(at))


def test_length_limits_are_shown_and_enforced(demo_copy):
    at, code = create_in_page()
    assert at.text_area(key="finding-text").max_chars == 500  # the counter of the page
    at.text_area(key="finding-text").input("x" * 500)
    submit(at, "Ajouter le constat")
    assert len(sessions_store().ranking(sessions_store().session(code)["id"])[0]["text"]) == 500


def test_a_stakeholder_is_added_edited_removed_and_restored(demo_copy):
    at, code = create_in_page()
    form = at.tabs[2]
    form.text_input[0].input("CAF de l'Hérault")
    submit(at, "Ajouter le partenaire")
    store = sessions_store()
    session_id = store.session(code)["id"]
    row = store.stakeholders(session_id)[0]
    at.selectbox(key="stakeholder-choice").set_value(row["id"]).run()
    next(t for t in at.tabs[2].text_input if t.label == "Rôle dans le PTI").input("Co-pilote")
    submit(at, "Enregistrer le partenaire")
    assert store.stakeholders(session_id)[0]["data"]["role"] == "Co-pilote"
    submit(at, "Retirer ce partenaire")
    assert store.stakeholders(session_id) == []
    submit(at, "Restaurer « CAF de l'Hérault »")
    assert len(store.stakeholders(session_id)) == 1


@pytest.mark.parametrize("page", [None, TERRITOIRE, PROFIL, CATALOGUE, OFFRE, ZONES, EXPORT, SEANCES])
def test_pages_work_on_a_workspace_without_groupings(tmp_path, monkeypatch, page):
    from diagnostic.workspace import create_workspace
    ws = create_workspace(tmp_path / "ws", ROOT / "data" / "demo" / "communes.geojson",
                          ROOT / "data" / "demo" / "values.csv")
    monkeypatch.setenv("PTI_WORKSPACE", str(ws.path))
    at = open_page(page)
    assert at.selectbox(key="level").value == "commune"


def test_export_page_without_weasyprint_still_gives_the_tables(demo_copy, monkeypatch, tmp_path):
    fake = tmp_path / "weasyprint"  # what the PDF worker finds first: as on a machine without Pango
    fake.mkdir()
    (fake / "__init__.py").write_text("raise OSError('cannot load library libpango-1.0-0')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    at = open_page(EXPORT)
    at.button(key="export-prepare").click().run()
    assert not at.exception
    assert "Pango" in at.error[0].value
    assert len(at.get("download_button")) == 2  # Excel and CSV


@pytest.mark.parametrize("page", [PROFIL, OFFRE, ZONES])
def test_every_chart_speaks_french(demo_copy, page):
    at = open_page(page)
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert specs
    for spec in specs:
        assert spec["config"]["locale"]["number"]["decimal"] == ","
        assert spec["config"]["locale"]["time"]["months"][0] == "janvier"
        assert spec["config"]["axis"]["labelColor"] == "#31333f"


def test_the_stakeholder_chart_speaks_french():
    import pandas as pd
    from diagnostic.charts import stakeholder_chart
    spec = stakeholder_chart(pd.DataFrame({"name": ["CAF"], "influence": [4], "fit": [3], "impact": [2]})).to_dict()
    assert spec["config"]["locale"]["number"]["thousands"] == "\u202f"


@pytest.mark.parametrize("page, rows", [(TERRITOIRE, 200), (PROFIL, 5), (OFFRE, None), (ZONES, 200)])
def test_every_map_is_followed_by_its_text_version(page, rows):
    at = open_page(page)
    versions = [e for e in at.expander if e.label.startswith("Carte en version texte")]
    assert len(versions) == 1
    table = versions[0].dataframe[0].value
    assert len(table) == (rows if rows is not None else len(table)) and len(table) > 0
    assert not table.isin(["None", "nan"]).any().any()
