"""The regulator web used by the crawl tests, epoch by epoch.

epoch 1  four sources, nine instruments (the baseline).
epoch 2  GDPR Art. 45 amended in one word; PIPL 第三十八条 amended in one character; a new EDPB
         document pushes an old one off the listing's last page; EO 14117 answers 404.
epoch 3  EO 14117 is back; the WTO scope text moved to a new URL; the CSL page gained an article;
         the XD authority's draft regulation (restrictive) is adopted, rewritten (prudent), with its
         entry into force and a transition deadline: a stage change, draft -> adopted.
Noise (tokens, timestamps, counters, navigation order, PDF creation date) rotates independently.
"""

from __future__ import annotations

from pathlib import Path

from policywatch.demoweb.server import (
    LoopbackWeb,
    Page,
    chinese_listing,
    chinese_page,
    cp1252_page,
    gbk_page,
    html_page,
    listing_page,
    pdf_document,
    regulator_page,
)
from policywatch.demoweb.texts import csl, eo_14117, gdpr, pipl, to_html, wto

EDPB, CAC, FEDREG, WTO, AUTHORITY = "edpb", "cac", "fedreg", "wto", "authority"


def edpb_routes(web: LoopbackWeb) -> dict[str, Page]:
    article_45 = gdpr("45", "46")
    if web.epoch >= 2:
        article_45 = article_45.replace("at least every four years", "at least every three years")
    docs = {
        "/our-documents/adequacy-guidelines_en": ("Guidelines on adequacy decisions", article_45),
        "/our-documents/safeguards-recommendations_en": ("Recommendations on appropriate safeguards",
                                                          gdpr("46", "47")),
        "/our-documents/binding-corporate-rules_en": ("Binding corporate rules", gdpr("47", "49")),
    }
    order = list(docs)
    if web.epoch >= 2:
        docs["/our-documents/international-cooperation_en"] = (
            "Statement on international cooperation", gdpr("50", None))
        order.insert(0, "/our-documents/international-cooperation_en")
    routes = {path: html_page(regulator_page("EDPB", title, to_html(text), web.noise))
              for path, (title, text) in docs.items()}
    for number, path in enumerate(order, start=1):  # one document per listing page
        next_href = f"/our-documents/?page={number + 1}" if number < len(order) else None
        routes[f"/our-documents/?page={number}"] = html_page(
            listing_page("EDPB", [(path, docs[path][0])], next_href, web.noise))
    routes["/robots.txt"] = Page(b"User-agent: *\nDisallow: /private/\n", "text/plain", validator=None)
    news = {
        "/news/2026/edpb-fines-retailer_en": ("EDPB welcomes fine against retailer",
                                              "<p>The supervisory authority fined a retailer for failing to "
                                              "secure payment card data after a cyber attack.</p>"),
        "/news/2026/annual-report_en": ("Annual report 2025",
                                        "<p>The Board published its annual report: complaints about "
                                        "marketing emails rose by 12%.</p>"),
        "/news/2026/statement-transfers_en": ("Statement on transfers to third countries",
                                              to_html(gdpr("49", "50"))),
    }
    for path, (title, body) in news.items():
        routes[path] = html_page(regulator_page("EDPB", title, body, web.noise))
    routes["/news/?page=1"] = html_page(listing_page("EDPB", [(p, t) for p, (t, _) in news.items()],
                                                     None, web.noise))
    return routes


def write_news_declaration(web: LoopbackWeb, folder: Path) -> Path:
    """EDPB news with the relevance filter on: only news about transfers becomes an instrument."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eu-edpb-news.yaml").write_text(f"""\
id: eu-edpb-news
name: EDPB news (loopback)
jurisdiction: EU
level: supranational
body: regulator
relevance: auto
entries:
  - type: listing
    url: {web.url(EDPB, "/news/?page=1")}
    links: "div.view-content a.doc"
