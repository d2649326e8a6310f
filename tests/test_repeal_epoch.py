"""A repeal crawled on the loopback web: in epoch 1 a regulator publishes one regulation; in
epoch 2 it adds a new regulation whose text repeals the first by its number. The store resolves
the link to the instrument it holds, `show` names the repealing instrument on both ends, the
report no longer counts the old one in force, and the web API gives the link too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from policywatch.demoweb.server import LoopbackWeb, Page, html_page, regulator_page
from policywatch.demoweb.texts import to_html
from tests.conftest import run_cli

REPEAL_SITE = "repeal"
OLD_TITLE = "Regulation (EU) 2019/1234 on transfers of personal data to third countries"
OLD_TEXT = """Article 1 Subject matter
This Regulation lays down rules on transfers of personal data to third countries and international organisations.
Article 2 Safeguards
A transfer of personal data to a third country may take place where the controller has provided appropriate safeguards.
Article 3 Entry into force
This Regulation shall enter into force on 1 June 2019."""
NEW_TITLE = "Regulation (EU) 2026/77 on cross-border data flows"
NEW_TEXT = """Article 1 Subject matter
This Regulation lays down rules on cross-border flows of personal data and non-personal data.
Article 2 Free flow
Personal data may be transferred to any third country on the basis of standard contractual clauses or certification.
Article 30 Repeal
Regulation (EU) 2019/1234 is repealed.
Article 31 Entry into force
This Regulation shall enter into force on 1 March 2026."""
PAGES = {"/regulations/2019-1234": (OLD_TITLE, OLD_TEXT), "/regulations/2026-77": (NEW_TITLE, NEW_TEXT)}
REPEAL_QUOTE = "Article 30 Repeal Regulation (EU) 2019/1234 is repealed"


def repeal_routes(web: LoopbackWeb) -> dict[str, Page]:
    """A listing of the regulator's regulations: the old one, and from epoch 2 the one repealing it."""
    shown = list(PAGES) if web.epoch >= 2 else list(PAGES)[:1]
    routes = {}
    for path in shown:
        title, text = PAGES[path]
        body = to_html(text.replace("\n", "\n\n"))  # one paragraph per line
        routes[path] = html_page(regulator_page("Data Board", title, body, web.noise))
    listing = "".join(f'<a class="doc" href="{path}">{PAGES[path][0]}</a>' for path in shown)
    routes["/regulations/"] = html_page(regulator_page(
        "Data Board", "Regulations", f'<div class="view-content">{listing}</div>', web.noise))
    return routes


def write_declaration(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data-board.yaml").write_text(f"""\
id: data-board
name: Data Board (loopback)
jurisdiction: EU
level: supranational
body: regulator
relevance: all
entries:
  - type: listing
    url: {web.url(REPEAL_SITE, "/regulations/")}
    links: "div.view-content a.doc"
""")
    return folder


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackWeb]:
    web = LoopbackWeb({REPEAL_SITE: ("127.0.0.15", repeal_routes)}).start()
    yield web
    web.stop()


def _uids(db: str) -> dict[str, str]:
    """Title → instrument id, as `history` gives them."""
    return {e["title"]: e["instrument"] for e in run_cli("history", "--format", "json", db=db).json()}


@pytest.fixture(scope="module")
def epochs(loopback, tmp_path_factory) -> dict:
    """The store after epoch 1 (its report then), and after epoch 2."""
    folder = tmp_path_factory.mktemp("repeal")
    sources = write_declaration(loopback, folder / "sources")
    db = f"sqlite:///{folder / 'store.sqlite'}"
    reports = []
    for epoch in (1, 2):
        loopback.set(epoch=epoch, noise=epoch)
        crawled = run_cli("crawl", "--sources", str(sources), db=db)
        assert crawled.code == 0, crawled.stderr
        report = run_cli("report", "--format", "json", db=db)
        assert report.code == 0, report.stderr
        reports.append(report.json())
    uids = _uids(db)
    return {"db": db, "reports": reports, "old": uids[OLD_TITLE], "new": uids[NEW_TITLE]}


def test_the_old_instrument_is_repealed_by_the_new_one(epochs):
    shown = run_cli("show", epochs["old"], "--format", "json", db=epochs["db"])
    assert shown.code == 0, shown.stderr
    info = shown.json()
    assert info["repealed_by"] == [epochs["new"]]
    incoming = [link for link in info["links"] if link["direction"] == "incoming"]
    assert [(link["reads"], link["instrument"], link["quote"]) for link in incoming] == [
        ("repealed by", epochs["new"], REPEAL_QUOTE)]
    table = run_cli("show", epochs["old"], db=epochs["db"]).stdout
    assert f"repealed by:   {epochs['new']}" in table


def test_the_new_instrument_lists_its_repeal_with_the_quote(epochs):
    info = run_cli("show", epochs["new"], "--format", "json", db=epochs["db"]).json()
    assert info["repealed_by"] == []
    assert [(link["direction"], link["kind"], link["cited"], link["instrument"], link["quote"],
             link["provision"]) for link in info["links"]] == [
        ("outgoing", "repeals", "Regulation (EU) 2019/1234", epochs["old"], REPEAL_QUOTE, "Article 30")]
    table = run_cli("show", epochs["new"], db=epochs["db"])
    assert table.code == 0 and "repeals" in table.stdout and epochs["old"] in table.stdout
    assert "Regulation (EU) 2019/1234 is repealed" in table.stdout


def test_the_report_no_longer_counts_the_old_instrument_in_force(epochs):
    before, after = epochs["reports"]
    counted = {call["instrument"] for call in before["calls"]}
    assert counted == {epochs["old"]} and before["left_out"] == {}
    assert {call["instrument"] for call in after["calls"]} == {epochs["new"]}
    assert after["left_out"] == {"repealed by another instrument": [epochs["old"]]}
    assert [cell["in_force"] for cell in after["cells"]] == [1, 1]


def test_the_web_api_gives_the_link_on_both_ends(epochs):
    from tests.test_serve import start_server, stop_server

    server = start_server(epochs["db"])
    try:
        old = server.get(f"/api/instrument/{epochs['old']}")
        assert old.status == 200, old.text
        assert old.json()["repealed_by"] == [epochs["new"]]
        new = server.get(f"/api/instrument/{epochs['new']}").json()
        assert [(link["kind"], link["instrument"], link["quote"]) for link in new["links"]] == [
            ("repeals", epochs["old"], REPEAL_QUOTE)]
        described = server.get("/api/openapi.json").json()
        instrument = Draft202012Validator({"$ref": "#/components/schemas/Instrument",
                                           "components": described["components"]})
        for answer in (old.json(), new):  # links and repealed_by as the API describes them
            instrument.validate(answer)
        assert not instrument.is_valid({**new, "links": [{**new["links"][0], "kind": "abolishes"}]})
        page = server.get(f"/instrument/{epochs['old']}")
        assert page.status == 200 and "repealed by" in page.text and epochs["new"] in page.text
    finally:
        stop_server(server)
