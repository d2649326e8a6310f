"""Links between instruments: references read from real passages with their kind, quote and
provision; resolved in a real store to the instruments it holds, also when the cited instrument
arrives later; shown by `show`. Whole texts are read from `../shared/corpus/` and
`../shared/corpus-dev/`, never copied in."""

from __future__ import annotations

from pathlib import Path

import pytest

from paradigms.instrument_links import celex_number, find_links, find_references, title_key
from storage.database import Store
from storage.links import instrument_links, relink_store, repealed_by
from storage.models import Instrument, InstrumentLink
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, record_document
from tests.conftest import run_cli
from texts.document import Extracted

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def kinds(text: str, title: str = "") -> list[tuple[str, str]]:
    return [(link.kind, link.key) for link in find_links(text, title)]


# Passages as the instruments write them (EU acts in their official language versions).
@pytest.mark.parametrize(("passage", "expected"), [
    ("Directive 97/66/EC is hereby repealed with effect from the date referred to in Article 17(1).",
     [("repeals", "eu:L1997/66")]),
    ("第五十八条 本条例自2016年1月1日起施行。国务院1995年7月10日发布的《中华人民共和国地图编制出版管理条例》同时废止。",
     [("repeals", "title:地图编制出版管理条例")]),
    ("ARTÍCULO 48. Se deroga la Ley N° 17.838, de 24 de setiembre de 2004.", [("repeals", "law:17838")]),
    ("La directive 95/46/CE est abrogée avec effet au 25 mai 2018.", [("repeals", "eu:L1995/46")]),
    ("Die Richtlinie 95/46/EG wird mit Wirkung vom 25. Mai 2018 aufgehoben.", [("repeals", "eu:L1995/46")]),
    ("Queda derogada la Directiva 95/46/CE con efecto a partir del 25 de mayo de 2018.",
     [("repeals", "eu:L1995/46")]),
    ("A Diretiva 95/46/CE é revogada com efeitos a partir de 25 de maio de 2018.", [("repeals", "eu:L1995/46")]),
    ("Art. 60. Fica revogada a Lei nº 12.965, de 23 de abril de 2014.", [("repeals", "law:12965")]),
    ("Article 35\nAmendment to Regulation (EU) 2018/1724\nIn the table in Annex II to Regulation (EU) 2018/1724, "
     "the entry ‘Starting, running and closing a business’ is replaced by the following:",
     [("amends", "eu:R2018/1724")]),
    ("第一条 为了规范网络数据处理活动，保障网络数据安全，根据《中华人民共和国网络安全法》、《中华人民共和国数据安全法》、"
     "《中华人民共和国个人信息保护法》等法律，制定本条例。",
     [("implements", "title:网络安全法"), ("implements", "title:数据安全法"), ("implements", "title:个人信息保护法")]),
    ("Network data processors that provide personal information abroad shall do so in accordance with "
     "Article 38 of the Personal Information Protection Law.",
     [("implements", "title:personal information protection law")]),
    ("Having regard to Regulation (EU) 2016/679 of the European Parliament and of the Council of 27 April 2016 "
     "on the protection of natural persons with regard to the processing of personal data and on the free "
     "movement of such data, and repealing Directive 95/46/EC (General Data Protection Regulation),",
     [("implements", "eu:R2016/679"), ("cites", "eu:L1995/46")]),
    ("Vu le règlement (UE) 2016/679 du Parlement européen et du Conseil du 27 avril 2016,",
     [("implements", "eu:R2016/679")]),
    ("By the authority vested in me as President by the Constitution and the laws of the United States of "
     "America, including the International Emergency Economic Powers Act (50 U.S.C. 1701 et seq.) (IEEPA), "
     "the National Emergencies Act (50 U.S.C. 1601 et seq.) (NEA), it is hereby ordered:",
     [("implements", "title:international emergency economic powers act"),
      ("implements", "title:national emergencies act")]),
    ("申请经营增值电信业务的，应当取得《增值电信业务经营许可证》。", []),  # a licence is no instrument
    # Negated, conditional, or a provision of another act: no repeal by this text.
    ("Nothing in this Act shall be construed as to have amended or repealed Republic Act No. 1405.",
     [("cites", "law:1405")]),
    ("Authorisations by a Member State or supervisory authority on the basis of Article 26(2) of Directive "
     "95/46/EC shall remain valid until amended, replaced or repealed, if necessary, by that supervisory "
     "authority.", [("cites", "eu:L1995/46")]),
    ("第五十九条 初次违法且危害后果轻微并及时改正的，依照《中华人民共和国行政处罚法》的规定从轻、减轻或者不予行政处罚。",
     [("cites", "title:行政处罚法")]),
])
def test_passages_give_their_links(passage, expected):
    assert kinds(passage) == expected


