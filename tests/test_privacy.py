"""Nominative data is refused at every import, with a French explanation, and nothing changes."""

import pandas as pd
import pytest

from diagnostic.errors import InputError
from diagnostic.io.privacy import check_not_nominative
from diagnostic.offer_import import import_offer
from diagnostic.workspace import DEMO_WORKSPACE, create_workspace, load_workspace


@pytest.mark.parametrize("columns, values", [
    (["nom", "prénom", "commune"], ["Martin", "Léa", "00103"]),
    (["Nom", "Date de naissance", "code_insee"], ["Martin", "01/02/1980", "00103"]),
    (["identifiant", "code_insee"], ["2 80 02 75 123 456 78", "00103"]),
    (["N° allocataire", "code_insee"], ["1234567", "00103"]),
])
def test_people_records_are_refused(columns, values):
    with pytest.raises(InputError, match="données personnelles"):
        check_not_nominative(pd.DataFrame([values], columns=columns), "liste.csv")


def test_a_list_of_services_with_public_contacts_is_accepted():
    check_not_nominative(pd.DataFrame([["France services", "contact@mairie.fr", "01 02 03 04 05", "00103"]],
                                      columns=["nom", "courriel", "telephone", "code_insee"]), "offre.csv",
                         contacts_allowed=True)


def test_offer_import_of_a_beneficiary_list_changes_nothing(demo_copy, tmp_path):
    path = tmp_path / "beneficiaires.csv"
    path.write_text("nom;prenom;date_naissance;code_insee;thematiques\nMartin;Léa;1980-02-01;00103;mobilite\n",
                    encoding="utf-8")
    before = (demo_copy / "offer.csv").read_bytes()
    with pytest.raises(InputError, match="beneficiaires.csv.*données personnelles.*Rien n'a été importé"):
        import_offer(load_workspace(demo_copy), path)
    assert (demo_copy / "offer.csv").read_bytes() == before


def test_indicator_file_with_social_security_numbers_is_refused(tmp_path):
    path = tmp_path / "indicateurs.csv"
    path.write_text("code_insee;indicateur;numerateur;denominateur;identifiant\n"
                    "00001;part_foyers_rsa;1;10;180027512345678\n00002;part_foyers_rsa;2;10;280027512345678\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="sécurité sociale"):
        create_workspace(tmp_path / "ws", DEMO_WORKSPACE / "communes.geojson", path)
    assert not (tmp_path / "ws").exists()


NOMINATIVE = [
    (["first_name", "code_insee"], ["Léa", "00103"]), (["FirstName", "code_insee"], ["Léa", "00103"]),
    (["Nom Prénom", "code_insee"], ["Martin Léa", "00103"]), (["NOM_PRENOM", "code_insee"], ["Martin Léa", "00103"]),
    (["Prénoms", "code_insee"], ["Léa Anne", "00103"]), (["last_name", "code_insee"], ["Martin", "00103"]),
    (["surname", "code_insee"], ["Martin", "00103"]), (["Nom de naissance", "code_insee"], ["Martin", "00103"]),
    (["nom_usage", "code_insee"], ["Martin", "00103"]), (["Full Name", "code_insee"], ["Léa Martin", "00103"]),
    (["DDN", "code_insee"], ["01/02/1980", "00103"]), (["dob", "code_insee"], ["1980-02-01", "00103"]),
    (["date_of_birth", "code_insee"], ["1980-02-01", "00103"]), (["Birth date", "code_insee"], ["1980", "00103"]),
    (["Né(e) le", "code_insee"], ["01/02/1980", "00103"]), (["DATE NAISSANCE", "code_insee"], ["1980", "00103"]),
    (["Lieu de naissance", "code_insee"], ["Lyon", "00103"]), (["email", "code_insee"], ["lea@exemple.fr", "00103"]),
    (["E-mail", "code_insee"], ["lea@exemple.fr", "00103"]), (["Courriel", "code_insee"], ["lea@exemple.fr", "00103"]),
    (["contact", "code_insee"], ["lea.martin@exemple.fr", "00103"]), (["Téléphone", "code_insee"], ["0601020304", "00103"]),
    (["tel", "code_insee"], ["06 01 02 03 04", "00103"]), (["portable", "code_insee"], ["0601020304", "00103"]),
    (["joindre", "code_insee"], ["+33 6 01 02 03 04", "00103"]), (["N° CAF", "code_insee"], ["1234567", "00103"]),
    (["numero_caf", "code_insee"], ["1234567", "00103"]), (["Matricule CAF", "code_insee"], ["1234567", "00103"]),
    (["Numéro allocataire", "code_insee"], ["1234567", "00103"]),
    (["identifiant France Travail", "code_insee"], ["1234567A", "00103"]),
    (["id_pole_emploi", "code_insee"], ["1234567A", "00103"]), (["NIR", "code_insee"], ["1800275123456", "00103"]),
    (["numero", "code_insee"], ["1.80.02.75.123.456.78", "00103"]),
    (["ident", "code_insee"], ["2-80-02-75-123-456", "00103"]), (["clé", "code_insee"], ["180027512345678", "00103"]),
    (["N° sécurité sociale", "code_insee"], ["x", "00103"]), (["SSN", "code_insee"], ["x", "00103"]),
    (["Sexe", "code_insee"], ["F", "00103"]), (["Civilité", "code_insee"], ["Mme", "00103"]),
    (["Bénéficiaire", "code_insee"], ["Martin", "00103"]), (["nom du bénéficiaire", "code_insee"], ["Martin", "00103"]),
    (["PRENOM", "code_insee"], ["LEA", "00103"]),
]


@pytest.mark.parametrize("columns, values", NOMINATIVE, ids=[c[0] for c, _ in NOMINATIVE])
def test_nominative_tables_are_refused_whatever_their_spelling(tmp_path, columns, values):
    from diagnostic.io.tables import read_table
    path = tmp_path / "table.csv"
    pd.DataFrame([values, values], columns=columns).to_csv(path, sep=";", index=False)
    with pytest.raises(InputError, match="données personnelles"):
        read_table(path)


def test_the_battery_has_forty_spellings():
    assert len(NOMINATIVE) >= 40


@pytest.mark.parametrize("columns, values", [
    (["CODGEO", "naissances_2022", "deces_2022"], ["34001", "10", "23"]),
    (["code", "name", "total"], ["34001", "Abeilhan", "5,2"]),
    (["code_insee", "commune", "population_municipale"], ["34001", "Abeilhan", "1850"]),
    (["code_insee", "nom", "epci_nom", "codes_postaux"], ["34001", "Abeilhan", "CC Les Avant-Monts", "34290"]),
])
def test_aggregated_tables_are_accepted(tmp_path, columns, values):
    from diagnostic.io.tables import read_table
    path = tmp_path / "table.csv"
    pd.DataFrame([values], columns=columns).to_csv(path, sep=";", index=False)
    assert len(read_table(path)) == 1
