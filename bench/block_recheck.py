"""What reading an unchanged page costs with and without its remembered block, and what the
checks of a new or changed page (error page, coverage) add.

    python3 bench/block_recheck.py [--repeat 20]

The HTML instrument pages of the loopback regulator web (tests/web/), extracted at noise 1 to
remember their blocks, then read at noise 2 (every byte of furniture changed, the text not): per
page, the CPU time (process time, best of `--repeat`) of full extraction (`extract_with_block`),
of the block re-check (`unchanged_block`), of the error-page check and of the coverage check.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawlers.decoding import decode_body  # noqa: E402
from crawlers.error_pages import error_page  # noqa: E402
from crawlers.extract import extract_with_block, unchanged_block  # noqa: E402
from crawlers.visible_text import page_coverage_warning  # noqa: E402
from tests.web.sites import regulator_web  # noqa: E402


def cpu_ms(repeat: int, work: Callable[..., object], *args: object) -> float:
    """The best process time of `repeat` calls of `work(*args)`, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work(*args)
        best = min(best, time.process_time() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    web = regulator_web().start()
    rows = []
    try:
        for site in web.sites:
            web.set(epoch=1, noise=1)
            before = web.routes(site)
            web.set(epoch=1, noise=2)
            after = web.routes(site)
            for path, page in before.items():
                noisy = after.get(path)
                if noisy is None or page.status != 200 or "html" not in page.content_type:
                    continue
                try:
                    extracted, block = extract_with_block(page.body, page.content_type)
                except ValueError:
                    continue
                if block is None or not unchanged_block(noisy.body, page.content_type, block):
                    continue
                html, _ = decode_body(noisy.body, page.content_type)
                rows.append((
                    cpu_ms(repeat, extract_with_block, noisy.body, page.content_type),
                    cpu_ms(repeat, unchanged_block, noisy.body, page.content_type, block),
                    cpu_ms(repeat, error_page, html),
                    cpu_ms(repeat, page_coverage_warning, html, extracted.text)))
    finally:
        web.stop()
    print(f"{len(rows)} unchanged HTML pages, CPU ms per page (median over pages, best of {repeat}):")
    print("| full extraction | block re-check | error-page check | coverage check |")
    print("|---|---|---|---|")
    print("| " + " | ".join(f"{statistics.median(column):.2f}" for column in zip(*rows, strict=True))
          + " |")


if __name__ == "__main__":
    main()
