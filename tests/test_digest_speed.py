"""The cheaper digest renders exactly what the templates rendered before: the same text part, the
same HTML part but for the font stacks named by class, the message the standard library would
build, for a generated history that takes every branch of the templates, and the same
quoted-printable bodies as the standard library for any text."""

from __future__ import annotations

import gc
import hashlib
import random
import re
from dataclasses import asdict
from datetime import date, datetime, timedelta
from email import quoprimime
from email.contentmanager import raw_data_manager
from email.message import EmailMessage
from email.policy import default

import pytest
from markupsafe import Markup, escape

from alerts.compose import compose_digest, one_line
from alerts.render import (
    _TEXT_CONTENT,
    SANS,
    SERIF,
    STYLESHEET,
    _escaped,
    build_message,
    events_html,
    quoted_printable,
    render_html,
    render_text,
)
from alerts.settings import DigestFilter, SmtpSettings, Subscription
from paradigms.trends import Flag, Period
from policywatch.digests import as_dict, collection_paused
from texts.header_safe import header_safe

SINCE = datetime(2026, 11, 24, 7, 0)
UNTIL = SINCE + timedelta(days=7)
KINDS = ("new", "stage", "amended", "withdrawn", "restored", "moved", "technical")
PARADIGMS = ("facilitation", "prudent", "restrictive", "unknown")
STAGES = ("draft", "consultation", "adopted", "in_force", "repealed", "unknown", None, "odd")
WORDS = ("data", "transfer", "<b>bold</b>", "A & B", '"quoted"', "it's", "数据出境", "安全评估",
         "個人情報", "개인정보", "café", "=3D", "x=y", "tab\there", "line\nbreak", "  spaced  ",
         "\u2028sep", "\x00nul", "·", "→", "naïve", "{{ not }}", "{% raw %}", "é" * 40, "a" * 90)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, words)))


def _maybe(rng: random.Random, value):
    return value if rng.random() < 0.5 else None


def generated_events(seed: int, count: int) -> list[dict]:
    """History events as `storage.queries.history` gives them, with every optional part."""
    rng = random.Random(seed)
    events = []
    for index in range(count):
        kind = rng.choice(KINDS)
        uid = f"src-{rng.randint(1, 5)}/i-{rng.randint(1, count // 3 + 1)}"
        event: dict = {
            "instrument": uid, "source": rng.choice(("src-1", "src-<2>", "src&3")),
            "jurisdiction": rng.choice(("CN", "EU", "JP", "KR", "U\"S")),
            "level": rng.choice(("national", "supranational")),
            "language": rng.choice((None, "en", "zh", "ja", 'k"o')),
            "title": _text(rng, 8) or "Untitled", "url": f"https://example.org/{index}?a=1&b=<2>",
            "change": kind,
            "detected_at": (SINCE + timedelta(seconds=rng.randint(-3600, 7 * 86400)))
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": rng.randint(1, 30), "baseline": rng.random() < 0.05,
            "paradigm": rng.choice(PARADIGMS), "previous_paradigm": _maybe(rng, rng.choice(PARADIGMS)),
            "stage": rng.choice(STAGES) or "unknown",
        }
        if kind == "stage":
            event["previous_stage"] = rng.choice(STAGES)
            event["stage_quote"] = _text(rng, 6)
            event["stage_provision"] = rng.choice(("Article 1", "Title", ""))
            event["stage_since"] = _maybe(rng, "2026-12-01")
        if rng.random() < 0.3:
            event["previous_url"] = f"https://example.org/old/{index}?q=<x>"
        if kind in ("amended", "restored") and rng.random() < 0.8:
            event["provisions"] = {
                "added": [_text(rng, 2) for _ in range(rng.randint(0, 3))],
                "removed": [_text(rng, 2) for _ in range(rng.randint(0, 2))],
                "modified": [{"ref": f"Article {n}", "before": _text(rng, 12), "after": _text(rng, 12)}
                             for n in range(rng.choice((0, 1, 2, 7)))]}
        if rng.random() < 0.4:
            event["shift"] = {
                "away_from": _maybe(rng, rng.choice(PARADIGMS)), "towards": _maybe(rng, rng.choice(PARADIGMS)),
                "provisions": [f"Article {n}" for n in range(rng.randint(0, 3))],
                "evidence": [{"paradigm": rng.choice(PARADIGMS[:3]), "dimension": rng.choice(("scope", "mechanism")),
                              "provision": f"Article {n}", "quote": _text(rng, 6),
                              "removed": rng.random() < 0.3} for n in range(rng.randint(0, 4))]}
        events.append(event)
    for event in events[:4]:  # withdrawn, then restored: the two cancel out
        events.append({**event, "change": "restored", "detected_at": UNTIL.strftime("%Y-%m-%dT%H:%M:%SZ")})
        event["change"] = "withdrawn"
    return events


