"""The `policywatch` command line."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from crawlers.catalogue import Catalogue, load_catalogue
from policywatch import __version__
from policywatch.config import Config, ConfigError, load_config
from policywatch.output import format_option, render
from storage.database import Store, StoreError
from texts.vocabulary import CHANGE_KINDS, MAX_DOCUMENT_BYTES, PARADIGM_CHOICES, PARADIGMS, user_agent

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")


@dataclass
class App:
    config: Config
    db_flag: str | None

    def store(self) -> Store:
        try:
            return Store(self.db_flag or self.config.db)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None

    def catalogue(self, paths: tuple[str, ...] = ()) -> tuple[Catalogue, list[Path] | None]:
        chosen = [Path(p) for p in paths] or list(self.config.sources) or None
        return load_catalogue(chosen), chosen


pass_app = click.make_pass_decorator(App)


def parse_when(text: str | None, option: str, end_of_day: bool = False) -> datetime | None:
    """'2024-03-15', '2024-03-15T10:00', or a span back from now ('36h', '7d', '2w'), as naive UTC."""
    if text is None:
        return None
    if match := _RELATIVE.match(text.strip()):
        amount, unit = int(match.group(1)), match.group(2)
        span = {"h": timedelta(hours=amount), "d": timedelta(days=amount),
                "w": timedelta(weeks=amount)}[unit]
        return datetime.now(UTC).replace(tzinfo=None) - span
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (2024-03-15, 2024-03-15T10:00 or 7d)", param_hint=option
        ) from None
    if value.tzinfo is not None:
        value = (value - value.utcoffset()).replace(tzinfo=None)
    if end_of_day and len(text.strip()) == 10:
        value += timedelta(days=1)
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", envvar="POLICYWATCH_CONFIG",
              help="TOML configuration file (or POLICYWATCH_CONFIG).")
@click.option("--db", "db", metavar="URL", envvar="POLICYWATCH_DB",
              help="SQLAlchemy database URL (or POLICYWATCH_DB); default: a SQLite file in the "
                   "user's data directory.")
@click.version_option(__version__, prog_name="policywatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None) -> None:
    """Watch how the world regulates cross-border data flows.

    \b
    Example:
      policywatch crawl --sources my-sources/ && policywatch history --since 7d
    """
    try:
        ctx.obj = App(load_config(config_path), db)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


# --- sources -------------------------------------------------------------------------------

@cli.group()
def sources() -> None:
    """Show and validate source declarations.

    \b
    Example:
      policywatch sources check --sources my-sources/
    """


sources_option = click.option(
    "--sources", "source_paths", multiple=True, metavar="PATH", type=click.Path(),
    help="A declaration file or a folder of them (repeatable); default: the configured or "
         "bundled catalogue.")


def _print_declaration_errors(catalogue: Catalogue) -> None:
    for error in catalogue.errors:
        click.echo(f"error: {error}", err=True)


@sources.command("list")
@sources_option
@format_option
@pass_app
def sources_list(app: App, source_paths: tuple[str, ...], fmt: str) -> None:
    """List the declared sources.

    \b
    Example:
      policywatch sources list --sources tests/web/sources --format json
    """
    catalogue, _ = app.catalogue(source_paths)
    _print_declaration_errors(catalogue)
    rows = [{"id": s.id, "name": s.name, "jurisdiction": s.jurisdiction, "level": s.level,
             "body": s.body, "every": s.every, "entries": len(s.entries),
             "file": catalogue.files[s.id]} for s in catalogue.sources]
    click.echo(render(rows, ["id", "jurisdiction", "level", "body", "every", "entries", "name"]
                      if fmt == "table" else list(rows[0]) if rows else ["id"], fmt))


@sources.command("check")
@sources_option
@click.option("--offline/--online", default=True, show_default=True,
              help="--online also asks each entry URL once whether it answers.")
@pass_app
def sources_check(app: App, source_paths: tuple[str, ...], offline: bool) -> None:
    """Validate declarations: one line per problem naming file, field and reason; exit 1 if any.

    \b
    Example:
      policywatch sources check --offline
      policywatch sources check --sources crawlers/sources/eu-edpb.yaml --online
    """
    catalogue, _ = app.catalogue(source_paths)
    _print_declaration_errors(catalogue)
    click.echo(f"{len(catalogue.sources)} valid declaration(s), {len(catalogue.errors)} error(s)")
    if not offline:
        from policywatch.reachability import check_entries

        for source_id, url, verdict in check_entries(catalogue.sources, app.config.crawl):
            click.echo(f"{source_id}: {url}: {verdict}")
    if catalogue.errors:
        sys.exit(1)


# --- crawl ---------------------------------------------------------------------------------

@cli.command()
@sources_option
@click.option("--source", "only", multiple=True, metavar="ID", help="Crawl only this source (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No per-document progress lines.")
@pass_app
def crawl(app: App, source_paths: tuple[str, ...], only: tuple[str, ...], quiet: bool) -> None:
    """Check the sources once now, then print a summary per source.

    Exits 0 when the cycle ran, even if some sources failed: failures are recorded and shown by
    `policywatch status`.

    \b
    Example:
      policywatch crawl --sources tests/web/sources --source cn-cac
    """
    from policywatch.crawling import run_crawl  # Scrapy is imported only for crawls

    catalogue, paths = app.catalogue(source_paths)
    _print_declaration_errors(catalogue)
    selected = _select_sources(catalogue, only)
    store = app.store()
    click.echo(f"crawling {len(selected)} source(s) into {store.url}", err=True)
    summary = run_crawl(store, selected, catalogue.files, paths, app.config.crawl, not quiet)
    rows = [{"source": sid, **{k: counts.get(k, 0) for k in
             ("new", "amended", "withdrawn", "restored", "moved", "unchanged")},
             "dropped": counts.get("irrelevant", 0),
             "errors": counts.get("error", 0) + counts.get("gone", 0)}
            for sid, counts in summary.per_source.items()]
    click.echo(render(rows, ["source", "new", "amended", "withdrawn", "restored", "moved",
                             "unchanged", "dropped", "errors"], "table"))
    if summary.problems:
        click.echo(f"\n{len(summary.problems)} problem(s) (see `policywatch status`):")
        for source_id, kind, url, message in summary.problems[:20]:
            click.echo(f"  {source_id}: {kind}: {url}: {message}")
        if len(summary.problems) > 20:
            click.echo(f"  … and {len(summary.problems) - 20} more")


@cli.command()
@sources_option
@click.option("--source", "only", multiple=True, metavar="ID", help="Only this source (repeatable).")
@pass_app
def reextract(app: App, source_paths: tuple[str, ...], only: tuple[str, ...]) -> None:
    """Re-read stored snapshots with the current extraction rules, without fetching anything.

    A text that now reads differently becomes a *technical* version: shown by
    `history --change technical`, never announced, and the base for the next crawl.

    \b
    Example:
      policywatch reextract --sources my-sources/ --source eu-edpb
    """
    from policywatch.reextraction import reextract as reextract_snapshots

    catalogue, _ = app.catalogue(source_paths)
    _print_declaration_errors(catalogue)
    selected = _select_sources(catalogue, only)
    outcomes = reextract_snapshots(app.store(), selected, lambda line: click.echo(line, err=True))
    click.echo(f"{sum(outcomes.values())} instrument(s): {outcomes['technical']} technical "
               f"version(s), {outcomes['unchanged']} unchanged, {outcomes['error']} error(s)")


def _select_sources(catalogue: Catalogue, only: tuple[str, ...]) -> list:
    selected = catalogue.sources
    if only:
        known = catalogue.by_id()
        unknown = [s for s in only if s not in known]
        if unknown:
            raise click.ClickException(f"--source: no declared source {', '.join(map(repr, unknown))}")
        selected = [known[s] for s in only]
    if not selected:
        raise click.ClickException("no valid source declarations")
    return selected


# --- history, show, diff -------------------------------------------------------------------

HISTORY_COLUMNS = ["detected_at", "change", "source", "jurisdiction", "version", "instrument", "title"]


@cli.command()
@click.option("--since", metavar="WHEN", help="From this date/time (2024-03-15) or span (7d).")
@click.option("--until", metavar="WHEN", help="Up to this date (inclusive) or date/time.")
@click.option("--jurisdiction", multiple=True, metavar="J", help="e.g. EU, CN, US (repeatable).")
@click.option("--source", multiple=True, metavar="ID", help="Source id (repeatable).")
@click.option("--change", multiple=True, type=click.Choice(CHANGE_KINDS), help="Change kind (repeatable).")
@click.option("--paradigm", multiple=True, type=click.Choice(PARADIGM_CHOICES), help="Paradigm (repeatable).")
@click.option("--search", metavar="TEXT", help="A phrase in any version's title or text.")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Include instruments found by a source's first crawl.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@format_option
@pass_app
def history(app: App, since, until, jurisdiction, source, change, paradigm, search, baseline,
            limit, fmt) -> None:
    """Change events, newest first.

    \b
    Example:
      policywatch history --since 2025-01-01 --jurisdiction CN --change amended --format json
    """
    from storage.queries import HistoryFilter
    from storage.queries import history as query_history

    where = HistoryFilter(
        since=parse_when(since, "--since"), until=parse_when(until, "--until", end_of_day=True),
        jurisdictions=tuple(jurisdiction), sources=tuple(source), changes=tuple(change),
        paradigms=tuple(paradigm), search=search)
    store = app.store()
    with store.sessions() as session:
        rows = query_history(session, where)
    if not baseline:
        rows = [r for r in rows if not r["baseline"]]
    if limit:
        rows = rows[:limit]
    if fmt == "table":
        for row in rows:
            if row["baseline"]:
                row["change"] = "new (baseline)"
            if row.get("provisions"):
                refs = _provision_refs(row["provisions"])
                row["title"] = f"{row['title']} [{refs}]"
    click.echo(render(rows, HISTORY_COLUMNS if fmt == "table" else
                      HISTORY_COLUMNS + ["url", "baseline", "paradigm", "previous_paradigm"], fmt))


def _provision_refs(provisions: dict) -> str:
    parts = [f"+{r}" for r in provisions.get("added", [])]
    parts += [f"-{r}" for r in provisions.get("removed", [])]
    parts += [f"~{m['ref']}" for m in provisions.get("modified", [])]
    return ", ".join(parts[:6]) + (" …" if len(parts) > 6 else "")


def _instrument_or_fail(session, key: str):
    from storage.queries import find_instrument

    instrument = find_instrument(session, key)
    if instrument is None:
        raise click.ClickException(
            f"no instrument {key!r} (give its id as shown by `policywatch history`, or its URL)")
    return instrument


@cli.command()
@click.argument("instrument")
@format_option
@pass_app
def show(app: App, instrument: str, fmt: str) -> None:
    """One instrument with its versions and change events.

    \b
    Example:
      policywatch show eu-edpb/guidelines-2021-05-3f2a9c
    """
    from storage.queries import instrument_events

    store = app.store()
    with store.sessions() as session:
        found = _instrument_or_fail(session, instrument)
        versions = [{"version": v.number, "recorded_at": _iso(v.recorded_at),
                     "characters": len(v.text), "hash": v.text_hash[:12], "title": v.title,
                     "technical": v.technical}
                    for v in found.versions]
        events = [{"detected_at": _iso(e.detected_at), "change": e.kind,
                   "version": e.version_number, "baseline": e.baseline, "url": e.url,
                   "previous_url": e.previous_url, "provisions": e.provisions}
                  for e in instrument_events(session, found.id)]
        info = {"instrument": found.uid, "title": found.title, "source": found.source_id,
                "jurisdiction": found.jurisdiction, "level": found.level, "url": found.url,
                "doc_type": found.doc_type, "language": found.language,
                "published": found.published, "status": found.status,
                "first_seen_at": _iso(found.first_seen_at),
                "versions": versions, "events": events}
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        click.echo(render(versions, list(versions[0]) if versions else ["version"], "csv"))
        return
    for key in ("instrument", "title", "source", "jurisdiction", "level", "url", "doc_type",
                "language", "published", "status", "first_seen_at"):
        click.echo(f"{key + ':':<15}{info[key] if info[key] is not None else ''}")
    click.echo("\nversions:")
    click.echo(render(versions, ["version", "recorded_at", "characters", "hash", "title"], "table"))
    click.echo("\nevents:")
    click.echo(render(events, ["detected_at", "change", "version", "url"], "table"))


@cli.command()
@click.argument("instrument")
@click.option("--from", "from_", type=int, metavar="N", help="Older version (default: the one before --to).")
@click.option("--to", type=int, metavar="N", help="Newer version (default: the latest).")
@click.option("--full", is_flag=True, help="Also print a line diff of the whole text.")
@format_option
@pass_app
def diff(app: App, instrument: str, from_: int | None, to: int | None, full: bool, fmt: str) -> None:
    """Provision-level differences between two versions of an instrument.

    \b
    Example:
      policywatch diff cn-cac/provisions-1a2b3c --from 1 --to 2
    """
    from storage.queries import version
    from texts.provision_diffs import diff_provisions, unified_text_diff

    store = app.store()
    with store.sessions() as session:
        found = _instrument_or_fail(session, instrument)
        newest = found.version_count
        to = to or newest
        from_ = from_ or to - 1
        if newest < 2 and from_ < 1:
            raise click.ClickException(f"{found.uid} has only one version: nothing to compare")
        old, new = version(session, found.id, from_), version(session, found.id, to)
        for number, found_version in ((to, new), (from_, old)):
            if found_version is None:
                raise click.ClickException(
                    f"{found.uid} has no version {number} (versions 1 to {newest})")
        changes = diff_provisions(old.text, new.text)
        uid, old_text, new_text = found.uid, old.text, new.text
    rows = ([{"change": "added", "provision": r, "before": "", "after": ""} for r in changes.added]
            + [{"change": "removed", "provision": r, "before": "", "after": ""} for r in changes.removed]
            + [{"change": "modified", "provision": m.ref, "before": m.before, "after": m.after}
               for m in changes.modified])
    if fmt != "table":
        click.echo(render(rows, ["change", "provision", "before", "after"], fmt))
        return
    click.echo(f"{uid}: version {from_} → {to}")
    if not rows:
        click.echo("no provision changed")
    for row in rows:
        click.echo(f"\n{row['change']:>9}  {row['provision']}")
        if row["change"] == "modified":
            click.echo(f"   before  {row['before']}")
            click.echo(f"    after  {row['after']}")
    if full:
        click.echo("")
        for line in unified_text_diff(old_text, new_text, f"version {from_}", f"version {to}"):
            click.echo(line)


# --- classification -----------------------------------------------------------------------

def _read_target(target: str) -> tuple[bytes, str | None, str]:
    """The bytes and content type of a file, a URL or standard input ('-')."""
    if target == "-":
        return sys.stdin.buffer.read(), None, "standard input"
    if target.startswith(("http://", "https://")):
        import urllib.request

        request = urllib.request.Request(target, headers={
            "User-Agent": user_agent()})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http/https only)
                body = response.read(MAX_DOCUMENT_BYTES + 1)
                content_type = response.headers.get("Content-Type")
        except OSError as exc:
            raise click.ClickException(f"{target}: cannot fetch: {exc}") from None
        if len(body) > MAX_DOCUMENT_BYTES:
            raise click.ClickException(f"{target}: larger than {MAX_DOCUMENT_BYTES // 2**20} MB")
        return body, content_type, target
    path = Path(target)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{target}: cannot read: {exc.strerror or exc}") from None
    kinds = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html"}
    return body, kinds.get(path.suffix.lower(), "text/plain"), target


@cli.command()
@click.argument("target", metavar="FILE|URL|-")
@format_option
def classify(target: str, fmt: str) -> None:
    """Paradigm, scores and quoted evidence for one text (HTML, PDF or plain text).

    \b
    Example:
      policywatch classify policywatch/demoweb/corpus/cn-pipl-2021.md --format json
    """
    from crawlers.extract import extract_document
    from paradigms.classifier import classify_text
    from texts.document import ExtractionError
    from texts.vocabulary import PARADIGM_NAMES

    body, content_type, where = _read_target(target)
    try:
        text = extract_document(body, content_type).text
    except ExtractionError as exc:
        raise click.ClickException(f"{where}: {exc}") from None
    result = classify_text(text).to_json()
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        click.echo(render(result["evidence"], ["provision", "paradigm", "dimension", "indicator",
                                               "quote"], "csv"))
        return
    scores = ", ".join(f"{p} {s}" for p, s in result["scores"].items())
    click.echo(f"paradigm:  {result['paradigm']} ({PARADIGM_NAMES[result['paradigm']]})")
    click.echo(f"scores:    {scores}")
    click.echo(f"relevant:  {'yes' if result['relevant'] else 'no'}")
    if result["evidence"]:
        click.echo("\nevidence:")
        click.echo(render(result["evidence"], ["provision", "paradigm", "dimension", "indicator", "quote"],
                          "table"))


@cli.command()
@click.option("--by", type=click.Choice(["year", "quarter"]), default="year", show_default=True,
              help="Period length.")
@click.option("--chart", type=click.Path(dir_okay=False, writable=True), metavar="FILE.png",
              help="Also draw the shares over time, flagged shifts marked, as a PNG.")
@format_option
@pass_app
def trends(app: App, by: str, chart: str | None, fmt: str) -> None:
    """Paradigm shares of the instruments in force per period, and flagged shifts.

    Flags: a jurisdiction whose instruments in force change dominant paradigm, a share that
    moves 15 points against the previous periods, a burst of new restrictive instruments.

    \b
    Example:
      policywatch trends --by quarter --chart trends.png
    """
    from paradigms.trends import compute_trends, trends_json
    from storage.queries import trend_histories

    with app.store().sessions() as session:
        histories = trend_histories(session)
    periods, flags = compute_trends(histories, by)
    if chart:
        from paradigms.chart import draw_trend_chart

        try:
            Path(chart).write_bytes(draw_trend_chart(periods, flags))
        except OSError as exc:
            raise click.ClickException(f"--chart: cannot write {chart}: {exc.strerror}") from None
    if fmt == "json":
        click.echo(json.dumps(trends_json(periods, flags), ensure_ascii=False, indent=2))
        return
    rows = [{"period": p.period, "in_force": p.in_force,
             **{name: f"{p.shares[name]:.0%}" for name in PARADIGMS},
             "unknown": p.counts.get("unknown", 0),
             "national/regional R": f"{p.by_level.get('national/regional', {}).get('restrictive', 0):.0%}",
             "multi/bilateral R": f"{p.by_level.get('multilateral/bilateral', {}).get('restrictive', 0):.0%}"}
            for p in periods]
    columns = ["period", "in_force", "facilitation", "prudent", "restrictive", "unknown",
               "national/regional R", "multi/bilateral R"]
    click.echo(render(rows, columns, fmt))
    if fmt == "table" and flags:
        click.echo("\nflagged shifts:")
        for flag in flags:
            more = f" ({', '.join(flag.instruments[:4])}{' …' if len(flag.instruments) > 4 else ''})"
            click.echo(f"  {flag.period}  {flag.kind:<18} {flag.message}{more if flag.instruments else ''}")
    if chart:
        click.echo(f"chart written to {chart}", err=True)


@cli.command()
@pass_app
def reclassify(app: App) -> None:
    """Re-run the classifier over every stored version, after the classifier improved.

    Labels, scores, evidence and the shifts of existing events are updated; no change event is
    created.

    \b
    Example:
      policywatch reclassify
    """
    from storage.reclassify import reclassify_store

    counts = reclassify_store(app.store())
    click.echo(f"{counts['versions']} version(s) classified, {counts['relabelled']} relabelled, "
               f"{counts['events']} event(s) updated")


@cli.command()
@click.option("--source", multiple=True, metavar="ID", help="Source id (repeatable).")
@format_option
@pass_app
def dropped(app: App, source: tuple[str, ...], fmt: str) -> None:
    """Documents the relevance filter kept out of the instruments, and why.

    \b
    Example:
      policywatch dropped --source eu-edpb --format json
    """
    from sqlalchemy import select

    from storage.models import DroppedDocument

    with app.store().sessions() as session:
        query = select(DroppedDocument).order_by(DroppedDocument.last_seen_at.desc())
        if source:
            query = query.where(DroppedDocument.source_id.in_(source))
        rows = [{"source": d.source_id, "title": d.title, "url": d.url, "reason": d.reason,
                 "first_seen": _iso(d.first_seen_at), "last_seen": _iso(d.last_seen_at)}
                for d in session.scalars(query)]
    click.echo(render(rows, ["source", "last_seen", "title", "reason", "url"], fmt))


# --- digests ------------------------------------------------------------------------------

@cli.command()
@click.option("--since", metavar="WHEN", help="Window start (default: one subscription window ago).")
@click.option("--until", metavar="WHEN", help="Window end (default: now).")
@click.option("--subscription", "name", metavar="NAME", help="A subscription from the configuration.")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE.eml", help="Write the message.")
@click.option("--preview", type=click.Path(dir_okay=False), metavar="FILE.html",
              help="Write the HTML part (chart inlined) to open in a browser.")
@click.option("--send", is_flag=True, help="Queue it in the outbox and send it (once per window).")
@pass_app
def digest(app: App, since, until, name, out, preview, send) -> None:
    """Build (and send) the digest of what changed in a window.

    Without --out, --preview or --send the plain-text digest is printed.

    \b
    Example:
      policywatch --config policywatch.toml digest --subscription china-weekly --send
      policywatch digest --since 7d --preview digest.html
    """
    from alerts.outbox import send_pending
    from alerts.render import preview_html
    from policywatch.digests import ALL, build_digest, queue_digest, window_of

    subscription = ALL
    if name:
        subscription = app.config.subscription(name)
        if subscription is None:
            known = ", ".join(s.name for s in app.config.subscriptions) or "none configured"
            raise click.ClickException(f"--subscription: no subscription {name!r} ({known})")
    elif send:
        raise click.ClickException("--send needs --subscription (its recipients and filters)")
    start, end = window_of(parse_when(since, "--since"), parse_when(until, "--until", True),
                           subscription)
    if start >= end:
        raise click.BadParameter("the window is empty: --since must be before --until")
    store = app.store()
    built, message, chart = build_digest(store, subscription, start, end, app.config.smtp)
    if out:
        Path(out).write_bytes(message.as_bytes())
        click.echo(f"message written to {out}", err=True)
    if preview:
        Path(preview).write_text(preview_html(built, chart, app.config.smtp.list_unsubscribe),
                                 encoding="utf-8")
        click.echo(f"preview written to {preview}", err=True)
    if not (out or preview or send):
        click.echo(message.get_body(("plain",)).get_content())
    if not send:
        return
    digest_id, fresh = queue_digest(store, subscription, start, end, built, message)
    if digest_id is None:
        click.echo(f"nothing changed for {subscription.name}: no digest sent (send_empty = false)")
        return
    if not fresh:
        click.echo(f"digest {digest_id} for this window was already built; sending it if pending")
    results = send_pending(store, app.config.smtp, only=digest_id)
    for result in results:
        if result.status == "sent":
            click.echo(f"digest {result.digest_id} sent to {', '.join(subscription.recipients)}")
        else:
            click.echo(f"digest {result.digest_id} not sent, kept in the outbox: {result.error}",
                       err=True)
    if not results:
        click.echo(f"digest {digest_id} is not pending (see `policywatch outbox`)")


@cli.command()
@click.option("--send-pending", is_flag=True, help="Try every pending digest now.")
@click.option("--resend", type=int, metavar="ID", help="Send this digest again (e.g. an uncertain one).")
@format_option
@pass_app
def outbox(app: App, send_pending: bool, resend: int | None, fmt: str) -> None:
    """Digests built and their state: pending, sent, uncertain, empty.

    \b
    Example:
      policywatch --config policywatch.toml outbox --send-pending
    """
    from sqlalchemy import select

    from alerts import outbox as mail_outbox
    from storage.models import OutboxDigest

    store = app.store()
    if resend is not None:
        try:
            mail_outbox.resend(store, resend)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    if send_pending or resend is not None:
        for result in mail_outbox.send_pending(store, app.config.smtp,
                                               only=resend if resend is not None else None):
            click.echo(f"digest {result.digest_id} ({result.subscription}): {result.status}"
                       + (f": {result.error}" if result.error else ""), err=True)
    mail_outbox.recover_interrupted(store)
    with store.sessions() as session:
        rows = [{"id": d.id, "subscription": d.subscription,
                 "window": f"{d.window_start:%Y-%m-%d %H:%M} – {d.window_end:%Y-%m-%d %H:%M}",
                 "status": d.status, "attempts": d.attempts, "events": d.events,
                 "sent_at": _iso(d.sent_at), "subject": d.subject, "error": d.last_error}
                for d in session.scalars(select(OutboxDigest).order_by(OutboxDigest.id.desc()))]
    click.echo(render(rows, ["id", "subscription", "window", "status", "attempts", "events",
                             "sent_at", "error"], fmt))


@cli.group()
def mail() -> None:
    """Mail settings.

    \b
    Example:
      policywatch --config policywatch.toml mail test --to me@example.org
    """


@mail.command("test")
@click.option("--to", "to", metavar="ADDRESS", help="Recipient (default: the configured sender).")
@pass_app
def mail_test(app: App, to: str | None) -> None:
    """Send a short test message with the configured SMTP settings.

    \b
    Example:
      POLICYWATCH_SMTP_PASSWORD=... policywatch --config policywatch.toml mail test --to me@example.org
    """
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    from alerts.smtp import MailError, send_message

    smtp = app.config.smtp
    message = EmailMessage()
    message["Subject"] = "policywatch: test message"
    message["From"], message["To"] = smtp.sender, to or smtp.sender
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("test", domain=smtp.sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("This is a test message from policywatch: the mail settings work.\n")
    try:
        send_message(smtp, message, [to or smtp.sender])
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"test message sent to {to or smtp.sender} via {smtp.host}:{smtp.port}")


# --- demo -----------------------------------------------------------------------------------

@cli.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="policywatch-demo",
              show_default=True, help="Folder for the demo's database, declarations and outputs.")
def demo(folder: str) -> None:
    """The whole loop offline: crawls of a bundled demo web on loopback across its epochs,
    then the history, the trends chart and a digest.

    Nothing outside the demo folder is touched and no process is left running.

    \b
    Example:
      policywatch demo --dir /tmp/policywatch-demo
    """
    from policywatch.demo import run_demo

    try:
        run_demo(Path(folder), click.echo)
    except (RuntimeError, OSError) as exc:
        raise click.ClickException(f"demo: {exc}") from None


# --- daemon -----------------------------------------------------------------------------

@cli.command()
@sources_option
@click.option("--reload-every", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Re-read the configuration and catalogue this often (SIGHUP does it at once).")
@click.option("--crawl-timeout", type=click.FloatRange(min=1), default=1800, show_default=True,
              metavar="SECONDS", help="Kill a crawl child that runs longer than this.")
@click.option("--workers", type=click.IntRange(min=1, max=16), default=2, show_default=True,
              help="Jobs run at the same time (crawl children at most).")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Log here instead of stderr.")
@pass_app
def run(app: App, source_paths, reload_every, crawl_timeout, workers, log_file) -> None:
    """The daemon: check every source on its interval and send digests on their schedules.

    One crawl child process per source check; SIGTERM or SIGINT stop it cleanly; a second
    daemon on the same store is refused.

    \b
    Example:
      policywatch --config /etc/policywatch.toml run --log-file /var/log/policywatch.log
    """
    import logging

    from policywatch.daemon import DaemonError, run_daemon

    handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s",
                                           "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger("policywatch")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").addHandler(handler)
    try:
        run_daemon(app.config.file and str(app.config.file), app.db_flag or app.config.db,
                   list(source_paths), reload_every, crawl_timeout, workers)
    except DaemonError as exc:
        raise click.ClickException(str(exc)) from None


# --- status --------------------------------------------------------------------------------

@cli.command()
@format_option
@pass_app
def status(app: App, fmt: str) -> None:
    """Source health (last check, failures, last error, next run), the daemon, digests, outbox.

    \b
    Example:
      policywatch status --format json
    """
    from sqlalchemy import func, inspect, select, text

    from storage.models import DaemonState, Instrument, JobRun, OutboxDigest, Source
    from storage.runs import pid_alive

    store = app.store()
    next_runs: dict[str, str] = {}
    if inspect(store.engine).has_table("apscheduler_jobs"):
        with store.engine.connect() as connection:
            for job_id, stamp in connection.execute(text("select id, next_run_time from apscheduler_jobs")):
                if stamp is not None:
                    next_runs[job_id] = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.sessions() as session:
        counts = dict(session.execute(select(Instrument.source_id, func.count(Instrument.id))
                                      .group_by(Instrument.source_id)).all())
        rows = [{"source": s.id, "jurisdiction": s.jurisdiction, "instruments": counts.get(s.id, 0),
                 "last_check": _iso(s.last_attempt_at), "last_success": _iso(s.last_success_at),
                 "failures": s.consecutive_failures, "error_kind": s.last_error_kind,
                 "last_error": s.last_error, "next_run": next_runs.get(f"check:{s.id}")}
                for s in session.scalars(select(Source).order_by(Source.id))]
        daemon = session.get(DaemonState, 1)
        outbox = dict(session.execute(select(OutboxDigest.status, func.count(OutboxDigest.id))
                                      .group_by(OutboxDigest.status)).all())
        latest = select(func.max(JobRun.id)).group_by(JobRun.job_id)
        last_jobs = {job: (outcome, detail) for job, outcome, detail in session.execute(
            select(JobRun.job_id, JobRun.outcome, JobRun.detail).where(JobRun.id.in_(latest)))}
    click.echo(render(rows, ["source", "jurisdiction", "instruments", "last_check", "last_success",
                             "failures", "error_kind", "next_run", "last_error"], fmt))
    if fmt != "table":
        return
    if daemon and daemon.pid and pid_alive(daemon.pid):
        uptime = datetime.now(UTC).replace(tzinfo=None) - daemon.started_at
        click.echo(f"\ndaemon: running, pid {daemon.pid}, up {str(uptime).split('.')[0]}, "
                   f"last heartbeat {_iso(daemon.heartbeat_at)}")
    else:
        stopped = f" (last stopped {_iso(daemon.stopped_at)})" if daemon and daemon.stopped_at else ""
        click.echo(f"\ndaemon: not running{stopped}")
    digests = sorted(job for job in next_runs if job.startswith("digest:"))
    for job in digests:
        outcome = last_jobs.get(job)
        last = f", last: {outcome[0]} ({outcome[1]})" if outcome else ""
        click.echo(f"{job}: next {next_runs[job]}{last}")
    click.echo("outbox: " + (", ".join(f"{n} {state}" for state, n in sorted(outbox.items()))
                             or "empty"))


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def main() -> None:
    cli(prog_name="policywatch")
