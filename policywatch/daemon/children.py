"""Crawl children: start one, wait for its report within a timeout, and stop it (its whole process
group: Scrapy may have started helpers) when it runs too long.

Each child is forked from the fork server that imported the crawl once (`policywatch.forking`),
runs `policywatch.crawl_child` on its request, and writes its report on stdout.
"""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.crawl_child import CrawlReport, CrawlRequest, read_failure, run_forked
from policywatch.forking import ForkedChild, start_forked


@dataclass(frozen=True)
class ChildOutcome:
    """How a crawl child ended: its report, or why there is none."""

    report: CrawlReport | None
    returncode: int | None
    timed_out: bool = False
    error: str = ""  # one line: the child's own, the last it wrote on stderr, or its exit status


def start_crawl_child(request: CrawlRequest) -> ForkedChild:
    """A crawl child, forked, in a process group of its own, crawling the request's source."""
    return start_forked(run_forked, request.to_json())


def await_crawl_child(child: ForkedChild, timeout: float) -> ChildOutcome:
    """Wait for the child's report; a child still running after `timeout` seconds is stopped
    (SIGTERM to its group, SIGKILL after `policywatch.forking.TERMINATE_GRACE` seconds)."""
    if not child.wait(timeout):
        child.terminate()
        child.outputs()
        return ChildOutcome(None, child.returncode, timed_out=True)
    stdout, stderr = child.outputs()
    if child.returncode != 0:  # its own one line, else (it crashed) the last it wrote on stderr
        error = read_failure(stdout) or (stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1]
        return ChildOutcome(None, child.returncode, error=error)
    try:
        return ChildOutcome(CrawlReport.from_json(stdout), child.returncode)
    except ValueError as exc:
        return ChildOutcome(None, child.returncode, error=str(exc))
