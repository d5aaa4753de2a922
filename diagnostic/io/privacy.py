"""Refuse nominative data: the diagnostic works on aggregated data and lists of services only.

A table is refused when its columns look like records about people: a first name or a birth date,
a social security number (NIR), or the personal contact details of beneficiaries.
"""

from __future__ import annotations

import re

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.themes import normalise_name

PERSON_COLUMNS = {"prenom", "prenoms", "date de naissance", "date naissance", "naissance", "ne le", "nee le",
                  "nir", "numero de securite sociale", "n securite sociale", "secu", "matricule caf",
                  "numero allocataire", "n allocataire", "no allocataire", "num allocataire", "beneficiaire",
                  "nom de naissance", "nom d usage", "sexe"}
NIR = re.compile(r"^[12]\d{2}(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2A|2B)\d{6}(\d{2})?$")


def check_not_nominative(frame: pd.DataFrame, file: str) -> None:
    """Raise a French InputError if the table seems to hold personal data about people."""
    columns = {normalise_name(c): c for c in frame.columns}
    hits = [original for name, original in columns.items()
            if name in PERSON_COLUMNS or name.startswith(("date de naissance", "prenom"))]
    if hits:
        _refuse(file, f"colonne « {hits[0]} »")
    for column in frame.columns:
        values = frame[column].astype(str).str.replace(" ", "", regex=False).head(500)
        if len(values) and values.str.match(NIR).mean() > 0.5:
            _refuse(file, f"numéros de sécurité sociale dans la colonne « {column} »")


def _refuse(file: str, what: str) -> None:
    raise InputError(f"ce fichier semble contenir des données personnelles ({what}).", file=file,
                     fix="Le diagnostic travaille sur des données agrégées et des listes de services : "
                         "retirez les colonnes nominatives (noms, prénoms, dates de naissance, numéros, "
                         "coordonnées personnelles) ou agrégez par commune avant l'import. Rien n'a été importé.")