def test_a_link_carries_its_quote_and_provision():
    text = ("Article 4\n1. Decision 2001/497/EC is repealed with effect from 27 September 2021.\n"
            "Article 5\nThis Decision shall enter into force on the twentieth day following that of its "
            "publication.")
    [link] = find_links(text)
    assert (link.kind, link.cited, link.provision) == ("repeals", "Decision 2001/497/EC", "Article 4")
    assert link.quote == "1. Decision 2001/497/EC is repealed with effect from 27 September 2021."


def test_an_instrument_does_not_link_to_itself():
    title = "Implementing decision - 2021/914 - EN - EUR-Lex"
    text = ("COMMISSION IMPLEMENTING DECISION (EU) 2021/914\nof 4 June 2021\non standard contractual clauses\n"
            "Having regard to Regulation (EU) 2016/679,\nArticle 5\nThis Decision is addressed to the Member "
            "States.")
    assert kinds(text, title) == [("implements", "eu:R2016/679")]


def test_references_in_each_written_form_give_one_key():
    assert {r.key for r in find_references("Regulation (EU) 2016/679, règlement (UE) 2016/679, "
                                           "Verordnung (EU) 2016/679")} == {"eu:R2016/679"}
    assert [r.key for r in find_references("Regulation (EC) No 45/2001")] == ["eu:R2001/45"]
    # EUR-Lex page titles
    assert [r.key for r in find_references("Implementing decision - 2021/914 - EN - EUR-Lex")] == ["eu:D2021/914"]
    assert [r.key for r in find_references("Executive Order 14117 and Undang-Undang Nomor 11 Tahun 2008")] == [
        "eo:14117", "law:11/2008"]
    assert title_key("中华人民共和国个人信息保护法（第三章）") == title_key("《个人信息保护法》") == "title:个人信息保护法"
    assert celex_number("eu:R2016/679") == "32016R0679" and celex_number("eu:L1995/46") == "31995L0046"


def test_short_titles_are_not_sentence_openers_or_this_act():
    assert kinds("This Act shall apply. Subject to this Act, the Board to Act on the Application of Act.") == []


CORPUS_LINKS = {
    # file: the links other than `cites`, as an analyst reads them
    "corpus/eu-scc-decision-2021-914.md": {("implements", "eu:R2016/679"), ("repeals", "eu:D2001/497"),
                                          ("repeals", "eu:D2010/87"), ("implements", "eu:R2018/1725")},
    "corpus/cn-network-data-regulations-2024.md": {("implements", "title:网络安全法"), ("implements", "title:数据安全法"),
                                                  ("implements", "title:个人信息保护法")},
    "corpus-dev/cn-map-regulations-2015.md": {("implements", "title:测绘法"), ("repeals", "title:地图编制出版管理条例")},
    "corpus-dev/eu-eprivacy-directive-2002.md": {("repeals", "eu:L1997/66")},
    "corpus-dev/uy-ley-18331-datos-personales-2008.md": {("repeals", "law:17838")},
    "corpus/eu-gdpr-chapter-v.md": set(),
    "corpus/cn-pipl-2021.md": set(),
}


@pytest.mark.parametrize("name", sorted(CORPUS_LINKS))
def test_real_texts_give_the_links_an_analyst_reads(name):
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"no {path}")
    text = path.read_text(encoding="utf-8")
    found = {(link.kind, link.key) for link in find_links(text, text.split("\n", 1)[0])
             if link.kind != "cites"}
    assert found == CORPUS_LINKS[name]


# ------------------------------------------------------------------------------------ store

def _record(store: Store, source: SourceInfo, url: str, title: str, text: str) -> None:
    with store.transaction() as session:
        record_document(session, None, source, Fetch(source.id, url, url, 200, {}, text.encode()),
                        Extracted(title=title, text=text, published=None, doc_type="text", encoding="utf-8"))


def _uid(store: Store, url: str) -> str:
    with store.sessions() as session:
        found = session.query(Instrument).filter(Instrument.url == url).one()
        return found.uid


SCC_TEXT = ("Article 1\nThe standard contractual clauses set out in the Annex are considered to provide "
            "appropriate safeguards pursuant to Article 46(1) and (2)(c) of Regulation (EU) 2016/679.\n"
            "Article 4\n2. Decision 2001/497/EC is repealed with effect from 27 September 2021.\n")
OLD_TEXT = ("Article 1\nThe standard contractual clauses set out in the Annex are considered as offering "
            "adequate safeguards with respect to the protection of the privacy of individuals.\n")


