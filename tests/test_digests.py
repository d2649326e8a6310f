"""Digests against a real SMTP server on loopback: content, MIME structure, escaping, TLS,
filters, and the outbox (retried when the server is down, never sent twice)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from alerts.settings import SmtpSettings, Subscription
from policywatch.digests import build_digest, queue_digest
from storage.database import Store
from storage.models import OutboxDigest
from tests.conftest import BACKENDS, PREPARED, invoke_cli, run_cli
from tests.mail import Inbox, free_port, self_signed_certificate, start_server
from tests.web.history import record_sample_history

WINDOW = ("--since", "2026-11-01", "--until", "2026-11-30")


@pytest.fixture(params=BACKENDS)
def history_db(request, tmp_path_factory) -> Iterator[str]:
    with PREPARED.copy(request.param, tmp_path_factory.mktemp("digest"), "sample-history",
                       record_sample_history) as url:
        yield url


def config(tmp_path: Path, port: int, extra_smtp: str = "", extra: str = "") -> Path:
    path = tmp_path / "policywatch.toml"
    path.write_text(f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "digests@policywatch.example"
list_unsubscribe = "mailto:unsubscribe@policywatch.example"
timeout = 5
{extra_smtp}

[[subscriptions]]
name = "everything"
recipients = ["analyst@example.org"]
window = "7d"

[[subscriptions]]
name = "china"
recipients = ["china-desk@example.org"]
jurisdictions = ["CN"]

[[subscriptions]]
name = "quiet"
recipients = ["quiet@example.org"]
changes = ["moved"]
{extra}
""")
    return path


@pytest.fixture
def smtp(tmp_path):
    inbox, port = Inbox(), free_port()
    server = start_server(port, inbox)
    yield inbox, port
    server.stop()


def test_digest_arrives_with_every_change_and_the_expected_mime(history_db, smtp, tmp_path):
    inbox, port = smtp
    result = run_cli("digest", "--subscription", "everything", *WINDOW, "--send",
                     db=history_db, config=config(tmp_path, port))
    assert result.code == 0, result.stderr
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    assert image.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html.get_content()
    for header in ("Date", "Message-ID", "List-Unsubscribe", "Auto-Submitted"):
        assert message[header], header
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == "<mailto:unsubscribe@policywatch.example>"

    text = plain.get_content()
    assert "Old baseline guidance" not in text  # baseline events are never announced
    assert "New instruments (3)" in text and "Amended (1)" in text and "Withdrawn (1)" in text
    assert "Restrictive -> Prudent and Flexible" in text
    assert "away from restrictive" in text and "(Article 3)" in text
    assert "~ Article 3" in text and "before:" in text and "after:" in text
    assert "个人信息保护法（第三章）" in text
    assert "cn-test (2 failed checks" in text and "connection refused" in text  # coverage
    assert message["Subject"] == "policywatch everything: 3 new, 1 amended, 1 withdrawn (1 Nov to 30 Nov 2026)"


def test_crawled_markup_arrives_escaped(history_db, smtp, tmp_path):
    inbox, port = smtp
    run_cli("digest", "--subscription", "everything", *WINDOW, "--send", db=history_db,
            config=config(tmp_path, port))
    html = inbox.messages[0].get_payload()[1].get_payload()[0].get_content()
    assert "<script" not in html and "onerror=alert" not in html.replace("&#39;", "'").split(
        "&lt;img")[0]
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_filters_select_what_they_should(history_db, smtp, tmp_path):
    inbox, port = smtp
    cfg = config(tmp_path, port)
    assert run_cli("digest", "--subscription", "china", *WINDOW, "--send", db=history_db, config=cfg).code == 0
    text = inbox.messages[0].get_body(("plain",)).get_content()
    assert "个人信息保护法（第三章）" in text and "Transfer rules" not in text
    assert inbox.envelopes[0][1] == ["china-desk@example.org"]
    # Nothing moved: an empty digest is not sent unless the subscription asks for one.
    result = run_cli("digest", "--subscription", "quiet", *WINDOW, "--send", db=history_db, config=cfg)
    assert "nothing changed for quiet: no digest sent" in result.stdout
    assert len(inbox.messages) == 1


