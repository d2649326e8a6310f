"""A loopback web of regulator-like sites for the demo and the tests: several hosts (127.0.0.x), pages with
navigation, cookie banners, scripts, rotating tokens and timestamps, pagination, an RSS feed, a
sitemap, a PDF, GBK-encoded Chinese pages, and a host of faults.

The web has *epochs* (what the instruments say) and a *noise* counter (what the furniture says).
Changing `noise` alone must never produce a change event. Servers send ETag or Last-Modified and
answer conditional requests with 304, as real sites do; `hits` records every request.
"""

from __future__ import annotations

import hashlib
import html
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    validator: str | None = "etag"  # etag | last-modified | None
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "sleep", "reset" or "retry-after"
    delay: float = 0.0  # seconds before answering (latency)


@dataclass
class Hit:
    host: str
    path: str
    status: int
    size: int
    conditional: bool


# --- page furniture ----------------------------------------------------------------------

def _noise(noise: int, salt: str) -> random.Random:
    return random.Random(f"{noise}:{salt}")


def regulator_page(site: str, title: str, body_html: str, noise: int, *, lang: str = "en",
                   published: str = "2024-03-15") -> str:
    """A page dressed like a regulator's site; everything outside the text rotates with `noise`."""
    rng = _noise(noise, title)
    token = hashlib.sha1(f"{noise}{title}".encode()).hexdigest()
    stamp = f"2026-11-{1 + noise % 27:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:07"
    nav = ["Home", "News", "Our documents", "Consultations", "About us", "Contact", "Careers"]
    rng.shuffle(nav)
    related = rng.sample(["Annual report 2025", "Opinion 1/2025", "Press release: plenary",
                          "Statement on AI", "Work programme"], 2)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)} | {site}</title>
<meta name="csrf-token" content="{token}">
<link rel="stylesheet" href="/static/site.css?v={noise}">
<script>window.__SESSION = "{token[:16]}"; var renderedAt = {1_700_000_000 + noise * 3600};</script>
</head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your visit ({rng.randrange(99)}
partners). <button>Accept all</button> <button>Refuse</button></div>
<header class="site-header"><a class="logo" href="/">{site}</a>
<form class="search" action="/search"><input type="hidden" name="csrf" value="{token}">
<input name="q" placeholder="Search"></form></header>
<nav class="main-nav"><ul>{''.join(f'<li><a href="/{n.lower().replace(" ", "-")}">{n}</a></li>' for n in nav)}</ul></nav>
<div class="breadcrumbs"><a href="/">Home</a> › <a href="/our-documents/">Documents</a></div>
<main id="main-content">
<article class="document">
<h1>{html.escape(title)}</h1>
<p class="published">Published <time datetime="{published}">{published}</time></p>
<div class="law-text">
{body_html}
</div>
<p class="stats">Views: {1000 + noise * 37 + rng.randrange(50)}</p>
<p class="stats">Last visited: {stamp}</p>
</article>
<aside class="related"><h3>Related</h3><ul>{''.join(f'<li><a href="/news/{i}">{r}</a></li>' for i, r in enumerate(related))}</ul></aside>
</main>
<footer class="site-footer"><p>© {site} 2026 · <a href="/legal">Legal notice</a></p>
<p>Page generated at {stamp} in {rng.randrange(20, 400)} ms · session {token[:8]}</p></footer>
<script src="/static/analytics.js?sid={token[:12]}"></script>
</body></html>"""


def listing_page(site: str, links: list[tuple[str, str]], next_href: str | None, noise: int) -> str:
    items = "".join(f'<div class="views-row"><a class="doc" href="{href}">{html.escape(text)}</a>'
                    f'<span class="date">2024</span></div>' for href, text in links)
    pager = (f'<ul class="pager"><li class="pager__item--next"><a href="{next_href}">Next ›</a></li></ul>'
             if next_href else "")
    body = f'<div class="view-content">{items}</div>{pager}'
    return regulator_page(site, "Our documents", body, noise)


def chinese_page(title: str, text: str, noise: int) -> str:
    """A page dressed like cac.gov.cn, to be served GBK-encoded."""
    rng = _noise(noise, title)
    paragraphs = "".join(f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines()
                         if line.strip() and not line.startswith("#"))
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{html.escape(title)}_中国网信网</title>
<script type="text/javascript">var _token="{rng.getrandbits(64):x}";</script></head>
<body><div class="top-nav"><a href="/">首页</a> | <a href="/wxzw/">网信政务</a> | <a href="/zcfg/">政策法规</a></div>
<div class="main"><div class="title"><h1>{html.escape(title)}</h1></div>
<div class="info">来源：中国网信网　发布时间：2024年03月22日　浏览次数：{rng.randrange(10_000)}</div>
<div class="TRS_Editor">{paragraphs}</div>
<div class="print-tools">【打印】【关闭窗口】</div></div>
<div class="footer">版权所有：中国网信网　京ICP备 {noise:04d}号　{rng.randrange(10**6)}</div></body></html>"""