def _eu_store(url: str) -> tuple[Store, SourceInfo]:
    """A new store at `url` with one EU source, `eu-test`, and that source."""
    store = Store(url)
    with store.transaction() as session:
        upsert_source(session, id="eu-test", name="Test", jurisdiction="EU", level="supranational",
                      declaration_file=None)
    return store, SourceInfo("eu-test", "EU", "supranational", "en")


def _record_scc_and_gdpr(store: Store, eu: SourceInfo) -> None:
    """The 2021 SCC decision (citing the GDPR and repealing Decision 2001/497/EC), then the GDPR."""
    _record(store, eu, "https://eur-lex.example/eli/dec_impl/2021/914", "Implementing decision - 2021/914",
            SCC_TEXT)
    _record(store, eu, "https://eur-lex.example/legal-content/EN/TXT/?uri=CELEX:32016R0679",
            "General Data Protection Regulation", "Article 44\nAny transfer of personal data ...\n")


def test_links_resolve_to_known_instruments_also_when_the_target_comes_later(store):
    eu = SourceInfo("eu-test", "EU", "supranational", "en")
    _record_scc_and_gdpr(store, eu)
    scc = _uid(store, "https://eur-lex.example/eli/dec_impl/2021/914")
    with store.sessions() as session:
        found = session.query(Instrument).filter(Instrument.uid == scc).one()
        rows = {row.cited: row for row in instrument_links(session, found.id)}
    # The GDPR came after the decision citing it: resolved by its CELEX number in the URL.
    assert rows["Regulation (EU) 2016/679"].kind == "implements"
    assert rows["Regulation (EU) 2016/679"].other is not None
    assert rows["Decision 2001/497/EC"].other is None  # not (yet) in the store
    _record(store, eu, "https://eur-lex.example/dec/2001/497",
            "Commission Decision 2001/497/EC on standard contractual clauses", OLD_TEXT)
    old = _uid(store, "https://eur-lex.example/dec/2001/497")
    with store.sessions() as session:
        target = session.query(Instrument).filter(Instrument.uid == old).one()
        incoming = instrument_links(session, target.id)
        assert [(r.direction, r.reads, r.other, r.provision) for r in incoming] == [
            ("incoming", "repealed by", scc, "Article 4")]
        assert repealed_by(session) == {target.id: [scc]}


def test_relinking_a_store_reads_every_latest_version_again(store):
    cn = SourceInfo("eu-test", "CN", "national", "zh")
    _record(store, cn, "https://flk.example/map-1995", "中华人民共和国地图编制出版管理条例",
            "第一条 为了加强地图编制出版管理，制定本条例。\n")
    _record(store, cn, "https://flk.example/map-2015", "地图管理条例",
            "第一条 为了加强地图管理，制定本条例。\n第五十八条 本条例自2016年1月1日起施行。"
            "国务院1995年7月10日发布的《中华人民共和国地图编制出版管理条例》同时废止。\n")
    with store.transaction() as session:
        session.query(InstrumentLink).delete()
    counts = relink_store(store)
    assert counts == {"instruments": 2, "links": 1, "resolved": 1}
    with store.sessions() as session:
        old = session.query(Instrument).filter(Instrument.url == "https://flk.example/map-1995").one()
        assert list(repealed_by(session)) == [old.id]


