"""`policywatch demo`: the whole loop offline, on the bundled demo web served on loopback.

Crawls run as `policywatch crawl` in child processes forked from a server that imported the crawl
once (`policywatch.forking`, as the daemon's checks do) into a fresh database
inside the demo folder; nothing outside that folder is read or written, and the demo web stops
before the command returns. One demo at a time holds the folder (a lock on `.demo.lock`), and a
file the demo did not write (it lists its own in `.demo-files`) is only replaced with `force`.
"""

from __future__ import annotations

import fcntl
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from alerts.render import preview_html
from alerts.settings import SmtpSettings
from paradigms.chart import draw_trend_chart
from paradigms.trends import compute_trends
from policywatch.demoweb.sites import (
    regulator_web,
    write_declarations,
    write_demo_authority_declaration,
    write_news_declaration,
)
from policywatch.digests import ALL, build_digest
from policywatch.forking import start_forked
from policywatch.output import render
from storage.database import Store
from storage.models import utcnow
from storage.queries import HistoryFilter, history, trend_histories

CRAWL_TIMEOUT = 300  # seconds one demo crawl may take

CYCLES = (
    (1, 1, "first crawl: every instrument found is new (the baseline, never announced)"),
    (2, 2, "GDPR Art. 45 and PIPL 第三十八条 amended by one word; a new EDPB document; "
           "EO 14117 answers 404 (1 of 3)"),
    (2, 3, "EO 14117 answers 404 again (2 of 3); only noise changed elsewhere"),
    (2, 4, "third 404 in a row: EO 14117 is withdrawn"),
    (3, 5, "EO 14117 is back; a WTO text moved; the CSL excerpt gained an article; the "
           "Demo Republic (XD) rewrites its restrictive regulation around transfer routes"),
)
SMTP = SmtpSettings(sender="demo@policywatch.localhost",
                    list_unsubscribe="mailto:unsubscribe@policywatch.localhost")
# What the demo writes in its folder (the database with its -wal and -shm companions).
WRITES = ("demo.sqlite", "demo.sqlite-wal", "demo.sqlite-shm", "policywatch.toml", "sources",
          "trends.png", "digest.eml", "digest.html")
LOCK, MANIFEST = ".demo.lock", ".demo-files"


class DemoError(RuntimeError):
    """The demo cannot run in this folder; one line saying why."""


@dataclass
class DemoResult:
    folder: Path
    database: Path
    events: list[dict] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def run_command(argv: list[str]) -> None:
    """`policywatch ARGV`, in a forked child; its exit status is the command's."""
    from policywatch.cli import cli  # the command line imports this module

    cli.main(args=argv, prog_name="policywatch")


def run_demo(folder: Path, say: Callable[[str], None] = print, force: bool = False) -> DemoResult:
    """Crawl the demo web across its cycles into `folder`, then report, chart and digest."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with folder_lock(folder):
        refuse_foreign_files(folder, force)
        (folder / MANIFEST).write_text("\n".join(WRITES) + "\n", encoding="utf-8")
        return _run(folder, say)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the demo folder for one demo: a second one at the same time is refused (the kernel
    releases the lock however the demo ends)."""
    with open(folder / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(f"another demo is running in {folder}; wait for it or use another "
                            "--dir") from None
        yield


def refuse_foreign_files(folder: Path, force: bool) -> None:
    """Refuse to replace files of `folder` that an earlier demo did not write, unless forced."""
    manifest = folder / MANIFEST
    ours = set(manifest.read_text(encoding="utf-8").split()) if manifest.exists() else set()
    foreign = [name for name in WRITES if (folder / name).exists() and name not in ours]
    if foreign and not force:
        raise DemoError(f"{folder} already has {', '.join(foreign)}, not written by a demo: "
                        "use another --dir, or --force to replace them")


def _run(folder: Path, say: Callable[[str], None]) -> DemoResult:
    database = folder / "demo.sqlite"
    for stale in folder.glob("demo.sqlite*"):
        stale.unlink()
    result = DemoResult(folder, database)
    db_url = f"sqlite:///{database}"
    config = folder / "policywatch.toml"
    config.write_text('[crawl]\ncontact = "demo@policywatch.localhost"\ntimeout = 10\n',
                      encoding="utf-8")
    web = regulator_web().start()
    started = utcnow()
    try:
        sources = write_declarations(web, folder / "sources")
        write_news_declaration(web, sources)
        write_demo_authority_declaration(web, sources)
        say(f"demo web: {len(web.base)} regulator sites on loopback "
            f"({', '.join(sorted(u.removeprefix('http://') for u in web.base.values()))})")
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
        for number, (epoch, noise, note) in enumerate(CYCLES, start=1):
            web.set(epoch=epoch, noise=noise)
            say(f"\ncycle {number}/{len(CYCLES)}: {note}")
            child = start_forked(run_command, ["--config", str(config), "--db", db_url, "crawl",
                                               "--quiet", "--sources", str(sources)], env=env)
            if not child.wait(CRAWL_TIMEOUT):
                child.terminate()
            stdout, stderr = child.outputs()
            if child.returncode != 0:
                raise RuntimeError(f"crawl {number} failed: {stderr.strip()[-500:]}")
            say("\n".join("  " + line for line in stdout.strip().splitlines()))
    finally:
        web.stop()

    store = Store(db_url)
    try:
        with store.sessions() as session:
            result.events = history(session, HistoryFilter())
            periods, flags = compute_trends(trend_histories(session), "year")
        announced = [e for e in result.events if not e["baseline"]]
        say("\nwhat changed (baseline left out):")
        rows = [e | {"paradigm": (f"{e['previous_paradigm']} → {e['paradigm']}"
                                  if e.get("previous_paradigm") not in (None, e["paradigm"])
                                  else e["paradigm"])} for e in announced]
        say(render(rows, ["change", "jurisdiction", "version", "paradigm", "instrument"], "table"))
        chart = folder / "trends.png"
        chart.write_bytes(draw_trend_chart(periods, flags))
        built, message, png = build_digest(store, ALL, started - timedelta(minutes=1),
                                           utcnow() + timedelta(minutes=1), SMTP)
        eml, html = folder / "digest.eml", folder / "digest.html"
        eml.write_bytes(message.as_bytes())
        html.write_text(preview_html(built, png, SMTP.list_unsubscribe), encoding="utf-8")
        result.files = {"database": database, "sources": sources, "chart": chart, "digest": eml,
                        "preview": html}
    finally:
        store.close()
    say(f"\ndigest: {built.subject()}")
    say(f"\nwrote in {folder}:")
    for name, path in result.files.items():
        say(f"  {name:<9} {path.relative_to(folder)}{'/' if path.is_dir() else ''}")
    say(f"  {'settings':<9} {config.relative_to(folder)}")
    example = next((e for e in announced if e["change"] == "amended"), None)
    shifted = next((e for e in announced if e.get("shift")), None)
    say("\ntry next (after the export, no --db is needed):")
    say(f"  export POLICYWATCH_DB={shlex.quote(str(database))}")
    say("  policywatch history")
    if example:
        say(f"  policywatch diff {example['instrument']}")
    if shifted:
        say(f"  policywatch show {shifted['instrument']}")
    say(f"  policywatch trends --chart {shlex.quote(str(chart))}")
    say("  policywatch calendar")
    say("  policywatch dropped")
    say(f"  open {html} in a browser")
    return result
