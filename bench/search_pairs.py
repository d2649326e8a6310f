"""Searches on kept stores of bench/store_scale.py, one store per tree, the trees taking turns.

    python3 bench/search_pairs.py --case TREE=STORE [--case TREE=STORE ...] [--rounds 2] [--runs 40]

For each round, each tree in turn answers in a process of its own (its modules first on the path)
the searches of `bench/store_scale.py` and those an index without positions finds hardest:
two common words reversed, three common words (every pair of them common, the phrase rare),
three words that follow one another in some text, four Chinese characters, one common word.
Each search is `history(..., limit=100)` as `policywatch history --search` runs it; the figures
are ms of CPU per search (p50 / p95) and wall p50, after one warm-up, the same needles for
every tree.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
def needles(runs: int, instruments: int = 100_000) -> dict[str, list[str]]:
    from bench.store_scale import CHINESE, WORDS

    rng = random.Random(11)

    def existing_run() -> str:
        words = [rng.choice(WORDS) for _ in range(40)]  # as store_scale writes a text
        start = rng.randrange(37)
        return " ".join(words[start:start + 3])

    return {
        "common phrase (two words)": [" ".join(rng.sample(WORDS, 2)) for _ in range(runs)],
        "two common words reversed": [" ".join(reversed(rng.sample(WORDS, 2))) for _ in range(runs)],
        "three common words": [" ".join(rng.sample(WORDS, 3)) for _ in range(runs)],
        "three words of a text": [existing_run() for _ in range(runs)],
        "word in few instruments": [f"ref{rng.randrange(1, instruments)}" for _ in range(runs)],
        "Chinese, two characters": ["".join(rng.sample(CHINESE, 2)) for _ in range(runs)],
        "Chinese, four characters": ["".join(rng.sample(CHINESE, 4)) for _ in range(runs)],
        "one common word": [rng.choice(WORDS) for _ in range(runs)],
    }


def measure(store_file: Path, runs: int) -> dict[str, list[float]]:
    """ms of CPU p50, p95, wall p50 and rows of the last search, per case."""
    from storage.database import Store
    from storage.queries import HistoryFilter, history

    store = Store(f"sqlite:///{store_file}")
    results = {}
    for name, cases in needles(runs).items():
        def search(needle: str) -> int:
            with store.sessions() as session:
                return len(history(session, HistoryFilter(search=needle, limit=100)))
        search(cases[0])
        cpu, wall, rows = [], [], 0
        for needle in cases:
            started, started_cpu = time.perf_counter(), time.process_time()
            rows = search(needle)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        cpu.sort()
        results[name] = [statistics.median(cpu), cpu[min(len(cpu) - 1, int(len(cpu) * 0.95))],
                         statistics.median(wall), rows]
    store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", default=[], metavar="TREE=STORE")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    pairs = [case.split("=", 1) for case in args.case]
    table: dict[str, list[str]] = {}
    for round_ in range(1, args.rounds + 1):
        for tree, store in pairs:
            child = subprocess.run([sys.executable, __file__, "--measure", store, "--runs", str(args.runs)],
                                   env={**os.environ, "PYTHONPATH": tree}, cwd=tree, check=True,
                                   capture_output=True, text=True)
            for name, (p50, p95, wall, rows) in json.loads(child.stdout.splitlines()[-1]).items():
                table.setdefault(name, []).append(f"{p50:.1f} / {p95:.1f} ({wall:.0f}; {rows})")
            print(f"round {round_}, {tree} done", flush=True)
    header = [f"{Path(tree).name}, round {r}" for r in range(1, args.rounds + 1) for tree, _ in pairs]
    print("| search | " + " | ".join(header) + " |")
    print("|---|" + "---|" * len(header))
    for name, cells in table.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
