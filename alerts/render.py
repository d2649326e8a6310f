"""Render a digest: a plain-text part, an HTML part (inline CSS, no scripts, no remote
resources, everything from crawled pages escaped) and the trend chart as an inline image."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import quoprimime
from email.contentmanager import ContentManager, raw_data_manager
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from alerts.compose import Digest
from alerts.settings import SmtpSettings
from paradigms.lifecycle import STAGE_NAMES
from texts.header_safe import header_safe
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES, STAGE
from texts.word_diff import marked_html, marked_plain, word_runs

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
def _marked(before: str, after: str) -> tuple[str, str, str, str]:
    """A modified provision's stored excerpts compared once, word by word, and written for both
    parts: the before and the after as the plain-text part shows them ('…确[-需-]向…'), then
    escaped for the HTML part, the changed words in <del> or <ins>. Each side is the unchanged
    words and those deleted (the before) or inserted (the after)."""
    runs = list(word_runs(before, after))
    deleted = [run for run in runs if run.mark in ("equal", "deleted")]
    inserted = [run for run in runs if run.mark in ("equal", "inserted")]
    return marked_plain(deleted), marked_plain(inserted), marked_html(deleted), marked_html(inserted)


# The font stacks of the events, written once in the head's style sheet and named by a class:
# inline, the two stacks made 1 KB of each event's markup (half of a week's HTML part). A client
# that drops the style sheet shows the events in its own font; every colour, size and space is
# still inline.
STYLESHEET = Markup(f"<style>.sans{{font-family:{SANS};}}.serif{{font-family:{SERIF};}}</style>")

# An event of the digest, as its section of each part shows it: written here rather than in the
# templates, where Jinja's per-field lookups, escapes and calls cost four times as much for a
# week's 5,000 events. Each function gives what the template gave, character for character
# (tests/test_digest_speed.py), but for the font stacks named by class: a field the event lacks
# reads as nothing, one it holds as None as "None", as Jinja reads them.
_ARROW = '<span style="color:#6c757d;">&rarr;</span>'


def _text(record: dict, key: str) -> str:
    return str(record.get(key, ""))


def _escaped(value: Any) -> str:
    """markupsafe.escape, as a str: a text's & < > ' " written as its entities (a third of the
    time of escape, which makes a Markup of each)."""
    if type(value) is str:
        return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
                .replace("'", "&#39;").replace('"', "&#34;"))
    if type(value) is int:  # a version number: digits, nothing to escape
        return str(value)
    return str(escape(value))


def _html(record: dict, key: str) -> str:
    return _escaped(record.get(key, ""))


def _named(names: dict[str, str], key: Any) -> str:
    """A paradigm's or stage's name or colour; nothing for a key it lacks."""
    return names.get(key, "") if isinstance(key, str) else ""


def _shift_words(shift: dict, field: Callable[[dict, str], str] = _text) -> str:
    """"away from …, towards …", each paradigm written by `field` (`_html` escapes it)."""
    away, towards = shift.get("away_from"), shift.get("towards")
    return ((f"away from {field(shift, 'away_from')}" if away else "") + (", " if away and towards else "")
            + (f"towards {field(shift, 'towards')}" if towards else ""))


def event_text(kind: str, event: dict, cancelling: set[str]) -> str:
    """One event of the plain-text part."""
    lines = [f"\n* {_text(event, 'title')}\n  {_text(event, 'jurisdiction')} · {_text(event, 'source')} · "
             f"{event['detected_at'][:10]} · version {_text(event, 'version')}\n  {_text(event, 'url')}"]
    if event.get("previous_url"):
        lines.append(f"  (was {event['previous_url']})")
    if kind == STAGE:
        since = f" (since {event['stage_since']})" if event.get("stage_since") else ""
        lines.append(f"\n  Stage: {_named(STAGE_NAMES, event.get('previous_stage') or 'unknown')} → "
                     f"{_named(STAGE_NAMES, event.get('stage'))}{since}")
        if event.get("stage_quote"):
            lines.append(f"\n    {_text(event, 'stage_provision')}: \"{event['stage_quote']}\"")
        return "".join(lines) + "\n"
    if kind in ("withdrawn", "restored") and event.get("instrument") in cancelling:
        lines.append("\n  Withdrawn and restored within this window: the two changes cancel out.")
    previous, paradigm = event.get("previous_paradigm"), event.get("paradigm")
    was = f"{_named(PARADIGM_NAMES, previous)} -> " if previous and previous != paradigm else ""
    lines.append(f"\n  Paradigm: {was}{_named(PARADIGM_NAMES, paradigm)}")
    shift = event.get("shift")
    if shift:
        cited = f" ({', '.join(map(str, shift['provisions']))})" if shift.get("provisions") else ""
        lines.append(f"\n  Shift: {_shift_words(shift)}{cited}")
        for evidence in shift.get("evidence", [])[:3]:
            said = "removed" if evidence.get("removed") else _text(evidence, "paradigm")
            lines.append(f"\n    {said} · {_text(evidence, 'provision')}: \"{_text(evidence, 'quote')}\"")
    provisions = event.get("provisions")
    if provisions:
        lines += [f"\n  + {ref} added" for ref in provisions.get("added", ())]
        lines += [f"\n  - {ref} removed" for ref in provisions.get("removed", ())]
        for modified in provisions.get("modified", [])[:6]:
            before, after, _, _ = _marked(modified["before"], modified["after"])
            lines.append(f"\n  ~ {_text(modified, 'ref')}\n      before: {before}\n      after:  {after}")
    return "".join(lines) + "\n"


def _badge(paradigm: Any) -> str:
    """A paradigm's name on its colour."""
    badge = _BADGES.get(paradigm) if isinstance(paradigm, str) else None
    if badge is None:
        badge = (f'<span style="background:{_escaped(_named(PARADIGM_COLOURS, paradigm))};color:#ffffff;'
                 f'padding:2px 7px;border-radius:3px;">{_escaped(_named(PARADIGM_NAMES, paradigm))}</span>')
    return badge


