"""Build a workspace from official open data when the network is reachable.

The communes of a département (boundaries, population, postcodes) and their EPCI come from the
national geographic API (geo.api.gouv.fr); the insertion offer from the datasets published on
data.gouv.fr (data·inclusion structures, lieux de médiation numérique, France services), whose
latest file is found through the data.gouv.fr catalogue API and imported like an uploaded file.
Offline, it says so in French and creates nothing; an offer source that cannot be read is
reported and left out. The workspace is assembled aside and appears whole, or not at all.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from diagnostic.errors import InputError
from diagnostic.io.offer_files import read_any
from diagnostic.io.tables import MAX_FILE_BYTES
from diagnostic.offer_import import import_offer
from diagnostic.workspace import Workspace, create_workspace, load_workspace

GEO_API = "https://geo.api.gouv.fr"
DATA_GOUV_API = "https://www.data.gouv.fr/api/1/datasets"
TIMEOUT_S = 60
# (label, data.gouv.fr dataset, word in the resource title, importer format)
OFFER_SOURCES = [
    ("data·inclusion (structures)", "referentiel-de-loffre-dinsertion-liste-des-structures-et-services-dinsertion",
     "structures", "datainclusion"),
    ("Lieux de médiation numérique",
     "lieux-de-mediation-numerique-sur-le-territoire-national-fournis-par-data-inclusion", "", "mednum"),
    ("France services", "liste-des-structures-france-services", "", "france-services"),
]
NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, OSError)


def _get(url: str) -> bytes:
    """One HTTP GET (replaced by recorded responses in the tests); larger answers than the
    import limit are refused."""
    request = urllib.request.Request(url, headers={"User-Agent": "diagnostic-pti"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - https sources
        body = response.read(MAX_FILE_BYTES + 1)
    if len(body) > MAX_FILE_BYTES:
        raise OSError(f"réponse de plus de {MAX_FILE_BYTES // 2**20} Mo")
    return body


def latest_resource(dataset: str, word: str, get=_get) -> tuple[str, str]:
    """The URL and file name of a data.gouv.fr dataset's most recent CSV or JSON resource (whose
    title contains `word`)."""
    meta = json.loads(get(f"{DATA_GOUV_API}/{dataset}/"))
    resources = [r for r in meta.get("resources", [])
                 if str(r.get("format", "")).lower() in ("csv", "json") and word in str(r.get("title", "")).lower()]
    if not resources:
        raise OSError(f"aucun fichier CSV ou JSON dans le jeu de données « {dataset} »")
    best = max(resources, key=lambda r: (str(r.get("last_modified", "")), str(r.get("format", "")).lower() == "csv"))
    name = re.sub(r"[^\w.-]+", "_", best["url"].rstrip("/").rsplit("/", 1)[-1]) or f"{dataset}.{best['format']}"
    if not name.lower().endswith((".csv", ".json")):
        name += f".{str(best['format']).lower()}"
    return best["url"], name


def fetch_departement(code: str, path: Path, get=_get) -> Workspace:
    """Create a workspace for département `code`: communes and EPCI from geo.api.gouv.fr, then the
    offer sources of data.gouv.fr (each one reported in the workspace's import notes)."""
    code = code.strip().upper()
    if not re.fullmatch(r"\d{2}|2[AB]|97\d", code):
        raise InputError(f"code de département invalide « {code} ».", field="--departement",
                         fix="Exemples : 01, 2A, 94, 974.")
    fields = "code,nom,population,codesPostaux,codeEpci,contour"
    try:
        communes = json.loads(get(f"{GEO_API}/departements/{code}/communes?fields={fields}"
                                  f"&format=geojson&geometry=contour"))
        epci = json.loads(get(f"{GEO_API}/departements/{code}/epcis?fields=code,nom"))
    except NETWORK_ERRORS as exc:
        raise InputError("les données ouvertes ne sont pas joignables (pas de connexion à Internet, ou service indisponible).",
                         fix="Vérifiez la connexion à Internet, ou créez l'espace de travail à partir de "
                             "fichiers (page « Nouveau territoire »). Rien n'a été créé.") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"réponse inattendue de {GEO_API}.", fix="Réessayez plus tard. Rien n'a été créé.")
    features = communes.get("features", [])
    if not features:
        raise InputError(f"aucune commune trouvée pour le département {code}.", field="--departement")
    names = {e["code"]: e["nom"] for e in epci}
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise InputError("le dossier existe déjà et n'est pas vide.", file=str(path),
                         fix="Choisissez un nouveau dossier pour l'espace de travail.")
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
        staging = path.parent / f".fetch-{path.name}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            create_workspace(staging, communes_file, None, groupings_file,
                             name=f"Département {code} (données ouvertes)")
            notes = [_fetch_offer(staging, code, label, dataset, word, fmt, Path(tmp), get)
                     for label, dataset, word, fmt in OFFER_SOURCES]
            meta_file = staging / "workspace.json"
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            meta["import_warnings"] = [*meta.get("import_warnings", []), *notes]
            meta_file.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            if path.exists():
                path.rmdir()
            staging.rename(path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return load_workspace(path)


def in_departement(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """The rows of a national offer file located in a département (by commune code, postcode or
    département column)."""
    keep = pd.Series(False, index=frame.index)
    lower = {c.lower(): c for c in frame.columns}
    for name in ("code_insee", "insee_com", "code_postal", "adresse_code_postal"):
        if name in lower:
            keep |= frame[lower[name]].astype(str).str.strip().str.zfill(5).str.startswith(code)
    for name in ("insee_dep", "departement", "code_departement"):
        if name in lower:
            keep |= frame[lower[name]].astype(str).str.strip().str.zfill(2) == code
    return frame[keep]


def _fetch_offer(workspace: Path, code: str, label: str, dataset: str, word: str, fmt: str, folder: Path,
                 get) -> str:
    """Download one offer source and import it; returns what happened, in French."""
    try:
        url, name = latest_resource(dataset, word, get)
        download = folder / name
        download.write_bytes(get(url))
        file = folder / f"{Path(name).stem}_{code}.csv"
        in_departement(read_any(download), code).to_csv(file, index=False, encoding="utf-8")
        report = import_offer(load_workspace(workspace), file, fmt, display_name=f"{label} ({name})")
    except (*NETWORK_ERRORS, json.JSONDecodeError, KeyError) as exc:
        return f"{label} : source non récupérée (connexion ou format) ; importez le fichier depuis la page « Offre d'insertion »."
    except InputError as exc:
        return f"{label} : fichier non importé ({exc.french()})"
    return f"{label} : {report.summary()}"
