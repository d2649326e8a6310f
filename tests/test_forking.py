"""Children forked from the fork server: their exit status and output, and the folders of
children whose parent was killed, removed when the next daemon starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from policywatch.forking import FOLDER_PREFIX, remove_orphaned_folders, start_forked


def _exits_with(code: int, line: str) -> None:  # a module-level target: children unpickle it
    print(line)
    print("to stderr", file=sys.stderr)
    sys.exit(code)


def test_a_forked_child_gives_its_exit_status_and_output_and_leaves_no_folder():
    child = start_forked(_exits_with, 3, "to stdout", env={"ONLY": "this"})
    assert child.wait(120) and child.returncode == 3
    folder = child.folder
    assert folder.name.startswith(f"{FOLDER_PREFIX}{os.getpid()}-")
    assert child.outputs() == ("to stdout\n", "to stderr\n")
    assert not folder.exists()


def test_the_folders_of_a_dead_parents_children_are_removed_and_a_live_ones_kept(tmp_path: Path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = tmp_path / f"{FOLDER_PREFIX}{int(ended.stdout)}-abc"
    live = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-def"
    other = tmp_path / "policywatch-something-else"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "stderr").write_text("")
    assert remove_orphaned_folders(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()
