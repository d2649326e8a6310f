"""The first crawl's cheaper path for a new page gives what the full path gave.

An extracted text is classified without being normalised again, the search terms of a text
without unspaced scripts are found with a simpler pattern, the labels of a version's event are
taken from the version just added instead of read back, the kind of a link is read only with the
patterns whose words its sentence holds, a text's paradigm, lifecycle and links share one
unwrapping and one preparation, and a line already spaced once is not split and joined again:
each shortcut is checked here against the long way, on the real pages and legal texts of `../shared/` and on texts made to reach the
corners (other scripts, odd spaces, noise lines).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.extraction import load_manifest
from crawlers.extract import extract_document
from paradigms import instrument_links
from paradigms.classifier import classify_text
from paradigms.instrument_links import find_links
from paradigms.lifecycle import lifecycle_stage
from storage.database import Store
from storage.models import ChangeEvent, Version
from storage.runs import upsert_source
from storage.search import TERM, search_terms
from storage.versions import Fetch, SourceInfo, record_document, version_stage
from texts.normalise import _NOISE_LINE, _SPACES, normalise_text, spaced_once

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
CORPUS_DEV = SHARED / "corpus-dev"
TODAY = date(2026, 12, 1)

ODD_TEXTS = [
    "Article 1\r\n\r\n  Transfers\u00a0of personal data  to third countries\tare prohibited.\n",
    "Views: 1,234\nArticle 2\nData may\u2028flow\x0bfreely\u3000between the Parties.\n\n\n",
    "第一条\u3000数据出境\n 个人信息处理者因业务需要，确需向境外提供个人信息的，应当通过安全评估。",
    "e\u0301tat  de\u200bdroit\ufeff \n\u0301\nShare this page\nLast visited: yesterday",
    "",
]


@pytest.fixture(scope="module")
def real_texts(real_page_text) -> list[str]:
    """Extracted texts of the real pages, and the legal texts of the corpus."""
    texts = []
    if (SHARED / "realpages" / "MANIFEST.tsv").exists():
        texts += [real_page_text(page) for page in load_manifest(SHARED / "realpages")]
    texts += [path.read_text(encoding="utf-8") for folder in (CORPUS, CORPUS_DEV)
              for path in sorted(folder.glob("*.md"))]
    if not texts:
        pytest.skip(f"no real pages or corpus texts in {SHARED}")
    return texts


def test_normalising_twice_changes_nothing(real_texts):
    for text in real_texts + ODD_TEXTS:
        once = normalise_text(text)
        assert normalise_text(once) == once


def test_an_extracted_text_is_classified_alike_without_normalising_it_again(real_texts):
    for text in real_texts + ODD_TEXTS:
        once = normalise_text(text)
        assert classify_text(once, normalised=True) == classify_text(once) == classify_text(text)


def test_a_raw_text_is_still_normalised_by_the_classifier():
    raw = "Article 1\n\n   Transfers  of personal data\n\nto third countries are prohibited.  "
    assert normalise_text(raw) != raw
    assert classify_text(raw) == classify_text(normalise_text(raw), normalised=True)


@pytest.mark.parametrize("text", ODD_TEXTS + [
    "snake_case_words and CamelCase, l'État, Ünïcödé 2024/1183 ½ ²",
    "mixed 日本語のテキスト and 한국어 text and ภาษาไทย",
    "a_b__c _lead trail_ 123_456",
])
def test_search_terms_are_those_of_the_full_pattern(text):
    assert search_terms(text) == TERM.findall(text.lower())


def test_search_terms_of_the_real_texts_are_those_of_the_full_pattern(real_texts):
    for text in real_texts:
        assert search_terms(text) == TERM.findall(text.lower())


ADOPTED = """Regulation 2020/7 on cross-border transfers of personal data

Adopted on 3 March 2020. This Regulation enters into force on 1 June 2020.

