"""Checks on Scrapyd nodes, seen from the daemon: wait for a node's job to end, cancel it at the
crawl timeout, and settle runs whose job ended while no daemon was watching."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

from policywatch.config import Config, ScrapydSettings
from policywatch.daemon.lock import DaemonError
from policywatch.scrapyd import Node, NodeError, node_at
from storage import jobs
from storage.database import Store

log = logging.getLogger(__name__)

CANCEL_GRACE = 10.0  # seconds a cancelled job gets to close its spider and its run
MIN_POLL = 0.2  # seconds: the shortest pause between two questions to a node


def node_job(where: str) -> tuple[str, str]:
    """(node url, job id) of a run's node field, `<node url> job <job id>`; the job is empty
    when the crawl was never scheduled."""
    url, _, job = where.partition(" job ")
    return url, job


def wait_for_job(node: Node, job: str, timeout: float, poll: float,
                 stopping: threading.Event) -> str:
    """Poll the node until the job ends: 'finished', or 'timeout' / 'stopped' after cancelling it
    at the deadline or when the daemon stops (then wait a little for Scrapy to close the spider
    and its run)."""
    deadline = time.monotonic() + timeout
    outcome = "finished"
    while True:
        stopping.wait(max(MIN_POLL, poll))
        try:
            if node.state(job) in ("finished", "unknown"):
                return outcome
        except NodeError as exc:  # a node that stops answering is waited for until the deadline
            log.warning("%s", exc)
        if outcome == "finished" and (stopping.is_set() or time.monotonic() > deadline):
            outcome = "stopped" if stopping.is_set() else "timeout"
            try:
                node.cancel(job)
            except NodeError as exc:
                log.warning("%s", exc)
            deadline = time.monotonic() + CANCEL_GRACE
        elif outcome != "finished" and time.monotonic() > deadline:
            return outcome


def settle_node_runs(store: Store, settings: ScrapydSettings) -> None:
    """Runs left 'running' on Scrapyd nodes (e.g. the daemon was killed while it waited): a job
    the node no longer runs, and that never closed its run, is marked interrupted. The nodes are
    asked outside any transaction."""
    with store.sessions() as session:
        running = jobs.running_node_runs(session)
    ended = []
    for run_id, where in running:
        url, job = node_job(where)
        if not job:
            ended.append(run_id)
            continue
        try:
            if node_at(settings, url).state(job) in ("finished", "unknown"):
                ended.append(run_id)
        except NodeError as exc:
            log.warning("%s", exc)
    if ended:
        with store.transaction() as session:
            jobs.mark_runs_interrupted(session, ended)


def check_store_reachable_from_nodes(config: Config, store_url: str) -> None:
    """Scrapyd nodes write to the store themselves: a SQLite file only works for nodes on this
    machine; other machines need PostgreSQL."""
    url = config.scrapyd.db or store_url
    hosts = {node: urlsplit(node).hostname or "" for node in config.scrapyd.nodes}
    remote = [node for node, host in hosts.items()
              if host not in ("localhost", "::1") and not host.startswith("127.")]
    if remote and url.startswith("sqlite"):
        raise DaemonError(f"scrapyd node {remote[0]} cannot write to a SQLite file on this machine: "
                          "use a PostgreSQL store (--db postgresql+psycopg://...) or [scrapyd] db")
