"""CSV the way French spreadsheet users open it: ``;``, decimal comma, UTF-8 with BOM, no formulas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table: numbers with a decimal comma, text cells neutralised, UTF-8 with BOM."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(frame))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes: numbers with a decimal comma, text cells neutralised, UTF-8 with BOM."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    return safe.to_csv(sep=";", decimal=",", index=False).encode("utf-8-sig")


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
