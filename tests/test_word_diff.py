"""Word-level diffs and the excerpts cut around them, on real provisions (the PIPL and GDPR
articles the demo web amends) and on hand-written ones (CJK, Spanish accents, a moved word)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import datetime

import click
import pytest

from crawlers.extract import extract_document
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, pipl, to_html
from storage.database import Store
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, record_document
from tests.conftest import ROOT, run_cli
from texts.normalise import normalise_text
from texts.provision_diffs import compare_provisions, diff_provisions
from texts.word_diff import (
    Run,
    change_excerpt,
    excerpt,
    marked_html,
    marked_plain,
    side,
    tokens,
    word_runs,
)


def changed(runs: list[Run]) -> list[tuple[str, str]]:
    return [(run.mark, run.text) for run in runs if run.mark != "equal"]


def test_the_pipl_article_38_amendment_is_one_character():
    old = normalise_text(pipl("第三十八条", "## 第四章"))
    new = old.replace("因业务等需要，确需", "因业务等需要，确须", 1)
    [change] = compare_provisions(old, new)
    assert (change.change, change.ref) == ("modified", "第三十八条")
    assert changed(list(change.runs)) == [("deleted", "需"), ("inserted", "须")]
    assert "确[-需-]{+须+}向" in marked_plain(change.runs)
    summary = diff_provisions(old, new).modified[0]
    assert (summary.before, summary.after) == (change.before, change.after)
    assert "确需" in summary.before and "确须" in summary.after and len(summary.before) < 140


def test_the_gdpr_article_45_amendment_is_one_word_with_whole_words_around_it():
    old = normalise_text(gdpr("45", "46"))
    new = old.replace("at least every four years", "at least every three years")
    [change] = compare_provisions(old, new)
    assert changed(list(change.runs)) == [("deleted", "four"), ("inserted", "three")]
    words = set(tokens(old))
    before = change.before.strip("…")
    first, last = before.split()[0], before.split()[-1]
    assert first in words and last in words  # cut between words, never inside one
    assert change.before.startswith("…") and change.before.endswith("…")


def test_an_added_provision_carries_its_text():
    old = normalise_text(gdpr("45", "46"))
    new = normalise_text(gdpr("45", "47"))
    added = [c for c in compare_provisions(old, new) if c.change == "added"]
    assert [c.ref for c in added] == ["Article 46"]
    assert "Article 46" in added[0].text.split("\n")[0] and not added[0].runs
    assert added[0].text.endswith("paragraph 2 of this Article.")


def test_cjk_characters_are_words_of_their_own():
    assert tokens("数据出境abc安全") == ["数", "据", "出", "境", "abc", "安", "全"]
    runs = word_runs("个人信息出境标准合同", "个人信息出境认证合同")
    assert changed(runs) == [("deleted", "标准"), ("inserted", "认证")]
    assert tokens("個人情報の提供") == ["個", "人", "情", "報", "の", "提", "供"]


def test_spanish_accents_stay_inside_their_word():
    runs = word_runs("La transferencia internacional de datos requerirá autorización.",
                     "La transferencia internacional de datos requerirá notificación.")
    assert changed(runs) == [("deleted", "autorización"), ("inserted", "notificación")]
    decomposed = "informacio\u0301n"  # o + combining acute accent
    assert tokens(f"la {decomposed} pública") == ["la", " ", decomposed, " ", "pública"]


def test_a_moved_word_is_deleted_where_it_was_and_inserted_where_it_is():
    runs = word_runs("Personal data shall promptly be transferred.",
                     "Personal data shall be transferred promptly.")
    assert changed(runs) == [("deleted", "promptly "), ("inserted", " promptly")]
    assert side(runs, "deleted") == "Personal data shall promptly be transferred."
    assert side(runs, "inserted") == "Personal data shall be transferred promptly."


def test_changes_separated_by_spaces_read_as_one():
    runs = word_runs("the transfer requires passing an assessment",
                     "the transfer may take an assessment")
    assert changed(runs) == [("deleted", "requires passing"), ("inserted", "may take")]


def test_excerpts_keep_context_around_each_change_and_elide_the_rest():
    filler = " ".join(f"word{n}" for n in range(60))
    before = f"Within 30 days {filler} by the controller."
    after = f"Within 60 days {filler} by the processor."
    runs = excerpt(word_runs(before, after), context=20)
    assert changed(runs) == [("deleted", "30"), ("inserted", "60"), ("deleted", "controller"),
                             ("inserted", "processor")]
    middle = next(r.text for r in runs if r.mark == "equal" and "…" in r.text)
    assert middle.startswith(" days word0") and middle.endswith("word59 by the ")
    assert set(middle.split()) - {"…"} <= set(tokens(before))  # whole words only
    old_excerpt, new_excerpt = change_excerpt(before, after, context=20)
    assert "30" in old_excerpt and "controller" in old_excerpt and "60" in new_excerpt


def test_unchanged_text_is_cut_at_a_word_boundary():
    text = "word " * 100
    before, after = change_excerpt(text, text, context=10)
    assert before == after == "word word word word…"


def test_marks_for_the_terminal_and_for_html():
    runs = word_runs("a <b> c", "a <i> c")
    assert marked_plain(runs) == "a <[-b-]{+i+}> c"
    assert marked_html(runs) == "a &lt;<del>b</del><ins>i</ins>&gt; c"


@pytest.fixture
def pipl_db(tmp_path) -> str:
    """A store with two versions of PIPL chapter III: 确需→确须 in Article 38, and Article 44
    of chapter IV added."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url)
    source = SourceInfo("cn-test", "CN", "national", "zh")
    with store.transaction() as session:
        upsert_source(session, id=source.id, name=source.id, jurisdiction="CN", level="national",
                      declaration_file=None)
    chapter = pipl("第三十八条", "## 第四章")
    amended = chapter.replace("因业务等需要，确需", "因业务等需要，确须", 1) + "\n" + \
        pipl("第四十四条", "第四十五条")
    for number, (text, day) in enumerate([(chapter, 1), (amended, 2)]):
        body = regulator_page("CAC", "个人信息保护法", to_html(text), 1).encode()
        page = "https://cn.example/pipl"
        with store.transaction() as session:
            record_document(session, None, source,
                            Fetch(source.id, page, page, 200, {}, body, 1 if number else None),
                            extract_document(body, "text/html"), now=datetime(2026, 11, day))
    store.close()
    return url


