"""Automatic main-content detection on pages built like the hard real ones, the block it
remembers for cheap re-checks, the coverage warning and the extract report."""

from __future__ import annotations

import pytest

from crawlers.extract import extract_document, extract_with_block, unchanged_block
from crawlers.page_report import page_report
from crawlers.visible_text import coverage_warning, page_coverage_warning, visible_characters
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, to_html

ARTICLES = to_html(gdpr("45", "49"))
TITLE = "Chapter V – Transfers of personal data to third countries or international organisations"


def _page(body: str, head: str = "") -> bytes:
    return (f"<!doctype html><html lang='en'><head><title>{TITLE}</title>{head}</head>"
            f"<body>{body}</body></html>").encode()


def test_a_page_wide_form_is_not_dropped_as_furniture():
    page = _page(f"<form id='aspnetForm' action='/default.aspx'><div id='main'>{ARTICLES}</div>"
                 "</form>")
    assert "Article 46: Transfers subject to appropriate safeguards" in \
        extract_document(page, "text/html").text


@pytest.mark.parametrize("marks", ["class='feedback-enabled page'", "class='banner-layout'",
                                   "id='nav-content'", "aria-hidden='true'"])
def test_class_words_and_aria_hidden_keep_a_container_with_real_content(marks):
    page = _page(f"<nav><a href='/'>Home</a></nav><div {marks}><div class='text'>{ARTICLES}"
                 "</div></div>")
    assert "Article 47: Binding corporate rules" in extract_document(page, "text/html").text


@pytest.mark.parametrize("dialog", ["id='onetrust-consent-sdk'", "id='CybotCookiebotDialog'",
                                    "class='axeptio_widget'", "id='didomi-host'"])
def test_a_consent_dialog_is_never_the_main_text(dialog):
    vendors = "".join(f"<p>Vendor {n} stores cookies on your device to measure the audience of "
                      f"this website and to personalise advertising for you.</p>" for n in range(80))
    page = _page(f"<div {dialog}><h2>We value your privacy</h2>{vendors}</div>"
                 f"<main><h1>Guidelines</h1><p>{'Short guidance on transfers. ' * 8}</p></main>")
    text = extract_document(page, "text/html").text
    assert "Short guidance on transfers." in text and "Vendor" not in text


def test_a_listing_page_keeps_its_list():
    items = "".join(f"<li><a href='/doc/{n}'>Opinion {n}/2024 on transfers to country {n}</a> "
                    f"<span>2024-0{1 + n % 9}-1{n % 9}</span></li>" for n in range(30))
    page = _page(f"<header><a href='/'>Authority</a></header><div class='content'><h1>Opinions"
                 f"</h1><ul class='results'>{items}</ul></div><footer>Imprint</footer>")
    text = extract_document(page, "text/html").text
    assert "Opinion 0/2024 on transfers to country 0" in text
    assert "Opinion 29/2024 on transfers to country 29" in text


def test_an_unchanged_page_is_rechecked_through_its_block():
    first = regulator_page("EDPB", "Recommendations", ARTICLES, noise=1).encode()
    extracted, block = extract_with_block(first, "text/html")
    assert block is not None and "article" in block.path
    assert unchanged_block(first, "text/html", block)
    noise_only = regulator_page("EDPB", "Recommendations", ARTICLES, noise=2).encode()
    assert unchanged_block(noise_only, "text/html", block)
    assert extract_document(noise_only, "text/html").text == extracted.text
    amended = regulator_page("EDPB", "Recommendations", ARTICLES.replace("third country",
                                                                          "third state", 1), 2)
    assert not unchanged_block(amended.encode(), "text/html", block)


def test_a_block_gone_from_the_page_sends_back_to_full_detection():
    _, block = extract_with_block(regulator_page("EDPB", "R", ARTICLES, 1).encode(), "text/html")
    assert block is not None
    assert not unchanged_block(_page("<p>We moved.</p>"), "text/html", block)
    assert not unchanged_block(b"%PDF-1.7", "application/pdf", block)


