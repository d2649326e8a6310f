"""`policywatch sources add URL`: one page read, its kind told, its declaration proposed,
validated and written, on a small regulator site served on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from crawlers.catalogue import load_catalogue
from tests.conftest import invoke_cli

CHROME = """<header class="site-header"><a href="/">Home</a> <a href="/about/">About us</a></header>
<nav class="menu"><ul><li><a href="/our-documents/">Documents</a></li><li><a href="/news/">News</a>
</li></ul></nav>"""
FOOTER = """<footer><a href="/legal-notice/">Legal notice</a> <a href="/privacy/">Privacy</a>
<a href="https://twitter.example/edpb">Follow us</a></footer>"""

LISTING = f"""<!DOCTYPE html><html lang="en"><head><title>Our documents | Data Protection Board</title>
</head><body>{CHROME}
<main><h1>Our documents</h1>
<div class="views-exposed-form"><a href="/our-documents/?sort=date">Sort by date</a></div>
<div class="view-content">
 <div class="views-row"><span class="date">2024-03-12</span>
  <a class="doc" href="/our-documents/guidelines-2024-01-transfers_en">Guidelines 01/2024 on transfers</a></div>
 <div class="views-row"><span class="date">2023-11-02</span>
  <a class="doc" href="/our-documents/recommendations-2023-02-scc_en">Recommendations 02/2023 on SCCs</a></div>
 <div class="views-row"><span class="date">2023-06-20</span>
  <a class="doc" href="/our-documents/opinion-2023-05-adequacy_en">Opinion 05/2023 on adequacy</a></div>
 <div class="views-row"><span class="date">2023-02-14</span>
  <a class="doc" href="/our-documents/statement-2023-01-dpf_en">Statement 01/2023 on the DPF</a></div>
