"""Placing real-looking partner lists on a small Hérault workspace: commune names, postcodes the
workspace knows, rows of other départements, one theme for a whole file, vintages of a dated list,
re-imports that keep what other files brought, and two writers at once."""

import threading

import pytest

from diagnostic.errors import InputError
from diagnostic.io.offer_files import FileDefaults
from diagnostic.offer_import import commune_key, import_offer
from diagnostic.workspace import import_groupings, import_indicators, load_workspace
from tests.workspaces import small_workspace

# An Aidants Connect-like list: no themes column, English headers, codes or postcodes only
AIDANTS = ("Name,ID,City Insee Code,Address,Zip Code,Siret,City,Nombre d'aidants\n"
           "CCAS Abeilhan,1,34001,1 place,34290,26340001300016.0,Abeilhan,3\n"
           "Mairie d'Adissan,2,,2 rue,34230,,,1\n"
           "CCAS Créteil,3,94028,3 av,94000,,Créteil,2\n"
           "Sans lieu,4,,,,,,1\n")


@pytest.fixture
def ws_path(tmp_path):
    return small_workspace(tmp_path)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("written, expected", [
    ("COMMUNE DE PEROLS", "perols"), ("Pérols", "perols"), ("Clermont L'Hérault", "clermont herault"),
    ("CLERMONT-L'HERAULT", "clermont herault"), ("St Pons de Thomières", "saint pons thomieres"),
    ("MONTPELLIER CEDEX 2", "montpellier"), ("Mairie de La Grande-Motte", "grande motte")])
def test_commune_names_are_compared_loosely(written, expected):
    assert commune_key(written) == expected


def test_a_list_without_themes_imports_with_one_theme_for_the_file(ws_path, tmp_path):
    path = write(tmp_path / "aidants_connect.csv", AIDANTS)
    with pytest.raises(InputError, match="thématique pour tout le fichier"):
        import_offer(load_workspace(ws_path), path)
    report = import_offer(load_workspace(ws_path), path, "csv", defaults=FileDefaults("Numérique", "", "en-presentiel"))
    assert report.imported == 1  # Adissan has a postcode the workspace does not know yet
    assert [e.line for e in report.ignored] == [4] and "94" in report.ignored[0].reason
    assert {e.line: e.field for e in report.errors} == {3: "code_postal", 5: "localisation"}
    assert "codes postaux" in report.errors[0].reason
    offer = load_workspace(ws_path).offer.set_index("name")
    assert offer.at["CCAS Abeilhan", "themes"] == ["numerique"] and offer.at["CCAS Abeilhan", "capacity"] == 3
    assert offer.at["CCAS Abeilhan", "siret"] == "26340001300016"


def test_postcodes_come_from_the_official_commune_list(ws_path, tmp_path):
    communes = write(tmp_path / "communes.csv", "code_insee,nom,epci_nom,codes_postaux\n34001,Abeilhan,CC A,34290\n"
                                                "34002,Adissan,CC A,34230\n34144,Lunas,CC B,34650\n")
    import_groupings(ws_path, communes, {"epci_nom": "EPCI"})
    assert load_workspace(ws_path).communes.set_index("code_insee")["postcodes"].to_dict() == {
        "34001": "34290", "34002": "34230", "34144": "34650"}
    path = write(tmp_path / "aidants_connect.csv", AIDANTS)
    report = import_offer(load_workspace(ws_path), path, "csv", defaults=FileDefaults("numerique"))
    assert report.imported == 2 and [e.line for e in report.errors] == [5]
    assert load_workspace(ws_path).offer.set_index("name").at["Mairie d'Adissan", "code_insee"] == "34002"


def test_a_place_is_found_by_its_commune_name(ws_path, tmp_path):
    path = write(tmp_path / "lieux.csv", "nom,thematiques,commune,code_postal\n"
                                         "COMMUNE D'ABEILHAN,numerique,ABEILHAN,34290\n"
                                         "Permanence,numerique,lunas les chateaux,\n"
                                         "Ailleurs,numerique,Pérols,34470\n")
    report = import_offer(load_workspace(ws_path), path)
    assert report.imported == 2
    assert [(e.line, e.field) for e in report.errors] == [(4, "commune")] and "Pérols" in report.errors[0].reason
    offer = load_workspace(ws_path).offer.set_index("name")
    assert offer["code_insee"].to_dict() == {"COMMUNE D'ABEILHAN": "34001", "Permanence": "34144"}
    assert set(offer["precision"]) == {"commune"}


