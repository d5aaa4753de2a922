"""Benchmark of the territory pages on a generated département (700 communes asked unless told).

Prints: map data sent by the Profil page (ours vs a naive folium layer), time for Chromium to paint
the map once warm, cold start to first page painted, and each page's AppTest time once warm.
Run: .venv/bin/python bench/bench_maps.py [communes]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import folium  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from diagnostic.maps import leaflet  # noqa: E402
from diagnostic.demo import write_demo  # noqa: E402
from diagnostic.profile import indicator_profile  # noqa: E402
from diagnostic.territory import display_geometry  # noqa: E402
from diagnostic.topology import encode  # noqa: E402
from diagnostic.workspace import load_workspace  # noqa: E402
from tests.browser import READY, dashboard, launch, map_frame  # noqa: E402

N_COMMUNES = int(sys.argv[1]) if len(sys.argv) > 1 else 700  # communes asked of the generator
PAGES = ["app.py", "pages/1_Territoire.py", "pages/2_Profil_socio-économique.py",
         "pages/3_Catalogue_des_indicateurs.py"]


def alone_paint(browser, url: str, html: str, expected_paths: int) -> float:
    """Seconds from its own start to every path drawn, for the map document opened on its own
    (served by the same server, so that its scripts come from the same place)."""
    file = ROOT / "static" / "_banc_carte.html"
    file.write_text(html, encoding="utf-8")
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 520})
        page.goto(f"{url}/app/static/{file.name}")
        drawn = page.wait_for_function(
            f"() => document.querySelectorAll('path.leaflet-interactive').length >= {expected_paths}"
            " && performance.now()", timeout=60_000).json_value() / 1000
        page.close()
        return drawn
    finally:
        file.unlink(missing_ok=True)


def map_payload(ws) -> tuple[int, int]:
    """Bytes of the Profil map at commune level as the page builds it, and a naive folium layer."""
    profile = indicator_profile(ws, "part_foyers_rsa", "commune")
    ours, _ = leaflet.profile_map(encode(display_geometry(ws.communes), "code_insee"), profile, "seuils")
    naive = folium.Map()
    folium.GeoJson(ws.communes.merge(profile.table[["value"]], left_on="code_insee", right_index=True)
                   .to_json(), style_function=lambda f: {"fillColor": "#f00"},
                   tooltip=folium.GeoJsonTooltip(["name", "value"])).add_to(naive)
    return len(ours.get_root().render().encode()), len(naive.get_root().render().encode())


def paint_time(page, url: str, expected_paths: int) -> tuple[float, float]:
    """Seconds from navigation to every commune path drawn by Leaflet, and from the map frame's
    own start (its navigation in the page) to the same moment."""
    start = time.perf_counter()
    page.goto(url)
    frame = None
    while frame is None:
        if time.perf_counter() - start > 60:
            raise RuntimeError("carte absente après 60 s")
        page.wait_for_timeout(50)
        frame = map_frame(page)
    drawn = frame.wait_for_function(
        f"() => document.querySelectorAll('path.leaflet-interactive').length >= {expected_paths}"
        " && performance.now()", timeout=60_000)
    return time.perf_counter() - start, drawn.json_value() / 1000


def apptest_warm(workspace: Path) -> dict[str, float]:
    import os

    from streamlit.testing.v1 import AppTest
    os.environ["PTI_WORKSPACE"] = str(workspace)
    times = {}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        if page != "app.py":
            at.switch_page(page)
        at.query_params["niveau"] = "commune"
        at.run()
        start = time.perf_counter()
        at.run()
        times[page] = time.perf_counter() - start
        assert not at.exception, at.exception
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / f"ws{N_COMMUNES}"
        start = time.perf_counter()
        write_demo(workspace, n_communes=N_COMMUNES, seed=7)
        print(f"Génération d'un département de {N_COMMUNES} communes demandées : {time.perf_counter() - start:.2f} s")
        ws = load_workspace(workspace)
        count = len(ws.communes)  # what the generator made of it
        print(f"{count} communes générées")
        ours, naive = map_payload(ws)
        print(f"Carte du profil (communes) : {ours / 1e6:.3f} Mo envoyés "
              f"(couche folium naïve : {naive / 1e6:.1f} Mo)")

        with sync_playwright() as p:
            browser = launch(p)
            start = time.perf_counter()
            with dashboard(workspace) as url:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.wait_for_selector(READY, timeout=60_000)
                page.wait_for_selector("h1", timeout=60_000)
                print(f"Démarrage à froid jusqu'à la première page affichée : "
                      f"{time.perf_counter() - start:.2f} s")
                profil = f"{url}/Profil_socio-économique?niveau=commune"
                cold, cold_frame = paint_time(page, profil, count)
                warm = [paint_time(browser.new_page(viewport={"width": 1400, "height": 1000}),
                                   profil, count) for _ in range(5)]
                page_s = sorted(w[0] for w in warm)[2]
                frame_s = sorted(w[1] for w in warm)[2]
                print(f"Carte du profil ({count} communes), première visite : page {cold:.2f} s, "
                      f"cadre de la carte {cold_frame:.2f} s")
                print(f"Carte du profil une fois en cache (médiane de 5) : cadre de la carte jusqu'aux "
                      f"{count} tracés {frame_s:.2f} s ; page entière {page_s:.2f} s")
                profile = indicator_profile(ws, "part_foyers_rsa", "commune")
                html = leaflet.profile_map(encode(display_geometry(ws.communes), "code_insee"), profile,
                                          "seuils")[0].get_root().render()
                in_page, alone = [], []
                for _ in range(5):  # interleaved: the map in its page, then the same document alone
                    in_page.append(paint_time(browser.new_page(viewport={"width": 1400, "height": 1000}),
                                              profil, count)[1])
                    alone.append(alone_paint(browser, url, html, count))
                mine, theirs = sorted(in_page)[2], sorted(alone)[2]
                print(f"Carte dans la page (cadre → {count} tracés) {mine:.2f} s — le même document seul "
                      f"{theirs:.2f} s — rapport {mine / theirs:.2f} (budget 1,3)")
            browser.close()

        for page, seconds in apptest_warm(workspace).items():
            print(f"AppTest à chaud, {page} : {seconds:.3f} s")
        print(json.dumps({"communes": count, "map_bytes": ours, "naive_map_bytes": naive}))


if __name__ == "__main__":
    main()
