"""The web application: routes of the pages, the feed and the JSON API over a read-only store.

Handlers read through `storage.queries` (and `policywatch.web.reads`) exactly as the command
line does, render with Jinja2 (autoescaped: every scraped string is escaped), and answer a
malformed parameter with a 400 and its one-line reason.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from alerts.settings import DigestFilter, Subscription
from paradigms.lifecycle import STAGE_NAMES, STAGES
from paradigms.trends import compute_trends, trends_json
from policywatch.cli.history import provision_refs
from policywatch.web.chart import trend_chart
from policywatch.web.feed import atom_feed, entry_id
from policywatch.web.openapi import openapi_document
from policywatch.web.params import (
    BadRequest,
    history_request,
    integer,
    only_known,
    refuse_nul,
    single,
)
from policywatch.web.reads import history_page, instrument_json, subscription_events
from policywatch.web.security import LOOPBACK_NAMES, Credentials, Guard
from policywatch.web.store import ReadOnlyStore
from storage import queries
from storage.models import Instrument, Version
from texts.provision_diffs import ProvisionChanges, compare_provisions, diff_provisions
from texts.provisions import segment_provisions
from texts.vocabulary import CHANGE_KINDS, PARADIGM_CHOICES, PARADIGM_COLOURS, PARADIGM_NAMES
from texts.word_diff import side_runs, word_runs

HERE = Path(__file__).parent
FEED_ENTRIES = 50
LAYOUTS = ("side", "inline")


def templates() -> Environment:
    environment = Environment(loader=FileSystemLoader(HERE / "templates"),
                              autoescape=select_autoescape(default=True), trim_blocks=True,
                              lstrip_blocks=True)
    environment.globals.update(paradigm_names=PARADIGM_NAMES, stage_names=STAGE_NAMES,
                               instrument_path=instrument_path)
    return environment


def instrument_path(uid: str) -> str:
    """The page of an instrument (ids hold a '/', kept as it is in the path)."""
    return f"/instrument/{quote(uid, safe='/')}"


def query_with(request: Request, **changes: str | None) -> str:
    """The request's query string with some parameters replaced (or removed when None)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    kept += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(kept)