def test_empty_digest_when_asked_for(history_db, smtp, tmp_path):
    inbox, port = smtp
    cfg = config(tmp_path, port, extra="send_empty = true\n")
    assert run_cli("digest", "--subscription", "quiet", *WINDOW, "--send", db=history_db, config=cfg).code == 0
    assert "nothing changed" in inbox.messages[0]["Subject"]


def test_starttls_with_login(history_db, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    inbox, port = Inbox(), free_port()
    server = start_server(port, inbox, tls=(cert, key), login=("digest-bot", "s3cret"))
    try:
        cfg = config(tmp_path, port, extra_smtp=f'username = "digest-bot"\npassword_env = "PW_SMTP"\n'
                                                f'cafile = "{cert}"\n').read_text().replace(
            'security = "none"', 'security = "starttls"')
        (tmp_path / "tls.toml").write_text(cfg)
        options = {"db": history_db, "config": tmp_path / "tls.toml"}
        done = invoke_cli("mail", "test", "--to", "me@example.org", env={"PW_SMTP": "s3cret"}, **options)
        assert done.code == 0, done.stderr
        assert inbox.messages[0]["Subject"] == "policywatch: test message"
        wrong = invoke_cli("mail", "test", env={"PW_SMTP": "wrong"}, **options)
        assert wrong.code == 1 and "authentication failed for 'digest-bot'" in wrong.stderr
        assert "wrong" not in wrong.stderr and "s3cret" not in wrong.stderr
        done = invoke_cli("digest", "--subscription", "everything", *WINDOW, "--send",
                          env={"PW_SMTP": "s3cret"}, **options)
        assert done.code == 0, done.stderr
        assert len(inbox.messages) == 2
    finally:
        server.stop()


def test_server_down_keeps_the_digest_pending_then_sends_it_once(history_db, tmp_path):
    port = free_port()  # nothing listens yet
    cfg = config(tmp_path, port)
    result = run_cli("digest", "--subscription", "everything", *WINDOW, "--send", db=history_db, config=cfg)
    assert result.code == 0
    assert f"not sent, kept in the outbox: SMTP 127.0.0.1:{port}: connection refused" in result.stderr
    outbox = run_cli("outbox", "--format", "json", db=history_db, config=cfg).json()
    pending = [d for d in outbox if d["subscription"] == "everything"][0]
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert "connection refused" in pending["error"]

    inbox = Inbox()
    server = start_server(port, inbox)
    try:
        assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
        assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
        again = run_cli("digest", "--subscription", "everything", *WINDOW, "--send", db=history_db, config=cfg)
        assert "already built" in again.stdout
    finally:
        server.stop()
    assert len(inbox.messages) == 1
    sent = [d for d in run_cli("outbox", "--format", "json", db=history_db, config=cfg).json()
            if d["id"] == pending["id"]][0]
    assert sent["status"] == "sent" and sent["attempts"] == 2


def test_a_crash_while_sending_never_sends_twice(history_db, smtp, tmp_path):
    inbox, port = smtp
    cfg = config(tmp_path, port)
    down = run_cli("digest", "--subscription", "china", "--since", "2026-11-02", "--until", "2026-11-29",
                   "--out", str(tmp_path / "china.eml"), db=history_db, config=cfg)
    assert down.code == 0 and (tmp_path / "china.eml").read_bytes().startswith(b"Subject:") or \
        b"Subject:" in (tmp_path / "china.eml").read_bytes()
    # Simulate a process killed after the SMTP conversation, before marking the digest sent.
    store = Store(history_db)
    from email import message_from_bytes, policy

    from alerts.outbox import enqueue

    message = message_from_bytes((tmp_path / "china.eml").read_bytes(), policy=policy.default)
    digest_id, _ = enqueue(store, "china", datetime(2026, 11, 2), datetime(2026, 11, 29),
                           ("china-desk@example.org",), message, 1)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.transaction() as session:
        session.execute(update(OutboxDigest).where(OutboxDigest.id == digest_id)
                        .values(status="sending", sending_pid=dead.pid))
    store.close()
    listed = run_cli("outbox", "--send-pending", "--format", "json", db=history_db, config=cfg).json()
    row = [d for d in listed if d["id"] == digest_id][0]
    assert row["status"] == "uncertain" and "not resent automatically" in row["error"]
    assert inbox.messages == []
    assert run_cli("outbox", "--resend", str(digest_id), db=history_db, config=cfg).code == 0
    assert len(inbox.messages) == 1


def test_preview_and_plain_output(history_db, tmp_path):
    preview = tmp_path / "digest.html"
    result = run_cli("digest", *WINDOW, "--preview", str(preview), db=history_db)
    assert result.code == 0
    html = preview.read_text()
    assert 'src="data:image/png;base64,' in html and "<script" not in html
    printed = run_cli("digest", *WINDOW, db=history_db)
    assert printed.stdout.startswith("policywatch all: 3 new, 1 amended, 1 withdrawn")


def test_mistakes_are_one_line(history_db, tmp_path):
    result = run_cli("digest", "--send", *WINDOW, db=history_db)
    assert result.code == 2 or "--send needs --subscription" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[smtp]\npassword = "plain"\n')
    result = run_cli("digest", db=history_db, config=bad)
    assert "smtp.password: put the password in an environment variable" in result.stderr
    bad.write_text('[[subscriptions]]\nname = "x"\nrecipients = ["not-an-address"]\n')
    assert "recipients: 'not-an-address' is not an email address" in run_cli("digest", db=history_db, config=bad).stderr
    cfg = config(tmp_path, free_port())
    result = run_cli("digest", "--subscription", "nope", db=history_db, config=cfg)
    assert "no subscription 'nope' (everything, china, quiet)" in result.stderr



def _record_now(url: str, title: str) -> None:
    """A new instrument recorded at this moment, as a crawl that just finished leaves it."""
    from storage.models import utcnow
    from tests.web.history import EU, _record

    store = Store(url)
    _record(store, EU, f"https://eu.example/{title.lower().replace(' ', '-')}", title,
            "Article 1\nTransfers of personal data to third countries.", utcnow())
    store.close()


def test_an_event_recorded_just_before_the_digest_is_in_it(history_db):
    _record_now(history_db, "Just recorded rules")
    result = invoke_cli("digest", "--since", "30m", db=history_db)
    assert result.code == 0, result.stderr
    assert "Just recorded rules" in result.stdout


def test_consecutive_digests_neither_overlap_nor_leave_a_gap(history_db, smtp, tmp_path):
    inbox, port = smtp
    cfg = config(tmp_path, port)

    def send() -> None:
        result = invoke_cli("digest", "--subscription", "everything", "--send", db=history_db,
                            config=cfg)
        assert result.code == 0, result.stderr

    send()  # the first digest covers the subscription's 7 days
    _record_now(history_db, "Between two digests")
    send()
    send()
    store = Store(history_db)
    with store.sessions() as session:
        windows = [(d.window_start, d.window_end, d.status, d.events) for d in session.scalars(
            select(OutboxDigest).where(OutboxDigest.subscription == "everything")
            .order_by(OutboxDigest.id))]
    store.close()
    assert len(windows) == 3
    first, second, third = windows
    assert first[1] - first[0] == timedelta(days=7)
    assert second[0] == first[1] and third[0] == second[1]  # each starts where the last ended
    assert [w[3] for w in windows] == [0, 1, 0]  # the event is in exactly one digest
    assert len(inbox.messages) == 1
    assert "Between two digests" in inbox.messages[0].get_body(("plain",)).get_content()


def test_the_next_window_starts_where_the_previous_digest_ended(history_db):
    from policywatch.digests import default_window

    store = Store(history_db)
    subscription = Subscription(name="weekly", recipients=("a@example.org",), window="7d")
    now = datetime(2026, 12, 1, 7, 0, 0, 123456)
    assert default_window(subscription, now, store) == (now - timedelta(days=7), now)
    queue_digest(store, subscription, now - timedelta(days=7), now, *_built(store, subscription, now))
    later = now + timedelta(days=7, seconds=3)
    assert default_window(subscription, later, store) == (now, later)
    store.close()


def _built(store, subscription, now):
    built, message, _chart = build_digest(store, subscription, now - timedelta(days=7), now,
                                          SmtpSettings())
    return built, message


def test_the_digest_reads_as_a_newsletter(history_db, tmp_path):
    """The exact window in the visible header, a withdrawal and restoration in one window said
    to cancel out, CJK fonts in every stack, and `lang` on a Chinese title and its excerpts."""
    from tests.web.history import CN, _record
    from tests.web.history import pipl as pipl_text

    store = Store(history_db)
    _record(store, CN, "https://cn.example/pipl", "个人信息保护法（第三章）",
            pipl_text("第三十八条", "## 第四章"), datetime(2026, 11, 25), instrument_id=3)
    store.close()
    preview = tmp_path / "digest.html"
    result = invoke_cli("digest", *WINDOW, "--preview", str(preview), db=history_db)
    assert result.code == 0, result.stderr
    text = invoke_cli("digest", *WINDOW, db=history_db).stdout
    header = "Changes recorded from 1 Nov 2026 00:00 to 1 Dec 2026 00:00 UTC"
    assert text.splitlines()[2] == header
    assert text.count("Withdrawn and restored within this window: the two changes cancel out.") == 2
    html = preview.read_text(encoding="utf-8")
    assert header in html
    assert html.count("cancel out") == 2
    assert "Noto Sans CJK SC" in html and "Noto Serif CJK SC" in html
    assert 'lang="zh"><a href="https://cn.example/pipl"' in html


def test_excerpts_mark_the_changed_words_in_both_parts(history_db, tmp_path):
    """The amended Article 3 of the sample history: the deleted words marked [-…-] and in <del>,
    the inserted ones {+…+} and in <ins>, the unchanged words around them left as they are."""
    store = Store(history_db)
    _, message = _built(store, Subscription("eu", ("a@example.org",)), datetime(2026, 11, 25))
    store.close()
    plain = message.get_body(("plain",)).get_content()
    assert "before: Article 3 Transfers [-Any transfer-] abroad [-requires passing a government " \
           "security-] assessment" in plain
    assert "after:  Article 3 Transfers {+Transfers+} abroad {+may take place under standard" in plain
    html = message.get_body(("html",)).get_content()
    assert "abroad <del>requires passing a government security</del> assessment" in html
    assert "abroad <ins>may take place under standard contractual clauses" in html
    assert "In the web view" not in plain  # no [web] base_url configured


def test_a_stage_event_has_its_own_section_with_the_quote():
    from alerts.compose import compose_digest
    from alerts.render import render_html, render_text

    stage_event = {"instrument": "xd-test/reg-1a2b3c", "source": "xd-test", "jurisdiction": "XD",
                   "level": "national", "language": "es", "title": "Reglamento de prueba",
                   "url": "https://xd.example/reg", "change": "stage",
                   "detected_at": "2026-11-30T08:00:00Z", "version": 2, "baseline": False,
                   "paradigm": "prudent", "previous_paradigm": None, "stage": "adopted",
                   "previous_stage": "draft", "stage_quote": "entrará en vigor el 1 de julio\nde 2027",
                   "stage_provision": "Artículo 5", "stage_since": "2027-07-01"}
    digest = compose_digest(Subscription(name="xd", recipients=("a@example.org",)), [stage_event],
                            datetime(2026, 11, 30), datetime(2026, 12, 1))
    assert digest.subject() == "policywatch xd: 1 stage changed (30 Nov 2026)"
    text = render_text(digest)
    assert "Stage changes (1)" in text and "Stage: draft → adopted (since 2027-07-01)" in text
    assert 'Artículo 5: "entrará en vigor el 1 de julio de 2027"' in text  # on one line
    assert "Paradigm:" not in text.split("Stage changes")[1]
    assert "<b>draft</b>" in render_html(digest) and "Stage changes" in render_html(digest)
