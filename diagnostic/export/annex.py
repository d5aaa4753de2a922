"""The shared diagnostic as tables for the annex: one list, used by the CSV, Excel and PDF exports.

Every table reuses the numbers of the app (same aggregation, same secrecy, same thresholds) and
carries a note with its sources, vintages and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from diagnostic.coverage import CoverageParams, commune_coverage, territory_summary
from diagnostic.offer import offer_list, theme_table
from diagnostic.profile import SECRET_LABEL, Profile, alerts_overview, indicator_profile, key_figures
from diagnostic.store import (COOPERATION_MODES, FINDING_KINDS, SHEET_STATUSES, STAGES, Store,
                              all_sessions)
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
DEFAULT_COVERAGE = (CoverageParams(("mobilite",), max_km=10), CoverageParams(("numerique",), max_km=10))
DEPARTEMENT = "Département"


@dataclass
class AnnexTable:
    """One table of the annex: a file or sheet name, a French title, the data and its note."""

    key: str
    section: str
    title: str
    frame: pd.DataFrame
    note: str = ""
    profile: Profile | None = None  # the indicator profile behind the table, for maps and charts


@dataclass
class AnnexChoice:
    """What the user asked for: level, territory (all when empty) and sections."""

    level: str
    territory: str = ""
    sections: list[str] = field(default_factory=lambda: list(SECTIONS))
    coverage: tuple[CoverageParams, ...] = DEFAULT_COVERAGE


def _keep(frame: pd.DataFrame, column: str, territory: str) -> pd.DataFrame:
    """Rows of the chosen territory (and the département reference), or all rows."""
    if not territory:
        return frame
    return frame[frame[column].isin([territory, DEPARTEMENT])].reset_index(drop=True)


def annex_tables(ws, choice: AnnexChoice, store: Store | None = None) -> list[AnnexTable]:
    """All the tables of the annex for this choice, in the order of the document; the sessions'
    findings, action sheets and stakeholders come from `store` when given."""
    tables: list[AnnexTable] = []
    level = choice.level
    communes_of = (group_of(ws.communes, ws.groupings, level) if level != COMMUNE_LEVEL and choice.territory
                   else None)
    codes = set(communes_of.index[communes_of == choice.territory]) if communes_of is not None else None
    if "territoire" in choice.sections:
        frame = pd.DataFrame({"Code INSEE": ws.communes["code_insee"], "Commune": ws.communes["name"],
                              "Population": ws.communes["population"].astype(int)})
        for column in ws.groupings.columns:
            frame[column] = ws.groupings[column].reindex(ws.communes["code_insee"]).to_numpy()
        if codes is not None:
            frame = frame[frame["Code INSEE"].isin(codes)]
        tables.append(AnnexTable("communes", "territoire", "Communes et regroupements", frame.reset_index(drop=True),
                                 "Population municipale du fichier des communes de l'espace de travail."))
        figures = key_figures(ws, level).round(1)
        tables.append(AnnexTable("chiffres_cles", "territoire", f"Chiffres clés — {level}",
                                 _keep(figures, "Territoire", choice.territory),
                                 "Taux recalculés à partir des numérateurs et dénominateurs ; valeurs vides : "
                                 "secret statistique ou non renseigné."))
    if "profil" in choice.sections:
        for ind in ws.indicators_with_data():
            profile = indicator_profile(ws, ind.id, level)
            table = profile.table
            frame = pd.DataFrame({
                "Code": table.index, "Territoire": table["territory"],
                ind.numerator: table["numerator"].round(0).astype("Int64").astype(object).where(
                    table["secret"] == "", SECRET_LABEL),
                **({ind.denominator: table["denominator"].round(0).astype("Int64")} if ind.is_rate else {}),
                f"Valeur ({ind.unit})": table["value"].round(2).astype(object).where(table["secret"] == "", SECRET_LABEL),
                "Seuil": table["status"].fillna(""),
            })
            frame = pd.concat([frame, pd.DataFrame([{"Code": "", "Territoire": DEPARTEMENT,
                                                      f"Valeur ({ind.unit})": round(profile.reference, 2)}])],
                              ignore_index=True)
            if codes is not None and level == COMMUNE_LEVEL:
                frame = frame[frame["Code"].isin(codes) | (frame["Territoire"] == DEPARTEMENT)]
            if level != COMMUNE_LEVEL:
                frame = frame.drop(columns="Code")  # the territory's name is its code
            tables.append(AnnexTable(f"profil_{ind.id}"[:31], "profil", f"{ind.label} — {level}",
                                     _keep(frame, "Territoire", choice.territory),
                                     f"Source : {ind.source}. Millésime : {ind.vintage}. {ind.threshold_rule()}",
                                     profile))
        alerts = alerts_overview(ws, level)
        tables.append(AnnexTable("alertes", "profil", f"Territoires en alerte — {level}",
                                 _keep(alerts, "Territoire", choice.territory),
                                 "Territoires au-delà du seuil d'alerte d'un indicateur du catalogue."))
    if "offre" in choice.sections and not ws.offer.empty:
        offer = ws.offer if codes is None else ws.offer[ws.offer["code_insee"].isin(codes) | (ws.offer["code_insee"] == "")]
        if level != COMMUNE_LEVEL:
            groups = group_of(ws.communes, ws.groupings, level)
            counts = theme_table(offer, groups, ws.communes.set_index("code_insee")["population"])
            wide = counts.pivot(index="territory", columns="theme", values="services")
            wide.columns = [theme_labels()[c] for c in wide.columns]
            wide = wide.reset_index().rename(columns={"territory": "Territoire"})
            tables.append(AnnexTable("offre_thematiques", "offre", f"Services par territoire et thématique — {level}",
                                     _keep(wide, "Territoire", choice.territory),
                                     "Un service compte dans chacune de ses thématiques ; l'offre à distance "
                                     "n'est pas comptée."))
        listing = offer_list(offer, ws.commune_names(), pd.Timestamp.today().normalize())
        sources = ", ".join(sorted({s for joined in offer["source"] for s in joined.split(" + ")}))
        tables.append(AnnexTable("offre_liste", "offre", "Liste des services et lieux",
                                 listing.drop(columns=["Ancienneté (mois)"]).reset_index(drop=True),
                                 f"Sources : {sources}."))
    if "zones_blanches" in choice.sections and not ws.offer.empty and level != COMMUNE_LEVEL:
        for params in choice.coverage:
            result = commune_coverage(ws, params)
            summary = territory_summary(result, ws, level)
            frame = pd.DataFrame({
                "Territoire": summary.index, "Communes en zone blanche": summary["white_communes"].astype(int),
                "Habitants en zone blanche": summary["white_population"].round(0).astype(int),
                "Taux de couverture (%)": summary["coverage_rate"].round(1)})
            theme = ", ".join(theme_labels().get(t, t) for t in params.themes)
            tables.append(AnnexTable(f"zones_blanches_{'_'.join(params.themes)}"[:31], "zones_blanches",
                                     f"Zones blanches — {theme}", _keep(frame, "Territoire", choice.territory),
                                     params.describe()))
    if store is not None:
        tables += session_tables(store, choice)
    if "sources" in choice.sections:
        frame = pd.DataFrame([dict(ind.metadata()) for ind in ws.catalogue.values()])
        tables.append(AnnexTable("sources", "sources", "Sources et millésimes des indicateurs",
                                 frame[["Indicateur", "Famille", "Définition", "Source", "Millésime",
                                        "Fréquence de collecte", "Responsable", "Seuils"]],
                                 "Catalogue des indicateurs de l'espace de travail."))
    return tables


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


def session_tables(store: Store, choice: AnnexChoice) -> list[AnnexTable]:
    """Findings ranked by votes, action sheets and stakeholders of the working-group sessions
    (those of the chosen territory, or all of them)."""
    chosen = [x for x in all_sessions(store) if not choice.territory or x["territory"] in ("", choice.territory)]
    labels = theme_labels()
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
                           "Indicateurs (cible)": "; ".join(f"{i.get('indicateur')} ({i.get('cible')})"
                                                            for i in d["indicators"]),
                           "Statut": SHEET_STATUSES[d["status"]], "Version": sheet["version"]})
        for row in store.stakeholders(session["id"]):
            d = row["data"]
            partners.append({"Partenaire": d["name"], "Mission": d["mission"], "Historique": d["history"],
                             "Rôle dans le PTI": d["role"], "Adéquation": d["fit"], "Impact": d["impact"],
                             "Influence": d["influence"],
                             **{label: COOPERATION_MODES[d["modes"][stage]] for stage, label in STAGES.items()}})
    out = []
    note = f"{len(chosen)} séance(s) de travail."
    if "constats" in choice.sections and findings:
        ranked = pd.DataFrame(findings).sort_values(["Votes"], ascending=False, kind="stable")
        out.append(AnnexTable("constats", "constats", SECTIONS["constats"], ranked.reset_index(drop=True), note))
    if "fiches" in choice.sections and sheets:
        out.append(AnnexTable("fiches_actions", "fiches", SECTIONS["fiches"], pd.DataFrame(sheets), note))
    if "parties_prenantes" in choice.sections and partners:
        out.append(AnnexTable("parties_prenantes", "parties_prenantes", SECTIONS["parties_prenantes"],
                              pd.DataFrame(partners), note + " Notes de 1 à 5."))
    return out
