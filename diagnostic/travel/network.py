"""The road and walking networks of a workspace, built offline from an OpenStreetMap extract.

`import_roads` keeps the ways of the extract that reach the territory plus a margin (pyosmium),
prepares a car graph and a walking graph with OSRM (extract, partition, customize: the MLD
pipeline), and stores them in ``reseau/`` with the extract's date. Times are searched on the graph
the extract step writes (`graph.py`); the MLD files keep the network answerable by OSRM itself.
The new network is built in a staging folder and replaces the old one whole, so a failure leaves
the workspace as it was.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from diagnostic.errors import InputError
from diagnostic.indicators import french_date
from diagnostic.io.lock import workspace_lock

NETWORK_DIR = "reseau"
INFO_FILE = "reseau.json"
GRAPH = "reseau.osrm"
BUNDLED_EXTRACT = "reseau.osm.pbf"  # a workspace's own extract (the demo's): built on first use
PROFILES = {"route": "car", "marche": "foot"}  # mode → OSRM profile
PROFILE_LABELS = {"route": "voiture", "marche": "à pied"}
# OSRM's car profile: speed by road class, and 80 % of a tagged maxspeed; its foot profile walks at 5 km/h
CAR_SPEEDS = {"motorway": 90, "motorway_link": 45, "trunk": 85, "trunk_link": 40, "primary": 65, "primary_link": 30,
              "secondary": 55, "secondary_link": 25, "tertiary": 40, "tertiary_link": 20, "unclassified": 25,
              "residential": 25, "living_street": 10, "service": 15}
MAXSPEED_ZONES = {"fr:urban": 50, "fr:rural": 80, "fr:trunk": 110, "fr:motorway": 130, "fr:zone30": 30}
WALK_TOP_KMH = 5.0
MARGIN_DEG = 0.15  # about 12–17 km around the territory: trips that leave it and come back
# each OSRM step may use three quarters of the machine's memory; beyond it the import stops with a message
MEMORY_LIMIT_BYTES = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.75)
STEP_TIMEOUT_S = 3600
ATTRIBUTION = "© les contributeurs d'OpenStreetMap (ODbL)"
PBF_MAGIC = b"OSMHeader"


@dataclass(frozen=True)
class NetworkInfo:
    """What the workspace's network was built from; shown with every result in minutes."""

    source: str  # the extract's file name
    extract_date: str  # the extract's replication timestamp (YYYY-MM-DD), or "" when unknown
    imported_at: str
    ways: int  # highway ways kept around the territory
    bbox: tuple[float, float, float, float]  # lon/lat of the kept area
    seconds: dict  # preparation time per mode
    peak_mb: dict  # peak memory of the OSRM steps per mode
    top_kmh: dict | None = None  # the fastest speed of the network per mode: a bound on travel times

    def top_speed(self, mode: str) -> float:
        return float((self.top_kmh or {}).get(mode) or (130.0 if mode == "route" else WALK_TOP_KMH))

    def date_text(self) -> str:
        """« extrait OpenStreetMap du 5 mars 2016 » or « date inconnue »."""
        return f"extrait du {french_date(self.extract_date)}" if self.extract_date else "date de l'extrait inconnue"

    def credit(self) -> str:
        """The attribution line every export carries."""
        return f"Réseau routier et piéton : {ATTRIBUTION}, {self.date_text()} (fichier « {self.source} »)."


def graph_path(ws_path: Path, mode: str) -> Path:
    return Path(ws_path) / NETWORK_DIR / mode / GRAPH


def network_info(ws_path: Path) -> NetworkInfo | None:
    """The imported network of a workspace, None when there is none (or it is incomplete)."""
    file = Path(ws_path) / NETWORK_DIR / INFO_FILE
    if not file.is_file() or not all(graph_path(ws_path, m).with_suffix(".osrm.partition").is_file()
                                     for m in PROFILES):
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    return NetworkInfo(**{**data, "bbox": tuple(data["bbox"])})


def network_available(ws_path: Path) -> bool:
    """True when times on the network can be computed (imported, or a bundled extract to build)."""
    return network_info(ws_path) is not None or (Path(ws_path) / BUNDLED_EXTRACT).is_file()


