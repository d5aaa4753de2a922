"""Readers of tabular files (CSV, Excel) with codes kept as strings and French error messages."""

from __future__ import annotations

import csv
import io
import math
import re
import time
import zipfile
from pathlib import Path

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io.privacy import check_not_nominative
from diagnostic.io.text import clean_frame, clean_text
from diagnostic.territory import is_commune_code

CODE_COLUMNS = ("code_insee", "codgeo", "code_commune", "code", "insee_com", "com")
SECRET_MARKERS = {"", "s", "nd", "n.d.", "secret", "na", "nc"}
VALUE_COLUMNS = {
    "indicator": ("indicator", "indicateur", "id_indicateur"),
    "numerator": ("numerator", "numerateur", "numérateur"),
    "denominator": ("denominator", "denominateur", "dénominateur"),
}


MAX_FILE_BYTES = 200 * 1024 * 1024  # larger tables are refused before being read
# Bounds of a table, checked while it is read (before the whole of it is in memory): a national
# commune table has 35,000 rows and rarely more than a hundred columns
MAX_ROWS = 1_000_000
MAX_COLUMNS = 2_000
MAX_CELLS = 5_000_000
MAX_LINE_CHARS = 100_000
MAX_READ_SECONDS = 120
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_RATIO = 150  # a workbook compresses 5 to 20 times; a « zip bomb » thousands of times
SEPARATORS = (";", ",", "\t", "|")
TITLE_SCAN = 30  # rows searched for the header below a title block


