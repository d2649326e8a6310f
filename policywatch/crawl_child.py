"""The crawl child: one source checked in a process of its own, as the daemon runs it.

    python -m policywatch.crawl_child < request.json > report.json

Scrapy's reactor cannot restart inside one process, so the daemon starts one child per check,
forked from a fork server that has imported the crawl once (`policywatch.forking`,
`run_forked` below); run as a module, as above, it is the same child in a new interpreter. It
hands over what the child needs as one JSON object on stdin (`CrawlRequest`: the store URL,
the crawl settings, the source's validated declaration and its file name), so that the child
reads no configuration and parses no catalogue; the child answers with one JSON object on
stdout (`CrawlReport`: the run id, the outcome counts per source, the problems met), or, when
it fails, `{"error": "<one line>"}` and exit status 1. Everything else the child says (Scrapy's
log, a traceback) goes to stderr; a fault of the store (`StoreError`: damaged, busy, read-only,
full) is its one line only, with no traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from crawlers.catalogue import Source
from policywatch.config import CrawlSettings

if TYPE_CHECKING:
    from policywatch.crawling import CrawlSummary

CHILD_MODULE = "policywatch.crawl_child"


@dataclass(frozen=True)
class CrawlRequest:
    """What the daemon hands a crawl child."""

    store_url: str
    crawl: CrawlSettings
    source: Source
    declaration_file: str

    def to_json(self) -> str:
        return json.dumps({"store": self.store_url, "crawl": asdict(self.crawl),
                           "source": self.source.model_dump(mode="json"),
                           "declaration_file": self.declaration_file})

    @classmethod
    def from_json(cls, text: str) -> CrawlRequest:
        data = json.loads(text)
        return cls(data["store"], CrawlSettings(**data["crawl"]),
                   Source.model_validate(data["source"]), data["declaration_file"])


@dataclass(frozen=True)
class CrawlProblem:
    """One problem a crawl met, as recorded in the store."""

    source: str
    kind: str
    url: str
    message: str


@dataclass(frozen=True)
class CrawlReport:
    """What a crawl child did: its run, the outcome counts per source, the problems."""

    run_id: int
    counts: dict[str, dict[str, int]]
    problems: tuple[CrawlProblem, ...] = ()

    @classmethod
    def from_summary(cls, summary: CrawlSummary) -> CrawlReport:
        return cls(summary.run_id,
                   {source: dict(counts) for source, counts in summary.per_source.items()},
                   tuple(CrawlProblem(*problem) for problem in summary.problems))

    def to_json(self) -> str:
        return json.dumps({"run_id": self.run_id, "counts": self.counts,
                           "problems": [asdict(problem) for problem in self.problems]})

    @classmethod
    def from_json(cls, text: str) -> CrawlReport:
        """The report in a child's stdout; ValueError when there is none."""
        try:
            data = json.loads(text)
            return cls(int(data["run_id"]),
                       {source: {outcome: int(n) for outcome, n in counts.items()}
                        for source, counts in data["counts"].items()},
                       tuple(CrawlProblem(**problem) for problem in data["problems"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"the crawl child's report is not a report: {exc!r}"[:300]) from None


def run_request(request: CrawlRequest) -> CrawlReport:
    """Crawl the request's source once into its store (the store is migrated by whoever started
    the child)."""
    from policywatch.crawling import run_crawl  # Scrapy is imported only here
    from storage.database import Store

    store = Store(request.store_url, upgrade=False)
    try:
        summary = run_crawl(store, [request.source], {request.source.id: request.declaration_file},
                            None, request.crawl, progress=False)
    finally:
        store.close()
    return CrawlReport.from_summary(summary)


def failure_to_json(error: BaseException) -> str:
    """A child's failure as its one JSON object: `{"error": "<kind>: <first line>"}`."""
    lines = str(error).strip().splitlines()
    kind = type(error).__name__
    return json.dumps({"error": f"{kind}: {lines[0]}" if lines else kind})


def read_failure(text: str) -> str | None:
    """The one-line error a failed child wrote on stdout, if it got that far."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return str(data["error"]) if isinstance(data, dict) and "error" in data else None


def is_store_fault(error: BaseException) -> bool:
    """Whether `error` is the store's one-line StoreError (looked up among the loaded modules:
    a child that failed before opening the store has not imported it)."""
    database = sys.modules.get("storage.database")
    return database is not None and isinstance(error, database.StoreError)


def answer(request_text: str) -> tuple[int, str]:
    """Crawl what the request asks: the exit status and the one JSON line for stdout. Everything
    the crawl prints goes to stderr; on failure the traceback goes there too (none for a fault of
    the store, which says all in its line)."""
    try:
        request = CrawlRequest.from_json(request_text)
        with contextlib.redirect_stdout(sys.stderr):
            report = run_request(request)
    except Exception as exc:  # the process boundary: whatever went wrong is reported
        if not is_store_fault(exc):
            traceback.print_exc()
        return 1, failure_to_json(exc)
    return 0, report.to_json()


def run_forked(request_text: str) -> None:
    """Crawl what the request asks and write the report on stdout (nothing else goes there); on
    failure one line of it to stdout and the exit status is 1. The daemon's forked children are
    handed the request as an argument (`policywatch.forking`); `main` reads it on stdin."""
    code, line = answer(request_text)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if code:
        sys.exit(code)


def main() -> None:
    run_forked(sys.stdin.read())


if __name__ == "__main__":
    main()
