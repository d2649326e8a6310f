"""Turns on shared hosts: a check starts only when no running check of this daemon fetches from
one of its hosts (`planning.may_start`), else it waits for its turn. Each check is one crawl
that keeps the per-host concurrency and delay; taking turns keeps them across checks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from policywatch.daemon.planning import may_start

WAKE_EVERY = 1.0  # seconds: a waiting check also looks at the stop request this often


class HostTurns:
    """The hosts of the checks running now; `turn` waits until a check's hosts are free."""

    def __init__(self) -> None:
        self._running: dict[int, frozenset[str]] = {}
        self._changed = threading.Condition()
        self._next = 0

    def busy(self) -> list[frozenset[str]]:
        """The hosts of each check that holds its turn."""
        with self._changed:
            return list(self._running.values())

    @contextmanager
    def turn(self, hosts: frozenset[str], stopping: threading.Event) -> Iterator[bool]:
        """Hold `hosts` for the check run in the block; yields False, holding nothing, when
        `stopping` is set before the turn came."""
        token = self._take(hosts, stopping)
        if token is None:
            yield False
            return
        try:
            yield True
        finally:
            with self._changed:
                del self._running[token]
                self._changed.notify_all()

    def _take(self, hosts: frozenset[str], stopping: threading.Event) -> int | None:
        """Wait until `hosts` are free and hold them (their token), or None once stopping."""
        with self._changed:
            while not may_start(hosts, self._running.values()):
                if stopping.is_set():
                    return None
                self._changed.wait(WAKE_EVERY)
            token = self._next
            self._next += 1
            self._running[token] = hosts
            return token

    def wake(self) -> None:
        """Wake every waiting check (the daemon is stopping)."""
        with self._changed:
            self._changed.notify_all()
