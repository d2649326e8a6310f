"""One daemon per store: an exclusive lock on a pid file in the user's data directory."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import TextIO

from platformdirs import user_data_dir

from policywatch.daemon.planning import store_key
from storage.runs import PidFileHeld, hold_pid_file


class DaemonError(RuntimeError):
    """The daemon cannot start (another one runs, bad configuration); one line."""


def pid_file_for(store_url: str) -> Path:
    """The pid file of the daemon on this store."""
    return Path(user_data_dir("policywatch", appauthor=False)) / f"daemon-{store_key(store_url)}.pid"


class PidLock:
    """An exclusive lock on a pid file: released by the kernel however the daemon dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: TextIO | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid, or raise DaemonError naming the daemon that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.handle = hold_pid_file(self.path)
        except PidFileHeld as held:
            raise DaemonError(f"another policywatch daemon (pid {held.holder}) is running on this "
                              f"store ({self.path})") from None

    def release(self) -> None:
        if self.handle:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
