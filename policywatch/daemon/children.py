"""Crawl children: start one, wait for its report within a timeout, and stop it (its whole process
group: Scrapy may have started helpers) when it runs too long.

A check needs a process of its own (Scrapy's Twisted reactor starts once per process), but most
of a new interpreter's work would be importing Scrapy, SQLAlchemy and the project. So the
children are forked from a fork server (`multiprocessing`'s forkserver start method) that has
imported all that once: a child costs a fork, not an interpreter's start-up. No reactor is
installed before the fork, so each child starts the reactor of its own crawl. The child writes
its report (`policywatch.crawl_child`) and its log to two files of a folder made for it, read
once it has ended.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path

from policywatch.crawl_child import CrawlReport, CrawlRequest, read_failure, run_forked

TERMINATE_GRACE = 10.0  # seconds a timed-out child gets between SIGTERM and SIGKILL

# What a crawl imports, imported once by the fork server. Importing these installs no reactor.
PRELOAD = [
    "policywatch.crawl_child",
    "policywatch.crawling",
    "crawlers.pipelines",
    "crawlers.spiders.declared",
    "crawlers.middlewares",
    "crawlers.extensions",
    "crawlers.extract",
    "paradigms.classifier",
    "storage.database",
    "storage.versions",
    "scrapy.crawler",
    "scrapy.core.engine",
    "scrapy.core.scraper",
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.httpcompression",
    "scrapy.downloadermiddlewares.redirect",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.extensions.throttle",
    "twisted.internet.asyncioreactor",
]


def fork_server() -> ForkServerContext:
    """The fork server's context, its preload list set; the server starts with the first child
    (or `start_fork_server`) and stops when the daemon does."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the fork server now, so that the first check does not wait for its imports."""
    fork_server()
    from multiprocessing import forkserver

    forkserver.ensure_running()


@dataclass(frozen=True)
class ChildOutcome:
    """How a crawl child ended: its report, or why there is none."""

    report: CrawlReport | None
    returncode: int | None
    timed_out: bool = False
    error: str = ""  # one line: the child's own, the last it wrote on stderr, or its exit status


@dataclass
class CrawlChild:
    """One running crawl child, and the folder its report and log go to."""

    process: ForkServerProcess
    folder: Path = field(repr=False)

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for the child to end; whether it has."""
        self.process.join(timeout)
        return self.process.exitcode is not None

    def outputs(self) -> tuple[str, str]:
        """What the child wrote on stdout and stderr; the folder is removed."""
        texts = tuple(_read(self.folder / name) for name in ("stdout", "stderr"))
        shutil.rmtree(self.folder, ignore_errors=True)
        return texts[0], texts[1]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def start_crawl_child(request: CrawlRequest) -> CrawlChild:
    """A crawl child forked from the fork server, in a process group of its own, crawling the
    request's source."""
    folder = Path(tempfile.mkdtemp(prefix="policywatch-crawl-"))
    process = fork_server().Process(target=run_forked, args=(request.to_json(), str(folder)),
                                    name="policywatch crawl child")
    process.start()
    return CrawlChild(process, folder)


def await_crawl_child(child: CrawlChild, timeout: float) -> ChildOutcome:
    """Wait for the child's report; a child still running after `timeout` seconds is stopped
    (see `terminate`)."""
    if not child.wait(timeout):
        terminate(child)
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


def signal_group(child: CrawlChild, signum: int) -> None:
    """Send `signum` to the child's process group (to the child itself when it has not made its
    group yet), if it still exists."""
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass


def terminate(child: CrawlChild, grace: float = TERMINATE_GRACE) -> None:
    """SIGTERM the child's process group once (Scrapy closes the crawl cleanly; a second SIGTERM
    would not), then SIGKILL it after `grace` seconds."""
    signal_group(child, signal.SIGTERM)
    if not child.wait(grace):
        signal_group(child, signal.SIGKILL)
        child.wait(None)
