"""Primary and secondary suppression, audited: the smallest set of hidden cells found greedily so
that no hidden count can be narrowed below the protection range.

Rules (documented in the README): a confidential count from 1 to the threshold − 1 is hidden
(primary). The threshold is the workspace's (5 by default) and never less than its source's rule:
CAF, MSA, France Travail / DARES publish nothing below 5; INSEE's Filosofi, nothing resting on fewer
than 11 households. The protection range is the threshold itself: every hidden cell keeps a feasible
interval at least that wide (or its whole possible range, from 0 to its denominator, when smaller).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diagnostic.secrecy.audit import feasible_intervals
from diagnostic.secrecy.cells import COMMUNE, Cells, indicator_cells

SOURCE_RULES = {"CAF": 5, "CNAF": 5, "MSA": 5, "France Travail": 5, "DARES": 5, "Filosofi": 11}
PROTECTION_RANGE = "seuil"  # the documented protection range: the threshold itself
MAX_ROUNDS = 200
CACHE_DIR = Path(os.environ.get("PTI_CACHE_DIR") or Path(tempfile.gettempdir()) / "pti-secret")
CACHE_VERSION = 1  # raise when the suppression method changes: earlier results are then ignored


def source_threshold(indicator) -> int:
    """The smallest threshold the indicator's source allows (0 when its source has no rule)."""
    return max((rule for name, rule in SOURCE_RULES.items() if name.lower() in indicator.source.lower()), default=0)


@dataclass
class Protection:
    """The hidden cells of one indicator, and what the audit leaves of each."""

    cells: Cells
    hidden: set[tuple[str, str]]
    threshold: int

    def is_hidden(self, level: str, key: str) -> bool:
        return (level, key) in self.hidden

    def hidden_at(self, level: str) -> set[str]:
        """The keys of the hidden cells of one level (communes, or a grouping level's groups)."""
        return {key for kind, key in self.hidden if kind == level}


def protected_cells(ws, indicator) -> Protection:
    """The protected set of an indicator of the workspace, computed once per loaded version (and
    kept on disk for the same cells and threshold: a server restart does not redo the audit)."""
    key = ("secrecy", indicator.id)
    if key not in ws.memo:
        threshold = max(ws.secret_threshold, source_threshold(indicator))
        cells = indicator_cells(ws, indicator)
        ws.memo[key] = Protection(cells, remembered_protection(cells, threshold), threshold)
    return ws.memo[key]


def remembered_protection(cells: Cells, threshold: float) -> set[tuple[str, str]]:
    """`protect(cells, threshold, threshold)`, read back from a file named by the hash of every input
    (numerators, denominators, published sums, threshold, method version) when it was computed before;
    the file lives in a folder of the server's user that nobody else may write (checked before it
    is trusted), never in a workspace, and is used only if it hides at least the primary cells."""
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, threshold, list(cells.codes),
                                        np.nan_to_num(cells.numerators, nan=-1).tolist(),
                                        np.nan_to_num(cells.denominators, nan=-1).tolist(),
                                        sorted([list(name), members.tolist()] for name, members in cells.sums.items())]
                                       ).encode()).hexdigest()
    file = CACHE_DIR / f"{digest}.json"
    primary = primary_cells(cells, threshold)
    try:
        if _private(CACHE_DIR):
            hidden = {tuple(name) for name in json.loads(file.read_text(encoding="utf-8"))}
            if primary <= hidden:
                return hidden
    except (OSError, ValueError, TypeError):
        pass
    hidden = protect(cells, threshold, threshold)
    try:
        CACHE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(CACHE_DIR):
            return hidden
        partial = file.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(sorted(map(list, hidden))), encoding="utf-8")
        partial.replace(file)  # whole or not at all
    except OSError:
        pass  # a read-only temporary folder: computed again next time
    return hidden


def _private(folder: Path) -> bool:
    """The folder belongs to this process's user and nobody else may write to it."""
    info = folder.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def primary_cells(cells: Cells, threshold: float) -> set[tuple[str, str]]:
    """The published sums holding a count from 1 to the threshold − 1: hidden first."""
    return {name for name in cells.sums if 0 < cells.value(name) < threshold}


def protect(cells: Cells, threshold: float, protection: float) -> set[tuple[str, str]]:
    """Hidden cells: primary ones, then complements until every hidden cell's interval is at least
    `protection` wide (a quick pass first, so that no published sum has a single hidden part, then
    the linear-programming audit until nothing fails)."""
    hidden = primary_cells(cells, threshold)
    _no_lone_part(cells, hidden, protection)
    pending = set(hidden)  # hiding more only widens intervals: a cell that passed keeps passing
    for _ in range(MAX_ROUNDS):
        intervals = feasible_intervals(cells, hidden, only=pending)
        upper = cells.upper(hidden)
        failing = sorted((hi - lo, name) for name, (lo, hi) in intervals.items()
                         if hi - lo < required(cells, name, protection, upper))
        if not failing:
            return hidden
        pending = {name for _, name in failing}
        for width, name in failing:  # one complement for each failing cell, then audit again
            complement = _complement(cells, hidden, name, required(cells, name, protection, upper) - width)
            if complement is not None and complement not in hidden:
                hidden.add(complement)
                pending.add(complement)
    raise RuntimeError("secret secondaire : pas de solution trouvée")


