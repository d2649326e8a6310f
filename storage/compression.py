"""How the store compresses what it keeps whole: raw snapshots and version texts.

zstandard at level 3: on the 126 real pages of ../shared/realpages/ it stores what zlib at level
6 stores (4.9× against 5.0×) at a third of the CPU to compress and under half to decompress
(`python3 bench/snapshot_compression.py`). What was written with zlib before is read as it was: a
zstandard frame starts with its magic number, a zlib stream never does.

A snapshot is compressed against what the store already holds (`pack_against`), as a zstandard
raw-content dictionary: the text of the version it produced (most of a page's bytes are its main
text) and, when there is one, a base page of the same source (its template: navigation, scripts,
footer). Such a blob says what it needs: its mark, the SHA-256 of the text (a version's
`text_hash`) and, behind the second mark, the base snapshot's id and its instrument's. A base is
itself stored against its text alone, so a read never follows more than one step. On the
comparison web's 2,000 pages the snapshots' frames go from 25.0 MB to 1.8 MB; real pages, whose
text is a smaller share, shrink by 14–17 % (`python3 bench/store_size.py`, bench/README.md).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Neither a zstandard frame nor a zlib stream (whose first byte's low nibble is 8) starts so.
AGAINST_TEXT = b"PWt\x01"  # mark, SHA-256 of the text, frame
AGAINST_PAGE = b"PWp\x01"  # mark, SHA-256 of the text, base snapshot id, its instrument id, frame
DIGEST_BYTES = 32
ID_BYTES = 8
LEVEL = 3


class MissingReference(LookupError):
    """A blob compressed against a text or a page that was not given."""


@dataclass(frozen=True)
class Base:
    """A base page: the snapshot's id, the instrument whose version it produced, its bytes."""

    snapshot_id: int
    instrument_id: int
    body: bytes


@dataclass(frozen=True)
class References:
    """What a blob was compressed against: a text's hex SHA-256, and the ids of a base page."""

    text_digest: str
    base_snapshot_id: int | None = None
    base_instrument_id: int | None = None


def pack(data: bytes) -> bytes:
    return zstandard.compress(data, LEVEL)


def _dictionary(text: bytes, base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base + text, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def pack_against(data: bytes, text: bytes, base: Base | None = None) -> bytes:
    """`data` compressed against `text` (the text it produced) and a base page, behind the marks
    naming them; a plain `pack` when the text is empty."""
    if not text:
        return pack(data)
    head = AGAINST_TEXT + hashlib.sha256(text).digest()
    if base is not None:
        head = AGAINST_PAGE + head[len(AGAINST_TEXT):] + base.snapshot_id.to_bytes(ID_BYTES, "big") + \
            base.instrument_id.to_bytes(ID_BYTES, "big")
    frame = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(
        text, base.body if base is not None else b"")).compress(data)
    return head + frame


def references(stored: bytes) -> References | None:
    """What a blob needs to be read; None when it needs nothing."""
    mark = stored[:len(AGAINST_TEXT)]
    if mark not in (AGAINST_TEXT, AGAINST_PAGE):
        return None
    start = len(mark)
    digest = stored[start:start + DIGEST_BYTES].hex()
    if mark == AGAINST_TEXT:
        return References(digest)
    ids = start + DIGEST_BYTES
    return References(digest, int.from_bytes(stored[ids:ids + ID_BYTES], "big"),
                      int.from_bytes(stored[ids + ID_BYTES:ids + 2 * ID_BYTES], "big"))


def unpack(stored: bytes, text: bytes | None = None, base: bytes | None = None) -> bytes:
    """The bytes `pack` or `pack_against` was given (`text`, `base`: the text and the base page's
    bytes it was compressed against), or those of a zlib stream of an older store."""
    needs = references(stored)
    if needs is None:
        if stored[:4] == ZSTD_MAGIC:
            return zstandard.decompress(stored)
        return zlib.decompress(stored)
    if text is None or hashlib.sha256(text).hexdigest() != needs.text_digest:
        raise MissingReference(f"compressed against the text with SHA-256 {needs.text_digest}, "
                               "which was not given")
    if needs.base_snapshot_id is not None and base is None:
        raise MissingReference(f"compressed against snapshot {needs.base_snapshot_id}, which was not given")
    ids = 2 * ID_BYTES if needs.base_snapshot_id is not None else 0
    frame = stored[len(AGAINST_TEXT) + DIGEST_BYTES + ids:]
    return zstandard.ZstdDecompressor(dict_data=_dictionary(text, base or b"")).decompress(frame)
