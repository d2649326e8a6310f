"""A crawl keeps the 404/410 answers of each host unread until a new or changed page of that host
has to be compared with them: a re-check that finds every page unchanged extracts none."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from crawlers.pipelines import UNREAD_ERROR_ANSWERS, RecordPipeline, UnreadErrorAnswer
from crawlers.spiders.declared import DeclaredSpider

TEMPLATE = ("<html><head><title>Page not found</title></head><body><main><h1>Page not found</h1>"
            "<p>The page {path} you asked for does not exist on this site. Use the search box "
            "or the site map to find what you were looking for, or go back to the home page of "
            "the authority.</p></main></body></html>")


def not_found(host: str, path: str) -> UnreadErrorAnswer:
    return UnreadErrorAnswer(f"https://{host}{path}", 404, TEMPLATE.format(path=path).encode(),
                             "text/html; charset=utf-8", ("en",))


def pipeline(tmp_path) -> RecordPipeline:
    crawler = get_crawler(DeclaredSpider, {"POLICYWATCH_DB": f"sqlite:///{tmp_path / 'store.sqlite'}"})
    return RecordPipeline(crawler)


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
