"""Telling a 200 answer that is not the instrument from the instrument, in the catalogue's languages."""

from __future__ import annotations

import pytest

from crawlers.error_pages import (
    classify_error_page,
    error_answer,
    error_page,
    fragment_text,
    like_error_answer,
    like_error_page,
    likeness,
    shingles,
)
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, to_html
from texts.vocabulary import BLOCKED, GONE, TRANSIENT


@pytest.mark.parametrize(("title", "heading", "text", "kind"), [
    ("Page not found | EDPB", "Oops", "The page you requested does not exist.", GONE),
    ("404", "", "", GONE),
    ("Error 404 - Federal Register", "", "Go back home.", GONE),
    ("页面不存在", "", "您访问的页面不存在或已被删除", GONE),
    ("中国网信网", "404 页面未找到", "返回首页", GONE),
    ("Página no encontrada", "", "Volver al inicio", GONE),
    ("Erreur", "Page introuvable", "Retour à l'accueil", GONE),
    ("Fehler", "Seite nicht gefunden", "Zur Startseite", GONE),
    ("Página não encontrada", "", "Voltar", GONE),
    ("Maintenance", "", "We will be back soon.", TRANSIENT),
    ("EDPB", "Site under maintenance", "Please come back later.", TRANSIENT),
    ("Service temporarily unavailable", "", "", TRANSIENT),
    ("系统维护中", "", "网站正在维护，请稍后访问", TRANSIENT),
    ("BOE", "Sitio en mantenimiento", "Disculpe las molestias", TRANSIENT),
    ("CNIL", "Site en maintenance", "Merci de votre patience", TRANSIENT),
    ("Wartungsarbeiten", "", "Bitte versuchen Sie es später erneut", TRANSIENT),
    ("Site em manutenção", "", "Voltamos em breve", TRANSIENT),
    ("Just a moment...", "", "Checking if the site connection is secure", TRANSIENT),
    ("Attention Required! | Cloudflare", "", "Please complete the captcha", TRANSIENT),
    ("安全验证", "", "请完成人机验证后继续访问", TRANSIENT),
    ("Access denied", "", "You don't have permission to access this server.", BLOCKED),
    ("访问被拒绝", "", "", BLOCKED),
    ("Acceso denegado", "", "", BLOCKED),
    ("Accès refusé", "", "", BLOCKED),
    ("Zugriff verweigert", "", "", BLOCKED),
    ("Acesso negado", "", "", BLOCKED),
    ("Sign in", "", "Username\nPassword", BLOCKED),
    ("用户登录", "", "请先登录", BLOCKED),
    ("Iniciar sesión", "", "Usuario", BLOCKED),
    ("Se connecter", "", "Identifiant", BLOCKED),
    ("Anmelden", "", "Benutzername", BLOCKED),
    ("Fazer login", "", "Usuário", BLOCKED),
])
def test_an_error_page_is_told_by_its_title_heading_or_short_text(title, heading, text, kind):
    found = classify_error_page(title, [heading] if heading else [], text)
    assert found is not None and found.kind.problem == kind
    assert found.message.startswith("HTTP 200 with a ")


def test_a_phrase_in_the_text_counts_only_on_a_very_short_page():
    assert classify_error_page("EDPB", [], "Sorry, this page could not be found.") is not None
    long_text = "Sorry, this page could not be found.\n" + "Article 45 Transfers. " * 40
    assert classify_error_page("EDPB", [], long_text) is None


def test_a_short_page_asking_for_a_password_is_a_login_wall():
    found = classify_error_page("Portal", ["Welcome"], "User\nPassword", password_field=True)
    assert found is not None and found.kind.name == "login page"


@pytest.mark.parametrize(("title", "heading"), [
    ("Guidelines on the maintenance of records of processing", "Records of processing"),
    ("Regulation on access to documents", "Access to documents"),
    ("Ley de protección de datos", "Título V. Transferencias internacionales"),
])
def test_a_real_instrument_is_never_an_error_page(title, heading):
    text = to_html(gdpr("45", "46"))
    assert classify_error_page(title, [heading], text) is None
    assert error_page(regulator_page("EDPB", title, text, 1)) is None


def test_a_long_policy_that_speaks_of_denied_access_is_not_an_error_page():
    policy = "Access denied to personal data held abroad is a breach.\n" + gdpr("45", "46")
    assert classify_error_page("Access denied to data held abroad", [], policy) is None


def test_error_page_reads_the_markup():
    page = regulator_page("EDPB", "Page not found", "<p>Try the search.</p>", 3)
    found = error_page(page)
    assert found is not None and found.kind.problem == GONE
    assert "Page not found" in found.evidence
    login = ("<html><head><title>Portal</title></head><body><form><input name=user>"
             "<input type=password name=pw></form></body></html>")
    assert (found := error_page(login)) is not None and found.kind.problem == BLOCKED


NOT_FOUND_FI = ("Hups!\nValitettavasti etsimääsi sivua {path} ei löytynyt. Se on ehkä siirretty "
                "toiseen osoitteeseen tai poistettu palvelusta.\nPalaa etusivulle tai käytä hakua.")


def test_a_page_near_identical_to_the_sites_404_is_like_it_whatever_path_it_echoes():
    answer = error_answer("https://tietosuoja.fi/robots.txt", 404,
                          NOT_FOUND_FI.format(path="/robots.txt"))
    assert answer is not None
    page = NOT_FOUND_FI.format(path="https://tietosuoja.fi/ohjeet/siirrot?id=7")
    assert like_error_answer(page, [answer]) == answer
    found = like_error_page(answer)
    assert found.kind.problem == GONE
    assert found.message == ("HTTP 200 with a page not found (the same page as the HTTP 404 answer"
                             " of https://tietosuoja.fi/robots.txt)")


def test_chinese_text_is_compared_character_by_character():
    answer = error_answer("http://www.cac.gov.cn/x", 404, "很抱歉，您要访问的内容已删除或地址有误。返回首页")
    assert answer is not None
    assert like_error_answer("很抱歉，您要访问的内容已删除或地址有误。 返回首页 2026-03-01", [answer]) == answer
    assert like_error_answer("国家互联网信息办公室关于促进和规范数据跨境流动的规定", [answer]) is None


def test_a_real_document_is_never_like_an_error_answer():
    answer = error_answer("https://edpb.europa.eu/missing", 410, NOT_FOUND_FI.format(path=""))
    assert answer is not None
    notice = ("Tiedote\nTietosuojavaltuutettu on antanut ohjeen henkilötietojen siirroista "
              "kolmansiin maihin. Palaa etusivulle tai käytä hakua.")  # a short notice, one line alike
    assert like_error_answer(notice, [answer]) is None
    assert like_error_answer(gdpr("45", "46"), [answer]) is None  # too long to be compared
    assert like_error_answer(NOT_FOUND_FI.format(path="/x"), []) is None


def test_an_error_answer_without_words_or_longer_than_a_template_is_not_kept():
    assert error_answer("https://x.org/a", 404, "404 2026-03-01") is None
    assert error_answer("https://x.org/a", 404, gdpr("45", "49") * 3) is None
    assert shingles("Not found") == frozenset({"not found"})
    assert likeness(shingles("a b c d"), shingles("a b c d")) == 1.0
    assert likeness(frozenset(), shingles("a b c")) == 0.0


def test_an_error_answer_that_is_no_whole_page_is_read_as_its_text():
    assert fragment_text("<h1>Not Found</h1>\n<hr>nginx") == "Not Found\nnginx"
    assert fragment_text("File not found.\r\n") == "File not found."
