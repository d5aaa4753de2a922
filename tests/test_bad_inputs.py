"""A battery of bad files: each is refused with a French message naming the problem, and the
workspace is byte-for-byte unchanged afterwards."""

import io
import json
import shutil
import zipfile

import pytest
from openpyxl import Workbook

from diagnostic.errors import InputError
from diagnostic.io import geo
from diagnostic.offer_import import import_offer
from diagnostic.access.transit import import_gtfs
from diagnostic.workspace import create_workspace, import_groupings, import_indicators, load_workspace
from tests.workspaces import COMMUNES, small_workspace, snapshot

HEADER = "code_insee;indicateur;numerateur;denominateur\n"


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def geojson(features: list[tuple[dict, dict]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in features]}).encode()


SQUARE = {"type": "Polygon", "coordinates": [[[3.2, 43.4], [3.3, 43.4], [3.3, 43.5], [3.2, 43.5], [3.2, 43.4]]]}
FLAT = {"type": "Polygon", "coordinates": [[[3.2, 43.4], [3.3, 43.4], [3.25, 43.4], [3.2, 43.4]]]}
EMPTY = {"type": "Polygon", "coordinates": []}
SWAPPED = {"type": "Polygon", "coordinates": [[[43.4, 3.2], [43.4, 3.3], [43.5, 3.3], [43.5, 3.2], [43.4, 3.2]]]}
LAMBERT = {"type": "Polygon", "coordinates": [[[720000, 6270000], [721000, 6270000], [721000, 6271000],
                                               [720000, 6271000], [720000, 6270000]]]}

