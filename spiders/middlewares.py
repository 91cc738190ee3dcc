"""Downloader middlewares: bot walls and paywalls recognised (so health reports can say why),
robots.txt read as RFC 9309 says, and its Crawl-delay applied as a real floor."""

from __future__ import annotations

import re
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser

# The IgnoreRequest message of a request refused because its host's robots.txt is unavailable;
# the spiders' errback tells it from a plain robots.txt Disallow by this text.
ROBOTS_UNAVAILABLE = "robots.txt unavailable"

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


class _DisallowAll(RobotParser):
    """The rules of a host whose robots.txt could not be had (5xx, network error): nothing allowed."""

    def __init__(self, reason: str):
        self.reason = reason

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> _DisallowAll:
        return cls("no robots.txt")

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """robots.txt as RFC 9309 §2.3.1 reads it, where Scrapy allows everything on any failure.

    - 2xx: its rules (Scrapy's parser);
    - 4xx ("unavailable"): no rules, everything is allowed;
    - 5xx or no answer at all ("unreachable": timeout, refused, too many redirects): everything on
      the host is disallowed for this crawl. The refused requests fail with ROBOTS_UNAVAILABLE in
      their message, so the spider counts them as errors (and retries their pages on a later run)
      instead of a polite skip; `hkai/robots_unavailable` counts the hosts.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The host's rules, also for requests that waited while robots.txt was being fetched.

        Scrapy hands waiting requests one shared Deferred, and under the asyncio reactor each
        waiter's `asFuture` consumes its result: the second waiter onwards got None, i.e. no rules
        at all, so a Disallowed URL requested at the start of a crawl could be fetched. The rules
        are stored before the Deferred fires, so they are read from there instead.
        """
        from scrapy.utils.httpobj import urlparse_cached

        waited = await super().robot_parser(request)
        stored = self._parsers.get(urlparse_cached(request).netloc)
        return stored if stored is None or isinstance(stored, RobotParser) else waited

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._disallow_all(netloc, f"HTTP {response.status}")
            return
        if response.status >= 400:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._disallow_all(netloc, type(exc).__name__)

    def _disallow_all(self, netloc: str, reason: str) -> None:
        self._stats.inc_value("hkai/robots_unavailable")
        rules = _DisallowAll(reason)
        pending = self._parsers.get(netloc)
        self._parsers[netloc] = rules
        if pending is not None and not isinstance(pending, RobotParser):
            pending.callback(rules)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, _DisallowAll):
            from scrapy.utils.httpobj import urlparse_cached

            host = urlparse_cached(request).netloc
            raise IgnoreRequest(f"{ROBOTS_UNAVAILABLE} for {host} ({rp.reason}): everything disallowed")
        super().process_request_2(rp, request)


class CrawlDelayMiddleware:
    """Honour robots.txt `Crawl-delay` (SCMP asks for 10 s), which Scrapy parses but never applies.

    The delay is a floor on the host's download slot: set before every request and again after
    AutoThrottle adjusts the slot on each response, so AutoThrottle can slow down further but never
    go faster than the site asked. Scrapy varies each wait by ±`jitter`, so the slot's delay is
    raised to `crawl_delay / (1 - jitter)`: the shortest jittered wait is still the Crawl-delay.
    """

    def __init__(self, crawler: Crawler):
        from scrapy import signals

        self.crawler = crawler
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

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
        self._floor(request)

    def response_downloaded(self, response: Response, request: Request, **_: Any) -> None:
        """After AutoThrottle's own handler of this signal (extensions connect first)."""
        self._floor(request)

    def _floor(self, request: Request) -> None:
        from scrapy.utils.httpobj import urlparse_cached

        delay = self.delays.get(urlparse_cached(request).hostname or "")
        engine = self.crawler.engine
        if not delay or engine is None:
            return
        downloader = engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        if slot.jitter >= 1:  # a wait could shrink to 0: no variation on this host
            slot.jitter = 0.0
        floor = delay / (1 - slot.jitter)
        if slot.delay < floor:
            slot.delay = floor
