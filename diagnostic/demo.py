"""Deterministic generator of the fictional demo département.

Communes are Voronoi cells around irregularly spaced seats, their shared borders roughened by
midpoint displacement and rebuilt by polygonisation, so neighbours share exactly the same border.
Populations follow a préfecture, a few towns and their suburbs, rural bourgs and small villages.
Social indicators follow smooth spatial fields (urban priority neighbourhoods, a poor rural
sector, remote uplands without very-high-speed internet), drawn as binomial counts so that small
villages have small, maskable counts.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Point, Polygon

from diagnostic import DEMO_LABEL
from diagnostic.access.grid import import_grid
from diagnostic.demo_offer import TO_WGS84, generate_offer, generate_stops
from diagnostic.demo_roads import GRID_SOURCE, grid_cells, on_roads, road_lines, write_roads
from diagnostic.travel.network import BUNDLED_EXTRACT
from diagnostic.indicators import DEFAULT_CATALOGUE, DEFAULT_SECRET_THRESHOLD, load_catalogue
from diagnostic.territory import LAMBERT93, WGS84
from diagnostic.access.white_zones import CoverageParams
from diagnostic.workspace import save_retained_coverage, write_workspace

DEPARTEMENT_CODE = "00"
TO_LAMBERT = Transformer.from_crs(WGS84, LAMBERT93, always_xy=True)
CENTRE = (705_000.0, 6_570_000.0)  # Lambert-93; the place is imaginary, the projection is real
TOWN_NAMES = ["Valmorin", "Saint-Aubrac", "Brivezac", "Montferrand-les-Eaux", "Larzac-sur-Orne",
              "Castelvieil", "Pontlevoy"]
PREFIXES = ["", "", "", "Saint-", "Sainte-", "Le ", "La ", "Les ", "Mont", "Villeneuve-", "Château"]
ROOTS = ["bar", "cour", "val", "mar", "lan", "fer", "vic", "bre", "sau", "gol", "ter", "mor",
         "pes", "rou", "cha", "lus", "ver", "bas", "nar", "tau", "mil", "cor", "dal", "pra"]
ENDINGS = ["ac", "ville", "court", "y", "ieu", "ans", "ay", "oux", "ières", "el", "ignac", "once",
           "ens", "ol", "ange", "as"]
SUFFIXES = ["", "", "", "", "-sur-Orne", "-le-Haut", "-en-Val", "-les-Bois", "-la-Rivière",
            "-du-Causse", "-le-Vieux"]


def generate(n_communes: int = 200, seed: int = 2026) -> tuple[gpd.GeoDataFrame, pd.DataFrame,
                                                                pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Communes (Lambert-93), groupings, long indicator values, the insertion offer and the bus
    stops of a fictional département."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(n_communes / 200)
    outline = _outline(rng, radius=42_000 * scale)
    towns = _towns(rng, outline, scale)
    seeds, kind = _seeds(rng, outline, towns, n_communes, scale)
    cells = _rough_cells(rng, outline, seeds)
    communes = gpd.GeoDataFrame({"kind": kind}, geometry=cells, crs=LAMBERT93)
    communes["x"], communes["y"] = seeds[:, 0], seeds[:, 1]
    communes["population"] = _populations(rng, communes, towns)
    order = np.lexsort((communes["x"], -communes["y"]))  # codes run north to south
    communes = communes.iloc[order].reset_index(drop=True)
    communes["code_insee"] = commune_codes(len(communes))
    communes["name"] = _names(rng, communes, towns)
    groupings = _groupings(communes, towns, rng)
    values = _values(rng, communes, towns)
    communes.loc[(communes["kind"] == "rural") & (communes["population"] >= 1_500), "kind"] = "bourg"
    communes["postcodes"] = _postcodes(communes, groupings)
    offer = generate_offer(np.random.default_rng(seed + 1), communes)
    seeds = gpd.GeoSeries(gpd.points_from_xy(communes["x"], communes["y"]), crs=LAMBERT93)
    astray = ~communes.geometry.contains(seeds, align=False)  # a seed whose cell went to a neighbour
    inner = communes.geometry[astray].representative_point()
    communes.loc[astray, "x"], communes.loc[astray, "y"] = inner.x, inner.y
    communes["pop_lon"], communes["pop_lat"] = np.round(TO_WGS84.transform(communes["x"], communes["y"]), 6)
    seats, lines = demo_roads(communes, seed)
    stops = generate_stops(np.random.default_rng(seed + 2), communes, lambda xy: on_roads(xy, seats, lines))
    columns = ["code_insee", "name", "population", "postcodes", "pop_lon", "pop_lat", "kind", "geometry"]
    return communes[columns], groupings, values, offer, stops


def commune_codes(n: int) -> list[str]:
    """Valid 5-digit INSEE codes for n fictional communes: 00001 to 00999, then, as a département
    holds 999 at most, on the next fictional prefixes (01001…) for the large test départements."""
    first = int(DEPARTEMENT_CODE)
    return [f"{first + i // 999:02d}{i % 999 + 1:03d}" for i in range(n)]


def write_demo(path: Path, n_communes: int = 200, seed: int = 2026) -> None:
    """Generate the demo and write it as a workspace folder."""
    communes, groupings, values, offer, stops = generate(n_communes, seed)
    catalogue = {
        key: replace(ind, source=f"Données fictives (générateur Diagnostic PTI), sur le modèle de : "
                                 f"{ind.source}")
        for key, ind in load_catalogue(DEFAULT_CATALOGUE).items() if key in set(values["indicator"])
    }
    meta = {"name": DEMO_LABEL, "departement": DEPARTEMENT_CODE, "fictional": True,
            "secret_threshold": DEFAULT_SECRET_THRESHOLD,
            "sources": {"generator": f"diagnostic.demo.generate(n_communes={n_communes}, seed={seed})"}}
    write_workspace(path, meta, communes, groupings, catalogue, values, offer, stops)
    save_retained_coverage(path, list(DEMO_RETAINED))
    seats, lines = demo_roads(communes, seed)
    write_roads(Path(path) / BUNDLED_EXTRACT, seats, lines)
    rng = np.random.default_rng(seed + 4)
    with tempfile.TemporaryDirectory() as folder:  # the grid is imported as a user's Filosofi file
        source = Path(folder) / GRID_SOURCE
        grid_cells(seats, communes["population"].to_numpy(float), list(communes["kind"]), rng).to_csv(source, index=False)
        import_grid(path, source, communes.to_crs(WGS84), vintage="fictif")


def demo_roads(communes: gpd.GeoDataFrame, seed: int) -> tuple[np.ndarray, list]:
    """The seats (Lambert-93, from the population points) and the roads between them."""
    seats = np.column_stack(TO_LAMBERT.transform(communes["pop_lon"].to_numpy(), communes["pop_lat"].to_numpy()))
    return seats, road_lines(seats, list(communes["kind"]), np.random.default_rng(seed + 3))


# The white-zone settings a demo working group has retained for its annex
DEMO_RETAINED = (CoverageParams(("mobilite",), max_minutes=20, mode="route"),
                 CoverageParams(("numerique",), max_minutes=20, mode="route"))


# --- geometry ---------------------------------------------------------------------------------

def _outline(rng: np.random.Generator, radius: float) -> Polygon:
    """An irregular département outline: a blob with a few harmonics."""
    theta = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    r = np.ones_like(theta)
    for k, amp in [(2, 0.16), (3, 0.10), (5, 0.05), (7, 0.03), (11, 0.015)]:
        r += amp * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    xs = CENTRE[0] + radius * r * np.cos(theta) * 1.15
    ys = CENTRE[1] + radius * r * np.sin(theta) * 0.9
    return Polygon(np.column_stack([xs, ys])).buffer(0)


def _towns(rng: np.random.Generator, outline: Polygon, scale: float) -> pd.DataFrame:
    """The préfecture near the centre and four towns spread around it."""
    rows = [{"name": TOWN_NAMES[0], "x": CENTRE[0] + 4_000, "y": CENTRE[1] - 3_000,
             "population": 52_000, "radius": 9_000 * scale, "rank": "préfecture"}]
    angles = rng.permutation(np.linspace(0, 2 * np.pi, 4, endpoint=False) + rng.uniform(0, 1.2))
    sizes = [22_000, 13_500, 8_800, 6_100]
    for i, (angle, size) in enumerate(zip(angles, sizes, strict=True)):
        dist = rng.uniform(22_000, 30_000) * scale
        x, y = CENTRE[0] + dist * np.cos(angle), CENTRE[1] + dist * np.sin(angle) * 0.85
        while not outline.buffer(-6_000).contains(Point(x, y)):
            x, y = (x + CENTRE[0]) / 2 + 2_000, (y + CENTRE[1]) / 2
        rows.append({"name": TOWN_NAMES[i + 1], "x": x, "y": y, "population": size,
                     "radius": 5_000 * scale, "rank": "sous-préfecture" if i < 2 else "ville"})
    return pd.DataFrame(rows)


def _seeds(rng, outline, towns, n, scale):
    """Commune seats: towns, then denser suburbs around them, then rural villages (dart throwing)."""
    pts = [(t.x, t.y) for t in towns.itertuples()]
    kind = ["ville"] * len(towns)
    minx, miny, maxx, maxy = outline.bounds
    inner = outline.buffer(-800)
    tx, ty = towns["x"].to_numpy(), towns["y"].to_numpy()
    for _ in range(200_000):
        if len(pts) >= n:
            break
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        d_town = np.hypot(tx - x, ty - y)
        near = d_town / towns["radius"].to_numpy()
        spacing = (2_300 if near.min() < 1 else 3_300 + 700 * min(near.min() - 1, 2.5)) * scale ** 0.2
        arr = np.asarray(pts)
        if np.hypot(arr[:, 0] - x, arr[:, 1] - y).min() < spacing or not inner.contains(Point(x, y)):
            continue
        pts.append((x, y))
        kind.append("périurbain" if near.min() < 1 else "rural")
    return np.asarray(pts), kind


def _rough_cells(rng, outline: Polygon, seeds: np.ndarray) -> list:
    """Voronoi cells with roughened shared borders, one polygon per seed."""
    voronoi = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.buffer(5_000))
    cells = shapely.intersection(np.asarray(voronoi.geoms), outline)
    network = shapely.line_merge(shapely.union_all(shapely.boundary(cells)))
    rough = [_roughen(rng, np.asarray(line.coords)) for line in shapely.get_parts(network)]
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(rough))))
    owner = _owners(faces, seeds, cells)
    pieces: dict[int, list] = {}
    for face, who in zip(faces, owner, strict=True):
        pieces.setdefault(int(who), []).append(face)
    result = []
    for i in range(len(seeds)):
        geom = shapely.union_all(pieces.get(i, [cells[i]]))
        parts = shapely.get_parts(geom)
        result.append(max(parts, key=lambda p: p.area) if len(parts) > 1 else geom)
    return _absorb_orphans(result, faces)


def _owners(faces, seeds, cells) -> np.ndarray:
    """Which seed each face belongs to: the seed inside it, else the cell holding its centre."""
    tree = shapely.STRtree([Point(p) for p in seeds])
    owner = np.full(len(faces), -1)
    face_idx, seed_idx = tree.query(faces, predicate="contains")
    owner[face_idx] = seed_idx
    cell_tree = shapely.STRtree(cells)
    for i in np.nonzero(owner < 0)[0]:
        hits = cell_tree.query(faces[i].point_on_surface(), predicate="within")
        owner[i] = hits[0] if len(hits) else 0
    return owner


def _absorb_orphans(result: list, faces) -> list:
    """Give parts cut off a commune (rare) to the neighbour sharing the longest border."""
    total = shapely.union_all(faces)
    covered = shapely.union_all(result)
    for orphan in shapely.get_parts(shapely.difference(total, covered)):
        if orphan.area < 1:
            continue
        best = max(range(len(result)),
                   key=lambda i: shapely.length(shapely.intersection(result[i].boundary, orphan.boundary)))
        result[best] = shapely.union_all([result[best], orphan])
    return result


def _roughen(rng, coords: np.ndarray, amplitude: float = 0.24, step: float = 300.0):
    """Midpoint displacement of every segment of a border; end points stay where they are."""
    out = [coords[0]]
    for a, b in zip(coords[:-1], coords[1:], strict=True):
        out.extend(_displace(rng, a, b, amplitude, step)[1:])
    return shapely.LineString(out)


def _displace(rng, a, b, amplitude, step):
    length = np.hypot(*(b - a))
    if length < step:
        return [a, b]
    normal = np.array([a[1] - b[1], b[0] - a[0]]) / length
    mid = (a + b) / 2 + normal * length * amplitude * rng.uniform(-1, 1)
    left = _displace(rng, a, mid, amplitude * 0.8, step)
    return left + _displace(rng, mid, b, amplitude * 0.8, step)[1:]


# --- people -----------------------------------------------------------------------------------

def _town_distance(communes, towns) -> np.ndarray:
    """Distance (m) from each commune seat to each town: shape (communes, towns)."""
    return np.hypot(communes["x"].to_numpy()[:, None] - towns["x"].to_numpy()[None, :],
                    communes["y"].to_numpy()[:, None] - towns["y"].to_numpy()[None, :])


def _populations(rng, communes, towns) -> np.ndarray:
    dist = _town_distance(communes, towns)
    pop = np.empty(len(communes))
    for i, kind in enumerate(communes["kind"]):
        if kind == "ville":
            pop[i] = towns["population"].iloc[i] * rng.uniform(0.95, 1.05)
        elif kind == "périurbain":
            nearest = dist[i].argmin()
            weight = towns["population"].iloc[nearest] / 52_000
            pop[i] = rng.lognormal(np.log(2_600 * (0.5 + weight)), 0.5)
        else:
            pull = np.exp(-dist[i].min() / 9_000)
            pop[i] = rng.lognormal(np.log(260 + 900 * pull), 0.85)
    rural = np.nonzero(communes["kind"].to_numpy() == "rural")[0]
    bourgs = rng.choice(rural, size=max(3, len(rural) // 25), replace=False)
    pop[bourgs] = rng.uniform(1_600, 3_800, size=len(bourgs))
    return np.clip(np.round(pop), 35, None).astype(int)


def _names(rng, communes, towns) -> list[str]:
    """Town names for towns, invented village names elsewhere (all distinct)."""
    town_at = {(t.x, t.y): t.name for t in towns.itertuples()}
    names, used = [], set(towns["name"])
    for x, y in zip(communes["x"], communes["y"], strict=True):
        name = town_at.get((x, y))
        while name is None or (name in used and (x, y) not in town_at):
            name = _village_name(rng)
        used.add(name)
        names.append(name)
    return names


def _village_name(rng) -> str:
    root = "".join(rng.choice(ROOTS, size=rng.integers(1, 3))) + rng.choice(ENDINGS)
    prefix = rng.choice(PREFIXES)
    stem = root if prefix and not prefix.endswith(("-", " ")) else root.capitalize()
    return f"{prefix}{stem}{rng.choice(SUFFIXES)}"


def _groupings(communes, towns, rng) -> pd.DataFrame:
    """Territoires d'action sociale (5) and EPCI (8, then one for about 25 communes, as real
    départements have): contiguous blocks around centres."""
    xy = communes[["x", "y"]].to_numpy()
    tas_centres = towns[["x", "y"]].to_numpy()
    tas_names = [f"Territoire {t}" for t in ["du Centre", *[f"de {n}" for n in towns['name'][1:]]]]
    epci_centres = _spread_centres(rng, xy, tas_centres, max(8, round(len(communes) / 25)))
    seats = communes["name"].to_numpy()[_nearest(epci_centres, xy)]  # the commune at each further centre
    epci_names = ([f"Communauté d'agglomération de {towns['name'][0]}",
                   f"Communauté d'agglomération de {towns['name'][1]}"]
                  + [f"Communauté de communes de {towns['name'][i]}" for i in range(2, len(towns))]
                  + ["Communauté de communes des Hauts Plateaux", "Communauté de communes du Val d'Orne",
                     "Communauté de communes des Coteaux"]
                  + [f"Communauté de communes de {seat}" for seat in seats[8:]])[: len(epci_centres)]
    epci_names = [name if name not in epci_names[:i] else f"{name} {i}" for i, name in enumerate(epci_names)]
    frame = pd.DataFrame(index=pd.Index(communes["code_insee"], name="code_insee"))
    frame["Territoire d'action sociale"] = [tas_names[i] for i in _nearest(xy, tas_centres)]
    frame["EPCI"] = [epci_names[i] for i in _nearest(xy, epci_centres)]
    return frame


def _postcodes(communes, groupings) -> list[str]:
    """One postcode per town; rural communes share a few postcodes per EPCI, as post offices do."""
    epci = {name: i + 1 for i, name in enumerate(sorted(groupings["EPCI"].unique()))}
    codes = []
    for i, (code, kind) in enumerate(zip(communes["code_insee"], communes["kind"], strict=True)):
        e = epci[groupings.loc[code, "EPCI"]]
        codes.append(f"{DEPARTEMENT_CODE}{e % 10}00" if kind == "ville" else f"{DEPARTEMENT_CODE}{e % 10}{i % 4 + 1}0")
    return codes


def _spread_centres(rng, xy, fixed, k):
    """The fixed centres plus far-apart commune seats until there are k centres."""
    centres = list(fixed)
    while len(centres) < k:
        dist = np.min(np.hypot(xy[:, None, 0] - np.asarray(centres)[None, :, 0],
                               xy[:, None, 1] - np.asarray(centres)[None, :, 1]), axis=1)
        centres.append(xy[int(np.argmax(dist * rng.uniform(0.8, 1.0, len(dist))))])
    return np.asarray(centres)


def _nearest(xy, centres) -> np.ndarray:
    return np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1]).argmin(1)


def _field(rng, xy, n_bumps: int, width: float) -> np.ndarray:
    """A smooth random field in [0, 1] made of a few Gaussian bumps."""
    lo, hi = xy.min(0), xy.max(0)
    field = np.zeros(len(xy))
    for _ in range(n_bumps):
        c = rng.uniform(lo, hi)
        field += rng.uniform(0.4, 1.0) * np.exp(-np.sum((xy - c) ** 2, 1) / (2 * width**2))
    return field / field.max()


def _values(rng, communes, towns) -> pd.DataFrame:
    """Numerators and denominators per commune for every catalogue indicator."""
    xy = communes[["x", "y"]].to_numpy()
    pop = communes["population"].to_numpy().astype(float)
    dist = _town_distance(communes, towns).min(1)
    urban = np.clip(np.log10(pop) - 3.0, 0, 1.7) / 1.7  # 0 below 1,000 inhabitants, 1 from 50,000
    remote = np.clip(dist / 25_000, 0, 1)
    # a poor rural sector (former industrial valley) and priority neighbourhoods in some towns
    sector = _field(rng, xy, 2, 12_000)
    hardship_towns = np.isin(communes["kind"], ["ville"]) * rng.choice([1.0, 0.9, 0.35, 0.8, 0.3],
                                                                          size=len(communes))
    deprivation = np.clip(0.8 * sector + 0.7 * hardship_towns * urban + 0.15 * remote
                          + rng.normal(0, 0.06, len(pop)), 0, 1.2)
    households = np.round(pop / (2.35 - 0.35 * urban))
    families = np.round(households * rng.uniform(0.55, 0.65, len(pop)))
    dwellings = np.round(households * (1.08 + 0.25 * remote))
    age_15_64 = np.round(pop * (0.58 + 0.06 * urban))
    fiscal_pop = np.round(pop * 0.97)
    rsa = rng.binomial(households.astype(int), np.clip(0.03 + 0.09 * deprivation, 0, 1))
    rates = {
        "part_foyers_rsa": (rsa, households),
        "taux_demandeurs_emploi": (rng.binomial(age_15_64.astype(int), 0.075 + 0.1 * deprivation),
                                   age_15_64),
        "taux_pauvrete": (rng.binomial(fiscal_pop.astype(int), 0.09 + 0.17 * deprivation), fiscal_pop),
        "part_jeunes_16_25": (rng.binomial(pop.astype(int), 0.085 + 0.05 * urban), pop),
        "part_familles_monoparentales": (
            rng.binomial(families.astype(int), 0.11 + 0.08 * urban + 0.09 * deprivation), families),
        "part_60_ans_et_plus": (rng.binomial(pop.astype(int), 0.33 - 0.09 * urban + 0.06 * remote), pop),
        "part_menages_sans_voiture": (
            rng.binomial(households.astype(int), 0.05 + 0.22 * urban**2 + 0.06 * deprivation), households),
        "part_logements_sans_thd": (
            rng.binomial(dwellings.astype(int), np.clip(0.03 + 0.7 * remote**2 * (1 - urban)
                                                        * _field(rng, xy, 3, 14_000), 0, 1)), dwellings),
    }
    eligible = np.round(rsa * 0.92)
    rates["taux_orientation_rsa"] = (rng.binomial(eligible.astype(int),
                                                  np.clip(0.93 - 0.18 * remote, 0, 1)), eligible)
    rates["taux_sortie_rsa_emploi"] = (rng.binomial(rsa, np.clip(0.13 - 0.06 * deprivation, 0, 1)), rsa)
    frames = [pd.DataFrame({"code_insee": communes["code_insee"], "indicator": "population",
                            "numerator": pop, "denominator": np.nan})]
    for key, (num, den) in rates.items():
        frames.append(pd.DataFrame({"code_insee": communes["code_insee"], "indicator": key,
                                    "numerator": np.asarray(num, float), "denominator": den}))
    return pd.concat(frames, ignore_index=True)
