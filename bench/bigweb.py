"""A large loopback web for the comparison benchmark: instrument pages that look like regulator
pages, spread over many hosts, with latency and rotating noise. Run as its own process so that
its CPU is not counted against the crawler being measured.

    python3 bench/bigweb.py --port 18080 --hosts 20 --pages 2000 --latency 0.05

Hosts are 127.0.1.1 … 127.0.1.N on one port. Each host serves /robots.txt, /sitemap.xml (its
pages) and /instruments/<n>.html. A page is 30–80 KB: navigation, an inline script with a
rotating token, a cookie banner, a sidebar of news in rotating order, a footer with the time it
was generated and a visitor counter — and, inside <article class="instrument">, the instrument's
text, assembled from the real legal texts of policywatch/demoweb/corpus. Hosts with an even
number send Last-Modified (the date of the text's last revision, as a CMS does) and answer
If-Modified-Since with 304; odd hosts send no validators.

Control (on host 1): GET /_control/set?noise=N&changed=1,5,9 sets the noise epoch and the pages
whose text has one word changed; GET /_control/stats returns and resets the counters (requests,
304s, body bytes).
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import hashlib
import json
import re
import time
from pathlib import Path

from aiohttp import web

CORPUS = Path(__file__).resolve().parent.parent / "policywatch" / "demoweb" / "corpus"
ENGLISH = ["eu-gdpr-chapter-v.md", "eu-scc-decision-2021-914.md", "us-eo-14117-2024.md",
           "wto-jsi-ecommerce-2024.md"]
FIRST_REVISION = 1_700_000_000  # Last-Modified of every page's first text
CHANGED_WORD = ("shall", "must")


def paragraphs() -> list[str]:
    """English paragraphs of the corpus (its legal text, without the front matter)."""
    pool = []
    for name in ENGLISH:
        body = (CORPUS / name).read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        pool += [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if len(p.split()) >= 12]
    return pool


def host_address(number: int) -> str:
    return f"127.0.1.{number}"


def page_url(port: int, hosts: int, page: int) -> str:
    return f"http://{host_address(page % hosts + 1)}:{port}/instruments/{page}.html"


class BigWeb:
    def __init__(self, hosts: int, pages: int, latency: float) -> None:
        self.hosts, self.pages, self.latency = hosts, pages, latency
        self.noise, self.changed = 1, set[int]()
        self.changed_at = FIRST_REVISION  # when the changed pages were edited
        self.counters = {"requests": 0, "not_modified": 0, "body_bytes": 0}
        self.pool = paragraphs()
        self.texts = [self._text(n) for n in range(pages)]
        self.furniture = self._furniture()

    def _text(self, page: int) -> str:
        """The instrument's text: 20–70 KB of numbered articles, different for every page."""
        target = 20_000 + (page * 7919) % 50_000
        parts, size, article, index = [], 0, 1, page * 31
        while size < target:
            paragraph = self.pool[index % len(self.pool)]
            if article == 1 or index % 4 == 0:
                parts.append(f"<h3>Article {article}</h3>")
                article += 1
            parts.append(f"<p>{paragraph}</p>")
            size += len(paragraph) + 7
            index += 7
        parts.append(f"<p>This instrument (number {page}) shall enter into force on the day following "
                     f"its publication.</p>")
        return "\n".join(parts)

    def _furniture(self) -> dict[str, str]:
        links = "".join(f'<li><a href="/section/{n}">Section {n} of the regulator site</a></li>'
                        for n in range(60))
        return {
            "nav": f'<nav class="main-nav"><ul>{links}</ul></nav>',
            "script": "<script>window.siteConfig = " + json.dumps(
                {"analytics": {"id": "UA-000000", "events": [f"event-{n}" for n in range(150)]},
                 "i18n": {f"label{n}": f"Label number {n}" for n in range(80)}}) + ";</script>",
            "cookie": '<div class="cookie-banner">We use cookies to measure how this site is used. '
                      '<button>Accept all</button> <button>Only necessary</button></div>',
        }

    def text(self, page: int) -> str:
        body = self.texts[page]
        if page in self.changed:
            body = body.replace(" shall enter into force", " must enter into force", 1)
        return body

    def render(self, page: int) -> str:
        noise = self.noise
        token = hashlib.sha1(f"{page}:{noise}:{self.counters['requests']}".encode()).hexdigest()
        news = [f'<li><a href="/news/{(noise + n) % 40}">Press release {(noise + n) % 40}: '
                f'the board met</a></li>' for n in range(8)]
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Instrument {page} | Data Protection Regulator</title>
<meta name="csrf-token" content="{token}">{self.furniture["script"]}
<script>var sessionToken = "{token}"; var renderedAt = {noise * 1000 + page};</script>
</head><body>{self.furniture["cookie"]}
<header><a href="/">Data Protection Regulator</a> <form><input name="q" value=""></form></header>
{self.furniture["nav"]}
<div class="layout"><aside class="sidebar"><h2>Latest news</h2><ul>{"".join(news)}</ul>
<p>Visitors online: {(self.counters["requests"] * 7 + noise) % 997}</p></aside>
<main><article class="instrument"><h1>Instrument {page} on transfers of personal data</h1>
{self.text(page)}
</article></main></div>
<footer><p>Page generated {email.utils.formatdate(1_750_000_000 + noise * 3600 + page, usegmt=True)}
 · build {token[:8]}</p></footer></body></html>"""

    def revised(self, page: int) -> int:
        return self.changed_at if page in self.changed else FIRST_REVISION

    def last_modified(self, page: int) -> str:
        return email.utils.formatdate(self.revised(page), usegmt=True)

    async def handle(self, request: web.Request) -> web.Response:
        self.counters["requests"] += 1
        await asyncio.sleep(self.latency)
        assert request.transport is not None
        host = int(request.transport.get_extra_info("sockname")[0].rsplit(".", 1)[1])
        path = request.path
        if path == "/robots.txt":
            return self._send("User-agent: *\nDisallow: /private/\n", "text/plain")
        if path == "/sitemap.xml":
            port = request.transport.get_extra_info("sockname")[1]
            urls = "".join(f"<url><loc>{page_url(port, self.hosts, n)}</loc></url>"
                           for n in range(host - 1, self.pages, self.hosts))
            return self._send('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                              f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
                              "application/xml")
        match = re.fullmatch(r"/instruments/(\d+)\.html", path)
        if match and int(match.group(1)) < self.pages and int(match.group(1)) % self.hosts == host - 1:
            page = int(match.group(1))
            headers = {}
            if host % 2 == 0:
                modified = self.last_modified(page)
                headers["Last-Modified"] = modified
                since = email.utils.parsedate_tz(request.headers.get("If-Modified-Since", ""))
                if since and email.utils.mktime_tz(since) >= self.revised(page):
                    self.counters["not_modified"] += 1
                    return web.Response(status=304, headers=headers)
            return self._send(self.render(page), "text/html", headers)
        if path == "/_control/set":
            self.noise = int(request.query.get("noise", self.noise))
            changed = {int(n) for n in request.query.get("changed", "").split(",") if n}
            if changed != self.changed:  # edited now, as a CMS would date it
                self.changed, self.changed_at = changed, int(time.time())
            return web.json_response({"noise": self.noise, "changed": sorted(self.changed)})
        if path == "/_control/stats":
            counters = dict(self.counters)
            self.counters.update(requests=0, not_modified=0, body_bytes=0)
            return web.json_response(counters)
        return web.Response(status=404, text="Not found")

    def _send(self, body: str, content_type: str, headers: dict | None = None) -> web.Response:
        data = body.encode("utf-8")
        self.counters["body_bytes"] += len(data)
        return web.Response(body=data, content_type=content_type, charset="utf-8", headers=headers)


async def serve(port: int, hosts: int, pages: int, latency: float) -> None:
    site_web = BigWeb(hosts, pages, latency)
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", site_web.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for number in range(1, hosts + 1):
        await web.TCPSite(runner, host_address(number), port, backlog=512).start()
    print(f"serving {pages} pages on {hosts} hosts, port {port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.hosts, args.pages, args.latency))


if __name__ == "__main__":
    main()
