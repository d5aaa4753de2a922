"""Benchmark of the pages: cold start beside a trivial Streamlit app, and every page's warm rerun.

Prints the cold start (server launched → home page title painted in Chromium, and → page complete),
medians of 3 runs interleaved with a one-line Streamlit app launched the same way, with their ratio;
then, per page, the median of 5 AppTest reruns once the page has run twice (caches warm) and its
ratio to the home page measured in the same run.
Run: .venv/bin/python bench/bench_pages.py [WORKSPACE]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from diagnostic.workspace import DEMO_WORKSPACE  # noqa: E402
from ui import PAGES  # noqa: E402

RUNS = 5
TRIVIAL = 'import streamlit as st\nst.title("Bonjour")\n'


def cold_start(app: Path, workspace: Path, browser) -> tuple[float, float]:
    """Seconds from launching `streamlit run app` to its title painted, and to the page complete."""
    from tests.browser import READY, free_port

    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env={**os.environ, "PTI_WORKSPACE": str(workspace)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("h1", timeout=120_000)
        painted = time.perf_counter() - start
        page.wait_for_selector(READY, timeout=120_000)
        return painted, time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(10)


def warm_rerun(page: str) -> float:
    """Median seconds of a rerun of `page` once it has run twice."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    at.run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    seconds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        at.run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_WORKSPACE
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / source.name
        shutil.copytree(source, workspace)
        os.environ["PTI_WORKSPACE"] = str(workspace)
        trivial = Path(tmp) / "trivial.py"
        trivial.write_text(TRIVIAL, encoding="utf-8")
        from playwright.sync_api import sync_playwright

        from tests.browser import launch
        ours, anchor = [], []
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for _ in range(3):
                ours.append(cold_start(ROOT / "app.py", workspace, browser))
                anchor.append(cold_start(trivial, workspace, browser))
            browser.close()
        for i, what in enumerate(("titre affiché", "page complète")):
            mine, theirs = statistics.median(r[i] for r in ours), statistics.median(r[i] for r in anchor)
            print(f"Démarrage à froid, {what} : {mine:.2f} s — application Streamlit d'une ligne {theirs:.2f} s — "
                  f"rapport {mine / theirs:.2f}")
        home = warm_rerun("app.py")
        for page, label, _ in PAGES:
            seconds = home if page == "app.py" else warm_rerun(page)
            print(f"AppTest à chaud, {label} : {seconds:.3f} s — accueil {home:.3f} s — rapport {seconds / home:.1f}"
                  f"{' (budget 0,3 s dépassé)' if seconds > 0.3 else ''}")


if __name__ == "__main__":
    main()