def required(cells: Cells, name: tuple[str, str], protection: float, upper: np.ndarray) -> float:
    """The width a hidden cell's interval must keep: the protection range, or its whole possible
    range when that is smaller."""
    members = cells.sums[name]
    return min(protection, float(upper[members[~np.isnan(cells.numerators[members])]].sum()))


def _no_lone_part(cells: Cells, hidden: set, protection: float) -> None:
    """A published sum with one hidden part gives that part away, and a hidden sum whose parts are
    all published is no secret: hide another part until neither happens (no audit needed)."""
    known = ~np.isnan(cells.numerators)
    changed = True
    while changed:
        changed = False
        secret = {int(cells.sums[n][0]) for n in hidden if n[0] == COMMUNE}
        for name, members in cells.sums.items():
            if name[0] == COMMUNE:
                continue
            members = members[known[members]]
            parts = [m for m in members if m in secret]
            if (name not in hidden and len(parts) == 1) or (name in hidden and not parts and len(members) > 0):
                complement = _smallest(cells, members, secret, protection, set(parts))
                if complement is not None:
                    hidden.add(complement)
                    secret.add(int(cells.sums[complement][0]))
                    changed = True


def _smallest(cells: Cells, members, secret: set[int], needed: float, near: set[int] = frozenset()):
    """The published commune among `members` that is cheapest to hide and gives `needed` freedom;
    first those sharing the most groups with the communes `near` (mass moved between communes of
    different groups must be balanced elsewhere, so a close complement protects more)."""
    groups = _groups_of(cells)
    around = set().union(*(groups[m] for m in near)) if near else set()
    options = []
    for m in members:
        if m in secret or np.isnan(cells.numerators[m]):
            continue
        value = cells.numerators[m]
        capacity = value if np.isnan(cells.denominators[m]) else max(value, cells.denominators[m] - value)
        options.append((-len(groups[m] & around), capacity < needed, value if capacity >= needed else -capacity,
                        (COMMUNE, cells.codes[m])))
    return min(options)[-1] if options else None


def _groups_of(cells: Cells) -> list[set]:
    """For each commune, the sums (other than its own) it belongs to."""
    if cells.groups is None:
        cells.groups = [set() for _ in cells.codes]
        for name, members in cells.sums.items():
            if name[0] != COMMUNE:
                for m in members:
                    cells.groups[m].add(name)
    return cells.groups


def _complement(cells: Cells, hidden: set, name: tuple[str, str], needed: float):
    """The published cell to hide so that `name` gains freedom: a commune of `name` itself or of a
    published sum sharing a hidden commune with it (the closest and cheapest that can absorb
    `needed`), else that sum."""
    known = ~np.isnan(cells.numerators)
    secret = {int(cells.sums[n][0]) for n in hidden if n[0] == COMMUNE}
    own = [int(m) for m in cells.sums[name] if known[m]]
    mine = {m for m in own if m in secret}
    if name[0] != COMMUNE and len(mine) < 2 and (choice := _smallest(cells, own, secret, needed, mine)) is not None:
        return choice
    blocking = [other for other, members in cells.sums.items()
                if other not in hidden and other[0] != COMMUNE and mine & set(members.tolist())]
    pool = sorted({int(m) for b in blocking for m in cells.sums[b]})
    choice = _smallest(cells, pool, secret, needed, mine)
    if choice is not None:
        return choice
    return max(blocking, key=lambda b: len(cells.sums[b]), default=None)


def publishable_sums(protection: Protection, extra: dict[tuple[str, str], list[str]]) -> set[tuple[str, str]]:
    """Which of these further sums of communes (people in white zones of a territory…) can be
    published beside the protected cells: small ones are hidden, and so is any sum that would let
    the audit narrow a hidden cell. The protected set itself never changes."""
    cells = protection.cells.with_sums(extra)
    hidden = set(protection.hidden) | {n for n in extra if 0 < cells.value(n) < protection.threshold}
    known = ~np.isnan(cells.numerators)
    secret_communes = {int(cells.sums[n][0]) for n in protection.hidden if n[0] == COMMUNE}
    for _ in range(len(extra) + 1):
        touching = [n for n in extra if n not in hidden and secret_communes & set(cells.sums[n][known[cells.sums[n]]].tolist())]
        if not touching:
            break
        intervals = feasible_intervals(cells, hidden, only=protection.hidden)
        upper = cells.upper(hidden)
        failing = [n for n, (lo, hi) in intervals.items() if hi - lo < required(cells, n, protection.threshold, upper)]
        if not failing:
            break
        hidden.add(max(touching, key=lambda n: len(cells.sums[n])))
    return {n for n in extra if n not in hidden}