_BADGES: dict[str, str] = {}
_BADGES.update((paradigm, _badge(paradigm)) for paradigm in PARADIGM_NAMES)


def event_html(kind: str, event: dict, cancelling: set[str]) -> str:
    """One event of the HTML part, every text from the store escaped."""
    language = event.get("language")
    lang = f' lang="{_escaped(language)}"' if language and language != "en" else ""
    parts = [f'\n<tr><td style="padding:12px 28px 10px 28px;">\n  <div style="font-size:17px;'
             f'line-height:23px;"{lang}><a href="{_html(event, "url")}" style="color:#1d3557;'
             f'text-decoration:none;">{_html(event, "title")}</a></div>\n  ']
    if kind in ("withdrawn", "restored") and event.get("instrument") in cancelling:
        parts.append('<div class="sans" style="font-size:12px;color:#495057;margin-top:3px;'
                     'font-style:italic;">Withdrawn and restored within this window: the two changes '
                     'cancel out.</div>')
    moved = ""
    if event.get("previous_url"):
        old_url = _escaped(event["previous_url"])
        moved = f' · moved from <a href="{old_url}" style="color:#6c757d;">{old_url}</a>'
    parts.append(f'\n  <div class="sans" style="font-size:12px;color:#6c757d;margin-top:3px;">'
                 f'{_html(event, "jurisdiction")} · {_html(event, "source")} · '
                 f'{_escaped(event["detected_at"][:10])} · version {_html(event, "version")}'
                 f'{moved}</div>\n  ')
    if kind == STAGE:
        since = (f' <span style="color:#6c757d;">since {_escaped(event["stage_since"])}</span>'
                 if event.get("stage_since") else "")
        parts.append(f'\n  <div class="sans" style="font-size:13px;margin-top:6px;color:#1d3557;">'
                     f'<b>{_escaped(_named(STAGE_NAMES, event.get("previous_stage") or "unknown"))}</b> '
                     f'{_ARROW} <b>{_escaped(_named(STAGE_NAMES, event.get("stage")))}</b>{since}</div>\n  ')
        if event.get("stage_quote"):
            parts.append(f'<table role="presentation" cellpadding="0" cellspacing="0" style="margin-top:8px;'
                         f'width:100%;"><tr><td{lang} style="border-left:3px solid #1d3557;padding:3px 10px;'
                         f'font-size:13px;line-height:18px;color:#343a40;"><span class="sans" style="'
                         f'font-size:11px;color:#6c757d;">{_html(event, "stage_provision")}</span><br>&ldquo;'
                         f'{_escaped(event["stage_quote"])}&rdquo;</td></tr></table>')
        parts.append("\n  \n</td></tr>\n")
        return "".join(parts)
    previous, paradigm = event.get("previous_paradigm"), event.get("paradigm")
    was = f'{_badge(previous)} {_ARROW} ' if previous and previous != paradigm else ""
    shift = event.get("shift")
    shifted = (f'<span style="color:#495057;margin-left:6px;">{_shift_words(shift, _html)}</span>'
               if shift else "")
    parts.append(f'\n  <div class="sans" style="font-size:12px;margin-top:6px;">\n    {was}'
                 f'{_badge(paradigm)}\n    {shifted}\n  </div>\n  ')
    if shift and shift.get("evidence"):
        parts.append('\n  <table role="presentation" cellpadding="0" cellspacing="0" style="margin-top:8px;'
                     'width:100%;">\n  ')
        for evidence in shift["evidence"][:3]:
            removed = evidence.get("removed")
            colour = "#adb5bd" if removed else _named(PARADIGM_COLOURS, evidence.get("paradigm"))
            said = "removed" if removed else f'{_html(evidence, "paradigm")} · {_html(evidence, "dimension")}'
            parts.append(f'<tr><td{lang} style="border-left:3px solid {_escaped(colour)};padding:3px 10px;'
                         f'font-size:13px;line-height:18px;color:#343a40;">\n    <span class="sans" '
                         f'style="font-size:11px;color:#6c757d;">{_html(evidence, "provision")} · {said}'
                         f'</span><br>&ldquo;{_html(evidence, "quote")}&rdquo;</td></tr>\n  ')
        parts.append("</table>")
    parts.append("\n  ")
    provisions = event.get("provisions")
    if provisions:
        parts.append('\n  <table role="presentation" cellpadding="0" cellspacing="0" class="sans" '
                     'style="margin-top:8px;width:100%;font-size:12px;">\n    ')
        parts += [f'<tr><td style="padding:2px 0;color:#2a9d8f;"><b>+ {_escaped(ref)}</b> added</td></tr>'
                  for ref in provisions.get("added", ())]
        parts.append("\n    ")
        parts += [f'<tr><td style="padding:2px 0;color:#c1121f;"><b>&minus; {_escaped(ref)}</b> removed'
                  '</td></tr>' for ref in provisions.get("removed", ())]
        parts.append("\n    ")
        for modified in provisions.get("modified", [])[:6]:
            _, _, before, after = _marked(modified["before"], modified["after"])
            parts.append(f'<tr><td style="padding:4px 0;"{lang}>\n      <b style="color:#1d3557;">'
                         f'{_html(modified, "ref")}</b> modified\n      <div class="serif" style="'
                         f'background:#fdecea;padding:4px 8px;margin-top:3px;font-size:13px;color:#6a040f;">'
                         f'{before}</div>\n      <div class="serif" style="background:#e9f7ef;'
                         f'padding:4px 8px;margin-top:2px;font-size:13px;color:#1b4332;">{after}</div>'
                         '\n    </td></tr>')
        parts.append("\n  </table>")
    parts.append("\n  \n</td></tr>\n")
    return "".join(parts)


