"""Key dates read from real instruments and from passages written in each language the
classifier reads: the ISO date, the quote and the provision an analyst would check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paradigms.key_dates import (
    ADOPTION,
    AMENDMENT,
    APPLICATION,
    ENTRY_INTO_FORCE,
    PUBLICATION,
    REPEAL,
    TRANSITION,
    KeyDate,
    find_key_dates,
)
from texts.normalise import normalise_text

DEMO_CORPUS = Path(__file__).resolve().parents[1] / "policywatch" / "demoweb" / "corpus"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# The end of the GDPR (Regulation (EU) 2016/679) as published in OJ L 119, 4.5.2016: its title, OJ
# reference, Articles 94 and 99 and its signature line, word for word.
GDPR_END = (Path(__file__).parent / "fixtures" / "lifecycle" / "gdpr-end.txt").read_text(encoding="utf-8")


def _of_kind(dates: list[KeyDate], kind: str) -> list[KeyDate]:
    return [d for d in dates if d.kind == kind]


def _only(dates: list[KeyDate], kind: str) -> KeyDate:
    found = _of_kind(dates, kind)
    assert len(found) == 1, (kind, dates)
    return found[0]


def _demo(name: str) -> str:
    return normalise_text((DEMO_CORPUS / name).read_text(encoding="utf-8"))


def _shared(relative: str) -> str:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not on this machine")
    return normalise_text(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- real instruments

def test_gdpr_enters_into_force_twenty_days_after_its_oj_publication_and_applies_from_25_may_2018():
    dates = find_key_dates(GDPR_END)
    entry = _only(dates, ENTRY_INTO_FORCE)
    assert entry.date == date(2016, 5, 24)
    assert entry.provision == "Article 99"
    assert entry.basis == "20 days after publication (2016-05-04)"
    assert "twentieth day following that of its publication" in entry.quote
    assert _only(dates, APPLICATION).date == date(2018, 5, 25)
    assert _only(dates, PUBLICATION).date == date(2016, 5, 4)
    assert _only(dates, ADOPTION).date == date(2016, 4, 27)


def test_gdpr_repeal_of_directive_95_46_is_dated_but_not_a_date_of_the_gdpr_itself():
    repeal = _only(find_key_dates(GDPR_END), REPEAL)
    assert repeal.date == date(2018, 5, 25)
    assert repeal.provision == "Article 94"
    assert repeal.of_this_instrument is False


def test_pipl_comes_into_force_on_1_november_2021_and_was_adopted_on_20_august_2021():
    dates = find_key_dates(_demo("cn-pipl-2021.md"))
    entry = _only(dates, ENTRY_INTO_FORCE)
    assert (entry.date, entry.provision) == (date(2021, 11, 1), "第七十四条")
    assert "自2021年11月1日起施行" in entry.quote
    assert _only(dates, ADOPTION).date == date(2021, 8, 20)


def test_csl_comes_into_force_on_1_june_2017():
    entry = _only(find_key_dates(_demo("cn-csl-2016.md")), ENTRY_INTO_FORCE)
    assert (entry.date, entry.provision) == (date(2017, 6, 1), "第七十九条")


def test_network_data_regulations_come_into_force_on_1_january_2025():
    entry = _only(find_key_dates(_demo("cn-network-data-regulations-2024.md")), ENTRY_INTO_FORCE)
    assert (entry.date, entry.provision) == (date(2025, 1, 1), "第六十四条")


def test_scc_decision_enters_into_force_twenty_days_after_oj_l_199_of_7_june_2021():
    dates = find_key_dates(_demo("eu-scc-decision-2021-914.md"))
    assert _only(dates, PUBLICATION).date == date(2021, 6, 7)
    entry = _only(dates, ENTRY_INTO_FORCE)
    assert (entry.date, entry.provision) == (date(2021, 6, 27), "Article 4")
    assert _only(dates, ADOPTION).date == date(2021, 6, 4)


def test_scc_decision_repeals_the_old_clauses_on_27_september_2021_as_other_instruments():
    repeals = _of_kind(find_key_dates(_demo("eu-scc-decision-2021-914.md")), REPEAL)
    assert [r.date for r in repeals] == [date(2021, 9, 27)]  # one date, two decisions: once per date
    assert not repeals[0].of_this_instrument
    assert "Decision 2001/497/EC is repealed" in repeals[0].quote


def test_eo_14117_is_dated_by_its_signature_line():
    adoption = _only(find_key_dates(_demo("us-eo-14117-2024.md")), ADOPTION)
    assert adoption.date == date(2024, 2, 28)
    assert "THE WHITE HOUSE" in adoption.quote


def test_wto_agreement_entry_into_force_depends_on_acceptances_and_stays_undated():
    entries = _of_kind(find_key_dates(_demo("wto-jsi-ecommerce-2024.md")), ENTRY_INTO_FORCE)
    assert entries and all(e.date is None for e in entries)
    assert all(e.provision == "Article 29" and e.basis == "not dated by the text" for e in entries)


def test_gdpr_chapter_v_states_no_date_of_its_own():
    assert [d for d in find_key_dates(_demo("eu-gdpr-chapter-v.md")) if d.of_this_instrument] == []


def test_chinese_state_council_header_gives_adoption_publication_and_entry_into_force():
    dates = find_key_dates(_shared("corpus-dev/cn-map-regulations-2015.md"))
    assert _only(dates, ADOPTION).date == date(2015, 11, 11)
    assert _only(dates, PUBLICATION).date == date(2015, 11, 26)
    assert _only(dates, ENTRY_INTO_FORCE).date == date(2016, 1, 1)
    repeal = _only(dates, REPEAL)  # 《中华人民共和国地图编制出版管理条例》同时废止
    assert repeal.date == date(1995, 7, 10) and not repeal.of_this_instrument


def test_revisions_of_a_chinese_law_are_amendments():
    amendments = _of_kind(find_key_dates(_shared("corpus-dev/cn-surveying-mapping-law-2017.md")), AMENDMENT)
    assert [a.date for a in amendments] == [date(2002, 8, 29), date(2017, 4, 27)]


def test_telecom_regulations_in_force_from_their_promulgation_date_in_the_header():
    entry = _only(find_key_dates(_shared("corpus-dev/cn-telecom-regulations-2016.md")), ENTRY_INTO_FORCE)
    assert entry.date == date(2000, 9, 25)
    assert entry.basis == "0 days after publication (2000-09-25)"


def test_data_governance_act_dates_with_the_oj_publication_given():
    dates = find_key_dates(_shared("corpus-dev/eu-data-governance-act-2022.md"), published=date(2022, 6, 3))
    assert _only(dates, ENTRY_INTO_FORCE).date == date(2022, 6, 23)
    assert _only(dates, APPLICATION).date == date(2023, 9, 24)
    assert _only(dates, ADOPTION).date == date(2022, 5, 30)


def test_data_governance_act_without_publication_date_keeps_the_clause_unresolved():
    entry = _only(find_key_dates(_shared("corpus-dev/eu-data-governance-act-2022.md")), ENTRY_INTO_FORCE)
    assert entry.date is None
    assert entry.basis == "20 days after publication (publication date unknown)"


def test_eprivacy_directive_transposition_deadline():
    dates = find_key_dates(_shared("corpus-dev/eu-eprivacy-directive-2002.md"))
    assert _only(dates, TRANSITION).date == date(2003, 10, 31)
    assert _only(dates, TRANSITION).provision == "Article 17"


def test_swiss_ordinance_commencement_and_amendment_notes():
    dates = find_key_dates(_shared("corpus-dev/ch-dpo-2022.md"))
    entry = [d for d in dates if d.kind == ENTRY_INTO_FORCE and d.of_this_instrument and d.date]
    assert [(e.date, e.provision) for e in entry] == [(date(2023, 9, 1), "Art. 47")]
    assert all(not a.of_this_instrument for a in _of_kind(dates, AMENDMENT))


def test_swiss_act_citing_an_act_of_21_march_1997_takes_no_date_from_it():
    dates = find_key_dates(_shared("corpus-dev/ch-fadp-2020.md"))
    assert date(1997, 3, 21) not in {d.date for d in dates}
    assert [d.date for d in _of_kind(dates, ENTRY_INTO_FORCE) if d.date] == [date(2023, 9, 1)]


def test_vietnamese_cybersecurity_law_in_force_1_january_2019():
    entry = _of_kind(find_key_dates(_shared("corpus-dev/vn-cybersecurity-law-2018.md")), ENTRY_INTO_FORCE)[0]
    assert (entry.date, entry.provision) == (date(2019, 1, 1), "Điều 43")


def test_indonesian_pdp_law_in_force_on_its_promulgation_17_october_2022():
    dates = find_key_dates(_shared("corpus-dev/id-uu-27-2022-pelindungan-data-pribadi.md"))
    entry = [d for d in _of_kind(dates, ENTRY_INTO_FORCE) if d.date]
    assert [(e.date, e.provision) for e in entry] == [(date(2022, 10, 17), "Pasal 74")]


def test_german_convention_entry_into_force_after_ratifications_is_unresolved():
    entries = _of_kind(find_key_dates(_shared("corpus-dev/coe-convention-108-1981-de.md")), ENTRY_INTO_FORCE)
    assert [e.provision for e in entries] == ["Art. 22"]
    assert entries[0].date is None and "tritt am ersten Tag des Monats in Kraft" in entries[0].quote


def test_philippine_act_takes_effect_fifteen_days_after_publication():
    dates = find_key_dates(_shared("corpus-dev/ph-data-privacy-act-2012.md"), published=date(2012, 8, 28))
    assert _only(dates, ENTRY_INTO_FORCE).date == date(2012, 9, 12)


# ------------------------------------------------------------------------ passages per language

PASSAGES = [  # (language, text, publication date given, expected kind, expected ISO date)
    ("en", "Section 12\nThis Act shall come into force on 1 July 2027.", None, ENTRY_INTO_FORCE, "2027-07-01"),
    ("en", "Section 3\nThis Act comes into force on January 1, 2026.", None, ENTRY_INTO_FORCE, "2026-01-01"),
    ("en", "Article 30\nThis Regulation shall apply as from 2 August 2026.", None, APPLICATION, "2026-08-02"),
    ("en", "Article 8\nProcessors shall bring existing contracts into conformity with this Regulation no later "
           "than 31 December 2026.", None, TRANSITION, "2026-12-31"),
    ("zh", "第六十条 本办法自2025年1月1日起施行。", None, ENTRY_INTO_FORCE, "2025-01-01"),
    ("zh", "第五十条 本规定自公布之日起施行。", date(2024, 3, 22), ENTRY_INTO_FORCE, "2024-03-22"),
    ("es", "Artículo 30. Vigencia\nLa presente ley entrará en vigor el 1 de enero de 2025.", None,
     ENTRY_INTO_FORCE, "2025-01-01"),
    ("es", "Artículo 2\nEsta ley entrará en vigor a los veinte días de su publicación en el Boletín Oficial.",
     date(2024, 3, 1), ENTRY_INTO_FORCE, "2024-03-21"),
    ("fr", "Article 12\nLa présente loi entre en vigueur le 1er janvier 2025.", None, ENTRY_INTO_FORCE,
     "2025-01-01"),
    ("fr", "Article 3\nLe présent règlement entre en vigueur le vingtième jour suivant celui de sa publication "
           "au Journal officiel.", date(2023, 11, 10), ENTRY_INTO_FORCE, "2023-11-30"),
    ("de", "§ 20 Inkrafttreten\nDieses Gesetz tritt am 1. Januar 2025 in Kraft.", None, ENTRY_INTO_FORCE,
     "2025-01-01"),
    ("de", "Artikel 4\nDieses Gesetz tritt am Tag nach der Verkündung in Kraft.", date(2021, 6, 23),
     ENTRY_INTO_FORCE, "2021-06-24"),
    ("pt", "Art. 65. Esta Lei entra em vigor em 1º de janeiro de 2025.", None, ENTRY_INTO_FORCE, "2025-01-01"),
    ("ja", "附則\n第一条 この法律は、公布の日から起算して六月を経過した日から施行する。", date(2020, 6, 12),
     ENTRY_INTO_FORCE, "2020-12-12"),
    ("ja", "附則\nこの法律は、2022年4月1日から施行する。", None, ENTRY_INTO_FORCE, "2022-04-01"),
    ("ja", "附則\nこの法律は、令和四年四月一日から施行する。", None, ENTRY_INTO_FORCE, "2022-04-01"),
    ("ja", "附則\nこの政令は、平成元年十二月二十一日から施行する。", None, ENTRY_INTO_FORCE, "1989-12-21"),
    ("zh", "第五十五条 本法自二〇二一年九月一日起施行。", None, ENTRY_INTO_FORCE, "2021-09-01"),
    ("ko", "부칙\n제1조(시행일) 이 법은 2024년 3월 15일부터 시행한다.", None, ENTRY_INTO_FORCE, "2024-03-15"),
    ("ko", "부칙\n제1조(시행일) 이 법은 공포 후 6개월이 경과한 날부터 시행한다.", date(2023, 3, 14),
     ENTRY_INTO_FORCE, "2023-09-14"),
    ("vi", "Điều 43. Hiệu lực thi hành\nLuật này có hiệu lực thi hành từ ngày 01 tháng 07 năm 2025.", None,
     ENTRY_INTO_FORCE, "2025-07-01"),
    ("ru", "Статья 25\nНастоящий Федеральный закон вступает в силу с 1 сентября 2015 года.", None,
     ENTRY_INTO_FORCE, "2015-09-01"),
    ("id", "Pasal 76\nUndang-Undang ini mulai berlaku pada tanggal 17 Oktober 2022.", None, ENTRY_INTO_FORCE,
     "2022-10-17"),
    ("ar", "المادة 43\nيسري هذا النظام اعتباراً من 14 سبتمبر 2023.", None, ENTRY_INTO_FORCE, "2023-09-14"),
    ("ar", "المادة 43\nيعمل بهذا النظام بعد مضي 180 يوماً من تاريخ نشره في الجريدة الرسمية.", date(2023, 3, 17),
     ENTRY_INTO_FORCE, "2023-09-13"),
]


@pytest.mark.parametrize(("language", "text", "published", "kind", "expected"), PASSAGES,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(PASSAGES)])
def test_passage_date(language: str, text: str, published: date | None, kind: str, expected: str):
    found = _of_kind(find_key_dates(text, published=published), kind)
    assert [d.date.isoformat() if d.date else None for d in found] == [expected]
    assert found[0].quote and found[0].of_this_instrument


def test_relative_date_without_publication_keeps_its_reckoning_and_quote():
    entry = _only(find_key_dates("Artículo 2\nEsta ley entrará en vigor a los veinte días de su publicación."),
                  ENTRY_INTO_FORCE)
    assert entry.date is None
    assert entry.basis == "20 days after publication (publication date unknown)"
    assert entry.quote == "Esta ley entrará en vigor a los veinte días de su publicación."


def test_a_reference_to_the_moment_of_entry_into_force_is_no_date():
    text = "Article 70\nThis Act does not apply to investigations that are ongoing at the time that it comes into force."
    assert find_key_dates(text) == []


def test_impossible_dates_and_non_months_are_ignored():
    assert find_key_dates("Article 1\nThis Act shall come into force on 31 February 2026.")[0].date is None
    assert find_key_dates("Article 1\nIt shall apply from 12 Members 2026.") == []


def test_key_date_to_json_uses_iso_dates():
    entry = _only(find_key_dates(GDPR_END), ENTRY_INTO_FORCE)
    assert entry.to_json()["date"] == "2016-05-24"
    assert entry.to_json()["kind"] == "entry_into_force"