def generated_digest(seed: int = 3, count: int = 300, **filters):
    rng = random.Random(seed)
    flags = [{"period": str(2020 + n), "kind": "shift", "jurisdiction": rng.choice((None, "CN", "EU")),
              "message": f"CN moved towards <restrictive> {n}\nnext",
              "instruments": [f"src-1/i-{k}" for k in range(rng.randint(0, 8))]} for n in range(4)]
    coverage = [{"source": "src-1", "failures": n, "error": "timed out <after> 30 s",
                 "last_success": _maybe(rng, "2026-11-20T10:00:00Z")} for n in range(3)]
    thin = [{"source": "src-2", "url": _maybe(rng, "https://example.org/thin?a&b"),
             "message": "only 4 % of the page is watched"} for _ in range(2)]
    subscription = Subscription(name="weekly <all>", recipients=("a@example.org", "b@example.org"),
                                window="7d", filter=DigestFilter(**filters))
    return compose_digest(subscription, generated_events(seed, count), SINCE, UNTIL, flags, coverage,
                          [{"period": "2026", "shares": {}}], "https://watch.example.org/", thin)


def message_bytes(message: EmailMessage) -> bytes:
    """The message with its random MIME boundaries made constant."""
    return re.sub(rb"===============[0-9]+==", b"=====boundary=====", message.as_bytes(policy=default))


def digests() -> list:
    return [generated_digest(), generated_digest(seed=4, count=40, jurisdictions=("CN",)),
            generated_digest(seed=5, count=0)]


# sha256 of each part as the templates rendered them before the renderer was made cheaper (the
# HTML part with its font stacks inline, as `with_inline_fonts` puts them back).
EXPECTED_TEXT = [
    "1c27ab6b48c17a172588289dc52bd46a540d74f0d91f1e6bad79fb40e00ba443",
    "77b43802412ff7aa434b2088fe91791ad47bc8a62b0908ab6e1ba9f4533a5e3f",
    "72d52012522277c9c5238405bf5358d2f7170a5400a39c5cfe7aa3c05c518cb1",
]
EXPECTED_HTML = [
    "d489c75ad742947eb82762dc5a24b035e675453810048cd01943cb1dfc712ee7",
    "ff7e8a7a179e3c7c4df659ff932334b675625dd79bdda01881c17fd1f44dda21",
    "a795d67ba2a1c532288a1de0b2676dffb2765ba478bbae675cc58728ac157cc1",
]
# The whole message since the font stacks went to the style sheet; the standard library builds
# the same (test_the_message_is_what_the_standard_library_builds).
EXPECTED_MESSAGE = [
    "76bc2690eeb86c500a407b1e2646574f1e5bcaa364cf64b9d979aff97d596312",
    "d6b19072c42ed95c9c8fbc389908f69ecc5983c851123c81a1ae2a3125d8b58c",
    "6539143826eff0672ad152aa5fe347470b779476b6a4f79d2d4b9652a97e4d00",
]


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def with_inline_fonts(html: str) -> str:
    """The HTML part as it was before the font stacks went to the style sheet: no style sheet, and
    each element's stack back in its style, before the font size it came before."""
    stacks = {"sans": str(escape(SANS)), "serif": str(escape(SERIF))}
    return re.sub(r' class="(sans|serif)" style="([^"]*?)font-size:',
                  lambda found: f' style="{found[2]}font-family:{stacks[found[1]]};font-size:',
                  html.replace(STYLESHEET, "", 1))


@pytest.mark.parametrize("index", range(3))
def test_the_parts_are_what_the_templates_gave(index):
    digest = digests()[index]
    assert _sha(render_text(digest, "mailto:leave@example.org")) == EXPECTED_TEXT[index]
    html = render_html(digest, "chart-id", "mailto:leave@example.org")
    assert html.count(STYLESHEET) == 1 and html.index(STYLESHEET) < html.index("</head>")
    assert _sha(with_inline_fonts(html)) == EXPECTED_HTML[index]


def test_the_events_name_their_font_stacks_by_class():
    digest = digests()[0]
    events = "".join(events_html(kind, events, digest.cancelling) for kind, events in digest.sections.items())
    assert "font-family" not in events and events.count(' class="serif" ') > 20
    assert "Noto Sans CJK SC" in STYLESHEET and "Noto Serif CJK SC" in STYLESHEET and "&#39;" not in STYLESHEET


def _message(index: int) -> bytes:
    smtp = SmtpSettings(sender="digest@example.org", list_unsubscribe="mailto:leave@example.org")
    return message_bytes(build_message(digests()[index], ("a@example.org",), smtp,
                                       b"\x89PNG\r\n\x1a\n" + bytes(range(256)), now=UNTIL))


