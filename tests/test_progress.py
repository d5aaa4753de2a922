"""The guided path: each step's status follows what the workspace holds, on the home page too."""

import os
import time
from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from diagnostic.access.white_zones import CoverageParams
from diagnostic.access.grid import import_grid
from diagnostic.progress import DONE, MISSING, OUTDATED, diagnostic_steps
from diagnostic.offer_import import import_offer
from diagnostic.workspace import import_indicators, load_workspace, save_retained_coverage
from tests.workspaces import small_workspace

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 1)


def statuses(path, sessions=0):
    return {s.name: s.status for s in diagnostic_steps(load_workspace(path), sessions, TODAY)}


def test_statuses_follow_the_workspace(tmp_path):
    path = small_workspace(tmp_path)
    assert statuses(path) == {"Territoire": DONE, "Indicateurs": MISSING, "Offre d'insertion": MISSING,
                              "Transport public": MISSING, "Réseau et lieux de vie": MISSING, "Zones blanches": MISSING,
                              "Séances de travail": MISSING, "Annexe du pacte": MISSING}
    table = tmp_path / "filosofi.csv"
    table.write_text("CODGEO;NBPERSMENFISC21;TP6021\n34001;1800;12,0\n34002;1300;10,0\n34144;800;20,0\n",
                     encoding="utf-8")
    import_indicators(path, table)
    assert statuses(path)["Indicateurs"] == OUTDATED  # Filosofi 2021 is more than three years old
    offer = tmp_path / "offre.csv"
    offer.write_text("nom,thematiques,code_insee,date_maj\nAtelier,numerique,34001,2026-06-01\n", encoding="utf-8")
    import_offer(load_workspace(path), offer)
    assert statuses(path)["Offre d'insertion"] == DONE
    save_retained_coverage(path, [CoverageParams(themes=("numerique",), max_km=10)])
    assert statuses(path)["Zones blanches"] == DONE
    time.sleep(0.01)
    os.utime(path / "offer.csv")  # the offer changes after the settings were retained
    assert statuses(path)["Zones blanches"] == OUTDATED
    done = statuses(path, sessions=1)
    assert done["Séances de travail"] == DONE and done["Annexe du pacte"] == DONE  # roads and cells are optional
    from tests.test_grid import official_csv
    import_grid(path, official_csv(tmp_path / "carreaux.csv"), load_workspace(path).communes)
    steps = {s.name: s for s in diagnostic_steps(load_workspace(path), 1, TODAY)}
    assert steps["Réseau et lieux de vie"].status == MISSING and "4 carreaux Filosofi" in steps["Réseau et lieux de vie"].detail
    assert "l'extrait OpenStreetMap" in steps["Réseau et lieux de vie"].detail


def test_home_page_shows_the_steps_with_links(tmp_path, monkeypatch):
    monkeypatch.setenv("PTI_WORKSPACE", str(small_workspace(tmp_path)))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert any(t.startswith("**À faire** — Aucun indicateur en dehors de la population") for t in texts)
    assert any(t.startswith("**Fait** — 3 communes, niveaux : TAS") for t in texts)
