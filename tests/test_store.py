"""The sessions' store, on SQLite always and on PostgreSQL when $PTI_TEST_DATABASE_URL is set."""

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from diagnostic.errors import InputError
from diagnostic.sessions.store import StaleEdit, Store

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("PTI_TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'seances.sqlite'}")
        return
    base = os.environ["PTI_TEST_DATABASE_URL"]
    name = f"pti_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    yield Store(url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def at_once(function, arguments) -> None:
    """Run `function` on every argument in its own thread, all at the same time."""
    threads = [threading.Thread(target=function, args=(a,)) for a in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_session_join_and_isolation(store):
    code, animateur = store.create_session("Mobilité — Territoire du Centre", "Claire", "Conseil départemental",
                                           theme="mobilite", territory="Territoire du Centre")
    assert len(code) == 8 and store.session(f" {code[:4].lower()}-{code[4:]} ")["title"].startswith("Mobilité")
    alice = store.join(code, "Alice", "CAF")
    other_code, _ = store.create_session("Numérique", "Paul", "DDETS")
    bob = store.join(other_code, "Bob", "France Travail")
    store.add_finding(alice, "Pas de transport le samedi", "manque", "mobilite")
    store.add_finding(bob, "Peu de conseillers numériques", "besoin")
    assert [f["text"] for f in store.ranking(animateur.session_id)] == ["Pas de transport le samedi"]
    finding = store.ranking(alice.session_id)[0]
    assert (finding["author"], finding["organisation"]) == ("Alice", "CAF") and finding["created_at"]
    with pytest.raises(InputError, match="aucune séance"):
        store.join("ZZZZZZ", "Eve", "X")
    with pytest.raises(InputError, match="vous avez déjà voté|n'existe pas"):
        store.vote(alice, store.ranking(bob.session_id)[0]["id"])  # another session's finding


def test_dot_voting_allowance_and_ranking(store):
    code, animateur = store.create_session("Séance", "Claire", "CD", votes_per_participant=2)
    alice = store.join(code, "Alice", "CAF")
    ids = [store.add_finding(alice, f"Constat {i}", "besoin") for i in range(3)]
    store.vote(alice, ids[2])
    with pytest.raises(InputError, match="déjà voté"):
        store.vote(alice, ids[2])
    store.vote(alice, ids[1])
    with pytest.raises(InputError, match="vos 2 votes"):
        store.vote(alice, ids[0])
    store.vote(animateur, ids[1])
    assert [(f["id"], f["votes"]) for f in store.ranking(alice.session_id)] == [(ids[1], 2), (ids[2], 1), (ids[0], 0)]
    store.unvote(alice, ids[2])
    assert store.votes_left(alice) == 1


def test_soft_delete_and_restore(store):
    code, animateur = store.create_session("Séance", "Claire", "CD")
    fid = store.add_finding(animateur, "Constat", "ressource")
    store.delete_finding(animateur, fid)
    assert store.ranking(animateur.session_id) == []
    deleted = store.ranking(animateur.session_id, include_deleted=True)[0]
    assert deleted["deleted_by"] == "Claire" and deleted["text"] == "Constat"
    store.restore_finding(animateur, fid)
    assert [f["id"] for f in store.ranking(animateur.session_id)] == [fid]
    sid = store.add_sheet(animateur, {"title": "Garage solidaire"})
    store.delete_sheet(animateur, sid)
    assert store.sheets(animateur.session_id) == [] and len(store.sheets(animateur.session_id, True)) == 1
    store.restore_sheet(animateur, sid)
    assert len(store.sheets(animateur.session_id)) == 1


def test_stale_edit_on_an_action_sheet_is_refused_with_both_versions(store):
    code, animateur = store.create_session("Séance", "Claire", "CD")
    alice = store.join(code, "Alice", "CAF")
    sheet = store.add_sheet(animateur, {"title": "Plateforme mobilité", "pilot": "CD"})
    assert store.update_sheet(alice, sheet, 1, {"title": "Plateforme mobilité", "pilot": "CAF"}) == 2
    with pytest.raises(StaleEdit) as stale:
        store.update_sheet(animateur, sheet, 1, {"title": "Plateforme mobilité", "pilot": "Région"})
    assert stale.value.current["pilot"] == "CAF" and stale.value.yours["pilot"] == "Région"
    assert stale.value.current_version == 2
    assert [h["data"]["pilot"] for h in store.history(sheet)] == ["CD", "CAF"]
    assert [h["author"] for h in store.history(sheet)] == ["Claire", "Alice"]


def test_closed_session_is_read_only(store):
    code, animateur = store.create_session("Séance", "Claire", "CD")
    alice = store.join(code, "Alice", "CAF")
    store.add_finding(alice, "Avant", "besoin")
    with pytest.raises(InputError, match="animateur"):
        store.close_session(alice)
    store.close_session(animateur)
    with pytest.raises(InputError, match="close"):
        store.add_finding(alice, "Après", "besoin")
    assert len(store.ranking(alice.session_id)) == 1


def test_stakeholders_and_cooperation_modes(store):
    code, animateur = store.create_session("Séance", "Claire", "CD")
    sid = store.save_stakeholder(animateur, {"name": "CAF", "mission": "Prestations", "fit": 5, "impact": 3,
                                             "influence": 4, "modes": {"diagnostic": "co-construction"}})
    row = store.stakeholders(animateur.session_id)[0]
    assert row["data"]["modes"] == {"diagnostic": "co-construction", "mise_en_oeuvre": "information",
                                    "evaluation": "information"}
    with pytest.raises(InputError, match="note de 1 à 5"):
        store.save_stakeholder(animateur, {"name": "X", "fit": 9, "impact": 1, "influence": 1})
    store.save_stakeholder(animateur, {**row["data"], "influence": 5}, sid, 1)
    with pytest.raises(StaleEdit):
        store.save_stakeholder(animateur, {**row["data"], "influence": 2}, sid, 1)
    store.delete_stakeholder(animateur, sid)
    assert store.stakeholders(animateur.session_id) == []


def test_twenty_writers_at_once_lose_nothing(store):
    code, animateur = store.create_session("Séance", "Claire", "CD", votes_per_participant=50)
    seed = [store.add_finding(animateur, f"Constat de départ {i}", "besoin") for i in range(50)]
    writers = [store.join(code, f"Participant {i}", f"Organisation {i}") for i in range(20)]
    errors = []

    def work(who):
        try:
            for i in range(50):
                store.add_finding(who, f"{who.name} — constat {i}", "besoin")
                store.vote(who, seed[i])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    at_once(work, writers)
    assert errors == []
    ranking = store.ranking(animateur.session_id)
    assert len(ranking) == 50 + 20 * 50
    assert len({f["text"] for f in ranking}) == len(ranking)
    assert {f["id"]: f["votes"] for f in ranking if f["id"] in seed} == {i: 20 for i in seed}


def test_a_participant_is_found_again_by_its_token(store):
    code, claire = store.create_session("Séance", "Claire", "CD")
    alice = store.join(code, "Alice", "CAF")
    assert store.participant(alice.token) == alice and store.participant(claire.token).facilitator
    assert store.participant("inconnu") is None
    assert store.session_by_id(alice.session_id)["code"] == code


# --- the rules, enforced by the store whatever calls it ---------------------------------------

def test_a_forged_participant_gets_nothing(store):
    from dataclasses import replace
    code, claire = store.create_session("Séance", "Claire", "CD")
    alice = store.join(code, "Alice", "CAF")
    promoted = replace(alice, facilitator=True)  # the object claims the role; the database does not
    with pytest.raises(InputError, match="animateur"):
        store.close_session(promoted)
    with pytest.raises(InputError, match="inconnu"):
        store.add_finding(replace(alice, token="invente"), "Faux", "besoin")
    with pytest.raises(InputError, match="inconnu"):
        store.add_finding(replace(claire, id=alice.id), "Usurpé", "besoin")  # another id with Claire's secret
    with pytest.raises(InputError, match="inconnu"):
        store.vote(replace(alice, id=claire.id, token=alice.token), 1)
    assert store.ranking(alice.session_id) == []


def test_items_of_another_session_cannot_be_touched(store):
    code, claire = store.create_session("Séance A", "Claire", "CD")
    other_code, paul = store.create_session("Séance B", "Paul", "DDETS")
    intruder = store.join(other_code, "Eve", "X")
    sheet = store.add_sheet(claire, {"title": "Garage solidaire"})
    partner = store.save_stakeholder(claire, {"name": "CAF", "fit": 3, "impact": 3, "influence": 3})
    finding = store.add_finding(claire, "Constat de A", "besoin")
    for action in (lambda: store.update_sheet(intruder, sheet, 1, {"title": "Piraté"}),
                   lambda: store.save_stakeholder(intruder, {"name": "Piraté", "fit": 1, "impact": 1,
                                                             "influence": 1}, partner, 1),
                   lambda: store.delete_sheet(paul, sheet), lambda: store.delete_finding(paul, finding),
                   lambda: store.delete_stakeholder(intruder, partner), lambda: store.vote(intruder, finding)):
        with pytest.raises(InputError):
            action()
    assert store.sheets(claire.session_id)[0]["data"]["title"] == "Garage solidaire"
    assert store.stakeholders(claire.session_id)[0]["data"]["name"] == "CAF"
    assert len(store.ranking(claire.session_id)) == 1


def test_only_the_author_or_a_facilitator_removes_and_restores(store):
    code, claire = store.create_session("Séance", "Claire", "CD")
    alice, bob = store.join(code, "Alice", "CAF"), store.join(code, "Bob", "CCAS")
    mine = store.add_finding(alice, "Constat d'Alice", "besoin")
    sheet = store.add_sheet(alice, {"title": "Fiche d'Alice"})
    with pytest.raises(InputError, match="auteur"):
        store.delete_finding(bob, mine)
    with pytest.raises(InputError, match="auteur"):
        store.delete_sheet(bob, sheet)
    store.delete_finding(alice, mine)  # the author
    with pytest.raises(InputError, match="auteur"):
        store.restore_finding(bob, mine)
    store.restore_finding(claire, mine)  # the facilitator
    store.delete_sheet(claire, sheet)
    assert store.sheets(claire.session_id) == [] and len(store.ranking(claire.session_id)) == 1


def test_a_closed_session_is_read_only_for_everyone(store):
    code, claire = store.create_session("Séance", "Claire", "CD")
    alice = store.join(code, "Alice", "CAF")
    finding = store.add_finding(alice, "Avant", "besoin")
    sheet = store.add_sheet(claire, {"title": "Fiche"})
    store.close_session(claire)
    for action in (lambda: store.add_finding(claire, "Après", "besoin"), lambda: store.vote(claire, finding),
                   lambda: store.update_sheet(claire, sheet, 1, {"title": "Modifiée"}),
                   lambda: store.delete_finding(claire, finding), lambda: store.add_sheet(alice, {"title": "x"}),
                   lambda: store.save_stakeholder(claire, {"name": "CAF", "fit": 3, "impact": 3, "influence": 3})):
        with pytest.raises(InputError, match="close"):
            action()


def test_rejoining_from_the_same_device_keeps_the_identity_and_its_votes(store):
    code, claire = store.create_session("Séance", "Claire", "CD", votes_per_participant=1)
    finding = store.add_finding(claire, "Constat", "besoin")
    alice = store.join(code, "Alice", "CAF")
    store.vote(alice, finding)
    again = store.join(code, "Alice bis", "CAF", token=alice.token)  # the device's cookie
    assert again == alice and store.votes_left(again) == 0
    other_code, _ = store.create_session("Autre", "Paul", "DDETS")
    elsewhere = store.join(other_code, "Alice", "CAF", token=alice.token)  # a token of another session
    assert elsewhere.id != alice.id


def test_forty_concurrent_votes_stay_within_the_allowance(store):
    code, claire = store.create_session("Séance", "Claire", "CD", votes_per_participant=3)
    alice = store.join(code, "Alice", "CAF")
    ids = [store.add_finding(claire, f"Constat {i}", "besoin") for i in range(40)]
    refused = []

    def click(finding_id):
        try:
            store.vote(alice, finding_id)
        except InputError:
            refused.append(finding_id)

    at_once(click, ids)
    assert store.votes_left(alice) == 0 and len(store.my_votes(alice)) == 3 and len(refused) == 37


def test_join_attempts_are_rate_limited_per_client_and_per_session(store):
    code, _ = store.create_session("Séance", "Claire", "CD")
    for i in range(10):
        with pytest.raises(InputError, match="aucune séance"):
            store.join(f"ZZZZZZZ{i}", "Eve", "X", client="robot")
    with pytest.raises(InputError, match="trop d'essais"):
        store.join(code, "Eve", "X", client="robot")  # even the right code, for a minute
    store.join(code, "Alice", "CAF", client="alice")  # others are not blocked
    for i in range(59):
        store.join(code, f"P{i}", "X", client=f"c{i}")
    with pytest.raises(InputError, match="trop d'essais"):
        store.join(code, "Bob", "X", client="bob")  # 60 attempts on this session in a minute


def test_texts_have_limits_and_control_characters_are_removed(store):
    code, claire = store.create_session("Séance", "Claire", "CD")
    with pytest.raises(InputError, match="500 caractères"):
        store.add_finding(claire, "x" * 501, "besoin")
    with pytest.raises(InputError, match="3000 caractères"):
        store.add_sheet(claire, {"title": "Fiche", "objectives": "y" * 3001})
    with pytest.raises(InputError, match="80 caractères"):
        store.join(code, "n" * 81, "CAF")
    fid = store.add_finding(claire, "Ligne 1\x0bLigne 2 **gras** ![img](http://x/y.png)", "besoin")
    assert store.ranking(claire.session_id)[0]["text"] == "Ligne 1 Ligne 2 **gras** ![img](http://x/y.png)"
    assert fid


def test_the_facilitator_hands_over_or_shares_the_role(store):
    code, claire = store.create_session("Séance", "Claire", "CD")
    alice = store.join(code, "Alice", "CAF")
    with pytest.raises(InputError, match="animateur"):
        store.set_facilitator(alice, alice.id)
    store.set_facilitator(claire, alice.id)
    alice = store.participant(alice.token)
    assert alice.facilitator
    store.set_facilitator(alice, claire.id, False)  # handed over
    assert not store.participant(claire.token).facilitator
    with pytest.raises(InputError, match="au moins un animateur"):
        store.set_facilitator(alice, alice.id, False)
    store.close_session(alice)


def test_codes_are_unique_across_workspaces(store):
    codes = {store.create_session(f"S{i}", "Claire", "CD", workspace=f"/ws/{i % 2}")[0] for i in range(30)}
    assert len(codes) == 30
    from diagnostic.sessions.store import all_sessions
    assert len(all_sessions(store, "/ws/0")) == 15 and len(all_sessions(store)) == 30
    assert store.session(sorted(codes)[0])["workspace"] in ("/ws/0", "/ws/1")


def test_a_database_of_the_first_schema_is_upgraded_in_place(tmp_path):
    from sqlalchemy import MetaData, Table, insert

    from diagnostic.sessions import schema
    old = MetaData()
    for table in schema.metadata.sorted_tables:  # the tables as version 1 wrote them
        added = {name for name, _ in schema.ADDED_COLUMNS.get(table.name, [])}
        if table.name != "join_attempts":
            columns = [c.copy() for c in list(table.columns) if c.name not in added]
            Table(table.name, old, *columns)
    url = f"sqlite:///{tmp_path / 'ancienne.sqlite'}"
    engine = create_engine(url)
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(old.tables["sessions"]).values(code="ABC234", title="Ancienne", author="A",
                                                           organisation="B", theme="", territory=""))
    store = Store(url)
    assert store.session("abc234")["workspace"] == ""
    code, claire = store.create_session("Nouvelle", "Claire", "CD", workspace="/ws")
    assert store.add_sheet(claire, {"title": "Fiche"}) and store.session(code)["workspace"] == "/ws"