@pytest.mark.parametrize("index", range(3))
def test_the_message_is_byte_for_byte_what_it_was(index, monkeypatch):
    monkeypatch.setattr("alerts.render.make_msgid", lambda kind, domain: f"<{kind}.1@{domain}>")
    assert _sha(_message(index)) == EXPECTED_MESSAGE[index]


@pytest.mark.parametrize("index", range(3))
def test_the_message_is_what_the_standard_library_builds(index, monkeypatch):
    monkeypatch.setattr("alerts.render.make_msgid", lambda kind, domain: f"<{kind}.1@{domain}>")
    cheaper = _message(index)
    monkeypatch.setattr("alerts.render._TEXT_CONTENT", raw_data_manager)
    assert cheaper == _message(index)


def test_quoted_printable_is_the_standard_librarys():
    rng = random.Random(1)
    alphabet = "ab =\t \n.é数\x85\x0b\x1c\u2028·→\r" + "x" * 10
    texts = ["", "=", " ", "\t\n", "a" * 75 + " ", "a" * 74 + "=", "a" * 73 + "é", "a" * 76, "a" * 77,
             "a" * 75 + "\t\nb", "\n\n", "é" * 100]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _ in range(3000)]
    for text in texts:
        body = b"\n".join(text.encode().splitlines()) + b"\n"
        assert quoted_printable(body) == quoprimime.body_encode(body.decode("latin-1"), 78), repr(text)


def test_a_text_part_is_what_the_standard_librarys_content_manager_makes():
    """Short and long lines, more and fewer than ten, CR and CRLF, ASCII or not: the same headers
    and body, whichever encoding the standard library picks."""
    rng = random.Random(3)
    alphabet = "ab =\t \n.é数\r" + "x" * 30
    texts = ["", "a", "a\n" * 11, "a" * 80, ("a" * 80 + "\n") * 11, ("a" * 80 + "\r\n") * 12,
             ("é" * 50 + "\r") * 12, ("a" * 80 + "\n") * 11 + "end", "\n" * 20 + "a" * 90]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 2000))) for _ in range(400)]
    for text in texts:
        for subtype in ("plain", "html"):
            cheaper, standard = EmailMessage(), EmailMessage()
            cheaper.set_content(text, subtype, content_manager=_TEXT_CONTENT)
            standard.set_content(text, subtype, content_manager=raw_data_manager)
            assert cheaper.as_bytes() == standard.as_bytes(), repr(text)


def test_one_line_is_header_safe_on_every_text_at_any_depth():
    rng = random.Random(2)
    alphabet = " a\t\n\r\xa0\u3000\u2028\u2029\x85\x1c\x7f\x00é\u200b\xad数  "
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
        assert one_line(text) == header_safe(text), repr(text)
        nested = {"title": text, "n": 3, "none": None, "flag": True, "list": [text, []],
                  "provisions": {"added": [], "modified": [{"ref": text}]}, "pair": (text, 1)}
        assert one_line(nested) == {"title": header_safe(text), "n": 3, "none": None, "flag": True,
                                    "list": [header_safe(text), []],
                                    "provisions": {"added": [], "modified": [{"ref": header_safe(text)}]},
                                    "pair": (header_safe(text), 1)}


def test_a_list_of_texts_is_put_on_one_line_text_by_text():
    """Lists of texts only (a flag's instrument ids), which are told spaced once all at once."""
    rng = random.Random(4)
    alphabet = " a|\t\n\xa0\x00é数" + "x" * 8
    for _ in range(5000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
                 for _ in range(rng.randint(0, 5))]
        assert one_line(texts) == [header_safe(text) for text in texts], repr(texts)
        assert one_line(tuple(texts)) == tuple(header_safe(text) for text in texts), repr(texts)
    ids = [f"src-{n}/i-{n}" for n in range(2000)]
    assert one_line(ids) == ids and one_line(ids) is not ids


def test_trend_records_are_copied_as_asdict_copies_them():
    period = Period("2026", date(2026, 12, 31), 3, {"prudent": 2}, {"prudent": 0.5},
                    {"national": {"prudent": 0.5}}, ["cn/a", "cn/b"])
    flag = Flag("jurisdiction-shift", "2026", "CN moved", "restrictive", "CN", ["cn/a"])
    for record in (period, flag, Flag("share-move", "2025", "up")):
        copied = as_dict(record)
        assert copied == asdict(record)
        assert all(copied[key] is not value for key, value in vars(record).items()
                   if isinstance(value, list | dict))


def test_the_collector_is_paused_for_the_build_only():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_texts_are_escaped_as_markupsafe_escapes_them():
    rng = random.Random(4)
    for _ in range(20000):
        text = "".join(rng.choice("a&<>\"'é数 ;#") for _ in range(rng.randint(0, 8)))
        assert _escaped(text) == str(escape(text))
    for value in (None, 3, True, 2.5, Markup("<b>kept</b>")):
        assert _escaped(value) == str(escape(value))