def test_a_dated_list_replaces_its_older_vintage_and_never_the_reverse(ws_path, tmp_path):
    header = "MATRICULE,lib_france_services,insee_com,latitude,longitude\n"
    old = write(tmp_path / "france_services_2020-09.csv", header + "11,FS Abeilhan,34001,43.46,3.30\n"
                                                             "12,FS Adissan (fermée),34002,43.54,3.42\n")
    new = write(tmp_path / "liste-fs-2022-12-01.csv",
                "id_fs,lib_fs,insee_com,latitude,longitude\n11,France services Abeilhan,34001,43.461,3.301\n"
                "13,France services Lunas,34144,43.70,3.20\n")
    import_offer(load_workspace(ws_path), old)
    report = import_offer(load_workspace(ws_path), new)
    assert report.superseded == 1  # the closed one; the other is the same id, replaced
    offer = load_workspace(ws_path).offer
    assert sorted(offer["name"]) == ["France services Abeilhan", "France services Lunas"]
    again = import_offer(load_workspace(ws_path), old)
    assert again.imported == 0 and "plus ancienne" in again.stale[0]
    assert sorted(load_workspace(ws_path).offer["name"]) == ["France services Abeilhan", "France services Lunas"]


def test_reimporting_a_file_keeps_what_another_file_folded_into_it(ws_path, tmp_path):
    first = write(tmp_path / "partenaire.csv", "nom,thematiques,code_insee,siret\nAtelier,numerique,34001,123\n")
    second = write(tmp_path / "autre.csv", "nom,thematiques,code_insee,siret,publics\n"
                                           "Atelier numérique,numerique,34001,123,jeunes\n")
    import_offer(load_workspace(ws_path), first)
    assert len(import_offer(load_workspace(ws_path), second).merges) == 1
    import_offer(load_workspace(ws_path), first)  # the partner sends its file again
    offer = load_workspace(ws_path).offer
    assert len(offer) == 1 and offer.iloc[0]["publics"] == ["jeunes"]
    assert offer.iloc[0]["merged_from"] == ["autre:2"]


def test_a_service_at_an_approximate_structure_is_approximate(ws_path, tmp_path):
    structures = write(tmp_path / "structures.csv", "id,nom,typologie,code_insee,latitude,longitude,thematiques\n"
                                                    "s1,CCAS,CCAS,34001,,,numerique\n"
                                                    "s2,Mairie,MUNI,34002,43.54,3.42,numerique\n")
    services = write(tmp_path / "services.csv", "id,structure_id,nom,thematiques\nv1,s1,Permanence,numerique\n"
                                                "v2,s2,Atelier,numerique\n")
    import_offer(load_workspace(ws_path), structures)
    import_offer(load_workspace(ws_path), services)
    offer = load_workspace(ws_path).offer.set_index("name")
    assert offer.at["Permanence", "precision"] == "commune" and offer.at["Atelier", "precision"] == "exacte"


def test_two_imports_at_once_both_land(ws_path, tmp_path):
    files = []
    for n in range(6):
        files.append(write(tmp_path / f"t{n}.csv", f"code_insee;indicateur;numerateur;denominateur\n"
                                                   f"3400{1 + n % 2};part_60_ans_et_plus;{100 + n};1000\n"))
    offers = [write(tmp_path / f"o{n}.csv", f"nom,thematiques,code_insee\nLieu {n},numerique,34001\n") for n in range(6)]
    errors = []

    def run(job):
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    jobs = [lambda f=f: import_indicators(ws_path, f) for f in files[:2]]
    jobs += [lambda f=f: import_offer(load_workspace(ws_path), f) for f in offers]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ws = load_workspace(ws_path)
    assert sorted(ws.offer["name"]) == [f"Lieu {n}" for n in range(6)]
    seniors = ws.values[ws.values["indicator"] == "part_60_ans_et_plus"].set_index("code_insee")["numerator"]
    assert seniors.to_dict() == {"34001": 100, "34002": 101}


def test_a_table_of_one_commune_leaves_the_others_as_they_were(ws_path, tmp_path):
    full = write(tmp_path / "full.csv", "code_insee;indicateur;numerateur;denominateur\n34001;part_60_ans_et_plus;10;100\n"
                                        "34002;part_60_ans_et_plus;20;100\n34144;part_60_ans_et_plus;30;100\n")
    one = write(tmp_path / "one.csv", "code_insee;indicateur;numerateur;denominateur\n34002;part_60_ans_et_plus;25;100\n")
    import_indicators(ws_path, full)
    report = import_indicators(ws_path, one)
    assert any("2 commune(s) absente(s) du fichier gardent leur valeur" in w for w in report.details())
    values = load_workspace(ws_path).values
    seniors = values[values["indicator"] == "part_60_ans_et_plus"].set_index("code_insee")["numerator"]
    assert seniors.to_dict() == {"34001": 10, "34002": 25, "34144": 30}
