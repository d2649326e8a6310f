"""A hostile loopback web: each path answers as a table says (redirects, loops, bombs, locked
PDFs, abysmal nesting), and the server counts how many requests each host serves at once."""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from policywatch.demoweb.texts import gdpr, to_html

LAW = to_html(gdpr("49", "50"))


def law_page(title: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{LAW}"
            f"</main></body></html>").encode()


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    hold: float = 0.0  # seconds the request stays in progress before the answer is written


def redirect(status: int, location: str) -> Answer:
    return Answer(status, b"", (("Location", location), ("Content-Length", "0")))


def gzip_bomb(megabytes: int) -> Answer:
    """`megabytes` of zeros, gzip-compressed (streamed: about a thousandth of that in memory)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    zeros = bytes(2 ** 20)
    body = b"".join(compressor.compress(zeros) for _ in range(megabytes)) + compressor.flush()
    return Answer(200, body, (("Content-Type", "text/html"), ("Content-Encoding", "gzip")))


def encrypted_pdf() -> Answer:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="reader")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, "Article 49. Derogations for specific situations.")
    return Answer(200, bytes(pdf.output()), (("Content-Type", "application/pdf"),))


def nested_page(levels: int) -> Answer:
    """A page whose text sits `levels` elements deep (never closed: half the bytes, same tree)."""
    inner = "<p>Article 49. Transfers of personal data to a third country.</p>"
    return Answer(200, f"<html><body>{'<div>' * levels}{inner}</body></html>".encode())


Routes = dict[str, Answer]


@dataclass
class Gauge:
    """Requests in progress at one address (all its ports), and the most seen at once."""

    in_progress: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Host:
    """One loopback server; `routes` may be replaced between crawls."""

    address: str
    gauge: Gauge
    routes: Routes = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    requests: Counter[str] = field(default_factory=Counter)

    @property
    def base(self) -> str:
        assert self.server is not None, "the host is not started"
        return f"http://{self.address}:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def reset(self, routes: Routes) -> None:
        with self.gauge.lock:
            self.routes = routes
            self.gauge.peak = self.gauge.in_progress = 0
            self.requests.clear()

    def answer(self, path: str) -> Answer:
        gauge = self.gauge
        with gauge.lock:
            self.requests[path] += 1
            gauge.in_progress += 1
            gauge.peak = max(gauge.peak, gauge.in_progress)
            found = self.routes.get(path)
        if found is None:
            found = Answer(404, b"<html><body>Not found</body></html>")
        time.sleep(found.hold)
        with gauge.lock:  # counted out before the answer leaves, so the client cannot overlap it
            gauge.in_progress -= 1
        return found


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up on a bomb is expected here."""


def _handler(host: Host) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            found = host.answer(self.path)
            self.send_response(found.status)
            names = {name.lower() for name, _ in found.headers}
            for name, value in found.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(found.body)))
            self.end_headers()
            self.wfile.write(found.body)

    return Handler


def start(*addresses: str) -> list[Host]:
    """One server per address given (an address given twice gets two ports, one gauge)."""
    gauges = {address: Gauge() for address in addresses}
    hosts = []
    for address in addresses:
        host = Host(address, gauges[address])
        host.server = _Quiet((address, 0), _handler(host))
        threading.Thread(target=host.server.serve_forever, daemon=True).start()
        hosts.append(host)
    return hosts


def stop(hosts: list[Host]) -> None:
    for host in hosts:
        assert host.server is not None
        host.server.shutdown()
        host.server.server_close()


def declaration(source_id: str, entry_url: str, entry_type: str = "document",
                extra: str = "") -> str:
    links = '    links: "a"\n' if entry_type == "listing" else ""
    return (f"id: {source_id}\nname: Hostile {source_id}\njurisdiction: GB\nlevel: national\n"
            f"body: regulator\nrelevance: all\nentries:\n  - type: {entry_type}\n"
            f"    url: {entry_url}\n{links}{extra}")


def listing(*urls: str) -> Answer:
    anchors = "".join(f'<li><a href="{url}">Instrument {n}</a></li>' for n, url in enumerate(urls))
    return Answer(200, f"<html><body><ul>{anchors}</ul></body></html>".encode())
