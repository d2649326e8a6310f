"""How the store compresses what it keeps whole: raw snapshots and version texts.

zstandard at level 3: on the 126 real pages of ../shared/realpages/ it stores what zlib at level
6 stores (4.9× against 5.0×) at a third of the CPU to compress and under half to decompress
(`python3 bench/snapshot_compression.py`). What was written with zlib before is read as it was: a
zstandard frame starts with its magic number, a zlib stream never does.
"""

from __future__ import annotations

import zlib

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LEVEL = 3


def pack(data: bytes) -> bytes:
    return zstandard.compress(data, LEVEL)


def unpack(stored: bytes) -> bytes:
    """The bytes `pack` was given, or those of a zlib stream of an older store."""
    if stored[:4] == ZSTD_MAGIC:
        return zstandard.decompress(stored)
    return zlib.decompress(stored)
