"""The steps of a diagnostic and where a workspace stands on each: done, missing or out of date.

Territoire → indicateurs → offre → transport → réseau et lieux de vie → zones blanches → séances →
annexe, in the order the
home page suggests, each with a French sentence saying what there is or what to do, and the page
that does it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from diagnostic.access.grid import grid_info
from diagnostic.indicators import fmt_number
from diagnostic.offer import OFFER_FILE, freshness_months
from diagnostic.travel.network import network_info
from diagnostic.workspace import RETAINED_FILE

DONE, MISSING, OUTDATED = "fait", "à faire", "à actualiser"
OLD_VINTAGE_YEARS = 3  # an indicator whose vintage is older than this is to be updated
OLD_OFFER_MONTHS = 24  # an offer whose typical record is older than this is to be updated


@dataclass(frozen=True)
class Step:
    """One step of the diagnostic: its name, status, what the workspace has, the page that does it."""

    name: str
    status: str
    detail: str
    page: str


def _year(vintage: str) -> int | None:
    years = [int(y) for y in re.findall(r"\b(20\d{2}|19\d{2})\b", str(vintage))]
    return max(years) if years else None


def diagnostic_steps(ws, sessions: int, today: date | None = None) -> list[Step]:
    """Where the workspace stands on each step of the diagnostic (`sessions`: how many working
    sessions were opened for it)."""
    today = today or date.today()
    levels = list(ws.groupings.columns)
    steps = [Step("Territoire", DONE if levels else MISSING,
                  f"{len(ws.communes)} communes, niveaux : {', '.join(levels)}." if levels else
                  f"{len(ws.communes)} communes, aucun regroupement : importez les territoires d'action sociale ou "
                  "les EPCI (par exemple la liste officielle des communes, colonne epci_nom).",
                  "pages/9_Importer_des_donnees.py")]
    indicators = [i for i in ws.indicators_with_data() if i.id != "population"]
    old = [i.short_label for i in indicators if (_year(i.vintage) or today.year) <= today.year - OLD_VINTAGE_YEARS]
    if not indicators:
        steps.append(Step("Indicateurs", MISSING, "Aucun indicateur en dehors de la population : importez les "
                          "tableaux de l'INSEE, de la CAF ou de France Travail.", "pages/9_Importer_des_donnees.py"))
    else:
        steps.append(Step("Indicateurs", OUTDATED if old else DONE,
                          f"{len(indicators)} indicateur(s) renseigné(s)" +
                          (f" ; millésime ancien : {', '.join(old)}." if old else "."),
                          "pages/3_Catalogue_des_indicateurs.py"))
    if ws.offer.empty:
        steps.append(Step("Offre d'insertion", MISSING, "Aucun service recensé : importez data·inclusion, les lieux "
                          "de médiation numérique, les France services ou les listes des partenaires.",
                          "pages/4_Offre_d_insertion.py"))
    else:
        age = freshness_months(ws.offer["updated"], pd.Timestamp(today)).median()
        stale = pd.notna(age) and age > OLD_OFFER_MONTHS
        steps.append(Step("Offre d'insertion", OUTDATED if stale else DONE,
                          f"{len(ws.offer)} services de {len({s for j in ws.offer['source'] for s in j.split(' + ')})} "
                          "source(s)" + (f" ; la moitié des fiches a plus de {age:.0f} mois : demandez des listes à "
                                         "jour." if stale else "."), "pages/4_Offre_d_insertion.py"))
    steps.append(Step("Transport public", DONE if len(ws.stops) else MISSING,
                      f"{len(ws.stops)} arrêts de {ws.stops['feed'].nunique()} flux." if len(ws.stops) else
                      "Aucun flux GTFS : sans lui, les zones blanches de mobilité ne comptent que les services.",
                      "pages/9_Importer_des_donnees.py"))
    network, cells = network_info(ws.path), grid_info(ws.path)
    have = ([f"réseau routier et piéton ({network.date_text()})"] if network else []) + \
        ([f"{fmt_number(cells.cells, 0)} carreaux Filosofi"] if cells else [])
    lacking = ([] if network else ["l'extrait OpenStreetMap de la région"]) + \
        ([] if cells else ["la grille carroyée Filosofi de l'INSEE"])
    detail = (f"Présents : {', '.join(have)}. " if have else "") + (
        f"À importer : {' et '.join(lacking)} ; les zones blanches se calculent alors en minutes depuis les lieux "
        "de vie." if lacking else "Les zones blanches se calculent en minutes depuis les lieux de vie.")
    steps.append(Step("Réseau et lieux de vie", MISSING if lacking else DONE, detail, "pages/9_Importer_des_donnees.py"))
    retained, offer = ws.path / RETAINED_FILE, ws.path / OFFER_FILE
    if not ws.retained_coverage:
        steps.append(Step("Zones blanches", MISSING, "Aucun réglage retenu pour l'annexe : choisissez thématique et "
                          "seuil, puis « Retenir pour l'annexe ».", "pages/5_Zones_blanches.py"))
    else:
        settings = ", ".join(p.label() for p in ws.retained_coverage)
        revised = offer.is_file() and retained.is_file() and offer.stat().st_mtime > retained.stat().st_mtime
        steps.append(Step("Zones blanches", OUTDATED if revised else DONE,
                          f"Réglages retenus pour l'annexe : {settings}." +
                          (" L'offre a changé depuis : revoyez-les." if revised else ""), "pages/5_Zones_blanches.py"))
    steps.append(Step("Séances de travail", DONE if sessions else MISSING,
                      f"{sessions} séance(s) ouverte(s)." if sessions else
                      "Aucune séance : ouvrez-en une pour que les partenaires ajoutent constats et fiches-actions.",
                      "pages/7_Seances.py"))
    missing = [s.name.lower() for s in steps if s.status == MISSING
               and s.name not in ("Transport public", "Réseau et lieux de vie")]
    steps.append(Step("Annexe du pacte", MISSING if missing else DONE,
                      f"À compléter avant l'export : {', '.join(missing)}." if missing else
                      "Tout est prêt : exportez l'annexe (PDF, Excel, CSV).", "pages/6_Export.py"))
    return steps