def ensure_network(ws_path: Path, bounds: tuple[float, float, float, float]) -> NetworkInfo | None:
    """The workspace's network, built first from its own bundled extract when it has one."""
    info = network_info(ws_path)
    bundled = Path(ws_path) / BUNDLED_EXTRACT
    if info is None and bundled.is_file():
        with workspace_lock(ws_path, wait_s=300):
            info = network_info(ws_path) or import_roads(ws_path, bundled, bounds)
    return info


def osrm_home() -> Path:
    """Where the osrm-bindings wheel keeps its programs and profiles."""
    import osrm
    return Path(osrm.__file__).parent


def import_roads(ws_path: Path, pbf: Path, bounds: tuple[float, float, float, float],
                 progress: Callable[[float, str], None] | None = None, source_name: str | None = None) -> NetworkInfo:
    """Build the car and walking networks of the territory (lon/lat `bounds`) from an extract."""
    ws_path, pbf = Path(ws_path), Path(pbf)
    name = source_name or pbf.name
    say = progress or (lambda share, text: None)
    check_pbf(pbf, name)
    bbox = (bounds[0] - MARGIN_DEG, bounds[1] - MARGIN_DEG, bounds[2] + MARGIN_DEG, bounds[3] + MARGIN_DEG)
    staging = Path(tempfile.mkdtemp(prefix=".reseau-", dir=ws_path))
    try:
        say(0.05, "Lecture de l'extrait et découpage autour du territoire…")
        clipped = staging / "territoire.osm.pbf"
        ways, extract_date, car_top = clip(pbf, clipped, bbox, name)
        seconds, peaks = {}, {}
        for step, (mode, profile) in enumerate(PROFILES.items()):
            say(0.2 + 0.4 * step, f"Préparation du réseau {PROFILE_LABELS[mode]} (OSRM)…")
            folder = staging / mode
            folder.mkdir()
            shutil.copy(clipped, folder / "reseau.osm.pbf")
            started = time.perf_counter()
            peaks[mode] = prepare(folder / "reseau.osm.pbf", profile, name)
            seconds[mode] = round(time.perf_counter() - started, 2)
            (folder / "reseau.osm.pbf").unlink()
        clipped.unlink()
        info = NetworkInfo(name, extract_date, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), ways,
                           tuple(round(v, 5) for v in bbox), seconds, peaks, {"route": car_top, "marche": WALK_TOP_KMH})
        (staging / INFO_FILE).write_text(json.dumps(asdict(info), ensure_ascii=False, indent=1), encoding="utf-8")
        say(0.95, "Enregistrement du réseau dans l'espace de travail…")
        with workspace_lock(ws_path):
            target = ws_path / NETWORK_DIR
            old = ws_path / f".reseau-ancien-{os.getpid()}"
            if target.exists():
                target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        say(1.0, "Réseau importé.")
        return info
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_pbf(pbf: Path, name: str) -> None:
    """Refuse what is not an OpenStreetMap PBF extract before reading it."""
    try:
        head = pbf.open("rb").read(64)
    except OSError as exc:
        raise InputError("fichier illisible.", file=name, fix="Vérifiez le fichier choisi.") from exc
    if PBF_MAGIC not in head:
        raise InputError("ce n'est pas un extrait OpenStreetMap au format PBF.", file=name,
                         fix="Téléchargez l'extrait de votre région au format « .osm.pbf » (par exemple sur "
                             "download.geofabrik.de/europe/france.html) et importez ce fichier.")


