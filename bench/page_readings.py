"""CPU of the readings a new page gets before it is stored: its paradigm, its lifecycle and its
links, in-process, on the comparison web's pages (bench/bigweb.py) as the crawl extracts them.

    python3 bench/page_readings.py                       # this tree
    python3 bench/page_readings.py --trees BEFORE,AFTER  # source trees in turn, alternating

Each tree runs in its own interpreter; per reading, the least of `--repeat` passes over the pages
(CPU ms a page), and the three read one after the other as `record_document` reads them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent


def measure(pages: int, repeat: int) -> dict[str, float]:
    from bench.bigweb import BigWeb
    from crawlers.extract import extract_document
    from paradigms.classifier import classify_text
    from paradigms.instrument_links import find_links
    from paradigms.lifecycle import lifecycle_stage

    web = BigWeb(20, pages, 0)
    documents = [extract_document(web.render(n).encode(), "text/html") for n in range(pages)]
    texts = [(document.title or "", document.text) for document in documents]
    today = date(2026, 12, 1)
    readings = {
        "paradigm": lambda title, body: classify_text(body, normalised=True),
        "lifecycle": lambda title, body: lifecycle_stage(body, today=today, title=title),
        "links": lambda title, body: find_links(body, title),
    }

    def all_three(title: str, body: str) -> None:
        for read in readings.values():
            read(title, body)

    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, read in [*readings.items(), ("all three", all_three)]:
            started = time.process_time()
            for title, body in texts:
                read(title, body)
            spent = (time.process_time() - started) * 1000 / len(texts)
            best[name] = min(best.get(name, spent), spent)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trees", help="source trees, comma-separated, measured in turn")
    parser.add_argument("--rounds", type=int, default=3, help="turns of every tree with --trees")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.trees:
        result = measure(args.pages, args.repeat)
        print(json.dumps(result) if args.json else
              "\n".join(f"{name:<10} {ms:6.2f} ms a page" for name, ms in result.items()))
        return
    trees = [Path(tree).resolve() for tree in args.trees.split(",")]
    runs: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    for _ in range(args.rounds):
        for tree in trees:
            shown = subprocess.run([sys.executable, str(tree / "bench" / "page_readings.py"), "--json",
                                    "--pages", str(args.pages), "--repeat", str(args.repeat)],
                                   cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                                   capture_output=True, text=True, check=True)
            runs[tree].append(json.loads(shown.stdout))
    names = list(runs[trees[0]][0])
    print("| tree | " + " | ".join(f"{name}: ms a page" for name in names) + " |")
    print("|---|" + "---|" * len(names))
    for tree in trees:
        cells = " | ".join(", ".join(f"{run[name]:.2f}" for run in runs[tree])
                           + f" (median {statistics.median(run[name] for run in runs[tree]):.2f})"
                           for name in names)
        print(f"| {tree.name} | {cells} |")


if __name__ == "__main__":
    sys.path.insert(0, str(TREE))
    main()