def chinese_listing(links: list[tuple[str, str]], noise: int) -> str:
    rng = _noise(noise, "list")
    items = "".join(f'<li><a href="{href}" target="_blank">{html.escape(t)}</a>'
                    f'<span>2024-03-22</span></li>' for href, t in links)
    return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>网信政务_中国网信网</title></head><body><div class="top-nav"><a href="/">首页</a></div>
<ul class="list">{items}</ul><div class="footer">访问量：{rng.randrange(10**6)}</div></body></html>"""


def pdf_document(title: str, text: str, noise: int) -> bytes:
    """A real PDF (fpdf2); its creation date rotates with `noise`, its text does not."""
    from datetime import datetime

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_creation_date(datetime(2026, 1, 1 + noise % 27, 12, 0, 0))
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    clean = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"') \
        .replace("—", "-").replace("–", "-")
    clean = clean.encode("latin-1", "replace").decode("latin-1")
    for para in [p for p in clean.split("\n\n") if p.strip()]:
        pdf.multi_cell(0, 5, " ".join(para.split()))
        pdf.ln(2)
    return bytes(pdf.output())


# --- the web -------------------------------------------------------------------------------

class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up (a timed-out crawler) are expected here, not errors."""


class LoopbackWeb:
    """Named sites, each on its own loopback address; `epoch` and `noise` pick their content."""

    def __init__(self, sites: dict[str, tuple[str, Callable[[LoopbackWeb], dict[str, Page]]]]):
        self.sites = sites  # name -> (ip, routes builder)
        self.epoch = 1
        self.noise = 1
        self.hits: list[Hit] = []
        self.base: dict[str, str] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._cache: dict[tuple[str, int, int], dict[str, Page]] = {}
        self._lock = threading.Lock()

    def url(self, site: str, path: str = "") -> str:
        return self.base[site] + path

    def routes(self, site: str) -> dict[str, Page]:
        key = (site, self.epoch, self.noise)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self.sites[site][1](self)
            return self._cache[key]

    def set(self, epoch: int | None = None, noise: int | None = None) -> None:
        self.epoch = epoch if epoch is not None else self.epoch
        self.noise = noise if noise is not None else self.noise
        self.hits.clear()

    def start(self) -> LoopbackWeb:
        for name, (ip, _) in self.sites.items():
            server = QuietServer((ip, 0), _handler(self, name))
            self.base[name] = f"http://{ip}:{server.server_address[1]}"
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


def _handler(web: LoopbackWeb, site: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            page = web.routes(site).get(unquote(self.path))
            conditional = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
            if page is None:
                page = Page(b"<html><body><h1>Page not found</h1></body></html>", status=404,
                            validator=None)
            if page.action == "reset":
                web.hits.append(Hit(site, self.path, 0, 0, conditional))
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if page.delay:
                time.sleep(page.delay)
            if page.action == "sleep":
                time.sleep(float(page.headers.get("X-Sleep", "5")))
            headers = dict(page.headers)
            headers.pop("X-Sleep", None)
            status = page.status
            body = page.body
            if page.action == "retry-after":
                count = sum(1 for h in web.hits if h.path == self.path)
                if count < int(page.headers.get("X-Refusals", "1")):
                    status, body = 429, b"Too many requests"
                    headers = {"Retry-After": page.headers.get("Retry-After", "1")}
                else:
                    headers = {}
            if status == 200 and page.validator == "etag":
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
            elif status == 200 and page.validator == "last-modified":
                stamp = int(hashlib.sha256(body).hexdigest()[:7], 16) % 10**8 + 1_600_000_000
                modified = formatdate(stamp, usegmt=True)
                headers["Last-Modified"] = modified
                if self.headers.get("If-Modified-Since") == modified:
                    status, body = 304, b""
            web.hits.append(Hit(site, self.path, status, len(body), conditional))
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", page.content_type)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def html_page(text: str, **kwargs) -> Page:
    return Page(text.encode("utf-8"), **kwargs)


def cp1252_page(text: str, **kwargs) -> Page:
    return Page(text.encode("cp1252"), content_type="text/html; charset=windows-1252", **kwargs)


def gbk_page(text: str, header_charset: str = "gb2312", **kwargs) -> Page:
    return Page(text.encode("gb18030"), content_type=f"text/html; charset={header_charset}",
                validator="last-modified", **kwargs)


__all__ = ["Hit", "LoopbackWeb", "Page", "chinese_listing", "chinese_page", "gbk_page",
           "html_page", "listing_page", "pdf_document", "regulator_page"]
