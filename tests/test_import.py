"""Indicator tables in the shapes partners send them, vintages reconciled, groupings imported or drawn."""

import json

import pandas as pd
import pytest
from openpyxl import Workbook
from shapely.geometry import Polygon, mapping

from diagnostic.errors import InputError
from diagnostic.indicator_import import ColumnMap, TableMapping, guess_mapping
from diagnostic.io.tables import read_table
from diagnostic.profile import indicator_profile
from diagnostic.territory import UNASSIGNED, assign_group
from diagnostic.workspace import (create_workspace, import_groupings, import_indicators, load_workspace,
                                  save_groupings)
from tests.workspaces import COMMUNES, small_workspace, write_geojson

FILOSOFI = ("Revenus et pauvreté des ménages en 2021\nSource : Insee-DGFiP-Cnaf-Cnav-CCMSA, Filosofi\n\n"
            "CODGEO;LIBGEO;NBPERSMENFISC21;MED21;TP6021\n"
            "34001;Abeilhan;1848;21720;12,5\n"
            "34002;Adissan;1348;21060;s\n"
            "34093;Dio-et-Valquières;154;21700;20,0\n"
            "34144;Lunas;624;20560;15,0\n"
            "94001;Ablon-sur-Seine;5000;25000;10,0\n")


@pytest.fixture
def ws_path(tmp_path):
    return small_workspace(tmp_path)


def values_of(ws, indicator):
    rows = ws.values[ws.values["indicator"] == indicator]
    return rows.set_index("code_insee")[["numerator", "denominator"]]


def test_insee_csv_in_cp1252_with_title_rows_decimal_comma_and_secret(tmp_path):
    path = tmp_path / "filosofi.csv"
    path.write_bytes(FILOSOFI.replace("Dio-et-Valquières", "Dio-et-Valquières").encode("cp1252"))
    frame = read_table(path)
    assert list(frame.columns) == ["CODGEO", "LIBGEO", "NBPERSMENFISC21", "MED21", "TP6021"]
    assert frame.attrs["first_line"] == 5  # three title lines, then the header on line 4
    assert frame.loc[2, "LIBGEO"] == "Dio-et-Valquières"
    assert frame.loc[1, "TP6021"] == "s"