def _repealing_store(tmp_path: Path) -> tuple[str, str, str]:
    """A store holding Decision 2001/497/EC and the 2021 SCC decision that repeals it: (its URL,
    the old decision's id, the SCC decision's id)."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store, eu = _eu_store(url)
    _record(store, eu, "https://eur-lex.example/dec/2001/497", "Commission Decision 2001/497/EC", OLD_TEXT)
    _record(store, eu, "https://eur-lex.example/eli/dec_impl/2021/914", "Implementing decision - 2021/914",
            SCC_TEXT)
    old, scc = _uid(store, "https://eur-lex.example/dec/2001/497"), _uid(store, "https://eur-lex.example/eli/dec_impl/2021/914")
    store.close()
    return url, old, scc


def test_show_prints_the_links_both_ways(tmp_path):
    url, old, scc = _repealing_store(tmp_path)
    shown = run_cli("show", old, db=url)
    assert shown.code == 0, shown.stderr
    assert f"repealed by:   {scc}\n" in shown.stdout  # in the header, and in the links below
    assert [line.split()[:2] for line in shown.stdout.split("links:\n")[1].splitlines()[2:3]] == [
        ["incoming", "repealed"]]
    data = run_cli("show", scc, "--format", "json", db=url).json()
    assert {(link["direction"], link["kind"], link["instrument"]) for link in data["links"]} == {
        ("outgoing", "implements", None), ("outgoing", "repeals", old)}


def test_the_web_view_shows_the_links_both_ways(tmp_path):
    from policywatch.web.app import instrument_path
    from tests.test_serve import start_server, stop_server

    url, old, scc = _repealing_store(tmp_path)
    server = start_server(url)
    try:
        page = server.get(instrument_path(old))
        assert page.status == 200
        assert f'<dt>repealed by</dt><dd><a href="{instrument_path(scc)}">' in page.text
        assert "Decision 2001/497/EC is repealed with effect from 27 September 2021." in page.text
        assert server.get(f"/api/instrument/{old}").json()["repealed_by"] == [scc]
        api = server.get(f"/api/instrument/{scc}").json()
        assert [(link["reads"], link["instrument"]) for link in api["links"]] == [
            ("implements", None), ("repeals", old)]
    finally:
        stop_server(server)


def test_a_numbered_law_resolves_within_the_citing_jurisdiction(store):
    uruguay, elsewhere = SourceInfo("eu-test", "UY", "national", "es"), SourceInfo("eu-test", "AR", "national", "es")
    _record(store, elsewhere, "https://ar.example/ley-17838", "Ley 17.838 (otra)", "Artículo 1\nOtra ley.\n")
    _record(store, uruguay, "https://uy.example/ley-17838", "Ley N° 17.838 - Protección de datos personales",
            "Artículo 1\nLa presente ley regula los datos comerciales.\n")
    _record(store, uruguay, "https://uy.example/ley-18331", "Ley N° 18.331 - Protección de datos personales",
            "ARTÍCULO 48\nSe deroga la Ley N° 17.838, de 24 de setiembre de 2004.\n")
    with store.sessions() as session:
        repealing = session.query(Instrument).filter(Instrument.url == "https://uy.example/ley-18331").one()
        [link] = instrument_links(session, repealing.id)
        assert (link.kind, link.other, link.provision) == (
            "repeals", _uid(store, "https://uy.example/ley-17838"), "Artículo 48")


def test_a_store_made_before_the_keys_were_kept_resolves_the_same_after_the_upgrade(tmp_path: Path):
    """Downgraded to 0013 (no instrument keys, links without theirs) and opened again: 0014 keeps
    every instrument's keys and every link's, and a waiting link still resolves when the
    instrument it names comes."""
    from alembic import command
    from sqlalchemy import text

    from paradigms.instrument_links import identity_keys
    from storage.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store, eu = _eu_store(url)
    _record_scc_and_gdpr(store, eu)
    command.downgrade(alembic_config(store.engine), "0013")
    store.close()
    store = Store(url)  # migrates to the newest revision, which keeps the keys of what is there
    with store.engine.connect() as connection:
        kept = set(connection.execute(text("select instrument_id, key from instrument_keys")))
        expected = {(instrument_id, key) for instrument_id, title, address in connection.execute(
            text("select id, title, url from instruments")) for key in identity_keys(title, address)}
        assert kept == expected and ("eu:R2016/679" in {key for _, key in kept})
        assert set(connection.execute(text("select cited, key from instrument_links"))) == {
            ("Regulation (EU) 2016/679", "eu:R2016/679"), ("Decision 2001/497/EC", "eu:D2001/497")}
    _record(store, eu, "https://eur-lex.example/dec/2001/497",
            "Commission Decision 2001/497/EC on standard contractual clauses", OLD_TEXT)
    with store.sessions() as session:
        old = session.query(Instrument).filter(Instrument.url == "https://eur-lex.example/dec/2001/497").one()
        assert repealed_by(session) == {old.id: [_uid(store, "https://eur-lex.example/eli/dec_impl/2021/914")]}
    store.close()


def test_an_instrument_renamed_by_a_new_version_is_found_by_its_new_name(store):
    """The keys follow the title: a text citing the new name resolves to the renamed instrument,
    and one citing the old name no longer does."""
    cn = SourceInfo("eu-test", "CN", "national", "zh")
    _record(store, cn, "https://flk.example/pipl", "个人信息保护条例（草案）", "第一条 为了保护个人信息，制定本条例。\n")
    _record(store, cn, "https://flk.example/pipl", "中华人民共和国个人信息保护法",
            "第一条 为了保护个人信息权益，制定本法。\n")
    _record(store, cn, "https://flk.example/measures", "数据出境安全评估办法",
            "第一条 根据《中华人民共和国个人信息保护法》，制定本办法。\n"
            "第二条 《个人信息保护条例》的规定不适用。\n")
    pipl = _uid(store, "https://flk.example/pipl")
    with store.sessions() as session:
        measures = session.query(Instrument).filter(Instrument.url == "https://flk.example/measures").one()
        others = {row.cited: row.other for row in instrument_links(session, measures.id)}
    assert others["《中华人民共和国个人信息保护法》"] == pipl
    assert others["《个人信息保护条例》"] is None
