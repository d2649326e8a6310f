"""`policywatch digest`, `outbox` and `mail test`: build and send digests, the outbox, the mail
settings checked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policywatch.cli.app import App, iso, parse_when, pass_app
from policywatch.output import format_option, render

if TYPE_CHECKING:
    from alerts.outbox import SendResult
    from alerts.settings import SmtpSettings
    from storage.models import Delivery


@click.command()
@click.option("--since", metavar="WHEN", help="Window start (default: one subscription window ago).")
@click.option("--until", metavar="WHEN", help="Window end (default: now).")
@click.option("--subscription", "name", metavar="NAME", help="A subscription from the configuration.")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE.eml", help="Write the message.")
@click.option("--preview", type=click.Path(dir_okay=False), metavar="FILE.html",
              help="Write the HTML part (chart inlined) to open in a browser.")
@click.option("--send", is_flag=True, help="Queue it in the outbox and send it (once per window).")
@pass_app
def digest(app: App, since: str | None, until: str | None, name: str | None, out: str | None,
           preview: str | None, send: bool) -> None:
    """Build (and send) the digest of what changed in a window.

    Without --out, --preview or --send the plain-text digest is printed. --send mails it to the
    subscription's recipients and sends its text to each of its notify URLs.

    \b
    Example:
      policywatch --config policywatch.toml digest --subscription china-weekly --send
      policywatch digest --since 7d --preview digest.html
    """
    from alerts.notify import masked
    from alerts.outbox import send_pending
    from alerts.render import preview_html
    from policywatch.digests import ALL, build_digest, queue_digest, window_of

    subscription = ALL
    if name:
        chosen = app.config.subscription(name)
        if chosen is None:
            known = ", ".join(s.name for s in app.config.subscriptions) or "none configured"
            raise click.ClickException(f"--subscription: no subscription {name!r} ({known})")
        subscription = chosen
    elif send:
        raise click.ClickException("--send needs --subscription (its recipients and filters)")
    smtp = app.smtp() if send and subscription.recipients else app.config.smtp
    store = app.store()
    start, end = window_of(parse_when(since, "--since"), parse_when(until, "--until", True),
                           subscription, store if name else None)
    if start >= end:
        raise click.BadParameter("the window is empty: --since must be before --until")
    built, message, chart = build_digest(store, subscription, start, end, smtp,
                                         base_url=app.config.web.base_url)
    if out:
        Path(out).write_bytes(message.as_bytes())
        click.echo(f"message written to {out}", err=True)
    if preview:
        Path(preview).write_text(preview_html(built, chart, smtp.list_unsubscribe),
                                 encoding="utf-8")
        click.echo(f"preview written to {preview}", err=True)
    if not (out or preview or send):
        plain = message.get_body(("plain",))
        click.echo(plain.get_content() if plain is not None else "")
    if not send:
        return
    digest_id, fresh = queue_digest(store, subscription, start, end, built, message)
    if digest_id is None:
        click.echo(f"nothing changed for {subscription.name}: no digest sent (send_empty = false)")
        return
    if not fresh:
        click.echo(f"digest {digest_id} for this window was already built; sending it if pending")
    results = send_pending(store, smtp if subscription.recipients else None, only=digest_id)
    for result in results:
        where = masked(result.channel) if result.channel else ", ".join(subscription.recipients)
        if result.status == "sent":
            click.echo(f"digest {result.digest_id} sent to {where}")
        else:
            channel = f" to {where}" if result.channel else ""
            click.echo(f"digest {result.digest_id} not sent{channel}, kept in the outbox: "
                       f"{result.error}", err=True)
    if not results:
        click.echo(f"digest {digest_id} is not pending (see `policywatch outbox`)")


@click.command()
@click.option("--send-pending", is_flag=True, help="Try every pending digest now.")
@click.option("--resend", type=int, metavar="ID", help="Send this digest again (e.g. an uncertain one).")
@format_option
@pass_app
def outbox(app: App, send_pending: bool, resend: int | None, fmt: str) -> None:
    """Digests built and their state: pending, sent, uncertain, empty (notify-only: no mail,
    notifications only), with the state of each notification channel.

    \b
    Example:
      policywatch --config policywatch.toml outbox --send-pending
    """
    from alerts import outbox as mail_outbox
    from storage.deliveries import deliveries_of
    from storage.queries import outbox_digests

    store = app.store()
    if resend is not None:
        try:
            mail_outbox.resend(store, resend)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    if send_pending or resend is not None:
        for result in mail_outbox.send_pending(store, mail_settings(app), only=resend):
            click.echo(sent_line(result), err=True)
    mail_outbox.recover_interrupted(store)
    with store.sessions() as session:
        digests = outbox_digests(session)
        deliveries = deliveries_of(session, [d.id for d in digests])
        rows = [{"id": d.id, "subscription": d.subscription,
                 "window": f"{iso(d.window_start)} – {iso(d.window_end)}",
                 "window_start": iso(d.window_start), "window_end": iso(d.window_end),
                 "status": d.status, "attempts": d.attempts, "events": d.events,
                 "sent_at": iso(d.sent_at), "subject": d.subject, "error": d.last_error,
                 **channel_columns(deliveries[d.id])}
                for d in digests]
    click.echo(render(rows, ["id", "subscription", "window", "status", "attempts", "events",
                             "sent_at", "notified", "error"], fmt, whole=("notified",)))


def mail_settings(app: App) -> SmtpSettings | None:
    """The [smtp] settings for sending what is pending: required when a subscription has
    recipients (refused in one line without them); None when every subscription only notifies."""
    if app.config.smtp_configured or any(s.recipients for s in app.config.subscriptions) \
            or not app.config.subscriptions:
        return app.smtp()
    return None


def channel_columns(deliveries: list[Delivery]) -> dict[str, Any]:
    """A digest's notification channels as the outbox shows them: each with its state (JSON),
    and in one cell ('json://host/path: sent; ntfy://…: pending')."""
    from alerts.notify import masked

    channels = [{"channel": masked(d.channel), "status": d.status, "attempts": d.attempts,
                 "sent_at": iso(d.sent_at), "error": d.last_error} for d in deliveries]
    return {"channels": channels,
            "notified": "; ".join(f"{c['channel']}: {c['status']}" for c in channels)}


def sent_line(result: SendResult) -> str:
    """One outcome of a send, for the terminal: 'digest 3 (china) json://host/: sent'."""
    from alerts.notify import masked

    where = f" {masked(result.channel)}" if result.channel else " mail"
    return (f"digest {result.digest_id} ({result.subscription}){where}: {result.status}"
            + (f": {result.error}" if result.error else ""))


@click.group()
def mail() -> None:
    """Mail settings.

    \b
    Example:
      policywatch --config policywatch.toml mail test --to me@example.org
    """


@mail.command("test")
@click.option("--to", "to", metavar="ADDRESS", help="Recipient (default: the configured sender).")
@pass_app
def mail_test(app: App, to: str | None) -> None:
    """Send a short test message with the configured SMTP settings.

    \b
    Example:
      POLICYWATCH_SMTP_PASSWORD=... policywatch --config policywatch.toml mail test --to me@example.org
    """
    from alerts.render import build_test_message
    from alerts.smtp import MailError, send_message

    smtp = app.smtp()
    recipient = to or smtp.sender
    try:
        send_message(smtp, build_test_message(smtp, recipient), [recipient])
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"test message sent to {recipient} via {smtp.host}:{smtp.port}")


COMMANDS = (digest, outbox, mail)
