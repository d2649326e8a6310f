"""A crawl keeps the 404/410 answers of each host unread until a new or changed page of that host
has to be compared with them: a re-check that finds every page unchanged extracts none."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from crawlers import pipelines
from crawlers.pipelines import UNREAD_ERROR_ANSWERS, RecordPipeline, UnreadErrorAnswer
from crawlers.spiders.declared import DeclaredSpider
from storage.queries import KnownInstrument

TEMPLATE = ("<html><head><title>Page not found</title></head><body><main><h1>Page not found</h1>"
            "<p>The page {path} you asked for does not exist on this site. Use the search box "
            "or the site map to find what you were looking for, or go back to the home page of "
            "the authority.</p></main></body></html>")


def not_found(host: str, path: str) -> UnreadErrorAnswer:
    return UnreadErrorAnswer(f"https://{host}{path}", 404, TEMPLATE.format(path=path).encode(),
                             "text/html; charset=utf-8", ("en",))


def pipeline(tmp_path, recheck: bool = True) -> RecordPipeline:
    """The crawl's pipeline; `recheck`: the store knows an instrument already."""
    crawler = get_crawler(DeclaredSpider, {"POLICYWATCH_DB": f"sqlite:///{tmp_path / 'store.sqlite'}"})
    kept = RecordPipeline(crawler)
    if recheck:
        kept.known = {1: KnownInstrument(1, "src", "https://regulator.example/law", None, None,
                                         "active", "0" * 64, 0)}
    return kept


def test_error_answers_wait_unread_until_a_page_is_compared(tmp_path):
    kept = pipeline(tmp_path)
    for n in range(UNREAD_ERROR_ANSWERS - 1):
        kept._keep_error_answer(not_found("regulator.example", f"/missing-{n}"))
    kept._keep_error_answer(not_found("other.example", "/robots.txt"))
    assert kept.error_answers == {}  # nothing extracted yet
    answers = kept._read_error_answers("regulator.example")
    assert len(answers) == 1  # one template, whatever path it echoes
    assert answers[0].url == "https://regulator.example/missing-0"
    assert "other.example" in kept.unread_answers  # another host's answer is still unread


def test_a_host_with_many_error_answers_has_them_read_a_few_at_a_time(tmp_path):
    kept = pipeline(tmp_path)
    for n in range(UNREAD_ERROR_ANSWERS):
        kept._keep_error_answer(not_found("regulator.example", f"/missing-{n}"))
    assert "regulator.example" not in kept.unread_answers  # read once that many waited
    assert [answer.status for answer in kept.error_answers["regulator.example"]] == [404]
    kept._keep_error_answer(UnreadErrorAnswer("https://regulator.example/gone", 410, b"Gone for good",
                                              "text/plain", ()))
    assert [answer.status for answer in kept._read_error_answers("regulator.example")] == [404, 410]


def test_a_first_crawl_reads_each_error_answer_as_it_comes(tmp_path):
    kept = pipeline(tmp_path, recheck=False)  # every page will be new: each will be compared
    kept._keep_error_answer(not_found("regulator.example", "/robots.txt"))
    assert kept.unread_answers == {} and len(kept.error_answers["regulator.example"]) == 1


def test_an_error_answer_that_cannot_be_read_costs_nothing_else(tmp_path, monkeypatch):
    """Reading an old 404 fails (a fault injected into its extraction): the page being compared
    is still recorded, and the host's other answers are still read."""
    extract = pipelines.extract_with_block

    def failing_on_broken(body, content_type, extract_settings, languages, url):
        if url.endswith("/broken"):
            raise RuntimeError("a parser fault")
        return extract(body, content_type, extract_settings, languages, url)

    monkeypatch.setattr(pipelines, "extract_with_block", failing_on_broken)
    kept = pipeline(tmp_path)
    kept._keep_error_answer(not_found("regulator.example", "/broken"))
    kept._keep_error_answer(not_found("regulator.example", "/missing"))
    assert [answer.url for answer in kept._read_error_answers("regulator.example")] == \
        ["https://regulator.example/missing"]
