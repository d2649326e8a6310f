"""Cost of reading a version's lifecycle stage and key dates, on real instruments.

    python3 bench/lifecycle.py                 # every text of the demo corpus and ../shared/corpus*
    python3 bench/lifecycle.py --repeat 20

Reads the demo corpus of `policywatch/demoweb/corpus/` and, when present, `../shared/corpus/` and
`../shared/corpus-dev/` (never copied into the repository). For each text: its size, the number
of cue phrases the prefilter found, the best of `--repeat` CPU times of one `lifecycle_stage`
call (key dates included) and, for scale, of one `classify_text` call, and what was read. The
stage is computed as of `--today`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paradigms.classifier import classify_text  # noqa: E402
from paradigms.key_dates import prepare  # noqa: E402
from paradigms.lifecycle import lifecycle_stage  # noqa: E402
from texts.normalise import normalise_text  # noqa: E402

FOLDERS = {"demo": ROOT / "policywatch" / "demoweb" / "corpus", "corpus": ROOT.parent / "shared" / "corpus",
           "corpus-dev": ROOT.parent / "shared" / "corpus-dev"}


def best_cpu_ms(call: Callable[[], object], repeat: int) -> float:
    """The least CPU time of `repeat` calls, in milliseconds: the figure least disturbed by
    other work on a shared machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best * 1000


def texts() -> list[tuple[str, str]]:
    """(folder/name, normalised text) of every Markdown instrument, each distinct text once."""
    seen: set[str] = set()
    found = []
    for label, folder in FOLDERS.items():
        for path in sorted(folder.glob("*.md")) if folder.exists() else []:
            text = normalise_text(path.read_text(encoding="utf-8"))
            if path.name.upper().startswith(("README", "SOURCES")) or text in seen:
                continue
            seen.add(text)
            found.append((f"{label}/{path.name}", text))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 12, 1))
    args = parser.parse_args()
    lifecycle_stage("warm-up", today=args.today)  # compile the expressions and scanners once
    print("| text | KB | cues | stage ms | classify ms | stage | key dates |")
    print("|---|---|---|---|---|---|---|")
    per_kb = []
    for name, text in texts():
        stage_ms = best_cpu_ms(partial(lifecycle_stage, text, today=args.today), args.repeat)
        classify_ms = best_cpu_ms(partial(classify_text, text), max(1, args.repeat // 5))
        stage = lifecycle_stage(text, today=args.today)
        kilobytes = len(text.encode("utf-8")) / 1024
        per_kb.append(stage_ms / kilobytes)
        print(f"| {name} | {kilobytes:.0f} | {len(prepare(text).cues)} | {stage_ms:.2f} | {classify_ms:.1f} "
              f"| {stage.stage} | {len(stage.dates)} |")
    print(f"\n{len(per_kb)} texts; lifecycle_stage CPU per KB: median {statistics.median(per_kb):.3f} ms, "
          f"max {max(per_kb):.3f} ms")


if __name__ == "__main__":
    main()
