"""After an extraction fix, stored snapshots are re-read: technical versions, no false alerts."""

from __future__ import annotations

from tests.conftest import run_cli
from tests.web.sites import write_declarations


def test_selector_fix_gives_technical_versions_and_no_alert(web, tmp_path, db_url):
    web.set(epoch=1, noise=1)
    sources = write_declarations(web, tmp_path / "sources")
    for other in ("cn-cac", "us-fedreg", "wto-ecom"):
        (sources / f"{other}.yaml").unlink()
    assert run_cli("crawl", "--sources", str(sources), db=db_url).code == 0
    before = run_cli("history", "--format", "json", db=db_url).json()
    assert len(before) == 3

    # The analyst decides the "Published …" line is page furniture, not text of the instrument.
    declaration = sources / "eu-edpb.yaml"
    declaration.write_text(declaration.read_text() + 'extract:\n  remove: ["p.published"]\n')
    result = run_cli("reextract", "--sources", str(sources), db=db_url)
    assert result.code == 0, result.stderr
    assert "3 instrument(s): 3 technical version(s), 0 unchanged, 0 error(s)" in result.stdout

    assert run_cli("history", "--format", "json", db=db_url).json() == before  # never announced
    technical = run_cli("history", "--change", "technical", "--format", "json", db=db_url).json()
    assert len(technical) == 3 and {e["version"] for e in technical} == {2}
    assert all(e["provisions"]["modified"] for e in technical)

    web.set(noise=2)  # the next crawl reads with the new rules and compares with the technical version
    assert run_cli("crawl", "--sources", str(sources), db=db_url).code == 0
    after = run_cli("history", "--format", "json", db=db_url).json()
    assert after == before
    shown = run_cli("show", before[0]["instrument"], "--format", "json", db=db_url).json()
    assert sorted((v["version"], v["technical"]) for v in shown["versions"]) == [(1, False), (2, True)]
    full = run_cli("diff", before[0]["instrument"], "--full", db=db_url).stdout.splitlines()
    assert "-Published 2024-03-15" in full
    assert not any(line.startswith("+Published") for line in full)

    again = run_cli("reextract", "--sources", str(sources), db=db_url)
    assert "0 technical version(s), 3 unchanged" in again.stdout
