"""Catalogue, aggregation from numerators/denominators, thresholds, secrecy, classes."""

import math

import numpy as np
import pandas as pd
import pytest

from diagnostic.errors import InputError
from diagnostic.indicators import (DEFAULT_CATALOGUE, aggregate, class_breaks, classify,
                                   load_catalogue, missing_metadata,
                                   with_thresholds)
from diagnostic.workspace import DEMO_WORKSPACE

CATALOGUE = load_catalogue(DEFAULT_CATALOGUE)


@pytest.mark.parametrize("path", [DEFAULT_CATALOGUE, DEMO_WORKSPACE / "catalogue.json"])
def test_every_catalogue_entry_has_definition_source_unit_vintage(path):
    catalogue = load_catalogue(path)
    assert missing_metadata(catalogue) == {}
    assert {i.family for i in catalogue.values()} == {"résultat", "moyens", "contexte"}


def test_missing_metadata_is_detected():
    from dataclasses import replace
    broken = dict(CATALOGUE)
    broken["taux_pauvrete"] = replace(CATALOGUE["taux_pauvrete"], source=" ", vintage="")
    assert missing_metadata(broken) == {"taux_pauvrete": ["source", "vintage"]}


def values_frame(rows):
    return pd.DataFrame(rows, columns=["code_insee", "indicator", "numerator", "denominator"])


def test_rate_is_recomputed_from_sums_not_averaged():
    values = values_frame([
        ("01001", "part_foyers_rsa", 10, 100),   # 10 %
        ("01002", "part_foyers_rsa", 90, 300),   # 30 %
        ("2A004", "part_foyers_rsa", 5, 1000),   # 0,5 %
    ])
    groups = pd.Series({"01001": "Nord", "01002": "Nord", "2A004": "Sud"})
    table = aggregate(values, groups, CATALOGUE["part_foyers_rsa"])
    # Nord: (10 + 90) / (100 + 300) = 25 %, not the mean of rates (20 %)
    assert table.loc["Nord", "value"] == pytest.approx(25.0)
    assert table.loc["Nord", "numerator"] == 100 and table.loc["Nord", "denominator"] == 400
    assert table.loc["Sud", "value"] == pytest.approx(0.5)


def test_unknown_values_are_left_out_and_counted():
    values = values_frame([
        ("01001", "taux_pauvrete", 20, 100),
        ("01002", "taux_pauvrete", np.nan, 300),  # secret in the source
    ])
    groups = pd.Series({"01001": "G", "01002": "G", "01003": "G"})
    row = aggregate(values, groups, CATALOGUE["taux_pauvrete"]).loc["G"]
    assert row["value"] == pytest.approx(20.0)
    assert row["communes"] == 3 and row["communes_missing"] == 2


def test_population_share_empty_group_and_commune_without_group():
    values = values_frame([("01001", "taux_pauvrete", 20, 100), ("01002", "taux_pauvrete", np.nan, 300),
                           ("01004", "taux_pauvrete", 5, 50)])
    groups = pd.Series({"01001": "G", "01002": "G", "01003": "H", "01004": np.nan})
    population = pd.Series({"01001": 1000, "01002": 3000, "01003": 500, "01004": np.nan})
    table = aggregate(values, groups, CATALOGUE["taux_pauvrete"], population)
    assert list(table.index) == ["G", "H"]  # the commune without a group is in no sum
    g, h = table.loc["G"], table.loc["H"]
    assert (g["numerator"], g["denominator"], g["value"]) == (20, 100, pytest.approx(20.0))
    assert (g["communes"], g["communes_known"], g["communes_missing"]) == (2, 1, 1)
    assert g["population_share"] == pytest.approx(1000 / 4000 * 100)
    assert math.isnan(h["numerator"]) and math.isnan(h["denominator"]) and math.isnan(h["value"])
    assert (h["communes"], h["communes_known"], h["population_share"]) == (1, 0, 0)


def test_count_indicator_sums():
    values = values_frame([("01001", "population", 120, np.nan), ("01002", "population", 80, np.nan)])
    groups = pd.Series({"01001": "G", "01002": "G"})
    assert aggregate(values, groups, CATALOGUE["population"]).loc["G", "value"] == 200


def test_status_follows_direction():
    rsa = CATALOGUE["part_foyers_rsa"]  # lower is better, 4 / 7
    assert [rsa.status(v) for v in (3, 5, 8, math.nan)] == ["favorable", "vigilance", "alerte", None]
    exits = CATALOGUE["taux_sortie_rsa_emploi"]  # higher is better, 8 / 12
    assert [exits.status(v) for v in (5, 10, 15)] == ["alerte", "vigilance", "favorable"]
    assert CATALOGUE["population"].status(1000) is None


def test_thresholds_are_validated():
    with pytest.raises(InputError, match="seuil bas"):
        with_thresholds(CATALOGUE, "taux_pauvrete", 20, 10, False)
    with pytest.raises(InputError, match="seuil manque"):
        with_thresholds(CATALOGUE, "taux_pauvrete", None, 10, False)
    assert with_thresholds(CATALOGUE, "taux_pauvrete", None, None, None)["taux_pauvrete"].status(50) is None
    updated = with_thresholds(CATALOGUE, "taux_pauvrete", 10, 15, False)
    assert updated["taux_pauvrete"].upper == 15 and CATALOGUE["taux_pauvrete"].upper == 18


def test_jenks_finds_obvious_groups():
    values = pd.Series([1, 1.2, 1.1, 5, 5.3, 5.1, 10, 10.4])
    assert class_breaks(values, "jenks", 3) == [1.2, 5.3]
    assert classify(values, [1.2, 5.3]).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_quantiles_and_threshold_classes():
    values = pd.Series(range(1, 101), dtype=float)
    assert class_breaks(values, "quantiles", 4) == pytest.approx([25.75, 50.5, 75.25])
    assert class_breaks(values, "seuils", indicator=CATALOGUE["part_foyers_rsa"]) == [4, 7]
    assert classify(pd.Series([np.nan, 4, 4.1]), [4, 7]).tolist() == [-1, 0, 1]


def test_older_catalogue_without_short_labels_still_loads(tmp_path):
    import json
    entries = json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    for entry in entries:
        del entry["short_label"]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    assert load_catalogue(path)["taux_pauvrete"].short_label == CATALOGUE["taux_pauvrete"].label


def test_catalogue_entry_missing_a_field_is_refused(tmp_path):
    import json
    entries = json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
    del entries[2]["source"]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(InputError, match="entrée n° 3.*source"):
        load_catalogue(path)


def test_dates_are_written_the_french_way():
    from datetime import date
    from diagnostic.indicators import french_date, french_day
    assert french_date(date(2025, 5, 1)) == "1er mai 2025" and french_date("2025-01-06") == "6 janvier 2025"
    assert french_day("2024-12-31T10:00:00") == "31 décembre 2024" and french_day("printemps 2024") == "printemps 2024"
