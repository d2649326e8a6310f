"""Where the store's bytes go after the three cycles of bench/compare.py, for one or two trees.

    python3 bench/store_size.py [--pages 400] [--tree PATH ...] [--keep DIR]
    python3 bench/store_size.py --variants STORE


For each tree (default: this one), on the same loopback web (bench/bigweb.py): the three cycles
of bench/compare.py (first crawl, noise only, 10 pages changed) with `policywatch crawl` of that
tree, then the store's file size, the bytes of each table and index (SQLite's dbstat), the
version texts compressed (the reference of issue 13's ratio) and the CPU seconds of the crawls.
Trees are run alternately, cycle by cycle, so that both see the same machine.

`--variants STORE` measures, on a kept store, what else could shrink: the search index of
positions (before migration 0016) rebuilt from the stored texts with FTS5's options (merged into
one segment, `columnsize=0`, larger pages, row ids numbered densely, and `detail=column` for
scale, which loses phrase queries); the index without positions, one row per version, of the
terms alone, of terms and pairs (the store's since 0016) and of pairs alone; and
the versions' classification JSON compressed alone and against the version's text; and, on a
store written before snapshots were compressed against anything, the CPU to compress its
snapshots alone, against their text, and against their text and their source's first page.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import zstandard

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


FTS_VARIANTS = {  # name: (table options, pgsz or 0, dense row ids, merged into one segment)
    "of positions (before migration 0016)": ("", 0, False, False),
    "merged (optimize)": ("", 0, False, True),
    "columnsize=0": (", columnsize=0", 0, False, False),
    "pgsz 4000": ("", 4000, False, False),
    "dense row ids": ("", 0, True, False),
    "dense row ids, merged": ("", 0, True, True),
    "detail=column (no phrases)": (", detail=column", 0, False, False),
}


def stored_texts(db_file: Path) -> list[tuple[int, str, str]]:
    from storage.compression import unpack
    with sqlite3.connect(db_file) as connection:
        return [(version_id, title or "", unpack(text_z).decode("utf-8")) for version_id, title, text_z in
                connection.execute("select id, title, text_z from versions order by id")]


def fts_size(parts: list[tuple[int, int, str]], folder: Path, options: str, pgsz: int, dense: bool,
             merged: bool) -> int:
    """Bytes of an FTS5 index of `parts` (version id, chunk, terms), one version per transaction as
    a crawl adds them."""
    path = folder / "fts.sqlite"
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("create virtual table version_search using fts5(terms, content='', "
                           f"tokenize='unicode61 remove_diacritics 2'{options})")
        if pgsz:
            connection.execute(f"insert into version_search(version_search, rank) values('pgsz', {pgsz})")
        connection.commit()
        for number, (version_id, chunk, terms) in enumerate(parts, start=1):
            connection.execute("insert into version_search(rowid, terms) values (?, ?)",
                               (number if dense else version_id * 1000 + chunk, terms))
            connection.commit()
        if merged:
            connection.execute("insert into version_search(version_search) values('optimize')")
            connection.commit()
        return connection.execute("select sum(pgsize) from dbstat "
                                  "where name like 'version_search%'").fetchone()[0]


def per_version_size(texts: list[tuple[int, str, str]], folder: Path, tokens) -> int:
    """Bytes of an FTS5 index without positions, one row per version (row id = version id) holding
    `tokens(terms)`, one version per transaction as a crawl adds them."""
    from storage.search import SQLITE_INDEX, search_terms
    path = folder / "fts.sqlite"
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute(SQLITE_INDEX.format(table="version_search"))
        for version_id, title, body in texts:
            connection.execute("insert into version_search(rowid, terms) values (?, ?)",
                               (version_id, tokens(search_terms(f"{title}\n{body}"))))
            connection.commit()
        return connection.execute("select sum(pgsize) from dbstat "
                                  "where name like 'version_search%'").fetchone()[0]


def variants(db_file: Path) -> None:
    """The search index under FTS_VARIANTS and the classification JSON compressed."""
    from storage.search import chunks, search_terms
    texts = stored_texts(db_file)
    parts = [(version_id, n, part) for version_id, title, body in texts
             for n, part in enumerate(chunks(search_terms(f"{title}\n{body}")))]
    print(f"{len(texts)} versions, {sum(len(b.encode()) for _, _, b in texts) / 1e6:.2f} MB of text, "
          f"{len(parts)} chunks")
    with tempfile.TemporaryDirectory(prefix="policywatch-fts-") as tmp:
        for name, (options, pgsz, dense, merged) in FTS_VARIANTS.items():
            size = fts_size(parts, Path(tmp), options, pgsz, dense, merged)
            print(f"  search index, {name:32} {size / 1e6:8.3f} MB")
        from storage.search import index_terms, pairs
        for name, tokens in (("terms only (no phrases)", " ".join),
                             ("terms and pairs (since 0016)", index_terms),
                             ("pairs only", lambda terms: " ".join(pairs(terms)))):
            size = per_version_size(texts, Path(tmp), tokens)
            print(f"  search index per version, detail=none, {name:28} {size / 1e6:8.3f} MB")
    by_id = {version_id: body.encode("utf-8") for version_id, _, body in texts}
    from storage.compression import unpack
    with sqlite3.connect(db_file) as connection:  # kept compressed since migration 0015
        rows = [(version_id, unpack(stored) if stored else b"") for version_id, stored in
                connection.execute("select id, classification_z from versions")]
    alone = sum(len(zstandard.compress(json, 3)) for _, json in rows)
    against = sum(len(zstandard.ZstdCompressor(level=3, dict_data=zstandard.ZstdCompressionDict(
        by_id[version_id], dict_type=zstandard.DICT_TYPE_RAWCONTENT)).compress(json)) if by_id[version_id]
        else len(zstandard.compress(json, 3)) for version_id, json in rows)
    print(f"  classification JSON {sum(len(j) for _, j in rows) / 1e6:.3f} MB; zstd-3 {alone / 1e6:.3f} MB; "
          f"zstd-3 against the version's text {against / 1e6:.3f} MB")


def compression_cpu(db_file: Path, rounds: int = 3) -> None:
    """ms of CPU per snapshot to compress the store's plain snapshots three ways (best round)."""
    from storage.compression import Base, pack, pack_against, references, unpack
    with sqlite3.connect(db_file) as connection:
        rows = connection.execute(
            "select s.content, v.text_z, i.source_id from snapshots s join versions v on "
            "v.snapshot_id = s.id join instruments i on i.id = v.instrument_id group by s.id "
            "order by s.id").fetchall()
    pages = [(unpack(content), unpack(text_z), source) for content, text_z, source in rows
             if references(content) is None]
    if not pages:
        return
    bases: dict[str, tuple[bytes, bytes]] = {}  # source: its first page stored against its text, the text
    for body, text, source in pages:
        bases.setdefault(source, (pack_against(body, text), text))
    ways = {
        "alone": lambda body, text, source: pack(body),
        "against the text": lambda body, text, source: pack_against(body, text),
        "against the text and the base page, read back": lambda body, text, source: pack_against(
            body, text, Base(1, 1, unpack(*bases[source]))),
    }
    for name, way in ways.items():
        best = float("inf")
        for _ in range(rounds):
            started = time.process_time()
            for body, text, source in pages:
                way(body, text, source)
            best = min(best, time.process_time() - started)
        print(f"  compressing a snapshot {name:48} {1000 * best / len(pages):.2f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.01)
    parser.add_argument("--port", type=int, default=18180)
    parser.add_argument("--tree", type=Path, action="append", help="a policywatch tree (repeatable)")
    parser.add_argument("--keep", type=Path, help="copy the stores into this folder")
    parser.add_argument("--variants", type=Path, metavar="STORE", help="measure what else could shrink")
    args = parser.parse_args()
    if args.variants:
        variants(args.variants)
        compression_cpu(args.variants)
        return
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