""")
    return folder


def cac_routes(web: LoopbackWeb) -> dict[str, Page]:
    chapter_3 = pipl("第三十八条", "## 第四章")
    if web.epoch >= 2:
        chapter_3 = chapter_3.replace("因业务等需要，确需", "因业务等需要，确须", 1)
    csl_text = csl("第三十六条", "第三十八条" if web.epoch < 3 else "第三十九条")
    docs = {
        "/2021-08/20/c_1631050028355286.htm": ("中华人民共和国个人信息保护法（第三章）", chapter_3, "gb2312"),
        # Served with a lying header: the body is GBK, the header says utf-8.
        "/2016-11/07/c_1119867116.htm": ("中华人民共和国网络安全法（节选）", csl_text, "utf-8"),
    }
    routes = {path: gbk_page(chinese_page(title, text, web.noise), header_charset=charset)
              for path, (title, text, charset) in docs.items()}
    routes["/wxzw/list.htm"] = gbk_page(chinese_listing([(p, d[0]) for p, d in docs.items()], web.noise))
    return routes


def fedreg_routes(web: LoopbackWeb) -> dict[str, Page]:
    routes: dict[str, Page] = {}
    items = []
    if web.epoch != 2:
        routes["/documents/2024/02/28/2024-04573/eo-14117"] = html_page(regulator_page(
            "Federal Register", "Executive Order 14117: Preventing Access to Americans' Bulk "
            "Sensitive Personal Data", to_html(eo_14117("Section 1.", "Sec. 3.")), web.noise))
        items.append(("/documents/2024/02/28/2024-04573/eo-14117", "Executive Order 14117"))
    routes["/documents/2025/01/08/2024-31486/28-cfr-202.pdf"] = Page(
        pdf_document("28 CFR Part 202 (excerpt)", eo_14117("Sec. 3.", "Sec. 5."), web.noise),
        content_type="application/pdf")
    items.append(("/documents/2025/01/08/2024-31486/28-cfr-202.pdf", "28 CFR Part 202"))
    entries = "".join(
        f"<item><title>{title}</title><link>{web.url(FEDREG, path)}</link>"
        f"<pubDate>Fri, 0{web.noise % 9 + 1} Nov 2026 10:00:00 GMT</pubDate></item>"
        for path, title in items)
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Federal Register: data security</title><link>{web.url(FEDREG)}</link>"
            f"<lastBuildDate>{web.noise}</lastBuildDate>{entries}</channel></rss>")
    routes["/api/v1/documents.rss?conditions[term]=data+security"] = Page(
        feed.encode(), "application/rss+xml; charset=utf-8")
    return routes


def wto_routes(web: LoopbackWeb) -> dict[str, Page]:
    scope_path = "/english/tratop_e/ecom_e/jsi_scope_e.htm" if web.epoch < 3 else \
        "/english/tratop_e/ecom_e/jsi/scope_e.htm"
    docs = {
        scope_path: ("JSI on e-commerce: scope and general provisions",
                     wto("### Article 1:", "### Article 4:")),
        "/english/tratop_e/ecom_e/jsi_transactions_e.htm": (
            "JSI on e-commerce: enabling electronic commerce", wto("### Article 4:", "### Article 7:")),
    }
    routes = {path: html_page(regulator_page("WTO", title, to_html(text), web.noise), validator=None)
              for path, (title, text) in docs.items()}
    urls = [*docs, "/english/news_e/news26_e/ecom_12nov26_e.htm"]
    sitemap = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               + "".join(f"<url><loc>{web.url(WTO, u)}</loc></url>" for u in urls) + "</urlset>")
    routes["/sitemap.xml"] = Page(sitemap.encode(), "application/xml", validator=None)
    return routes


# --- a fictional regulator (jurisdiction XD, a private-use code) whose regulation relaxes ----

DEMO_REGULATION = {
    "restrictive": """Artículo 1. Objeto
El presente Reglamento regula las transferencias internacionales de datos personales de los ciudadanos de la República.

Artículo 2. Almacenamiento
Los datos personales de los ciudadanos deberán ser almacenados únicamente en el territorio nacional.

Artículo 3. Autorización
Toda transferencia internacional de datos personales requerirá autorización previa de la Autoridad, tras una evaluación de seguridad realizada por el Estado.""",
    "prudent": """Artículo 1. Objeto
El presente Reglamento regula las transferencias internacionales de datos personales de los ciudadanos de la República.

Artículo 2. Países con nivel adecuado
Los datos personales podrán transferirse a terceros países que ofrezcan un nivel adecuado de protección, conforme a una decisión de adecuación de la Autoridad.

Artículo 3. Garantías adecuadas
A falta de decisión de adecuación, la transferencia internacional podrá realizarse mediante cláusulas contractuales tipo aprobadas por la Autoridad o con el consentimiento expreso del titular.

Artículo 4. Excepciones
Quedan exentas de cualquier autorización las transferencias internacionales de datos de menos de 10.000 titulares al año.

Artículo 5. Entrada en vigor
El presente Reglamento entrará en vigor el 1 de julio de 2027. Los responsables del tratamiento adecuarán sus transferencias en curso a lo dispuesto en el presente Reglamento a más tardar el 1 de enero de 2028.

