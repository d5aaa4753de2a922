"""The PDF laid out by WeasyPrint in a process of its own.

A short-lived worker (``python -m diagnostic.export.typeset``) reads the annex's HTML on its input
and writes the PDF on its output. The app's server keeps answering the other users while an annex is
laid out (the worker does not share its interpreter lock), the memory of the layout is given back
when the worker ends, its time and memory are bounded, and it is started before the HTML is ready so
that loading WeasyPrint overlaps the computation of the tables.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from diagnostic.errors import InputError

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = Path(__file__).parent / "templates"
MAX_SECONDS = 600  # the layout of the biggest département's annex takes about 30 s
MAX_LAYOUT_MIB = 3072  # beyond WeasyPrint loaded; command and layout together take 900 MiB at 1,989 communes
SMALLER = "Choisissez un seul territoire ou moins de parties, puis recommencez."
NO_WEASYPRINT, NO_MEMORY = 3, 4  # the worker's exit codes beside 0 (done) and 1 (any other failure)


class Typesetter:
    """A worker waiting for one document; `pdf` gives it the HTML and returns the PDF. Use it as a
    context manager: a worker left without a document is stopped."""

    def __init__(self, seconds: float = MAX_SECONDS, layout_mib: int = MAX_LAYOUT_MIB):
        self.seconds, self.layout_mib = seconds, layout_mib
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self._worker = subprocess.Popen([sys.executable, "-m", "diagnostic.export.typeset", str(layout_mib)],
                                        env={**os.environ, "PYTHONPATH": path}, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def __enter__(self) -> Typesetter:
        return self

    def __exit__(self, *exc) -> None:
        if self._worker.poll() is None:
            self._worker.kill()
            self._worker.communicate()

    def pdf(self, html: str) -> bytes:
        """The PDF of an HTML document (tagged PDF/UA-1: structure, language, title)."""
        try:
            pdf, error = self._worker.communicate(html.encode("utf-8"), timeout=self.seconds)
        except subprocess.TimeoutExpired:
            self._worker.kill()
            self._worker.communicate()
            raise InputError(f"la mise en page de l'annexe dépasse {_french(self.seconds)} secondes.",
                             fix=SMALLER) from None
        code, error = self._worker.returncode, error.decode("utf-8", "replace").strip()
        if code == NO_MEMORY:
            raise InputError(f"la mise en page de l'annexe demande plus de {_french(self.layout_mib)} Mio de mémoire.",
                             fix=SMALLER)
        if code == NO_WEASYPRINT:
            raise ImportError(error)
        if code != 0 or not pdf.startswith(b"%PDF"):
            raise RuntimeError(f"the typesetting worker ended with code {code}: {error[-2000:]}")
        return pdf


def _french(number: float) -> str:
    """A number as a French sentence writes it (no pandas in the worker: not `fmt_number`)."""
    return f"{number:,g}".replace(",", "\u202f").replace(".", ",")


def typeset(html: str) -> bytes:
    """The PDF of an HTML document, laid out by a worker started now."""
    with Typesetter() as typesetter:
        return typesetter.pdf(html)


def main(layout_mib: int) -> None:
    """The worker: HTML on standard input, PDF on standard output, stopped as soon as the layout takes
    more than `layout_mib` MiB beyond WeasyPrint loaded (watched, so that no C library meets a failed
    allocation)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        print(exc, file=sys.stderr)
        sys.exit(NO_WEASYPRINT)
    limit = _resident_mib() + layout_mib
    threading.Thread(target=_watch, args=(limit,), daemon=True).start()
    gc.disable()  # a process of one document: its cycles go with it (3 % of the layout's time, 4 MiB at the demo)
    html = sys.stdin.buffer.read().decode("utf-8")
    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(pdf_variant="pdf/ua-1")
    sys.stdout.buffer.write(pdf)
    sys.stdout.flush()
    os._exit(0)  # nothing left to release: the memory goes back with the process


def _resident_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _watch(limit_mib: float) -> None:
    while True:
        time.sleep(0.02)
        if _resident_mib() > limit_mib:
            os._exit(NO_MEMORY)


if __name__ == "__main__":
    main(int(sys.argv[1]))
