"""The functions the job store names, and how they reach the runner that does the work.

APScheduler 3 persists a job as a textual reference to a module-level function plus its
arguments, so a job cannot hold the live runner (its scheduler, store, children, stop event).
Instead every job's first argument is the key of its store (`planning.store_key`), and a runner
registers itself under that key while it runs. A registry keyed by store rather than one global
"current runner": each job says which runner it belongs to, so runners on different stores can
share a process without one doing another's work, and a job that fires when no
runner serves its store (it is stopping) does nothing. A fault of the store met by a job is the
runner's one line (`faults.StoreFaults`), never an exception left to the scheduler's traceback.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policywatch.daemon.runner import Runner


class RunnerRegistry:
    """The runners of this process, by store key."""

    def __init__(self) -> None:
        self._runners: dict[str, Runner] = {}
        self._lock = threading.Lock()

    def register(self, runner: Runner) -> None:
        with self._lock:
            self._runners[runner.key] = runner

    def unregister(self, runner: Runner) -> None:
        """Forget `runner` (and only it: another runner registered under its key stays)."""
        with self._lock:
            if self._runners.get(runner.key) is runner:
                del self._runners[runner.key]

    def get(self, key: str) -> Runner | None:
        with self._lock:
            return self._runners.get(key)


RUNNERS = RunnerRegistry()


def check_source(key: str, source_id: str) -> None:
    """Job `check:<source>`."""
    if runner := RUNNERS.get(key):
        runner.faults.guard(f"checking {source_id}", partial(runner.check_source, source_id), None)


def send_digest(key: str, subscription: str) -> None:
    """Job `digest:<subscription>`."""
    if runner := RUNNERS.get(key):
        runner.faults.guard(f"sending the digest {subscription}",
                            partial(runner.send_digest, subscription), None)


def retry_outbox(key: str) -> None:
    """Job `outbox:retry`."""
    if runner := RUNNERS.get(key):
        runner.faults.guard("retrying the outbox", runner.retry_outbox, None)


def housekeeping(key: str) -> None:
    """Job `housekeeping`."""
    if runner := RUNNERS.get(key):
        runner.faults.guard("keeping house", runner.housekeeping, None)
