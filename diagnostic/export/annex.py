"""The shared diagnostic as tables for the annex: one list, used by the CSV, Excel and PDF exports.

Every table reuses the numbers of the app (same aggregation, same secrecy, same thresholds) and
carries a note with its sources, vintages and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from diagnostic.access.white_zones import (CoverageParams, CoverageResult, commune_coverage, present_themes,
                                           territory_summary)
from diagnostic.indicators import MIN_POPULATION_SHARE

from diagnostic.offer import offer_list, theme_table
from diagnostic.profile import SECRET_LABEL, Profile, alerts_overview, indicator_profile, key_figures
from diagnostic.sessions.store import (COOPERATION_MODES, FINDING_KINDS, SHEET_STATUSES, STAGES, Store,
                                       all_sessions, follow_up_text)
from diagnostic.territory import COMMUNE_LEVEL, group_of
from diagnostic.themes import theme_labels

SECTIONS = {"territoire": "Le territoire et ses regroupements",
            "profil": "Profil socio-économique",
            "offre": "L'offre d'insertion",
            "zones_blanches": "Zones blanches",
            "constats": "Constats partagés, classés par votes",
            "fiches": "Fiches-actions",
            "parties_prenantes": "Parties prenantes et modes de coopération",
            "sources": "Sources et millésimes des indicateurs"}
DEPARTEMENT = "Département"
NOTHING = "Information"  # the one column of a table that says why a section has nothing to show


@dataclass
class AnnexTable:
    """One table of the annex: a file or sheet name, a French title, the data and its note."""

    key: str
    section: str
    title: str
    frame: pd.DataFrame
    note: str = ""
    profile: Profile | None = None  # the indicator profile behind the table, for maps and charts
    coverage: CoverageResult | None = None  # the white zones behind the table, for maps

    @property
    def empty_reason(self) -> str:
        """The French sentence of a section that has nothing to show ("" otherwise)."""
        return str(self.frame[NOTHING].iloc[0]) if list(self.frame.columns) == [NOTHING] else ""


def nothing(key: str, section: str, title: str, sentence: str) -> AnnexTable:
    """A table that says, in one French sentence, why a section has nothing to show."""
    return AnnexTable(key, section, title, pd.DataFrame({NOTHING: [sentence]}))


@dataclass
class AnnexChoice:
    """What the user asked for: level, territory (all when empty), sections, the white-zone
    settings (those retained in the workspace when None) and the working-group sessions (all when
    None, else their ids)."""

    level: str
    territory: str = ""
    sections: list[str] = field(default_factory=lambda: list(SECTIONS))
    coverage: tuple[CoverageParams, ...] | None = None
    sessions: tuple[int, ...] | None = None


def annex_coverage(ws, choice: AnnexChoice) -> tuple[CoverageParams, ...]:
    """The white-zone settings of the annex: the choice's, else those the group retained in the
    workspace, else every top-level theme of the offer at 10 km."""
    if choice.coverage is not None:
        return tuple(choice.coverage)
    if ws.retained_coverage:
        return tuple(ws.retained_coverage)
    return tuple(CoverageParams((theme,), max_km=10) for theme in present_themes(ws.offer))


def whole(values: pd.Series) -> pd.Series:
    """Counts as whole numbers; unknown or non-finite values left empty."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return numbers.where(np.isfinite(numbers) & (numbers.abs() < 1e15)).round(0).astype("Int64")


def _keep(frame: pd.DataFrame, column: str, territory: str) -> pd.DataFrame:
    """Rows of the chosen territory (and the département reference), or all rows."""
    if not territory:
        return frame
    return frame[frame[column].isin([territory, DEPARTEMENT])].reset_index(drop=True)


def annex_tables(ws, choice: AnnexChoice, store: Store | None = None) -> list[AnnexTable]:
    """All the tables of the annex for this choice, in the order of the document; the sessions'
    findings, action sheets and stakeholders come from `store` when given. A section with nothing
    to show has one table saying why."""
    level = choice.level
    communes_of = (group_of(ws.communes, ws.groupings, level) if level != COMMUNE_LEVEL and choice.territory
                   else None)
    codes = set(communes_of.index[communes_of == choice.territory]) if communes_of is not None else None
    tables: list[AnnexTable] = []
    if "territoire" in choice.sections:
        tables += territory_tables(ws, choice, codes)
    if "profil" in choice.sections:
        tables += profile_tables(ws, choice, codes)
    if "offre" in choice.sections:
        tables += offer_tables(ws, choice, codes)
    if "zones_blanches" in choice.sections:
        tables += white_zone_tables(ws, choice)
    if store is not None:
        tables += session_tables(store, choice, ws.key, ws.catalogue)
    if "sources" in choice.sections:
        tables.append(sources_table(ws))
    return unique_keys(tables)


