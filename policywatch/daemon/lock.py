"""One daemon per store: an exclusive lock on a pid file in the user's data directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO

from platformdirs import user_data_dir

from policywatch.daemon.planning import store_key


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
        handle = open(self.path, "a+")  # noqa: SIM115 (held for the daemon's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "?"
            handle.close()
            raise DaemonError(f"another policywatch daemon (pid {other}) is running on this "
                              f"store ({self.path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        if self.handle:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
