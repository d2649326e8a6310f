"""Render a digest: a plain-text part, an HTML part (inline CSS, no scripts, no remote
resources, everything from crawled pages escaped) and the trend chart as an inline image."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from email import quoprimime
from email.contentmanager import ContentManager, raw_data_manager
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from alerts.compose import Digest
from alerts.settings import SmtpSettings
from paradigms.lifecycle import STAGE_NAMES
from texts.header_safe import header_safe
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES
from texts.word_diff import Mark, Run, marked_html, marked_plain, word_runs

_DICT_ATTRIBUTES = frozenset(dir(dict))


class _DigestEnvironment(Environment):
    """Jinja's environment, with `e.title` of an event read as its key without a try of the
    attribute first, which on a dict costs an exception for every field of every event (and two
    for a field it lacks). Names of dict attributes are looked up as Jinja looks them up."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


_ENVIRONMENT = _DigestEnvironment(loader=PackageLoader("alerts", "templates"),
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


_PLAIN = bytes(range(0x20, 0x7F)) + b"\t\r\n"  # what a quoted-printable body keeps as it is, but '='


def _quoted(body: bytes) -> str:
    """Each byte of `body` but printable ASCII, tab, CR and LF written =XX: one replacement per
    distinct byte ('=' first, since the others bring '=' in)."""
    quoted = body.replace(b"=", b"=3D")
    for byte in sorted(set(body.translate(None, _PLAIN))):
        quoted = quoted.replace(bytes((byte,)), b"=%02X" % byte)
    return quoted.decode("ascii")


def _wrapped(line: str, max_line_length: int) -> str:
    """One quoted line as the standard library wraps it: a soft break ('=' and a line break)
    after as many characters as fit, never inside an =XX, and white space ending the line
    quoted or kept before a soft break."""
    pieces, start, last_start = [], 0, len(line) - 1 - max_line_length
    while start <= last_start:
        cut = start + max_line_length - 1
        if line[cut - 2] == "=":
            cut -= 2
        elif line[cut - 1] == "=":
            cut -= 1
        pieces.append(line[start:cut] + "=")
        start = cut
    if line[-1:] in (" ", "\t"):
        room = start - last_start
        if room >= 3:
            pieces.append(line[start:-1] + quoprimime.quote(line[-1]))
        elif room == 2:
            pieces.append(line[start:-1] + line[-1] + "=\n")
        else:
            pieces.append(line[start:-1] + "=\n" + quoprimime.quote(line[-1]))
    else:
        pieces.append(line[start:])
    return "\n".join(pieces)


def quoted_printable(body: bytes, max_line_length: int = 78) -> str:
    """`quoprimime.body_encode(body.decode("latin-1"), max_line_length)`, the same text, made
    cheaper: the bytes quoted by one replacement each instead of a per-character table, and only
    the lines too long or ending in white space wrapped."""
    quoted = _quoted(body)
    if "\r" in quoted:  # rare: the standard library reads CR, LF and CRLF as line breaks
        return quoprimime.body_encode(body.decode("latin-1"), max_line_length)
    lines = quoted.split("\n")
    for index, line in enumerate(lines):
        if len(line) > max_line_length or line[-1:] in (" ", "\t"):
            lines[index] = _wrapped(line, max_line_length)
    return "\n".join(lines)


def _sniffed_quoted_printable(lines: list[bytes], policy: Policy) -> int | None:
    """The line length if the standard library would encode these lines (more than ten, some
    too long for a line) as quoted-printable: it compares its two encodings of the first ten."""
    width = policy.max_line_length
    if width is None or len(lines) <= 10 or max(len(line) for line in lines) <= width:
        return None
    sniff = policy.linesep.encode("ascii").join(lines[:10]) + policy.linesep.encode("ascii")
    quoted = len(quoprimime.body_encode(sniff.decode("latin-1"), width))
    return width if quoted <= len(binascii.b2a_base64(sniff)) else None


def _set_text(message: EmailMessage, text: str, subtype: str = "plain", **options) -> None:
    """The standard library's text part, its quoted-printable body made by `quoted_printable`."""
    lines = text.encode(options.get("charset", "utf-8")).splitlines()
    width = None if options.get("cte") else _sniffed_quoted_printable(lines, message.policy)
    if width is None:
        raw_data_manager.set_content(message, text, subtype, **options)
        return
    raw_data_manager.set_content(message, "", subtype, cte="quoted-printable", **options)
    message.set_payload(quoted_printable(b"\n".join(lines) + b"\n", width))


_TEXT_CONTENT = ContentManager()  # the message's two text parts (the chart is added as before)
_TEXT_CONTENT.add_set_handler(str, _set_text)


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
    message.set_content(render_text(digest, smtp.list_unsubscribe), content_manager=_TEXT_CONTENT)
    chart_cid = make_msgid("chart", domain=CHART_CID_DOMAIN) if chart_png else None
    message.add_alternative(render_html(digest, chart_cid[1:-1] if chart_cid else None,
                                        smtp.list_unsubscribe), subtype="html", content_manager=_TEXT_CONTENT)
    if chart_png:
        _, html_part = message.iter_parts()
        html_part.add_related(chart_png, "image", "png", cid=chart_cid,
                              filename="paradigm-trends.png")
    return message
