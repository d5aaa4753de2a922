"""A working-group session survives its PostgreSQL server going down: a French message, the text
being typed kept, and the page recovers once the server is back (own throw-away cluster)."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
pytestmark = pytest.mark.skipif(not INITDB, reason="PostgreSQL (paquet Debian postgresql) absent")


def as_postgres(command: str) -> None:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        subprocess.run(["su", "postgres", "-c", command], check=True, capture_output=True)
    else:
        subprocess.run(command, shell=True, check=True, capture_output=True)


@pytest.fixture
def cluster():
    data = Path(tempfile.mkdtemp(prefix="pti-pg-"))  # outside pytest's folder, which postgres cannot enter
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bin_dir = Path(INITDB[-1]).parent
    as_postgres(f"{bin_dir}/initdb -D {data} -A trust -U postgres")
    start = f"{bin_dir}/pg_ctl -D {data} -o '-p {port} -k /tmp -c listen_addresses=127.0.0.1' -l {data}/log -w start"
    stop = f"{bin_dir}/pg_ctl -D {data} -m fast -w stop"
    as_postgres(start)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", lambda: as_postgres(stop), \
            lambda: as_postgres(start)
    finally:
        subprocess.run(["su", "postgres", "-c", stop] if os.geteuid() == 0 else stop, shell=os.geteuid() != 0,
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_the_page_keeps_the_text_and_recovers_when_postgresql_is_back(demo_copy, cluster, monkeypatch):
    url, stop, start = cluster
    monkeypatch.setenv("PTI_DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/7_Seances.py")
    at.run()
    at.text_input(key="new-title").input("Séance sous panne")
    at.text_input(key="new-name").input("Claire")
    at.text_input(key="new-org").input("CD")
    next(b for b in at.button if b.label == "Créer la séance").click().run()
    assert at.title[0].value == "Séance sous panne"
    stop()
    at.text_area(key="finding-text").input("Écrit pendant la panne")
    next(b for b in at.button if b.label == "Ajouter le constat").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("momentanément inaccessible" in e.value for e in at.error)
    assert not any("Traceback" in e.value or "psycopg" in e.value for e in at.error)
    start()
    at.run()  # what the page's automatic retry does every 3 seconds
    assert at.title[0].value == "Séance sous panne"
    assert at.text_area(key="finding-text").value == "Écrit pendant la panne"  # nothing typed is lost
    next(b for b in at.button if b.label == "Ajouter le constat").click().run()
    from diagnostic.sessions.store import Store
    store = Store(url)
    assert [f["text"] for f in store.ranking(store.session(at.query_params["seance"])["id"])] == \
        ["Écrit pendant la panne"]
