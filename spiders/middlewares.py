"""Downloader middleware that recognises bot walls and paywalls, so health reports can say why."""

from __future__ import annotations

import re

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

_CHALLENGE = re.compile(
    rb"(cf-browser-verification|cf-challenge|challenge-platform|Just a moment\.\.\.|"
    rb"Attention Required! \| Cloudflare|_Incapsula_Resource|captcha-delivery|px-captcha|"
    rb"Please enable JS and disable any ad blocker)",
    re.IGNORECASE,
)
_PAYWALL = re.compile(rb'"isAccessibleForFree"\s*:\s*"?(false|False)"?')


def bot_wall_reason(status: int, body: bytes, headers: dict[bytes, list[bytes]] | None = None) -> str | None:
    """Why a response is a block page rather than content, or None."""
    head = body[:20000]
    server = b"".join((headers or {}).get(b"Server", [])).lower()
    if status in {403, 429, 503} and (b"cloudflare" in server or _CHALLENGE.search(head)):
        return f"{status} bot challenge"
    if status == 403:
        return "403 forbidden"
    if status == 429:
        return "429 rate limited"
    if status == 202 and (not body.strip() or b"<script" in head.lower()):
        return "202 JavaScript challenge"
    if status == 200 and _CHALLENGE.search(head) and len(body) < 30000:
        return "challenge page"
    return None


class BotWallMiddleware:
    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BotWallMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        assert self.stats is not None
        headers = {k: list(v) for k, v in response.headers.items()}
        reason = bot_wall_reason(response.status, response.body, headers)
        if reason:
            self.stats.inc_value("hkai/blocked")
            request.meta["hkai_blocked"] = reason
            response.meta["hkai_blocked"] = reason
        elif response.status == 200 and _PAYWALL.search(response.body[:400000]):
            self.stats.inc_value("hkai/paywalled")
        return response


class CrawlDelayMiddleware:
    """Honour robots.txt `Crawl-delay` (SCMP asks for 10 s), which Scrapy parses but never applies.

    The delay is enforced as a floor on the host's download slot before every request, so
    AutoThrottle can slow down further but never go faster than the site asked.
    """

    def __init__(self, crawler: Crawler):
        from scrapy import signals

        self.crawler = crawler
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        return cls(crawler)

    def robots_parsed(self, robotparser: object, request: Request) -> None:
        from scrapy.utils.httpobj import urlparse_cached

        user_agent = self.crawler.settings.get("USER_AGENT")
        delay = robotparser.crawl_delay(user_agent)  # type: ignore[attr-defined]
        if delay:
            self.delays[urlparse_cached(request).hostname or ""] = float(delay)
            assert self.crawler.stats is not None
            self.crawler.stats.set_value("hkai/crawl_delay", float(delay))

    def process_request(self, request: Request) -> None:
        from scrapy.utils.httpobj import urlparse_cached

        delay = self.delays.get(urlparse_cached(request).hostname or "")
        engine = self.crawler.engine
        if not delay or engine is None:
            return
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None and slot.delay < delay:
            slot.delay = delay
