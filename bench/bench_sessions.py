"""Benchmark of a working-group session: 30 simulated participants write findings and votes on
the SQLite store while each of them refreshes the ranking every 2 seconds, as the page does.

Prints the writes per second sustained and how long a finding takes to reach the other participants.
Run: .venv/bin/python bench/bench_sessions.py [database URL]
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
DURATION_S = 8.0
REFRESH_S = 2.0  # the page's refresh interval (st.fragment run_every)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tmp) / 'seances.sqlite'}"
        store = Store(url)
        code, facilitator = store.create_session("Banc d'essai", "Animateur", "CD", votes_per_participant=10_000)
        people = [store.join(code, f"Participant {i}", f"Organisation {i}") for i in range(PARTICIPANTS)]
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
                counts[i] += 2

        def read(i: int) -> None:
            known: set[int] = set()
            time.sleep(i * REFRESH_S / PARTICIPANTS)  # participants are not in step
            while time.monotonic() < stop + REFRESH_S:
                rows = store.ranking(facilitator.session_id)
                now = time.monotonic()
                with lock:
                    for row in rows:
                        if row["id"] not in known:
                            known.add(row["id"])
                            # seen before its writer even noted the time: no delay
                            seen_delays.append(max(0.0, now - written.get(row["id"], now)))
                time.sleep(REFRESH_S)

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


if __name__ == "__main__":
    main()
