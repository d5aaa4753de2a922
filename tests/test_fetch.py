"""Fetching official open data: recorded responses only, never the network."""

import json
import urllib.error

import geopandas as gpd
import pytest

from diagnostic.errors import InputError
from diagnostic.fetch import fetch_departement
from diagnostic.workspace import DEMO_WORKSPACE


def recorded(url: str) -> bytes:
    """Answers shaped like geo.api.gouv.fr's, built from the demo communes."""
    if "/epcis" in url:
        return json.dumps([{"code": "200000001", "nom": "CC des Essais"}]).encode()
    demo = gpd.read_file(DEMO_WORKSPACE / "communes.geojson").head(3)
    features = [{"type": "Feature", "geometry": json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"],
                 "properties": {"code": code, "nom": name, "population": int(pop), "codesPostaux": ["00100", "00101"],
                                "codeEpci": "200000001" if i < 2 else None}}
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
    assert ws.communes["code_insee"].tolist() == ["00001", "00002", "00003"]
    assert ws.communes["postcodes"].iloc[0] == "00100|00101"
    assert ws.groupings["EPCI"].tolist() == ["CC des Essais", "CC des Essais", "Hors EPCI"]


def test_offline_fetch_says_so_and_creates_nothing(tmp_path):
    def offline(url):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(InputError, match="pas joignables.*Rien n'a été créé"):
        fetch_departement("94", tmp_path / "ws", get=offline)
    assert not (tmp_path / "ws").exists()


def test_bad_departement_code(tmp_path):
    with pytest.raises(InputError, match="code de département invalide"):
        fetch_departement("9X", tmp_path / "ws", get=recorded)
