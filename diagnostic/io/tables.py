"""Readers of tabular files (CSV) with codes kept as strings and French error messages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io.privacy import check_not_nominative
from diagnostic.territory import is_commune_code

CODE_COLUMNS = ("code_insee", "codgeo", "code_commune", "code", "insee_com", "com")
SECRET_MARKERS = {"", "s", "nd", "n.d.", "secret", "na", "nc"}
VALUE_COLUMNS = {
    "indicator": ("indicator", "indicateur", "id_indicateur"),
    "numerator": ("numerator", "numerateur", "numérateur"),
    "denominator": ("denominator", "denominateur", "dénominateur"),
}


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV as strings: UTF-8 (with or without BOM) or cp1252, separator detected."""
    raw = Path(path).read_bytes() if Path(path).is_file() else None
    if raw is None:
        raise InputError("fichier introuvable.", file=str(path), fix="Vérifiez le chemin indiqué.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise InputError("le fichier est vide.", file=Path(path).name)
    header = text.splitlines()[0]
    sep = max((";", ",", "\t"), key=header.count)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"le fichier CSV est mal formé ({exc}).", file=Path(path).name,
                         fix="Ouvrez-le dans un tableur et enregistrez-le au format CSV.") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    check_not_nominative(frame, Path(path).name)
    return frame


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


def check_codes(codes: pd.Series, file: str, field: str, known: set[str] | None = None) -> None:
    """Every code is a 5-character INSEE code (and, if given, one of the workspace's communes)."""
    for position, code in enumerate(codes):
        line = position + 2
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


def parse_number(text: str, file: str, line: int, field: str) -> float:
    """A count written with a decimal comma or point and spaces; secret markers give NaN."""
    cleaned = str(text).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if cleaned.lower() in SECRET_MARKERS:
        return float("nan")
    try:
        value = float(cleaned.replace(",", "."))
    except ValueError:
        raise InputError(f"« {text} » n'est pas un nombre.", file=file, line=line, field=field,
                         fix="Écrivez un nombre (ex. « 1234 » ou « 12,5 ») ou laissez vide.") from None
    if value < 0:
        raise InputError(f"valeur négative « {text} ».", file=file, line=line, field=field,
                         fix="Un effectif est positif ou nul.")
    return value


def read_groupings(path: Path, codes: pd.Series, required: bool = True,
                   warnings: list[str] | None = None) -> pd.DataFrame:
    """A groupings CSV: a commune code column then one column per level (group names).
    A workspace may have no level yet (`required=False`); a file given by a user must have one."""
    file = Path(path).name
    frame = read_table(path)
    code_col = find_column(frame, CODE_COLUMNS, file, "de code commune")
    frame[code_col] = repair_codes(frame[code_col], file, set(codes), warnings)
    check_codes(frame[code_col], file, code_col, set(codes))
    duplicated = frame[code_col].duplicated()
    if duplicated.any():
        line = int(duplicated.to_numpy().nonzero()[0][0]) + 2
        raise InputError(f"la commune « {frame[code_col][duplicated].iloc[0]} » apparaît deux fois.",
                         file=file, line=line, field=code_col, fix="Gardez une seule ligne par commune.")
    frame = frame.set_index(code_col).rename_axis("code_insee")
    if frame.columns.empty and required:
        raise InputError("aucune colonne de regroupement après le code commune.", file=file,
                         fix="Ajoutez une colonne par niveau, ex. « Territoire d'action sociale ».")
    frame = frame.reindex(codes.to_numpy())
    for level in frame.columns:
        frame[level] = frame[level].str.strip()
        absent = frame[level].isna() | (frame[level] == "")
        if absent.any():
            raise InputError(f"{int(absent.sum())} commune(s) sans groupe, dont "
                             f"« {frame.index[absent][0]} ».", file=file, field=level,
                             fix="Chaque commune doit appartenir à un groupe de chaque niveau.")
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
    check_codes(frame[code_col], file, code_col, codes)
    out = pd.DataFrame({"code_insee": frame[code_col].to_numpy(),
                        "indicator": frame[cols["indicator"]].str.strip().to_numpy()})
    if catalogue is not None:
        unknown = ~out["indicator"].isin(list(catalogue))
        if unknown.any():
            line = int(unknown.to_numpy().nonzero()[0][0]) + 2
            raise InputError(f"indicateur inconnu « {out['indicator'][unknown].iloc[0]} ».",
                             file=file, line=line, field=cols["indicator"],
                             fix=f"Indicateurs du catalogue : {', '.join(catalogue)}.")
    for key in ("numerator", "denominator"):
        out[key] = [parse_number(text, file, i + 2, cols[key])
                    for i, text in enumerate(frame[cols[key]])]
    duplicated = out.duplicated(["code_insee", "indicator"])
    if duplicated.any():
        line = int(duplicated.to_numpy().nonzero()[0][0]) + 2
        raise InputError("cette commune a déjà une valeur pour cet indicateur.", file=file, line=line,
                         field=code_col, fix="Gardez une seule ligne par commune et par indicateur.")
    return out
