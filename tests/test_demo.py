"""`policywatch demo` end to end, as a newcomer runs it."""

from __future__ import annotations

import sqlite3
from email import message_from_bytes, policy

from tests.conftest import run_cli


def test_demo_runs_the_whole_loop_offline(tmp_path):
    folder = tmp_path / "demo"
    result = run_cli("demo", "--dir", str(folder), timeout=400)
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "cycle 5/5" in out and "try next:" in out and "Traceback" not in result.stderr
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
    # What the demo suggests works.
    suggested = [line.strip() for line in out.splitlines() if line.strip().startswith("policywatch --db")]
    for line in suggested:
        args = line.split()[3:]
        assert run_cli(*args, db=line.split()[2]).code == 0, line
    # Nothing outside the demo folder: every file it wrote is inside it.
    assert all(str(p).startswith(str(folder)) for p in folder.rglob("*"))
