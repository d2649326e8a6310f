"""A 200 answer that is not the instrument: a soft 404, a maintenance page, a login wall, a bot
challenge or an access-denied page, told from its text.

Such pages are short and say what they are in their title or main heading, in the languages of
the catalogue (English, Chinese, Spanish, French, German, Portuguese). A phrase counts in the
title or a heading when the page's text is short, and in the text itself only when the text is
very short, so that a long policy that speaks of "maintenance" or "access denied" is never one.

A soft 404 that says nothing a phrase could catch (a bare template, a language without cue words)
is told by its likeness to the site's own error answers: the main text of each real 404 or 410
the crawl met on the host (`ErrorAnswer`) is kept as its word shingles, and a 200 page whose main
text is near-identical to one of them (`like_error_answer`) is that error again.
Pure functions of the page's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from texts.normalise import normalise_text
from texts.vocabulary import BLOCKED, GONE, TRANSIENT

# An error page says what it is within this many characters of text (menus and footers included).
SHORT_PAGE = 3000
# A phrase in the text itself (not its title or a heading) counts only below this length.
TINY_PAGE = 600


@dataclass(frozen=True)
class ErrorPageKind:
    name: str  # what the page is, as shown to the user
    problem: str  # the problem kind of texts.vocabulary it stands for
    phrases: re.Pattern[str]


def _phrases(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


ERROR_PAGE_KINDS: tuple[ErrorPageKind, ...] = (
    ErrorPageKind("page not found", GONE, _phrases(
        r"(?<![\w/.§-])404(?![\w/.-])", r"\bpage (was )?not found\b", r"\bnot found\b",
        r"\bpage (you requested |you are looking for |requested )?(does not|doesn't|no longer) exist",
        r"\b(could|can) ?not be found\b", r"页面不存在", r"页面未找到", r"找不到(该|您要的|您访问的)?页面",
        r"您(所)?访问的页面不存在", r"网页不存在",
        r"p[áa]gina no (encontrada|existe)", r"no se (ha )?(encontr[óo]|pudo encontrar) la p[áa]gina",
        r"page (introuvable|non trouv[ée]e)",
        r"la page (demand[ée]e |que vous cherchez )?n'existe (pas|plus)",
        r"erreur 404", r"seite (wurde )?nicht gefunden", r"die (angeforderte|gesuchte) seite existiert nicht",
        r"fehler 404", r"p[áa]gina n[ãa]o (encontrada|existe)", r"erro 404")),
    ErrorPageKind("maintenance page", TRANSIENT, _phrases(
        r"\b(under|down for|scheduled|planned) maintenance\b", r"\bmaintenance (in progress|mode|work)\b",
        r"^maintenance$", r"\btemporarily unavailable\b", r"\bservice unavailable\b",
        r"\bback (online )?(soon|shortly)\b",
        r"系统维护", r"维护中", r"正在维护", r"暂时无法访问", r"服务暂不可用",
        r"\ben mantenimiento\b", r"temporalmente (no disponible|fuera de servicio)",
        r"\ben maintenance\b", r"maintenance en cours", r"temporairement (indisponible|inaccessible)",
        r"wartungsarbeiten", r"\bwartungsmodus\b", r"vor[üu]bergehend nicht (verf[üu]gbar|erreichbar)",
        r"em manuten[çc][ãa]o", r"temporariamente indispon[íi]vel")),
    ErrorPageKind("bot challenge", TRANSIENT, _phrases(
        r"\bjust a moment\b", r"\bchecking (if the site connection is secure|your browser)\b",
        r"\bverify (that )?you are (a )?human\b", r"\bare you a robot\b", r"\bcaptcha\b",
        r"\battention required\b", r"\bddos protection\b", r"\benable javascript and cookies to continue\b",
        r"安全验证", r"人机验证", r"验证码", r"请稍候", r"un momento", r"verificando",
        r"un instant", r"v[ée]rification (de s[ée]curit[ée]|que vous [êe]tes humain)",
        r"einen moment", r"sicherheitspr[üu]fung", r"um momento", r"verifica[çc][ãa]o de seguran[çc]a")),
    ErrorPageKind("access denied page", BLOCKED, _phrases(
        r"\baccess (is )?denied\b", r"\bforbidden\b", r"\byou (do not|don't) have permission\b",
        r"访问被拒绝", r"拒绝访问", r"无权访问", r"acceso denegado", r"acc[èe]s (refus[ée]|interdit)",
        r"zugriff verweigert", r"zugang verweigert", r"acesso negado")),
    ErrorPageKind("login page", BLOCKED, _phrases(
        r"\b(please )?(sign|log) ?in( to continue| required)?\b", r"\blogin required\b",
        r"请(先)?登录", r"用户登录", r"inici(ar|e) sesi[óo]n", r"\bse connecter\b", r"\bconnexion\b",
        r"\banmelden\b", r"\banmeldung\b", r"\bfazer login\b", r"\biniciar sess[ãa]o\b")),
)


@dataclass(frozen=True)
class ErrorPage:
    """What a 200 answer really is, and the problem it stands for."""

    kind: ErrorPageKind
    evidence: str  # the title, heading or line that said so
    like: ErrorAnswer | None = None  # the site's own error answer it is near-identical to

    @property
    def message(self) -> str:
        if self.like is not None:
            return (f"HTTP 200 with a {self.kind.name} (the same page as the HTTP "
                    f"{self.like.status} answer of {self.like.url})")
        return f"HTTP 200 with a {self.kind.name} (“{self.evidence[:80]}”)"


def classify_error_page(title: str, headings: list[str], text: str,
                        password_field: bool = False) -> ErrorPage | None:
    """The error page `title`, `headings` and `text` make up, or None for a real document.

    `password_field`: the page asks for a password, which makes a short page a login wall."""
    if len(text) > SHORT_PAGE:
        return None
    labels = [line for line in (title, *headings) if line]
    tiny_lines = text.split("\n")[:12] if len(text) <= TINY_PAGE else []
    for kind in ERROR_PAGE_KINDS:
        for line in (*labels, *tiny_lines):
            if kind.phrases.search(line):
                return ErrorPage(kind, line.strip())
    if password_field:
        login = next(kind for kind in ERROR_PAGE_KINDS if kind.name == "login page")
        return ErrorPage(login, labels[0] if labels else "a password field")
    return None


def error_page(html: str) -> ErrorPage | None:
    """`classify_error_page` for a page's markup: its <title>, main headings and body text."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = normalise_text(title_node.text()) if title_node is not None else ""
    headings = [normalise_text(node.text(separator=" ")) for node in tree.css("h1")][:4]
    password_field = tree.css_first("input[type=password]") is not None
    tree.strip_tags(["script", "style", "noscript", "template", "head"])
    body = tree.body
    text = normalise_text(body.text(separator="\n")) if body is not None else ""
    return classify_error_page(title, headings, text, password_field)


