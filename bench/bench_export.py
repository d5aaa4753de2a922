"""Benchmark of the annex beside a plain WeasyPrint document of the same page count.

Each measure is a whole process (imports included), run in turn with its anchor 3 times: the demo's
full PDF annex, and a plain document with, on each page, a heading, a paragraph and a 25-row table.
Prints medians of time and peak memory and their ratios, then the Excel workbook and the CSV files;
with --communes N…, the annex of generated départements of about N communes beside the demo's.
Run: .venv/bin/python bench/bench_export.py [runs] [--communes 800 2300]
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def annex(path: str | None = None) -> dict:
    """The annex of a workspace (the demo's by default) in this process: seconds, peak memory, pages."""
    start = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from diagnostic.export.annex import AnnexChoice
    from diagnostic.export.pdf import annex_pdf
    from diagnostic.workspace import load_workspace

    pdf = annex_pdf(load_workspace(path), AnnexChoice("Territoire d'action sociale"))
    seconds, mib = time.perf_counter() - start, peak_mib()
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    return {"seconds": seconds, "mib": mib, "pages": pages}


def plain(pages: int) -> dict:
    """A plain document of `pages` pages (a heading, a paragraph, a 25-row table each)."""
    start = time.perf_counter()
    from weasyprint import HTML

    rows = "".join(f"<tr><td>Commune {i}</td><td>{i * 137}</td><td>{i % 7},{i % 10}</td></tr>" for i in range(25))
    body = "".join(f"<section style='page-break-after: always'><h2>Partie {p}</h2><p>Un paragraphe de texte qui "
                   f"présente le tableau de la page.</p><table><tr><th>Nom</th><th>Effectif</th><th>Taux</th></tr>"
                   f"{rows}</table></section>" for p in range(pages))
    pdf = HTML(string=f"<html lang='fr'><body>{body}</body></html>").write_pdf()
    return {"seconds": time.perf_counter() - start, "mib": peak_mib(), "bytes": len(pdf)}


def measured(*args: str) -> dict:
    """One run of this script in its own process."""
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def sizes(runs: int, wanted: list[int]) -> None:
    """The annex of generated départements beside the demo's, in turn, medians of `runs`."""
    sys.path.insert(0, str(ROOT))
    from diagnostic.demo import write_demo
    from diagnostic.workspace import load_workspace

    with tempfile.TemporaryDirectory() as folder:
        for n in wanted:
            path = Path(folder) / f"dep{n}"
            write_demo(path, n_communes=n, seed=7)
            communes = len(load_workspace(path).communes)
            demo, big = [], []
            for _ in range(runs):
                demo.append(measured("--annex"))
                big.append(measured("--annex", str(path)))
            for key, unit in (("seconds", "s"), ("mib", "Mio")):
                mine, theirs = statistics.median(r[key] for r in big), statistics.median(r[key] for r in demo)
                print(f"Annexe PDF d'un département de {communes} communes ({big[0]['pages']} pages), {key} : "
                      f"{mine:.2f} {unit} — démo {theirs:.2f} {unit} — rapport {mine / theirs:.2f}")


def main(runs: int) -> None:
    pages = measured("--annex")["pages"]
    ours, anchor = [], []
    for _ in range(runs):
        ours.append(measured("--annex"))
        anchor.append(measured("--plain", str(pages)))
    for key, unit, budget in (("seconds", "s", "≤ 2 ×"), ("mib", "Mio", "≤ 250 Mio")):
        mine, theirs = statistics.median(r[key] for r in ours), statistics.median(r[key] for r in anchor)
        print(f"Annexe PDF de la démo ({pages} pages), processus entier, {key} : {mine:.2f} {unit} — document simple "
              f"de {pages} pages {theirs:.2f} {unit} — rapport {mine / theirs:.2f} (budget {budget})")
    sys.path.insert(0, str(ROOT))
    from diagnostic.export.annex import AnnexChoice, annex_context, annex_tables, csv_zip
    from diagnostic.export.excel import workbook_bytes
    from diagnostic.export.pdf import TITLE
    from diagnostic.workspace import load_workspace

    ws, choice = load_workspace(), AnnexChoice("Territoire d'action sociale")
    start = time.perf_counter()
    tables = annex_tables(ws, choice)
    workbook = workbook_bytes(tables, TITLE, annex_context(ws, choice))
    archive = csv_zip(tables, annex_context(ws, choice))
    print(f"Classeur Excel ({len(tables) + 1} feuilles) et CSV ({len(tables)} fichiers) : "
          f"{time.perf_counter() - start:.2f} s, {len(workbook) / 1e3:.0f} ko et {len(archive) / 1e3:.0f} ko")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--annex"]:
        print(json.dumps(annex(*sys.argv[2:3])))
    elif sys.argv[1:2] == ["--plain"]:
        print(json.dumps(plain(int(sys.argv[2]))))
    else:
        args = sys.argv[1:]
        wanted = [int(n) for n in args[args.index("--communes") + 1:]] if "--communes" in args else []
        count = int(args[0]) if args and args[0].isdigit() else 3
        if wanted:
            sizes(count, wanted)
        else:
            main(count)
