"""Reader of commune boundaries (GeoJSON): codes as strings, geometry checked, WGS84 out."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.ops import unary_union

from diagnostic.errors import InputError
from diagnostic.io.tables import MAX_COMMUNE_POPULATION, check_codes, parse_number, repair_codes
from diagnostic.io.text import clean_text
from diagnostic.territory import WGS84, in_france, metric_crs

CODE_FIELDS = ("code_insee", "code", "insee_com", "codgeo", "insee")
NAME_FIELDS = ("name", "nom", "libgeo", "nom_com", "libelle")
POSTCODE_FIELDS = ("postcodes", "codes_postaux", "code_postal", "cp")
FORMER_CODE_FIELDS = ("anciens_codes", "codes_anciens", "code_2018", "codes_2018", "former_codes")
POPULATION_FIELDS = ("population", "population_municipale", "pmun", "pop", "p22_pop", "p21_pop")
# Where the commune's people live (a population-weighted point), as (longitude, latitude) fields
POPULATION_POINT_FIELDS = (("pop_lon", "pop_lat"), ("lon_pop", "lat_pop"), ("longitude_pop", "latitude_pop"),
                           ("pop_longitude", "pop_latitude"))
STORED_COLUMNS = ("code_insee", "name", "population", "postcodes", "pop_lon", "pop_lat")


def _field(columns: list[str], candidates: tuple[str, ...], file: str, what: str) -> str:
    lower = {c.lower(): c for c in columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    raise InputError(f"propriété {what} introuvable (propriétés présentes : {', '.join(columns)}).",
                     file=file, fix=f"Choisissez le champ à utiliser (page « Nouveau territoire », ou option "
                                    f"--champ-... de la commande create), ou nommez-le « {candidates[0]} ».")


def boundary_fields(path: Path) -> list[str]:
    """The attribute fields of a boundaries file, for the user to pick the code and name fields."""
    source = _zip_member(Path(path)) if Path(path).suffix.lower() == ".zip" else str(path)
    try:
        return list(pyogrio.read_info(source)["fields"])
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise InputError("le fichier de communes est illisible (format non reconnu ou fichier endommagé).",
                         file=Path(path).name,
                         fix="Fournissez un GeoJSON, un GeoPackage ou un Shapefile zippé de polygones.") from exc


def read_communes(path: Path, warnings: list[str] | None = None, fields: dict[str, str] | None = None,
                  require_population: bool = True) -> gpd.GeoDataFrame:
    """Communes with code_insee (str), name, population and a valid polygon geometry, in WGS84.

    `fields` names the code, name and population fields when they are not the usual ones; without a
    population field (and `require_population` false) the population is left unknown, and a field
    of former codes (``anciens_codes``, ``code_2018``) is kept as ``former_codes``."""
    fields = fields or {}
    file = Path(path).name
    if not Path(path).is_file():
        raise InputError("fichier introuvable.", file=str(path), fix="Vérifiez le chemin indiqué.")
    source = _zip_member(Path(path)) if Path(path).suffix.lower() == ".zip" else str(path)
    try:
        raw = pyogrio.read_dataframe(source)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise InputError("le fichier de communes est illisible (format non reconnu ou fichier endommagé).", file=file,
                         fix="Fournissez un GeoJSON, un GeoPackage ou un Shapefile zippé de polygones.") from exc
    if raw.crs is None or raw.crs.is_geographic:
        minx, miny, maxx, maxy = raw.total_bounds
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            raise InputError("les coordonnées sont en mètres mais le fichier se déclare en degrés (WGS84) "
                             "ou ne déclare aucune projection.", file=file,
                             fix="Exportez-le en WGS84, ou joignez sa projection (Lambert-93 : EPSG:2154, "
                                 "fichier .prj d'un Shapefile).")
    columns = [c for c in raw.columns if c != "geometry"]
    for key, column in fields.items():
        if column and column not in columns:
            raise InputError(f"champ « {column} » absent.", file=file, field=key,
                             fix=f"Champs présents : {', '.join(columns)}.")
    code_col = fields.get("code") or _field(columns, CODE_FIELDS, file, "de code commune")
    name_col = fields.get("name") or _field(columns, NAME_FIELDS, file, "de nom")
    pop_col = fields.get("population") or (_field(columns, POPULATION_FIELDS, file, "de population")
                                           if require_population else
                                           next((c for c in columns if c.lower() in POPULATION_FIELDS), None))
    codes = raw[code_col].map(lambda v: v if isinstance(v, str) else str(int(v)) if float(v).is_integer() else str(v))
    codes = repair_codes(codes, file, None, warnings)
    check_codes(codes, file, code_col)
    if codes.duplicated().any():
        dup = codes[codes.duplicated()].iloc[0]
        raise InputError(f"le code « {dup} » apparaît deux fois.", file=file, field=code_col,
                         fix="Chaque commune doit avoir une seule entité (fusionnez ses polygones).")
    population = ([parse_number(v, file, i + 1, pop_col, MAX_COMMUNE_POPULATION) for i, v in enumerate(raw[pop_col])]
                  if pop_col else float("nan"))
    names = raw[name_col].astype(str).map(lambda v: clean_text(v, one_line=True).strip())
    gdf = gpd.GeoDataFrame({"code_insee": codes.to_numpy(), "name": names.to_numpy(),
                            "population": population}, geometry=raw.geometry.to_numpy(),
                           crs=raw.crs or WGS84)
    postcode_col = next((c for c in columns if c.lower() in POSTCODE_FIELDS), None)
    if postcode_col:  # several postcodes per commune, separated by |, comma or space
        gdf["postcodes"] = raw[postcode_col].fillna("").astype(str).str.replace(r"[,; ]+", "|", regex=True).to_numpy()
    former_col = next((c for c in columns if c.lower() in FORMER_CODE_FIELDS), None)
    if former_col:
        gdf["former_codes"] = raw[former_col].fillna("").astype(str).to_numpy()
    bad = gdf.geometry.isna() | ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(f"la commune « {gdf['code_insee'].iloc[first]} » n'a pas de polygone.", file=file,
                         line=first + 1, field="geometry", fix="Chaque entité doit être un (multi)polygone.")
    if pop_col and pd.isna(gdf["population"]).any():
        raise InputError(f"population manquante pour « {gdf['code_insee'][gdf['population'].isna()].iloc[0]} ».",
                         file=file, field=pop_col, fix="Indiquez la population municipale.")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        repaired = gdf.geometry.make_valid()
        mixed = repaired.geom_type == "GeometryCollection"  # e.g. a bow-tie gives polygons and a line
        repaired[mixed] = [unary_union([p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")])
                           for g in repaired[mixed]]
        gdf.geometry = repaired
        if warnings is not None:
            warnings.append(f"fichier « {file} » : {int(invalid.sum())} contour(s) invalide(s) réparé(s) "
                            f"(ex. commune {gdf['code_insee'][invalid].iloc[0]}).")
    gdf = gdf.to_crs(WGS84)
    _check_surfaces(gdf, file)
    _check_in_france(gdf, file, raw.crs)
    point_fields = next(((lon, lat) for lon, lat in POPULATION_POINT_FIELDS
                         if {lon, lat} <= {c.lower() for c in columns}), None)
    if point_fields:
        lower = {c.lower(): c for c in columns}
        gdf["pop_lon"], gdf["pop_lat"] = (pd.to_numeric(raw[lower[f]], errors="coerce").to_numpy() for f in point_fields)
        _check_population_points(gdf, file, point_fields)
    return gdf


def _check_surfaces(gdf: gpd.GeoDataFrame, file: str) -> None:
    """Empty or flat contours (no surface) are refused, with the entity's number."""
    area = gdf.to_crs(metric_crs(gdf)).area
    flat = gdf.geometry.is_empty | ~(area > 1.0)  # less than a square metre
    if flat.any():
        first = int(np.flatnonzero(flat)[0])
        raise InputError(f"le contour de la commune « {gdf['code_insee'].iloc[first]} » est vide ou n'a aucune "
                         "surface.", file=file, line=first + 1, field="geometry",
                         fix="Corrigez ou remplacez ce contour (exportez à nouveau la couche des communes).")


