"""The fetch limit: every URL of a file fetched once with aiohttp, 4 connections per host.

    python3 bench/fetch_all.py urls.txt
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp


async def fetch_all(urls: list[str]) -> int:
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=4)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def fetch(url: str) -> int:
            async with session.get(url) as response:
                return len(await response.read())

        sizes = await asyncio.gather(*(fetch(url) for url in urls))
    return sum(sizes)


def main() -> None:
    urls = [line.strip() for line in open(sys.argv[1]) if line.strip()]
    total = asyncio.run(fetch_all(urls))
    print(f"{len(urls)} pages, {total} bytes")


if __name__ == "__main__":
    main()
