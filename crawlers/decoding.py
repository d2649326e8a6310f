"""Turn fetched bytes into text: the declared charset when it fits, otherwise a careful guess.

Regulators publish in GBK, GB18030, Big5, Shift_JIS and Windows-1252 as often as in UTF-8, and
headers lie (a GBK body served as utf-8). A candidate charset is accepted only if the bytes decode
strictly; legacy labels are widened to their supersets (GBK → GB18030, Shift_JIS → CP932).
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_SUPERSETS = {
    "gbk": "gb18030", "gb2312": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
    "big5": "big5hkscs", "cp950": "big5hkscs",
    "shift_jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "euc-kr": "cp949",
}
# Charsets to try, by the source's declared language, when nothing declared fits.
_BY_LANGUAGE = {
    "zh": ("gb18030", "big5hkscs"), "ja": ("cp932", "euc_jp"), "ko": ("cp949",),
    "ru": ("cp1251", "koi8_r"), "ar": ("cp1256",), "vi": ("cp1258",), "tr": ("cp1254",),
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.\-]+)", re.I)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _normal_codec(label: str) -> str | None:
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Charsets named by the BOM, the Content-Type header and the page's own <meta>, in that order."""
    found: list[str] = []
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            found.append(codec)
    if content_type and (match := _HEADER_CHARSET.search(content_type)):
        found.append(match.group(1))
    if meta := _META_CHARSET.search(body[:4096]):
        found.append(meta.group(1).decode("ascii", "replace"))
    codecs_found = [c for c in (_normal_codec(label) for label in found) if c]
    return list(dict.fromkeys(codecs_found))


def _plausible(text: str, languages: tuple[str, ...]) -> bool:
    """A decode into a CJK language should produce CJK characters."""
    if any(lang.split("-")[0] in ("zh", "ja", "ko") for lang in languages):
        letters = [c for c in text if not c.isascii()]
        return not letters or len(_CJK.findall(text)) >= len(letters) * 0.5
    return True


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp125", "iso8859", "koi8", "mac-"))


def _utf8_with_multibyte(body: bytes) -> bool:
    """Valid UTF-8 with non-ASCII characters: a single-byte text almost never is."""
    if not _UTF8_MULTIBYTE.search(body):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_body(body: bytes, content_type: str | None = None,
                languages: tuple[str, ...] = ()) -> tuple[str, str]:
    """Decode a page; return (text, codec used).

    A single-byte charset decodes any bytes, so when one is declared but the body is valid
    UTF-8 with multi-byte characters (a template saying iso-8859-1 around UTF-8 text), UTF-8 wins.
    """
    candidates = declared_charsets(body, content_type) + ["utf-8"]
    if candidates and _single_byte(candidates[0]) and _utf8_with_multibyte(body):
        return body.decode("utf-8").lstrip("\ufeff"), "utf-8"
    for codec in dict.fromkeys(candidates):
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if codec == "utf-8" or _plausible(text, languages):
            return text.lstrip("\ufeff"), codec
    # Detection needs material: on a few dozen bytes the language's usual charset is the better bet.
    enough = sum(1 for byte in body if byte > 0x7F) >= 200
    guess = charset_normalizer.from_bytes(body).best() if enough or not languages else None
    guessed = _normal_codec(guess.encoding) if guess is not None and guess.encoding else None
    expected = [c for lang in languages for c in _BY_LANGUAGE.get(lang.split("-")[0], ())]
    if guess is not None and guessed and (not expected or guessed in expected):
        return str(guess), guessed
    for codec in expected:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        if _plausible(text, languages):
            return text, codec
    if guess is not None and guessed:
        return str(guess), guessed
    return body.decode("cp1252", errors="replace"), "cp1252"
