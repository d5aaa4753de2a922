"""Fetching official open data: recorded responses only, never the network."""

import json
import urllib.error
from pathlib import Path

import geopandas as gpd
import pytest

from diagnostic.errors import InputError
from diagnostic.fetch import DATA_GOUV_API, OFFER_SOURCES, fetch_departement
from diagnostic.workspace import DEMO_WORKSPACE

FIXTURES = Path(__file__).parent / "fixtures" / "offer"
FILES = {"datainclusion": "datainclusion_structures.csv", "mednum": "mednum_lieux.csv",
         "france-services": "france_services_2022-12-01.csv"}


def recorded(url: str) -> bytes:
    """Answers shaped like geo.api.gouv.fr's and data.gouv.fr's, built from the demo territory."""
    for _, dataset, word, fmt in OFFER_SOURCES:
        if url == f"{DATA_GOUV_API}/{dataset}/":
            return json.dumps({"resources": [
                {"title": f"Ancienne liste {word}", "format": "csv", "last_modified": "2021-01-01T00:00:00",
                 "url": "https://static.data.gouv.fr/old.csv"},
                {"title": f"Liste {word} du jour", "format": "csv", "last_modified": "2026-11-20T06:00:00",
                 "url": f"https://static.data.gouv.fr/resources/{FILES[fmt]}"},
                {"title": "Documentation", "format": "pdf", "last_modified": "2026-11-21T00:00:00",
                 "url": "https://static.data.gouv.fr/doc.pdf"}]}).encode()
    if url.startswith("https://static.data.gouv.fr/resources/"):
        return (FIXTURES / url.rsplit("/", 1)[1]).read_bytes()
    if "/epcis" in url:
        return json.dumps([{"code": "200000001", "nom": "CC des Essais"}]).encode()
    demo = gpd.read_file(DEMO_WORKSPACE / "communes.geojson")
    features = [{"type": "Feature", "geometry": json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"],
                 "properties": {"code": code, "nom": name, "population": int(pop), "codesPostaux": ["00100", "00101"],
                                "codeEpci": "200000001" if i < 150 else None}}
                for i, (code, name, pop, g) in enumerate(zip(demo["code_insee"], demo["name"], demo["population"],
                                                             demo.geometry))]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_fetch_builds_a_workspace_from_recorded_answers(tmp_path):
    urls = []

    def get(url):
        urls.append(url)
        return recorded(url)

    ws = fetch_departement("00", tmp_path / "ws", get=get)
    assert urls[0].startswith("https://geo.api.gouv.fr/departements/00/communes")
    assert ws.communes["code_insee"].tolist()[:3] == ["00001", "00002", "00003"]
    assert ws.communes["postcodes"].iloc[0] == "00100|00101"
    assert ws.groupings["EPCI"].value_counts().to_dict() == {"CC des Essais": 150, "Hors EPCI": 50}
    assert "https://static.data.gouv.fr/old.csv" not in urls  # the latest CSV of each dataset
    sources = set(ws.offer["source"])
    assert len(ws.offer) > 0 and len(sources) >= 2, sources
    notes = ws.meta["import_warnings"]
    assert [n.split(" : ")[0] for n in notes] == [label for label, *_ in OFFER_SOURCES]
    assert all("importé(s)" in n for n in notes), notes


def test_an_unreachable_offer_source_is_reported_and_the_rest_is_kept(tmp_path):
    def get(url):
        if "france-services" in url:
            raise urllib.error.URLError("timed out")
        return recorded(url)

    ws = fetch_departement("00", tmp_path / "ws", get=get)
    assert "France services : source non récupérée" in ws.meta["import_warnings"][-1]
    assert len(ws.offer) > 0
    assert not any(p.name.startswith(".fetch-") for p in tmp_path.iterdir())


def test_offline_fetch_says_so_and_creates_nothing(tmp_path):
    def offline(url):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(InputError, match="pas joignables.*Rien n'a été créé"):
        fetch_departement("94", tmp_path / "ws", get=offline)
    assert not (tmp_path / "ws").exists()


def test_bad_departement_code(tmp_path):
    with pytest.raises(InputError, match="code de département invalide"):
        fetch_departement("9X", tmp_path / "ws", get=recorded)
