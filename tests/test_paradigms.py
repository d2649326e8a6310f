"""The paradigm classifier on real instruments and on written passages, and shifts between versions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from paradigms.classifier import classify_text
from paradigms.shifts import version_shift
from policywatch.demoweb.texts import corpus
from tests.conftest import FIXTURES, SHARED_CORPUS
from tests.web.history import RELAXED_ARTICLE_3, RESTRICTIVE_ARTICLE_3, RESTRICTIVE_LAW
from texts.provision_diffs import diff_provisions


def evidence_of(result, indicator: str) -> list:
    return [e for e in result.evidence if e.indicator == indicator]


def test_gdpr_chapter_v_is_prudent_on_its_routes():
    result = classify_text(corpus("eu-gdpr-chapter-v.md"))
    assert result.paradigm == "prudent" and result.relevant
    provisions = {(e.indicator, e.provision) for e in result.evidence}
    assert ("adequacy-whitelist", "Article 45") in provisions
    assert ("standard-contract", "Article 46") in provisions
    assert ("binding-corporate-rules", "Article 47") in provisions
    assert result.scores["restrictive"] == 0


def test_cybersecurity_law_is_restrictive_on_article_37():
    result = classify_text(corpus("cn-csl-2016.md"))
    assert result.paradigm == "restrictive"
    top = result.evidence[0]
    assert top.provision == "第三十七条" and "安全评估" in top.quote
    localisation = evidence_of(result, "localisation-mandate")[0]
    assert localisation.provision == "第三十七条" and "境内存储" in localisation.quote
    assert localisation.dimension == "possession"


def test_pipl_menu_of_routes_with_narrow_localisation_is_prudent():
    result = classify_text(corpus("cn-pipl-2021.md"))
    assert result.paradigm == "prudent"
    assert {"第三十八条", "第四十条", "第四十二条"} <= {e.provision for e in result.evidence}
    blacklist = evidence_of(result, "named-country-ban")[0]
    assert blacklist.provision == "第四十二条" and blacklist.dimension == "reception"


def test_executive_order_14117_is_restrictive():
    result = classify_text(corpus("us-eo-14117-2024.md"))
    assert result.paradigm == "restrictive"
    assert any("countries of concern" in e.quote for e in evidence_of(result, "named-country-ban"))
    # "does not authorize the imposition of generalized data localization requirements" is negated
    assert not any("generalized data" in e.quote for e in evidence_of(result, "localisation-mandate"))


def test_scc_decision_is_prudent():
    result = classify_text(corpus("eu-scc-decision-2021-914.md"))
    assert result.paradigm == "prudent"
    assert evidence_of(result, "standard-contract")


def test_wto_jsi_text_keeps_conditional_transfer_regimes():
    result = classify_text(corpus("wto-jsi-ecommerce-2024.md"))
    assert result.relevant
    exception = evidence_of(result, "public-policy-exception")[0]
    assert exception.provision == "Article 25" and "cross-border data transfers" in exception.quote


@pytest.mark.skipif(not (SHARED_CORPUS / "tpp-chapter-14-electronic-commerce.md").exists(),
                    reason="the TPP text is read from ../shared/corpus only")
def test_tpp_chapter_14_is_facilitation_judged_with_its_exceptions():
    result = classify_text((SHARED_CORPUS / "tpp-chapter-14-electronic-commerce.md").read_text())
    assert result.paradigm == "facilitation"
    assert evidence_of(result, "free-flow-commitment")[0].provision == "Article 14.11"
    assert evidence_of(result, "ban-on-localisation")[0].provision == "Article 14.13"
    assert {e.provision for e in evidence_of(result, "public-policy-exception")} >= {"Article 14.11"}


@pytest.mark.skipif(not (SHARED_CORPUS / "sa-transfer-regulation-2024.md").exists(),
                    reason="the Saudi text is read from ../shared/corpus only")
def test_saudi_transfer_regulation_is_prudent():
    result = classify_text((SHARED_CORPUS / "sa-transfer-regulation-2024.md").read_text())
    assert result.paradigm == "prudent"
    assert evidence_of(result, "standard-contract") and evidence_of(result, "adequacy-whitelist")


@pytest.mark.parametrize(("text", "paradigm"), [
    ("No Party shall require a covered person to use or locate computing facilities in that "
     "Party's territory.", "facilitation"),
    ("Personal data shall be stored in the territory of the Republic.", "restrictive"),
    ("个人信息处理者应当在境内存储个人信息。", "restrictive"),
    ("缔约方不得要求在境内存储数据，应当允许数据跨境自由流动。", "facilitation"),
    ("自当年1月1日起累计向境外提供不满10万人个人信息的，免予申报数据出境安全评估。", "prudent"),
])
def test_negation_and_exemptions(text, paradigm):
    assert classify_text(text).paradigm == paradigm


def test_news_without_transfers_is_unknown_and_irrelevant():
    result = classify_text("The Commissioner fined a retailer for failing to secure card data. "
                           "Organisations must report breaches within 72 hours.")
    assert result.paradigm == "unknown" and not result.relevant and result.evidence == []


def test_json_shape_of_a_classification():
    data = classify_text(corpus("eu-gdpr-chapter-v.md")).to_json()
    assert set(data) == {"paradigm", "scores", "relevant", "evidence"}
    assert set(data["scores"]) == {"facilitation", "prudent", "restrictive"}
    assert set(data["evidence"][0]) >= {"quote", "provision", "paradigm", "dimension"}


def test_labelled_passages_regression_floor():
    """The passages the indicators were written against: a guard against regressions only."""
    rows = list(csv.DictReader((FIXTURES / "labelled_passages.tsv").open(), delimiter="\t"))
    assert len(rows) >= 120
    assert {r["lang"] for r in rows} == {"en", "zh", "es", "fr", "pt", "de"}
    correct = sum(classify_text(r["passage"]).paradigm ==
                  ("unknown" if r["label"] == "irrelevant" else r["label"]) for r in rows)
    assert correct / len(rows) >= 0.95


def _shift(old: str, new: str) -> dict | None:
    return version_shift(classify_text(old).to_json(), classify_text(new).to_json(),
                         diff_provisions(old, new).refs)


def test_relaxation_is_a_shift_away_from_restrictive():
    relaxed = RESTRICTIVE_LAW.replace(RESTRICTIVE_ARTICLE_3, RELAXED_ARTICLE_3)
    shift = _shift(RESTRICTIVE_LAW, relaxed)
    assert shift["from"] == "restrictive" and shift["away_from"] == "restrictive"
    assert shift["provisions"] == ["Article 3"]
    assert any(e["indicator"] == "derogations-exemptions" for e in shift["evidence"])


def test_new_localisation_mandate_is_a_shift_towards_restrictive():
    prudent_law = """Article 1
Personal data may be transferred to a third country that ensures an adequate level of protection.
Article 2
Otherwise the controller shall provide appropriate safeguards such as standard contractual clauses."""
    tightened = prudent_law + "\nArticle 3\nAll personal data of citizens shall be stored in the territory and transfers abroad require the prior approval of the competent authority."
    shift = _shift(prudent_law, tightened)
    assert shift["towards"] == "restrictive"
    assert shift["provisions"] == ["Article 3"]


def test_unchanged_evidence_is_no_shift():
    assert _shift(RESTRICTIVE_LAW, RESTRICTIVE_LAW.replace("governs", "covers")) is None


def test_fixture_files_are_where_the_bench_reads_them():
    assert Path(FIXTURES / "heldout_passages.tsv").exists()
