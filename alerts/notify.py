"""Notifications beyond mail: a digest's text sent to an Apprise URL (Slack, Teams, Matrix,
ntfy, a JSON webhook…). Secrets stay out of the configuration file and the store: a URL may
name environment variables (`slack://${POLICYWATCH_SLACK_TOKENS}`), filled in only when sending.
"""

from __future__ import annotations

import logging
import os
import string

import apprise

from texts.header_safe import header_safe


class NotifyError(Exception):
    """A notification that did not go out, said in one line."""


def expand(url: str) -> str:
    """The URL with its ${VARIABLE}s taken from the environment."""
    try:
        return string.Template(url).substitute(os.environ)
    except KeyError as exc:
        raise NotifyError(f"environment variable {exc.args[0]} is not set") from None
    except ValueError as exc:
        raise NotifyError(f"{url}: {exc}") from None


def masked(url: str) -> str:
    """The channel as the outbox shows it: tokens and passwords masked by Apprise (a URL naming
    environment variables shows no secret and is shown as written)."""
    if "$" in url:
        return url
    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True).split("?", 1)[0] if plugin else url


def send_notification(url: str, title: str, body: str) -> None:
    """Send one notification, its title on one line; NotifyError if the URL is unknown or the
    service refused it."""
    channel = apprise.Apprise()
    if not channel.add(expand(url)):
        raise NotifyError(f"{masked(url)}: not a notification URL Apprise knows")
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        delivered = channel.notify(title=header_safe(title), body=body, body_format=apprise.NotifyFormat.TEXT)
        reasons = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
    if not delivered:
        raise NotifyError(f"{masked(url)}: " + ("; ".join(reasons[-2:]) or "not delivered"))
