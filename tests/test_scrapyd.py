"""Crawls on a real Scrapyd node: scrapyd started on loopback, the project deployed to it with
`scrapyd-deploy` from scrapy.cfg, the daemon scheduling its checks there through the HTTP API.
The store is PostgreSQL where a server is available (as across machines), else a SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES, ROOT, fresh_database
from tests.mail import free_port
from tests.test_daemon import every, source_health, source_ids, wait_for
from tests.web.sites import write_declarations


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env.update(extra)
    return env


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd_node(tmp_path: Path) -> Iterator[str]:
    """A scrapyd process on a free loopback port, with its eggs, logs and queues in tmp_path."""
    folder = tmp_path / "scrapyd"
    folder.mkdir()
    port = free_port()
    (folder / "scrapyd.conf").write_text(f"""[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
poll_interval = 0.5
max_proc = 2
logs_dir = {folder / 'logs'}
eggs_dir = {folder / 'eggs'}
dbs_dir = {folder / 'dbs'}
""")
    node = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=folder, env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=(folder / "scrapyd.err").open("w"))
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            return get_json(url + "daemonstatus.json")["status"] == "ok"
        except OSError:
            return False

    try:
        wait_for(answers, 30, "scrapyd to listen")
        yield url
    finally:
        node.terminate()
        node.wait(timeout=30)


def deploy(node_url: str) -> None:
    """`scrapyd-deploy node` from the checkout, as the README says."""
    installed = shutil.which("scrapyd-deploy")
    command = [installed] if installed else [sys.executable, "-m", "scrapyd_client.deploy"]
    done = subprocess.run([*command, "node"], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env=clean_env(POLICYWATCH_SCRAPYD_URL=node_url))
    assert done.returncode == 0, done.stderr[-2000:]
    # Scrapyd answers listspiders by running `scrapy list` on the egg in a child process, which
    # imports the whole project: seconds on a busy machine, hence the longer wait.
    listed = get_json(node_url + "listspiders.json?project=policywatch", timeout=60)
    assert listed["spiders"] == ["declared"]


def count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar() or 0
    except Exception:  # the daemon has not created the table yet
        return 0
    finally:
        engine.dispose()


@pytest.mark.long
def test_daemon_schedules_crawls_on_a_scrapyd_node(web, tmp_path, scrapyd_node):
    deploy(scrapyd_node)
    web.set(epoch=1, noise=1)
    sources = write_declarations(web, tmp_path / "sources")
    # Checked: eu-edpb and cn-cac, the two sources with an amendment or a new document in epoch 2.
    for unchecked in ("us-fedreg", "wto-ecom"):
        (sources / f"{unchecked}.yaml").unlink()
    every(sources, "4s")
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[scrapyd]\nnodes = ["{scrapyd_node}"]\npoll = 0.5\n')
    with fresh_database("postgresql" if POSTGRES else "sqlite", tmp_path) as db:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "policywatch", "--config", str(config), "--db", db, "run",
             "--sources", str(sources), "--log-file", str(tmp_path / "daemon.log")],
            cwd=ROOT, env=clean_env(PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(tmp_path / "data")),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: count(db, "select count(*) from change_events") >= 5, 120,
                     "the first crawls, run on the node")
            web.set(epoch=2, noise=2)  # two one-word amendments and one new document
            wait_for(lambda: count(db, "select count(*) from change_events where kind = 'amended'") >= 2,
                     90, "the amendments, found on the node")
            # One more finished check of every source on the node: nothing may be recorded twice.
            since = count(db, "select max(id) from job_runs")
            checks = [f"check:{source_id}" for source_id in source_ids(sources)]
            wait_for(lambda: all(count(db, f"select count(*) from job_runs where id > {since} and "
                                           f"job_id = '{check}' and outcome != 'running'") >= 1
                                 for check in checks), 120, "one more check of every source")
            health = source_health(db)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=90)
        assert code == 0
        assert count(db, "select count(*) from change_events where kind = 'amended'") == 2
        assert count(db, "select count(*) from change_events where kind = 'new' and baseline = false") == 1
        # Every check ran on the node: its runs name the node's job and were closed by the crawl.
        assert count(db, "select count(*) from crawl_runs where node is null") == 0
        assert count(db, f"select count(*) from crawl_runs where status = 'finished' "
                         f"and node like '{scrapyd_node} job %'") >= 6  # two sources, three rounds
        assert count(db, "select count(*) from job_runs where outcome = 'ok'") >= 6
        assert all(row["failures"] == 0 for row in health.values()), health
    jobs = get_json(scrapyd_node + "listjobs.json?project=policywatch")
    assert len(jobs["finished"]) >= 6 and all(job["spider"] == "declared" for job in jobs["finished"])
    log = (tmp_path / "daemon.log").read_text()
    assert f"scheduled on {scrapyd_node} job" in log


def test_unreachable_node_is_reported_per_source(tmp_path):
    """No node answers: the check fails with one line naming the node, in the source's health."""
    from crawlers.catalogue import load_catalogue
    from policywatch.config import Config, ScrapydSettings
    from policywatch.daemon import DaemonOptions, Runner
    from storage.database import Store

    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "gov.yaml").write_text(
        "id: gov\nname: A ministry\njurisdiction: FR\nlevel: national\nbody: ministry\n"
        "entries:\n  - type: document\n    url: http://127.0.0.1:9/laws\n")
    dead = f"http://127.0.0.1:{free_port()}/"
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    catalogue = load_catalogue([folder])
    assert not catalogue.errors
    runner = Runner(DaemonOptions(None, store.url, (str(folder),), crawl_timeout=60.0,
                                  pid_file=tmp_path / "daemon.pid"),
                    store, Config(scrapyd=ScrapydSettings(nodes=(dead,))), catalogue)
    runner.check_source("gov")
    runner.close()
    health = source_health(store.url)
    assert list(health) == ["gov"] and health["gov"]["failures"] == 1
    assert health["gov"]["last_error"].startswith(f"not scheduled: no scrapyd node answers: scrapyd {dead}: unreachable")