def test_insee_xlsx_with_labels_row_above_variable_names_and_numbers_as_codes(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Populations légales 2023"])
    sheet.append([])
    sheet.append(["Code géographique", "Libellé", "Population municipale"])
    sheet.append(["CODGEO", "LIBGEO", "PMUN23"])
    sheet.append([1001, "L'Abergement-Clémenciat", 832])
    sheet.append(["2A004", "Ajaccio", 74456.0])
    book.save(tmp_path / "pop.xlsx")
    frame = read_table(tmp_path / "pop.xlsx")
    assert list(frame.columns) == ["CODGEO", "LIBGEO", "PMUN23"]
    assert frame["CODGEO"].tolist() == ["1001", "2A004"]
    assert frame["PMUN23"].tolist() == ["832", "74456"]
    assert frame.attrs["first_line"] == 5


def test_well_known_insee_variables_are_guessed_with_their_vintage():
    mapping = guess_mapping(["CODGEO", "NBPERSMENFISC21", "TP6021", "P22_POP0014", "P22_POP1529",
                             "P22_POP3044", "P22_POP4559", "P22_POP6074", "P22_POP7589", "P22_POP90P"])
    found = {m.indicator: m for m in mapping.indicators}
    assert mapping.code_column == "CODGEO"
    assert found["taux_pauvrete"].rate == "TP6021" and found["taux_pauvrete"].vintage == "2021"
    assert found["part_60_ans_et_plus"].numerator == ["P22_POP6074", "P22_POP7589", "P22_POP90P"]
    assert len(found["part_60_ans_et_plus"].denominator) == 7


def test_rates_become_numerators_merged_communes_are_summed_and_secrets_stay_unknown(ws_path, tmp_path):
    path = tmp_path / "filosofi.csv"
    path.write_text(FILOSOFI, encoding="utf-8")
    report = import_indicators(ws_path, path)
    ws = load_workspace(ws_path)
    poverty = values_of(ws, "taux_pauvrete")
    assert poverty.loc["34001", "numerator"] == pytest.approx(1848 * 0.125)
    assert pd.isna(poverty.loc["34002", "numerator"]) and poverty.loc["34002", "denominator"] == 1348
    # 34093 merged into 34144: persons summed, poor persons summed, the rate recomputed
    assert poverty.loc["34144", "denominator"] == 624 + 154
    assert poverty.loc["34144", "numerator"] == pytest.approx(624 * 0.15 + 154 * 0.20)
    rate = indicator_profile(ws, "taux_pauvrete", "commune").table.loc["34144", "value"]
    assert rate == pytest.approx((624 * 15 + 154 * 20) / (624 + 154))
    assert [(m.code, m.former) for m in report.merges] == [("34144", ["34093"])]
    assert report.outside == 1 and report.secret == 1
    assert ws.catalogue["taux_pauvrete"].vintage == "2021"


def test_a_secret_part_makes_the_merged_commune_unknown(ws_path, tmp_path):
    path = tmp_path / "filosofi.csv"
    path.write_text(FILOSOFI.replace("154;21700;20,0", "154;21700;s"), encoding="utf-8")
    report = import_indicators(ws_path, path)
    assert pd.isna(values_of(load_workspace(ws_path), "taux_pauvrete").loc["34144", "numerator"])
    assert report.merges[0].unknown == ["taux_pauvrete"]
    assert "inconnu faute d'une partie" in report.details()[0]


def test_a_custom_mapping_is_remembered_for_the_next_file_with_the_same_columns(ws_path, tmp_path):
    first = tmp_path / "caf_2024.csv"
    first.write_text("Commune;Foyers RSA;Ménages\n34001;40;760\n34002;25;560\n34144;9;350\n", encoding="utf-8")
    mapping = TableMapping("Commune", [ColumnMap("part_foyers_rsa", ["Foyers RSA"], ["Ménages"],
                                                 vintage="2024", source="CAF de l'Hérault")])
    import_indicators(ws_path, first, mapping)
    second = tmp_path / "caf_2025.csv"
    second.write_text("Commune;Foyers RSA;Ménages\n34001;44;770\n34002;20;565\n34144;10;352\n", encoding="utf-8")
    report = import_indicators(ws_path, second)  # no mapping given: the remembered one applies
    ws = load_workspace(ws_path)
    assert report.indicators == ["part_foyers_rsa"]
    assert values_of(ws, "part_foyers_rsa").loc["34001"].tolist() == [44, 770]
    assert ws.catalogue["part_foyers_rsa"].source == "CAF de l'Hérault"
    assert json.loads((ws_path / "mappings.json").read_text(encoding="utf-8"))


def test_unmatched_codes_of_the_departement_are_reported_not_lost_silently(ws_path, tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("code_insee,population_municipale\n34001,1850\n34002,1371\n34144,832\n34999,12\n",
                    encoding="utf-8")
    report = import_indicators(ws_path, path)
    assert report.unmatched == ["34999"]
    assert "34999" in report.details()[-1]


def test_a_correspondence_table_reconciles_codes_the_workspace_did_not_know(ws_path, tmp_path):
    passage = tmp_path / "table_passage.csv"
    passage.write_text("CODGEO_2021;LIBGEO_2021;CODGEO_2026\n34001;Abeilhan;34001\n34998;Ancienne;34002\n",
                       encoding="utf-8")
    data = tmp_path / "pop.csv"
    data.write_text("code_insee,population_municipale\n34001,1850\n34002,1300\n34998,71\n34144,832\n",
                    encoding="utf-8")
    report = import_indicators(ws_path, data, correspondence_file=passage)
    assert values_of(load_workspace(ws_path), "population").loc["34002", "numerator"] == 1371
    assert [m.former for m in report.merges] == [["34998"]]
    assert "34998" in (ws_path / "correspondances.csv").read_text(encoding="utf-8")


def test_population_may_come_from_the_table_when_boundaries_have_none(tmp_path):
    bare = [({k: v for k, v in props.items() if k != "population"}, bounds) for props, bounds in COMMUNES]
    contours = write_geojson(tmp_path / "contours.geojson", bare)
    table = tmp_path / "communes.csv"
    table.write_text("code_insee,nom,population_municipale\n34001,Abeilhan,1850\n34002,Adissan,1371\n"
                     "34144,Lunas-les-Châteaux,832\n", encoding="utf-8")
    ws = create_workspace(tmp_path / "ws", contours, table)
    assert ws.communes.set_index("code_insee")["population"].to_dict() == {"34001": 1850, "34002": 1371,
                                                                          "34144": 832}
    with pytest.raises(InputError, match="population des communes introuvable"):
        create_workspace(tmp_path / "ws2", contours)
    assert not (tmp_path / "ws2").exists()


def test_invalid_geometries_are_repaired_and_reported_and_fields_can_be_named(tmp_path):
    bow_tie = Polygon([(3.0, 43.0), (3.1, 43.1), (3.1, 43.0), (3.0, 43.1), (3.0, 43.0)])
    path = tmp_path / "contours.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"INSEE_COM": "34001", "NOM_M": "ABEILHAN", "PMUN": 1850},
         "geometry": mapping(bow_tie)}]}), encoding="utf-8")
    with pytest.raises(InputError, match="propriété de nom introuvable.*NOM_M"):
        create_workspace(tmp_path / "ws", path)
    ws = create_workspace(tmp_path / "ws", path, fields={"name": "NOM_M"})
    assert ws.communes.geometry.is_valid.all() and ws.communes.geom_type[0] in ("Polygon", "MultiPolygon")
    assert any("1 contour(s) invalide(s) réparé(s)" in w for w in ws.meta["import_warnings"])


