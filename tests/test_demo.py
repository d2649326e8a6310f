"""`policywatch demo` end to end, as a newcomer runs it."""

from __future__ import annotations

import shlex
import sqlite3
from email import message_from_bytes, policy

from policywatch.demo import folder_lock, refuse_foreign_files
from tests.conftest import DemoRun, invoke_cli


def test_demo_runs_the_whole_loop_offline(demo_run: DemoRun):
    folder, result = demo_run.folder, demo_run.result
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "cycle 5/5" in out and "try next" in out and "Traceback" not in result.stderr
    with sqlite3.connect(folder / "demo.sqlite") as connection:
        kinds = {kind for (kind,) in connection.execute(
            "select kind from change_events where baseline = 0")}
        shifts = connection.execute("select count(*) from change_events where shift is not null "
                                    "and paradigm != previous_paradigm").fetchone()[0]
    assert {"new", "amended", "withdrawn"} <= kinds
    assert shifts >= 1
    assert "restrictive → prudent" in out
    assert (folder / "trends.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    message = message_from_bytes((folder / "digest.eml").read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("policywatch all:")
    plain = message.get_body(("plain",))
    assert plain is not None
    assert "Reglamento sobre transferencias internacionales" in plain.get_content()
    assert (folder / "digest.html").read_text().count("data:image/png;base64,") == 1
    # What the demo suggests works as printed, after the export line it prints.
    lines = [line.strip() for line in out.split("try next")[1].splitlines()]
    export = next(line for line in lines if line.startswith("export POLICYWATCH_DB="))
    store = shlex.split(export)[1].split("=", 1)[1]
    assert store == str(folder / "demo.sqlite")
    suggested = [line for line in lines if line.startswith("policywatch ")]
    assert len(suggested) >= 4
    for line in suggested:
        result = invoke_cli(*shlex.split(line)[1:], env={"POLICYWATCH_DB": store})
        assert result.code == 0, (line, result.stderr)
    assert "wrote in" in out and "digest.eml" in out
    refuse_foreign_files(folder, force=False)  # a second demo may replace what the first wrote
    # Nothing outside the demo folder: every file it wrote is inside it.
    assert all(str(p).startswith(str(folder)) for p in folder.rglob("*"))


def test_a_second_demo_in_the_same_folder_is_refused(tmp_path):
    with folder_lock(tmp_path):
        result = invoke_cli("demo", "--dir", str(tmp_path))
    assert result.code == 1
    assert result.stderr.strip() == (f"Error: demo: another demo is running in {tmp_path}; wait for "
                                     "it or use another --dir")


def test_the_demo_never_replaces_files_it_did_not_write(tmp_path):
    mine = tmp_path / "policywatch.toml"
    mine.write_text("# my own settings\n")
    (tmp_path / "demo.sqlite").write_bytes(b"my data")
    result = invoke_cli("demo", "--dir", str(tmp_path))
    assert result.code == 1
    assert result.stderr.strip() == (
        f"Error: demo: {tmp_path} already has demo.sqlite, policywatch.toml, not written by a "
        "demo: use another --dir, or --force to replace them")
    assert mine.read_text() == "# my own settings\n"
    assert (tmp_path / "demo.sqlite").read_bytes() == b"my data"
