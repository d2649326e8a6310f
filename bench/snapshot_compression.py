"""Raw snapshots on disk: zlib (what the store uses) against zstandard, alone, with a per-source
dictionary, and against the previous snapshot of the same page.

    python3 bench/snapshot_compression.py [--repeat 3]

Three sets, each measured for stored bytes and CPU to compress and to decompress:

1. every real page of ../shared/realpages/ compressed alone;
2. the real pages of the sites with at least two pages, each compressed with a dictionary made of
   the site's other pages (what a per-source dictionary trained on earlier snapshots gives at
   best: the source's template is in it);
3. a page of the comparison web (bench/bigweb.py) re-fetched 20 times with rotating noise (tokens,
   news order, counters, dates), each snapshot compressed alone and with the previous snapshot of
   the same page as the dictionary (a delta);
4. every real page compressed against the main text extracted from it (what the store does: the
   version already holds that text);
5. the real pages of the sites with at least two pages, each against its text and the site's first
   page (the store's base page of a source), the first page against its text alone.

Needs `zstandard` (`pip install zstandard`); it is not a dependency of the product.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REALPAGES = ROOT.parent / "shared" / "realpages"

from bench.bigweb import BigWeb  # noqa: E402
from crawlers.extract import extract_document  # noqa: E402
from texts.document import ExtractionError  # noqa: E402


def real_pages() -> dict[str, list[bytes]]:
    by_site: dict[str, list[bytes]] = defaultdict(list)
    for line in (REALPAGES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        file, site = line.split("\t")[:2]
        by_site[site].append((REALPAGES / file).read_bytes())
    return by_site


def main_text(page: bytes) -> bytes:
    try:
        return extract_document(page, "text/html").text.encode("utf-8")
    except ExtractionError:
        return b""


def measure(pairs: list[tuple[bytes, bytes | None]], method: str, repeat: int) -> tuple[int, float, float]:
    """(stored bytes, ms CPU per compression, ms CPU per decompression) of `method` over (page,
    dictionary or None) pairs, best of `repeat`."""
    compressors: list[tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = []
    for _, dictionary in pairs:
        if method.startswith("zlib"):
            level = int(method.split("-")[1])
            compressors.append((lambda b, lv=level: zlib.compress(b, lv), zlib.decompress))
            continue
        level = int(method.split("-")[1])
        shared = (zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
                  if dictionary and "dict" in method else None)
        compressor = zstandard.ZstdCompressor(level=level, dict_data=shared) if shared \
            else zstandard.ZstdCompressor(level=level)
        decompressor = zstandard.ZstdDecompressor(dict_data=shared) if shared \
            else zstandard.ZstdDecompressor()
        compressors.append((compressor.compress, decompressor.decompress))
    best_in, best_out, size = float("inf"), float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        packed = [squeeze(page) for (page, _), (squeeze, _) in zip(pairs, compressors, strict=True)]
        middle = time.process_time()
        for blob, (_, expand), (page, _) in zip(packed, compressors, pairs, strict=True):
            assert expand(blob) == page
        ended = time.process_time()
        best_in, best_out = min(best_in, middle - started), min(best_out, ended - middle)
        size = sum(map(len, packed))
    return size, 1000 * best_in / len(pairs), 1000 * best_out / len(pairs)


def table(title: str, pairs: list[tuple[bytes, bytes | None]], methods: list[str], repeat: int) -> str:
    raw = sum(len(page) for page, _ in pairs)
    lines = [f"### {title}: {len(pairs)} snapshots, {raw / 1e6:.2f} MB raw", "",
             "| method | stored MB | ratio | ms CPU to compress | ms CPU to decompress |",
             "|---|---|---|---|---|"]
    for method in methods:
        size, packing, unpacking = measure(pairs, method, repeat)
        lines.append(f"| {method} | {size / 1e6:.3f} | {raw / size:.1f}× | {packing:.2f} | {unpacking:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    by_site = real_pages()
    alone = [(page, None) for pages in by_site.values() for page in pages]
    sited = [(page, b"".join(pages[:i] + pages[i + 1:]))
             for pages in by_site.values() if len(pages) > 1 for i, page in enumerate(pages)]
    web = BigWeb(hosts=1, pages=3, latency=0)
    epochs = []
    for noise in range(1, 21):
        web.noise = noise
        epochs.append(web.render(1).encode())
    deltas = [(page, epochs[i - 1] if i else None) for i, page in enumerate(epochs)]
    print(table("Real pages, each alone", alone, ["zlib-6", "zlib-9", "zstd-3", "zstd-19"], args.repeat))
    print(table("Real pages of sites with two or more, with the site's other pages as dictionary",
                sited, ["zlib-6", "zstd-3", "zstd-3-dict", "zstd-19-dict"], args.repeat))
    against_text = [(page, main_text(page)) for page, _ in alone]
    against_base = [(page, (pages[0] if i else b"") + main_text(page))
                    for pages in by_site.values() if len(pages) > 1 for i, page in enumerate(pages)]
    print(table("One page re-fetched 20 times, with the previous snapshot as dictionary", deltas,
                ["zlib-6", "zstd-3", "zstd-3-dict", "zstd-19-dict"], args.repeat))
    print(table("Real pages, each against its extracted text", against_text,
                ["zstd-3", "zstd-3-dict"], args.repeat))
    print(table("Real pages of sites with two or more, against their text and the site's first page",
                against_base, ["zstd-3", "zstd-3-dict"], args.repeat))


if __name__ == "__main__":
    main()
