"""Politeness is per host, whichever source asks: many sources on few loopback hosts, counted at
the server. A download slot is a host name (Scrapy's default key), so the two ports of one
address share the limit, as two sites on one machine do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.web.hostile import Answer, Host, declaration, law_page, redirect, start, stop

PER_HOST = 4  # `[crawl] per_host` default (CONCURRENT_REQUESTS_PER_DOMAIN)
SOURCES = 120
HOLD = 0.05  # seconds each answer is held, so that requests to one host overlap


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[Host]]:
    started = start("127.0.0.50", "127.0.0.50", "127.0.0.51", "127.0.0.52")
    yield started
    stop(started)


def test_many_sources_on_few_hosts_keep_the_per_host_limit(hosts: list[Host], tmp_path: Path,
                                                           db_url: str) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    routes: list[dict[str, Answer]] = [{} for _ in hosts]
    for number in range(SOURCES):
        at, to = number % len(hosts), (number + 1) % len(hosts)
        path, page = f"/doc/{number}", Answer(200, law_page(f"Notice {number}"), hold=HOLD)
        declared = declaration(f"load-{number}", hosts[at].url(path))
        if number % 3 == 0 and hosts[to].address != hosts[at].address:
            # A redirect to another declared host: the hop waits its turn on that host.
            routes[at][path], routes[to][path] = redirect(302, hosts[to].url(path)), page
            declared += f"  - type: document\n    url: {hosts[to].url('/')}\n"
        else:
            routes[at][path] = page
        (sources / f"load-{number}.yaml").write_text(declared)
    for host, answers in zip(hosts, routes, strict=True):
        host.reset(answers)

    result = run_cli("crawl", "--quiet", "--sources", str(sources), db=db_url)
    assert result.code == 0, result.stderr

    peaks = {host.address: host.gauge.peak for host in hosts}
    assert all(peak <= PER_HOST for peak in peaks.values()), peaks
    served = sum(sum(host.requests.values()) for host in hosts)
    assert served >= SOURCES  # every document was asked for (robots.txt and redirects besides)
    history = run_cli("history", "--format", "json", db=db_url).json()
    assert len(history) == SOURCES