# (case id, importer, file name, content, expected words in the message)
CASES = [
    ("empty", "indicators", "vide.csv", b"", "vide"),
    ("blank lines", "indicators", "blanc.csv", b"\n\n  \n", "vide"),
    ("header only", "indicators", "entete.csv", HEADER.encode(), "aucune ligne de données"),
    ("truncated", "indicators", "tronque.csv", (HEADER + "34001;part_foyers_rsa;12;340\n34002;part_fo").encode(),
     "ligne 3.*tronqué"),
    ("binary", "indicators", "rapport.csv", b"%PDF-1.7\n\x00\x01\x02binary", "pas un fichier texte"),
    ("wrong separator", "indicators", "espaces.csv", b"code_insee indicateur numerateur\n34001 rsa 12\n",
     "séparateur n'est pas reconnu"),
    ("too many values", "indicators", "decale.csv", (HEADER + "34001;part_foyers_rsa;12;340;9\n").encode(),
     "ligne 2.*5 valeurs pour 4 colonnes"),
    ("duplicated codes wide", "indicators", "doublons.csv",
     b"CODGEO;population_municipale\n34001;1850\n34002;1371\n34001;1850\n", "ligne 4.*34001.*deux fois"),
    ("duplicated rows long", "indicators", "doublons_long.csv",
     (HEADER + "34001;part_foyers_rsa;1;2\n34001;part_foyers_rsa;1;2\n").encode(), "ligne 3.*déjà une valeur"),
    ("invalid code", "indicators", "codes.csv", (HEADER + "ABCDE;part_foyers_rsa;1;2\n").encode(),
     "ligne 2.*code commune invalide"),
    ("codes as numbers lost zeros", "indicators", "nombres.csv", (HEADER + "99;part_foyers_rsa;1;2\n").encode(),
     "ligne 2.*zéros initiaux"),
    ("negative", "indicators", "negatif.csv", (HEADER + "34001;part_foyers_rsa;-3;2\n").encode(),
     "ligne 2.*valeur négative"),
    ("text in a number", "indicators", "texte.csv", (HEADER + "34001;part_foyers_rsa;douze;340\n").encode(),
     "ligne 2.*numerateur.*n'est pas un nombre"),
    ("unknown indicator", "indicators", "inconnu.csv", (HEADER + "34001;chomage_martien;1;2\n").encode(),
     "indicateur inconnu"),
    ("EPCI file", "indicators", "ifn_epci.csv", b"name,code,total\nCC A,200017341,6.7\nCC B,200022986,4.3\n",
     "EPCI.*SIREN"),
    ("other departement", "indicators", "val_de_marne.csv", b"CODGEO;population_municipale\n94001;8000\n",
     "aucune ligne ne concerne"),
    ("no known column", "indicators", "inconnues.csv", b"CODGEO;VAR_X\n34001;1\n", "aucune colonne n'est associée"),
    ("old xls", "indicators", "ancien.xls", b"\xd0\xcf\x11\xe0 old excel", r"\.xls"),
    ("damaged xlsx", "indicators", "abime.xlsx", b"PK\x03\x04 not really a workbook", "illisible ou endommagé"),
    ("xlsx title row and duplicates", "indicators", "titre.xlsx",
     xlsx([["Populations légales 2023"], [], ["CODGEO", "PMUN23"], [34001, 1850], [34001, 1850]]),
     "ligne 5.*deux fois"),
    ("nominative", "indicators", "beneficiaires.csv",
     "Nom;Prénom;Date de naissance;code_insee\nDupont;Marie;1980-02-03;34001\n".encode(), "données personnelles"),
    ("NIR", "indicators", "nir.csv", b"code_insee;numero\n34001;180027512345678\n34002;280027512345612\n",
     "sécurité sociale"),
    ("unnamed column", "indicators", "sans_nom.csv", b"code_insee;;population_municipale\n34001;x;1850\n",
     "colonne n° 2 n'a pas de nom"),
    ("duplicated column", "indicators", "colonnes.csv",
     b"code_insee;population_municipale;population_municipale\n34001;1;2\n", "apparaît deux fois"),
    ("groupings incomplete", "groupings", "tas.csv", b"code_insee;TAS\n34001;Nord\n", "sans groupe"),
    ("groupings unknown commune", "groupings", "tas2.csv",
     b"code_insee;TAS\n34001;Nord\n34002;Sud\n34144;Sud\n34999;Sud\n", "34999.*pas dans l'espace"),
    ("groupings duplicated", "groupings", "tas3.csv", b"code_insee;TAS\n34001;Nord\n34001;Sud\n34002;Sud\n",
     "ligne 3.*deux fois"),
    ("correspondence with one code column", "correspondence", "passage.csv",
     b"ancien;libelle\n34093;Dio\n", "deux colonnes de codes"),
    ("Lambert-93 labelled WGS84", "communes", "lambert.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, LAMBERT)]), "en mètres"),
    ("empty polygon", "communes", "vides.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, SQUARE),
              ({"code_insee": "34002", "nom": "B", "population": 10}, EMPTY)]), "34002.*(vide|polygone)"),
    ("flat polygon", "communes", "plat.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, FLAT)]), "34001.*aucune surface"),
    ("infinite population", "communes", "infini.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": float("inf")}, SQUARE)]), "population"),
    ("latitude and longitude swapped", "communes", "inverse.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, SWAPPED)]), "semblent inversées"),
    ("Lambert-93 declared as another projection", "communes", "utm.geojson",
     json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:32631"}},
                 "features": [{"type": "Feature", "properties": {"code_insee": "34001", "nom": "A", "population": 10},
                               "geometry": LAMBERT}]}).encode(), "hors de France.*EPSG:32631"),
    ("population point far away", "communes", "point_pop.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10, "pop_lon": 2.35, "pop_lat": 48.85}, SQUARE)]),
     "ligne 1.*point de population"),
    ("zip with ../", "communes", "contours.zip", zipped({"../../etc/contours.shp": b"x"}), "chemin dangereux"),
    ("zip bomb", "communes", "bombe.zip", zipped({"communes.geojson": b" " * 50_000}), "trop volumineuse"),
    ("truncated geojson", "communes", "coupe.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, SQUARE)])[:60], "illisible"),
    ("points not polygons", "communes", "points.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, {"type": "Point", "coordinates": [3, 43]})]),
     "pas de polygone"),
    ("duplicated boundaries", "communes", "doubles.geojson",
     geojson([({"code_insee": "34001", "nom": "A", "population": 10}, SQUARE)] * 2), "34001.*deux fois"),
    ("offer empty", "offer", "offre.csv", b"", "vide"),
    ("offer nominative", "offer", "offre_nominative.csv",
     "nom;prénom;date de naissance;code_insee\nA;B;2000-01-01;34001\n".encode(), "données personnelles"),
    ("gtfs without stops", "gtfs", "reseau.zip", zipped({"agency.txt": b"agency_id,agency_name\n1,R\n"}), "stops.txt"),
]


@pytest.fixture(scope="module")
def base_workspace(tmp_path_factory):
    return small_workspace(tmp_path_factory.mktemp("base"))