def events_text(kind: str, events: list[dict], cancelling: set[str]) -> str:
    return "".join([event_text(kind, event, cancelling) for event in events])


def events_html(kind: str, events: list[dict], cancelling: set[str]) -> Markup:
    return Markup("".join([event_html(kind, event, cancelling) for event in events]))


_ENVIRONMENT.globals.update(events_text=events_text, events_html=events_html)


def render_text(digest: Digest, unsubscribe: str | None = None) -> str:
    return _ENVIRONMENT.get_template("digest.txt.j2").render(
        digest=digest, names=PARADIGM_NAMES, stages=STAGE_NAMES, unsubscribe=unsubscribe)


def render_html(digest: Digest, chart_cid: str | None = None, unsubscribe: str | None = None) -> str:
    return _ENVIRONMENT.get_template("digest.html.j2").render(
        digest=digest, names=PARADIGM_NAMES, stages=STAGE_NAMES, colours=PARADIGM_COLOURS,
        chart_cid=chart_cid, stylesheet=STYLESHEET,
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


BASE64_LINE_BYTES = 57  # what base64.encodebytes puts on a line: 76 characters
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
    the lines too long or ending in white space wrapped, each different one once."""
    quoted = _quoted(body)
    if "\r" in quoted:  # rare: the standard library reads CR, LF and CRLF as line breaks
        return quoprimime.body_encode(body.decode("latin-1"), max_line_length)
    lines = quoted.split("\n")
    wrapped: dict[str, str] = {}  # a week's HTML part: 70,000 lines to wrap, 8,000 different ones
    for index, line in enumerate(lines):
        if len(line) > max_line_length or line[-1:] in (" ", "\t"):
            done = wrapped.get(line)
            if done is None:
                done = wrapped[line] = _wrapped(line, max_line_length)
            lines[index] = done
    return "\n".join(lines)


def _normal_body(text: str, charset: str) -> bytes:
    """The text's bytes as the standard library writes a text body: each line (split at LF, CR
    or CRLF) ended by LF, and LF alone for no line."""
    body = text.encode(charset)
    if b"\r" in body:
        return b"".join(line + b"\n" for line in body.splitlines()) or b"\n"
    return body + b"\n" if not body.endswith(b"\n") else body


def _encoded(body: bytes, policy: Policy, width: int) -> tuple[str, str] | None:
    """The standard library's encoding of a text body and the body so encoded: 7bit or 8bit when
    every line fits, else (more than ten lines) quoted-printable or base64, whichever is shorter
    for the first ten; None for what it does otherwise."""
    if not re.search(b"[^\n]{%d}" % (width + 1), body):
        if body.isascii():
            return "7bit", body.decode("ascii")
        return ("8bit", body.decode("ascii", "surrogateescape")) if policy.cte_type == "8bit" else None
    if body.count(b"\n") <= 10 or policy.linesep != "\n":
        return None
    sniff = b"\n".join(body.split(b"\n", 10)[:10]) + b"\n"
    if len(quoprimime.body_encode(sniff.decode("latin-1"), width)) <= len(binascii.b2a_base64(sniff)):
        return "quoted-printable", quoted_printable(body, width)
    if width // 4 * 3 == BASE64_LINE_BYTES:  # the standard library's lines of base64, written at once
        return "base64", base64.encodebytes(body).decode("ascii")
    return None


def _set_text(message: EmailMessage, text: str, subtype: str = "plain", **options) -> None:
    """The standard library's text part, its body encoded once: read whole for the choice of
    encoding instead of split into lines, quoted-printable made by `quoted_printable`."""
    width = message.policy.max_line_length
    encoded = None
    if width is not None and not options.get("cte"):
        encoded = _encoded(_normal_body(text, options.get("charset", "utf-8")), message.policy, width)
    if encoded is None:
        raw_data_manager.set_content(message, text, subtype, **options)
        return
    cte, body = encoded
    raw_data_manager.set_content(message, "", subtype, cte=cte, **options)
    message.set_payload(body)


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
