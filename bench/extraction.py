"""Main-content extraction on real saved pages: pass rate, failures and CPU cost per approach.

    python3 bench/extraction.py                      # the product's automatic extraction
    python3 bench/extraction.py --approach all       # and each library alone, for comparison
    python3 bench/extraction.py --repeat 3 --failures

Reads every page listed in `../shared/realpages/MANIFEST.tsv` (never copied into the
repository). A page passes when every `must_contain` phrase is in the extracted text and no
`must_not_contain` string is, compared with all whitespace removed (NFC), as the folder's
README says. CPU is `time.process_time()` around one extraction, the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from crawlers.extract import extract_document, extract_with_block, unchanged_block  # noqa: E402
from texts.document import ExtractionError  # noqa: E402

REALPAGES = ROOT.parent / "shared" / "realpages"

Extractor = Callable[[bytes, str], str]


@dataclass(frozen=True)
class Page:
    """One MANIFEST row: the saved file and the phrases its main text must and must not hold."""

    file: str
    kind: str
    must_contain: tuple[str, ...]
    must_not_contain: tuple[str, ...]

    @property
    def content_type(self) -> str:
        return "application/pdf" if self.file.endswith(".pdf") else "text/html"


def _phrases(cell: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in cell.split(" || ") if phrase.strip())


def load_manifest(folder: Path = REALPAGES) -> list[Page]:
    """The pages of the folder's MANIFEST.tsv, in its order."""
    with (folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Page(row["file"], row["kind"], _phrases(row["must_contain"]),
                     _phrases(row["must_not_contain"] or "")) for row in rows]


def _squeezed(text: str) -> str:
    return "".join(unicodedata.normalize("NFC", text).split())


def failure_reason(page: Page, text: str) -> str | None:
    """Why the extracted text fails the page's phrases, or None when it passes."""
    if not text.strip():
        return "no text"
    squeezed = _squeezed(text)
    missing = [p for p in page.must_contain if _squeezed(p) not in squeezed]
    chrome = [p for p in page.must_not_contain if _squeezed(p) in squeezed]
    reasons = [f"missing {p[:60]!r}" for p in missing] + [f"kept chrome {p!r}" for p in chrome]
    return "; ".join(reasons) + f" ({len(text):,} characters kept)" if reasons else None


def product_text(body: bytes, content_type: str) -> str:
    """What policywatch watches on the page with no selector declared."""
    try:
        return extract_document(body, content_type).text
    except ExtractionError:
        return ""


def trafilatura_text(body: bytes, content_type: str) -> str:
    """trafilatura alone, its default settings (precision and recall balanced)."""
    if content_type == "application/pdf":
        return product_text(body, content_type)
    return trafilatura.extract(body, include_comments=False, include_tables=True) or ""


def trafilatura_recall_text(body: bytes, content_type: str) -> str:
    """trafilatura alone, favouring recall (how the MANIFEST's reference phrases were drawn)."""
    if content_type == "application/pdf":
        return product_text(body, content_type)
    return trafilatura.extract(body, include_comments=False, include_tables=True,
                               favor_recall=True) or ""


def readability_text(body: bytes, content_type: str) -> str:
    """readability-lxml alone: its summary HTML turned into text (a bench-only dependency)."""
    from readability import Document

    if content_type == "application/pdf":
        return product_text(body, content_type)
    try:
        summary = Document(body).summary(html_partial=True)
    except Exception:  # readability raises bare errors on pages it cannot score
        return ""
    return lxml_html.fromstring(summary).text_content() if summary.strip() else ""


APPROACHES: dict[str, Extractor] = {
    "policywatch": product_text,
    "trafilatura": trafilatura_text,
    "trafilatura-recall": trafilatura_recall_text,
    "readability-lxml": readability_text,
}


@dataclass(frozen=True)
class Outcome:
    page: Page
    reason: str | None
    cpu_ms: float


def run(extractor: Extractor, pages: list[Page], folder: Path, repeat: int = 1) -> list[Outcome]:
    """Extract every page; keep the failure reason and the best CPU time of `repeat` runs."""
    outcomes = []
    for page in pages:
        body = (folder / page.file).read_bytes()
        best = float("inf")
        text = ""
        for _ in range(repeat):
            start = time.process_time()
            text = extractor(body, page.content_type)
            best = min(best, time.process_time() - start)
        outcomes.append(Outcome(page, failure_reason(page, text), best * 1000))
    return outcomes


def recheck_cost(pages: list[Page], folder: Path, repeat: int = 1) -> list[float]:
    """CPU ms of re-checking each unchanged HTML page through its remembered block (the best of
    `repeat`); pages where no block was found (full detection on every check) are left out."""
    costs = []
    for page in pages:
        body = (folder / page.file).read_bytes()
        try:
            _, block = extract_with_block(body, page.content_type)
        except ExtractionError:
            continue
        if block is None:
            continue
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            unchanged_block(body, page.content_type, block)
            best = min(best, time.process_time() - start)
        costs.append(best * 1000)
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approach", default="policywatch", choices=[*APPROACHES, "all"])
    parser.add_argument("--folder", type=Path, default=REALPAGES)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--failures", action="store_true", help="list the failing pages")
    args = parser.parse_args(argv)
    if not (args.folder / "MANIFEST.tsv").exists():
        print(f"no MANIFEST.tsv in {args.folder}", file=sys.stderr)
        return 2
    pages = load_manifest(args.folder)
    names = list(APPROACHES) if args.approach == "all" else [args.approach]
    print("| approach | pass | listing pages | CPU ms per page: median | mean | max |")
    print("|---|---|---|---|---|---|")
    failures: dict[str, list[Outcome]] = {}
    for name in names:
        outcomes = run(APPROACHES[name], pages, args.folder, args.repeat)
        failures[name] = [o for o in outcomes if o.reason is not None]
        listings = [o for o in outcomes if o.page.kind == "listing"]
        cpu = [o.cpu_ms for o in outcomes]
        print(f"| {name} | {len(pages) - len(failures[name])} of {len(pages)} | "
              f"{sum(o.reason is None for o in listings)} of {len(listings)} | "
              f"{statistics.median(cpu):.1f} | {statistics.fmean(cpu):.1f} | {max(cpu):.1f} |")
    if "policywatch" in names:
        costs = recheck_cost(pages, args.folder, args.repeat)
        under = sum(cost <= 2.5 for cost in costs)
        print(f"\nre-check of an unchanged page through its block: {len(costs)} pages, CPU ms "
              f"median {statistics.median(costs):.2f}, max {max(costs):.2f}; "
              f"{under} of {len(costs)} within 2.5 ms")
    if args.failures or len(names) == 1:
        for name in names:
            print(f"\n{name}: {len(failures[name])} failing page(s)")
            for outcome in failures[name]:
                print(f"- {outcome.page.file}: {outcome.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
