"""Command line: ``python -m diagnostic ...`` (French help and messages)."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from diagnostic.access.grid import import_grid
from diagnostic.access.points import target_choices
from diagnostic.access.transit import import_gtfs
from diagnostic.access.white_zones import (CROW_FLY, MIN_DEPARTURES, MODES, WALK_M, WALK_MINUTES, CoverageParams,
                                           CoverageResult,
                                           check_mode, check_themes,
                                           commune_coverage, export_table)
from diagnostic.errors import InputError, disk_error
from diagnostic.fetch import fetch_departement
from diagnostic.export.annex import AnnexChoice, annex_context, annex_tables
from diagnostic.export.csv import csv_bytes, write_csv_folder
from diagnostic.export.excel import workbook_bytes
from diagnostic.export.pdf import TITLE, annex_pdf
from diagnostic.export.typeset import Typesetter
from diagnostic.indicators import AGGREGATION_NONE, AGGREGATION_SUMS, AGGREGATION_WEIGHTED
from diagnostic.io.gtfs import HOURS
from diagnostic.io.offer_files import FORMATS, FileDefaults
from diagnostic.open_catalogue import NewIndicator, add_indicator, columns_of
from diagnostic.secrecy.report import audit_workspace
from diagnostic.offer_import import import_offer
from diagnostic.profile import SECRET_LABEL, indicator_profile
from diagnostic.sessions.store import Store
from diagnostic.territory import WGS84, levels
from diagnostic.travel.network import import_roads
from diagnostic.workspace import (create_workspace, default_workspace_path, import_groupings, import_indicators, load_workspace,
                                  sessions_url)


class FrenchParser(argparse.ArgumentParser):
    """argparse with French words for its own messages."""

    def format_help(self) -> str:
        return (super().format_help().replace("usage:", "utilisation :")
                .replace("options:", "options :").replace("commandes:", "commandes :").replace("positional arguments:", "arguments :")
                .replace("show this help message and exit", "affiche cette aide et quitte"))

    def error(self, message: str):
        self.exit(2, f"{self.prog} : erreur : {message}\nVoir « {self.prog} --help ».\n")


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchParser(prog="python -m diagnostic",
                          description="Diagnostic PTI : diagnostic territorial du Pacte territorial "
                                      "pour l'insertion. Sans --workspace, les commandes agissent sur "
                                      "l'espace de démonstration (données fictives).")
    sub = parser.add_subparsers(dest="command", required=True, title="commandes",
                                parser_class=FrenchParser)

    create = sub.add_parser("create", help="créer un espace de travail à partir de fichiers",
                            description="Crée un espace de travail à partir d'un GeoJSON des communes "
                                        "(code INSEE, nom, population), d'un CSV d'indicateurs (format "
                                        "long : code_insee, indicateur, numerateur, denominateur) et "
                                        "d'un CSV de regroupements (code_insee puis une colonne par "
                                        "niveau, nommé d'après la colonne).")
    create.add_argument("--workspace", required=True, type=Path, help="dossier à créer")
    create.add_argument("--communes", required=True, type=Path,
                        help="contours des communes (GeoJSON, GeoPackage ou Shapefile zippé)")
    create.add_argument("--indicators", type=Path,
                        help="tableau des indicateurs, CSV ou Excel, long ou large (facultatif)")
    create.add_argument("--groupings", type=Path, help="CSV des regroupements (facultatif)")
    create.add_argument("--colonne", action="append", metavar="COLONNE=NIVEAU", default=[],
                        help="colonne des regroupements à garder et nom du niveau, ex. epci_nom=EPCI (répétable ; "
                             "défaut : toutes les colonnes)")
    create.add_argument("--name", help="nom de l'espace de travail")
    create.add_argument("--champ-code", help="champ du code INSEE dans les contours (s'il n'est pas reconnu)")
    create.add_argument("--champ-nom", help="champ du nom de la commune dans les contours")
    create.add_argument("--champ-population", help="champ de la population dans les contours")

    ind = sub.add_parser("indicators", help="exporter le tableau des indicateurs d'un niveau",
                         description="Écrit en CSV les indicateurs agrégés d'un niveau (commune ou "
                                     "nom d'un niveau de regroupement), petits effectifs masqués.")
    ind.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    ind.add_argument("--level", required=True, help="« commune » ou un niveau de regroupement")
    ind.add_argument("--out", required=True, type=Path, help="fichier CSV à écrire")

    table = sub.add_parser("import-indicators", help="importer un tableau d'indicateurs (INSEE, CAF…)",
                           description="Ajoute ou remplace des indicateurs à partir d'un tableau CSV ou Excel, "
                                       "en format long (code_insee, indicateur, numerateur, denominateur) ou "
                                       "large (une colonne par variable, comme l'INSEE) : les colonnes sont "
                                       "associées aux indicateurs d'après la dernière association enregistrée "
                                       "pour ces colonnes, sinon d'après les variables INSEE connues. Les "
                                       "communes fusionnées depuis le millésime des données sont rapprochées.")
    table.add_argument("file", type=Path, metavar="FICHIER", help="tableau CSV ou Excel (.xlsx)")
    table.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    table.add_argument("--correspondances", type=Path,
                       help="table de passage des codes communes (ancien code, code actuel)")
    table.add_argument("--where", action="append", default=[], metavar="COLONNE=VALEUR",
                       help="ne garder que les lignes où la colonne a cette valeur, ex. annee=2024 (répétable)")
    new = table.add_argument_group("nouvel indicateur", "ajouter au catalogue un indicateur calculé à partir des "
                                   "colonnes du tableau (COLONNES : une colonne ou plusieurs jointes par « + »)")
    new.add_argument("--new-indicator", metavar="ID", help="identifiant du nouvel indicateur (ex. part_foyers_rsa_caf)")
    new.add_argument("--label", default="", help="libellé")
    new.add_argument("--numerator", default="", metavar="COLONNES", help="numérateur (ou la valeur, pour un indice)")
    new.add_argument("--denominator", default="", metavar="COLONNES", help="dénominateur (taux) ; facultatif")
    new.add_argument("--rate", default="", metavar="COLONNE", help="une colonne de taux : numérateur = taux × dénominateur")
    new.add_argument("--code-column", default="", metavar="COLONNE", help="colonne du code commune (si non reconnue)")
    new.add_argument("--unit", default="", help="unité (%% par défaut pour un taux)")
    new.add_argument("--source", default="", help="source")
    new.add_argument("--vintage", default="", help="millésime (ex. décembre 2024)")
    new.add_argument("--definition", default="", help="définition")
    new.add_argument("--owner", default="", help="responsable de l'indicateur")
    new.add_argument("--frequency", default="", help="fréquence de collecte")
    new.add_argument("--family", default="contexte", choices=["contexte", "moyens", "resultat"], help="famille")
    new.add_argument("--aggregation", default="somme", choices=["somme", "moyenne-ponderee", "non-agregeable"],
                     help="passage aux territoires : somme des numérateurs et dénominateurs (défaut), moyenne "
                          "pondérée par la population (un indice) ou non agrégeable (une médiane)")
    direction = new.add_mutually_exclusive_group()
    direction.add_argument("--lower-is-better", action="store_true", help="plus la valeur est basse, mieux c'est")
    direction.add_argument("--higher-is-better", action="store_true", help="plus la valeur est haute, mieux c'est")
    new.add_argument("--lower", type=float, help="seuil bas (avec un sens)")
    new.add_argument("--upper", type=float, help="seuil haut (avec un sens)")
    new.add_argument("--confidential", action="store_true", help="effectifs soumis au secret statistique")

    groups = sub.add_parser("import-groupings", help="importer des niveaux de regroupement (EPCI, TAS…)",
                            description="Ajoute des niveaux de regroupement à partir d'un tableau (code INSEE de la "
                                        "commune, puis une colonne par niveau), par exemple la liste officielle "
                                        "des communes (communes.csv) ; un niveau du même nom est remplacé ; les "
                                        "codes postaux du tableau sont gardés.")
    groups.add_argument("file", type=Path, metavar="FICHIER", help="tableau CSV ou Excel (.xlsx)")
    groups.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    groups.add_argument("--colonne", action="append", metavar="COLONNE=NIVEAU", default=[],
                        help="colonne à importer et nom du niveau, ex. epci_nom=EPCI (répétable ; défaut : toutes "
                             "les colonnes, nommées d'après elles)")

    offer = sub.add_parser("import-offer", help="importer un fichier de l'offre d'insertion",
                           description="Importe des services ou des lieux dans l'offre de l'espace de "
                                       "travail : doublons fusionnés, lignes en erreur signalées. Sans "
                                       "--format, le format est deviné d'après les colonnes.")
    offer.add_argument("file", type=Path, metavar="FICHIER", help="fichier CSV, Excel ou JSON")
    offer.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    offer.add_argument("--format", choices=list(FORMATS), help="format du fichier")
    offer.add_argument("--theme", default="", help="thématique de tout le fichier, pour un fichier sans colonne de "
                                                   "thématiques (ex. numerique)")
    offer.add_argument("--public", default="", help="public de tout le fichier (ex. tous-publics)")
    offer.add_argument("--mode", default="", help="mode d'accueil de tout le fichier (en-presentiel, a-distance, "
                                                  "itinerant)")

    gtfs = sub.add_parser("import-gtfs", help="importer les arrêts d'un flux GTFS de transport public",
                          description="Ajoute les arrêts situés dans le territoire, avec le nombre de "
                                      "départs un jour de semaine type quand le flux a des horaires.")
    gtfs.add_argument("file", type=Path, metavar="FICHIER.zip", help="flux GTFS (zip, ou dossier de ses fichiers .txt)")
    gtfs.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")

    roads = sub.add_parser("import-roads", help="importer le réseau routier et piéton d'un extrait OpenStreetMap",
                           description="Garde les voies de l'extrait autour du territoire et prépare les réseaux "
                                       "voiture et piéton (OSRM), pour des zones blanches en minutes.")
    roads.add_argument("file", type=Path, metavar="FICHIER.osm.pbf", help="extrait OpenStreetMap (Geofabrik…)")
    roads.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")

    grid = sub.add_parser("import-grid", help="importer la grille carroyée Filosofi (carreaux de 200 m) de l'INSEE",
                          description="Les carreaux habités du territoire deviennent les lieux de vie des zones "
                                      "blanches en minutes.")
    grid.add_argument("file", type=Path, metavar="FICHIER", help="fichier carroyé (CSV, GeoPackage ou Parquet)")
    grid.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    grid.add_argument("--millesime", default="", help="millésime (défaut : l'année lue dans le nom du fichier)")

    cov = sub.add_parser("coverage", help="calculer les zones blanches d'une thématique",
                         description="Distance de chaque commune au service le plus proche de la "
                                     "thématique, zones blanches au-delà du seuil ; résultat en CSV.")
    cov.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    cov.add_argument("--theme", required=True, help="thématique data·inclusion (ex. mobilite, "
                                                    "mobilite--preparer-un-permis)")
    cov.add_argument("--max-km", type=float, default=10.0, help="seuil en km par la route (défaut 10)")
    cov.add_argument("--max-minutes", type=float, help="seuil en minutes (remplace --max-km)")
    cov.add_argument("--mode", default=CROW_FLY, choices=list(MODES),
                     help="vol-oiseau (distance × détour), route ou marche (minutes sur le réseau importé)")
    cov.add_argument("--detour", type=float, default=1.3, help="facteur de détour (défaut 1,3)")
    cov.add_argument("--speed", type=float, default=40.0, help="vitesse moyenne en km/h (défaut 40)")
    cov.add_argument("--remote", action="store_true", help="compter l'offre à distance")
    cov.add_argument("--target", default="population",
                     help="population cible : population ou identifiant d'indicateur (ex. part_foyers_rsa)")
    cov.add_argument("--walk-m", type=float, default=WALK_M,
                     help=f"mobilité : distance à pied jusqu'à un arrêt desservi, en mètres (défaut {WALK_M})")
    cov.add_argument("--min-departures", type=int, default=MIN_DEPARTURES,
                     help="mobilité : départs par jour de semaine pour qu'un arrêt compte "
                          f"(défaut {MIN_DEPARTURES})")
    cov.add_argument("--walk-minutes", type=float, default=WALK_MINUTES,
                     help="mobilité sur le réseau : minutes à pied jusqu'à un arrêt desservi (défaut 10)")
    cov.add_argument("--hours", default="0-30", metavar="DEBUT-FIN",
                     help="mobilité : heures où les départs sont comptés, ex. 6-20 (défaut : toute la journée)")
    cov.add_argument("--no-school", action="store_true", help="mobilité : ne pas compter les services scolaires")
    cov.add_argument("--out", required=True, type=Path, help="fichier CSV à écrire")

    export = sub.add_parser("export", help="exporter le diagnostic partagé (annexe du pacte)",
                            description="Écrit l'annexe en PDF, un dossier de CSV (un par tableau, avec "
                                        "metadonnees.csv) ou un classeur Excel.")
    export.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")
    export.add_argument("--format", required=True, choices=["pdf", "csv", "xlsx"], help="format")
    export.add_argument("--out", required=True, type=Path, help="fichier (pdf, xlsx) ou dossier (csv)")
    export.add_argument("--level", help="niveau d'analyse (défaut : premier niveau de regroupement)")
    export.add_argument("--territory", default="", help="un seul territoire du niveau (défaut : tous)")
    export.add_argument("--zones-blanches", action="append", metavar="THEME:SEUIL", dest="zones_blanches",
                        help="thématique et seuil des zones blanches de l'annexe, ex. mobilite:15km, "
                             "numerique:20min ou numerique:20min:route (répétable ; remplace les réglages retenus dans l'espace de "
                             "travail ; défaut : ceux-ci, sinon chaque thématique de l'offre à 10 km)")

    fetch = sub.add_parser("fetch", help="créer un espace de travail depuis les données ouvertes (en ligne)",
                           description="Récupère les communes du département (contours, population, codes "
                                       "postaux) et leurs EPCI depuis geo.api.gouv.fr, puis l'offre publiée sur "
                                       "data.gouv.fr (structures data·inclusion, lieux de médiation numérique, "
                                       "France services). Hors ligne, le dit clairement et ne crée rien.")
    fetch.add_argument("--departement", required=True, help="code du département (ex. 94, 2A, 974)")
    fetch.add_argument("--workspace", required=True, type=Path, help="dossier à créer")

    audit = sub.add_parser("audit-secret", help="vérifier le secret statistique de ce qui est publié",
                           description="Pour chaque indicateur soumis au secret, les cellules masquées (communes, "
                                       "groupes, département) et l'intervalle auquel une attaque par programmation "
                                       "linéaire sur tout ce qui est publié peut réduire chacune ; une cellule dont "
                                       "l'intervalle est plus étroit que le seuil de protection est signalée.")
    audit.add_argument("--workspace", type=Path, help="espace de travail (défaut : démonstration)")

    demo = sub.add_parser("demo", help="régénérer le département de démonstration (données fictives)",
                          description="Génère de façon déterministe le département fictif.")
    demo.add_argument("--out", required=True, type=Path, help="dossier à créer")
    demo.add_argument("--communes", type=int, default=200, help="nombre de communes (défaut 200)")
    demo.add_argument("--seed", type=int, default=2026, help="graine aléatoire (défaut 2026)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "create":
            fields = {"code": args.champ_code, "name": args.champ_nom, "population": args.champ_population}
            ws = create_workspace(args.workspace, args.communes, args.indicators, args.groupings,
                                  args.name, {k: v for k, v in fields.items() if v}, columns(args.colonne))
            print(f"Espace de travail créé : {ws.path} ({len(ws.communes)} communes, "
                  f"niveaux : {', '.join(levels(ws.groupings))}).")
            for warning in ws.meta.get("import_warnings", []):
                print(f"Attention : {warning}")
        elif args.command == "indicators":
            write_indicators(args.workspace, args.level, args.out)
            print(f"Indicateurs écrits dans {args.out}.")
        elif args.command == "import-indicators":
            where = columns(args.where)
            if args.new_indicator:
                report = add_indicator(args.workspace or default_workspace_path(), args.file, new_indicator(args),
                                       args.code_column, where, args.correspondances)
            else:
                report = import_indicators(args.workspace or default_workspace_path(), args.file,
                                           correspondence_file=args.correspondances, where=where)
            print(report.summary())
            for line in report.details():
                print(f"  {line}")
        elif args.command == "audit-secret":
            narrow = 0
            for label, lines in audit_workspace(load_workspace(args.workspace)).items():
                print(f"{label} : {len(lines)} cellule(s) masquée(s)")
                for line in lines:
                    print(line.french())
                narrow += sum(line.narrow for line in lines)
            print("Résultat : aucune cellule trop étroite." if not narrow else
                  f"Résultat : {narrow} cellule(s) trop étroite(s).")
            return 1 if narrow else 0
        elif args.command == "import-groupings":
            imported = import_groupings(args.workspace or default_workspace_path(), args.file, columns(args.colonne))
            print(f"Niveau(x) importé(s) : {', '.join(imported)}.")
        elif args.command == "import-offer":
            defaults = FileDefaults(args.theme, args.public, args.mode)
            fmt = args.format or ("csv" if defaults != FileDefaults() else None)
            report = import_offer(load_workspace(args.workspace), args.file, fmt, defaults=defaults)
            print(report.summary())
            for merge in report.merges:
                print(f"  fusionné : « {merge.merged_name} » avec « {merge.kept_name} » ({merge.reason})")
            for line in report.stale:
                print(f"  ignoré : {line}")
            for error in report.ignored:
                print(f"  ignoré : {error.french()}")
            for error in report.errors:
                print(f"  refusé : {error.french()}", file=sys.stderr)
        elif args.command == "import-roads":
            ws = load_workspace(args.workspace)
            info = import_roads(ws.path, args.file, tuple(ws.communes.to_crs(WGS84).total_bounds),
                                progress=lambda share, text: print(f"[{share:4.0%}] {text}", flush=True))
            print(f"Réseau importé : {info.ways} voies autour du territoire, {info.date_text()}.")
        elif args.command == "import-grid":
            ws = load_workspace(args.workspace)
            print(import_grid(ws.path, args.file, ws.communes, vintage=args.millesime).french())
        elif args.command == "import-gtfs":
            print(import_gtfs(load_workspace(args.workspace), args.file).summary())
        elif args.command == "coverage":
            ws = load_workspace(args.workspace)
            result = run_coverage(ws, args)
            write_output(args.out, csv_bytes(export_table(result, ws)))
            white = result.white_zones()
            print(f"{len(white)} commune(s) en zone blanche ({result.white_population():,.0f} habitants en zone blanche)"
                  f" ; résultat écrit dans {args.out}.".replace(",", "\u202f"))
        elif args.command == "export":
            print(export_annex(args))
        elif args.command == "fetch":
            ws = fetch_departement(args.departement, args.workspace)
            print(f"Espace de travail créé : {ws.path} ({len(ws.communes)} communes, niveaux : "
                  f"{', '.join(levels(ws.groupings))}, {len(ws.offer)} services).")
            for note in ws.meta.get("import_warnings", []):
                print(f"  {note}")
        elif args.command == "demo":
            from diagnostic.demo import write_demo
            write_demo(args.out, args.communes, args.seed)
            print(f"Département de démonstration écrit dans {args.out}.")
    except InputError as exc:
        print(f"Erreur : {exc.french()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Erreur : {disk_error(exc)}", file=sys.stderr)
        return 1
    except SQLAlchemyError:
        print("Erreur : la base des séances de travail est inaccessible (fichier seances.sqlite de l'espace de "
              "travail en lecture seule, ou serveur PostgreSQL arrêté). Vérifiez les droits ou le serveur, puis "
              "recommencez ; rien n'a été écrit.", file=sys.stderr)
        return 1
    except Exception:
        if os.environ.get("PTI_DEBUG"):
            raise
        print("Erreur interne du logiciel : l'opération n'a pas abouti et rien n'a été écrit. Relancez avec "
              "PTI_DEBUG=1 pour obtenir le détail technique à transmettre aux développeurs.", file=sys.stderr)
        return 1
    return 0


def columns(items: list[str]) -> dict[str, str] | None:
    """« COLONNE=VALEUR » options as a dict (None when none is given)."""
    return dict(item.partition("=")[::2] for item in items) or None


def new_indicator(args) -> NewIndicator:
    """The indicator described by the options of import-indicators."""
    direction = True if args.higher_is_better else False if args.lower_is_better else None
    aggregation = {"somme": AGGREGATION_SUMS, "moyenne-ponderee": AGGREGATION_WEIGHTED,
                   "non-agregeable": AGGREGATION_NONE}[args.aggregation]
    return NewIndicator(args.new_indicator, args.label, columns_of(args.numerator), columns_of(args.denominator),
                        args.rate, args.unit, args.source, args.vintage, args.family, direction, args.lower,
                        args.upper, args.confidential, aggregation, args.definition, args.owner, args.frequency)


def write_output(out: Path, data: bytes) -> None:
    """Write an output file whole or not at all (through a temporary file beside it)."""
    out = Path(out)
    if out.is_dir():
        raise InputError("c'est un dossier.", file=out.name, field="--out",
                         fix="Donnez un nom de fichier, par exemple « annexe.pdf ».")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def write_indicators(workspace: Path | None, level: str, out: Path) -> None:
    """All catalogue indicators of a level as one CSV (; separator, decimal comma, UTF-8 BOM)."""
    ws = load_workspace(workspace)
    if level not in levels(ws.groupings):
        raise InputError(f"niveau inconnu « {level} ».", field="--level",
                         fix=f"Niveaux disponibles : {', '.join(levels(ws.groupings))}.")
    rows = []
    for indicator in ws.catalogue.values():
        profile = indicator_profile(ws, indicator.id, level)
        for key, row in profile.table.iterrows():
            rows.append({
                "niveau": level, "code": key, "territoire": row["territory"],
                "indicateur": indicator.id, "libelle": indicator.label, "unite": indicator.unit,
                "numerateur": SECRET_LABEL if row["secret"] else count(row["numerator"]),
                "denominateur": count(row["denominator"]),
                "valeur": SECRET_LABEL if row["secret"] else round(row["value"], 2),
                "communes": int(row["communes"]), "communes_renseignees": int(row["communes_known"]),
                "part_population_renseignee": round(row["population_share"], 1),
                "reference_departement": round(profile.reference, 2),
                "part_population_renseignee_departement": round(profile.reference_share, 1),
                "alerte": row["status"] or "", "source": indicator.source,
                "millesime": indicator.vintage,
            })
    write_output(out, csv_bytes(pd.DataFrame(rows)))


def count(value: float) -> int | None:
    """A count as a whole number (None when unknown)."""
    return None if pd.isna(value) else int(round(value))


def run_coverage(ws, args) -> CoverageResult:
    """The coverage asked on the command line, its arguments checked first."""
    themes = tuple(t.strip() for t in args.theme.split(",") if t.strip())
    check_themes(themes)
    for name, value in (("--max-km", args.max_km), ("--detour", args.detour), ("--speed", args.speed),
                        ("--max-minutes", args.max_minutes), ("--walk-m", args.walk_m),
                        ("--walk-minutes", args.walk_minutes)):
        if value is not None and (not math.isfinite(value) or value <= 0 or (name == "--detour" and value < 1)):
            raise InputError(f"valeur invalide {value:g}.", field=name,
                             fix="Le seuil, la vitesse et la distance à pied sont positifs ; le détour vaut au moins 1.")
    if args.min_departures < 0:
        raise InputError(f"valeur invalide {args.min_departures}.", field="--min-departures",
                         fix="Donnez un nombre de départs positif ou nul.")
    if args.target not in target_choices(ws):
        raise InputError(f"population cible inconnue « {args.target} » (un effectif de personnes).", field="--target",
                         fix=f"Choisissez parmi : {', '.join(target_choices(ws))}.")
    check_mode(args.mode, args.max_minutes is not None or args.mode == CROW_FLY)
    first, _, last = args.hours.partition("-")
    if not (first.isdigit() and last.isdigit() and 0 <= int(first) < int(last) <= HOURS):
        raise InputError(f"plage horaire illisible « {args.hours} ».", field="--hours",
                         fix=f"Écrivez DEBUT-FIN en heures entières, par exemple « 6-20 » (au plus {HOURS}).")
    params = CoverageParams(themes, args.max_km, args.max_minutes, args.detour, args.speed, args.remote,
                            args.target, args.walk_m, args.min_departures, args.mode, int(first), int(last),
                            not args.no_school, args.walk_minutes)
    return commune_coverage(ws, params)


def export_annex(args) -> str:
    """Write the annex in the asked format, whole or not at all; returns what was written, in French."""
    if args.format != "pdf":
        return _export_annex(args, None)
    with Typesetter() as typesetter:  # WeasyPrint loads in its worker while the workspace is read
        return _export_annex(args, typesetter)


def _export_annex(args, typesetter: Typesetter | None) -> str:
    ws = load_workspace(args.workspace)
    options = levels(ws.groupings)
    level = args.level or options[1 if len(options) > 1 else 0]
    if level not in options:
        raise InputError(f"niveau inconnu « {level} ».", field="--level",
                         fix=f"Niveaux disponibles : {', '.join(options)}.")
    if args.territory and args.territory not in set(ws.groupings.get(level, pd.Series(dtype=str))):
        raise InputError(f"territoire inconnu « {args.territory} » au niveau {level}.", field="--territory")
    coverage = tuple(CoverageParams.parse(spec) for spec in args.zones_blanches) if args.zones_blanches else None
    choice = AnnexChoice(level, args.territory, coverage=coverage)
    context = annex_context(ws, choice)
    store = Store(sessions_url())
    out = Path(args.out)
    if args.format == "pdf":
        write_output(out, annex_pdf(ws, choice, store=store, typesetter=typesetter))
    elif args.format == "xlsx":
        write_output(out, workbook_bytes(annex_tables(ws, choice, store), TITLE, context))
    else:
        if out.exists() and not out.is_dir():
            raise InputError("un fichier de ce nom existe déjà ; l'export CSV écrit un dossier.", file=out.name,
                             field="--out", fix="Donnez le nom d'un dossier nouveau ou existant.")
        tables = annex_tables(ws, choice, store)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        try:  # the folder is filled whole, then its files replace those of the same name
            files = write_csv_folder(tables, staging, context)
            out.mkdir(exist_ok=True)
            for file in files:
                file.replace(out / file.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return f"{len(files)} fichiers CSV écrits dans {out}."
    return f"Annexe écrite dans {out}."
