"""Recording a new instrument's links in a store that already holds many instruments.

    python3 bench/link_resolution.py [--known 5000] [--new 200]

Fills a fresh SQLite store with KNOWN instruments (EU acts, numbered laws and titled texts, as a
real catalogue holds), then records NEW further documents that each cite six of them and two
instruments the store does not know, and prints the CPU per new document of
`storage.versions.record_document` (its links read, resolved and the waiting ones looked up).
Run it with PYTHONPATH set to another source tree to compare two trees on the same work.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.database import Store  # noqa: E402
from storage.runs import upsert_source  # noqa: E402
from storage.versions import Fetch, SourceInfo, record_document  # noqa: E402
from texts.document import Extracted  # noqa: E402


def known_title(n: int) -> str:
    kind = n % 3
    if kind == 0:
        return f"Regulation (EU) {2000 + n % 25}/{n} on the processing of data"
    if kind == 1:
        return f"Ley {10000 + n} de protección de datos"
    return f"Data Transfer Act number {n}"


def record(store: Store, source: SourceInfo, url: str, title: str, text: str) -> None:
    with store.transaction() as session:
        record_document(session, None, source, Fetch(source.id, url, url, 200, {}, text.encode()),
                        Extracted(title=title, text=text, published=None, doc_type="text",
                                  encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--known", type=int, default=5000)
    parser.add_argument("--new", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'store.sqlite'}")
        with store.transaction() as session:
            upsert_source(session, id="bench", name="Bench", jurisdiction="EU", level="supranational",
                          declaration_file=None)
        source = SourceInfo("bench", "EU", "supranational", "en")
        started = time.process_time()
        for n in range(args.known):
            record(store, source, f"https://known.example/{n}", known_title(n),
                   f"Article 1\nThis text number {n} lays down rules on transfers.\n")
        filled = time.process_time() - started
        costs = []
        for n in range(args.new):
            cited = [rng.randrange(args.known) for _ in range(6)]
            lines = [f"Article {i + 1}\nTransfers shall comply with "
                     + (f"Regulation (EU) {2000 + c % 25}/{c}" if c % 3 == 0 else
                        f"Ley {10000 + c}" if c % 3 == 1 else f"the Data Transfer Act number {c}")
                     + ".\n" for i, c in enumerate(cited)]
            lines.append(f"Article 7\nDirective 95/{46 + n}/EC is repealed. See Regulation (EU) 2031/{n}.\n")
            before = time.process_time()
            record(store, source, f"https://new.example/{n}", f"Implementing act {n}", "".join(lines))
            costs.append(time.process_time() - before)
        store.close()
    print(f"{args.known} known instruments recorded in {filled:.1f} s of CPU; "
          f"a new document citing 8: median {statistics.median(costs) * 1000:.1f} ms, "
          f"mean {statistics.mean(costs) * 1000:.1f} ms of CPU")


if __name__ == "__main__":
    main()
