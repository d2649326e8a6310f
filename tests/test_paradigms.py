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
    assert result.evidence[0].provision == "第三十七条"
    assessment = evidence_of(result, "government-security-assessment")[0]
    assert assessment.provision == "第三十七条" and "安全评估" in assessment.quote
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
    assert set(data) == {"paradigm", "scores", "relevant", "reason", "evidence"}
    assert set(data["scores"]) == {"facilitation", "prudent", "restrictive"}
    assert set(data["evidence"][0]) >= {"quote", "provision", "paradigm", "dimension"}


def test_labelled_passages_regression_floor():
    """The passages the indicators were written against: a guard against regressions only. A
    passage whose only evidence is one weak hit (consent alone, an impact assessment alone) is
    `unknown` by design, hence the floor."""
    rows = list(csv.DictReader((FIXTURES / "labelled_passages.tsv").open(), delimiter="\t"))
    assert len(rows) >= 120
    assert {r["lang"] for r in rows} == {"en", "zh", "es", "fr", "pt", "de"}
    correct = sum(classify_text(r["passage"]).paradigm ==
                  ("unknown" if r["label"] == "irrelevant" else r["label"]) for r in rows)
    assert correct / len(rows) >= 0.9


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


@pytest.mark.parametrize("row", list(csv.DictReader((FIXTURES / "language_passages.tsv").open(encoding="utf-8"),
                                                  delimiter="\t")), ids=lambda r: f"{r['lang']}-{r['label']}")
def test_passages_in_japanese_korean_vietnamese_russian_indonesian_arabic(row):
    assert classify_text(row["passage"]).paradigm == row["label"]


def test_appi_article_28_provision_to_a_third_party_in_a_foreign_country_is_read():
    passage = next(r["passage"] for r in csv.DictReader((FIXTURES / "language_passages.tsv").open(encoding="utf-8"),
                                                        delimiter="\t") if r["passage"].startswith("第二十八条"))
    result = classify_text(passage)
    assert result.paradigm == "prudent"
    assert {"adequacy-whitelist", "consent"} <= {e.indicator for e in result.evidence}
    assert all(e.provision == "第二十八条" for e in result.evidence)


def test_every_pattern_has_words_to_scan_for():
    from paradigms.taxonomy import CUES, INDICATORS
    for owner in (*INDICATORS, *CUES):
        for pattern, literals in zip(owner.patterns, owner.literals, strict=True):
            assert literals and all(word.strip() for word in literals), pattern


def test_every_indicator_match_holds_one_of_its_prefilter_words():
    """The prefilter must never hide a match: every match of a pattern contains a literal the
    multi-pattern scan looks for."""
    from paradigms.taxonomy import INDICATORS, lower_same_length
    passages = [r["passage"] for name in ("labelled_passages.tsv", "heldout_passages.tsv", "language_passages.tsv")
                for r in csv.DictReader((FIXTURES / name).open(encoding="utf-8"), delimiter="\t")]
    for passage in map(lower_same_length, passages):
        for indicator in INDICATORS:
            for regex, literals in zip(indicator.compiled, indicator.literals, strict=True):
                for match in regex.finditer(passage):
                    assert any(word in match.group(0) for word in literals), (indicator.id, match.group(0))


