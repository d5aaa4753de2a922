"""The PDF annex of the pact, from an HTML/CSS template rendered by WeasyPrint.

Maps and charts are drawn as static SVG with the app's classes, colours and rules. Nothing is
fetched from the network.
"""

from __future__ import annotations

import html
import math
from datetime import date

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from diagnostic import maps
from diagnostic.export.annex import SECTIONS, AnnexChoice, AnnexTable, annex_tables
from diagnostic.export.typeset import TEMPLATES, Typesetter, typeset
from diagnostic.export.svg import HATCH_CSS, MapFrame, as_image, print_shapes, svg_bar_chart
from diagnostic.access.white_zones import class_labels
from diagnostic.indicators import class_breaks, classify, fmt_number, french_date, french_day
from diagnostic.io.text import clean_text
from diagnostic.profile import KEY_INDICATORS
from diagnostic.territory import COMMUNE_LEVEL, group_geometry, group_of
from diagnostic.themes import theme_labels, top_theme

TITLE = "Annexe au pacte territorial pour l'insertion — Diagnostic partagé"


MAX_PDF_LIST = 1_500  # services listed in the printable annex (about 40 pages)
POINTS_PER_MAP = 20_000  # services drawn on the printable map
MAX_COLUMNS = 10  # columns of a printed table that fit the width of an A4 page
LISTED = ["Service", "Structure", "Thématiques", "Commune", "Mise à jour"]  # what the printed list of services says