class Views:
    """The handlers, sharing one read-only store and one template environment."""

    def __init__(self, store: ReadOnlyStore, subscriptions: tuple[Subscription, ...] = ()) -> None:
        self.store = store
        self.subscriptions = {s.name: s for s in subscriptions}
        self.jinja = templates()

    def page(self, name: str, request: Request, **context: Any) -> HTMLResponse:
        body = self.jinja.get_template(name).render(request=request, **context)
        return HTMLResponse(body)

    def found(self, session: Session, uid: str) -> Instrument:
        refuse_nul("instrument", uid)
        instrument = queries.find_instrument(session, uid)
        if instrument is None:
            raise HTTPException(404, f"no instrument {uid!r}")
        return instrument

    # pages

    def changes(self, request: Request) -> HTMLResponse:
        with self.store.sessions() as session:
            asked = history_request(session, request.query_params)
            rows, next_cursor = history_page(session, asked.where, asked.cursor, asked.size)
            jurisdictions = queries.known_jurisdictions(session)
            sources = queries.known_source_ids(session)
        for row in rows:
            row["refs"] = provision_refs(row.get("provisions") or {})
        params = request.query_params
        return self.page("changes.html", request, rows=rows, jurisdictions=jurisdictions,
                         sources=sources, changes=CHANGE_KINDS, paradigms=PARADIGM_CHOICES,
                         stages=STAGES,
                         chosen={name: params.get(name, "") for name in
                                 ("jurisdiction", "source", "change", "paradigm", "stage", "since",
                                  "until", "search")},
                         next_query=query_with(request, cursor=next_cursor.encode())
                         if next_cursor else None,
                         feed_query=query_with(request, cursor=None, limit=None),
                         subscription_feeds=[name for name, s in self.subscriptions.items()
                                             if shown_by(s.filter, asked.where)],
                         first_page=asked.cursor is None)

    def instrument(self, request: Request) -> HTMLResponse:
        only_known(request.query_params, ("from", "to", "layout"))
        layout = single(request.query_params, "layout") or "side"
        if layout not in LAYOUTS:
            raise BadRequest(f"layout: {layout!r} is not one of {', '.join(LAYOUTS)}")
        with self.store.sessions() as session:
            found = self.found(session, request.path_params["uid"])
            info = instrument_json(session, found)
            versions = sorted(found.versions, key=lambda v: v.number, reverse=True)
            compared = self.compared(session, found, request) if found.version_count >= 2 else None
        return self.page("instrument.html", request, info=info, versions=versions,
                         diff=compared, layout=layout, lang=found.language)

    def compared(self, session: Session, found: Instrument, request: Request) -> dict[str, Any]:
        """The diff of the versions named by ?from and ?to, provision by provision, words marked."""
        newest = found.version_count
        to = integer(request.query_params, "to", newest, 1, newest)
        older = integer(request.query_params, "from", max(1, to - 1), 1, newest)
        old, new = self.versions(session, found, older, to)
        changes = diff_provisions(old.text, new.text)
        return {"from": older, "to": to, "numbers": list(range(newest, 0, -1)),
                "provisions": provision_view(changes, old.text, new.text)}

    def versions(self, session: Session, found: Instrument, *numbers: int) -> list[Version]:
        chosen = [queries.version(session, found.id, number) for number in numbers]
        missing = [n for n, v in zip(numbers, chosen, strict=True) if v is None]
        if missing:
            raise HTTPException(404, f"{found.uid} has no version {missing[0]}")
        return [v for v in chosen if v is not None]

    def trends(self, request: Request) -> HTMLResponse:
        by = self.period_length(request)
        with self.store.sessions() as session:
            histories = queries.trend_histories(session)
        periods, flags = compute_trends(histories, by)
        return self.page("trends.html", request, by=by, periods=periods, flags=flags,
                         chart=trend_chart(periods, flags))

    def sources(self, request: Request) -> HTMLResponse:
        only_known(request.query_params, ())
        with self.store.sessions() as session:
            status = queries.status_report(session)
        return self.page("sources.html", request, status=status)

    def feed(self, request: Request) -> Response:
        with self.store.sessions() as session:
            asked = history_request(session, request.query_params)
            rows, _ = history_page(session, asked.where, None, min(asked.size, FEED_ENTRIES))
        query = query_with(request)
        return atom_response(request, rows, "/feed.atom" + (f"?{query}" if query else ""), query,
                             f"change events{' where ' + query if query else ''}")

    def subscription_feed(self, request: Request) -> Response:
        only_known(request.query_params, ())
        name = request.path_params["name"]
        subscription = self.subscriptions.get(name)
        if subscription is None:
            known = ", ".join(self.subscriptions) or "none configured"
            raise HTTPException(404, f"no subscription {name!r} (subscriptions: {known})")
        with self.store.sessions() as session:
            rows = subscription_events(session, subscription.filter, FEED_ENTRIES)
        return atom_response(request, rows, f"/feed/{quote(name)}.atom",
                             subscription_query(subscription.filter),
                             f"change events of the subscription {name}")

    def paradigm_css(self, request: Request) -> Response:
        rules = "\n".join(f".p-{name} {{ background: {colour}; color: #fff; }}\n"
                          f".swatch-{name} {{ fill: {colour}; }}"
                          for name, colour in PARADIGM_COLOURS.items())
        return Response(rules + "\n", media_type="text/css")

    # the JSON API

    def api_history(self, request: Request) -> JSONResponse:
        with self.store.sessions() as session:
            asked = history_request(session, request.query_params)
            rows, next_cursor = history_page(session, asked.where, asked.cursor, asked.size)
        for row in rows:
            row["id"] = entry_id(row)
        return json_response({"events": rows,
                              "next_cursor": next_cursor.encode() if next_cursor else None})

    def api_instrument(self, request: Request) -> JSONResponse:
        only_known(request.query_params, ())
        with self.store.sessions() as session:
            return json_response(instrument_json(session, self.found(session,
                                                                     request.path_params["uid"])))

    def api_diff(self, request: Request) -> JSONResponse:
        only_known(request.query_params, ("from", "to"))
        with self.store.sessions() as session:
            found = self.found(session, request.path_params["uid"])
            newest = found.version_count
            if newest < 2:
                raise HTTPException(404, f"{found.uid} has only one version: nothing to compare")
            to = integer(request.query_params, "to", newest, 1, newest)
            older = integer(request.query_params, "from", max(1, to - 1), 1, newest)
            old, new = self.versions(session, found, older, to)
            return json_response([change.to_json()
                                  for change in compare_provisions(old.text, new.text)])

    def api_trends(self, request: Request) -> JSONResponse:
        by = self.period_length(request)
        with self.store.sessions() as session:
            histories = queries.trend_histories(session)
        return json_response(trends_json(*compute_trends(histories, by)))

    def api_status(self, request: Request) -> JSONResponse:
        only_known(request.query_params, ())
        with self.store.sessions() as session:
            return json_response(queries.status_report(session))

    def api_openapi(self, request: Request) -> JSONResponse:
        return json_response(openapi_document())

    @staticmethod
    def period_length(request: Request) -> str:
        only_known(request.query_params, ("by",))
        by = single(request.query_params, "by") or "year"
        if by not in ("year", "quarter"):
            raise BadRequest(f"by: {by!r} is not one of year, quarter")
        return by


