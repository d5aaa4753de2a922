"""Refuse nominative data: the diagnostic works on aggregated data and lists of services only.

A table is refused when its columns or its contents look like records about people: first or last
names, birth dates, a social security number (NIR, whatever its separators), a CAF or France Travail
identifier; in indicator tables also e-mail addresses and phone numbers (a list of services may
give its public contacts). Names are compared without accents, case or punctuation, in French and
English and with usual abbreviations.
"""

from __future__ import annotations

import re

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.themes import normalise_name

PERSON_COLUMNS = {
    "prenom", "prenoms", "first name", "firstname", "given name", "givenname", "forename", "last name",
    "lastname", "surname", "family name", "nom de famille", "nom prenom", "prenom nom", "nom et prenom",
    "nom naissance", "nom de naissance", "nom d usage", "nom usage", "nom marital", "patronyme", "full name",
    "fullname", "date de naissance", "date naissance", "naissance", "ne le", "nee le", "ne e le", "ddn", "dob",
    "date of birth", "birth date", "birthdate", "birthday", "age exact", "lieu de naissance", "nir",
    "numero de securite sociale", "n securite sociale", "no securite sociale", "num secu", "numero secu", "secu",
    "securite sociale", "ssn", "social security number", "insee personne", "matricule caf", "numero caf",
    "n caf", "no caf", "num caf", "numero allocataire", "n allocataire", "no allocataire", "num allocataire",
    "identifiant allocataire", "id allocataire", "numero allocataire caf", "identifiant france travail",
    "id france travail", "numero france travail", "identifiant pole emploi", "id pole emploi", "numero pole emploi",
    "identifiant pe", "id pe", "numero demandeur", "identifiant demandeur", "beneficiaire", "nom beneficiaire",
    "nom du beneficiaire", "sexe", "civilite", "genre"}
CONTACT_COLUMNS = {"email", "e mail", "mail", "courriel", "adresse mail", "adresse email", "adresse electronique",
                   "telephone", "tel", "tel portable", "portable", "mobile", "phone", "phone number",
                   "numero de telephone", "n telephone", "gsm"}
# A NIR written whole or in its usual groups (1 80 02 75 123 456 78, 1.80.02.75.123.456.78, 1-80-…)
NIR = re.compile(r"^[12]([\s.\-]?)\d{2}\1(0[1-9]|1[0-2]|[2-9]\d)\1(\d{2}|2A|2B)\1\d{3}\1\d{3}(\1\d{2})?$",
                 re.IGNORECASE)
SEPARATORS = re.compile(r"[\s.\-_/]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
PHONE = re.compile(r"^(\+33|0033|0)[1-9]\d{8}$")


def check_not_nominative(frame: pd.DataFrame, file: str, contacts_allowed: bool = False) -> None:
    """Raise a French InputError if the table seems to hold personal data about people."""
    for column in frame.columns:
        name = normalise_name(column)
        words = set(name.split())
        if name in PERSON_COLUMNS or name.startswith(("date de naissance", "prenom", "first name")) or \
                words & {"prenom", "prenoms", "firstname", "nir", "ddn"}:
            _refuse(file, f"colonne « {column} »")
        if not contacts_allowed and (name in CONTACT_COLUMNS or words & {"email", "courriel", "telephone"}):
            _refuse(file, f"coordonnées personnelles dans la colonne « {column} »")
    for column in frame.columns:
        raw = frame[column].astype(str).head(500).str.strip()
        raw = raw[raw != ""]
        if not len(raw):
            continue
        values = raw.map(lambda v: SEPARATORS.sub("", v))
        if raw.str.match(NIR).mean() > 0.5:
            _refuse(file, f"numéros de sécurité sociale dans la colonne « {column} »")
        if not contacts_allowed and raw.str.match(EMAIL).mean() > 0.5:
            _refuse(file, f"adresses électroniques dans la colonne « {column} »")
        if not contacts_allowed and values.str.match(PHONE).mean() > 0.5:
            _refuse(file, f"numéros de téléphone dans la colonne « {column} »")


def _refuse(file: str, what: str) -> None:
    raise InputError(f"ce fichier semble contenir des données personnelles ({what}).", file=file,
                     fix="Le diagnostic travaille sur des données agrégées et des listes de services : "
                         "retirez les colonnes nominatives (noms, prénoms, dates de naissance, numéros, "
                         "coordonnées personnelles) ou agrégez par commune avant l'import. Rien n'a été importé.")
