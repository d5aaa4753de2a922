"""Benchmark of a working-group session: 30 simulated participants write findings and votes (a vote
placed then withdrawn, to stay within the allowance) on the store for a minute, while each of them
refreshes the ranking every 1.5 seconds, as the page does (the pages of a session share one read
of the ranking per 0.3 second).

Prints the writes per second sustained, how long a finding takes to reach the other participants,
and, as an anchor measured in the same run, the rate of plain inserts of the same rows through the
same engine without the store's checks (caller, role, session state, lengths).
Run: .venv/bin/python bench/bench_sessions.py [database URL] [seconds]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostic.sessions.store import Store  # noqa: E402

PARTICIPANTS = 30
DURATION_S = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
REFRESH_S = 1.5  # the page's refresh interval of findings and votes (st.fragment run_every)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else f"sqlite:///{Path(tmp) / 'seances.sqlite'}"
        store = Store(url)
        code, facilitator = store.create_session("Banc d'essai", "Animateur", "CD", votes_per_participant=5)
        people = [store.join(code, f"Participant {i}", f"Organisation {i}", client=f"c{i}") for i in range(PARTICIPANTS)]
        written: dict[int, float] = {}
        seen_delays: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + DURATION_S
        counts = [0] * PARTICIPANTS

        def write(i: int) -> None:
            who = people[i]
            while time.monotonic() < stop:
                finding = store.add_finding(who, f"Constat {counts[i]} de {who.name}", "besoin")
                with lock:
                    written[finding] = time.monotonic()
                store.vote(who, finding)
                store.unvote(who, finding)
                counts[i] += 3

        def read(i: int) -> None:
            known: set[int] = set()
            time.sleep(i * REFRESH_S / PARTICIPANTS)  # participants are not in step
            while time.monotonic() < stop + REFRESH_S:
                started = time.monotonic()
                rows = store.live_ranking(facilitator.session_id)
                now = time.monotonic()
                with lock:
                    for row in rows:
                        if row["id"] not in known:
                            known.add(row["id"])
                            # seen before its writer even noted the time: no delay
                            seen_delays.append(max(0.0, now - written.get(row["id"], now)))
                time.sleep(max(0.0, REFRESH_S - (time.monotonic() - started)))  # run_every: a run every 2 s

        threads = [threading.Thread(target=write, args=(i,)) for i in range(PARTICIPANTS)]
        threads += [threading.Thread(target=read, args=(i,)) for i in range(PARTICIPANTS)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = min(time.monotonic() - start, DURATION_S)
        writes = sum(counts)
        seen_delays.sort()
        p95 = seen_delays[int(0.95 * (len(seen_delays) - 1))]
        print(f"{PARTICIPANTS} participants, {DURATION_S:g} s : {writes / elapsed:.0f} écritures par seconde "
              f"(constats et votes, budget ≥ 200) ; {len(written)} constats")
        print(f"Délai avant qu'un constat apparaisse chez les autres (rafraîchissement toutes les "
              f"{REFRESH_S:g} s) : médiane {statistics.median(seen_delays):.2f} s, 95 % {p95:.2f} s, "
              f"maximum {seen_delays[-1]:.2f} s (budget 3 s)")
        anchor = plain_inserts(store, facilitator, min(DURATION_S, 10.0))
        print(f"Repère, même moteur : {anchor:.0f} insertions simples par seconde sans les contrôles du store ; "
              f"rapport store / repère : {writes / elapsed / anchor:.2f}")


def plain_inserts(store: Store, who, seconds: float) -> float:
    """Rows written per second by 30 threads inserting findings directly (no checks)."""
    from sqlalchemy import insert

    from diagnostic.sessions.schema import findings
    stop = time.monotonic() + seconds
    done = [0] * PARTICIPANTS

    def work(i: int) -> None:
        while time.monotonic() < stop:
            with store.engine.begin() as conn:
                conn.execute(insert(findings).values(session_id=who.session_id, text=f"repère {i}", kind="besoin",
                                                     participant_id=who.id, author="x", organisation="y"))
            done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(PARTICIPANTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


if __name__ == "__main__":
    main()