</div>
<ul class="pager"><li class="pager__item"><a href="/our-documents/?page=0">1</a></li>
<li class="pager__item pager__item--next"><a href="/our-documents/?page=1">Next ›</a></li></ul>
</main>{FOOTER}</body></html>"""

DOCUMENT = f"""<!DOCTYPE html><html lang="es"><head><title>Reglamento 7/2024 | Autoridad</title></head>
<body><div class="cookie-banner">Usamos cookies. <a href="/cookies/">Más</a></div>{CHROME}
<main><article><h1>Reglamento 7/2024 sobre transferencias internacionales</h1>
<p>Artículo 1. Las transferencias internacionales de datos personales a terceros países solo
podrán realizarse cuando el país de destino garantice un nivel de protección adecuado.</p>
<p>Artículo 2. En ausencia de una decisión de adecuación, el responsable podrá transferir datos
si ofrece garantías apropiadas, como cláusulas contractuales tipo o normas corporativas
vinculantes aprobadas por la Autoridad.</p>
<p>Artículo 3. La Autoridad publicará la lista de países con nivel adecuado de protección.</p>
<p>Véase también la <a href="/reglamentos/">lista de reglamentos</a>.</p>
</article></main>{FOOTER}</body></html>"""

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Publications</title><link>{base}/</link>
<item><title>Guidelines 01/2024</title><link>{base}/our-documents/guidelines-2024-01_en</link></item>
<item><title>Opinion 05/2023</title><link>{base}/our-documents/opinion-2023-05_en</link></item>
</channel></rss>"""

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/our-documents/guidelines-2024-01_en</loc><lastmod>2024-03-12</lastmod></url>
<url><loc>{base}/our-documents/opinion-2023-05_en</loc></url>
</urlset>"""

PAGES = {"/our-documents/": ("text/html; charset=utf-8", LISTING),
         "/reglamentos/7-2024": ("text/html; charset=utf-8", DOCUMENT),
         "/feed/publications": ("application/rss+xml", FEED),
         "/sitemap.xml": ("application/xml", SITEMAP)}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        found = PAGES.get(self.path)
        if found is None:
            self.send_error(404)
            return
        content_type, page = found
        body = page.format(base=f"http://127.0.0.1:{self.server.server_address[1]}").encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def add(site: str, path: str, folder: Path, *options: str):
    return invoke_cli("sources", "add", f"{site}{path}", "--sources", str(folder), *options)


def written(folder: Path, source_id: str) -> dict:
    return yaml.safe_load((folder / f"{source_id}.yaml").read_text(encoding="utf-8"))


def test_a_listing_gets_its_links_selector_follow_pattern_and_next_page(site, tmp_path):
    result = add(site, "/our-documents/", tmp_path, "--id", "xx-board", "--jurisdiction", "xd")
    assert result.code == 0, result.stderr
    assert "a listing with 4 link(s) to follow" in result.stdout
    declaration = written(tmp_path, "xx-board")
    assert declaration["jurisdiction"] == "XD" and declaration["languages"] == ["en"]
    assert declaration["name"] == "Our documents | Data Protection Board"
    entry = declaration["entries"][0]
    assert (entry["type"], entry["links"], entry["follow"]) == (
        "listing", "div.view-content a.doc", "/our-documents/")
    # The proposed selectors pick exactly the documents and the next page on the page itself.
    soup = BeautifulSoup(LISTING, "html.parser")
    assert [a["href"] for a in soup.select(entry["links"])] == [
        "/our-documents/guidelines-2024-01-transfers_en", "/our-documents/recommendations-2023-02-scc_en",
        "/our-documents/opinion-2023-05-adequacy_en", "/our-documents/statement-2023-01-dpf_en"]
    assert [a["href"] for a in soup.select(entry["next"])] == ["/our-documents/?page=1"]
    catalogue = load_catalogue([tmp_path])
    assert catalogue.errors == [] and [s.id for s in catalogue.sources] == ["xx-board"]
    assert invoke_cli("sources", "check", "--sources", str(tmp_path)).code == 0


def test_a_single_document_says_what_extraction_would_watch(site, tmp_path):
    result = add(site, "/reglamentos/7-2024", tmp_path, "--id", "xd-authority", "--jurisdiction", "XD")
    assert result.code == 0, result.stderr
    assert "a document" in result.stdout and "extraction would watch" in result.stdout
    assert "Artículo 1" in result.stdout and "cookies" not in result.stdout.split("watch")[1].split("\n")[0]
    declaration = written(tmp_path, "xd-authority")
    assert declaration["entries"] == [{"type": "document", "url": f"{site}/reglamentos/7-2024"}]
    assert declaration["languages"] == ["es"]
    assert declaration["extract"] == {"content": "main article", "title": "h1"}


@pytest.mark.parametrize(("path", "kind", "links"), [
    ("/feed/publications", "feed", 2), ("/sitemap.xml", "sitemap", 2)])
def test_feeds_and_sitemaps_are_recognised(site, tmp_path, path, kind, links):
    result = add(site, path, tmp_path, "--id", f"xx-{kind}", "--jurisdiction", "EU")
    assert result.code == 0, result.stderr
    assert f"a {kind} with {links} link(s)" in result.stdout
    declaration = written(tmp_path, f"xx-{kind}")
    assert declaration["entries"] == [{"type": kind, "url": f"{site}{path}"}]
    assert declaration["level"] == "supranational"


def test_mistakes_are_one_line_and_nothing_is_written(site, tmp_path):
    no_jurisdiction = add(site, "/our-documents/", tmp_path)
    assert no_jurisdiction.code == 2 and "cannot tell the jurisdiction" in no_jurisdiction.stderr
    invalid = add(site, "/our-documents/", tmp_path, "--jurisdiction", "EU", "--level", "global")
    assert invalid.code == 1 and ": level: " in invalid.stderr
    assert "the proposed declaration is not valid" in invalid.stderr
    missing = add(site, "/nothing-here", tmp_path, "--jurisdiction", "EU")
    assert missing.code == 1 and "HTTP Error 404" in missing.stderr
    assert list(tmp_path.iterdir()) == []
    assert add(site, "/our-documents/", tmp_path, "--id", "xx-one", "--jurisdiction", "EU").code == 0
    again = add(site, "/sitemap.xml", tmp_path, "--id", "xx-one", "--jurisdiction", "EU")
    assert again.code == 1 and "'xx-one' is already declared" in again.stderr


def test_dry_run_prints_without_writing(site, tmp_path):
    result = add(site, "/our-documents/", tmp_path, "--jurisdiction", "EU", "--dry-run")
    assert result.code == 0 and "id: 127-0-0-1" in result.stdout
    assert list(tmp_path.iterdir()) == []
