"""Extraction and decoding as plain functions, on real texts and pages dressed like real sites."""

from __future__ import annotations

import pytest

from crawlers.catalogue import Extract
from crawlers.decoding import decode_body
from crawlers.extract import extract_document, find_date
from policywatch.demoweb.server import chinese_page, pdf_document, regulator_page
from policywatch.demoweb.texts import corpus, eo_14117, gdpr, pipl, to_html
from texts.document import ExtractionError
from texts.normalise import normalise_text, text_hash

ARTICLE_46 = gdpr("46", "47")


def test_automatic_main_content_drops_navigation_banners_scripts_and_footer():
    page = regulator_page("EDPB", "Recommendations", to_html(ARTICLE_46), noise=1)
    extracted = extract_document(page.encode(), "text/html; charset=utf-8")
    assert extracted.title == "Recommendations"
    assert extracted.text.startswith("Recommendations\nPublished 2024-03-15\nArticle 46:")
    for furniture in ("cookies", "Careers", "Related", "Page generated", "session", "Views:",
                      "Last visited", "window.__SESSION"):
        assert furniture not in extracted.text
    assert extracted.published == "2024-03-15"


def test_noise_never_changes_the_text_hash():
    hashes = {text_hash(extract_document(regulator_page("EDPB", "R", to_html(ARTICLE_46), n)
                                         .encode(), "text/html").text) for n in range(1, 8)}
    assert len(hashes) == 1


def test_one_character_in_a_provision_changes_the_hash():
    before = regulator_page("EDPB", "R", to_html(ARTICLE_46), 1)
    after = before.replace("third country", "third countries", 1)
    assert extract_document(before.encode(), "text/html").text != \
        extract_document(after.encode(), "text/html").text


def test_declared_selectors_and_removals():
    page = regulator_page("EDPB", "R", to_html(ARTICLE_46) + '<div class="share-tools">Share</div>', 1)
    rules = Extract(content="div.law-text", remove=(".share-tools",), title="h1",
                    date="time[datetime]")
    extracted = extract_document(page.encode(), "text/html", rules)
    assert extracted.text.startswith("Article 46:")
    assert "Share" not in extracted.text and "Published" not in extracted.text
    assert extracted.published == "2024-03-15"


def test_a_selector_that_matches_nothing_is_an_error_not_an_empty_text():
    page = regulator_page("EDPB", "R", to_html(ARTICLE_46), 1)
    with pytest.raises(ExtractionError, match="'div.gone' matched nothing"):
        extract_document(page.encode(), "text/html", Extract(content="div.gone"))


@pytest.mark.parametrize("codec", ["gbk", "gb18030", "gb2312"])
def test_chinese_pages_in_legacy_encodings(codec):
    text = pipl("第三十八条", "第三十九条")
    page = chinese_page("个人信息保护法", text, 1).replace("charset=gb2312", f"charset={codec}")
    extracted = extract_document(page.encode("gb18030" if codec == "gb18030" else "gbk"),
                                 f"text/html; charset={codec}", Extract(content="div.TRS_Editor"),
                                 ("zh",))
    assert extracted.text.startswith("第三十八条 个人信息处理者因业务等需要，确需向中华人民共和国境外提供个人信息")
    assert extracted.encoding == "gb18030"


def test_gbk_body_behind_a_lying_utf8_header():
    page = chinese_page("网络安全法", "第三十七条 关键信息基础设施的运营者", 1)
    extracted = extract_document(page.encode("gbk"), "text/html; charset=utf-8",
                                 Extract(content="div.TRS_Editor"), ("zh",))
    assert extracted.text == "第三十七条 关键信息基础设施的运营者"


def test_short_undeclared_gbk_page_is_not_mistaken_for_korean():
    assert decode_body("数据出境".encode("gbk"), "text/html", ("zh",))[0] == "数据出境"


@pytest.mark.parametrize(("text", "codec", "languages"), [
    ("第三十八條 個人資料之國際傳輸，應經主管機關核准。", "big5", ("zh",)),
    ("個人情報の外国にある第三者への提供の制限", "shift_jis", ("ja",)),
    ("Artículo 5. Transferencias internacionales – «garantías adecuadas»", "cp1252", ("es",)),
    ("Transfert de données vers un pays tiers : l’article 46 – garanties", "cp1252", ("fr",)),
])
def test_declared_legacy_encodings(text, codec, languages):
    body = f'<html><head><meta charset="{codec}"></head><body><p>{text}</p></body></html>'
    extracted = extract_document(body.encode(codec), "text/html", languages=languages)
    assert extracted.text == text


def test_windows_1252_without_any_declaration():
    body = "<html><body><p>Protección de datos – artículo 5 “garantías”</p></body></html>"
    extracted = extract_document(body.encode("cp1252"), "text/html", languages=("es",))
    assert extracted.text == "Protección de datos – artículo 5 “garantías”"


def test_pdf_text_is_extracted():
    pdf = pdf_document("28 CFR Part 202", eo_14117("Sec. 3.", "Sec. 4."), noise=1)
    extracted = extract_document(pdf, "application/pdf")
    assert extracted.doc_type == "pdf" and extracted.title == "28 CFR Part 202"
    assert extracted.text.startswith("Sec. 3. Protecting Sensitive Personal Data.")
    assert "countries of concern" in extracted.text


def test_regenerated_pdf_with_same_text_has_same_hash():
    text = eo_14117("Sec. 3.", "Sec. 4.")
    assert pdf_document("t", text, 1) != pdf_document("t", text, 2)
    assert text_hash(extract_document(pdf_document("t", text, 1), None).text) == \
        text_hash(extract_document(pdf_document("t", text, 2), None).text)


def test_corrupt_pdf_is_a_one_line_error():
    with pytest.raises(ExtractionError, match="corrupt PDF"):
        extract_document(b"%PDF-1.7\n garbage that is not a PDF", "application/pdf")


def test_eur_lex_page_clutter_is_kept_apart_from_articles():
    text = normalise_text(corpus("eu-scc-decision-2021-914.md"))
    assert "Article 1" in text.split("\n") and "Clause 8" in text.split("\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("Published 15 March 2024", "2024-03-15"),
    ("发布时间：2024年3月22日", "2024-03-22"),
    ("2024.07.26", "2024-07-26"),
    ("2025-01-08T10:00:00Z", "2025-01-08"),
    ("no date here", None),
])
def test_find_date(text, expected):
    assert find_date(text) == expected


def test_normalisation_drops_counters_and_stamps_but_keeps_law():
    text = "Article 5\nViews: 1,234\n浏览次数：88\nLast visited: 2026-11-02 10:00\nwithin 30 days"
    assert normalise_text(text) == "Article 5\nwithin 30 days"
