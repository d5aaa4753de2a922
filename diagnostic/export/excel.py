"""The annex as an Excel workbook: a contents sheet, then one sheet per table, numbers as numbers."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import pandas as pd

from diagnostic.export.csv import neutralise

if TYPE_CHECKING:
    from openpyxl import Workbook

INTEGER = "#,##0"
DECIMAL = "#,##0.0#"


def workbook_bytes(tables, title: str, context: str) -> bytes:
    """The workbook: « Sommaire » (contents, sources, parameters) and one sheet per table."""
    from openpyxl import Workbook  # loaded when a workbook is made: 175 modules a PDF export does without
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    summary = book.active
    summary.title = "Sommaire"
    summary.append([neutralise(title)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([neutralise(context)])
    summary.append([])
    summary.append(["Feuille", "Contenu", "Sources, millésimes et paramètres"])
    for cell in summary[4]:
        cell.font = Font(bold=True)
    for table in tables:
        summary.append([neutralise(table.key), neutralise(table.title), neutralise(table.note)])
    for column, width in zip("ABC", (30, 60, 110), strict=True):
        summary.column_dimensions[column].width = width
    for row in summary.iter_rows(min_row=5):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    for table in tables:
        _sheet(book, table)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet(book: Workbook, table) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(table.key[:31])
    frame = table.frame
    sheet.append([neutralise(table.title)])
    sheet["A1"].font = Font(bold=True)
    sheet.append([neutralise(table.note)])
    sheet.append([neutralise(str(c)) for c in frame.columns])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for values in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in values])
    for row in sheet.iter_rows():
        for cell in row:  # text stays text: nothing in the workbook is a formula
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for index, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        integers = numeric and frame[column].dropna().apply(lambda v: float(v).is_integer()).all()
        for cell in sheet[letter][3:]:
            if isinstance(cell.value, (int, float)):
                cell.number_format = INTEGER if integers or isinstance(cell.value, int) else DECIMAL
        longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
        sheet.column_dimensions[letter].width = min(60, max(10, longest + 2))
    sheet.freeze_panes = "A4"


def _cell(value):
    """A value as Excel wants it: numbers as numbers, missing as empty, text neutralised."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return neutralise(value) if isinstance(value, str) else value