def _check_in_france(gdf: gpd.GeoDataFrame, file: str, crs) -> None:
    """Every commune must fall in France: swapped axes and a wrong projection are named."""
    points = gdf.geometry.representative_point()
    outside = [i for i, p in enumerate(points) if not in_france(p.y, p.x)]
    if not outside:
        return
    first = outside[0]
    p = points.iloc[first]
    code = gdf["code_insee"].iloc[first]
    found = f"la commune « {code} » tombe en latitude {p.y:.2f}, longitude {p.x:.2f}, hors de France"
    if in_france(p.x, p.y):
        raise InputError(f"{found} : la latitude et la longitude semblent inversées.", file=file, line=first + 1,
                         field="geometry", fix="Réexportez les contours avec l'ordre (longitude, latitude) du GeoJSON, "
                                               "ou déclarez la bonne projection.")
    declared = crs.to_string() if crs is not None else "aucune (WGS84 supposé)"
    raise InputError(f"{found} ({len(outside)} commune(s) dans ce cas) : la projection déclarée ({declared}) ne "
                     "correspond sans doute pas aux coordonnées.", file=file, line=first + 1, field="geometry",
                     fix="Réexportez les contours en WGS84 ou en Lambert-93 (EPSG:2154) avec leur projection "
                         "déclarée (fichier .prj d'un Shapefile).")