def unique_keys(tables: list[AnnexTable]) -> list[AnnexTable]:
    """File names of at most 60 characters, each used once (Excel shortens its sheet names)."""
    seen: set[str] = set()
    for table in tables:
        key, n = table.key[:60], 2
        while key in seen:
            key, n = f"{table.key[:57]}_{n}", n + 1
        table.key = key
        seen.add(key)
    return tables


def territory_tables(ws, choice: AnnexChoice, codes: set[str] | None) -> list[AnnexTable]:
    frame = pd.DataFrame({"Code INSEE": ws.communes["code_insee"], "Commune": ws.communes["name"],
                          "Population": whole(ws.communes["population"])})
    for column in ws.groupings.columns:
        frame[column] = ws.groupings[column].reindex(ws.communes["code_insee"]).to_numpy()
    if codes is not None:
        frame = frame[frame["Code INSEE"].isin(codes)]
    figures = key_figures(ws, choice.level).round(1)
    return [AnnexTable("communes", "territoire", "Communes et regroupements", frame.reset_index(drop=True),
                       "Population municipale du fichier des communes de l'espace de travail."
                       + ("" if len(ws.groupings.columns) else " Aucun niveau de regroupement n'est défini.")),
            AnnexTable("chiffres_cles", "territoire", f"Chiffres clés — {choice.level}",
                       _keep(figures, "Territoire", choice.territory),
                       "Taux recalculés à partir des numérateurs et dénominateurs ; valeurs vides : secret "
                       "statistique ou non renseigné. " + (
                           "« Population couverte » : part de la population des communes qui ont une valeur ; "
                           "les taux sans cette colonne couvrent toute la population."
                           if any("population couverte" in c for c in figures.columns)
                           else "Chaque taux couvre toute la population du territoire."))]


def profile_tables(ws, choice: AnnexChoice, codes: set[str] | None) -> list[AnnexTable]:
    level = choice.level
    indicators = ws.indicators_with_data()
    if not indicators:
        return [nothing("profil", "profil", SECTIONS["profil"],
                        "Aucun indicateur n'a de valeur dans cet espace de travail.")]
    tables = []
    for ind in indicators:
        profile = indicator_profile(ws, ind.id, level)
        table = profile.table
        shown = table["secret"] == ""
        frame = pd.DataFrame({
            "Code": table.index, "Territoire": table["territory"],
            ind.numerator: whole(table["numerator"]).astype(object).where(shown, SECRET_LABEL),
            **({ind.denominator: whole(table["denominator"])} if ind.is_rate else {}),
            f"Valeur ({ind.unit})": table["value"].round(2).astype(object).where(shown, SECRET_LABEL),
            "Communes renseignées": [f"{k} sur {n}" for k, n in zip(table["communes_known"], table["communes"],
                                                                  strict=True)],
            "Population couverte (%)": table["population_share"].round(0),
            "Seuil": table["status"].fillna(""),
        })
        frame = pd.concat([frame, pd.DataFrame([{
            "Code": "", "Territoire": DEPARTEMENT, f"Valeur ({ind.unit})": round(profile.reference, 2),
            "Population couverte (%)": round(profile.reference_share, 0)}])], ignore_index=True)
        if codes is not None and level == COMMUNE_LEVEL:
            frame = frame[frame["Code"].isin(codes) | (frame["Territoire"] == DEPARTEMENT)]
        if level != COMMUNE_LEVEL:
            frame = frame.drop(columns="Code")  # the territory's name is its code
        tables.append(AnnexTable(f"profil_{ind.id}", "profil", f"{ind.label} — {level}",
                                 _keep(frame, "Territoire", choice.territory),
                                 f"Source : {ind.source}. Millésime : {ind.vintage}. {ind.threshold_rule()} "
                                 f"Valeur du département {profile.completeness()} ; une valeur calculée sur "
                                 f"moins de {MIN_POPULATION_SHARE:g} % de la population de son territoire est "
                                 "« non significatif ».", profile))
    alerts = alerts_overview(ws, level)
    tables.append(AnnexTable("alertes", "profil", f"Territoires en alerte — {level}",
                             _keep(alerts, "Territoire", choice.territory),
                             "Territoires au-delà du seuil d'alerte d'un indicateur du catalogue (les valeurs "
                             "non significatives n'y figurent pas)."))
    return tables


