"""What a reader sees on a page, to tell when the watched text is only a sliver of it.

The visible characters are counted on lexbor's parse (about 1 ms for a 50 KB page: it runs on
every new or changed page of a crawl); a readable description of the element the main text came
from (`policywatch extract`) uses BeautifulSoup, whose navigation (`parents`, attribute lists)
gives it in a few lines. Neither runs on the re-check of an unchanged page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawlers.extract import MAX_NESTING, nesting_depth
from texts.normalise import normalise_text

if TYPE_CHECKING:  # BeautifulSoup costs 0.2 s to import: only `policywatch extract` describes
    from bs4 import BeautifulSoup, Tag

_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
# Below this share of the visible text, the watched text is too thin to be the page's content.
THIN_SHARE = 0.2
# A page with less visible text than this, but scripts, is an application shell.
SHELL_CHARACTERS = 200


def parse(html: str) -> BeautifulSoup:
    """The page as BeautifulSoup reads it (for `describe_element`)."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "lxml")


def visible_characters(html: str) -> int:
    """How many characters of text a reader sees on the page without scripts running: hidden
    and script elements left out, the text normalised."""
    tree = LexborHTMLParser(html)
    body = tree.body or tree.root
    if body is None:
        return 0
    tree.strip_tags(list(_INVISIBLE))
    hidden = [node for node in body.css("[hidden], [style], input[type=hidden i]")
              if _is_hidden(node)]
    marked = {node.mem_id for node in hidden}
    # Only the outermost go (a node inside one already removed is gone with it), worked out
    # before anything is removed.
    outermost = [node for node in hidden if not _inside(node, marked)]
    for node in outermost:
        node.decompose()
    return len(normalise_text(body.text(separator="\n")))


def _inside(node: LexborNode, marked: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in marked:
            return True
        parent = parent.parent
    return False


def _is_hidden(node: LexborNode) -> bool:
    style = (node.attributes.get("style") or "").replace(" ", "").lower()
    return "hidden" in node.attributes or "display:none" in style or \
        (node.tag == "input" and (node.attributes.get("type") or "").lower() == "hidden")


def is_script_shell(html: str, visible_characters: int) -> bool:
    """An empty application shell: almost no text without JavaScript, and scripts to render it."""
    return visible_characters < SHELL_CHARACTERS and "<script" in html.lower()


SHELL_WARNING = "no text without JavaScript: the page is rendered by scripts"


def page_is_script_shell(html: str) -> bool:
    """`is_script_shell` of a page's markup; never one nested too deep to be read (lexbor would
    take minutes over it)."""
    return nesting_depth(html) <= MAX_NESTING and is_script_shell(html, visible_characters(html))


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
    visible = visible_characters(html)
    return coverage_warning(len(watched_text), visible, is_script_shell(html, visible))


def describe_element(soup: BeautifulSoup, css_path: str) -> str | None:
    """A readable description of the element at `css_path`: its landmarks from the page down,
    e.g. `body > main#content > article.document (4,120 characters)`."""
    from bs4 import Tag

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