def _check_population_points(gdf: gpd.GeoDataFrame, file: str, fields: tuple[str, str]) -> None:
    """Population points must lie in (or within 1 km of) their commune; missing ones fall back to a
    point inside the commune."""
    known = gdf["pop_lon"].notna() & gdf["pop_lat"].notna()
    if not known.any():
        gdf.drop(columns=["pop_lon", "pop_lat"], inplace=True)
        return
    crs = metric_crs(gdf)
    shapes = gdf.geometry.to_crs(crs)
    points = gpd.GeoSeries(gpd.points_from_xy(gdf["pop_lon"], gdf["pop_lat"]), crs=WGS84).to_crs(crs)
    far = known & (shapes.distance(points, align=False) > 1000)
    if far.any():
        first = int(np.flatnonzero(far)[0])
        raise InputError(f"le point de population de la commune « {gdf['code_insee'].iloc[first]} » est à plus d'un "
                         "kilomètre de son contour.", file=file, line=first + 1, field=f"{fields[0]}/{fields[1]}",
                         fix="Vérifiez ces coordonnées (degrés décimaux, longitude puis latitude), ou retirez ces "
                             "deux champs.")


def write_communes(communes: gpd.GeoDataFrame, path: Path) -> None:
    """Write the communes of a workspace (the fields it keeps and their contours, WGS84) atomically."""
    columns = [c for c in STORED_COLUMNS if c in communes.columns]
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    communes[[*columns, "geometry"]].to_crs(WGS84).to_file(tmp, driver="GeoJSON", layer="communes",
                                                      COORDINATE_PRECISION=6)
    tmp.replace(path)


MAX_UNZIPPED = 1_000_000_000


def _zip_member(path: Path) -> str:
    """The layer inside a zipped Shapefile or GeoPackage, read in place (nothing is extracted);
    archives with paths leaving the folder or expanding beyond 1 GB are refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError("archive zip illisible.", file=path.name) from exc
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
            raise InputError(f"l'archive contient un chemin dangereux « {name} ».", file=path.name,
                             fix="Refaites l'archive avec les seuls fichiers de la couche.")
    if sum(i.file_size for i in infos) > MAX_UNZIPPED:
        raise InputError("l'archive est trop volumineuse une fois décompressée.", file=path.name)
    layers = [i.filename for i in infos if i.filename.lower().endswith((".shp", ".gpkg", ".geojson"))]
    if not layers:
        raise InputError("l'archive ne contient ni Shapefile (.shp), ni GeoPackage, ni GeoJSON.", file=path.name)
    return f"/vsizip/{path}/{layers[0]}"