Hecho en la Ciudad de Demostración, a 16 de noviembre de 2026.""",
}
DEMO_REGULATION_TITLE = "Reglamento sobre transferencias internacionales de datos personales (ficticio, demostración)"


def demo_authority_routes(web: LoopbackWeb) -> dict[str, Page]:
    """A Spanish-language data protection authority, served in Windows-1252. Its transfer
    regulation is a restrictive draft until epoch 3, when it is adopted, rewritten around transfer
    routes, with the date it enters into force."""
    adopted = web.epoch >= 3
    regulation = DEMO_REGULATION["prudent" if adopted else "restrictive"]
    docs = {
        "/normativa/reglamento-transferencias.html": (
            DEMO_REGULATION_TITLE if adopted else f"Proyecto de {DEMO_REGULATION_TITLE}",
            to_html(regulation)),
        "/noticias/sancion-videovigilancia.html": (
            "La Agencia sanciona a una empresa por videovigilancia de empleados",
            "<p>La Agencia impuso una multa de 30.000 euros a una empresa por instalar cámaras en "
            "zonas de descanso de sus empleados sin informarles.</p>"),
    }
    routes = {path: cp1252_page(regulator_page("Agencia de Protección de Datos", title, body,
                                               web.noise, lang="es").replace('charset="utf-8"', 'charset="windows-1252"'))
              for path, (title, body) in docs.items()}
    routes["/publicaciones/"] = cp1252_page(listing_page("Agencia de Protección de Datos",
                                                         [(p, t) for p, (t, _) in docs.items()], None,
                                                         web.noise).replace('charset="utf-8"', 'charset="windows-1252"'))
    return routes


SITES = {
    EDPB: ("127.0.0.2", edpb_routes),
    CAC: ("127.0.0.3", cac_routes),
    FEDREG: ("127.0.0.4", fedreg_routes),
    WTO: ("127.0.0.5", wto_routes),
    AUTHORITY: ("127.0.0.8", demo_authority_routes),
}


def regulator_web(extra: dict | None = None) -> LoopbackWeb:
    """The demo's regulator sites (plus `extra` ones), not started."""
    return LoopbackWeb({**SITES, **(extra or {})})


def write_declarations(web: LoopbackWeb, folder: Path) -> Path:
    """Declarations of the four regulator sources, pointing at the running web."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eu-edpb.yaml").write_text(f"""\
id: eu-edpb
name: European Data Protection Board (loopback)
jurisdiction: EU
level: supranational
body: regulator
languages: [en]
every: 6h
relevance: all
entries:
  - type: listing
    url: {web.url(EDPB, "/our-documents/?page=1")}
    links: "div.view-content a.doc"
    follow: "/our-documents/"
    next: "li.pager__item--next a"
    max_pages: 3
""")
    (folder / "cn-cac.yaml").write_text(f"""\
id: cn-cac
name: Cyberspace Administration of China (loopback)
jurisdiction: CN
level: national
body: regulator
languages: [zh]
every: 1d
relevance: all
entries:
  - type: listing
    url: {web.url(CAC, "/wxzw/list.htm")}
    links: "ul.list a"
extract:
  content: "div.TRS_Editor"
  title: "div.title h1"
  date: "div.info"
""")
    (folder / "us-fedreg.yaml").write_text(f"""\
id: us-fedreg
name: Federal Register (loopback)
jurisdiction: US
level: national
body: gazette
languages: [en]
every: 1d
relevance: all
entries:
  - type: feed
    url: {web.url(FEDREG, "/api/v1/documents.rss?conditions[term]=data+security")}
""")
    (folder / "wto-ecom.yaml").write_text(f"""\
id: wto-ecom
name: WTO e-commerce (loopback)
jurisdiction: WTO
level: multilateral
body: international-organisation
languages: [en]
every: 1d
relevance: all
entries:
  - type: sitemap
    url: {web.url(WTO, "/sitemap.xml")}
    follow: "/ecom_e/"
""")
    return folder


def write_demo_authority_declaration(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "xd-authority.yaml").write_text(f"""\
# A fictional authority of the demo web (XD is a private-use code, not a real country).
id: xd-authority
name: Agencia de Protección de Datos (ficticia)
jurisdiction: XD
level: national
body: regulator
languages: [es]
every: 1d
relevance: auto
entries:
  - type: listing
    url: {web.url(AUTHORITY, "/publicaciones/")}
    links: "div.view-content a.doc"
""", encoding="utf-8")
    return folder
