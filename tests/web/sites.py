"""Test-only sites added to the demo web: a host of faults and a slow gazette to kill a crawl in."""

from __future__ import annotations

from pathlib import Path

from policywatch.demoweb.server import LoopbackWeb, Page, html_page, regulator_page
from policywatch.demoweb.sites import (  # noqa: F401 (re-exported for the tests)
    CAC,
    EDPB,
    FEDREG,
    WTO,
    write_declarations,
    write_news_declaration,
)
from policywatch.demoweb.sites import (
    regulator_web as demo_web,
)
from policywatch.demoweb.texts import gdpr, to_html

FAULTS, BULK = "faults", "bulk"


def faults_routes(web: LoopbackWeb) -> dict[str, Page]:
    """Pages that fail in the ways real sites fail."""
    law = to_html(gdpr("49", "50"))
    selector_class = "law-text" if web.epoch == 1 else "legal-text-v2"  # a redesign in epoch 2
    redesigned = regulator_page("Faults", "Derogations", law, web.noise).replace(
        'class="law-text"', f'class="{selector_class}"')
    return {
        "/robots.txt": Page(b"User-agent: *\nDisallow: /private/\n", "text/plain", validator=None),
        "/error/doc": Page(b"<h1>Internal Server Error</h1>", status=500, validator=None),
        "/slow/doc": Page(b"late", action="sleep", headers={"X-Sleep": "20"}),
        "/reset/doc": Page(action="reset"),
        "/private/doc": html_page(regulator_page("Faults", "Private", law, web.noise)),
        "/redesign/doc": html_page(redesigned),
        "/huge/doc": html_page(regulator_page("Faults", "Huge", law * 1200, web.noise)),
        "/busy/doc": html_page(regulator_page("Faults", "Busy regulator", law, web.noise),
                               action="retry-after",
                               headers={"Retry-After": "1", "X-Refusals": "1"}),
    }


BULK_DOCUMENTS = 60


def bulk_routes(web: LoopbackWeb) -> dict[str, Page]:
    """A slow gazette with many documents: long enough a crawl to kill in the middle."""
    articles = gdpr("46", "47")
    routes = {f"/gazette/{n:03d}.html": html_page(regulator_page(
        "Gazette", f"Notice {n} on transfers", to_html(articles.replace("Article 46", f"Article {n}")),
        web.noise), delay=0.15) for n in range(1, BULK_DOCUMENTS + 1)}
    paths = list(routes)
    halves = {"/sitemap-1.xml": paths[: len(paths) // 2], "/sitemap-2.xml": paths[len(paths) // 2:]}
    for name, part in halves.items():  # a sitemap index of two urlsets
        urlset = ('<?xml version="1.0" encoding="UTF-8"?>'
                  '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                  + "".join(f"<url><loc>{web.url(BULK, p)}</loc></url>" for p in part) + "</urlset>")
        routes[name] = Page(urlset.encode(), "application/xml")
    index = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             + "".join(f"<sitemap><loc>{web.url(BULK, n)}</loc></sitemap>" for n in halves)
             + "</sitemapindex>")
    routes["/sitemap.xml"] = Page(index.encode(), "application/xml", validator=None)
    return routes


def regulator_web() -> LoopbackWeb:
    """The demo's regulator sites plus the faults host and the slow gazette."""
    return demo_web({FAULTS: ("127.0.0.6", faults_routes), BULK: ("127.0.0.7", bulk_routes)})


def write_fault_declarations(web: LoopbackWeb, folder: Path) -> Path:
    """One source per failure, so that each is reported on its own."""
    folder.mkdir(parents=True, exist_ok=True)
    faults = {"fault-500": "/error/doc", "fault-timeout": "/slow/doc", "fault-reset": "/reset/doc",
              "fault-robots": "/private/doc", "fault-busy": "/busy/doc",
              "fault-huge": "/huge/doc"}
    for source_id, path in faults.items():
        (folder / f"{source_id}.yaml").write_text(f"""\
id: {source_id}
name: Faulty regulator {path}
jurisdiction: GB
level: national
body: regulator
relevance: all
entries:
  - type: document
    url: {web.url(FAULTS, path)}
""")
    (folder / "fault-selector.yaml").write_text(f"""\
id: fault-selector
name: Regulator whose site is redesigned
jurisdiction: GB
level: national
body: regulator
relevance: all
entries:
  - type: document
    url: {web.url(FAULTS, "/redesign/doc")}
extract:
  content: "div.law-text"
""")
    return folder


ERROR_PAGES = "error-pages"


def error_page_routes(web: LoopbackWeb) -> dict[str, Page]:
    """An instrument that answers 200 with what is not it: epoch 1 the instrument, epoch 2 a
    "page not found" page, epoch 3 a maintenance page, epoch 4 the instrument again; and a page
    whose declared selector keeps a sliver of its text."""
    law = to_html(gdpr("46", "47"))
    not_found = regulator_page("Errors", "Page not found", "<p>Sorry, the page you requested does "
                               "not exist or has been moved. Try the search.</p>", web.noise)
    maintenance = ("<!DOCTYPE html><html><head><title>Wartungsarbeiten | Errors</title></head><body>"
                   "<h1>Wartungsarbeiten</h1><p>Diese Website ist vorübergehend nicht verfügbar. "
                   f"Bitte versuchen Sie es später erneut. ({web.noise})</p></body></html>")
    instrument = {2: not_found, 3: maintenance}.get(web.epoch, regulator_page(
        "Errors", "Appropriate safeguards", law, web.noise))
    sliver = regulator_page("Errors", "Standard clauses", f'<p class="summary">Summary.</p>{law}',
                            web.noise)
    return {"/law/doc": html_page(instrument), "/sliver/doc": html_page(sliver)}


def error_pages_web() -> LoopbackWeb:
    """A host of its own whose instruments answer error pages with a 200."""
    return LoopbackWeb({ERROR_PAGES: ("127.0.0.10", error_page_routes)})


def write_error_page_declarations(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "errors-law.yaml").write_text(f"""\
id: errors-law
name: Regulator that answers error pages with 200 (loopback)
jurisdiction: DE
level: national
body: regulator
relevance: all
entries:
  - type: document
    url: {web.url(ERROR_PAGES, "/law/doc")}
""")
    (folder / "errors-sliver.yaml").write_text(f"""\
id: errors-sliver
name: Regulator whose selector keeps a sliver (loopback)
jurisdiction: DE
level: national
body: regulator
relevance: all
entries:
  - type: document
    url: {web.url(ERROR_PAGES, "/sliver/doc")}
extract:
  content: "p.summary"
""")
    return folder


def write_bulk_declaration(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bulk-gazette.yaml").write_text(f"""\
id: bulk-gazette
name: Slow gazette (loopback)
jurisdiction: FR
level: national
body: gazette
relevance: all
entries:
  - type: sitemap
    url: {web.url(BULK, "/sitemap.xml")}
""")
    return folder
