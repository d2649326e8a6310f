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


PARALLEL_PER_HOST = 2
PARALLEL_DOCUMENTS = 6
PARALLEL_HOLD = 0.3  # seconds each answer is held: a check's requests overlap on its host
RENDEZVOUS = 8.0  # seconds the first source asked for waits for the other to be asked too


@pytest.fixture
def shared_host() -> Iterator[tuple[Host, list[str]]]:
    """One loopback host whose server notes the order in which it is asked for paths, and holds
    the first request of either source until the other source is asked for too (RENDEZVOUS
    seconds at most): two checks that may run together then certainly do."""
    import threading

    (host,) = start("127.0.0.54")
    order: list[str] = []
    asked = threading.Condition()
    answer = host.answer

    def noting(path: str) -> Answer:
        source = path.split("/")[1] if path.startswith(("/a/", "/b/")) else None
        with asked:
            first = source is not None and not any(p.startswith(f"/{source}/") for p in order)
            order.append(path)
            asked.notify_all()
            other = {"a": "b", "b": "a"}.get(source or "")
            if first and not any(p.startswith(f"/{other}/") for p in order):
                asked.wait_for(lambda: any(p.startswith(f"/{other}/") for p in order),
                               timeout=RENDEZVOUS)
        return answer(path)

    host.answer = noting  # type: ignore[method-assign]
    yield host, order
    stop([host])


def test_parallel_daemon_checks_of_sources_on_one_host_take_turns(
        shared_host: tuple[Host, list[str]], tmp_path: Path) -> None:
    """Two checks started at once by the daemon's workers, of two sources on one host: the host
    never serves more than the per-host limit at once, and one check's requests all come before
    the other's."""
    import threading

    from crawlers.catalogue import load_catalogue
    from policywatch.config import Config, CrawlSettings
    from policywatch.daemon import DaemonOptions, Runner
    from storage.database import Store

    host, order = shared_host
    sources = tmp_path / "sources"
    sources.mkdir()
    routes: dict[str, Answer] = {}
    for name in ("a", "b"):
        paths = [f"/{name}/{n}" for n in range(PARALLEL_DOCUMENTS)]
        declared = declaration(f"shared-{name}", host.url(paths[0]))
        for path in paths:
            routes[path] = Answer(200, law_page(f"Notice {path}"), hold=PARALLEL_HOLD)
        declared += "".join(f"  - type: document\n    url: {host.url(p)}\n" for p in paths[1:])
        (sources / f"shared-{name}.yaml").write_text(declared)
    host.reset(routes)
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    config = Config(crawl=CrawlSettings(contact="tests@example.org", timeout=30,
                                        per_host=PARALLEL_PER_HOST))
    runner = Runner(DaemonOptions(None, store.url, pid_file=tmp_path / "daemon.pid", workers=2),
                    store, config, load_catalogue([sources]))
    try:
        checks = [threading.Thread(target=runner.check_source, args=(f"shared-{name}",))
                  for name in ("a", "b")]
        for check in checks:
            check.start()
        for check in checks:
            check.join(timeout=300)
        assert not any(check.is_alive() for check in checks)
    finally:
        runner.close()

    asked = [path.split("/")[1] for path in order if path.startswith(("/a/", "/b/"))]
    assert sorted(asked) == ["a"] * PARALLEL_DOCUMENTS + ["b"] * PARALLEL_DOCUMENTS, order
    turns = sum(1 for before, after in zip(asked, asked[1:], strict=False) if before != after)
    assert turns == 1, asked  # all of one source's requests, then all of the other's
    assert host.gauge.peak <= PARALLEL_PER_HOST
    history = run_cli("history", "--format", "json", db=store.url).json()
    assert len(history) == 2 * PARALLEL_DOCUMENTS