@pytest.fixture
def workspace(base_workspace, tmp_path):
    target = tmp_path / "ws"
    shutil.copytree(base_workspace, target)
    return target


def run(importer: str, workspace, path) -> None:
    if importer == "indicators":
        import_indicators(workspace, path)
    elif importer == "groupings":
        import_groupings(workspace, path)
    elif importer == "correspondence":
        good = path.with_name("population.csv")
        good.write_text("code_insee,population_municipale\n34001,1850\n34002,1371\n34144,832\n", encoding="utf-8")
        import_indicators(workspace, good, correspondence_file=path)
    elif importer == "communes":
        create_workspace(workspace.parent / "nouveau", path)
    elif importer == "offer":
        import_offer(load_workspace(workspace), path)
    elif importer == "gtfs":
        import_gtfs(load_workspace(workspace), path)


def test_the_battery_has_at_least_thirty_files():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case, importer, name, content, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_in_french_and_changes_nothing(workspace, tmp_path, monkeypatch,
                                                          case, importer, name, content, expected):
    monkeypatch.setattr(geo, "MAX_UNZIPPED", 10_000)  # a bomb in miniature: same check, small file
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(workspace)
    with pytest.raises(InputError, match=expected) as info:
        run(importer, workspace, path)
    message = info.value.french()
    assert name in message or importer in ("correspondence",), message
    assert "Traceback" not in message
    assert snapshot(workspace) == before
    assert not (workspace.parent / "nouveau").exists()


def test_a_huge_file_is_refused_before_being_read(workspace, tmp_path):
    path = tmp_path / "national.csv"
    with path.open("wb") as handle:  # sparse: 201 MB on paper, nothing on disk
        handle.write(HEADER.encode())
        handle.truncate(201 * 2**20)
    before = snapshot(workspace)
    with pytest.raises(InputError, match="trop volumineux.*201 Mo.*limite 200 Mo"):
        import_indicators(workspace, path)
    assert snapshot(workspace) == before


def test_the_small_workspace_is_a_fair_target(workspace):
    ws = load_workspace(workspace)
    assert ws.communes["code_insee"].tolist() == [p["code_insee"] for p, _ in COMMUNES]
    assert ws.correspondence.values.tolist() == [["34093", "34144"]]


def test_every_operation_on_a_read_only_workspace_is_a_french_message(workspace, tmp_path, monkeypatch):
    import errno
    import pathlib
    from diagnostic.access.white_zones import CoverageParams
    from diagnostic.open_catalogue import NewIndicator, add_indicator
    from diagnostic.workspace import save_groupings, save_retained_coverage, save_secret_threshold
    feed = tmp_path / "reseau.zip"
    feed.write_bytes(zipped({"stops.txt": b"stop_id,stop_name,stop_lat,stop_lon\nA,Centre,43.46,3.30\n"}))
    table = tmp_path / "t.csv"
    table.write_text(HEADER + "34001;part_60_ans_et_plus;1;10\n", encoding="utf-8")
    offer = tmp_path / "o.csv"
    offer.write_text("nom,thematiques,code_insee\nLieu,numerique,34001\n", encoding="utf-8")
    groups = tmp_path / "g.csv"
    groups.write_text("code_insee;EPCI\n34001;A\n34002;A\n34144;B\n", encoding="utf-8")
    ws = load_workspace(workspace)

    def refuse(self, target):
        raise OSError(errno.EROFS, "Read-only file system", str(target))

    monkeypatch.setattr(pathlib.Path, "replace", refuse)
    operations = [
        lambda: import_indicators(workspace, table), lambda: import_offer(ws, offer),
        lambda: import_groupings(workspace, groups), lambda: save_groupings(workspace, ws.groupings),
        lambda: import_gtfs(ws, feed),
        lambda: add_indicator(workspace, table.with_name("p.csv"), NewIndicator("valeur_x", "X", ["valeur"])),
        lambda: save_retained_coverage(workspace, [CoverageParams(themes=("numerique",))]),
        lambda: save_secret_threshold(workspace, 7, "moi"),
    ]
    table.with_name("p.csv").write_text("code_insee;valeur\n34001;1\n34002;2\n34144;3\n", encoding="utf-8")
    for operation in operations:
        with pytest.raises(InputError, match="lecture seule") as info:
            operation()
        assert "Traceback" not in info.value.french() and str(tmp_path) not in info.value.french()