def offer_tables(ws, choice: AnnexChoice, codes: set[str] | None) -> list[AnnexTable]:
    if ws.offer.empty:
        return [nothing("offre", "offre", SECTIONS["offre"],
                        "Aucune offre d'insertion n'est recensée dans cet espace de travail.")]
    offer = ws.offer if codes is None else ws.offer[ws.offer["code_insee"].isin(codes) | (ws.offer["code_insee"] == "")]
    if offer.empty:
        return [nothing("offre", "offre", SECTIONS["offre"],
                        f"Aucun service n'est recensé dans le territoire « {choice.territory} ».")]
    tables = []
    if choice.level != COMMUNE_LEVEL:
        groups = group_of(ws.communes, ws.groupings, choice.level)
        counts = theme_table(offer, groups, ws.communes.set_index("code_insee")["population"])
        wide = counts.pivot(index="territory", columns="theme", values="services")
        wide.columns = [theme_labels()[c] for c in wide.columns]
        wide = wide.reset_index().rename(columns={"territory": "Territoire"})
        tables.append(AnnexTable("offre_thematiques", "offre", f"Services par territoire et thématique — {choice.level}",
                                 _keep(wide, "Territoire", choice.territory),
                                 "Un service compte dans chacune de ses thématiques ; l'offre à distance "
                                 "n'est pas comptée."))
    listing = offer_list(offer, ws.commune_names(), pd.Timestamp.today().normalize())
    sources = ", ".join(sorted({s for joined in offer["source"] for s in joined.split(" + ") if s}))
    tables.append(AnnexTable("offre_liste", "offre", "Liste des services et lieux",
                             listing.drop(columns=["Ancienneté (mois)"]).reset_index(drop=True),
                             f"Sources : {sources}."))
    return tables


def white_zone_tables(ws, choice: AnnexChoice) -> list[AnnexTable]:
    if ws.offer.empty and not (choice.coverage or ws.retained_coverage):
        return [nothing("zones_blanches", "zones_blanches", SECTIONS["zones_blanches"],
                        "Aucune offre n'est recensée : les zones blanches ne peuvent pas être calculées.")]
    level = choice.level if choice.level != COMMUNE_LEVEL else None
    tables = []
    for params in annex_coverage(ws, choice):
        result = commune_coverage(ws, params)
        summary = territory_summary(result, ws, level or COMMUNE_LEVEL)
        if level is None:  # at commune level: the communes in white zone and the département
            white = set(result.white_zones()["code_insee"])
            summary = summary[summary.index.isin(white) | (summary.index == DEPARTEMENT)]
            summary.index = [ws.commune_names().get(i, i) for i in summary.index]
        frame = pd.DataFrame({
            "Territoire": summary.index, "Communes en zone blanche": whole(summary["white_communes"]),
            "Habitants en zone blanche": whole(summary["white_population"]),
            "Taux de couverture (%)": summary["coverage_rate"].round(1)})
        if params.is_mobility:
            frame.insert(2, "Communes hors de portée des services", whole(summary["service_white_communes"]))
            frame.insert(3, "Communes desservies par le transport public", whole(summary["transit_communes"]))
        note = ("Aucun service de cette thématique n'est recensé sur place ou en itinérance. "
                if result.services.empty else "")
        tables.append(AnnexTable(f"zones_blanches_{'_'.join(params.themes)}_{params.threshold_label().replace(':', '_')}",
                                 "zones_blanches", f"Zones blanches — {params.label()}",
                                 _keep(frame, "Territoire", choice.territory), note + result.describe(),
                                 coverage=result))
    if not tables:
        return [nothing("zones_blanches", "zones_blanches", SECTIONS["zones_blanches"],
                        "Aucune thématique n'est retenue pour les zones blanches.")]
    return tables


