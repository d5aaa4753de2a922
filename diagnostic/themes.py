"""Vocabularies of the offer: data·inclusion v1 themes and publics, and the translation of older
vocabularies (data·inclusion v0, médiation numérique labels, France services) documented in
``data/correspondances_thematiques.csv``."""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
MODES = {"en-presentiel": "Sur place", "a-distance": "À distance", "itinerant": "Itinérant"}
PUBLICS = {"actifs": "Actifs", "beneficiaires-des-minimas-sociaux": "Bénéficiaires des minimas sociaux",
           "demandeurs-emploi": "Demandeurs d'emploi", "etudiants": "Étudiants", "familles": "Familles",
           "femmes": "Femmes", "jeunes": "Jeunes", "personnes-en-situation-de-handicap":
           "Personnes en situation de handicap", "personnes-en-situation-durgence":
           "Personnes en situation d'urgence", "personnes-en-situation-juridique-specifique":
           "Personnes en situation juridique spécifique", "personnes-exilees": "Personnes exilées",
           "residents-qpv-frr": "Résidents en QPV ou FRR", "seniors": "Seniors",
           "tous-publics": "Tous publics"}


@cache
def theme_labels() -> dict[str, str]:
    """Every theme value (top level and sub-theme) with its French label, in display order."""
    with open(DATA / "thematiques.csv", encoding="utf-8", newline="") as handle:
        return {row["value"]: row["label"] for row in csv.DictReader(handle)}


@cache
def _correspondences() -> dict[tuple[str, str], tuple[str, ...]]:
    with open(DATA / "correspondances_thematiques.csv", encoding="utf-8", newline="") as handle:
        return {(row["vocabulaire"], row["valeur"]): tuple(row["thematiques"].split("|"))
                for row in csv.DictReader(handle)}


def top_theme(theme: str) -> str:
    return theme.split("--")[0]


def top_themes() -> list[str]:
    return [value for value in theme_labels() if "--" not in value]


def translate(values: list[str], vocabulary: str) -> tuple[list[str], list[str]]:
    """Themes (or publics) of another vocabulary in the v1 one: (translated, unknown values).

    A value already in v1 is kept; else the correspondence table is used; a v0 sub-theme whose
    top level exists in v1 falls back to that top level.
    """
    table = _correspondences()
    known = theme_labels() if vocabulary != "public" else PUBLICS
    out, unknown = [], []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        if value in known:
            out.append(value)
        elif (vocabulary, value) in table:
            out.extend(table[(vocabulary, value)])
        elif (vocabulary, "*") in table:
            out.extend(table[(vocabulary, "*")])
        elif vocabulary != "public" and top_theme(value) in known:
            out.append(top_theme(value))
        else:
            unknown.append(value)
    return list(dict.fromkeys(out)), unknown


def normalise_name(name: str) -> str:
    """Text compared loosely: no accents, case, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()
