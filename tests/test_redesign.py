"""A real crawl of a regulator whose site template is redesigned: the same instrument text in a
new template (title heading moved out of the content block, wrappers, navigation and footer
different) gives no event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policywatch.demoweb.server import LoopbackWeb
from tests.conftest import run_cli
from tests.web.redesign import redesign_web, write_redesign_declaration


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackWeb]:
    web = redesign_web().start()
    yield web
    web.stop()


@pytest.fixture(scope="module")
def history(loopback, tmp_path_factory) -> list[list[dict]]:
    """The events each crawl added: epoch 1, the redesign (epoch 2), the redesign with new noise."""
    folder = tmp_path_factory.mktemp("redesign")
    sources = write_redesign_declaration(loopback, folder / "sources")
    db = f"sqlite:///{folder / 'store.sqlite'}"
    added, seen = [], 0
    for epoch, noise in ((1, 1), (2, 2), (2, 3)):
        loopback.set(epoch=epoch, noise=noise)
        result = run_cli("crawl", "--sources", str(sources), db=db)
        assert result.code == 0, result.stderr
        events = run_cli("history", "--format", "json", db=db).json()
        added.append(events[: len(events) - seen])
        seen = len(events)
    return added


def test_the_first_crawl_records_the_instrument(history):
    assert [e["change"] for e in history[0]] == ["new"]


def test_a_complete_template_redesign_gives_no_event(history):
    assert history[1] == []


def test_the_redesigned_template_holds_through_noise(history):
    assert history[2] == []
