"""Progress of a crawl on standard error (`POLICYWATCH_PROGRESS`).

`policywatch crawl` shows it; crawls nobody watches (the daemon's, a Scrapyd node's) leave it off.
On a terminal it is a live bar per source group (jurisdiction): sources done of the group's
sources, with rate and ETA, and the documents recorded so far. Elsewhere (a log, a pipe) it is one
plain line per finished source. How many documents a listing leads to is only known once it has
been read, so the bars measure sources, whose number is known from the start, and documents are
counted, never given a percentage.

rich draws it: one console for a live multi-row display that degrades to nothing on a
non-terminal, and the same library renders tables; tqdm draws one bar per stream and would need
hand-written code for the grouped rows.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from crawlers.items import EntryPageSeen
from crawlers.signals import item_recorded
from texts.vocabulary import ERROR, GONE, OUTCOMES

if TYPE_CHECKING:  # rich is imported when a crawl shows its progress, not by every crawl
    from rich.console import Console
    from rich.progress import TaskID

POLL_SECONDS = 0.2  # how often finished sources are looked for
FAILED_OUTCOMES = (ERROR, GONE)


@dataclass
class SourceTally:
    """What the crawl did so far for one source."""

    group: str
    requests: int = 0  # scheduled so far (entry pages, documents, redirects)
    outcomes: Counter = field(default_factory=Counter)
    done: bool = False
    stopped: bool = False  # the crawl was shut down before this source was through

    @property
    def documents(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failures(self) -> int:
        return sum(self.outcomes[outcome] for outcome in FAILED_OUTCOMES)


class CrawlTally:
    """Per-source counts of a crawl and which sources are finished (pure bookkeeping)."""

    def __init__(self, groups: dict[str, str]) -> None:
        """`groups`: source id → its group."""
        self.sources = {source_id: SourceTally(group) for source_id, group in groups.items()}

    def groups(self) -> dict[str, list[str]]:
        """Group → its source ids, in the order given."""
        grouped: dict[str, list[str]] = {}
        for source_id, tally in self.sources.items():
            grouped.setdefault(tally.group, []).append(source_id)
        return grouped

    def scheduled(self, source_id: str) -> None:
        if source_id in self.sources:
            self.sources[source_id].requests += 1

    def recorded(self, source_id: str, outcome: str) -> None:
        if source_id in self.sources and outcome in OUTCOMES:
            self.sources[source_id].outcomes[outcome] += 1

    def settle(self, busy: set[str]) -> list[str]:
        """Mark done the sources that had requests and have none left (`busy`: the sources with
        a request still queued or in flight); return those newly done."""
        finished = [source_id for source_id, tally in self.sources.items()
                    if not tally.done and tally.requests and source_id not in busy]
        for source_id in finished:
            self.sources[source_id].done = True
        return finished

    def settle_all(self, stopped: bool) -> list[str]:
        """The crawl ended (`stopped`: shut down before its end): every source not yet done is,
        whatever it got to."""
        finished = [source_id for source_id, tally in self.sources.items() if not tally.done]
        for source_id in finished:
            self.sources[source_id].done = True
            self.sources[source_id].stopped = stopped
        return finished

    def done_count(self, source_ids: list[str] | None = None) -> int:
        """How many sources were checked to the end (a stopped one was not)."""
        return sum(self.sources[s].done and not self.sources[s].stopped
                   for s in source_ids or self.sources)


def source_line(tally: CrawlTally, source_id: str, position: int, width: int) -> str:
    """The plain line of the source that finished `position`-th: what it gave."""
    source = tally.sources[source_id]
    total = len(tally.sources)
    counts = ", ".join(f"{outcome} {n}" for outcome, n in source.outcomes.items() if n)
    return (f"[{position:>{len(str(total))}}/{total}] {source_id:<{width}}  "
            f"{source.documents} document(s){': ' + counts if counts else ''}"
            f"{' (stopped before the end)' if source.stopped else ''}")


class Display(Protocol):
    def update(self, tally: CrawlTally, finished: list[str]) -> None: ...

    def close(self) -> None: ...


class PlainLines:
    """One line per finished source, for logs and pipes."""

    def __init__(self, tally: CrawlTally) -> None:
        self.width = max(map(len, tally.sources), default=0)
        self.printed = 0

    def update(self, tally: CrawlTally, finished: list[str]) -> None:
        for source_id in finished:
            self.printed += 1
            print(source_line(tally, source_id, self.printed, self.width), file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        """Nothing to take down."""


class LiveBars:
    """A live bar per source group on the terminal, taken down when the crawl ends."""

    def __init__(self, tally: CrawlTally, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self.bars = RichProgress(
            TextColumn("{task.description:<6}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("sources · {task.fields[documents]} document(s){task.fields[rate]} ·"),
            TimeElapsedColumn(), TextColumn("elapsed · ETA"), TimeRemainingColumn(),
            console=console, transient=False)
        self.tasks: dict[str, tuple[TaskID, list[str]]] = {}
        groups = tally.groups()
        if len(groups) > 1:
            groups = {**groups, "all": list(tally.sources)}
        for group, source_ids in groups.items():
            task = self.bars.add_task(group, total=len(source_ids), documents=0, rate="")
            self.tasks[group] = (task, source_ids)
        self.bars.start()

    def update(self, tally: CrawlTally, finished: list[str]) -> None:
        for task, source_ids in self.tasks.values():
            documents = sum(tally.sources[s].documents for s in source_ids)
            shown = self.bars.tasks[task]
            elapsed = (shown.finished_time if shown.finished else shown.elapsed) or 0.0
            rate = f" · {documents / elapsed:.1f}/s" if elapsed > 1 else ""
            self.bars.update(task, completed=tally.done_count(source_ids), documents=documents,
                             rate=rate)

    def close(self) -> None:
        self.bars.stop()


class Progress:
    """The Scrapy extension: counts what the crawl schedules and records, and shows it."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("POLICYWATCH_PROGRESS"):
            raise NotConfigured
        self.crawler = crawler
        self.tally = CrawlTally({})
        self.display: Display | None = None
        self.poll = LoopingCall(self.settle)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.item_recorded, signal=item_recorded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        declared = getattr(spider, "declared", {})
        self.tally = CrawlTally({sid: source.jurisdiction for sid, source in declared.items()})
        from rich.console import Console

        console = Console(stderr=True)
        self.display = LiveBars(self.tally, console) if console.is_terminal \
            else PlainLines(self.tally)
        self.poll.start(POLL_SECONDS, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.poll.running:
            self.poll.stop()
        if self.display is not None:
            self.display.update(self.tally, self.tally.settle_all(stopped=reason != "finished"))
            self.display.close()

    def request_scheduled(self, request: Request) -> None:
        self.tally.scheduled(request.meta.get("source", ""))

    def item_recorded(self, item: Any, outcome: str) -> None:
        if not isinstance(item, EntryPageSeen):
            self.tally.recorded(item.source_id, outcome)

    def busy_sources(self) -> set[str] | None:
        """Sources with a request in the downloader or its answer being handled; None while the
        scheduler holds requests (whose sources are not known) or discovery has not begun."""
        engine, spider = self.crawler.engine, self.crawler.spider
        if engine is None or not getattr(spider, "discovery_started", True):
            return None
        if engine.scheduler is not None and engine.scheduler.has_pending_requests():
            return None
        slot = engine.scraper.slot
        in_flight = [*engine.downloader.active, *(slot.active if slot else ()),
                     *(request for _, request, _ in (slot.queue if slot else ()))]
        return {request.meta.get("source", "") for request in in_flight}

    def settle(self) -> None:
        busy = self.busy_sources()
        if self.display is not None:
            self.display.update(self.tally, [] if busy is None else self.tally.settle(busy))
