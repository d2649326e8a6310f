"""`policywatch classify` and `policywatch reclassify` as a user runs them."""

from __future__ import annotations

from policywatch.demoweb.server import pdf_document
from policywatch.demoweb.texts import CORPUS, eo_14117
from tests.conftest import invoke_cli, run_cli


def test_classify_a_file_as_json():
    result = run_cli("classify", str(CORPUS / "eu-gdpr-chapter-v.md"), "--format", "json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["paradigm"] == "prudent" and data["relevant"] is True
    assert {"quote", "provision", "paradigm", "dimension"} <= set(data["evidence"][0])


def test_classify_a_url_in_gbk(web):
    web.set(epoch=1, noise=1)
    url = web.url("cac", "/2021-08/20/c_1631050028355286.htm")
    result = run_cli("classify", url)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("paradigm:  prudent (Prudent and Flexible)")
    assert "第三十八条" in result.stdout


def test_classify_a_pdf_and_standard_input(tmp_path):
    pdf = tmp_path / "rule.pdf"
    pdf.write_bytes(pdf_document("28 CFR 202", eo_14117("Sec. 3.", "Sec. 5."), 1))
    assert run_cli("classify", str(pdf), "--format", "json").json()["paradigm"] == "restrictive"
    piped = invoke_cli("classify", "-", "--format", "json",
                       stdin="第三十七条 个人信息应当在境内存储；确需向境外提供的，应当通过国家网信部门组织的安全评估。")
    assert piped.json()["paradigm"] == "restrictive"


def test_classify_errors_are_one_line(tmp_path):
    missing = run_cli("classify", str(tmp_path / "nope.pdf"))
    assert missing.code == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.4 not really")
    result = run_cli("classify", str(corrupt))
    assert result.code == 1 and "corrupt PDF" in result.stderr


def test_reclassify_updates_labels_without_events(web, tmp_path, db_url):
    from tests.web.sites import write_declarations

    web.set(epoch=1, noise=1)
    sources = write_declarations(web, tmp_path / "sources")
    assert run_cli("crawl", "--sources", str(sources), db=db_url).code == 0
    before = run_cli("history", "--format", "json", db=db_url).json()
    result = run_cli("reclassify", db=db_url)
    assert result.code == 0
    assert f"{len(before)} version(s) classified, 0 relabelled, 0 stage(s) changed, " in result.stdout
    assert f" link(s), {len(before)} event(s) updated" in result.stdout
    assert run_cli("history", "--format", "json", db=db_url).json() == before
    labels = {e["title"]: e["paradigm"] for e in before}
    assert labels["Guidelines on adequacy decisions"] == "prudent"
    assert labels["中华人民共和国个人信息保护法（第三章）"] == "prudent"
    assert labels["28 CFR Part 202 (excerpt)"] == "restrictive"
