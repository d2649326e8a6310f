"""A regulator whose site template is redesigned between two epochs, the instrument unchanged.

Epoch 1 is the demo's regulator template (title heading inside the article, text in
`div.law-text`). Epoch 2 is another site builder's: the title heading moves out of the content
block into a page header, every wrapper and class is renamed, and the navigation, breadcrumbs,
sidebar and footer are different. The instrument's text, and its publication line at the top of
the content, are the same in both.
"""

from __future__ import annotations

import html
from pathlib import Path

from policywatch.demoweb.server import LoopbackWeb, Page, html_page, regulator_page
from policywatch.demoweb.texts import gdpr, to_html

REDESIGN = "redesign"
TITLE = "Transfers subject to appropriate safeguards"
PATH = "/rules/safeguards"


def redesigned_page(title: str, body_html: str, noise: int) -> str:
    """The epoch-2 template: nothing of the first one's markup is left."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} — Data Authority</title>
<script>dataLayer = [{{"build": {noise}}}];</script></head>
<body class="theme-2026">
<div class="skip"><a href="#content-area">Skip to content</a></div>
<div class="topbar"><ul class="menu-top"><li><a href="/en">English</a></li>
<li><a href="/fr">Français</a></li><li><a href="/login">Sign in</a></li></ul></div>
<div class="page-head"><div class="container">
<ol class="trail"><li><a href="/">Data Authority</a></li><li><a href="/rules">Rules and guidance</a></li></ol>
<h1 class="page-title">{html.escape(title)}</h1>
<div class="meta-line">Reference DA/2024/46 · Rules and guidance</div>
</div></div>
<div class="layout"><div class="col-side"><ul class="side-menu">
<li><a href="/rules/consent">Consent</a></li><li><a href="/rules/breach">Breach notification</a></li>
<li><a href="/rules/dpo">Data protection officers</a></li></ul></div>
<div class="col-main" id="content-area"><section class="rich-text body-copy">
<div class="doc-date">Published <time datetime="2024-03-15">2024-03-15</time></div>
{body_html}
</section>
<div class="share-tools">Share: <a href="/share/x">X</a> <a href="/share/mail">E-mail</a></div>
</div></div>
<footer class="page-foot"><div class="cols"><div><h4>Contact</h4><p>Rue Wiertz 60, Brussels</p></div>
<div><h4>Follow us</h4><p><a href="/rss">RSS</a> · <a href="/newsletter">Newsletter</a></p></div></div>
<p class="small">Accessibility · Privacy · Build {noise}</p></footer>
</body></html>"""


def redesign_routes(web: LoopbackWeb) -> dict[str, Page]:
    law = to_html(gdpr("46", "47"))
    page = regulator_page("Data Authority", TITLE, law, web.noise) if web.epoch == 1 \
        else redesigned_page(TITLE, law, web.noise)
    return {PATH: html_page(page)}


def redesign_web() -> LoopbackWeb:
    """A host of its own, not started."""
    return LoopbackWeb({REDESIGN: ("127.0.0.11", redesign_routes)})


def write_redesign_declaration(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "redesign-authority.yaml").write_text(f"""\
id: redesign-authority
name: Data authority whose site is redesigned (loopback)
jurisdiction: BE
level: national
body: regulator
relevance: all
entries:
  - type: document
    url: {web.url(REDESIGN, PATH)}
""")
    return folder
