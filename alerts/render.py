"""Render a digest: a plain-text part, an HTML part (inline CSS, no scripts, no remote
resources, everything from crawled pages escaped) and the trend chart as an inline image."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from alerts.compose import Digest
from alerts.settings import SmtpSettings
from paradigms.lifecycle import STAGE_NAMES
from texts.header_safe import header_safe
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES
from texts.word_diff import Mark, Run, marked_html, marked_plain, word_runs

_ENVIRONMENT = Environment(loader=PackageLoader("alerts", "templates"),
                           autoescape=select_autoescape(["html", "html.j2"]),
                           trim_blocks=False, lstrip_blocks=False)
CHART_CID_DOMAIN = "policywatch.digest"
# Font stacks with CJK fallbacks, so that Chinese, Japanese and Korean titles and excerpts show
# in whatever CJK font the reader's system has instead of empty boxes.
SERIF = ("Georgia,'Times New Roman','Noto Serif CJK SC','Source Han Serif SC','Songti SC',"
         "SimSun,'Noto Serif JP','Noto Serif KR',serif")
SANS = ("Helvetica,Arial,'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
        "'Hiragino Sans','Malgun Gothic',sans-serif")


@lru_cache(maxsize=4096)
def _runs(before: str, after: str) -> tuple[Run, ...]:
    """The excerpts compared once for both sides and both parts of the message."""
    return tuple(word_runs(before, after))


def _side(modified: dict, mark: Mark) -> list[Run]:
    """One side of a modified provision's stored excerpts, compared word by word: the unchanged
    words and those `mark`ed (deleted for the before, inserted for the after)."""
    return [run for run in _runs(modified["before"], modified["after"]) if run.mark in ("equal", mark)]


def marked_words(modified: dict, mark: Mark) -> str:
    """An excerpt for the plain-text part: '…确[-需-]向…'."""
    return marked_plain(_side(modified, mark))


def marked_words_html(modified: dict, mark: Mark) -> Markup:
    """An excerpt for the HTML part, escaped, changed words in <del> or <ins>."""
    return Markup(marked_html(_side(modified, mark)))


_ENVIRONMENT.globals.update(marked=marked_words, marked_html=marked_words_html)


def render_text(digest: Digest, unsubscribe: str | None = None) -> str:
    return _ENVIRONMENT.get_template("digest.txt.j2").render(
        digest=digest, names=PARADIGM_NAMES, stages=STAGE_NAMES, unsubscribe=unsubscribe)


def render_html(digest: Digest, chart_cid: str | None = None, unsubscribe: str | None = None) -> str:
    return _ENVIRONMENT.get_template("digest.html.j2").render(
        digest=digest, names=PARADIGM_NAMES, stages=STAGE_NAMES, colours=PARADIGM_COLOURS,
        chart_cid=chart_cid,
        unsubscribe=unsubscribe, serif=SERIF, sans=SANS)


def preview_html(digest: Digest, chart_png: bytes | None, unsubscribe: str | None = None) -> str:
    """The HTML part with the chart inlined as a data URI, to open in a browser."""
    html = render_html(digest, "chart" if chart_png else None, unsubscribe)
    if chart_png:
        data = base64.b64encode(chart_png).decode("ascii")
        html = html.replace('src="cid:chart"', f'src="data:image/png;base64,{data}"')
    return html


def _stamp(message: EmailMessage, kind: str, smtp: SmtpSettings, now: datetime | None) -> None:
    """The headers every message of the product carries: date, a Message-ID of the sender's
    domain, and Auto-Submitted (so that no vacation reply answers it)."""
    message["Date"] = format_datetime(now or datetime.now(UTC))
    domain = smtp.sender.rsplit("@", 1)[-1] or "policywatch.localhost"
    message["Message-ID"] = make_msgid(kind, domain=domain)
    message["Auto-Submitted"] = "auto-generated"


def build_test_message(smtp: SmtpSettings, recipient: str, now: datetime | None = None) -> EmailMessage:
    """The short message `policywatch mail test` sends to check the mail settings."""
    message = EmailMessage()
    message["Subject"] = "policywatch: test message"
    message["From"], message["To"] = smtp.sender, recipient
    _stamp(message, "test", smtp, now)
    message.set_content("This is a test message from policywatch: the mail settings work.\n")
    return message


def build_message(digest: Digest, recipients: tuple[str, ...], smtp: SmtpSettings,
                  chart_png: bytes | None = None, now: datetime | None = None) -> EmailMessage:
    """multipart/alternative: text/plain, then multipart/related (text/html + image/png)."""
    message = EmailMessage()
    message["Subject"] = header_safe(digest.subject())
    message["From"] = smtp.sender
    message["To"] = ", ".join(recipients)
    _stamp(message, "digest", smtp, now)
    message["X-Policywatch-Digest"] = header_safe(f"{digest.subscription}; "
                                                  f"{digest.since:%Y-%m-%dT%H:%MZ}/"
                                                  f"{digest.until:%Y-%m-%dT%H:%MZ}")
    if smtp.list_unsubscribe:
        message["List-Unsubscribe"] = f"<{smtp.list_unsubscribe}>"
    message.set_content(render_text(digest, smtp.list_unsubscribe))
    chart_cid = make_msgid("chart", domain=CHART_CID_DOMAIN) if chart_png else None
    message.add_alternative(render_html(digest, chart_cid[1:-1] if chart_cid else None,
                                        smtp.list_unsubscribe), subtype="html")
    if chart_png:
        _, html_part = message.iter_parts()
        html_part.add_related(chart_png, "image", "png", cid=chart_cid,
                              filename="paradigm-trends.png")
    return message