def test_scrapyd_configuration_errors_name_the_key(tmp_path):
    from policywatch.config import ConfigError, load_config

    config = tmp_path / "policywatch.toml"
    for body, message in [('[scrapyd]\nnodes = ["ftp://node:6800"]\n', "scrapyd.nodes: 'ftp://node:6800' is not"),
                          ('[scrapyd]\npassword = "secret"\n', "scrapyd.password: put the password"),
                          ('[scrapyd]\npoll = "often"\n', "scrapyd.poll: 'often' is not a number"),
                          ('[scrapyd]\nnode = "http://x:6800"\n', "scrapyd.node: unknown key")]:
        config.write_text(body)
        with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
            load_config(str(config))
    config.write_text('[scrapyd]\nnodes = ["http://crawler1:6800"]\n')
    assert load_config(str(config)).scrapyd.nodes == ("http://crawler1:6800/",)


def test_nodes_on_other_machines_need_a_store_they_can_reach(tmp_path):
    from policywatch.config import Config, ScrapydSettings
    from policywatch.daemon import DaemonError
    from policywatch.daemon.nodes import check_store_reachable_from_nodes

    remote = Config(scrapyd=ScrapydSettings(nodes=("http://crawler1:6800/",)))
    with pytest.raises(DaemonError, match="cannot write to a SQLite file"):
        check_store_reachable_from_nodes(remote, f"sqlite:///{tmp_path / 's.sqlite'}")
    check_store_reachable_from_nodes(remote, "postgresql+psycopg://policywatch@db/policywatch")
    local = Config(scrapyd=ScrapydSettings(nodes=("http://127.0.0.1:6800/",)))
    check_store_reachable_from_nodes(local, f"sqlite:///{tmp_path / 's.sqlite'}")