# --- likeness to the site's own error answers ------------------------------------------------

SHINGLE = 3  # words per shingle
ALIKE = 0.75  # the share of shared shingles (Jaccard) from which a page is the error answer again
LONGEST_ERROR_TEXT = 5000  # an error answer's main text is short; a longer one is not kept
# Addresses, paths and file names an error page echoes from the request, left out of its words.
_ECHOED = re.compile(r"\S*[/\\]\S*|\S+\.[^\W\d_]{2,4}\b")
# Letters only (numbers are counters, dates and echoed ids); each CJK character is a word.
_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W\d_]+")


@dataclass(frozen=True)
class ErrorAnswer:
    """A real error answer of a site (a 404 or 410 with a body), kept to compare pages with."""

    url: str
    status: int
    length: int  # characters of its main text
    shingles: frozenset[str]


def shingles(text: str) -> frozenset[str]:
    """The text's runs of SHINGLE words, case-folded, without the addresses and paths it echoes
    (the whole text when it has fewer words)."""
    words = _WORDS.findall(_ECHOED.sub(" ", text.casefold()))
    if len(words) < SHINGLE:
        return frozenset({" ".join(words)}) if words else frozenset()
    return frozenset(" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def fragment_text(body: str) -> str:
    """The text of an error answer that is no whole page (plain text, or a bare `<h1>`)."""
    if "<" not in body:
        return normalise_text(body)
    root = LexborHTMLParser(body).root
    return normalise_text(root.text(separator="\n")) if root is not None else ""


def error_answer(url: str, status: int, text: str) -> ErrorAnswer | None:
    """The error answer to keep from a 404/410's main text (None when it has no words or is too
    long to be a site's error template)."""
    if len(text) > LONGEST_ERROR_TEXT:
        return None
    kept = shingles(text)
    return ErrorAnswer(url, status, len(text), kept) if kept else None


def likeness(first: frozenset[str], second: frozenset[str]) -> float:
    """The Jaccard index of two shingle sets: 1.0 for the same text, 0.0 for nothing shared."""
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def like_error_answer(text: str, answers: Iterable[ErrorAnswer]) -> ErrorAnswer | None:
    """The error answer `text` (a 200 page's main text) is near-identical to, if any. Only
    answers of a comparable length are compared, so that a long document is never shingled."""
    comparable = [answer for answer in answers if answer.length / 2 <= len(text) <= answer.length * 2]
    if not comparable:
        return None
    page = shingles(text)
    return next((answer for answer in comparable if likeness(page, answer.shingles) >= ALIKE),
                None)


def like_error_page(answer: ErrorAnswer) -> ErrorPage:
    """A 200 page near-identical to the site's `answer`: a page not found, as that answer was
    (a 410 is as gone as a 404)."""
    not_found = next(kind for kind in ERROR_PAGE_KINDS if kind.name == "page not found")
    return ErrorPage(not_found, f"the same page as {answer.url}", like=answer)
