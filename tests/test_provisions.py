"""Provision segmentation and provision-level diffs, on the real texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from policywatch.demoweb.texts import corpus
from tests.conftest import SHARED_CORPUS
from texts.normalise import normalise_text
from texts.provision_diffs import change_excerpt, diff_provisions
from texts.provisions import heading_ref, heading_title, segment_provisions


def refs(name: str) -> list[str]:
    """Article-level references (chapter and section groupings left out)."""
    return [p.ref for p in segment_provisions(normalise_text(corpus(name))) if not p.is_group]


@pytest.mark.parametrize(("name", "count", "first", "last"), [
    ("cn-pipl-2021.md", 74, "第一条", "第七十四条"),
    ("cn-csl-2016.md", 79, "第一条", "第七十九条"),
    ("cn-network-data-regulations-2024.md", 64, "第一条", "第六十四条"),
    ("eu-gdpr-chapter-v.md", 5, "Article 45", "Article 50"),
    ("wto-jsi-ecommerce-2024.md", 38, "Article 1", "Article 38"),
    ("us-eo-14117-2024.md", 8, "Section 1", "Sec. 8"),
])
def test_real_instruments_segment_into_their_provisions(name, count, first, last):
    found = [r for r in refs(name) if r != "Preamble"]
    assert len(found) == count
    assert found[0] == first and found[-1] == last
    assert len(set(found)) == len(found)


def test_chinese_articles_are_in_order():
    numerals = refs("cn-pipl-2021.md")
    assert numerals[38:41] == ["第三十八条", "第三十九条", "第四十条"]


def test_scc_decision_has_articles_and_clauses():
    found = refs("eu-scc-decision-2021-914.md")
    assert {"Article 1", "Article 4", "Clause 8", "Clause 14"} <= set(found)


@pytest.mark.skipif(not (SHARED_CORPUS / "tpp-chapter-14-electronic-commerce.md").exists(),
                    reason="the TPP text is read from ../shared/corpus only")
def test_trade_agreement_chapter_articles():
    text = normalise_text(Path(SHARED_CORPUS / "tpp-chapter-14-electronic-commerce.md").read_text())
    found = [p.ref for p in segment_provisions(text)]
    assert "Article 14.11" in found and "Article 14.13" in found and found[-1] == "Article 14.18"


@pytest.mark.parametrize(("line", "ref"), [
    ("Article 38", "Article 38"),
    ("ARTICLE 14.11: Cross-Border Transfer of Information", "Article 14.11"),
    ("Art. 14.13 Location of Computing Facilities", "Art. 14.13"),
    ("Section 16. Restrictions", "Section 16"),
    ("Sec. 3.  Protecting Sensitive Personal Data.", "Sec. 3"),
    ("§ 202.201 Prohibited transactions", "§ 202.201"),
    ("第三十八条 个人信息处理者", "第三十八条"),
    ("Artículo 5. Transferencias internacionales", "Artículo 5"),
    ("ARTÍCULO 12 - Datos", "Artículo 12"),
    ("Article 1er Objet", "Article 1er"),
    ("Art. 33º A transferência internacional", "Art. 33º"),
    ("Artigo 5.º Definições", "Artigo 5.º"),
    ("Artikel 44 Allgemeine Grundsätze der Datenübermittlung", "Artikel 44"),
    ("§ 4b Übermittlung personenbezogener Daten ins Ausland", "§ 4b"),
    ("## Article 45: Transfers on the basis of an adequacy decision", "Article 45"),
    ("ARTICULO 12. — (Transferencia internacional).", "Artículo 12"),
    ("Pasal 56 Transfer Data Pribadi", "Pasal 56"),
    ("Điều 26. Bảo đảm an ninh thông tin trên không gian mạng", "Điều 26"),
    ("Статья 12. Трансграничная передача персональных данных", "Статья 12"),
    ("제28조의8(개인정보의 국외 이전)", "제28조의8"),
    ("第二十八条　個人情報取扱事業者は、外国にある第三者に", "第二十八条"),
    ("المادة 29 نقل البيانات الشخصية", "المادة 29"),
])
def test_headings_in_twelve_languages(line, ref):
    assert heading_ref(line) == ref


@pytest.mark.parametrize("line", [
    "Article 45 of Regulation (EU) 2016/679 applies.",
    "Article 46(2) provides for standard contractual clauses.",
    "依照本法第三十八条的规定",
    "Articles 44 to 50",
])
def test_citations_are_not_headings(line):
    assert heading_ref(line) is None


def test_chapter_headings_are_groups_of_their_own():
    provisions = segment_provisions(normalise_text(corpus("cn-pipl-2021.md")))
    groups = [p.ref for p in provisions if p.is_group]
    assert groups[:3] == ["第一章", "第二章", "第一节"]
    article_37 = next(p for p in provisions if p.ref == "第三十七条")
    assert "第三章" not in article_37.text


def test_text_without_headings_is_split_into_paragraphs():
    assert [p.ref for p in segment_provisions("First.\nSecond.\nThird.")] == ["¶1", "¶2", "¶3"]


def test_one_word_diff_names_one_article_with_excerpts():
    old = normalise_text(corpus("eu-gdpr-chapter-v.md"))
    new = old.replace("at least every four years", "at least every three years")
    changes = diff_provisions(old, new)
    assert changes.added == [] and changes.removed == []
    assert [m.ref for m in changes.modified] == ["Article 45"]
    assert "four" in changes.modified[0].before and "three" in changes.modified[0].after
    assert len(changes.modified[0].before) < 200


def test_chinese_article_added_removed_modified():
    old = normalise_text(corpus("cn-pipl-2021.md"))
    lines = old.split("\n")
    without_43 = "\n".join(line for line in lines if not line.startswith("第四十三条"))
    new = without_43.replace("第四十条 关键信息基础设施运营者", "第四十条 关键信息基础设施的运营者")
    changes = diff_provisions(old, new)
    assert changes.removed == ["第四十三条"]
    assert [m.ref for m in changes.modified] == ["第四十条"]
    assert diff_provisions(new, old).added == ["第四十三条"]


def test_paragraph_documents_diff_by_paragraph():
    changes = diff_provisions("Intro.\nWithin 30 days.\nEnd.", "Intro.\nWithin 60 days.\nEnd.\nAnnex.")
    assert [m.ref for m in changes.modified] == ["¶2"] and changes.added == ["¶4"]


def test_excerpt_keeps_context_around_the_change():
    before, after = change_excerpt("x " * 100 + "within 30 days" + " y" * 100,
                                   "x " * 100 + "within 60 days" + " y" * 100)
    assert before.startswith("…") and before.endswith("…")
    assert "30" in before and "60" in after


@pytest.mark.parametrize(("line", "title"), [
    ("## Transfers to third countries", "Transfers to third countries"),
    ("Scope of this Decision", "Scope of this Decision"),
    ("Personal data may be transferred to a third country.", None),
    ("and continues a wrapped sentence", None),
])
def test_heading_titles_name_text_without_numbers(line, title):
    assert heading_title(line) == title


def test_a_caption_above_an_article_belongs_to_it():
    text = "（第三者提供の制限）\n第二十七条　本人の同意\n（外国にある第三者への提供の制限）\n第二十八条　外国にある第三者"
    assert [(p.ref, p.text.split("\n")[0]) for p in segment_provisions(text)] == [
        ("第二十七条", "（第三者提供の制限）"), ("第二十八条", "（外国にある第三者への提供の制限）")]
