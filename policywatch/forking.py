"""Crawls in processes forked from a server that imported the crawl once.

A crawl needs a process of its own (Scrapy's Twisted reactor starts once per process), but most
of a new interpreter's work would be importing Scrapy, SQLAlchemy and the project. So the
daemon's checks and the demo's crawls are forked from a fork server (`multiprocessing`'s
forkserver start method) that imported all that once: a crawl costs a fork, not an
interpreter's start-up. No reactor is installed before the fork, so each child starts the
reactor of its own crawl. A child runs in a process group of its own (so that it can be stopped
with the helpers it started) and writes its stdout and stderr to two files of a folder made for
it, read once it has ended.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path

from storage.runs import pid_alive

TERMINATE_GRACE = 10.0  # seconds a child gets between SIGTERM and SIGKILL

# What a crawl imports, imported once by the fork server. Importing these installs no reactor.
PRELOAD = [
    "policywatch.cli",
    "policywatch.cli.app",
    "policywatch.crawl_child",
    "policywatch.crawling",
    "crawlers.pipelines",
    "crawlers.spiders.declared",
    "crawlers.middlewares",
    "crawlers.extensions",
    "crawlers.extract",
    "trafilatura",  # imported by a crawl at its first new or changed page (0.25 s)
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
    (or `start_fork_server`) and stops when the process that started it does."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the fork server now, so that the first child does not wait for its imports; and
    remove the folders of children whose parent died without removing them (a killed daemon)."""
    remove_orphaned_folders()
    fork_server()
    from multiprocessing import forkserver

    forkserver.ensure_running()


FOLDER_PREFIX = "policywatch-child-"  # then the parent's pid, a dash and a random part


def remove_orphaned_folders(under: Path | None = None) -> int:
    """Remove the children's folders (under the temporary directory) whose parent process is
    gone; how many."""
    removed = 0
    for folder in Path(under or tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


@dataclass
class ForkedChild:
    """One forked child, and the folder its stdout and stderr go to."""

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

    def signal_group(self, signum: int) -> None:
        """Send `signum` to the child's process group (to the child itself when it has not made
        its group yet), if it still exists."""
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def terminate(self, grace: float = TERMINATE_GRACE) -> None:
        """SIGTERM the child's process group once (Scrapy closes the crawl cleanly; a second
        SIGTERM would not), then SIGKILL it after `grace` seconds."""
        self.signal_group(signal.SIGTERM)
        if not self.wait(grace):
            self.signal_group(signal.SIGKILL)
            self.wait(None)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def start_forked(target: Callable[..., None], *args: object,
                 env: dict[str, str] | None = None) -> ForkedChild:
    """`target(*args)` in a child forked from the fork server (`target` a module-level function,
    its arguments picklable), with `env` as its environment when given; its exit status is
    `target`'s SystemExit code, 0 when it returns, 1 when it raises."""
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
    process = fork_server().Process(target=_in_child, args=(target, str(folder), env, args),
                                    name=f"policywatch {target.__name__}")
    process.start()
    return ForkedChild(process, folder)


def _in_child(target: Callable[..., None], folder: str, env: dict[str, str] | None,
              args: tuple[object, ...]) -> None:
    os.setpgid(0, 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        opened = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    if env is not None:
        os.environ.clear()  # the same mapping object: code that bound os.environ sees the new one
        os.environ.update(env)
    target(*args)