Article 1
Personal data collected in the territory shall be stored within the territory. Transfers of
personal data to a third country are prohibited unless a security assessment organised by the
authority has been passed.
"""
RESTRICTION = """Personal data collected in the territory shall be stored within the territory. Transfers of
personal data to a third country are prohibited unless a security assessment organised by the
authority has been passed."""
FREE_FLOW = """Neither Party shall prohibit or restrict the cross-border transfer of information,
including personal information, by electronic means, when this activity is for the conduct of
the business of a covered person."""


def _record(store: Store, body: str, url: str = "http://x.test/reg", instrument_id=None) -> str:
    source = SourceInfo("src", "EU", "national", "en")
    with store.transaction() as session:
        return record_document(session, None, source,
                               Fetch("src", url, url, 200, {}, body.encode(), instrument_id),
                               extract_document(body.encode(), "text/plain"), normalised=True)


def test_the_events_labels_are_those_of_the_latest_version(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    with store.transaction() as session:
        upsert_source(session, id="src", name="Source", jurisdiction="EU", level="national",
                      declaration_file=None)
    assert _record(store, ADOPTED) == "new"
    amended = ADOPTED.replace(RESTRICTION, FREE_FLOW)
    assert amended != ADOPTED
    with store.sessions() as session:
        instrument_id = session.scalar(select(Version.instrument_id))
    assert _record(store, amended, instrument_id=instrument_id) == "amended"
    with store.sessions() as session:
        events = session.scalars(select(ChangeEvent).order_by(ChangeEvent.id)).all()
        versions = session.scalars(select(Version).order_by(Version.number)).all()
        assert [e.kind for e in events] == ["new", "amended"]
        for event, version in zip(events, versions, strict=True):
            assert event.paradigm == version.paradigm
            assert event.stage == version_stage(version, event.detected_at.date())
        assert versions[0].paradigm != versions[1].paradigm  # the amendment moved the label
    store.close()


def _readings(texts: list[str]) -> list[tuple]:
    return [(classify_text(text, normalised=True), lifecycle_stage(text, today=TODAY, title=text[:80]),
             find_links(text, text[:80])) for text in texts]


def test_a_link_kind_read_through_its_words_is_the_one_every_pattern_reads(real_texts, monkeypatch):
    texts = [normalise_text(text) for text in real_texts + ODD_TEXTS]
    gated = [find_links(text, text[:80]) for text in texts]
    monkeypatch.setattr(instrument_links._Gated, "_may", lambda _self, _window: True)
    assert [find_links(text, text[:80]) for text in texts] == gated
    assert sum(link.kind != "cites" for links in gated for link in links) >= 20  # kinds were read


def test_every_pattern_of_a_link_kind_has_words_to_look_for():
    patterns = [*instrument_links._BEFORE.values(), *instrument_links._AFTER.values(),
                instrument_links._BASIS_BEFORE, instrument_links._ARTICLE_OF, instrument_links._CN_BASIS,
                instrument_links._CN_ENACTS, instrument_links._CN_ARTICLE, instrument_links._NOT_DONE]
    assert all(pattern.words for pattern in patterns)


def test_a_texts_readings_do_not_depend_on_the_texts_read_before(real_texts):
    texts = [normalise_text(text) for text in real_texts + ODD_TEXTS]
    forward = _readings(texts)
    assert _readings(texts[::-1]) == forward[::-1]
    assert [_readings([text])[0] for text in texts[::7]] == forward[::7]


def _normalised_the_long_way(text: str) -> str:
    """`normalise_text` as it was written first: every line split and joined again."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    if re.search("[\x0b\x0c\x1c-\x1f\x85\u1680\u2028\u2029]", text):
        spaced = [_SPACES.sub(" ", raw).strip() for raw in text.split("\n")]
    else:
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
        spaced = [" ".join(raw.split()) for raw in text.split("\n")]
    return "\n".join(line for line in spaced if line and not _NOISE_LINE.match(line))


EDGE_LINES = [" lead", "trail ", "two  spaces", "tab\tin", "nbsp\u00a0in", "ideographic\u3000space",
              "thin\u2009space", "bell\x07", "", " ", "plain words", "中文 与 English", "\u205fmath"]


def test_a_line_kept_as_it_is_is_the_one_splitting_and_joining_gives(real_texts):
    lines = [line for text in real_texts + ODD_TEXTS for line in text.split("\n")] + EDGE_LINES
    kept = [line for line in lines if spaced_once(line)]
    assert all(" ".join(line.split()) == line for line in kept)
    assert len(kept) > 100 and not any(spaced_once(line) for line in EDGE_LINES[:7])
    for text in real_texts + ODD_TEXTS + ["\n".join(EDGE_LINES)]:
        assert normalise_text(text) == _normalised_the_long_way(text)
