"""Small real-looking workspaces written by the tests themselves (never copies of real files)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from shapely.geometry import box, mapping

from diagnostic.workspace import create_workspace

# Three Hérault communes; 34144 absorbed 34093 on 1 January 2025
COMMUNES = [
    ({"code_insee": "34001", "nom": "Abeilhan", "population": 1850, "anciens_codes": ""}, (3.28, 43.44, 3.32, 43.48)),
    ({"code_insee": "34002", "nom": "Adissan", "population": 1371, "anciens_codes": ""}, (3.40, 43.52, 3.44, 43.56)),
    ({"code_insee": "34144", "nom": "Lunas-les-Châteaux", "population": 832, "anciens_codes": "34093"},
     (3.18, 43.68, 3.24, 43.74)),
]


def write_geojson(path: Path, features: list[tuple[dict, tuple]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": mapping(box(*bounds))}
        for props, bounds in features]}), encoding="utf-8")
    return path


def small_workspace(folder: Path) -> Path:
    """A three-commune workspace with one grouping level, created like a user would."""
    folder.mkdir(parents=True, exist_ok=True)
    communes = write_geojson(folder / "contours.geojson", COMMUNES)
    groupings = folder / "regroupements.csv"
    groupings.write_text("code_insee;TAS\n34001;Biterrois\n34002;Biterrois\n34144;Cœur d'Hérault\n", encoding="utf-8")
    create_workspace(folder / "ws", communes, None, groupings, "Hérault (essai)")
    return folder / "ws"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of a folder and the hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
