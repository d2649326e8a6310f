"""The README's examples that name demo instruments (`show`, `diff`, `history`) work as printed
after `policywatch demo` and the README's `export POLICYWATCH_DB=…` line: instrument ids carry
no port, so the ids the README prints are the ones every demo gives."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT, DemoRun, invoke_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
README_DEMO_DIR = "/tmp/policywatch-demo"
INSTRUMENT_COMMANDS = ("show", "diff", "history")


def readme_instrument_examples() -> list[str]:
    """Every `policywatch show|diff|history …` of the README: the lines of its shell examples
    (comments cut off) and the inline examples of its tables, without `--config` (a bare command
    named in prose is no example)."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    inline = re.findall(r"`(policywatch [^`]+)`", README)
    wanted = re.compile(rf"policywatch ({'|'.join(INSTRUMENT_COMMANDS)})\b")
    return list(dict.fromkeys(example for example in [*lines, *inline]
                              if wanted.match(example) and len(example.split()) > 2
                              and "--config" not in example))


@pytest.fixture(scope="module")
def demo_store(demo_run: DemoRun) -> str:
    """The demo of the run, run as the README runs it (in a folder of the test's own, named as
    the README's)."""
    assert demo_run.folder.name == Path(README_DEMO_DIR).name
    assert demo_run.result.code == 0, demo_run.result.stderr
    return str(demo_run.folder / "demo.sqlite")


def test_the_readme_exports_the_store_the_demo_writes():
    assert f"policywatch demo --dir {README_DEMO_DIR}\n" in README
    assert f"export POLICYWATCH_DB={README_DEMO_DIR}/demo.sqlite\n" in README


def test_the_readme_names_demo_instruments_by_their_full_ids():
    examples = readme_instrument_examples()
    assert any(re.search(r"\b[a-z-]+/[\w-]+-[0-9a-f]{6}\b", example) for example in examples)


def test_the_instrument_ids_the_readme_prints_are_the_demos(demo_store):
    printed = set(re.findall(r"\b(?:cn-cac|eu-edpb|us-fedreg|wto-ecom|xd-authority)/[\w-]+-[0-9a-f]{6}\b",
                             README))
    assert printed
    for uid in printed:
        shown = invoke_cli("show", uid, "--format", "json", env={"POLICYWATCH_DB": demo_store})
        assert shown.code == 0 and shown.json()["instrument"] == uid, f"{uid}: {shown.stderr}"


@pytest.mark.parametrize("example", readme_instrument_examples())
def test_a_readme_example_works_as_printed_on_the_demo_store(example, demo_store):
    result = invoke_cli(*shlex.split(example)[1:], env={"POLICYWATCH_DB": demo_store})
    assert result.code == 0, f"{example}: {result.stderr}"
    assert result.stdout.strip() and "(nothing)" not in result.stdout, example
