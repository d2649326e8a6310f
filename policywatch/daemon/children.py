"""Crawl children: start one, hand it its request, wait for its report within a timeout, and stop
it (its whole process group: Scrapy may have started helpers) when it runs too long."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from policywatch.crawl_child import CHILD_MODULE, CrawlReport, CrawlRequest, read_failure

TERMINATE_GRACE = 10.0  # seconds a timed-out child gets between SIGTERM and SIGKILL


@dataclass(frozen=True)
class ChildOutcome:
    """How a crawl child ended: its report, or why there is none."""

    report: CrawlReport | None
    returncode: int | None
    timed_out: bool = False
    error: str = ""  # one line: the child's own, the last it wrote on stderr, or its exit status


def spawn_crawl_child() -> subprocess.Popen[str]:
    """A crawl child in a session of its own, waiting for its request on stdin."""
    return subprocess.Popen([sys.executable, "-m", CHILD_MODULE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def await_crawl_child(child: subprocess.Popen[str], request: CrawlRequest,
                      timeout: float) -> ChildOutcome:
    """Hand the child its request and read its report; a child still running after `timeout`
    seconds is stopped (see `terminate`)."""
    try:
        stdout, stderr = child.communicate(request.to_json(), timeout=timeout)
    except subprocess.TimeoutExpired:
        terminate(child)
        return ChildOutcome(None, child.returncode, timed_out=True)
    if child.returncode != 0:  # its own one line, else (it crashed) the last it wrote on stderr
        error = read_failure(stdout) or (stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1]
        return ChildOutcome(None, child.returncode, error=error)
    try:
        return ChildOutcome(CrawlReport.from_json(stdout), child.returncode)
    except ValueError as exc:
        return ChildOutcome(None, child.returncode, error=str(exc))


def signal_group(child: subprocess.Popen[str], signum: int) -> None:
    """Send `signum` to the child's process group, if it still exists."""
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


def terminate(child: subprocess.Popen[str], grace: float = TERMINATE_GRACE) -> None:
    """SIGTERM the child's process group once (Scrapy closes the crawl cleanly; a second SIGTERM
    would not), then SIGKILL it after `grace` seconds; its output is drained meanwhile so that a
    child blocked on a full pipe still ends."""
    signal_group(child, signal.SIGTERM)
    try:
        child.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        signal_group(child, signal.SIGKILL)
        child.communicate()
