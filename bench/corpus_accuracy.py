"""The paradigm classifier on the labelled real instruments of `../shared/corpus/` and
`../shared/corpus-dev/`, and its cost on a long statute made of transfer provisions.

    python3 bench/corpus_accuracy.py            # accuracy tables and timings
    python3 bench/corpus_accuracy.py --misses   # also every wrong text, with its label's reason

The texts and their labels are read from `../shared/`, never copied into the repository. A
prediction is right when it is any of the paradigms the analyst accepts; "cites" counts, among the
texts whose label names deciding provisions, those whose evidence for the label quotes one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paradigms.classifier import classify_text  # noqa: E402
from paradigms.evaluation import LabelledText, cites_deciding, read_labels  # noqa: E402

SHARED = ROOT.parent / "shared"
CORPORA = [SHARED / "corpus", SHARED / "corpus-dev"]
LABELS = ["facilitation", "prudent", "restrictive", "unknown"]
STATUTE_BYTES = 40_000


def _ratio(ok: int, n: int) -> str:
    return f"{ok}/{n} = {ok / n:.0%}" if n else "—"


def accuracy(show_misses: bool) -> None:
    texts: list[LabelledText] = [t for folder in CORPORA if folder.exists()
                                 for t in read_labels(folder)]
    if not texts:
        print("no labelled corpus under", SHARED)
        return
    confusion: Counter = Counter()
    groups: dict[str, dict[str, list[int]]] = {"language": defaultdict(lambda: [0, 0]),
                                               "level": defaultdict(lambda: [0, 0])}
    right = cited = with_deciding = 0
    misses = []
    for text in texts:
        result = classify_text(text.path.read_text(encoding="utf-8"))
        ok = result.paradigm in text.accepted
        confusion[(text.primary, result.paradigm if not ok else text.primary)] += 1
        right += ok
        for name, key in (("language", text.language), ("level", text.level)):
            groups[name][key][0] += ok
            groups[name][key][1] += 1
        if text.deciding and text.primary != "unknown":
            with_deciding += 1
            cited += cites_deciding(result, text.deciding)
        if not ok:
            misses.append((text, result))
    print(f"\n### Labelled real texts: {_ratio(right, len(texts))} right; evidence cites a deciding "
          f"provision in {_ratio(cited, with_deciding)}\n")
    print("Rows: the analyst's primary label; a prediction that is any accepted label counts "
          "on the diagonal.\n")
    print("| primary \\ predicted | " + " | ".join(LABELS) + " |")
    print("|---|" + "---|" * len(LABELS))
    for expected in LABELS:
        print(f"| {expected} | " + " | ".join(str(confusion[(expected, g)]) for g in LABELS) + " |")
    for name, counts in groups.items():
        print(f"\nper {name}: " + ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in sorted(counts.items())))
    if show_misses:
        print("\nwrong:")
        for text, result in misses:
            print(f"- {text.path.name}: {result.paradigm} {result.scores} "
                  f"(accepted {'|'.join(text.accepted)}: {text.why})")


def _statute() -> str:
    """About 40 KB of real transfer provisions: the Chinese, EU and Saudi texts, repeated."""
    parts = [(SHARED / "corpus" / name).read_text(encoding="utf-8") for name in (
        "cn-pipl-2021.md", "eu-gdpr-chapter-v.md", "sa-transfer-regulation-2024.md")
        if (SHARED / "corpus" / name).exists()]
    if not parts:
        demo = ROOT / "policywatch" / "demoweb" / "corpus" / "eu-gdpr-chapter-v.md"
        parts = [demo.read_text(encoding="utf-8")]
    text = "\n".join(parts)
    while len(text.encode()) < STATUTE_BYTES:
        text += "\n" + text
    return text.encode()[:STATUTE_BYTES].decode(errors="ignore")


def _median_ms(action: Callable[[], object], runs: int, clock: Callable[[], float]) -> tuple[float, float]:
    """Median and minimum milliseconds of `runs` calls, on one clock."""
    timings = []
    for _ in range(runs):
        started = clock()
        action()
        timings.append((clock() - started) * 1000)
    return statistics.median(timings), min(timings)


def cost(runs: int = 41) -> None:
    """Milliseconds per statute, wall-clock and CPU (the machine is shared: CPU time is the steadier
    figure), and the classifier's cost relative to lower-casing and splitting the text once."""
    statute = _statute()
    classify_text(statute)  # patterns compile on first use
    print(f"\n### Cost: a {len(statute.encode()) // 1000} KB statute of transfer provisions "
          f"({len(statute):,} characters), median of {runs}\n")
    wall, wall_min = _median_ms(lambda: classify_text(statute), runs, time.perf_counter)
    cpu, cpu_min = _median_ms(lambda: classify_text(statute), runs, time.process_time)
    baseline, _ = _median_ms(lambda: statute.lower().split("\n"), runs, time.perf_counter)
    print(f"classify_text: wall {wall:.2f} ms (min {wall_min:.2f}), CPU {cpu:.2f} ms (min {cpu_min:.2f}); "
          f"{wall / baseline:.0f}× one lower-case-and-split pass ({baseline:.3f} ms)")
    corpus = [t.path for folder in CORPORA if folder.exists() for t in read_labels(folder)]
    if corpus:
        texts = [path.read_text(encoding="utf-8") for path in corpus]
        started = time.perf_counter()
        for text in texts:
            classify_text(text)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"all {len(texts)} labelled texts ({sum(map(len, texts)) / 1e6:.2f} M characters): "
              f"{elapsed:.0f} ms, {elapsed / len(texts):.1f} ms a text")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every wrong text with its label's reason")
    args = parser.parse_args()
    accuracy(args.misses)
    cost()