def html_table(frame: pd.DataFrame, wide: bool = False) -> str:
    """A DataFrame as an HTML table: texts escaped, numbers written the French way; a table of many
    columns is set in smaller type (`wide`) so that it fits the page, and beyond `MAX_COLUMNS` it is cut
    into several tables one under the other, each starting with the first column (nothing runs off the page)."""
    if len(frame.columns) > MAX_COLUMNS:
        first, rest = frame.iloc[:, :1], frame.columns[1:]
        step = MAX_COLUMNS - 1
        return "".join(html_table(pd.concat([first, frame[rest[i:i + step]]], axis=1), wide=True)
                       for i in range(0, len(rest), step))
    head = "".join(f"<th>{html.escape(printable(c))}</th>" for c in frame.columns)
    body = []
    for values in frame.itertuples(index=False):
        cells = []
        for value in values:
            if pd.api.types.is_number(value) and not isinstance(value, bool) and not pd.isna(value) \
                    and math.isfinite(value):
                decimals = 0 if float(value).is_integer() else 1
                cells.append(f'<td class="num">{fmt_number(value, decimals)}</td>')
            else:
                cells.append(f"<td>{html.escape(printable(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    css = "wide" if wide or len(frame.columns) > 7 else ""
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def html_listing(services: pd.DataFrame) -> str:
    """The services as a printed list, one entry each: its name in bold, then its structure, commune
    and date of update, its themes below (a list reads better on paper than a table of wrapped cells,
    screen readers announce it as a list, and it is typeset in a third of the time)."""
    items = []
    for values in services[LISTED].itertuples(index=False):
        name, structure, themes, commune, date = (printable(v) for v in values)
        updated = f"mise à jour : {french_day(date)}".replace(" ", "\u00a0") if date else "mise à jour inconnue"
        facts = [structure, commune, updated]  # the date of update kept on one line
        line = " · ".join(html.escape(f) for f in facts if f)
        items.append(f"<li><strong>{html.escape(name)}</strong> — {line}"
                     + (f"<br>{html.escape(themes)}" if themes else "") + "</li>")
    return f'<ul class="services">{"".join(items)}</ul>'


def printable(value) -> str:
    """A cell as text: empty when unknown, control characters (a vertical tab from Word…) as spaces."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return clean_text(str(value))


def css_string(text: str) -> str:
    """Text for a CSS string in the page style (running headers): quotes, backslashes and angle
    brackets escaped as CSS escapes, so nothing is printed as an HTML entity."""
    return "".join(f"\\{ord(c):x} " if c in '"\\<>&\'' or ord(c) < 32 else c for c in printable(text))


def chart_svg(profile, highlight: str = "") -> str:
    """The comparison chart of the Profil page (bars coloured by threshold status, the
    département and the thresholds as rules), as a static SVG; `highlight` is the chosen territory."""
    ind = profile.indicator
    data = profile.table.dropna(subset=["value"]).sort_values("value", ascending=not ind.higher_is_better)
    if profile.level == COMMUNE_LEVEL:
        data = data.head(maps.MAX_BARS)
    colours = [maps.STATUS_COLOURS.get(s, maps.NEUTRAL) for s in data["status"].fillna("")]
    rules = [("Département", profile.reference, "0")]
    if ind.status(0.0) is not None:
        rules += [("Seuil bas", ind.lower, "5,3"), ("Seuil haut", ind.upper, "2,2")]
    return svg_bar_chart([maps.short_group_name(t) for t in data["territory"]], list(data["value"]), colours,
                         ind.unit, rules, highlight=[t == highlight for t in data["territory"]])


def _block(table: AnnexTable, **extra) -> dict:
    if table.empty_reason:
        return {"heading": extra.get("heading", table.title), "text": table.empty_reason}
    return {"heading": table.title, "table": html_table(table.frame), "note": table.note, **extra}


def _legend(legend: maps.Legend) -> dict:
    return {"title": legend.title, "entries": list(zip(legend.colours, legend.labels, strict=True))}


def build_sections(ws, choice: AnnexChoice, tables: list[AnnexTable]) -> list[dict]:
    """The sections of the document (title, blocks of maps, charts, tables and notes) from the annex's
    tables. A section whose table says it has nothing to show prints that sentence."""
    by_section: dict[str, list[AnnexTable]] = {}
    for table in tables:
        by_section.setdefault(table.section, []).append(table)
    communes = print_shapes(ws.communes)
    level = choice.level
    grouped = level != COMMUNE_LEVEL and len(ws.groupings.columns) > 0
    shapes = group_geometry(communes, ws.groupings, level) if grouped else communes
    borders = shapes if grouped else None
    highlight = None
    if choice.territory and grouped:
        highlight = shapes[shapes["group"] == choice.territory]
    frame = MapFrame(communes, borders, highlight)  # the shapes of every map written once
    group_frame = MapFrame(shapes, borders, highlight) if grouped else frame
    sections = []
    for key in choice.sections:
        found = by_section.get(key, [])
        if not found:
            continue
        if found[0].empty_reason:
            blocks = [{"text": found[0].empty_reason}]
        elif key == "territoire":
            blocks = territory_blocks(ws, communes, level, grouped, found, frame)
        elif key == "profil":
            blocks = profile_blocks(found, shapes, grouped, choice.territory, group_frame)
        elif key == "offre":
            blocks = offer_blocks(ws, communes, found, frame)
        elif key == "zones_blanches":
            blocks = white_zone_blocks(communes, found, frame)
        elif key == "fiches":  # one card per action sheet: its fields one under the other
            blocks = [{"heading": sheet["Intitulé"],
                       "table": html_table(pd.DataFrame({"Rubrique": list(sheet.index),
                                                         "Contenu": list(sheet.values)}))}
                      for _, sheet in found[0].frame.iterrows()]
        elif key in ("constats", "parties_prenantes"):
            blocks = [_block(found[0], heading="")]
        else:
            blocks = [_block(t) for t in found]
        sections.append({"key": key, "title": SECTIONS[key], "blocks": [_with_images(b) for b in blocks]})
    return sections


def _with_images(block: dict) -> dict:
    """A block whose drawings are images carrying their text alternative (what the map shows, its
    legend; the table that follows gives the figures)."""
    if "svg" in block:
        legend = block.get("legend") or {"title": "", "entries": []}
        classes = ", ".join(label for _, label in legend["entries"])
        block["svg"] = as_image(block["svg"], f"Carte : {block['heading']}. {legend['title']} : {classes}.")
    if "chart" in block:
        block["chart"] = as_image(block["chart"], f"Graphique : {block['heading']}, une barre par territoire, "
                                                  "sa valeur écrite au bout.")
    return block


def territory_blocks(ws, communes, level, grouped, found, frame: MapFrame) -> list[dict]:
    blocks = []
    if grouped:
        groups = group_of(ws.communes, ws.groupings, level)  # same colours as the Territoire page
        names = sorted(groups.unique())
        chosen = maps.group_colours(ws.communes, groups)  # neighbours never share a colour
        colours = [chosen[name] for name in names]
        fills = [chosen[g] for g in groups.reindex(communes["code_insee"])]
        labels = [(lon, lat, text) for lat, lon, text in maps.group_label_points(ws.communes, groups)]
        blocks.append({"heading": f"{len(names)} groupes · {level}",
                       "svg": frame.draw(fills, labels=labels),
                       "legend": _legend(maps.Legend(level, colours, names))})
    return blocks + [_block(t) for t in found if t.key == "chiffres_cles"]


def profile_blocks(found, shapes, grouped, territory, frame: MapFrame) -> list[dict]:
    blocks = []
    for table in found:
        profile = table.profile
        if profile is None or profile.indicator.id not in KEY_INDICATORS:
            blocks.append(_block(table))
            continue
        ind = profile.indicator
        method = "seuils" if ind.status(0.0) is not None else "quantiles"
        breaks = class_breaks(profile.table["value"], method, 5, ind)
        colours = (maps.threshold_colours(breaks, ind) if method == "seuils"
                   else maps.class_colours(len(breaks) + 1, ind.higher_is_better))
        key = "group" if grouped else "code_insee"
        values = profile.table["value"].reindex(shapes[key]).reset_index(drop=True)
        partial = profile.partial().reindex(shapes[key]).fillna(False).to_numpy()
        classes = classify(values, breaks)
        fills = [colours[c] if c >= 0 else maps.NO_DATA_COLOUR for c in classes]
        hatched = list(partial & values.notna().to_numpy())
        legend = maps.Legend(f"{ind.label} ({ind.unit})", [*colours, maps.NO_DATA_COLOUR],
                             [*maps.class_labels(breaks, ind.unit), "secret statistique ou non renseigné"])
        if any(hatched):
            legend.colours.append(HATCH_CSS)
            legend.labels.append(maps.PARTIAL_LABEL.replace("pâle : ", "hachuré : "))
        blocks.append(_block(table, svg=frame.draw(fills, hatched=hatched), legend=_legend(legend),
                             chart=chart_svg(profile, territory)))
    return blocks


def offer_blocks(ws, communes, found, frame: MapFrame) -> list[dict]:
    labels = theme_labels()
    located = ws.offer.dropna(subset=["lat", "lon"])
    if len(located) > POINTS_PER_MAP:  # beyond, the dots cover the map anyway: an even sample
        located = located.iloc[::len(located) // POINTS_PER_MAP + 1]
    tops = [top_theme(ts[0]) if ts else "" for ts in located["themes"]]
    points = [(lon, lat, maps.THEME_COLOURS.get(t, maps.NEUTRAL))
              for lon, lat, t in zip(located["lon"], located["lat"], tops, strict=True)]
    shown = [t for t in maps.THEME_COLOURS if t in tops]
    blocks = [{"heading": "Carte des services et lieux",
               "svg": frame.draw(["#eef1f4"] * len(communes), points=points),
               "legend": _legend(maps.Legend("Thématique principale", [maps.THEME_COLOURS[t] for t in shown],
                                             [labels[t] for t in shown]))}]
    for table in found:
        if table.key == "offre_liste":
            listed, note = table.frame, table.note
            if len(listed) > MAX_PDF_LIST:  # the whole list is in the workbook and the CSV
                note += (f" Le document imprimable en montre les {MAX_PDF_LIST:,} premiers sur {len(listed):,} ; la "
                         "liste complète est dans l'export Excel et CSV.").replace(",", "\u202f")
                listed = listed.head(MAX_PDF_LIST)
            blocks.append({"heading": table.title, "listing": html_listing(listed), "note": note})
        else:
            blocks.append(_block(table))
    return blocks


def white_zone_blocks(communes, found, frame: MapFrame) -> list[dict]:
    blocks = []
    for table in found:
        result = table.coverage
        labels = class_labels(result.params)
        classes = maps.coverage_classes(result.communes, labels)
        fills = [maps.COVERAGE_COLOURS[c] for c in classes.reindex(communes["code_insee"])]
        points = [(lon, lat, maps.SERVICE_COLOUR) for lon, lat in zip(result.services["lon"], result.services["lat"],
                                                                       strict=True)]
        stops = result.stops
        with_stops = stops is not None and not stops.empty
        if with_stops:
            points += [(lon, lat, maps.STOP_COLOUR) for lon, lat in zip(stops["lon"], stops["lat"], strict=True)]
        blocks.append(_block(table, svg=frame.draw(fills, points=points),
                             legend=_legend(maps.coverage_legend(result.communes, with_stops, labels)),
                             method=table.note, note=""))
    return blocks


def annex_html(ws, choice: AnnexChoice, version: str = "1", today: date | None = None, store=None,
               tables: list[AnnexTable] | None = None) -> str:
    """The annex as one HTML document (also what the PDF is made from), from its `tables` when they
    are already made (else from the workspace and the sessions of `store`)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    territory = choice.territory or "Ensemble du département"
    return env.get_template("annexe.html").render(
        title=TITLE, short_title="Annexe au PTI — Diagnostic partagé", workspace_name=printable(ws.name),
        header_name=css_string(ws.name),
        territory_label=territory, date=french_date(today or date.today()), version=version,
        level="communes" if choice.level == COMMUNE_LEVEL else choice.level, fictional=ws.fictional,
        footer=css_string(f"{territory} — édité le {french_date(today or date.today())}"),
        sections=build_sections(ws, choice, annex_tables(ws, choice, store) if tables is None else tables))


def annex_pdf(ws, choice: AnnexChoice, version: str = "1", today: date | None = None, store=None,
              tables: list[AnnexTable] | None = None, typesetter: Typesetter | None = None) -> bytes:
    """The PDF annex (with the sessions' findings, action sheets and stakeholders from `store`),
    tagged for screen readers (PDF/UA-1: structure, French language, title), laid out by `typesetter`
    (a worker started beforehand) or by one started once the HTML is made."""
    html = annex_html(ws, choice, version, today, store, tables)
    return typesetter.pdf(html) if typesetter else typeset(html)
