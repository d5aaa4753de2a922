"""The PDF annex of the pact, from an HTML/CSS template rendered by WeasyPrint.

Maps and charts are drawn as static SVG with the app's classes, colours and rules. Nothing is
fetched from the network.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from diagnostic import maps
from diagnostic.coverage import commune_coverage
from diagnostic.export.annex import SECTIONS, AnnexChoice, AnnexTable, annex_tables
from diagnostic.export.svg import svg_bar_chart, svg_map
from diagnostic.indicators import class_breaks, classify, fmt_number
from diagnostic.profile import KEY_INDICATORS
from diagnostic.territory import COMMUNE_LEVEL, display_geometry, group_geometry, group_of
from diagnostic.themes import theme_labels, top_theme

TITLE = "Annexe au pacte territorial pour l'insertion — Diagnostic partagé"
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
TEMPLATES = Path(__file__).parent / "templates"


def french_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def html_table(frame: pd.DataFrame, css: str = "") -> str:
    """A DataFrame as an HTML table: texts escaped, numbers written the French way."""
    rows = frame
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for values in rows.itertuples(index=False):
        cells = []
        for value in values:
            if pd.api.types.is_number(value) and not isinstance(value, bool) and not pd.isna(value):
                decimals = 0 if float(value).is_integer() else 1
                cells.append(f'<td class="num">{fmt_number(value, decimals)}</td>')
            else:
                cells.append(f"<td>{html.escape('' if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def chart_svg(profile) -> str:
    """The comparison chart of the Profil page (bars coloured by threshold status, the
    département and the thresholds as rules), as a static SVG."""
    ind = profile.indicator
    data = profile.table.dropna(subset=["value"]).sort_values("value", ascending=not ind.higher_is_better)
    if profile.level == COMMUNE_LEVEL:
        data = data.head(maps.MAX_BARS)
    colours = [maps.STATUS_COLOURS.get(s, maps.NEUTRAL) for s in data["status"].fillna("")]
    rules = [("Département", profile.reference, "0")]
    if ind.status(0.0) is not None:
        rules += [("Seuil bas", ind.lower, "5,3"), ("Seuil haut", ind.upper, "2,2")]
    return svg_bar_chart([maps.short_group_name(t) for t in data["territory"]], list(data["value"]), colours,
                         ind.unit, rules)


def _block(table: AnnexTable, **extra) -> dict:
    return {"heading": table.title, "table": html_table(table.frame), "note": table.note, **extra}


def _legend(legend: maps.Legend) -> dict:
    return {"title": legend.title, "entries": list(zip(legend.colours, legend.labels, strict=True))}


def build_sections(ws, choice: AnnexChoice, store=None) -> list[dict]:
    """The sections of the document (title, blocks of maps, charts, tables and notes)."""
    tables = {t.key: t for t in annex_tables(ws, choice, store)}
    communes = display_geometry(ws.communes, tolerance_m=250)  # printed small: coarser is enough
    level = choice.level
    grouped = level != COMMUNE_LEVEL
    shapes = group_geometry(communes, ws.groupings, level) if grouped else communes
    borders = group_geometry(communes, ws.groupings, level) if grouped else None
    sections = []
    if "territoire" in choice.sections:
        blocks = []
        if grouped:
            groups = group_of(ws.communes, ws.groupings, level)  # same colours as the Territoire page
            names = sorted(groups.unique())
            colours = [maps.QUALITATIVE[i % len(maps.QUALITATIVE)] for i in range(len(names))]
            fills = [colours[names.index(g)] for g in groups.reindex(communes["code_insee"])]
            labels = [(lon, lat, text) for lat, lon, text in maps.group_label_points(ws.communes, groups)]
            blocks.append({"heading": f"{len(names)} groupes · {level}",
                           "svg": svg_map(communes, fills, borders, labels=labels),
                           "legend": _legend(maps.Legend(level, colours, names))})
        blocks.append(_block(tables["chiffres_cles"]))
        sections.append({"key": "territoire", "title": SECTIONS["territoire"], "blocks": blocks})
    if "profil" in choice.sections:
        blocks = []
        for ind in ws.indicators_with_data():
            table = tables.get(f"profil_{ind.id}"[:31])
            if table is None:
                continue
            if ind.id not in KEY_INDICATORS:
                blocks.append(_block(table))
                continue
            profile = table.profile
            method = "seuils" if ind.status(0.0) is not None else "quantiles"
            breaks = class_breaks(profile.table["value"], method, 5, ind)
            colours = (maps.threshold_colours(breaks, ind) if method == "seuils"
                       else maps.class_colours(len(breaks) + 1, ind.higher_is_better))
            key = "group" if grouped else "code_insee"
            classes = classify(profile.table["value"].reindex(shapes[key]).reset_index(drop=True), breaks)
            fills = [colours[c] if c >= 0 else maps.NO_DATA_COLOUR for c in classes]
            legend = maps.Legend(f"{ind.label} ({ind.unit})", [*colours, maps.NO_DATA_COLOUR],
                                 [*maps.class_labels(breaks, ind.unit), "secret statistique ou non renseigné"])
            blocks.append(_block(table, svg=svg_map(shapes, fills, borders), legend=_legend(legend),
                                 chart=chart_svg(profile)))
        if "alertes" in tables:
            blocks.append(_block(tables["alertes"]))
        sections.append({"key": "profil", "title": SECTIONS["profil"], "blocks": blocks})
    if "offre" in choice.sections and "offre_liste" in tables:
        labels = theme_labels()
        located = ws.offer.dropna(subset=["lat", "lon"])
        tops = [top_theme(ts[0]) for ts in located["themes"]]
        points = [(lon, lat, maps.THEME_COLOURS[t]) for lon, lat, t in zip(located["lon"], located["lat"], tops,
                                                                          strict=True)]
        shown = [t for t in maps.THEME_COLOURS if t in tops]
        blocks = [{"heading": "Carte des services et lieux",
                   "svg": svg_map(communes, ["#eef1f4"] * len(communes), borders, points=points),
                   "legend": _legend(maps.Legend("Thématique principale", [maps.THEME_COLOURS[t] for t in shown],
                                                 [labels[t] for t in shown]))}]
        if "offre_thematiques" in tables:
            blocks.append(_block(tables["offre_thematiques"]))
        listing = tables["offre_liste"]
        compact = listing.frame[["Service", "Structure", "Thématiques", "Commune", "Mise à jour"]]
        blocks.append({"heading": listing.title, "table": html_table(compact, css="compact"), "note": listing.note})
        sections.append({"key": "offre", "title": SECTIONS["offre"], "blocks": blocks})
    if "zones_blanches" in choice.sections:
        blocks = []
        for params in choice.coverage:
            table = tables.get(f"zones_blanches_{'_'.join(params.themes)}"[:31])
            if table is None:
                continue
            result = commune_coverage(ws, params).communes.set_index("code_insee")
            classes = pd.cut(result["road_km"], [-float("inf"), 5, 10, 20, float("inf")], labels=False,
                             right=False).astype(int)
            classes[result["white_zone"]] = 4
            fills = [maps.COVERAGE_COLOURS[c] for c in classes.reindex(communes["code_insee"])]
            legend = maps.Legend("Distance au service le plus proche", maps.COVERAGE_COLOURS,
                                 ["moins de 5 km", "5 à 10 km", "10 à 20 km", "20 km et plus",
                                  "zone blanche (au-delà du seuil)"])
            blocks.append(_block(table, svg=svg_map(communes, fills, borders), legend=_legend(legend),
                                 method=table.note, note=""))
        if blocks:
            sections.append({"key": "zones_blanches", "title": SECTIONS["zones_blanches"], "blocks": blocks})
    if "constats" in tables:
        sections.append({"key": "constats", "title": SECTIONS["constats"],
                         "blocks": [_block(tables["constats"], heading="")]})
    if "fiches_actions" in tables:  # one card per action sheet: its fields one under the other
        cards = [{"heading": sheet["Intitulé"],
                  "table": html_table(pd.DataFrame({"Rubrique": list(sheet.index), "Contenu": list(sheet.values)}))}
                 for _, sheet in tables["fiches_actions"].frame.iterrows()]
        sections.append({"key": "fiches", "title": SECTIONS["fiches"], "blocks": cards})
    if "parties_prenantes" in tables:
        sections.append({"key": "parties_prenantes", "title": SECTIONS["parties_prenantes"],
                         "blocks": [_block(tables["parties_prenantes"], heading="")]})
    if "sources" in choice.sections:
        sections.append({"key": "sources", "title": SECTIONS["sources"], "blocks": [_block(tables["sources"])]})
    return sections


def annex_html(ws, choice: AnnexChoice, version: str = "1", today: date | None = None, store=None) -> str:
    """The annex as one HTML document (also what the PDF is made from)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    territory = choice.territory or "Ensemble du département"
    return env.get_template("annexe.html").render(
        title=TITLE, short_title="Annexe au PTI — Diagnostic partagé", workspace_name=ws.name,
        territory_label=territory, date=french_date(today or date.today()), version=version,
        level="communes" if choice.level == COMMUNE_LEVEL else choice.level, fictional=ws.fictional,
        footer=f"{territory} — édité le {french_date(today or date.today())}",
        sections=build_sections(ws, choice, store))


def annex_pdf(ws, choice: AnnexChoice, version: str = "1", today: date | None = None, store=None) -> bytes:
    """The PDF annex (with the sessions' findings, action sheets and stakeholders from `store`)."""
    from weasyprint import HTML

    return HTML(string=annex_html(ws, choice, version, today, store), base_url=str(TEMPLATES)).write_pdf()