def atom_response(request: Request, rows: list[dict], feed_path: str, page_query: str,
                  subtitle: str) -> Response:
    """The Atom feed of `rows` served at `feed_path`, its page the changes page of `page_query`."""
    base = str(request.base_url).rstrip("/")
    body = atom_feed(rows, base + feed_path, f"{base}/" + (f"?{page_query}" if page_query else ""),
                     lambda uid: base + instrument_path(uid), subtitle)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def subscription_query(wanted: DigestFilter) -> str:
    """The changes page's query string for a subscription's filter (its levels aside, which the
    page does not filter by)."""
    chosen = {"jurisdiction": wanted.jurisdictions, "source": wanted.sources,
              "change": wanted.changes, "paradigm": wanted.paradigms}
    pairs = [(name, ",".join(given)) for name, given in chosen.items() if given]
    return urlencode(pairs + ([("search", wanted.search)] if wanted.search else []))


def shown_by(wanted: DigestFilter, where: queries.HistoryFilter) -> bool:
    """Is the changes page of `where` the page of a subscription filtering by `wanted`?"""
    def same(left: tuple[str, ...], right: tuple[str, ...]) -> bool:
        return {v.lower() for v in left} == {v.lower() for v in right}

    return (not wanted.levels and where.since is None and where.until is None and where.include_baseline
            and same(wanted.jurisdictions, where.jurisdictions)
            and same(wanted.sources, where.sources) and same(wanted.changes, where.changes)
            and same(wanted.paradigms, where.paradigms) and wanted.search == where.search)


def provision_view(changes: ProvisionChanges, old_text: str, new_text: str) -> list[dict[str, Any]]:
    """Each changed provision with its before and after as word runs: the whole provision when
    it is matched by reference, else the changed span with its context."""
    old = {p.ref: p.text for p in segment_provisions(old_text)}
    new = {p.ref: p.text for p in segment_provisions(new_text)}
    shown: list[dict[str, Any]] = []
    for modified in changes.modified:
        whole = modified.ref in old and modified.ref in new and not modified.ref.startswith("¶")
        runs = word_runs(old[modified.ref], new[modified.ref]) if whole \
            else word_runs(modified.before, modified.after)
        shown.append({"change": "modified", "ref": modified.ref, "runs": runs,
                      "before": side_runs(runs, "deleted"), "after": side_runs(runs, "inserted")})
    shown += [{"change": "added", "ref": ref, "text": new.get(ref, "")} for ref in changes.added]
    shown += [{"change": "removed", "ref": ref, "text": old.get(ref, "")} for ref in changes.removed]
    return shown


class UnicodeJSONResponse(JSONResponse):
    """JSON as the command line prints it: non-ASCII characters kept as they are."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(content: Any, status_code: int = 200) -> JSONResponse:
    return UnicodeJSONResponse(content, status_code=status_code)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def bad_request(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        return json_response({"error": str(exc)}, 400)
    return PlainTextResponse(f"{exc}\n", 400)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if wants_json(request):
        return json_response({"error": exc.detail}, exc.status_code)
    return PlainTextResponse(f"{exc.detail}\n", exc.status_code, headers=exc.headers)


def create_app(store: ReadOnlyStore, credentials: Credentials | None = None,
               hosts: tuple[str, ...] = LOOPBACK_NAMES,
               subscriptions: tuple[Subscription, ...] = ()) -> Starlette:
    """The application over `store`, answering requests addressed to `hosts` (on loopback, the
    names of this machine only: a rebinding attacker's name is refused); every client must
    present `credentials` when there are any. Each of `subscriptions` has its own feed."""
    views = Views(store, subscriptions)
    routes = [
        Route("/", views.changes, name="changes"),
        Route("/instrument/{uid:path}", views.instrument, name="instrument"),
        Route("/trends", views.trends, name="trends"),
        Route("/sources", views.sources, name="sources"),
        Route("/feed.atom", views.feed, name="feed"),
        Route("/feed/{name}.atom", views.subscription_feed, name="subscription_feed"),
        Route("/paradigms.css", views.paradigm_css),
        Route("/api/history", views.api_history),
        Route("/api/instrument/{uid:path}", views.api_instrument),
        Route("/api/diff/{uid:path}", views.api_diff),
        Route("/api/trends", views.api_trends),
        Route("/api/status", views.api_status),
        Route("/api/openapi.json", views.api_openapi),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(Guard, credentials=credentials),
                  Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={BadRequest: bad_request, HTTPException: http_error},
                     lifespan=closing(store))


def closing(store: ReadOnlyStore) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The lifespan that closes the store's connections when the server stops."""
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    return lifespan
