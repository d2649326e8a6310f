"""`policywatch extract FILE|URL`: what a crawl would watch on real saved pages and on a loopback
page, read automatically or with a declaration's `extract` rules and languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policywatch.demoweb.sites import CAC
from tests.conftest import ROOT, invoke_cli
from tests.web.sites import write_declarations

REALPAGES = ROOT.parent / "shared" / "realpages"
PRIVACY_POLICY = REALPAGES / "pages" / "www.meetic.fr" / "meetic-privacy-policy.html"
needs_realpages = pytest.mark.skipif(
    not PRIVACY_POLICY.exists(), reason=f"the saved real pages are not in {REALPAGES}")


def manifest_phrases(page: Path) -> tuple[list[str], list[str]]:
    """The MANIFEST's phrases that must be in the page's main text, and the chrome that must not."""
    relative = page.relative_to(REALPAGES).as_posix()
    lines = (REALPAGES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    row = next(dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]
               if line.startswith(f"{relative}\t"))
    return ([p for p in row["must_contain"].split(" || ") if p],
            [p for p in row.get("must_not_contain", "").split(" || ") if p])


def write_declaration(folder: Path, extract: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fr-meetic.yaml").write_text(f"""\
id: fr-meetic
name: A privacy policy saved from a real site
jurisdiction: FR
level: national
body: regulator
languages: [fr]
relevance: all
entries:
  - type: document
    url: https://www.meetic.fr/privacy
extract:
{extract}""")
    return folder


@needs_realpages
def test_a_real_page_read_automatically_keeps_its_main_text():
    result = invoke_cli("extract", str(PRIVACY_POLICY), "--format", "json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert set(report) == {"title", "published", "text", "characters", "visible_characters",
                           "doc_type", "warnings", "block"}
    must, must_not = manifest_phrases(PRIVACY_POLICY)
    assert all(phrase in report["text"] for phrase in must)
    assert not any(chrome in report["text"] for chrome in must_not)
    assert report["doc_type"] == "html" and report["warnings"] == []
    assert report["characters"] == len(report["text"])
    assert 0.9 * report["visible_characters"] <= report["characters"] <= report["visible_characters"]
    assert "#article_content" in report["block"]


@needs_realpages
def test_the_text_form_gives_the_share_and_the_block_then_the_text():
    result = invoke_cli("extract", str(PRIVACY_POLICY))
    assert result.code == 0, result.stderr
    head, _, text = result.stdout.partition("\n\n")
    assert "title:      POLITIQUE DE CONFIDENTIALITÉ" in head
    assert re.search(r"^characters: +[\d,]+ of [\d,]+ visible \(\d+%\)$", head, re.M)
    assert re.search(r"^block: +body > div#article_content", head, re.M)
    assert manifest_phrases(PRIVACY_POLICY)[0][-1] in text


@needs_realpages
def test_a_declared_selector_that_keeps_a_sliver_says_so(tmp_path):
    sources = write_declaration(tmp_path / "sources", '  content: "h3#CH1"\n')
    result = invoke_cli("extract", str(PRIVACY_POLICY), "--sources", str(sources),
                        "--source", "FR-Meetic", "--format", "json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["text"] == "1. Qui sommes-nous ?"
    assert report["block"] == "declared selector 'h3#CH1'"
    assert report["warnings"] == [
        f"watching {report['characters']} of {report['visible_characters']:,} visible characters"]
    text = invoke_cli("extract", str(PRIVACY_POLICY), "--sources", str(sources),
                      "--source", "fr-meetic")
    assert "warning:    watching 20 of 38,844 visible characters" in text.stdout


def test_an_unknown_source_or_file_is_one_line(tmp_path):
    sources = write_declaration(tmp_path / "sources", '  content: "main"\n')
    unknown = invoke_cli("extract", str(tmp_path / "page.html"), "--sources", str(sources),
                         "--source", "fr-meetc")
    assert unknown.code == 1 and "did you mean fr-meetic?" in unknown.stderr
    missing = invoke_cli("extract", str(tmp_path / "page.html"))
    assert missing.code == 1
    assert missing.stderr.strip() == f"Error: {tmp_path / 'page.html'}: cannot read: No such file or directory"


def test_standard_input_is_read_as_a_text(tmp_path):
    result = invoke_cli("extract", "-", "--format", "json", stdin="Article 1\n\nPersonal data may leave.\n")
    assert result.code == 0, result.stderr
    assert result.json()["doc_type"] == "text" and "Personal data may leave." in result.json()["text"]


def test_a_loopback_page_is_read_with_its_sources_languages(web, tmp_path):
    """The CAC site answers in GBK without a charset: the declaration's `languages: [zh]` reads it."""
    sources = write_declarations(web, tmp_path / "sources")
    url = web.url(CAC, "/2021-08/20/c_1631050028355286.htm")
    result = invoke_cli("extract", url, "--sources", str(sources), "--source", "cn-cac",
                        "--format", "json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert "个人信息保护法" in report["title"]
    assert "第三十八条" in report["text"] and report["warnings"] == []
    assert report["visible_characters"] >= report["characters"] > 500