def sources_table(ws) -> AnnexTable:
    indicators = ws.indicators_with_data()
    if not indicators:
        return nothing("sources", "sources", SECTIONS["sources"], "Aucun indicateur n'a de valeur.")
    frame = pd.DataFrame([dict(ind.metadata()) for ind in indicators])
    return AnnexTable("sources", "sources", SECTIONS["sources"],
                      frame[["Indicateur", "Famille", "Définition", "Source", "Millésime",
                             "Fréquence de collecte", "Responsable", "Seuils"]],
                      "Indicateurs du catalogue qui ont des valeurs dans l'espace de travail.")


def annex_context(ws, choice: AnnexChoice) -> str:
    """One line saying what the export covers: workspace, level, territory, date."""
    territory = choice.territory or "ensemble du département"
    fictional = " (données fictives)" if ws.fictional and "fictives" not in ws.name else ""
    return (f"{ws.name}{fictional} — niveau : {choice.level} — territoire : {territory} — "
            f"exporté le {pd.Timestamp.today():%d/%m/%Y} par Diagnostic PTI")


def csv_zip(tables: list[AnnexTable], context: str) -> bytes:
    """The CSV files of the annex and their metadonnees.csv, in one zip."""
    import io
    import tempfile
    import zipfile
    from pathlib import Path

    from diagnostic.export.csv import write_csv_folder

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in write_csv_folder(tables, Path(tmp), context):
            archive.write(path, path.name)
    return buffer.getvalue()


def session_tables(store: Store, choice: AnnexChoice, workspace: str | None = None,
                   catalogue: dict | None = None) -> list[AnnexTable]:
    """Findings ranked by votes, action sheets and stakeholders of the working-group sessions of
    the workspace (those of the chosen territory and sessions, or all of them)."""
    chosen = [x for x in all_sessions(store, workspace) if (not choice.territory or x["territory"] in ("", choice.territory))
              and (choice.sessions is None or x["id"] in choice.sessions)]
    labels = theme_labels()
    indicator_labels = {i.id: i.label for i in catalogue.values()} if catalogue else {}
    findings, sheets, partners = [], [], []
    for session in chosen:
        for f in store.ranking(session["id"]):
            findings.append({"Séance": session["title"], "Votes": f["votes"], "Type": FINDING_KINDS[f["kind"]],
                             "Constat": f["text"], "Thématique": labels.get(f["theme"], ""),
                             "Territoire": f["territory"], "Auteur": f"{f['author']} ({f['organisation']})",
                             "Date": f"{f['created_at']:%d/%m/%Y}"})
        for sheet in store.sheets(session["id"]):
            d = sheet["data"]
            sheets.append({"Séance": session["title"], "Intitulé": d["title"], "Axe": d["axis"],
                           "Objectifs": d["objectives"], "Public": d["public"], "Pilote": d["pilot"],
                           "Partenaires": d["partners"], "Moyens humains": d["human_means"],
                           "Moyens financiers": d["financial_means"], "Calendrier": d["calendar"],
                           "Livrables": d["deliverables"],
                           "Indicateurs de suivi": follow_up_text(d["indicators"], indicator_labels),
                           "Statut": SHEET_STATUSES[d["status"]], "Version": sheet["version"]})
        for row in store.stakeholders(session["id"]):
            d = row["data"]
            partners.append({"Partenaire": d["name"], "Mission": d["mission"], "Historique": d["history"],
                             "Rôle dans le PTI": d["role"], "Adéquation": d["fit"], "Impact": d["impact"],
                             "Influence": d["influence"],
                             **{label: COOPERATION_MODES[d["modes"][stage]] for stage, label in STAGES.items()}})
    out = []
    note = f"{len(chosen)} séance(s) de travail."
    for section, key, rows, sentence in (
            ("constats", "constats", findings, "Aucun constat n'a été saisi dans les séances retenues."),
            ("fiches", "fiches_actions", sheets, "Aucune fiche-action n'a été rédigée dans les séances retenues."),
            ("parties_prenantes", "parties_prenantes", partners,
             "Aucune partie prenante n'a été positionnée dans les séances retenues.")):
        if section not in choice.sections:
            continue
        if not rows:
            out.append(nothing(key, section, SECTIONS[section], sentence))
        elif section == "constats":
            ranked = pd.DataFrame(rows).sort_values(["Votes"], ascending=False, kind="stable")
            out.append(AnnexTable(key, section, SECTIONS[section], ranked.reset_index(drop=True), note))
        else:
            out.append(AnnexTable(key, section, SECTIONS[section], pd.DataFrame(rows),
                                  note + (" Notes de 1 à 5." if section == "parties_prenantes" else "")))
    return out
