"""A CR or LF in text from the web never forges a mail header, a digest line or a table row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from alerts.compose import Digest
from alerts.outbox import wire_bytes
from alerts.render import build_message
from alerts.settings import SmtpSettings
from policywatch.demoweb.server import LoopbackWeb, html_page
from policywatch.demoweb.texts import gdpr, to_html
from tests.conftest import run_cli

INJECTED = "Transfer rules&#13;&#10;Bcc: x@example.org&#13;&#10;* Forged instrument&#13;&#10;"
FORGED = ("Bcc: x@example.org", "* Forged instrument")


def _routes(web: LoopbackWeb) -> dict:
    """A page amended in epoch 2, when its title gains line breaks and forged lines."""
    title, last = ("Transfer rules", "47") if web.epoch == 1 else (INJECTED, "49")
    page = (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<article>{to_html(gdpr('46', last))}</article></body></html>")
    return {"/rules": html_page(page)}


@pytest.fixture(scope="module")
def injecting_web() -> Iterator[LoopbackWeb]:
    web = LoopbackWeb({"inject": ("127.0.0.61", _routes)}).start()
    yield web
    web.stop()


def _declare(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir()
    (folder / "inject.yaml").write_text(f"""\
id: inject
name: Injecting regulator (loopback)
jurisdiction: GB
level: national
body: regulator
relevance: all
entries:
  - type: document
    url: {web.url("inject", "/rules")}
""")
    return folder


def test_a_title_with_line_breaks_is_one_header_one_digest_line_and_one_table_row(
        injecting_web, tmp_path, db_url):
    sources = _declare(injecting_web, tmp_path / "sources")
    for epoch in (1, 2):  # the first crawl is the baseline; the second announces the amendment
        injecting_web.set(epoch=epoch)
        crawled = run_cli("crawl", "--sources", str(sources), db=db_url)
        assert crawled.code == 0, crawled.stderr

    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
        stored = connection.execute("select title from instruments").fetchone()[0]
    assert "\nBcc: x@example.org" in stored  # the page's line break reached the store

    history = run_cli("history", "--change", "amended", db=db_url)
    assert history.code == 0, history.stderr
    rows = history.stdout.strip().splitlines()[2:]  # below the head and its rule
    assert len(rows) == 1 and "Transfer rules" in rows[0], history.stdout
    assert not any(line.lstrip().startswith(FORGED) for line in history.stdout.splitlines())
    assert "\r" not in history.stdout

    eml = tmp_path / "digest.eml"
    digest = run_cli("digest", "--since", "1d", "--out", str(eml), db=db_url)
    assert digest.code == 0, digest.stderr
    message = message_from_bytes(eml.read_bytes(), policy=default)
    assert message["Bcc"] is None
    text = message.get_body(("plain",)).get_content()
    listed = [line for line in text.splitlines() if line.startswith("* ")]
    assert listed == ["* Transfer rules Bcc: x@example.org * Forged instrument"], text
    assert not any(line.lstrip().startswith(FORGED) for line in text.splitlines()), text


def test_a_subject_with_line_breaks_stays_one_header():
    digest = Digest("weekly\r\nBcc: x@example.org", datetime(2026, 11, 1), datetime(2026, 12, 1))
    smtp = SmtpSettings(host="localhost", sender="policywatch@example.org")
    parsed = message_from_bytes(wire_bytes(build_message(digest, ("a@example.org",), smtp)),
                                policy=default)
    assert parsed["Bcc"] is None
    assert parsed.get_all("Subject") == [
        "policywatch weekly Bcc: x@example.org: nothing changed (1 Nov to 30 Nov 2026)"]
