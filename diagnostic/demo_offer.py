"""The demo département's insertion offer and bus stops (fictional), in the workspace's models.

Services cluster in the préfecture and the towns, thin out in suburbs and rural bourgs, and are
rare in villages; an itinerant France services bus and an itinerant digital adviser stop in remote
villages; two remote services cover the whole département. The rural areas far from the towns
are left without most themes: the white zones the coverage pages must reveal.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point

from diagnostic.offer import COLUMNS, PRECISION_EXACT
from diagnostic.territory import LAMBERT93, WGS84

TO_WGS84 = Transformer.from_crs(LAMBERT93, WGS84, always_xy=True)

FS_THEMES = ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
             "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
             "numerique--acceder-a-des-services-en-ligne"]
# (name pattern, structure, themes, publics, share of towns / bourgs / suburbs / villages, capacity)
TEMPLATES = [
    ("France services de {c}", "France services", FS_THEMES, ["tous-publics"], (1, .35, .1, 0), None),
    ("Agence France Travail de {c}", "France Travail",
     ["trouver-un-emploi--repondre-a-des-offres-demploi", "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation",
      "choisir-un-metier--connaitre-les-opportunites-demploi"], ["demandeurs-emploi"], (.7, 0, 0, 0), None),
    ("Mission locale de {c}", "Mission locale",
     ["trouver-un-emploi--repondre-a-des-offres-demploi", "se-former--trouver-sa-formation",
      "mobilite--etre-accompagne-dans-son-parcours-mobilite"], ["jeunes"], (1, .1, 0, 0), None),
    ("CCAS de {c}", "CCAS",
     ["difficultes-financieres--prevenir-une-degradation-de-la-situation-financiere",
      "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"],
     ["tous-publics"], (1, .6, .35, 0), None),
    ("Conseiller numérique — médiathèque de {c}", "Réseau des médiathèques",
     ["numerique--maitriser-les-fondamentaux-du-numerique", "numerique--acceder-a-une-connexion-internet"],
     ["tous-publics"], (1, .45, .25, .03), (1, 3)),
    ("Auto-école sociale de {c}", "Association Route Solidaire", ["mobilite--preparer-un-permis"],
     ["beneficiaires-des-minimas-sociaux", "jeunes"], (.6, .05, 0, 0), (8, 30)),
    ("Garage solidaire de {c}", "Garage solidaire",
     ["mobilite--entretenir-reparer-son-vehicule", "mobilite--acceder-a-un-vehicule"],
     ["beneficiaires-des-minimas-sociaux"], (.4, .1, 0, 0), None),
    ("Location de scooters et vélos — {c}", "Plateforme mobilité",
     ["mobilite--acceder-a-un-vehicule", "mobilite--mobilite-douce-partagee-collective"],
     ["demandeurs-emploi", "jeunes"], (.6, .15, 0, 0), (10, 40)),
    ("Épicerie sociale de {c}", "Épicerie sociale", ["equipement-et-alimentation--alimentation"],
     ["beneficiaires-des-minimas-sociaux", "familles"], (1, .3, .15, 0), None),
    ("Crèche à vocation d'insertion professionnelle de {c}", "Crèche AVIP", ["famille--garde-denfants"],
     ["familles", "demandeurs-emploi"], (.8, .15, .1, 0), (15, 45)),
    ("Atelier chantier d'insertion de {c}", "SIAE — atelier chantier d'insertion",
     ["trouver-un-emploi--maintien-dans-lemploi", "remobilisation--bien-etre-confiance-en-soi"],
     ["beneficiaires-des-minimas-sociaux"], (.8, .2, 0, 0), (12, 40)),
    ("Entreprise d'insertion de {c}", "SIAE — entreprise d'insertion", ["trouver-un-emploi--maintien-dans-lemploi"],
     ["beneficiaires-des-minimas-sociaux", "demandeurs-emploi"], (.6, .05, .05, 0), (8, 25)),
    ("Maison de santé de {c}", "Maison de santé pluriprofessionnelle", ["sante--acces-aux-soins"],
     ["tous-publics"], (1, .5, .2, .02), None),
    ("CSAPA de {c}", "CSAPA", ["sante--addictions", "sante--sante-mentale"], ["tous-publics"], (.6, 0, 0, 0), None),
    ("Point accueil logement de {c}", "CLLAJ",
     ["logement-hebergement--louer-un-logement", "logement-hebergement--se-maintenir-dans-le-logement"],
     ["jeunes", "tous-publics"], (.8, .05, 0, 0), None),
    ("Ateliers sociolinguistiques de {c}", "Centre social",
     ["lecture-ecriture-calcul--maitriser-le-francais"], ["personnes-exilees"], (.8, .1, .1, 0), (10, 20)),
    ("Point conseil budget de {c}", "UDAF", ["difficultes-financieres--situation-dendettement-surendettement"],
     ["tous-publics"], (.6, .1, 0, 0), None),
]
DISTRICTS = ["centre", "quartier nord", "quartier sud", "quartier est", "quartier ouest"]
REMOTE = [
    ("Plateforme départementale de mobilité (téléphone)", "Conseil départemental",
     ["mobilite--etre-accompagne-dans-son-parcours-mobilite", "mobilite--financer-ma-mobilite"]),
    ("Numéro d'appel accès aux droits", "CAF et Conseil départemental",
     ["difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"]),
]


def generate_offer(rng: np.random.Generator, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Services of the demo département (communes in Lambert-93 with seats x, y and kind)."""
    rows = []
    for template in TEMPLATES:
        pattern, structure, themes, publics, shares, capacity = template
        for _, commune in communes.iterrows():
            share = _share(commune["kind"], shares)
            # large towns have one site per district of about 15,000 inhabitants
            sites = 1 + int(commune["population"] // 15_000) if commune["kind"] == "ville" else 1
            for site in range(sites):
                if rng.random() >= share:
                    continue
                name = pattern.format(c=commune["name"]) + (f" — {DISTRICTS[site]}" if sites > 1 else "")
                rows.append(_row(rng, commune, name, structure, themes, publics, ["en-presentiel"],
                                 capacity, f"demo-{len(rows) + 1:04d}"))
    remote_rural = _remote_villages(communes, rng, 14)
    for number, (name, structure, themes, stops) in enumerate(
            [("Bus France services du Département", "Conseil départemental", FS_THEMES, remote_rural[:8]),
             ("Conseiller numérique itinérant", "Conseil départemental",
              ["numerique--maitriser-les-fondamentaux-du-numerique"], remote_rural[8:])], start=1):
        for stop in stops:
            commune = communes.loc[stop]
            rows.append(_row(rng, commune, f"{name} — arrêt de {commune['name']}", structure, themes,
                             ["tous-publics"], ["itinerant"], None, f"demo-itinerant-{number}-{commune['code_insee']}"))
    for number, (name, structure, themes) in enumerate(REMOTE, start=1):
        rows.append({**_empty(), "id": f"demo-distance-{number}", "name": name, "structure": structure,
                     "themes": themes, "publics": ["tous-publics"], "modes": ["a-distance"],
                     "zone_type": "departement", "zone_code": "00", "precision": "",
                     "updated": _date(rng)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _share(kind: str, shares: tuple) -> float:
    town, bourg, suburb, village = shares
    return {"ville": town, "bourg": bourg, "périurbain": suburb}.get(kind, village)


def _remote_villages(communes: gpd.GeoDataFrame, rng: np.random.Generator, n: int) -> list:
    """Rural communes far from every town, where itinerant services stop."""
    towns = communes[communes["kind"] == "ville"][["x", "y"]].to_numpy()
    rural = communes[communes["kind"] == "rural"]
    dist = np.min(np.hypot(rural["x"].to_numpy()[:, None] - towns[None, :, 0],
                           rural["y"].to_numpy()[:, None] - towns[None, :, 1]), axis=1)
    far = rural.index[np.argsort(-dist)[: 3 * n]]
    return list(rng.choice(far, size=n, replace=False))


def _empty() -> dict:
    return {c: "" for c in COLUMNS} | {"lat": np.nan, "lon": np.nan, "capacity": np.nan,
                                       "themes": [], "publics": [], "modes": [], "merged_from": []}


def _date(rng: np.random.Generator) -> str:
    day = pd.Timestamp("2026-10-31") - pd.Timedelta(days=int(rng.integers(10, 900)))
    return day.strftime("%Y-%m-%d")


def _row(rng, commune, name, structure, themes, publics, modes, capacity, service_id) -> dict:
    """A service near its commune's seat (within 700 m, inside the commune)."""
    for _ in range(20):
        x = commune["x"] + rng.normal(0, 350)
        y = commune["y"] + rng.normal(0, 350)
        if commune.geometry.contains(Point(x, y)):
            break
    else:
        x, y = commune["x"], commune["y"]
    lon, lat = TO_WGS84.transform(x, y)
    street = rng.choice(["rue de la République", "place de la Mairie", "avenue Jean Jaurès",
                         "rue des Écoles", "rue Victor Hugo", "chemin du Moulin", "place du Marché"])
    return {**_empty(), "id": service_id, "name": name, "structure": structure, "themes": list(themes),
            "publics": list(publics), "modes": list(modes), "zone_type": "commune",
            "zone_code": commune["code_insee"], "address": f"{rng.integers(1, 60)} {street}",
            "postcode": commune["postcodes"].split("|")[0], "code_insee": commune["code_insee"],
            "lat": round(lat, 6), "lon": round(lon, 6), "precision": PRECISION_EXACT,
            "source": "Offre fictive de démonstration", "updated": _date(rng),
            "capacity": float(rng.integers(*capacity)) if capacity else np.nan}


def generate_stops(rng: np.random.Generator, communes: gpd.GeoDataFrame, on_roads=None) -> pd.DataFrame:
    """Bus stops of a fictional network: urban lines in the towns, interurban lines from the
    préfecture to each town every 2.5 km or so, and a few school-bus stops in villages; each stop
    moved onto the nearest road by `on_roads` (Lambert-93 points → points) when given."""
    towns = communes[communes["kind"] == "ville"].sort_values("population", ascending=False)
    hub = towns.iloc[0]
    stops = []
    for _, town in towns.iterrows():
        for _ in range(8 + int(town["population"] // 1_500)):
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(150, 2_500)
            stops.append((town["x"] + radius * np.cos(angle), town["y"] + radius * np.sin(angle),
                          int(rng.integers(30, 90))))
    for _, town in towns.iloc[1:].iterrows():
        length = np.hypot(town["x"] - hub["x"], town["y"] - hub["y"])
        for t in np.linspace(0, 1, max(2, int(length // 2_500)))[1:-1]:
            stops.append((hub["x"] + t * (town["x"] - hub["x"]) + rng.normal(0, 400),
                          hub["y"] + t * (town["y"] - hub["y"]) + rng.normal(0, 400), int(rng.integers(6, 18))))
    villages = communes[communes["kind"] == "rural"].sample(12, random_state=int(rng.integers(1_000_000)))
    stops += [(v["x"], v["y"], 2) for _, v in villages.iterrows()]
    xy = np.asarray([(x, y) for x, y, _ in stops])
    if on_roads is not None:
        xy = on_roads(xy)
    points = gpd.GeoDataFrame({"departures": [d for _, _, d in stops]},
                              geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=LAMBERT93)
    joined = gpd.sjoin(points, communes[["code_insee", "name", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated()]
    lon, lat = TO_WGS84.transform(joined.geometry.x.to_numpy(), joined.geometry.y.to_numpy())
    return pd.DataFrame({"stop_id": [f"demo-{i + 1:03d}" for i in range(len(joined))],
                         "name": [f"{name} — arrêt {i + 1}" for i, name in enumerate(joined["name"])],
                         "lat": np.round(lat, 6), "lon": np.round(lon, 6),
                         "departures": joined["departures"].to_numpy(float),
                         "code_insee": joined["code_insee"].to_numpy(), "feed": "Réseau fictif de démonstration"})
