"""The packages import one way: texts <- paradigms <- storage <- crawlers <- alerts <- policywatch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    command = shutil.which("lint-imports") or f"{Path(sys.executable).parent}/lint-imports"
    return subprocess.run([command, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_no_package_imports_one_above_it():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_running_back_up_breaks_the_contract(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", "tests", "bench", "*.egg-info",
                                                              "__pycache__", ".*_cache"))
    normalise = tree / "texts" / "normalise.py"
    normalise.write_text(normalise.read_text() + "\nfrom storage.models import Version  # noqa\n")
    result = _lint_imports(tree)
    assert result.returncode != 0
    assert "texts.normalise -> storage.models" in result.stdout
