"""Automatic main-content extraction on real saved public-sector pages (`../shared/realpages/`).

Each MANIFEST row names phrases the extracted text must hold and page chrome it must not; the
pages are read where they are, never copied here. `bench/extraction.py` prints the same check
with the cost per page and the other approaches measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.extraction import failure_reason, load_manifest

REALPAGES = Path(__file__).resolve().parents[1].parent / "shared" / "realpages"

# Pages whose phrases automatic detection does not reach, each with the reason.
KNOWN_FAILURES = {
    "pages/transparency.fb.com/facebook-community-guidelines.html":
        "section headings (<h6>) above lists of links are dropped with the lists as navigation",
    "pages/fr.linkedin.com/linkedin-privacy-policy.html":
        "one expandable section, a whole policy chapter nested in an <ol> item, is dropped by "
        "trafilatura although it is revealed",
    "pages/twitter.com/twitter-terms-of-service.html":
        "a paragraph made of one link ('Archive des Conditions précédentes') is dropped as a link",
    "pages/www.youtube.com/youtube-community-guidelines.html":
        "a 'learn more' link alone in a list item is dropped as a link",
}


def _rows() -> list:
    if not (REALPAGES / "MANIFEST.tsv").exists():
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"the real pages are not here: {REALPAGES} is absent"), id="realpages-absent")]
    return [pytest.param(page, id=page.file.removeprefix("pages/"), marks=(
        [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[page.file])]
        if page.file in KNOWN_FAILURES else []))
        for page in load_manifest(REALPAGES)]


@pytest.mark.parametrize("page", _rows())
def test_real_page_keeps_its_main_text_and_no_chrome(page, real_page_text):
    assert failure_reason(page, real_page_text(page)) is None