@pytest.mark.parametrize(("text", "paradigm"), [
    ("The Parties shall endeavour to work to maintain cross-border flows of information.", "unknown"),
    ("Las Partes cooperarán para mantener los flujos transfronterizos de información.", "unknown"),
    ("Cada Parte permitirá la transferencia transfronteriza de información por medios electrónicos.",
     "facilitation"),
    ("征信机构在中国境内采集的信息的整理、保存和加工，应当在中国境内进行。", "restrictive"),
    ("各部门应当建立数据共享负面清单，列入清单的数据不予共享。", "unknown"),
    ("数据处理者向境外提供重要数据，应当按照有关规定申请数据出境安全评估。", "unknown"),
    ("数据处理者向境外提供重要数据，应当通过国家网信部门组织的数据出境安全评估。", "restrictive"),
    ("A transfer abroad may take place with the explicit consent of the data subject.", "unknown"),
    ("Each Party shall recognise digital certificates issued abroad for electronic signatures.", "unknown"),
    ("The Parties shall encourage the private sector to adopt codes of conduct, model contracts and "
     "guidelines for cross-border electronic commerce.", "unknown"),
    ("Nothing in this Article shall prevent a Party from adopting measures restricting cross-border "
     "transfers to achieve a legitimate public policy objective.", "unknown"),
    ("Personal data may be transferred to a third country that ensures an adequate level of protection. "
     "Otherwise the exporter shall sign the standard contractual clauses, as also recognised for "
     "organisations certified under the APEC CBPR system.", "prudent"),
])
def test_force_context_and_enough_evidence(text, paradigm):
    assert classify_text(text).paradigm == paradigm


@pytest.mark.parametrize(("text", "paradigm"), [
    ("A transferência internacional de dados pessoais somente é permitida nos seguintes casos: I - para países "
     "que proporcionem grau de proteção de dados pessoais adequado ao previsto nesta Lei; II - quando o "
     "controlador oferecer garantias de cumprimento, na forma de: a) cláusulas-padrão contratuais;", "prudent"),
    ("Neither Party shall require a covered person to use or locate computing facilities in that Area as a "
     "condition for conducting business in that Area.", "facilitation"),
    ("Each Party shall allow a covered person to transmit electronic information, including personal "
     "information, across its borders for the conduct of business.", "facilitation"),
    ("Cada Parte permitirá que las personas cubiertas transmitan información por medios electrónicos desde su "
     "territorio, cuando esta actividad sea para la realización de negocios.", "facilitation"),
    ("The Parties shall endeavour to refrain from imposing unnecessary barriers to electronic information "
     "flows across borders.", "unknown"),
    ("制定数据出境负面清单，负面清单外的一般数据可以自由向境外提供。", "prudent"),
])
def test_wording_of_statutes_and_trade_chapters(text, paradigm):
    assert classify_text(text).paradigm == paradigm


def test_appi_caption_and_article_28_in_context():
    text = ("（第三者提供の制限）\n第二十七条　個人情報取扱事業者は、あらかじめ本人の同意を得ないで、個人データを"
            "第三者に提供してはならない。\n（外国にある第三者への提供の制限）\n第二十八条　個人情報取扱事業者は、"
            "外国にある第三者に個人データを提供する場合には、あらかじめ外国にある第三者への提供を認める旨の本人の"
            "同意を得なければならない。")
    result = classify_text(text)
    assert {e.provision for e in result.evidence} == {"第二十八条"}


def test_unknown_says_why():
    result = classify_text("A transfer abroad may take place with the explicit consent of the data subject.")
    assert result.paradigm == "unknown" and "too little evidence" in result.reason


def test_quotes_are_clean_and_cut_between_words():
    text = "## Article 45\n" + "Recital words here. " * 20 + "A transfer of personal data to a third country " \
        "may take place where the Commission has decided that the third country ensures an adequate level " \
        "of protection &#40;see [the list](https://example.org/list)&#41; " + "and further words follow " * 20
    quote = classify_text(text).evidence[0].quote
    assert "&#40;" not in quote and "](" not in quote and "##" not in quote
    assert "(see the list)" in quote
    words = set(text.replace("…", " ").split())
    assert all(w.strip("…") in words or "(" in w or ")" in w for w in quote.split())


def test_paragraphs_without_numbers_are_cited_by_their_heading():
    text = "# Guidelines on transfers\n\n## Transfers to third countries\n\nPersonal data may be " \
        "transferred to a third country that ensures an adequate level of protection, or under standard contractual clauses."
    assert {e.provision for e in classify_text(text).evidence} == {"Transfers to third countries"}
