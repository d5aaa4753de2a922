"""Statistical secrecy attacked: from everything the dashboard publishes (the indicator tables of
every level, as the CLI exports them), a linear programme written here — independent of the
library's own audit — must not narrow any masked count below the protection range."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from diagnostic.secrecy import Cells, feasible_intervals, protect
from diagnostic.secrecy.cells import COMMUNE, DEPARTEMENT
from diagnostic.workspace import DEMO_WORKSPACE, load_workspace

ROOT = Path(__file__).resolve().parent.parent
SECRET = "secret statistique"


def exported(workspace, level, tmp_path) -> list[dict]:
    out = tmp_path / f"{level}.csv"
    result = subprocess.run([sys.executable, "-m", "diagnostic", "indicators", "--workspace", str(workspace),
                             "--level", level, "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def number(text: str) -> float:
    return float(text.replace(",", ".").replace("\u202f", "")) if text not in ("", SECRET) else float("nan")


def attack(ws, tables: dict[str, list[dict]], indicator: str,
           extra: list[tuple[list[str], float]] = ()) -> dict[str, tuple[float, float, float]]:
    """For each masked commune or group: (smallest, largest) count consistent with every published
    number, and the largest count the published denominators allow."""
    communes = [r for r in tables["commune"] if r["indicateur"] == indicator]
    codes = [r["code"] for r in communes]
    masked = [r["code"] for r in communes if r["numerateur"] == SECRET]
    known_num = {r["code"]: number(r["numerateur"]) for r in communes}
    known_den = {r["code"]: number(r["denominateur"]) for r in communes}
    variables = {code: j for j, code in enumerate(masked)}
    equations, masked_groups = [], []
    for level in ws.groupings.columns:
        for r in tables[level]:
            if r["indicateur"] != indicator:
                continue
            members = [c for c in codes if ws.groupings.at[c, level] == r["code"]]
            members = [c for c in members if not np.isnan(known_num[c]) or c in variables]
            if r["numerateur"] == SECRET:
                masked_groups.append((f"{level}:{r['code']}", members, number(r["denominateur"])))
                continue
            equations.append((members, number(r["numerateur"]), number(r["denominateur"])))
    equations += [(members, total, float("nan")) for members, total in extra]
    upper = {}
    for code in masked:  # a share's count is at most what the group denominators leave
        bounds = [den - sum(known_den[c] for c in members if c not in variables)
                  for members, _, den in equations if code in members and not np.isnan(den)]
        upper[code] = min(bounds) if bounds else np.inf
    a_eq, b_eq = [], []
    for members, total, _ in equations:
        involved = [variables[c] for c in members if c in variables]
        if involved:
            line = np.zeros(len(masked))
            line[involved] = 1
            a_eq.append(line)
            b_eq.append(total - sum(known_num[c] for c in members if c not in variables))
    bounds = [(0, None if np.isinf(upper[c]) else upper[c]) for c in masked]
    out = {}
    targets = [(c, [c]) for c in masked] + [(name, members) for name, members, _ in masked_groups]
    for name, members in targets:
        objective = np.zeros(len(masked))
        objective[[variables[c] for c in members if c in variables]] = 1
        constant = sum(known_num[c] for c in members if c not in variables)
        low = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds, method="highs")
        largest = np.inf if high.status == 3 else constant - high.fun
        room = sum(upper.get(c, 0) for c in members if c in variables)
        out[name] = (constant + low.fun, largest, room)
    return out


def test_no_masked_demo_count_can_be_narrowed_from_the_exports(tmp_path):
    ws = load_workspace(DEMO_WORKSPACE)
    tables = {level: exported(DEMO_WORKSPACE, level, tmp_path) for level in ["commune", *ws.groupings.columns]}
    attacked = 0
    for indicator in [i.id for i in ws.catalogue.values() if i.confidential]:
        for name, (low, high, room) in attack(ws, tables, indicator).items():
            attacked += 1
            assert high - low >= min(ws.secret_threshold, room) - 1e-6, (indicator, name, low, high)
    assert attacked > 100  # the demo has many small counts: the test attacks something


def test_the_audit_finds_what_simple_suppression_misses():
    # two partitions (TAS and EPCI) over four communes: hiding a and b passes the "no lone hidden
    # part" rule in each TAS, yet the EPCI totals give them away
    codes = pd.Index(["a", "b", "c", "d"])
    cells = Cells(codes, np.array([2.0, 30.0, 40.0, 50.0]), np.full(4, np.nan),
                  {**{(COMMUNE, c): np.array([i]) for i, c in enumerate(codes)},
                   ("TAS", "1"): np.array([0, 1]), ("TAS", "2"): np.array([2, 3]),
                   ("EPCI", "x"): np.array([0, 2]), ("EPCI", "y"): np.array([1, 3]), DEPARTEMENT: np.arange(4)})
    naive = {(COMMUNE, "a"), (COMMUNE, "b")}
    assert feasible_intervals(cells, naive)[(COMMUNE, "a")] == pytest.approx((2.0, 2.0))
    hidden = protect(cells, 5, 5)
    widths = {n: hi - lo for n, (lo, hi) in feasible_intervals(cells, hidden).items()}
    assert min(widths.values()) >= 5 and (COMMUNE, "a") in hidden


def test_audit_secret_command_prints_each_masked_cell_and_its_interval():
    result = subprocess.run([sys.executable, "-m", "diagnostic", "audit-secret"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Part des ménages allocataires du RSA" in result.stdout
    assert "intervalle possible" in result.stdout and "aucune cellule trop étroite" in result.stdout
    assert "primaire" not in result.stdout and "secondaire" not in result.stdout


def test_white_zones_and_offer_ratios_reveal_no_masked_count(tmp_path):
    from diagnostic.access.white_zones import CoverageParams, commune_coverage, masked_target, territory_summary
    from diagnostic.offer import theme_table
    from diagnostic.secrecy import protected_cells
    ws = load_workspace(DEMO_WORKSPACE)
    tables = {level: exported(DEMO_WORKSPACE, level, tmp_path) for level in ["commune", *ws.groupings.columns]}
    rsa = ws.catalogue["part_foyers_rsa"]
    extra = []
    for theme, km in (("mobilite", 10), ("numerique", 5), ("sante", 15)):
        result = commune_coverage(ws, CoverageParams(themes=(theme,), max_km=km, target=rsa.id))
        shown = masked_target(result, ws).set_axis(result.communes["code_insee"])
        white = set(result.communes.loc[result.communes["white_zone"], "code_insee"])
        hidden = {c for c, v in shown.items() if v == "secret"}
        published = {r["code"] for r in tables["commune"] if r["indicateur"] == rsa.id and r["numerateur"] == SECRET}
        assert hidden == published  # the same cells are masked on the Zones blanches page as in the profile
        for level in ws.groupings.columns:
            summary = territory_summary(result, ws, level)
            for territory, row in summary.iterrows():
                members = [c for c in white if territory == "Département" or ws.groupings.at[c, level] == territory]
                if not np.isnan(row["white_target"]):
                    extra.append((members, float(row["white_target"])))
    for name, (low, high, room) in attack(ws, tables, rsa.id, extra).items():
        assert high - low >= min(ws.secret_threshold, room) - 1e-6, (name, low, high)
    # services per 100 RSA households: never for a masked territory
    groups = ws.groupings["EPCI"]
    secret = protected_cells(ws, rsa).hidden_at("EPCI")
    rsa_counts = ws.values[ws.values["indicator"] == rsa.id].set_index("code_insee")["numerator"]
    table = theme_table(ws.offer, groups, ws.communes.set_index("code_insee")["population"], rsa_counts, secret)
    assert table.loc[table["territory"].isin(secret), "per_100_rsa"].isna().all()


def test_a_remembered_protection_is_reused_but_never_trusted_when_it_hides_too_little(tmp_path, monkeypatch):
    from diagnostic.secrecy import suppression
    from diagnostic.secrecy.cells import indicator_cells
    ws = load_workspace(DEMO_WORKSPACE)
    cells = indicator_cells(ws, ws.catalogue["part_foyers_rsa"])
    monkeypatch.setattr(suppression, "CACHE_DIR", tmp_path / "cache")
    first = suppression.remembered_protection(cells, 5)
    assert first == protect(cells, 5, 5) and len(list((tmp_path / "cache").glob("*.json"))) == 1
    monkeypatch.setattr(suppression, "protect", lambda *a: pytest.fail("the audit ran again"))
    assert suppression.remembered_protection(cells, 5) == first  # read back, the audit not redone
    file = next((tmp_path / "cache").glob("*.json"))
    file.write_text("[]", encoding="utf-8")  # a tampered file that hides nothing
    monkeypatch.setattr(suppression, "protect", lambda *a: {("x", "recomputed")} | first)
    assert ("x", "recomputed") in suppression.remembered_protection(cells, 5)  # not trusted: computed again
    (tmp_path / "cache").chmod(0o777)  # a folder others may write to is never read
    file.write_text(json.dumps(sorted(map(list, first))), encoding="utf-8")
    assert ("x", "recomputed") in suppression.remembered_protection(cells, 5)
