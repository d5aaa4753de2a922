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
                                      columns=["nom", "courriel", "telephone", "code_insee"]), "offre.csv")


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
