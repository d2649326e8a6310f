"""Source declarations: valid ones load into typed objects; each error names file, field, reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crawlers.catalogue import load_catalogue, parse_declaration
from tests.conftest import run_cli
from texts.durations import parse_interval

GOOD = """\
id: eu-edpb
name: European Data Protection Board
jurisdiction: EU
level: supranational
body: regulator
languages: [en]
every: 6h
relevance: auto
entries:
  - type: listing
    url: https://www.edpb.europa.eu/our-work-tools/our-documents_en
    links: "div.view-content a"
    follow: "/our-documents/"
    next: "li.pager__item--next a"
    max_pages: 5
  - type: feed
    url: https://www.edpb.europa.eu/feed/publications_en
  - type: document
    url: https://eur-lex.europa.eu/eli/reg/2016/679/oj
extract:
  content: "main article"
  remove: [".cookie-banner", "nav", ".share-tools"]
  title: "h1"
  date: "time[datetime]"
"""


def test_the_design_example_loads_into_typed_objects():
    source, errors = parse_declaration(GOOD, "eu-edpb.yaml")
    assert errors == [] and source is not None
    assert source.id == "eu-edpb" and source.level == "supranational"
    assert source.interval == timedelta(hours=6)
    assert [e.type for e in source.entries] == ["listing", "feed", "document"]
    assert source.entries[0].max_pages == 5
    assert source.extract.remove == (".cookie-banner", "nav", ".share-tools")
    assert source.hosts == {"www.edpb.europa.eu", "eur-lex.europa.eu"}


@pytest.mark.parametrize(("change", "field", "reason"), [
    (("id: eu-edpb", "id: EU_EDPB"), "id", "use lowercase letters, digits and '-'"),
    (("jurisdiction: EU", "jurisdiction: Europe"), "jurisdiction", "ISO 3166-1"),
    (("level: supranational", "level: global"), "level", "'national'"),
    (("every: 6h", "every: often"), "every", "not an interval"),
    (("    url: https://www.edpb.europa.eu/feed/publications_en",
      "    url: ftp://www.edpb.europa.eu/feed"), "entries[1].url", "not an http(s) URL"),
    (('    links: "div.view-content a"\n', ""), "entries[0]", "needs 'links'"),
    (('    follow: "/our-documents/"', '    follow: "(["'), "entries[0].follow",
     "not a pattern the linear-time regex engine (RE2) accepts"),
    (("relevance: auto", "relevance: auto\ncolour: blue"), "colour", "unknown field"),
    (("name: European Data Protection Board\n", ""), "name", "required field is missing"),
])
def test_each_mistake_is_named_with_its_field(change, field, reason):
    _, errors = parse_declaration(GOOD.replace(*change), "bad.yaml")
    assert [e.field for e in errors] == [field]
    assert reason in errors[0].reason
    assert str(errors[0]).startswith(f"bad.yaml: {field}: ")


def test_broken_yaml_names_the_line():
    _, errors = parse_declaration("id: x\nname: [unclosed\n", "broken.yaml")
    assert errors[0].file == "broken.yaml" and errors[0].field.startswith("line ")


def test_intervals():
    assert parse_interval("30m") == timedelta(minutes=30)
    assert parse_interval("1d") == timedelta(days=1)
    with pytest.raises(ValueError):
        parse_interval("0h")


def test_one_bad_file_never_stops_the_others(tmp_path: Path):
    (tmp_path / "a-good.yaml").write_text(GOOD)
    (tmp_path / "b-bad.yaml").write_text(GOOD.replace("id: eu-edpb", "id: other").replace(
        "level: supranational", "level: cosmic"))
    (tmp_path / "c-dup.yaml").write_text(GOOD)
    (tmp_path / "notes.txt").write_text("not a declaration")
    catalogue = load_catalogue([tmp_path])
    assert [s.id for s in catalogue.sources] == ["eu-edpb"]
    assert [(Path(e.file).name, e.field) for e in catalogue.errors] == [
        ("b-bad.yaml", "level"), ("c-dup.yaml", "id")]


def test_sources_check_prints_one_line_per_error_and_fails(tmp_path: Path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(GOOD.replace("id: eu-edpb", "id: x").replace(
        "every: 6h", "every: sometimes"))
    result = run_cli("sources", "check", "--sources", str(tmp_path))
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'bad.yaml'}: every: 'sometimes' is not an interval like 30m, 6h, 1d or 2w"]
    assert "1 valid declaration(s), 1 error(s)" in result.stdout


def test_sources_list_formats(tmp_path: Path):
    (tmp_path / "good.yaml").write_text(GOOD)
    listed = run_cli("sources", "list", "--sources", str(tmp_path), "--format", "json").json()
    assert listed[0]["id"] == "eu-edpb" and listed[0]["entries"] == 3
    csv = run_cli("sources", "list", "--sources", str(tmp_path), "--format", "csv").stdout
    assert csv.splitlines()[0].startswith("id,")


def _plain_reasons(change: tuple[str, str]) -> dict[str, str]:
    """Field → plain reason of each problem of GOOD with one change, from the catalogue's own
    validation."""
    import yaml
    from pydantic import ValidationError

    from crawlers.catalogue import Source, _field_path
    from crawlers.declaration_errors import plain_reason

    with pytest.raises(ValidationError) as raised:
        Source.model_validate(yaml.safe_load(GOOD.replace(*change)))
    return {_field_path(tuple(p["loc"])): plain_reason(p) for p in raised.value.errors()}


@pytest.mark.parametrize(("change", "field", "reason"), [
    (("id: eu-edpb", "id: EU_EDPB"), "id", "use lowercase letters, digits and '-'; got 'EU_EDPB'"),
    (("level: supranational", "level: global"), "level",
     "use 'national', 'subnational', 'supranational', 'bilateral', 'plurilateral' or "
     "'multilateral'; got 'global'"),
    (("max_pages: 5", "max_pages: 0"), "entries[0].max_pages", "must be at least 1; got 0"),
    (("max_pages: 5", "max_pages: lots"), "entries[0].max_pages", "must be a whole number; got 'lots'"),
    (("languages: [en]", "languages: en"), "languages", "must be a list, like [en, zh]; got 'en'"),
    (("name: European Data Protection Board", "name: ''"), "name", "must not be empty"),
    (("name: European Data Protection Board", "name: 7"), "name",
     "must be text (quote it in YAML); got 7"),
    (("relevance: auto", "relevance: auto\ncolour: blue"), "colour", "unknown field"),
    (("every: 6h", "every: often"), "every", "'often' is not an interval like 30m, 6h, 1d or 2w"),
])
def test_declaration_errors_in_plain_words(change, field, reason):
    assert _plain_reasons(change)[field] == reason
