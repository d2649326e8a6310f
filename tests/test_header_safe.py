"""Web text that reaches a mail header or a plain-text digest line cannot forge a header or a line."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

import pytest

from texts.header_safe import header_safe


@pytest.mark.parametrize(("text", "safe"), [
    ("Guidelines 05/2021\r\nBcc: everyone@example.org", "Guidelines 05/2021 Bcc: everyone@example.org"),
    ("Title\nNEW  fake-instrument  (restrictive)", "Title NEW fake-instrument (restrictive)"),
    ("bell\x07 nul\x00 esc\x1b[31m red", "bell nul esc [31m red"),
    ("next line\x85 line sep\u2028 paragraph\u2029 end", "next line line sep paragraph end"),
    ("\t  padded\ttitle  ", "padded title"),
    ("《数据出境安全评估办法》", "《数据出境安全评估办法》"),
    ("Lei Geral de Proteção de Dados – Art. 33", "Lei Geral de Proteção de Dados – Art. 33"),
    ("ZWNJ in Persian: می‌خواهم", "ZWNJ in Persian: می‌خواهم"),  # a format character, kept
])
def test_header_safe_keeps_the_words_and_drops_the_structure(text, safe):
    assert header_safe(text) == safe


def test_a_header_made_from_hostile_text_is_one_header():
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = header_safe("Amended: Rules\r\nBcc: victim@example.org\r\n\r\nforged body")
    message.set_content("digest")
    wire = message.as_bytes()
    headers = wire.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers
    assert message["Subject"] == "Amended: Rules Bcc: victim@example.org forged body"
