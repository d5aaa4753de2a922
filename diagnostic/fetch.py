"""Build a workspace from official open data when the network is reachable.

Today: the communes of a département (boundaries, population, postcodes) and their EPCI from the
national geographic API (geo.api.gouv.fr). Offline, it says so in French and creates nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.workspace import Workspace, create_workspace

GEO_API = "https://geo.api.gouv.fr"
TIMEOUT_S = 20


def _get(url: str) -> bytes:
    """One HTTP GET (replaced by recorded responses in the tests)."""
    request = urllib.request.Request(url, headers={"User-Agent": "diagnostic-pti"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - fixed https host
        return response.read()


def fetch_departement(code: str, path: Path, get=_get) -> Workspace:
    """Create a workspace for département `code` from geo.api.gouv.fr (communes and EPCI)."""
    code = code.strip().upper()
    if not re.fullmatch(r"\d{2}|2[AB]|97\d", code):
        raise InputError(f"code de département invalide « {code} ».", field="--departement",
                         fix="Exemples : 01, 2A, 94, 974.")
    fields = "code,nom,population,codesPostaux,codeEpci,contour"
    try:
        communes = json.loads(get(f"{GEO_API}/departements/{code}/communes?fields={fields}"
                                  f"&format=geojson&geometry=contour"))
        epci = json.loads(get(f"{GEO_API}/departements/{code}/epcis?fields=code,nom"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InputError(f"les données ouvertes ne sont pas joignables ({exc}).",
                         fix="Vérifiez la connexion à Internet, ou créez l'espace de travail à partir de "
                             "fichiers (page « Nouveau territoire »). Rien n'a été créé.") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"réponse inattendue de {GEO_API} ({exc}).", fix="Réessayez plus tard. Rien n'a été créé.")
    features = communes.get("features", [])
    if not features:
        raise InputError(f"aucune commune trouvée pour le département {code}.", field="--departement")
    names = {e["code"]: e["nom"] for e in epci}
    with tempfile.TemporaryDirectory() as tmp:
        for feature in features:
            props = feature["properties"]
            props["code_insee"] = props.pop("code")
            props["codes_postaux"] = "|".join(props.pop("codesPostaux", []) or [])
            props["population"] = props.get("population") or 0
        communes_file = Path(tmp) / "communes.geojson"
        communes_file.write_text(json.dumps(communes), encoding="utf-8")
        groupings_file = Path(tmp) / "regroupements.csv"
        pd.DataFrame({"code_insee": [f["properties"]["code_insee"] for f in features],
                      "EPCI": [names.get(f["properties"].get("codeEpci"), "Hors EPCI") for f in features]}
                     ).to_csv(groupings_file, sep=";", index=False, encoding="utf-8")
        return create_workspace(path, communes_file, None, groupings_file,
                                name=f"Département {code} (données ouvertes)")
