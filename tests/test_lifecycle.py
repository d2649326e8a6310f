"""Lifecycle stages of real instruments and of passages written in each language the classifier
reads: the stage, the quote and provision behind it, and the rule that decided it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paradigms.lifecycle import (
    ADOPTED,
    CONSULTATION,
    DRAFT,
    IN_FORCE,
    REPEALED,
    STAGES,
    UNKNOWN_STAGE,
    effective_stage,
    lifecycle_stage,
    stage_as_of,
    stored_lifecycle,
)
from texts.normalise import normalise_text

TODAY = date(2026, 12, 1)
ROOT = Path(__file__).resolve().parents[1]
DEMO_CORPUS = ROOT / "policywatch" / "demoweb" / "corpus"
SHARED = ROOT.parent / "shared"
GDPR_END = (Path(__file__).parent / "fixtures" / "lifecycle" / "gdpr-end.txt").read_text(encoding="utf-8")


def _demo(name: str) -> str:
    return normalise_text((DEMO_CORPUS / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- real instruments

def test_gdpr_is_in_force_since_24_may_2016_although_it_repeals_directive_95_46():
    stage = lifecycle_stage(GDPR_END, today=TODAY)
    assert (stage.stage, stage.since, stage.provision) == (IN_FORCE, date(2016, 5, 24), "Article 99")
    assert stage.rule == "entry into force"
    assert "shall enter into force on the twentieth day" in stage.quote


def test_gdpr_read_before_its_entry_into_force_is_adopted():
    stage = lifecycle_stage(GDPR_END, today=date(2016, 5, 10))
    assert (stage.stage, stage.since) == (ADOPTED, date(2016, 5, 24))


def test_pipl_in_force_from_1_november_2021():
    stage = lifecycle_stage(_demo("cn-pipl-2021.md"), today=TODAY)
    assert (stage.stage, stage.since, stage.provision) == (IN_FORCE, date(2021, 11, 1), "第七十四条")
    assert stage.quote == "第七十四条 本法自2021年11月1日起施行"


def test_pipl_between_adoption_and_entry_into_force_is_adopted():
    assert lifecycle_stage(_demo("cn-pipl-2021.md"), today=date(2021, 9, 1)).stage == ADOPTED


def test_csl_and_network_data_regulations_in_force():
    assert lifecycle_stage(_demo("cn-csl-2016.md"), today=TODAY).since == date(2017, 6, 1)
    regulations = lifecycle_stage(_demo("cn-network-data-regulations-2024.md"), today=TODAY)
    assert (regulations.stage, regulations.since) == (IN_FORCE, date(2025, 1, 1))


def test_scc_decision_in_force_from_27_june_2021_despite_repealing_two_decisions():
    stage = lifecycle_stage(_demo("eu-scc-decision-2021-914.md"), today=TODAY)
    assert (stage.stage, stage.since, stage.provision) == (IN_FORCE, date(2021, 6, 27), "Article 4")


def test_wto_stabilised_text_is_a_draft():
    stage = lifecycle_stage(_demo("wto-jsi-ecommerce-2024.md"), today=TODAY)
    assert (stage.stage, stage.rule) == (DRAFT, "header wording")
    assert "stabilised text" in stage.quote


def test_eo_14117_is_adopted_by_its_signature():
    stage = lifecycle_stage(_demo("us-eo-14117-2024.md"), today=TODAY)
    assert (stage.stage, stage.rule, stage.since) == (ADOPTED, "adoption formula", date(2024, 2, 28))


def test_gdpr_chapter_alone_says_nothing_of_its_stage():
    stage = lifecycle_stage(_demo("eu-gdpr-chapter-v.md"), today=TODAY)
    assert (stage.stage, stage.quote, stage.rule) == (UNKNOWN_STAGE, "", "none")


# Stages checked by hand against each text (its final provisions and header); `unknown` where
# the text as stored carries no commencement clause, adoption formula or status.
REAL_STAGES = [
    ("corpus/sa-transfer-regulation-2024.md", ADOPTED),  # "on the date of its publication": undated
    ("corpus-dev/cn-map-regulations-2015.md", IN_FORCE),
    ("corpus-dev/cn-telecom-regulations-2016.md", IN_FORCE),
    ("corpus-dev/cn-surveying-mapping-law-2017.md", IN_FORCE),
    ("corpus-dev/ch-dpo-2022.md", IN_FORCE),
    ("corpus-dev/ch-fadp-2020.md", IN_FORCE),  # "draft federal legislation" in its body is no draft
    ("corpus-dev/vn-cybersecurity-law-2018.md", IN_FORCE),
    ("corpus-dev/id-uu-27-2022-pelindungan-data-pribadi.md", IN_FORCE),
    ("corpus-dev/coe-convention-108-1981-de.md", ADOPTED),  # in force after five ratifications: undated
    ("corpus-dev/eu-data-governance-act-2022.md", ADOPTED),  # OJ publication date not in the text
    ("corpus-dev/ph-electronic-commerce-act-2000.md", ADOPTED),  # repeals *other* laws, not itself
    ("corpus-dev/co-ley-1581-proteccion-datos-2012.md", ADOPTED),  # "rige a partir de su promulgación"
    ("corpus-dev/ke-data-protection-act-2019.md", UNKNOWN_STAGE),
]


@pytest.mark.parametrize(("relative", "expected"), REAL_STAGES, ids=[r for r, _ in REAL_STAGES])
def test_real_text_stage(relative: str, expected: str):
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not on this machine")
    stage = lifecycle_stage(normalise_text(path.read_text(encoding="utf-8")), today=TODAY)
    assert stage.stage == expected
    assert bool(stage.quote) == (expected != UNKNOWN_STAGE)


def test_data_governance_act_with_its_publication_date_is_in_force_from_23_june_2022():
    path = SHARED / "corpus-dev" / "eu-data-governance-act-2022.md"
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not on this machine")
    stage = lifecycle_stage(normalise_text(path.read_text(encoding="utf-8")), today=TODAY,
                            published=date(2022, 6, 3))
    assert (stage.stage, stage.since, stage.provision) == (IN_FORCE, date(2022, 6, 23), "Article 38")


# ------------------------------------------------------------------------ passages per language

ENACTED = "Article 20\nThis Regulation shall enter into force on 1 January 2025."
TITLES = [  # (language, title, expected stage)
    ("zh", "数据出境安全评估办法（征求意见稿）", CONSULTATION),
    ("zh", "中华人民共和国个人信息保护法（草案）", DRAFT),
    ("zh", "网络数据安全管理条例（送审稿）", DRAFT),
    ("en", "Draft for public consultation: Cross-border data transfer rules", CONSULTATION),
    ("en", "Proposal for a REGULATION OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL on harmonised rules on "
           "fair access to and use of data (Data Act)", DRAFT),
    ("en", "Digital Personal Data Protection Bill, 2022", DRAFT),
    ("es", "Proyecto de Ley de Protección de Datos Personales", DRAFT),
    ("es", "Consulta pública sobre el reglamento de transferencias internacionales", CONSULTATION),
    ("fr", "Projet de loi relatif à la protection des données personnelles", DRAFT),
    ("fr", "Consultation publique sur le projet de recommandation", CONSULTATION),
    ("de", "Entwurf eines Gesetzes zur Änderung des Bundesdatenschutzgesetzes", DRAFT),
    ("pt", "Projeto de Lei n.º 2338/2023", DRAFT),
    ("ja", "個人情報の保護に関する法律等の一部を改正する法律案", DRAFT),
    ("ja", "越境移転に関するガイドライン案に対する意見募集", CONSULTATION),
    ("ko", "개인정보 보호법 일부개정법률안", DRAFT),
    ("ko", "개인정보 보호법 시행령 일부개정령안 입법예고", CONSULTATION),
    ("vi", "Dự thảo Luật Bảo vệ dữ liệu cá nhân", DRAFT),
    ("ru", "Проект федерального закона о персональных данных", DRAFT),
    ("id", "Rancangan Undang-Undang tentang Pelindungan Data Pribadi", DRAFT),
    ("ar", "مشروع نظام حماية البيانات الشخصية", DRAFT),
    ("en", "Data Protection Act 1998 (repealed)", REPEALED),
    ("zh", "计算机信息网络国际联网安全保护管理办法（已废止）", REPEALED),
    ("es", "Ley 25.326 (derogada)", REPEALED),
    ("fr", "Décret n° 2005-1309 (abrogé)", REPEALED),
    ("de", "Bundesdatenschutzgesetz a.F. (aufgehoben)", REPEALED),
]


@pytest.mark.parametrize(("language", "title", "expected"), TITLES, ids=[f"{t[0]}-{i}" for i, t in enumerate(TITLES)])
def test_title_outranks_the_entry_into_force_clause(language: str, title: str, expected: str):
    stage = lifecycle_stage(ENACTED, today=TODAY, title=title)
    assert (stage.stage, stage.rule, stage.quote, stage.provision) == (expected, "title", title, "Title")


def test_a_heading_at_the_top_of_the_text_names_a_draft_too():
    text = "# 中华人民共和国数据安全法（草案）\n第一条 为了保障数据安全，制定本法。\n第五十五条 本法自2021年9月1日起施行。"
    stage = lifecycle_stage(text, today=TODAY)
    assert (stage.stage, stage.rule, stage.quote) == (DRAFT, "title", "中华人民共和国数据安全法（草案）")


def test_a_consultation_notice_in_the_header_makes_a_consultation():
    text = ("关于公开征求《个人信息出境认证办法》意见的通知\n为了规范个人信息出境认证工作，现向社会公开征求意见。"
            "意见反馈截止时间为2025年2月10日。\n第一条 为了规范个人信息出境认证工作，制定本办法。")
    stage = lifecycle_stage(text, today=TODAY)
    assert (stage.stage, stage.rule) == (CONSULTATION, "header wording")


@pytest.mark.parametrize(("status", "expected"), [
    ("In force", IN_FORCE), ("No longer in force", REPEALED), ("已废止", REPEALED), ("失效", REPEALED),
    ("现行有效", IN_FORCE), ("Derogada", REPEALED), ("Außer Kraft", REPEALED), ("En vigueur", IN_FORCE),
])
def test_status_line_at_the_top(status: str, expected: str):
    text = f"Directive 95/46/EC\n{status}\nArticle 1\nMember States shall protect the right to privacy."
    stage = lifecycle_stage(text, today=TODAY)
    assert (stage.stage, stage.rule, stage.quote) == (expected, "status line", status)


SELF_REPEALS = [  # (language, text)
    ("en", "Article 12\nThis Decision is repealed with effect from 1 March 2020."),
    ("zh", "# 某某数据管理办法\n第三十条 本办法自2023年1月1日起废止。"),
    ("es", "Artículo 5\nLa presente ley queda derogada desde el 1 de enero de 2020."),
    ("fr", "Article 5\nLe présent décret est abrogé à compter du 1er mars 2020."),
    ("de", "§ 9\nDiese Verordnung wird mit Ablauf des 31. Dezember 2019 aufgehoben."),
]


@pytest.mark.parametrize(("language", "text"), SELF_REPEALS, ids=[s[0] for s in SELF_REPEALS])
def test_a_repeal_of_this_instrument_makes_it_repealed(language: str, text: str):
    stage = lifecycle_stage(text, today=TODAY)
    assert (stage.stage, stage.rule) == (REPEALED, "repeal clause")
    assert stage.quote and stage.provision


def test_a_repeal_still_to_come_leaves_the_text_in_force():
    text = ("Article 1\nThis Decision shall enter into force on 1 January 2020.\n"
            "Article 2\nThis Decision is repealed with effect from 1 January 2030.")
    assert lifecycle_stage(text, today=TODAY).stage == IN_FORCE


COMING_REPEALS = [  # (language, text, day the repeal takes effect): in force since 1 January 2020
    ("en", "Article 1\nThis Decision shall enter into force on 1 January 2020.\n"
           "Article 2\nThis Decision is repealed with effect from 1 January 2030.", date(2030, 1, 1)),
    ("zh", "# 某某数据管理办法\n第一条 本办法自2020年1月1日起施行。\n第三十条 本办法自2030年1月1日起废止。",
     date(2030, 1, 1)),
    ("es", "Artículo 4\nLa presente ley entrará en vigor el 1 de enero de 2020.\n"
           "Artículo 5\nLa presente ley queda derogada desde el 1 de enero de 2030.", date(2030, 1, 1)),
    ("fr", "Article 4\nLe présent décret entre en vigueur le 1er janvier 2020.\n"
           "Article 5\nLe présent décret est abrogé à compter du 1er janvier 2030.", date(2030, 1, 1)),
    ("de", "§ 8\nDiese Verordnung tritt am 1. Januar 2020 in Kraft.\n"
           "§ 9\nDiese Verordnung wird mit Ablauf des 31. Dezember 2029 aufgehoben.", date(2029, 12, 31)),
]


@pytest.mark.parametrize(("language", "text", "until"), COMING_REPEALS, ids=[c[0] for c in COMING_REPEALS])
def test_a_repeal_still_to_come_is_kept_and_repeals_the_text_once_its_day_has_come(
        language: str, text: str, until: date):
    read = lifecycle_stage(text, today=TODAY)
    assert (read.stage, read.since, read.until) == (IN_FORCE, date(2020, 1, 1), until)
    stored = stored_lifecycle(read)
    assert stored["until"] == until.isoformat()
    assert stage_as_of(read.stage, stored, date.fromordinal(until.toordinal() - 1)) == IN_FORCE
    assert stage_as_of(read.stage, stored, until) == REPEALED
    assert lifecycle_stage(text, today=until).stage == REPEALED  # as the text read on that day says


def test_a_stored_stage_reckoned_later_is_the_stage_read_that_day():
    text = ("Article 1\nThis Regulation shall enter into force on 1 July 2027.\n"
            "Article 2\nThis Regulation is repealed with effect from 31 December 2031.")
    read = lifecycle_stage(text, today=TODAY)
    assert (read.stage, read.since, read.until) == (ADOPTED, date(2027, 7, 1), date(2031, 12, 31))
    for day in (TODAY, date(2027, 6, 30), date(2027, 7, 1), date(2031, 12, 30), date(2031, 12, 31),
                date(2040, 1, 1)):
        assert stage_as_of(read.stage, stored_lifecycle(read), day) == lifecycle_stage(text, today=day).stage


def test_only_a_coming_repeal_of_this_text_is_kept():
    other = ("Article 94\n1. Directive 95/46/EC is repealed with effect from 25 May 2030.\n"
             "Article 99\nThis Regulation shall enter into force on 24 May 2016.")
    assert lifecycle_stage(other, today=TODAY).until is None
    repeal = "Article 2\nThis Decision is repealed with effect from 1 January 2030."
    draft = lifecycle_stage(repeal, today=TODAY, title="Proposal for a Decision on transfers")
    assert (draft.stage, draft.until) == (DRAFT, None)  # the title decides; a draft repeals nothing
    alone = lifecycle_stage(repeal, today=TODAY)
    assert (alone.stage, alone.until) == (UNKNOWN_STAGE, date(2030, 1, 1))


@pytest.mark.parametrize(("stage", "since", "until", "today", "expected"), [
    (IN_FORCE, "2020-01-01", "2030-01-01", date(2029, 12, 31), IN_FORCE),
    (IN_FORCE, "2020-01-01", "2030-01-01", date(2030, 1, 1), REPEALED),
    (ADOPTED, "2027-07-01", "2031-12-31", date(2027, 7, 1), IN_FORCE),
    (ADOPTED, "2027-07-01", date(2031, 12, 31), date(2032, 1, 1), REPEALED),
    (UNKNOWN_STAGE, None, "2030-01-01", date(2030, 1, 2), REPEALED),
    (None, None, None, date(2030, 1, 1), UNKNOWN_STAGE),
    (IN_FORCE, "2020-01-01", None, date(2040, 1, 1), IN_FORCE),
])
def test_effective_stage_with_a_coming_repeal(stage, since, until, today, expected):
    assert effective_stage(stage, since, today, until) == expected
    assert stage_as_of(stage, {"since": since, "until": until}, today) == expected


OTHER_REPEALS = [  # repeal clauses that repeal another instrument, never the text itself
    ("en", "Article 94\n1. Directive 95/46/EC is repealed with effect from 25 May 2018."),
    ("en", "Section 41\nAll other laws inconsistent with this Act are hereby repealed."),
    ("en", "Article 9\nDecisions adopted under this Regulation shall remain in force until amended, replaced "
           "or repealed."),
    ("zh", "第五十八条 本条例自2016年1月1日起施行。国务院1995年7月10日发布的《中华人民共和国地图编制出版管理条例》同时废止。"),
    ("es", "Artículo 29. Derogatorias\nLa presente ley deroga todas las disposiciones que le sean contrarias."),
]


@pytest.mark.parametrize(("language", "text"), OTHER_REPEALS, ids=[f"{o[0]}-{i}" for i, o in enumerate(OTHER_REPEALS)])
def test_repealing_another_instrument_does_not_make_the_text_repealed(language: str, text: str):
    assert lifecycle_stage(text, today=TODAY).stage != REPEALED


ENTRIES = [  # (language, text, publication date, expected stage on TODAY)
    ("en", "Section 12\nThis Act shall come into force on 1 July 2027.", None, ADOPTED),
    ("en", "Section 12\nThis Act shall come into force on 1 July 2020.", None, IN_FORCE),
    ("zh", "第六十条 本办法自2027年1月1日起施行。", None, ADOPTED),
    ("zh", "第五十条 本规定自公布之日起施行。", date(2024, 3, 22), IN_FORCE),
    ("es", "Artículo 2\nEsta ley entrará en vigor a los veinte días de su publicación.", None, ADOPTED),
    ("fr", "Article 12\nLa présente loi entre en vigueur le 1er janvier 2025.", None, IN_FORCE),
    ("de", "§ 20\nDieses Gesetz tritt am 1. Januar 2028 in Kraft.", None, ADOPTED),
    ("pt", "Art. 65. Esta Lei entra em vigor em 1º de janeiro de 2025.", None, IN_FORCE),
    ("ja", "附則\nこの法律は、公布の日から起算して六月を経過した日から施行する。", date(2026, 10, 1), ADOPTED),
    ("ko", "부칙\n제1조(시행일) 이 법은 2024년 3월 15일부터 시행한다.", None, IN_FORCE),
    ("vi", "Điều 43\nLuật này có hiệu lực thi hành từ ngày 01 tháng 01 năm 2019.", None, IN_FORCE),
    ("ru", "Статья 25\nНастоящий Федеральный закон вступает в силу с 1 сентября 2015 года.", None, IN_FORCE),
    ("id", "Pasal 74\nUndang-Undang ini mulai berlaku pada tanggal diundangkan.", date(2022, 10, 17), IN_FORCE),
    ("ar", "المادة 43\nيسري هذا النظام اعتباراً من 14 سبتمبر 2023.", None, IN_FORCE),
    ("zh", "2021年6月10日 第十三届全国人民代表大会常务委员会第二十九次会议通过", None, ADOPTED),
    ("en", "Done at Brussels, 4 June 2021.", None, ADOPTED),
]


@pytest.mark.parametrize(("language", "text", "published", "expected"), ENTRIES,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ENTRIES)])
def test_entry_into_force_against_today(language: str, text: str, published: date | None, expected: str):
    stage = lifecycle_stage(text, today=TODAY, published=published)
    assert stage.stage == expected
    assert stage.quote


def test_no_stage_wording_is_unknown_with_every_stage_named_in_the_vocabulary():
    stage = lifecycle_stage("Article 1\nPersonal data may be transferred where the recipient ensures protection.",
                            today=TODAY)
    assert stage.stage == UNKNOWN_STAGE and stage.rule == "none"
    assert set(STAGES) == {DRAFT, CONSULTATION, ADOPTED, IN_FORCE, REPEALED, UNKNOWN_STAGE}


def test_lifecycle_to_json_carries_the_key_dates():
    data = lifecycle_stage(GDPR_END, today=TODAY).to_json()
    assert data["stage"] == "in_force" and data["since"] == "2016-05-24"
    assert {"entry_into_force", "application", "repeal"} <= {d["kind"] for d in data["dates"]}


@pytest.mark.parametrize("title", [
    "国务院关于废止和修改部分行政法规的决定",  # a decision that repeals other regulations
    "Regulation (EU) 2016/679 … repealing Directive 95/46/EC (General Data Protection Regulation)",
    "Ley por la que se deroga el Decreto 1377 de 2013",
])
def test_a_title_that_repeals_others_names_no_stage(title: str):
    stage = lifecycle_stage(ENACTED, today=TODAY, title=title)
    assert (stage.stage, stage.rule) == (IN_FORCE, "entry into force")


def test_entry_into_force_on_today_is_in_force():
    assert lifecycle_stage(ENACTED, today=date(2025, 1, 1)).stage == IN_FORCE
    assert lifecycle_stage(ENACTED, today=date(2024, 12, 31)).stage == ADOPTED
