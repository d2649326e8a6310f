"""What a reader sees on a page, to tell when the watched text is only a sliver of it.

Built on BeautifulSoup: its forgiving tree takes the broken markup of real pages as a browser
would, and its navigation (`find_all`, `parents`) gives the hidden parts and a readable
description of the element the main text came from. It runs on demand (the extract report, a
coverage check of a new or changed page), never on the re-check of an unchanged page.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from texts.normalise import normalise_text

_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
# Below this share of the visible text, the watched text is too thin to be the page's content.
THIN_SHARE = 0.2
# A page with less visible text than this, but scripts, is an application shell.
SHELL_CHARACTERS = 200


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def visible_text(soup: BeautifulSoup) -> str:
    """The page's text a reader sees without scripts running: no hidden or script elements."""
    body = soup.body or soup
    for tag in body.find_all(_INVISIBLE):
        tag.decompose()
    for tag in body.find_all(_is_hidden):
        tag.decompose()
    return normalise_text(body.get_text("\n"))


def _is_hidden(tag: Tag) -> bool:
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return tag.has_attr("hidden") or "display:none" in style or \
        (tag.name == "input" and str(tag.get("type") or "").lower() == "hidden")


def is_script_shell(html: str, visible_characters: int) -> bool:
    """An empty application shell: almost no text without JavaScript, and scripts to render it."""
    return visible_characters < SHELL_CHARACTERS and "<script" in html.lower()


SHELL_WARNING = "no text without JavaScript: the page is rendered by scripts"


def page_is_script_shell(html: str) -> bool:
    """`is_script_shell` of a page's markup."""
    return is_script_shell(html, len(visible_text(parse(html))))


def coverage_warning(watched_characters: int, visible_characters: int,
                     script_shell: bool = False) -> str | None:
    """One line when the watched text is empty or a small share of what the page shows."""
    if script_shell and watched_characters < SHELL_CHARACTERS:
        return SHELL_WARNING
    if watched_characters == 0:
        return f"watching nothing of {visible_characters:,} visible characters"
    if visible_characters and watched_characters < THIN_SHARE * visible_characters:
        return f"watching {watched_characters:,} of {visible_characters:,} visible characters"
    return None


def page_coverage_warning(html: str, watched_text: str) -> str | None:
    """`coverage_warning` for a page and the text extracted from it."""
    visible = len(visible_text(parse(html)))
    return coverage_warning(len(watched_text), visible, is_script_shell(html, visible))


def describe_element(soup: BeautifulSoup, css_path: str) -> str | None:
    """A readable description of the element at `css_path`: its landmarks from the page down,
    e.g. `body > main#content > article.document (4,120 characters)`."""
    found = soup.select_one(css_path)
    if found is None:
        return None
    steps = [found, *[parent for parent in found.parents if isinstance(parent, Tag)
                      and parent.name not in ("[document]", "html")]]
    named = [step for step in reversed(steps) if step is found or step.name == "body"
             or step.get("id") or step.get("role") or step.name in ("main", "article", "section")]
    characters = len(normalise_text(found.get_text("\n")))
    return " > ".join(_label(step) for step in named) + f" ({characters:,} characters)"


def _label(tag: Tag) -> str:
    label = tag.name
    if tag.get("id"):
        label += f"#{tag['id']}"
    classes: list[str] = list(tag.get_attribute_list("class") or [])
    label += "".join(f".{name}" for name in classes[:2] if name)
    if tag.get("role"):
        label += f"[role={tag['role']}]"
    return label