def test_coverage_warning_lines():
    assert coverage_warning(20, 8094) == "watching 20 of 8,094 visible characters"
    assert coverage_warning(4000, 8094) is None
    assert coverage_warning(0, 12) == "watching nothing of 12 visible characters"
    assert coverage_warning(0, 12, script_shell=True) == \
        "no text without JavaScript: the page is rendered by scripts"


def test_an_application_shell_says_it_needs_javascript():
    shell = ("<html><head><script src='/app.js'></script></head><body><div id='root'></div>"
             "<noscript>Enable JavaScript</noscript></body></html>")
    assert page_coverage_warning(shell, "") == \
        "no text without JavaScript: the page is rendered by scripts"
    report = page_report(shell.encode(), "text/html")
    assert report["characters"] < 200
    assert "no text without JavaScript: the page is rendered by scripts" in report["warnings"]


def test_visible_characters_leave_out_what_a_reader_does_not_see():
    hidden = ("<div hidden><div style='display: none'><p hidden>nested hidden</p>"
              "<input type='hidden' value='token'></div></div>")
    page = (f"<html><head><title>Not counted</title><style>p {{}}</style></head><body>"
            f"<p>Seen text</p>{hidden * 3}<script>var counted = false;</script><noscript>no</noscript>"
            f"<div style='color: red'>red <span style='DISPLAY:NONE'>gone</span></div></body></html>")
    assert visible_characters(page) == len("Seen text\nred")


def test_a_thin_extraction_is_reported():
    policy = "".join(f"<p>Section {n}. The controller shall document every transfer of personal "
                     f"data and the safeguards relied upon under this policy.</p>" for n in range(60))
    warning = page_coverage_warning(f"<html><body><div>{policy}</div></body></html>",
                                    "Privacy policy (PDF)")
    assert warning is not None and warning.startswith("watching 20 of ")
    assert warning.endswith(" visible characters") and int(warning.split()[3].replace(",", "")) > 7000


def test_extract_report_describes_what_would_be_watched():
    page = regulator_page("EDPB", "Recommendations", ARTICLES, noise=1).encode()
    report = page_report(page, "text/html; charset=utf-8")
    assert set(report) == {"title", "published", "text", "characters", "visible_characters",
                           "doc_type", "warnings", "block"}
    assert report["title"] == "Recommendations" and report["published"] == "2024-03-15"
    assert report["characters"] == len(report["text"]) > 5000
    assert report["visible_characters"] > report["characters"]
    assert report["warnings"] == [] and report["doc_type"] == "html"
    assert report["block"].startswith("body > main#main-content > article.document (")


def test_the_same_instrument_in_a_redesigned_template_gives_the_same_text():
    before = _page("<header class='site-header'><a href='/'>Data Protection Authority</a><nav>"
                   "<a href='/'>Home</a> <a href='/law'>Law</a></nav></header><main><article "
                   f"class='instrument'><h1>{TITLE}</h1>{ARTICLES}</article></main>"
                   "<footer><p>© Authority 2024 · Privacy · Contact</p></footer>")
    after = _page("<div id='top-bar'><ul class='menu'><li><a href='/'>Start</a></li><li><a href="
                  "'/publications'>Publications</a></li></ul></div><div class='hero'><div "
                  f"class='hero-inner'><h1 class='page-title'>{TITLE}</h1></div></div><div "
                  "class='layout'><div class='col-side'><ul><li><a href='/a'>Related guidance</a>"
                  "</li></ul></div><div class='col-main'><div class='rich-text'>"
                  f"{ARTICLES}</div></div></div><div class='bottom'><a href='/imprint'>Imprint"
                  "</a></div>")
    old, new = extract_document(before, "text/html"), extract_document(after, "text/html")
    assert (old.title, old.text) == (new.title, new.text)


def test_extract_report_of_a_page_with_no_text_says_why():
    report = page_report(b"<html><body><div id='app'></div><script src='/app.js'></script>"
                         b"</body></html>", "text/html")
    assert report["text"] == "" and report["title"] is None and report["block"] is None
    assert report["warnings"] == ["no text found in the page",
                                  "no text without JavaScript: the page is rendered by scripts"]
