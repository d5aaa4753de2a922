"""Benchmark of the annex: time and peak memory of a whole process that builds the full PDF annex
of the demo département (imports included), then the Excel workbook and the CSV files.
Run: .venv/bin/python bench/bench_export.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

START = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostic.export.annex import AnnexChoice, annex_context, annex_tables, csv_zip  # noqa: E402
from diagnostic.export.excel import workbook_bytes  # noqa: E402
from diagnostic.export.pdf import TITLE, annex_pdf  # noqa: E402
from diagnostic.workspace import load_workspace  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    imported = time.perf_counter() - START
    ws = load_workspace()
    choice = AnnexChoice("Territoire d'action sociale")
    pdf = annex_pdf(ws, choice)
    total = time.perf_counter() - START
    print(f"Annexe PDF complète du département de démonstration : {total:.2f} s pour tout le processus "
          f"(dont {imported:.2f} s d'imports), pic mémoire {peak_mib():.0f} Mio, {len(pdf) / 1e6:.2f} Mo "
          f"(budget : 5 s et 300 Mio)")
    start = time.perf_counter()
    tables = annex_tables(ws, choice)
    workbook = workbook_bytes(tables, TITLE, annex_context(ws, choice))
    archive = csv_zip(tables, annex_context(ws, choice))
    print(f"Classeur Excel ({len(tables) + 1} feuilles) et CSV ({len(tables)} fichiers) : "
          f"{time.perf_counter() - start:.2f} s, {len(workbook) / 1e3:.0f} ko et {len(archive) / 1e3:.0f} ko")


if __name__ == "__main__":
    main()
