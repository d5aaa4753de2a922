"""The socio-economic profile: one indicator at one territory level, masked, compared and flagged."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from diagnostic.indicators import MIN_POPULATION_SHARE, STATUS_PARTIAL, Indicator, aggregate, fmt_number, reference
from diagnostic.secrecy import protected_cells
from diagnostic.secrecy.cells import COMMUNE, DEPARTEMENT
from diagnostic.territory import COMMUNE_LEVEL, group_of
from diagnostic.workspace import Workspace

SECRET_LABEL = "secret statistique"


@dataclass
class Profile:
    """An indicator's table at a level, with the département reference."""

    indicator: Indicator
    level: str
    table: pd.DataFrame  # index: territory key; columns below
    reference: float
    reference_share: float = 100.0  # share (%) of the département's population with a value

    def partial(self) -> pd.Series:
        """Rows whose value rests on less than MIN_POPULATION_SHARE of their population."""
        return self.table["population_share"] < MIN_POPULATION_SHARE

    def completeness(self) -> str:
        """How much of the département the reference value covers, in one French phrase."""
        return f"calculé sur {fmt_number(self.reference_share, 0)} % de la population"

    def masked_counts(self) -> tuple[int, int]:
        """Cells hidden by statistical secrecy, and cells without any value (unknown at source)."""
        secret = self.table["secret"] != ""
        return int(secret.sum()), int((self.table["value"].isna() & ~secret).sum())

    def alerts(self) -> pd.DataFrame:
        """Territories beyond a threshold, worst first."""
        flagged = self.table[self.table["status"].isin(["alerte", "vigilance"])]
        ascending = bool(self.indicator.higher_is_better)
        return flagged.sort_values(["status", "value"], ascending=[True, ascending])


def indicator_profile(ws: Workspace, indicator_id: str, level: str) -> Profile:
    """Aggregate, mask small counts and flag thresholds for one indicator at one level.

    Columns: territory (display name), numerator, denominator, value, communes, communes_known,
    communes_missing, population_share (% of the population with a value), secret ("secret" when
    the cell is in the indicator's protected set, see ``diagnostic.secrecy``, else ""), status (favorable/vigilance/alerte, « non significatif » when the value rests
    on too small a part of the population, or None).
    Masked rows have no numerator, denominator nor value. Results are kept in ``ws.memo``: the workspace is
    immutable once loaded, so the same indicator at the same level is computed once.
    """
    key = ("profile", indicator_id, level)
    if key not in ws.memo:
        ws.memo[key] = _indicator_profile(ws, indicator_id, level)
    return ws.memo[key]


def _indicator_profile(ws: Workspace, indicator_id: str, level: str) -> Profile:
    indicator = ws.catalogue[indicator_id]
    groups = group_of(ws.communes, ws.groupings, level)
    population = ws.communes.set_index("code_insee")["population"]
    table = aggregate(ws.values, groups, indicator, population)
    table.insert(0, "territory", ws.commune_names().reindex(table.index) if level == COMMUNE_LEVEL else table.index)
    ref = reference(ws.values, ws.communes["code_insee"], indicator, population)
    table["secret"] = ""
    if indicator.confidential:
        protection = protected_cells(ws, indicator)
        kind = COMMUNE if level == COMMUNE_LEVEL else level
        table["secret"] = ["secret" if protection.is_hidden(kind, key) else "" for key in table.index]
        table.loc[table["secret"] != "", ["numerator", "denominator", "value"]] = float("nan")
        if DEPARTEMENT in protection.hidden:
            ref = ref.copy()
            ref["value"] = float("nan")
    table["status"] = [STATUS_PARTIAL if share < MIN_POPULATION_SHARE and not pd.isna(v) else indicator.status(v)
                       for v, share in zip(table["value"], table["population_share"], strict=True)]
    return Profile(indicator, level, table, float(ref["value"]), float(ref["population_share"]))


KEY_INDICATORS = ("part_foyers_rsa", "taux_pauvrete", "taux_demandeurs_emploi",
                  "part_60_ans_et_plus", "part_menages_sans_voiture")


def key_figures(ws: Workspace, level: str, indicator_ids: tuple[str, ...] = KEY_INDICATORS
                ) -> pd.DataFrame:
    """One row per territory of a level, then the département: communes, population and the
    main indicators (masked as in the profile), labelled in French."""
    population = indicator_profile(ws, "population", level)
    table = pd.DataFrame({"Territoire": population.table["territory"],
                          "Communes": population.table["communes"],
                          "Population": population.table["value"]})
    total = {"Territoire": "Département", "Communes": len(ws.communes),
             "Population": population.reference}
    with_data = {ind.id for ind in ws.indicators_with_data()}
    for ind_id in indicator_ids:
        if ind_id not in with_data:
            continue
        profile = indicator_profile(ws, ind_id, level)
        column = f"{profile.indicator.short_label} ({profile.indicator.unit})"
        table[column] = profile.table["value"]
        total[column] = profile.reference
        if (profile.table["population_share"].fillna(100) < 100).any():  # say how much each rate covers
            share = f"{profile.indicator.short_label} : population couverte (%)"
            table[share] = profile.table["population_share"]
            total[share] = profile.reference_share
    table = pd.concat([table, pd.DataFrame([total], index=["__departement__"])])
    return table


def alerts_overview(ws: Workspace, level: str) -> pd.DataFrame:
    """Every territory of a level in alert, for every indicator with thresholds, worst gap first."""
    rows = []
    for ind in ws.indicators_with_data():
        if ind.status(0.0) is None:
            continue
        profile = indicator_profile(ws, ind.id, level)
        for _, row in profile.alerts().iterrows():
            if row["status"] != "alerte":
                continue
            threshold = ind.lower if ind.higher_is_better else ind.upper
            rows.append({"Indicateur": ind.short_label, "Territoire": row["territory"],
                         "Valeur": round(row["value"], 1), "Seuil d'alerte": threshold,
                         "Département": round(profile.reference, 1), "Unité": ind.unit,
                         "Population couverte (%)": round(row["population_share"], 0),
                         "gap": abs(row["value"] - threshold) / max(abs(threshold), 1e-9)})
    columns = ["Indicateur", "Territoire", "Valeur", "Seuil d'alerte", "Département", "Unité",
               "Population couverte (%)"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows).sort_values("gap", ascending=False)[columns]


def commune_card(ws: Workspace, code: str) -> pd.DataFrame:
    """Every indicator with data for one commune, beside its territories and the département,
    written the French way. Values are masked as in each level's profile (secret statistique)."""
    rows = []
    for ind in ws.indicators_with_data():
        def shown(table: pd.DataFrame, key: str) -> str:
            row = table.loc[key]
            if row["secret"]:
                return SECRET_LABEL
            text = f"{fmt_number(row['value'])} {ind.unit}"
            if row["status"] == STATUS_PARTIAL:  # say on how much of the territory it rests
                text += f" (non significatif : {fmt_number(row['population_share'], 0)} % de la population)"
            return text

        commune = indicator_profile(ws, ind.id, COMMUNE_LEVEL)
        entry = {"Indicateur": ind.short_label, "Commune": shown(commune.table, code)}
        for level in ws.groupings.columns:
            entry[level] = shown(indicator_profile(ws, ind.id, level).table,
                                 ws.groupings.loc[code, level])
        entry["Département"] = f"{fmt_number(commune.reference)} {ind.unit}"
        entry["Seuil"] = commune.table.loc[code, "status"] or ""
        rows.append(entry)
    return pd.DataFrame(rows)
