"""The three formats of the annex built side by side: one that fails leaves the others available."""

from __future__ import annotations

import logging
from collections.abc import Callable

from diagnostic.errors import InputError
from diagnostic.export.annex import AnnexChoice, annex_context, annex_tables, csv_zip
from diagnostic.export.excel import workbook_bytes
from diagnostic.export.pdf import TITLE, annex_pdf
from diagnostic.export.typeset import Typesetter

LOG = logging.getLogger(__name__)
NAMES = {"pdf": "Le document PDF", "xlsx": "Le classeur Excel", "zip": "Les fichiers CSV"}


def build_formats(ws, choice: AnnexChoice, store=None, progress: Callable[[str], object] = lambda _: None
                  ) -> tuple[dict[str, bytes], dict[str, str]]:
    """The annex as PDF, Excel and zipped CSV: the files that could be made, and for each format
    that could not, a French sentence saying why (the details go to the server log)."""
    with Typesetter() as typesetter:  # WeasyPrint loads in its worker while the tables are made
        return _build(ws, choice, store, progress, typesetter)


def _build(ws, choice, store, progress, typesetter) -> tuple[dict[str, bytes], dict[str, str]]:
    files: dict[str, bytes] = {}
    failures: dict[str, str] = {}
    progress("Tableaux (CSV et Excel)…")
    try:
        tables = annex_tables(ws, choice, store)
    except InputError as exc:
        return {}, {"tables": f"L'annexe n'a pas pu être préparée : {exc.french()}"}
    context = annex_context(ws, choice)
    builders = {"xlsx": lambda: workbook_bytes(tables, TITLE, context), "zip": lambda: csv_zip(tables, context),
                "pdf": lambda: annex_pdf(ws, choice, tables=tables, typesetter=typesetter)}
    for key, build in builders.items():
        if key == "pdf":
            progress("Document PDF (cartes, graphiques, tableaux)…")
        try:
            files[key] = build()
        except InputError as exc:
            failures[key] = f"{NAMES[key]} n'a pas pu être produit : {exc.french()}"
        except (ImportError, OSError) as exc:
            LOG.warning("annex %s: %s", key, exc)
            failures[key] = (f"{NAMES[key]} n'a pas pu être produit : il faut WeasyPrint et les bibliothèques "
                             "Pango du système (paquets Debian libpango-1.0-0 et libpangoft2-1.0-0)."
                             if key == "pdf" else f"{NAMES[key]} n'a pas pu être écrit (erreur de disque).")
        except Exception:  # noqa: BLE001 - one format's bug must not take the others down
            LOG.exception("annex %s failed", key)
            failures[key] = (f"{NAMES[key]} n'a pas pu être produit à cause d'une erreur du logiciel, "
                             "enregistrée dans le journal du serveur. Les autres formats restent disponibles.")
    return files, failures
