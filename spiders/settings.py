"""Scrapy settings: polite by default. Replay mode overrides only downloads (`spiders.fetch_mode`)."""

from __future__ import annotations

from config.settings import get_settings

_SETTINGS = get_settings()
BOT_NAME = "hkai"
SPIDER_MODULES = ["spiders.sources"]
NEWSPIDER_MODULE = "spiders.sources"

USER_AGENT = _SETTINGS.user_agent

# Politeness: robots.txt, one request at a time per site, AutoThrottle on top of the per-source
# delay, and the site's own Crawl-delay honoured by the robots middleware below.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 5.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 5.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Bad input: bounded pages, timeouts and redirects, so one bad source cannot hang a run.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
CLOSESPIDER_TIMEOUT = 1800

DOWNLOADER_MIDDLEWARES = {
    # robots.txt per RFC 9309: a 5xx or unreachable robots.txt disallows the host (Scrapy's allows all)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.middlewares.RobotsTxtMiddleware": 100,
    "spiders.middlewares.BotWallMiddleware": 590,
    "spiders.middlewares.CrawlDelayMiddleware": 120,
}
ITEM_PIPELINES = {
    "spiders.pipelines.ValidateItemPipeline": 100,
    "spiders.pipelines.StagingWriterPipeline": 800,
}
EXTENSIONS = {"scrapy.extensions.telnet.TelnetConsole": None}
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = _SETTINGS.scrapy_log_level
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

# Replay mode also for a plain `scrapy crawl SOURCE`: downloads go to the loopback replay server.
if _SETTINGS.crawl_mode == "replay":
    from spiders.fetch_mode import REPLAY_SCRAPY_SETTINGS

    globals().update(REPLAY_SCRAPY_SETTINGS)
