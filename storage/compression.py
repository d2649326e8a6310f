"""How the store compresses what it keeps whole: raw snapshots and version texts.

zstandard at level 3: on the 126 real pages of ../shared/realpages/ it stores what zlib at level
6 stores (4.9× against 5.0×) at a third of the CPU to compress and under half to decompress
(`python3 bench/snapshot_compression.py`). What was written with zlib before is read as it was: a
zstandard frame starts with its magic number, a zlib stream never does.

A snapshot is compressed against the text of the version it produced (`pack_against`): most of a
page's bytes are its main text, which the version already holds, so the text serves as a
zstandard raw-content dictionary and the snapshot keeps little more than the page's markup
(5.1 MB of snapshots become 0.9 MB on the comparison web, `python3 bench/store_size.py`). Such a
blob starts with its own mark and the SHA-256 of that text (a version's `text_hash`), so that a
reader knows which text it needs and whether it has it.
"""

from __future__ import annotations

import hashlib
import zlib

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Neither a zstandard frame nor a zlib stream (whose first byte's low nibble is 8) starts so.
AGAINST_TEXT = b"PWt\x01"
DIGEST_BYTES = 32
LEVEL = 3


class MissingReference(LookupError):
    """A blob compressed against a text that was not given."""


def pack(data: bytes) -> bytes:
    return zstandard.compress(data, LEVEL)


def pack_against(data: bytes, reference: bytes) -> bytes:
    """`data` compressed with `reference` (the text it produced) as a dictionary, behind the mark
    and the reference's SHA-256; a plain `pack` when the reference is empty."""
    if not reference:
        return pack(data)
    dictionary = zstandard.ZstdCompressionDict(reference, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    frame = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary).compress(data)
    return AGAINST_TEXT + hashlib.sha256(reference).digest() + frame


def reference_digest(stored: bytes) -> str | None:
    """The hex SHA-256 of the text a blob was compressed against; None when it needs none."""
    if stored[:len(AGAINST_TEXT)] != AGAINST_TEXT:
        return None
    return stored[len(AGAINST_TEXT):len(AGAINST_TEXT) + DIGEST_BYTES].hex()


def unpack(stored: bytes, reference: bytes | None = None) -> bytes:
    """The bytes `pack` or `pack_against` was given (`reference`: the text of the latter), or
    those of a zlib stream of an older store."""
    digest = reference_digest(stored)
    if digest is not None:
        if reference is None or hashlib.sha256(reference).hexdigest() != digest:
            raise MissingReference(f"compressed against the text with SHA-256 {digest}, which was not given")
        dictionary = zstandard.ZstdCompressionDict(reference, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        frame = stored[len(AGAINST_TEXT) + DIGEST_BYTES:]
        return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(frame)
    if stored[:4] == ZSTD_MAGIC:
        return zstandard.decompress(stored)
    return zlib.decompress(stored)
