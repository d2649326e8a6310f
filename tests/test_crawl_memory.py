"""What keeps a first crawl's memory down: the store migrated by a child process (Alembic never
loaded in the crawl)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
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


def open_store(db_file: Path, mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", OPEN_STORE, f"sqlite:///{db_file}", mode],
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
