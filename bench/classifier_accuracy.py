"""Accuracy and confusion matrix of the paradigm classifier on the labelled passages, and the
cost of classifying long real instruments.

    python3 bench/classifier_accuracy.py

`tests/fixtures/labelled_passages.tsv` (124 passages, six languages, three paradigms plus
irrelevant regulator news) was used while writing the indicators: its accuracy is a fit, not a
generalisation. `tests/fixtures/heldout_passages.tsv` (37 passages) was written after the
indicators were frozen and never tuned on: read that accuracy as the honest one.
`tests/fixtures/language_passages.tsv` holds passages in Japanese, Korean, Vietnamese, Russian,
Indonesian and Arabic written from each language's legal wording (the APPI's Art. 28 among them).
The real instruments of `../shared/` are measured by `bench/corpus_accuracy.py`.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paradigms.classifier import classify_text  # noqa: E402

LABELS = ["facilitation", "prudent", "restrictive", "unknown"]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = [ROOT / "policywatch" / "demoweb" / "corpus" / name for name in (
    "cn-csl-2016.md", "cn-pipl-2021.md", "cn-network-data-regulations-2024.md",
    "eu-gdpr-chapter-v.md", "eu-scc-decision-2021-914.md", "us-eo-14117-2024.md",
    "wto-jsi-ecommerce-2024.md")] + [ROOT.parent / "shared" / "corpus" / name for name in (
    "tpp-chapter-14-electronic-commerce.md", "sa-transfer-regulation-2024.md")]


def evaluate(name: str) -> None:
    rows = list(csv.DictReader((FIXTURES / name).open(encoding="utf-8"), delimiter="\t"))
    confusion: Counter = Counter()
    by_language: dict[str, list[int]] = {}
    for row in rows:
        expected = "unknown" if row["label"] == "irrelevant" else row["label"]
        got = classify_text(row["passage"]).paradigm
        confusion[(expected, got)] += 1
        by_language.setdefault(row["lang"], [0, 0])
        by_language[row["lang"]][0] += expected == got
        by_language[row["lang"]][1] += 1
    correct = sum(n for (e, g), n in confusion.items() if e == g)
    print(f"\n### {name}: accuracy {correct}/{len(rows)} = {correct / len(rows):.1%}\n")
    print("| expected \\ predicted | " + " | ".join(LABELS) + " |")
    print("|---|" + "---|" * len(LABELS))
    for expected in LABELS:
        print(f"| {expected} | " + " | ".join(str(confusion[(expected, g)]) for g in LABELS) + " |")
    print("\nper language: " + ", ".join(f"{lang} {ok}/{n}" for lang, (ok, n) in sorted(by_language.items())))


def cost() -> None:
    print("\n### Real instruments: label, scores, cost (median of 5 runs)\n")
    print("| instrument | characters | paradigm | scores F/P/R | ms |")
    print("|---|---|---|---|---|")
    for path in CORPUS:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            result = classify_text(text)
            timings.append(time.perf_counter() - started)
        s = result.scores
        print(f"| {path.name} | {len(text):,} | {result.paradigm} | "
              f"{s['facilitation']}/{s['prudent']}/{s['restrictive']} | "
              f"{sorted(timings)[2] * 1000:.0f} |")


if __name__ == "__main__":
    evaluate("labelled_passages.tsv")
    evaluate("heldout_passages.tsv")
    evaluate("language_passages.tsv")
    cost()