def test_groupings_chosen_columns_are_added_as_named_levels(ws_path, tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text("code_insee,nom,epci_nom,ept_nom\n34001,Abeilhan,CC Les Avant-Monts,\n"
                    "34002,Adissan,CA Hérault-Méditerranée,\n34144,Lunas,CC Grand Orb,\n", encoding="utf-8")
    assert import_groupings(ws_path, path, {"epci_nom": "EPCI"}) == ["EPCI"]
    ws = load_workspace(ws_path)
    assert list(ws.groupings.columns) == ["TAS", "EPCI"]  # the existing level is kept
    assert ws.groupings.loc["34002", "EPCI"] == "CA Hérault-Méditerranée"
    with pytest.raises(InputError, match="sans groupe"):
        import_groupings(ws_path, path, {"ept_nom": "EPT"})


def test_a_level_drawn_commune_by_commune(ws_path):
    ws = load_workspace(ws_path)
    drawn = assign_group(ws.groupings, "Bassins", "Nord", ["34144"])
    assert drawn["Bassins"].to_dict() == {"34001": UNASSIGNED, "34002": UNASSIGNED, "34144": "Nord"}
    drawn = assign_group(drawn, "Bassins", "Sud", ["34001", "34002"])
    save_groupings(ws_path, drawn)
    again = load_workspace(ws_path)
    assert again.groupings["Bassins"].to_dict() == {"34001": "Sud", "34002": "Sud", "34144": "Nord"}
    profile = indicator_profile(again, "population", "Bassins")
    assert profile.table.loc["Sud", "value"] == 1850 + 1371
    with pytest.raises(InputError):
        save_groupings(ws_path, drawn.assign(Bassins=""))