def read_table(path: Path, min_columns: int = 2, contacts_allowed: bool = False) -> pd.DataFrame:
    """Read a CSV (UTF-8 with or without BOM, or cp1252; separator detected) or an Excel sheet as
    strings. Title rows above the header are skipped; ``frame.attrs["first_line"]`` is the file line
    (or sheet row) of the first data row, for the messages."""
    path = Path(path)
    file = path.name
    check_size(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _excel_rows(path)
    elif path.suffix.lower() == ".xls":
        raise InputError("l'ancien format Excel .xls n'est pas lu.", file=file,
                         fix="Ouvrez-le dans votre tableur et enregistrez-le au format .xlsx ou CSV.")
    else:
        rows = _csv_rows(path.read_bytes(), file)
    header_at = _header_row(rows)
    if header_at + 1 < len(rows) and _is_code_row(rows[header_at + 1]) and not _is_code_row(rows[header_at]):
        header_at += 1  # INSEE tables: a row of long labels above the row of variable names
    header = [str(c).strip() for c in rows[header_at]]
    while header and not header[-1]:
        header.pop()
    if len(header) < min_columns:
        raise InputError("une seule colonne trouvée : le séparateur n'est pas reconnu.", file=file,
                         line=header_at + 1, fix="Séparez les colonnes par « ; », « , » ou une tabulation, "
                                                 "ou enregistrez le fichier au format Excel .xlsx.")
    if "" in header:
        raise InputError(f"la colonne n° {header.index('') + 1} n'a pas de nom.", file=file,
                         line=header_at + 1, fix="Donnez un nom à chaque colonne de la ligne d'en-tête.")
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(f"la colonne « {duplicated[0]} » apparaît deux fois.", file=file, line=header_at + 1,
                         fix="Renommez l'une des deux colonnes.")
    body = rows[header_at + 1:]
    while body and not any(str(v).strip() for v in body[-1]):
        body.pop()
    if not body:
        raise InputError("le fichier n'a aucune ligne de données sous l'en-tête.", file=file,
                         fix="Vérifiez que le fichier est complet.")
    width = len(header)
    for number, row in enumerate(body, start=header_at + 2):
        extra = [v for v in row[width:] if str(v).strip()]
        if extra:
            raise InputError(f"{width + len(extra)} valeurs pour {width} colonnes.", file=file, line=number,
                             fix="Une valeur contient sans doute le séparateur : mettez-la entre guillemets.")
        if len(row) < width and number == header_at + 1 + len(body) and path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise InputError(f"la dernière ligne est incomplète ({len(row)} valeurs pour {width} colonnes) : "
                             "le fichier semble tronqué.", file=file, line=number,
                             fix="Téléchargez ou exportez-le de nouveau.")
    frame = clean_frame(pd.DataFrame([[str(v).strip() for v in (list(row) + [""] * width)[:width]] for row in body],
                                     columns=header, dtype=str))
    frame.attrs["first_line"] = header_at + 2
    check_not_nominative(frame, file, contacts_allowed)
    return frame


def line_numbers(frame: pd.DataFrame) -> pd.Series:
    """The file line (or sheet row) of each row of a table read by ``read_table`` (or a subset of it)."""
    return pd.Series(frame.index + frame.attrs.get("first_line", 2), index=frame.index)


def check_size(path: Path) -> None:
    """A file that exists, is not empty and is not larger than the limit of the application."""
    if not path.is_file():
        raise InputError("fichier introuvable.", file=str(path), fix="Vérifiez le chemin indiqué.")
    size = path.stat().st_size
    if size == 0:
        raise InputError("le fichier est vide.", file=path.name, fix="Vérifiez que le bon fichier a été choisi.")
    if size > MAX_FILE_BYTES:
        raise InputError(f"le fichier est trop volumineux ({size / 2**20:,.0f} Mo, limite "
                         f"{MAX_FILE_BYTES // 2**20} Mo).".replace(",", "\u202f"), file=path.name,
                         fix="Filtrez-le sur votre département avant l'import.")


def _csv_rows(raw: bytes, file: str) -> list[list[str]]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raw = raw.decode("utf-16").encode("utf-8")  # Excel's "Texte Unicode"
    if b"\x00" in raw[:4096]:
        raise InputError("ce n'est pas un fichier texte (CSV).", file=file,
                         fix="Fournissez un CSV ou un classeur Excel .xlsx.")
    if raw.count(b"\n") > MAX_ROWS:
        raise _too_big(file, f"plus de {MAX_ROWS:,} lignes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's "CSV (séparateur : point-virgule)"
    if not text.strip():
        raise InputError("le fichier est vide.", file=file)
    lines = text.splitlines()[:TITLE_SCAN + 20]
    if max(map(len, lines), default=0) > MAX_LINE_CHARS:
        raise _too_big(file, f"une ligne de plus de {MAX_LINE_CHARS:,} caractères")
    try:
        sep = max(SEPARATORS, key=lambda s: _consistency(lines, s))
        return _bounded(csv.reader(io.StringIO(text, newline=""), delimiter=sep), file)
    except csv.Error as exc:
        what = ("une valeur dépasse 131 072 caractères" if "field larger" in str(exc)
                else "guillemets ou séparateurs incohérents")
        raise InputError(f"le fichier CSV est mal formé ({what}).", file=file,
                         fix="Ouvrez-le dans un tableur et enregistrez-le au format CSV.") from exc


def _too_big(file: str, what: str) -> InputError:
    return InputError(f"le tableau est trop grand ({what}).".replace(",", "\u202f"), file=file,
                      fix=f"Filtrez-le sur votre département et gardez les colonnes utiles (au plus {MAX_ROWS:,} "
                          f"lignes, {MAX_COLUMNS:,} colonnes et {MAX_CELLS:,} cellules).".replace(",", "\u202f"))


def _bounded(rows, file: str) -> list[list]:
    """The rows of a reader, refused as soon as they pass the bounds of a table or of time."""
    out, cells, started = [], 0, time.monotonic()
    for row in rows:
        if len(row) > MAX_COLUMNS:
            raise _too_big(file, f"{len(row):,} colonnes")
        cells += len(row)
        if cells > MAX_CELLS:
            raise _too_big(file, f"plus de {MAX_CELLS:,} cellules")
        if len(out) % 10_000 == 0 and time.monotonic() - started > MAX_READ_SECONDS:
            raise InputError(f"la lecture du fichier dépasse {MAX_READ_SECONDS} secondes.", file=file,
                             fix="Filtrez-le sur votre département avant l'import.")
        out.append(row)
    return out


def _check_workbook(path: Path) -> None:
    """Refuse a workbook whose sheets expand far beyond its size (a « zip bomb ») before reading it."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError("le classeur Excel est illisible ou endommagé.", file=path.name,
                         fix="Ouvrez-le dans votre tableur et enregistrez-le de nouveau (.xlsx).") from exc
    expanded = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if expanded > MAX_XLSX_UNCOMPRESSED or (expanded > 20 * 2**20 and expanded / packed > MAX_XLSX_RATIO):
        raise InputError(f"le classeur se décompresse en {expanded / 2**20:,.0f} Mo pour {packed / 2**20:,.1f} Mo : "
                         "il est anormalement compressé ou trop grand.".replace(",", "\u202f"), file=path.name,
                         fix="Enregistrez la feuille utile seule, au format CSV.")


def _consistency(lines: list[str], sep: str) -> tuple[int, int]:
    """How well a separator splits the lines: rows sharing the most frequent width (> 1), then width."""
    widths = [len(row) for row in csv.reader(lines, delimiter=sep) if row]
    counts = {w: widths.count(w) for w in set(widths) if w > 1}
    if not counts:
        return (0, 0)
    width = max(counts, key=lambda w: (counts[w], w))
    return (counts[width], width)


def _excel_rows(path: Path) -> list[list]:
    from openpyxl import load_workbook
    _check_workbook(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError or its own errors on damaged files
        raise InputError("le classeur Excel est illisible ou endommagé.", file=path.name,
                         fix="Ouvrez-le dans votre tableur et enregistrez-le de nouveau (.xlsx).") from exc
    try:
        for sheet in book.worksheets:
            rows = _bounded((["" if v is None else _cell_text(v) for v in row]
                             for row in sheet.iter_rows(values_only=True)), path.name)
            if any(any(str(v).strip() for v in row) for row in rows):
                return rows
    finally:
        book.close()
    raise InputError("le classeur ne contient aucune donnée.", file=path.name)


def _cell_text(value) -> str:
    """An Excel cell as text; whole numbers stay whole (94001, not 94001.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_code_row(row: list) -> bool:
    """A row of variable names such as CODGEO, LIBGEO, P21_POP (no spaces, not numbers)."""
    cells = [str(v).strip() for v in row if str(v).strip()]
    return len(cells) >= 2 and all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", c) for c in cells)


def _header_row(rows: list[list]) -> int:
    """The header: the first row as wide as the table's usual rows, below any title rows."""
    scan = rows[:TITLE_SCAN + 20]
    widths = [sum(1 for v in row if str(v).strip()) for row in scan]
    usual = sorted(widths)[len(widths) // 2] if widths else 0
    for index, width in enumerate(widths[:TITLE_SCAN]):
        if width >= max(2, usual * 0.6):
            return index
    return 0


def find_column(frame: pd.DataFrame, candidates: tuple[str, ...], file: str, what: str) -> str:
    """The first column whose name matches one of the candidates (case-insensitive)."""
    lower = {c.lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    raise InputError(f"colonne {what} introuvable (colonnes présentes : {', '.join(frame.columns)}).",
                     file=file, fix=f"Nommez-la par exemple « {candidates[0]} ».")


def repair_codes(codes: pd.Series, file: str, known: set[str] | None = None,
                 warnings: list[str] | None = None) -> pd.Series:
    """Codes whose leading zeros were lost by a spreadsheet ("1001" for "01001") put back on five
    characters, when the result is a commune code (of the workspace, if known); each repair is
    reported in `warnings`."""
    def fixed(code: str) -> str:
        padded = code.zfill(5)
        if code.isdigit() and 3 <= len(code) < 5 and is_commune_code(padded) and (known is None or padded in known):
            return padded
        return code

    codes = codes.astype(str).str.strip()
    repaired = codes.map(fixed)
    changed = int((repaired != codes).sum())
    if changed and warnings is not None:
        example = codes[repaired != codes].iloc[0]
        warnings.append(f"fichier « {file} » : {changed} code(s) commune sans leurs zéros initiaux ont été "
                        f"complétés (ex. « {example} » → « {example.zfill(5)} »).")
    return repaired


def check_codes(codes: pd.Series, file: str, field: str, known: set[str] | None = None,
                first_line: int = 2) -> None:
    """Every code is a 5-character INSEE code (and, if given, one of the workspace's communes)."""
    for position, code in enumerate(codes):
        line = position + first_line
        if not is_commune_code(code):
            hint = ("les zéros initiaux semblent perdus : écrivez le code sur 5 caractères "
                    "(ex. « 01001 »)." if str(code).isdigit() and len(str(code)) < 5
                    else "un code commune INSEE a 5 caractères (ex. « 94001 », « 2A004 »).")
            raise InputError(f"code commune invalide « {code} » :", file=file, line=line,
                             field=field, fix=hint)
        if known is not None and code not in known:
            raise InputError(f"la commune « {code} » n'est pas dans l'espace de travail.",
                             file=file, line=line, field=field,
                             fix="Vérifiez le millésime du code officiel géographique.")


MAX_COUNT = 1e9  # no count about a French commune comes near a billion
MAX_COMMUNE_POPULATION = 3_000_000  # Paris, the largest commune, has 2.1 million inhabitants


def parse_number(text: str, file: str, line: int, field: str, maximum: float = MAX_COUNT) -> float:
    """A count written with a decimal comma or point and spaces; secret markers give NaN; infinite
    or absurd values (beyond `maximum`) are refused."""
    cleaned = str(text).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if cleaned.lower() in SECRET_MARKERS:
        return float("nan")
    try:
        value = float(cleaned.replace(",", "."))
    except ValueError:
        raise InputError(f"« {text} » n'est pas un nombre.", file=file, line=line, field=field,
                         fix="Écrivez un nombre (ex. « 1234 » ou « 12,5 ») ou laissez vide.") from None
    if value != value:  # « NaN » written by another program: unknown, like a secret cell
        return float("nan")
    if not math.isfinite(value) or value > maximum:
        raise InputError(f"valeur hors de toute mesure « {text} ».", file=file, line=line, field=field,
                         fix=f"Un effectif de commune ne dépasse pas {maximum:,.0f} : vérifiez la colonne "
                             "(unité, séparateur décimal) ou laissez la cellule vide.".replace(",", "\u202f"))
    if value < 0:
        raise InputError(f"valeur négative « {text} ».", file=file, line=line, field=field,
                         fix="Un effectif est positif ou nul.")
    return value


def read_groupings(path: Path, codes: pd.Series, required: bool = True,
                   warnings: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """A groupings table: a commune code column then one column per level (group names), or only
    the `columns` chosen. A workspace may have no level yet (`required=False`); a file given by a
    user must have one."""
    file = Path(path).name
    frame = read_table(path, min_columns=1 if not required else 2)
    code_col = find_column(frame, CODE_COLUMNS, file, "de code commune")
    frame[code_col] = repair_codes(frame[code_col], file, set(codes), warnings)
    check_codes(frame[code_col], file, code_col, set(codes), frame.attrs["first_line"])
    duplicated = frame[code_col].duplicated()
    if duplicated.any():
        line = int(line_numbers(frame)[duplicated].iloc[0])
        raise InputError(f"la commune « {frame[code_col][duplicated].iloc[0]} » apparaît deux fois.",
                         file=file, line=line, field=code_col, fix="Gardez une seule ligne par commune.")
    frame = frame.set_index(code_col).rename_axis("code_insee")
    if columns is not None:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise InputError(f"colonne « {unknown[0]} » absente.", file=file,
                             fix=f"Colonnes du fichier : {', '.join(frame.columns)}.")
        frame = frame[columns]
    if frame.columns.empty and required:
        raise InputError("aucune colonne de regroupement après le code commune.", file=file,
                         fix="Ajoutez une colonne par niveau, ex. « Territoire d'action sociale ».")
    frame = frame.reindex(codes.to_numpy())
    for level in frame.columns:
        frame[level] = frame[level].map(lambda v: clean_text(v, one_line=True).strip() if isinstance(v, str) else v)
        absent = frame[level].isna() | (frame[level] == "")
        if absent.any():
            raise InputError(f"{int(absent.sum())} commune(s) sans groupe, dont "
                             f"« {frame.index[absent][0]} ».", file=file, field=level,
                             fix="Chaque commune doit appartenir à un groupe de chaque niveau ; si le tableau a "
                                 "d'autres colonnes (liste officielle des communes), ne gardez que celles des "
                                 "niveaux : cases à cocher de la page, option --colonne (ex. epci_nom=EPCI).")
    return frame


def read_values(path: Path, codes: set[str], catalogue: dict | None = None,
                warnings: list[str] | None = None) -> pd.DataFrame:
    """An indicators CSV in long format: code_insee, indicator, numerator, denominator."""
    file = Path(path).name
    frame = read_table(path)
    code_col = find_column(frame, CODE_COLUMNS, file, "de code commune")
    frame[code_col] = repair_codes(frame[code_col], file, codes, warnings)
    cols = {key: find_column(frame, names, file, f"« {names[0]} »")
            for key, names in VALUE_COLUMNS.items()}
    check_codes(frame[code_col], file, code_col, codes, frame.attrs["first_line"])
    lines = line_numbers(frame)
    out = pd.DataFrame({"code_insee": frame[code_col].to_numpy(),
                        "indicator": frame[cols["indicator"]].str.strip().to_numpy()})
    if catalogue is not None:
        unknown = ~out["indicator"].isin(list(catalogue))
        if unknown.any():
            line = int(lines[unknown].iloc[0])
            raise InputError(f"indicateur inconnu « {out['indicator'][unknown].iloc[0]} ».",
                             file=file, line=line, field=cols["indicator"],
                             fix=f"Indicateurs du catalogue : {', '.join(catalogue)}.")
    for key in ("numerator", "denominator"):
        out[key] = [parse_number(text, file, line, cols[key]) for line, text in zip(lines, frame[cols[key]])]
    duplicated = out.duplicated(["code_insee", "indicator"])
    if duplicated.any():
        line = int(lines[duplicated].iloc[0])
        raise InputError("cette commune a déjà une valeur pour cet indicateur.", file=file, line=line,
                         field=code_col, fix="Gardez une seule ligne par commune et par indicateur.")
    return out
