"""Notifications beyond mail, against a JSON webhook on loopback (Apprise's json://) and a real
SMTP server on loopback: delivered once, retried when the receiver is down, never resent by a
mail failure (nor mail by a notification failure), uncertain after a crash."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update

from storage.database import Store
from storage.models import Base, Delivery, include_in_migrations
from tests.conftest import BACKENDS, PREPARED, run_cli
from tests.mail import Inbox, free_port, start_server
from tests.web.history import record_sample_history

WINDOW = ("--since", "2026-11-01", "--until", "2026-11-30")


class Receiver:
    """A webhook on 127.0.0.1 in a thread, keeping each JSON notification posted to it."""

    def __init__(self, port: int) -> None:
        received: list[dict] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(params=BACKENDS)
def history_db(request, tmp_path_factory) -> Iterator[str]:
    with PREPARED.copy(request.param, tmp_path_factory.mktemp("notify"), "sample-history",
                       record_sample_history) as url:
        yield url


def config(tmp_path: Path, hook_port: int, smtp_port: int | None = None, web: str = "") -> Path:
    """A subscription that notifies the webhook; with `smtp_port`, one that also mails."""
    path = tmp_path / "policywatch.toml"
    mail = f"""
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "digests@policywatch.example"
timeout = 5
""" if smtp_port else ""
    recipients = 'recipients = ["analyst@example.org"]' if smtp_port else ""
    path.write_text(f"""{mail}
{web}
[[subscriptions]]
name = "eu-hook"
{recipients}
notify = ["json://127.0.0.1:{hook_port}/hook"]
jurisdictions = ["EU"]
""")
    return path


def send(db: str, cfg: Path) -> str:
    result = run_cli("digest", "--subscription", "eu-hook", *WINDOW, "--send", db=db, config=cfg)
    assert result.code == 0, result.stderr
    return result.stdout + result.stderr


def outbox(db: str, cfg: Path) -> dict:
    [row] = run_cli("outbox", "--format", "json", db=db, config=cfg).json()
    return row


def test_the_digest_text_is_delivered_once_with_a_link_to_the_web_view(history_db, tmp_path):
    port = free_port()
    cfg = config(tmp_path, port, web='[web]\nbase_url = "https://pw.example.org/"\n')
    with Receiver(port) as hook:
        said = send(history_db, cfg)
        assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
        assert "already built" in send(history_db, cfg)
    assert f"sent to json://127.0.0.1:{port}/hook" in said
    [note] = hook.received
    assert note["title"].startswith("policywatch eu-hook: 2 new, 1 amended")
    assert "Transfer rules" in note["message"] and "个人信息" not in note["message"]
    assert "[-requires passing a government security-]" in note["message"]
    assert ("In the web view: https://pw.example.org/?since=2026-11-01T00%3A00%3A00"
            "&until=2026-12-01T00%3A00%3A00&jurisdiction=EU") in note["message"]
    row = outbox(history_db, cfg)
    assert row["status"] == "notify-only"
    assert [(c["status"], c["attempts"]) for c in row["channels"]] == [("sent", 1)]


def test_a_receiver_down_keeps_the_notification_pending_then_delivers_it_once(history_db, tmp_path):
    port = free_port()  # nothing listens yet
    cfg = config(tmp_path, port)
    said = send(history_db, cfg)
    assert f"not sent to json://127.0.0.1:{port}/hook, kept in the outbox" in said
    [channel] = outbox(history_db, cfg)["channels"]
    assert channel["status"] == "pending" and "connection error" in channel["error"].lower()
    with Receiver(port) as hook:
        assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
        assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
    assert len(hook.received) == 1
    [channel] = outbox(history_db, cfg)["channels"]
    assert (channel["status"], channel["attempts"], channel["error"]) == ("sent", 2, None)
    listed = run_cli("outbox", db=history_db, config=cfg).stdout
    assert f"json://127.0.0.1:{port}/hook: sent" in listed


def test_a_mail_failure_does_not_resend_the_notification(history_db, tmp_path):
    hook_port, smtp_port = free_port(), free_port()
    cfg = config(tmp_path, hook_port, smtp_port)
    with Receiver(hook_port) as hook:
        send(history_db, cfg)  # the SMTP server is down
        row = outbox(history_db, cfg)
        assert row["status"] == "pending" and row["channels"][0]["status"] == "sent"
        inbox = Inbox()
        server = start_server(smtp_port, inbox)
        try:
            assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
        finally:
            server.stop()
    assert len(inbox.messages) == 1 and len(hook.received) == 1
    assert outbox(history_db, cfg)["status"] == "sent"


def test_a_notification_failure_does_not_resend_the_mail(history_db, tmp_path):
    hook_port, smtp_port = free_port(), free_port()
    cfg = config(tmp_path, hook_port, smtp_port)
    inbox = Inbox()
    server = start_server(smtp_port, inbox)
    try:
        send(history_db, cfg)  # the webhook is down
        assert outbox(history_db, cfg)["channels"][0]["status"] == "pending"
        with Receiver(hook_port) as hook:
            assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
    finally:
        server.stop()
    assert len(inbox.messages) == 1 and len(hook.received) == 1
    row = outbox(history_db, cfg)
    assert row["status"] == "sent" and row["channels"][0]["status"] == "sent"
    assert inbox.messages[0].get_body(("plain",)).get_content().strip() == hook.received[0]["message"]


def test_a_crash_while_notifying_is_uncertain_and_never_resent_automatically(history_db, tmp_path):
    port = free_port()
    cfg = config(tmp_path, port)
    send(history_db, cfg)  # the webhook is down: the delivery stays pending
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = Store(history_db)
    with store.transaction() as session:  # a process killed during the request
        session.execute(update(Delivery).values(status="sending", sending_pid=dead.pid))
    store.close()
    with Receiver(port) as hook:
        assert run_cli("outbox", "--send-pending", db=history_db, config=cfg).code == 0
        row = outbox(history_db, cfg)
        [channel] = row["channels"]
        assert channel["status"] == "uncertain" and "not resent automatically" in channel["error"]
        assert hook.received == []
        assert run_cli("outbox", "--resend", str(row["id"]), db=history_db, config=cfg).code == 0
    assert len(hook.received) == 1
    assert outbox(history_db, cfg)["channels"][0]["status"] == "sent"


def test_a_secret_comes_from_the_environment_and_stays_out_of_the_store(history_db, tmp_path,
                                                                         monkeypatch):
    port = free_port()
    cfg = tmp_path / "policywatch.toml"
    cfg.write_text('[[subscriptions]]\nname = "eu-hook"\n'
                   'notify = ["json://127.0.0.1:${POLICYWATCH_TEST_HOOK_PORT}/hook"]\n')
    said = send(history_db, cfg)
    assert "environment variable POLICYWATCH_TEST_HOOK_PORT is not set" in said
    with Receiver(port) as hook:
        monkeypatch.setenv("POLICYWATCH_TEST_HOOK_PORT", str(port))
        from alerts.outbox import send_pending

        store = Store(history_db)
        [result] = send_pending(store, None)
        store.close()
    assert result.status == "sent" and len(hook.received) == 1
    assert outbox(history_db, cfg)["channels"][0]["channel"] == \
        "json://127.0.0.1:${POLICYWATCH_TEST_HOOK_PORT}/hook"


def test_a_subscription_needs_recipients_or_notify(history_db, tmp_path):
    cfg = tmp_path / "policywatch.toml"
    cfg.write_text('[[subscriptions]]\nname = "silent"\njurisdictions = ["EU"]\n')
    result = run_cli("digest", db=history_db, config=cfg)
    assert result.code != 0
    assert "recipients: at least one address (or a notification URL in notify) is needed " \
           "(subscription 'silent')" in result.stderr
    cfg.write_text('[[subscriptions]]\nname = "typo"\nnotify = ["slack:/missing-slash"]\n')
    assert "notify: 'slack:/missing-slash' is not a notification URL" in \
        run_cli("digest", db=history_db, config=cfg).stderr


def test_the_deliveries_table_matches_its_migration(store_url):
    store = Store(store_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_in_migrations})
        assert "outbox_deliveries" in Base.metadata.tables
        assert compare_metadata(context, Base.metadata) == []
    store.close()
