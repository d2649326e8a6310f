"""Where the store's bytes go after the three cycles of bench/compare.py, for one or two trees.

    python3 bench/store_size.py [--pages 400] [--tree PATH ...] [--keep DIR]

For each tree (default: this one), on the same loopback web (bench/bigweb.py): the three cycles
of bench/compare.py (first crawl, noise only, 10 pages changed) with `policywatch crawl` of that
tree, then the store's file size, the bytes of each table and index (SQLite's dbstat), the
version texts compressed (the reference of issue 13's ratio) and the CPU seconds of the crawls.
Trees are run alternately, cycle by cycle, so that both see the same machine.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import CYCLES, ENV, Web, store_size, wait4_run, write_declarations  # noqa: E402


def crawl(tree: Path, db_file: Path, sources: Path, output: Path) -> float:
    """CPU seconds of one `policywatch crawl` of `tree` into `db_file`."""
    _, cpu, _ = wait4_run([sys.executable, "-m", "policywatch", "--db", f"sqlite:///{db_file}", "crawl",
                           "--quiet", "--sources", str(sources)], env={**ENV, "PYTHONPATH": str(tree)},
                          cwd=tree, output=output)
    return cpu


def breakdown(db_file: Path) -> dict[str, int]:
    """Bytes per table or index (dbstat), the free pages, and the version texts compressed."""
    with sqlite3.connect(db_file) as connection:
        sizes = dict(connection.execute("select name, sum(pgsize) from dbstat group by name "
                                        "order by 2 desc"))
        page_size = connection.execute("pragma page_size").fetchone()[0]
        sizes["(free pages)"] = connection.execute("pragma freelist_count").fetchone()[0] * page_size
        sizes["(version texts compressed)"] = connection.execute(
            "select coalesce(sum(length(text_z)), 0) from versions").fetchone()[0]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.01)
    parser.add_argument("--port", type=int, default=18180)
    parser.add_argument("--tree", type=Path, action="append", help="a policywatch tree (repeatable)")
    parser.add_argument("--keep", type=Path, help="copy the stores into this folder")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree or [ROOT]]
    web = Web(args.port, args.hosts, args.pages, args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="policywatch-size-") as tmp:
            work = Path(tmp)
            sources = work / "sources"
            write_declarations(sources, web)
            stores = [work / f"store-{n}.sqlite" for n in range(len(trees))]
            cpu = [0.0] * len(trees)
            changed = list(range(7, args.pages, args.pages // 10))[:10]
            for number, _ in enumerate(CYCLES, start=1):
                state = f"noise={number}&changed={','.join(map(str, changed if number == 3 else []))}"
                for n, tree in enumerate(trees):
                    web.control(f"set?{state}")
                    cpu[n] += crawl(tree, stores[n], sources, work / f"out-{n}.txt")
            for n, tree in enumerate(trees):
                sizes = breakdown(stores[n])
                total = store_size(stores[n])
                texts = sizes["(version texts compressed)"]
                print(f"\n{tree}: store {total / 1e6:.2f} MB, version texts compressed {texts / 1e6:.2f} MB, "
                      f"ratio {total / max(texts, 1):.2f}, crawl CPU {cpu[n]:.1f} s")
                for name, size in sizes.items():
                    if size >= 10_000:
                        print(f"  {name:45} {size / 1e6:8.3f} MB")
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    os.replace(stores[n], args.keep / f"store-{n}.sqlite")
    finally:
        web.stop()


if __name__ == "__main__":
    main()