def clip(pbf: Path, out: Path, bbox: tuple[float, float, float, float], name: str) -> tuple[int, str, float]:
    """Write the highway ways with a node in `bbox` (and their nodes) and the turn restrictions
    between them to `out`; the ways' count, the extract's date and the top car speed of the kept ways."""
    import osmium

    west, south, east, north = bbox
    kept, top = set(), 0.0
    try:
        reader = osmium.io.Reader(str(pbf), osmium.osm.NOTHING)
        header = reader.header()
        stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or ""
        reader.close()
        with osmium.BackReferenceWriter(str(out), ref_src=str(pbf), overwrite=True) as writer:
            wanted = osmium.osm.WAY | osmium.osm.RELATION
            processor = (osmium.FileProcessor(str(pbf), osmium.osm.NODE | wanted).with_locations()
                         .with_filter(osmium.filter.EntityFilter(wanted)))
            for item in processor:  # ways come before relations in an extract
                if item.is_way() and "highway" in item.tags and _reaches(item, west, south, east, north):
                    writer.add_way(item)
                    kept.add(item.id)
                    top = max(top, car_speed(item.tags.get("highway", ""), item.tags.get("maxspeed", "")))
                elif (item.is_relation() and item.tags.get("type") == "restriction"
                      and all(member.type != "w" or member.ref in kept for member in item.members)):
                    writer.add_relation(item)
    except RuntimeError as exc:
        raise InputError("l'extrait OpenStreetMap est endommagé ou tronqué.", file=name,
                         fix="Téléchargez-le de nouveau puis recommencez ; le réseau de l'espace n'a pas changé.") from exc
    if not kept:
        raise InputError("aucune route de l'extrait n'atteint le territoire.", file=name,
                         fix="Choisissez l'extrait de la région (ou du pays) qui contient le département.")
    return len(kept), stamp[:10], top or 130.0


def _reaches(way, west: float, south: float, east: float, north: float) -> bool:
    """Whether a way has a node in the box."""
    for node in way.nodes:
        location = node.location
        if location.valid() and west <= location.lon <= east and south <= location.lat <= north:
            return True
    return False


def car_speed(highway: str, maxspeed: str) -> float:
    """The speed OSRM's car profile can give a way (km/h), 0 for a way cars do not use."""
    text = maxspeed.strip().lower()
    tagged = MAXSPEED_ZONES.get(text) or (float(text.split()[0]) if text.split() and text.split()[0].isdigit()
                                           else 0.0)
    if "mph" in text:
        tagged *= 1.609
    return max(float(CAR_SPEEDS.get(highway, 0)), 0.8 * tagged if highway in CAR_SPEEDS else 0.0)


def prepare(pbf: Path, profile: str, name: str) -> dict:
    """OSRM's MLD pipeline on one extract; the peak memory of its steps (MiB)."""
    home = osrm_home()
    graph = pbf.with_name(GRAPH)
    steps = [["osrm-extract", "-p", str(home / "share" / "profiles" / f"{profile}.lua"), "-t", "2", str(pbf)],
             ["osrm-partition", "-t", "2", str(graph)], ["osrm-customize", "-t", "2", str(graph)]]
    peak = 0.0
    for program, *arguments in steps:
        try:
            done = subprocess.run([str(home / "bin" / program), *arguments], capture_output=True, text=True,
                                  timeout=STEP_TIMEOUT_S, preexec_fn=_limit_memory, cwd=pbf.parent)
        except subprocess.TimeoutExpired as exc:
            raise InputError("la préparation du réseau a dépassé une heure.", file=name,
                             fix="Importez un extrait plus petit (celui de la région plutôt que du pays).") from exc
        if done.returncode != 0:
            output = (done.stderr + done.stdout).lower()
            if "bad_alloc" in output or "memory" in output or done.returncode < 0 or done.returncode == 137:
                # out of memory: std::bad_alloc, or killed (OOM killer) or crashed at the memory limit
                raise InputError("la mémoire de la machine ne suffit pas pour préparer ce réseau.", file=name,
                                 fix="Importez un extrait plus petit (celui de la région plutôt que du pays), ou "
                                     "faites-le sur une machine qui a plus de mémoire.")
            raise InputError("OSRM n'a pas pu préparer le réseau à partir de cet extrait.", file=name,
                             fix="Vérifiez qu'il s'agit d'un extrait OpenStreetMap complet (.osm.pbf).")
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return round(peak / 1024, 1)


def _limit_memory(limit: int | None = None) -> None:
    limit = limit or MEMORY_LIMIT_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
