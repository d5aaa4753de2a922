"""CSV the way French spreadsheet users open it: ``;``, decimal comma, UTF-8 with BOM, no formulas."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from diagnostic.io.text import clean_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
DDE = re.compile(r"[\w.]+\|.*!|\b(?:DDE|DDEAUTO|HYPERLINK|WEBSERVICE|IMPORTXML|IMPORTDATA)\s*\(", re.IGNORECASE)


def neutralise(cell: object) -> object:
    """A text cell as a spreadsheet may receive it, never run as a formula: control characters
    removed, and an apostrophe before every line (after CR/LF) that starts — spaces aside — with
    =, +, -, @ or a tab, and before a text holding a DDE call (cmd|'…'!A1) or a link function.
    The one function for CSV, Excel and every download of the pages."""
    if not isinstance(cell, str):
        return cell
    lines = re.split(r"(\r\n|\r|\n)", clean_text(cell))
    lines = ["'" + line if line.lstrip(" ").startswith(FORMULA_STARTS) and line not in ("\r\n", "\r", "\n")
             else line for line in lines]
    text = "".join(lines)
    return "'" + text if DDE.search(text) and not text.startswith("'") else text


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table: numbers with a decimal comma, text cells neutralised, UTF-8 with BOM."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(frame))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes: numbers with a decimal comma, text cells neutralised, UTF-8 with BOM."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not pd.api.types.is_numeric_dtype(values):
            safe[column] = values.map(neutralise)
        elif pd.api.types.is_float_dtype(values) and _whole(values):
            safe[column] = values.astype("Int64")  # counts stay counts: « 28583 », never « 28583,0 »
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    # CRLF rows: a value holding a line break or a carriage return is then quoted, never a new row
    return safe.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n").encode("utf-8-sig")


def _whole(values: pd.Series) -> bool:
    known = values.dropna()
    return len(known) > 0 and bool(((known % 1) == 0).all()) and bool((known.abs() < 2**53).all())


def write_csv_folder(tables, folder: Path, context: str) -> list[Path]:
    """One CSV per table, and metadonnees.csv stating for each file its title, sources, vintages
    and parameters (`context` says which workspace, level and territory)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = folder / f"{table.key}.csv"
        write_csv(table.frame, path)
        written.append(path)
    meta = pd.DataFrame({"fichier": [p.name for p in written], "titre": [t.title for t in tables],
                         "sources_millesimes_parametres": [t.note for t in tables],
                         "contexte": context})
    write_csv(meta, folder / "metadonnees.csv")
    return [*written, folder / "metadonnees.csv"]
