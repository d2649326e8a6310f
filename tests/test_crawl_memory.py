"""What keeps a first crawl's memory down: the store migrated by a child process (Alembic never
loaded in the crawl), and downloads held back while the writer lags behind them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in a process of its own: the child migrates only where no other thread runs (pytest's
# workers have some), so the test process itself would always migrate in place.
OPEN_STORE = """
import json, sys
from storage.database import Store, StoreError, current_revision
url, for_crawl = sys.argv[1], sys.argv[2] == "crawl"
try:
    store = Store(url, for_crawl=for_crawl)
except StoreError as exc:
    print(json.dumps({"error": str(exc), "alembic": "alembic" in sys.modules}))
else:
    print(json.dumps({"revision": current_revision(store.engine), "alembic": "alembic" in sys.modules}))
    store.close()
"""


def open_store(db_file: Path | None, mode: str) -> dict:
    """What opening the store said, in a process of its own (None: a store in its memory)."""
    url = f"sqlite:///{db_file}" if db_file is not None else "sqlite://"
    done = subprocess.run([sys.executable, "-c", OPEN_STORE, url, mode],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    return json.loads(done.stdout)


def schema(db_file: Path) -> list[tuple[str, list[str]]]:
    """Each object's statement as a sorted list of its lines: a table rebuilt by a migration
    lists its constraints in an order that changes from one process to the next."""
    with sqlite3.connect(db_file) as connection:
        rows = connection.execute("select name, coalesce(sql, '') from sqlite_master").fetchall()
    return sorted((name, sorted(line.strip().rstrip(",") for line in sql.splitlines()))
                  for name, sql in rows)


def test_a_crawl_migrates_a_new_store_in_a_child_and_gets_the_same_schema(tmp_path: Path):
    from storage.database import newest_revision

    crawled, other = tmp_path / "crawl.sqlite", tmp_path / "other.sqlite"
    assert open_store(crawled, "crawl") == {"revision": newest_revision(), "alembic": False}
    assert open_store(other, "other") == {"revision": newest_revision(), "alembic": True}
    assert schema(crawled) == schema(other)


def test_a_crawl_into_a_store_in_memory_migrates_it_in_place():
    from storage.database import newest_revision

    assert open_store(None, "crawl") == {"revision": newest_revision(), "alembic": True}


def test_a_migration_failing_in_the_child_says_what_it_says_in_place(tmp_path: Path):
    answers = {}
    for mode in ("crawl", "other"):
        db_file = tmp_path / f"{mode}.sqlite"
        with sqlite3.connect(db_file) as connection:  # a store of a newer policywatch
            connection.execute("create table alembic_version (version_num varchar(32) not null)")
            connection.execute("insert into alembic_version values ('9999')")
        answer = open_store(db_file, mode)
        answers[mode] = answer["error"].replace(str(db_file), "STORE")
        assert answer["alembic"] == (mode == "other")
    assert answers["crawl"] == answers["other"]
    assert answers["crawl"].startswith("cannot open the store at sqlite:///STORE: ")
    assert "9999" in answers["crawl"] and "\n" not in answers["crawl"]




HOSTS = ("127.0.0.61", "127.0.0.62", "127.0.0.63", "127.0.0.64", "127.0.0.65", "127.0.0.66")
PAGES_PER_HOST = 45
HOLD = 0.05  # seconds each answer is held, so that the downloads overlap
LOCKED_FOR = 200  # pages asked for while the store is locked: 4.3 KB each, fewer than Scrapy
# holds for the writer before it stops downloading (SCRAPER_SLOT_MAX_ACTIVE_SIZE)
TAKEN_IN = 128 + 4 * len(HOSTS)  # requests the downloader took in before the writer lagged


def test_downloads_wait_while_the_writer_lags_and_no_page_is_lost(tmp_path: Path):
    """The writer is held back by a lock on the store, taken once every host's pages are being
    downloaded and released once LOCKED_FOR pages have been asked for. The requests the
    downloader had taken in go at the hosts' pace (4 at once each); the rest LAGGING_DOWNLOADS
    at once, until the writer catches up; every page is recorded."""
    from crawlers.pipelines import LAGGING_DOWNLOADS
    from tests.conftest import run_cli
    from tests.web.hostile import Answer, declaration, law_page, listing, start, stop

    db_file = tmp_path / "store.sqlite"
    pages = len(HOSTS) * PAGES_PER_HOST
    hosts = start(*HOSTS)
    lock = threading.Lock()
    in_progress = [0]
    locked: list[int] = []  # downloads in progress as each page was asked for, while locked
    holding: list[sqlite3.Connection] = []
    hosts_asked: set[str] = set()

    def hold_the_store(host: str) -> None:
        """A write lock on the store once every host was asked for a page, until LOCKED_FOR
        pages have been asked for since."""
        hosts_asked.add(host)
        if holding:
            locked.append(in_progress[0])
            if len(locked) == LOCKED_FOR:
                holding[0].execute("commit")
        elif len(hosts_asked) == len(HOSTS):
            connection = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
            connection.execute("begin immediate")
            holding.append(connection)

    def counting(host: str, answer: Callable[[str], Answer]) -> Callable[[str], Answer]:
        def counted(path: str) -> Answer:
            with lock:
                in_progress[0] += 1
                if path.startswith("/doc/"):
                    hold_the_store(host)
            try:
                return answer(path)
            finally:
                with lock:
                    in_progress[0] -= 1
        return counted

    sources = tmp_path / "sources"
    sources.mkdir()
    try:
        for number, host in enumerate(hosts):  # one source per host, its pages on one listing
            paths = [f"/doc/{number}-{page}" for page in range(PAGES_PER_HOST)]
            routes = {path: Answer(200, law_page(f"Notice {path}"), hold=HOLD) for path in paths}
            routes["/list"] = listing(*(host.url(path) for path in paths))
            host.reset(routes)
            host.answer = counting(host.address, host.answer)  # type: ignore[method-assign]
            (sources / f"s{number}.yaml").write_text(
                declaration(f"s{number}", host.url("/list"), "listing"))
        result = run_cli("crawl", "--quiet", "--sources", str(sources), db=f"sqlite:///{db_file}")
    finally:
        stop(hosts)
        for connection in holding:
            connection.close()
    assert result.code == 0, result.stderr

    assert len(locked) >= LOCKED_FOR
    assert max(locked[:TAKEN_IN]) > LAGGING_DOWNLOADS, locked  # every host at once, at first
    assert max(locked[TAKEN_IN:LOCKED_FOR]) <= LAGGING_DOWNLOADS, locked
    history = run_cli("history", "--format", "json", db=f"sqlite:///{db_file}").json()
    assert len(history) == pages
