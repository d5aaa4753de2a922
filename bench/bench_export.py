"""Benchmark of the annex beside a plain WeasyPrint document of the same page count.

Each measure is a whole process, from the interpreter's start to its exit, run in turn with its anchor:
the command a user runs (``python -m diagnostic export --format pdf``, the demo's full annex, with an
empty sessions database of its own) and a plain document with, on each page, a heading, a paragraph and
a 25-row table. Time is the wall clock of the process, memory the peak of its resident size plus its workers'
(the PDF is laid out by a worker process). Prints medians and their ratios, then
the Excel workbook and the CSV files; with --communes N…, the annex of generated départements of about
N communes beside the demo's.
Run: .venv/bin/python bench/bench_export.py [runs] [--communes 800 2300]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_mib(pid: int) -> float:
    """Resident memory (MiB) of a process and of the processes it started, now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def whole_process(command: list[str], env: dict | None = None) -> dict:
    """Wall time (s) of a command from its start to its exit, and its peak memory (MiB): the peak of
    the sum of its own resident memory and its workers', sampled every 10 ms, or the kernel's peak of
    the process alone when that is higher."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak, done = [0.0], threading.Event()

        def sample() -> None:
            while not done.wait(0.01):
                peak[0] = max(peak[0], tree_mib(process.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} a échoué :\n{text}")
    return {"seconds": seconds, "mib": max(peak[0], usage.ru_maxrss / 1024)}


def annex(workspace: str | None = None) -> dict:
    """The annex, as a user exports it: a whole `python -m diagnostic export` process."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PTI_WORKSPACES_DIR": folder}
        env.pop("PTI_DATABASE_URL", None)
        pdf = Path(folder) / "annexe.pdf"
        command = [sys.executable, "-m", "diagnostic", "export", "--format", "pdf", "--out", str(pdf)]
        result = whole_process(command + (["--workspace", workspace] if workspace else []), env)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    result["pages"] = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    return result


def plain(pages: int) -> dict:
    """A plain document of `pages` pages (a heading, a paragraph, a 25-row table each), in this process."""
    from weasyprint import HTML

    rows = "".join(f"<tr><td>Commune {i}</td><td>{i * 137}</td><td>{i % 7},{i % 10}</td></tr>" for i in range(25))
    body = "".join(f"<section style='page-break-after: always'><h2>Partie {p}</h2><p>Un paragraphe de texte qui "
                   f"présente le tableau de la page.</p><table><tr><th>Nom</th><th>Effectif</th><th>Taux</th></tr>"
                   f"{rows}</table></section>" for p in range(pages))
    pdf = HTML(string=f"<html lang='fr'><body>{body}</body></html>").write_pdf()
    return {"bytes": len(pdf)}


def anchor(pages: int) -> dict:
    """The plain document, as a whole process."""
    return whole_process([sys.executable, __file__, "--plain", str(pages)])


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
                demo.append(annex())
                big.append(annex(str(path)))
            for key, unit in (("seconds", "s"), ("mib", "Mio")):
                mine, theirs = statistics.median(r[key] for r in big), statistics.median(r[key] for r in demo)
                print(f"Annexe PDF d'un département de {communes} communes ({big[0]['pages']} pages), {key} : "
                      f"{mine:.2f} {unit} — démo {theirs:.2f} {unit} — rapport {mine / theirs:.2f}")


def main(runs: int) -> None:
    pages = annex()["pages"]
    ours, plains = [], []
    for _ in range(runs):
        ours.append(annex())
        plains.append(anchor(pages))
    for key, unit, budget in (("seconds", "s", "≤ 2 ×"), ("mib", "Mio", "≤ 250 Mio")):
        mine, theirs = statistics.median(r[key] for r in ours), statistics.median(r[key] for r in plains)
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
    responsiveness(ws, choice, runs)


def responsiveness(ws, choice, runs: int) -> None:
    """Another user's work on the server (300 aggregations of an indicator) alone, then while an annex
    is laid out in a thread of the same process (as before the worker), then by the worker."""
    from weasyprint import HTML

    from diagnostic.export.pdf import annex_html
    from diagnostic.export.typeset import TEMPLATES, typeset
    from diagnostic.indicators import aggregate
    from diagnostic.territory import group_of

    html = annex_html(ws, choice)
    groups, indicator = group_of(ws.communes, ws.groupings, choice.level), ws.catalogue["taux_pauvrete"]

    def other_user() -> float:
        start = time.perf_counter()
        for _ in range(300):
            aggregate(ws.values, groups, indicator)
        return time.perf_counter() - start

    def during(layout, delay: float) -> float:  # delay: the worker loads WeasyPrint first
        thread = threading.Thread(target=layout)
        thread.start()
        time.sleep(delay)
        seconds = other_user()
        thread.join()
        return seconds

    other_user()
    alone, inside, worker = [], [], []
    for _ in range(runs):
        alone.append(other_user())
        inside.append(during(lambda: HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_variant="pdf/ua-1"),
                             0.3))
        worker.append(during(lambda: typeset(html), 1.2))
    base = statistics.median(alone)
    for label, measures in (("annexe mise en page dans le même processus", inside),
                            ("annexe mise en page par son processus à part", worker)):
        print(f"Travail d'un autre utilisateur du serveur pendant une {label} : {statistics.median(measures):.2f} s "
              f"— seul {base:.2f} s — rapport {statistics.median(measures) / base:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--plain"]:
        print(json.dumps(plain(int(sys.argv[2]))))
    else:
        args = sys.argv[1:]
        wanted = [int(n) for n in args[args.index("--communes") + 1:]] if "--communes" in args else []
        count = int(args[0]) if args and args[0].isdigit() else 3
        if wanted:
            sizes(count, wanted)
        else:
            main(count)