def test_the_diff_command_marks_the_changed_words(pipl_db):
    table = run_cli("diff", "1", db=pipl_db).stdout
    assert "modified  第三十八条" in table and "确[-需-]{+须+}向" in table
    assert "added  第四十四条" in table and "{+第四十四条" in table
    rows = run_cli("diff", "1", "--format", "json", db=pipl_db).json()
    modified = next(row for row in rows if row["change"] == "modified")
    assert {"mark": "deleted", "text": "需"} in modified["runs"]
    assert {"mark": "inserted", "text": "须"} in modified["runs"]
    assert "确需" in modified["before"] and "确须" in modified["after"]
    added = next(row for row in rows if row["change"] == "added")
    assert added["provision"] == "第四十四条" and added["text"].startswith("第四十四条")


def test_the_diff_command_colours_the_changed_words_on_a_terminal(pipl_db):
    main, terminal = pty.openpty()  # the command's stdout is a real (pseudo-)terminal
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    child = subprocess.Popen([sys.executable, "-m", "policywatch", "--db", pipl_db, "diff", "1"],
                             stdout=terminal, stderr=subprocess.PIPE, cwd=ROOT,
                             env={**env, "PYTHONPATH": str(ROOT)})
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the command has ended
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert child.wait(timeout=120) == 0, child.stderr.read() if child.stderr else ""
    shown = output.decode()
    assert click.style("需", fg="red", strikethrough=True) in shown
    assert click.style("须", fg="green", underline=True) in shown
    assert "[-" not in shown
