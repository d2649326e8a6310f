"""The pure parts that keep the crawl safe on a hostile web: declared hosts and ports, internal
addresses, where a redirected document lives, linear-time patterns, and abysmally nested pages."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.catalogue import parse_declaration
from crawlers.extract import MAX_NESTING, extract_document, nesting_depth
from crawlers.hosts import address_allowed, origin_allowed, url_allowed, url_origin
from crawlers.links import compile_follow, keep_links
from crawlers.page_report import page_report
from crawlers.spiders.declared import instrument_url
from tests.conftest import run_cli
from texts.document import ExtractionError
from texts.vocabulary import MAX_LINK_LENGTH

DECLARED = frozenset({url_origin("http://www.regulator.example/laws"),
                      url_origin("http://127.0.0.1:8001/")})


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://www.regulator.example/a", True),
    ("https://regulator.example/a", True),  # the www. twin, upgraded to https
    ("https://docs.regulator.example:443/a", True),
    ("http://regulator.example:8080/a", False),  # another port of a declared host
    ("http://127.0.0.1:8001/a", True),
    ("http://127.0.0.1:8002/a", False),
    ("http://127.0.0.1/a", False),
    ("http://localhost:8001/a", False),  # another name of the same machine
    ("ftp://www.regulator.example/a", False),
    ("http://regulator.example:99999/a", False),  # no such port
    ("http://regulator.example.evil.example/a", False),
])
def test_declared_hosts_and_ports(url, allowed):
    assert url_allowed(url, DECLARED) is allowed


def test_origins_read_default_ports_as_none():
    assert url_origin("https://Regulator.Example:443/x") == ("regulator.example", None)
    assert url_origin("http://regulator.example:8443/x") == ("regulator.example", 8443)
    assert origin_allowed(("regulator.example", 8443), {("regulator.example", 8443)})


@pytest.mark.parametrize(("address", "declared", "allowed"), [
    ("93.184.215.14", [], True),
    ("127.0.0.1", [], False),
    ("10.1.2.3", ["93.184.215.14"], False),
    ("169.254.169.254", [], False),  # the cloud metadata service
    ("::1", [], False),
    ("fe80::1", [], False),
    ("0.0.0.0", [], False),
    ("127.0.0.1", ["127.0.0.1"], True),  # the declared host itself is on loopback
    ("10.1.2.3", ["10.1.2.3"], True),  # an intranet regulator
])
def test_internal_addresses_only_where_a_declared_host_is(address, declared, allowed):
    assert address_allowed(address, declared) is allowed


@pytest.mark.parametrize(("reasons", "expected"), [
    ([], "http://r.example/c"),
    ([301, 308], "http://r.example/c"),
    ([302, 301], "http://r.example/a"),
    ([301, 307], "http://r.example/b"),
])
def test_a_document_lives_where_permanent_redirects_lead(reasons, expected):
    chain = ["http://r.example/a", "http://r.example/b"][: len(reasons)]
    request = Request("http://r.example/c", meta={"redirect_urls": chain, "redirect_reasons": reasons})
    response = HtmlResponse(request.url, request=request, body=b"<p>x</p>")
    assert instrument_url(response) == expected


def test_a_catastrophic_follow_pattern_runs_in_linear_time():
    pattern = compile_follow("(a+)+$")
    hostile = "http://www.regulator.example/" + "a" * 100_000 + "!"
    assert pattern.search(hostile) is None  # a backtracking engine would not finish
    kept = keep_links([hostile, "http://www.regulator.example/" + "a" * MAX_LINK_LENGTH,
                       "http://www.regulator.example/aaa"], DECLARED, "(a+)+$")
    assert kept == ["http://www.regulator.example/aaa"]


def test_a_pattern_the_linear_engine_refuses_is_one_line_in_the_declaration():
    text = ("id: r\nname: R\njurisdiction: GB\nlevel: national\nbody: regulator\nentries:\n"
            "  - type: listing\n    url: http://r.example/\n    links: a\n    follow: '(?=x)a'\n")
    source, errors = parse_declaration(text, "r.yaml")
    assert source is None and len(errors) == 1
    assert errors[0].field == "entries[0].follow"
    assert "RE2" in errors[0].reason and "\n" not in str(errors[0])


@pytest.mark.timeout(60)  # a guard against a hang, not a measure: without the refusal it took minutes
@pytest.mark.parametrize("close", [True, False])
def test_a_page_nested_100000_levels_deep_is_refused_in_one_line(close):
    levels = 100_000
    page = "<html><body>" + "<div>" * levels + "<p>Article 49.</p>" + ("</div>" * levels if close else "")
    with pytest.raises(ExtractionError) as refused:
        extract_document(page.encode(), "text/html")
    assert str(refused.value) == f"the page nests its elements more than {MAX_NESTING} levels deep: refused unread"
    assert page_report(page.encode(), "text/html")["warnings"] == [str(refused.value)]


def test_a_page_nested_within_the_limit_is_read():
    page = "<html><body>" + "<div>" * 100 + "<p>Article 49. Transfers.</p>" + "</div>" * 100
    assert nesting_depth(page) > 100
    assert "Article 49" in extract_document(page.encode(), "text/html").text


def test_sources_check_refuses_a_pattern_in_one_line_and_accepts_a_catastrophic_one(tmp_path):
    head = ("name: R\njurisdiction: GB\nlevel: national\nbody: regulator\nentries:\n"
            "  - type: listing\n    url: http://r.example/\n    links: a\n")
    (tmp_path / "look.yaml").write_text(f"id: look\n{head}    follow: '(?<=x)a'\n")
    (tmp_path / "nested.yaml").write_text(f"id: nested\n{head}    follow: '(a+)+$'\n")
    checked = run_cli("sources", "check", "--offline", "--sources", str(tmp_path))
    assert checked.code == 1
    errors = [line for line in (checked.stdout + checked.stderr).splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "look.yaml: entries[0].follow:" in errors[0] and "RE2" in errors[0]
