"""The sessions' store, on SQLite always and on PostgreSQL when $PTI_TEST_DATABASE_URL is set."""

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from diagnostic.errors import InputError
from diagnostic.store import StaleEdit, Store

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


def test_session_join_and_isolation(store):
    code, animateur = store.create_session("Mobilité — Territoire du Centre", "Claire", "Conseil départemental",
                                           theme="mobilite", territory="Territoire du Centre")
    assert len(code) == 6 and store.session(code.lower())["title"].startswith("Mobilité")
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

    threads = [threading.Thread(target=work, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
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
    assert store.session_code(alice.session_id) == code
