"""Scrapy settings of the declared spider: polite, bounded, conditional.

The CLI overrides a few of these from the configuration (user agent contact, timeouts, caps).
"""

from scrapy.settings import default_settings

from texts.vocabulary import MAX_DOCUMENT_BYTES, MAX_LINK_LENGTH, user_agent

BOT_NAME = "policywatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = user_agent()
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # opens a localhost port that can run code in the crawl

CONCURRENT_REQUESTS = 128  # politeness is per host (CONCURRENT_REQUESTS_PER_DOMAIN, AutoThrottle)
CONCURRENT_REQUESTS_PER_DOMAIN = 4
CONCURRENT_ITEMS = 1  # items are handed to one writer thread; more only costs CPU
# Responses waiting for the writer (bytes of their bodies) before the downloader takes no new
# request: Scrapy's 5 MB is about 90 pages held while a first crawl's writer records one page
# in 100 ms or so; 1 MB still keeps it busy, and the crawl's peak memory about 6 MB lower.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.1
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = MAX_DOCUMENT_BYTES
URLLENGTH_LIMIT = MAX_LINK_LENGTH
DOWNLOAD_WARNSIZE = 0
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_GIVE_UP_LOG_LEVEL = "INFO"  # failures are reported per source in the summary instead
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]  # 429 and 503 go through RetryAfterMiddleware
REDIRECT_MAX_TIMES = 5  # every hop is checked against the declared hosts (DeclaredHostsMiddleware)
HTTPERROR_ALLOW_ALL = True  # the spider classifies every status itself
DNS_TIMEOUT = 10
# Scrapy's HTTP handler, with the pages of `render: browser` sources rendered in Chromium.
DOWNLOAD_HANDLERS = {"http": "crawlers.browser.BrowserDownloadHandler",
                     "https": "crawlers.browser.BrowserDownloadHandler"}

# How long a Retry-After (429/503) may make us wait, and how many times we try again.
POLICYWATCH_RETRY_AFTER_MAX = 120
POLICYWATCH_RETRY_AFTER_TIMES = 2

# Every component runs for every response; those that do nothing here are switched off (the
# steady state is thousands of answers in which nothing changed).
# A component set to None is still imported (Scrapy loads every listed name to normalise it), so
# those that are off anyway are left out of the base lists instead: the cookies middleware's
# module imports tldextract and requests (0.13 s of every start-up), the telnet console's
# Twisted's terminal protocols (TELNETCONSOLE_ENABLED is off), and neither the HTTP cache, nor
# the memory sampler (no MEMUSAGE_LIMIT), nor the feed exporter (no FEEDS) has work here.
_NOT_LOADED = (".CookiesMiddleware", ".HttpCacheMiddleware", ".MemoryUsage", ".FeedExporter",
               ".RemoteControl", ".TelnetConsole")
DOWNLOADER_MIDDLEWARES_BASE = {name: order for name, order in
                               default_settings.DOWNLOADER_MIDDLEWARES_BASE.items()
                               if not name.endswith(_NOT_LOADED)}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # DeclaredHostsMiddleware does it
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
    "crawlers.middlewares.DeclaredHostsMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.SharedRobotsTxtMiddleware": 100,
    "crawlers.middlewares.RetryAfterMiddleware": 560,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawlers.middlewares.CheckedRedirectMiddleware": 600,  # Scrapy's own, loops told apart
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawlers.middlewares.CheapMetaRefreshMiddleware": 580,  # Scrapy's, pages without one unread
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": None,  # HTTPERROR_ALLOW_ALL anyway
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# Scrapy 2.19 re-reads and re-parses a callback's source on every response to warn about
# `return value` in a generator: its cache is keyed by the bound method, a new object each time.
# About 1 ms per response here; our callbacks have no such return.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy's base extensions without RemoteControl, which is off (REMOTE_CONTROL_ENABLED) but whose
# module is still imported when listed, and with it aiohttp: 0.36 s of every crawl's start-up.
EXTENSIONS_BASE = {name: order for name, order in default_settings.EXTENSIONS_BASE.items()
                   if not name.endswith(_NOT_LOADED)}
EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
    "scrapy.extensions.spiderstate.SpiderState": None,
    "scrapy.extensions.throttle.AutoThrottle": None,
    "scrapy.extensions.corestats.CoreStats": None,
    "crawlers.extensions.CloseStats": 0,  # CoreStats without its counters per response and item
    "crawlers.throttle.ConditionalAutoThrottle": 0,
    "crawlers.extensions.FinishRun": 10,  # only with POLICYWATCH_FINISH_RUN (Scrapyd nodes)
    "crawlers.progress.Progress": 20,  # only with POLICYWATCH_PROGRESS (`policywatch crawl`)
}
ITEM_PIPELINES = {
    "crawlers.pipelines.RecordPipeline": 300,
}

# Scrapy's stats and log lines, without their cost per response (see crawlers/outcomes.py and
# crawlers/extensions.py).
STATS_CLASS = "crawlers.outcomes.CrawlStats"
LOG_FORMATTER = "crawlers.extensions.QuietLogFormatter"
LOG_LEVEL = "WARNING"
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
FEED_EXPORT_ENCODING = "utf-8"
