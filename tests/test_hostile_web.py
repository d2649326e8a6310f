"""The hostile web: each case a row (what the server does, what the user must see, which events
must not appear), one real crawl per case (two when the site changes between them) on a fresh
store, through `policywatch crawl` in its own process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.web.hostile import (
    Answer,
    Host,
    Routes,
    declaration,
    encrypted_pdf,
    gzip_bomb,
    law_page,
    listing,
    nested_page,
    redirect,
    start,
    stop,
)

LAW = Answer(200, law_page("Derogations for specific situations"))
CATASTROPHIC = "(a+)+$"  # exponential backtracking in a backtracking engine on "aaaa…!"


@dataclass(frozen=True)
class Case:
    name: str
    site: Callable[[Host, Host], Routes]  # (the source's host, another port) -> what they answer
    entry: str  # the declared entry's path
    entry_type: str = "document"
    changed: Callable[[Host, Host], Routes] | None = None  # the site at a second crawl
    follow: str | None = None
    error: str | None = None  # what the source's health must say (its last error)
    kind: str | None = None  # and of which kind
    changes: tuple[str, ...] = ()  # the history after the crawls, oldest first
    url: str | None = None  # the path of the instrument at the end
    never_asked: str | None = None  # a path the other port must never be asked for


def moved(status: int) -> Callable[[Host, Host], Routes]:
    return lambda host, other: {"/list": listing(host.url("/doc/b")), "/doc/b": LAW,
                                "/doc/a": redirect(status, host.url("/doc/b"))}


def first_site(host: Host, other: Host) -> Routes:
    return {"/list": listing(host.url("/doc/a")), "/doc/a": LAW}


def temporarily_elsewhere(status: int) -> Callable[[Host, Host], Routes]:
    return lambda host, other: {"/list": listing(host.url("/doc/a")), "/tmp/a": LAW,
                                "/doc/a": redirect(status, "/tmp/a")}


def chain(length: int) -> Routes:
    return {f"/chain/{n}": redirect(302, f"/chain/{n + 1}") for n in range(length)} | \
        {f"/chain/{length}": LAW}


LONG = "a" * 1500 + "!"  # under the URL length cap: RE2 must answer it at once
TOO_LONG = "a" * 3000  # over the cap: never matched, never followed

CASES = [
    *(Case(f"permanent {status} of a known instrument", first_site, "/list", "listing",
           changed=moved(status), changes=("new", "moved"), url="/doc/b") for status in (301, 308)),
    *(Case(f"temporary {status} of a known instrument", first_site, "/list", "listing",
           changed=temporarily_elsewhere(status), changes=("new",), url="/doc/a")
      for status in (302, 303, 307)),
    Case("first fetch through a permanent redirect",
         lambda host, other: {"/list": listing(host.url("/old")), "/old": redirect(301, "/new"),
                              "/new": LAW}, "/list", "listing", changes=("new",), url="/new"),
    Case("redirect loop", lambda host, other: {"/loop/a": redirect(302, "/loop/b"),
                                               "/loop/b": redirect(301, "/loop/a")},
         "/loop/a", error="redirect loop", kind="blocked"),
    Case("chain longer than the limit", lambda host, other: chain(8), "/chain/0",
         error="more than 5 redirects", kind="blocked"),
    Case("chain within the limit", lambda host, other: chain(4), "/chain/0", changes=("new",),
         url="/chain/0"),
    Case("redirect to another port of the host",
         lambda host, other: {"/off": redirect(301, other.url("/doc"))} , "/off",
         error="is not on a declared host", kind="blocked", never_asked="/doc"),
    Case("redirect to another name of the host",
         lambda host, other: {"/off": redirect(302, other.url("/doc").replace(other.address,
                                                                               "localhost"))},
         "/off", error="is not on a declared host", kind="blocked", never_asked="/doc"),
    Case("gzip bomb", lambda host, other: {"/bomb": gzip_bomb(64)}, "/bomb",
         error="larger than the download size cap", kind="invalid"),
    Case("encrypted PDF", lambda host, other: {"/locked.pdf": encrypted_pdf()}, "/locked.pdf",
         error="encrypted PDF", kind="extraction"),
    Case("page nested 100,000 levels deep", lambda host, other: {"/abyss": nested_page(100_000)},
         "/abyss", error="more than 256 levels deep", kind="extraction"),
    Case("catastrophic follow pattern on long links",
         lambda host, other: {"/list": listing(*(host.url(f"/{path}") for path in
                                                 (LONG, TOO_LONG, "aaaa"))), "/aaaa": LAW},
         "/list", "listing", follow=CATASTROPHIC, changes=("new",), url="/aaaa"),
]


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[Host]]:
    started = start("127.0.0.40", "127.0.0.40")
    yield started
    stop(started)


def _crawl(sources: Path, db: str, config: Path) -> None:
    result = run_cli("crawl", "--sources", str(sources), db=db, config=config)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_web(case: Case, hosts: list[Host], tmp_path: Path, db_url: str,
                     fast_config: Path) -> None:
    host, other = hosts
    host.reset(case.site(host, other))
    other.reset({"/doc": LAW})
    sources = tmp_path / "sources"
    sources.mkdir()
    follow = f'    follow: "{case.follow}"\n' if case.follow else ""
    (sources / "hostile.yaml").write_text(
        declaration("hostile", host.url(case.entry), case.entry_type, follow))
    _crawl(sources, db_url, fast_config)
    if case.changed is not None:
        host.reset(case.changed(host, other))
        _crawl(sources, db_url, fast_config)

    status = {row["source"]: row for row in
              run_cli("status", "--format", "json", db=db_url).json()["sources"]}["hostile"]
    history = run_cli("history", "--format", "json", db=db_url).json()
    if case.error is None:
        assert status["failures"] == 0, status["last_error"]
    else:
        assert case.error in status["last_error"] and status["error_kind"] == case.kind, status
        assert "\n" not in status["last_error"]
    assert tuple(event["change"].split()[0] for event in reversed(history)) == case.changes
    assert status["instruments"] == (1 if case.changes else 0)
    if case.url is not None:
        assert history[0]["url"] == host.url(case.url)
        shown = run_cli("show", "--format", "json", history[0]["instrument"], db=db_url).json()
        assert shown["url"] == host.url(case.url) and len(shown["versions"]) == 1  # one identity, one text
    if case.never_asked is not None:
        assert other.requests[case.never_asked] == 0
