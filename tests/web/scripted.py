"""A regulator whose instrument page is an application shell: its text is written by its script.

The page served holds an empty `<div id="app">` and an inline script that fills it with the
instrument; epoch 2 amends one word of the script's text. The page also asks for a script of an
undeclared host (the tracker, served too), which a browser rendering it must not fetch.
"""

from __future__ import annotations

import json
from pathlib import Path

from policywatch.demoweb.server import LoopbackWeb, Page, html_page
from policywatch.demoweb.texts import gdpr, to_html

SCRIPTED, TRACKER = "scripted", "tracker"
PATHS = {"served": "/app/safeguards", "browser": "/app/safeguards-rendered"}  # one page, twice
AMENDED_WORD = "suitable"  # epoch 2: "appropriate safeguards" become "suitable safeguards"


def shell_page(text_html: str, tracker_url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Safeguards — Data Authority</title>
<script src="{tracker_url}"></script></head>
<body><div id="app"></div>
<script>document.getElementById("app").innerHTML = {json.dumps(text_html)};</script>
</body></html>"""


def scripted_routes(web: LoopbackWeb) -> dict[str, Page]:
    law = to_html(gdpr("46", "47"))
    if web.epoch >= 2:
        law = law.replace("appropriate safeguards", f"{AMENDED_WORD} safeguards", 1)
    page = f"<article><h1>Transfers subject to safeguards</h1>{law}</article>"
    shell = html_page(shell_page(page, web.url(TRACKER, "/tracker.js")))
    return dict.fromkeys(PATHS.values(), shell)


def tracker_routes(web: LoopbackWeb) -> dict[str, Page]:
    return {"/tracker.js": Page(b"window.tracked = true;", "text/javascript")}


def scripted_web() -> LoopbackWeb:
    """A host of its own, not started."""
    return LoopbackWeb({SCRIPTED: ("127.0.0.12", scripted_routes),
                        TRACKER: ("127.0.0.13", tracker_routes)})


def write_scripted_declarations(web: LoopbackWeb, folder: Path) -> Path:
    """The same page declared twice (at two paths): read as served, and rendered in the browser."""
    folder.mkdir(parents=True, exist_ok=True)
    for source_id, render in (("scripted-served", "served"), ("scripted-browser", "browser")):
        (folder / f"{source_id}.yaml").write_text(f"""\
id: {source_id}
name: Data authority whose pages are built by scripts ({render}, loopback)
jurisdiction: BE
level: national
body: regulator
relevance: all
render: {render}
entries:
  - type: document
    url: {web.url(SCRIPTED, PATHS[render])}
""")
    return folder
