"""Replay mode: a download handler that sends every request to the loopback replay server.

Everything above the handler (robots.txt, AutoThrottle, redirects, retries, conditional GET,
bot-wall detection) sees the original URLs, so live and replay crawls run the same code.
"""

from __future__ import annotations

from urllib.parse import quote

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response


class ReplayDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        base = crawler.settings.get("HKAI_REPLAY_URL")
        if not base:
            raise RuntimeError("HKAI_REPLAY_URL is not set: replay mode needs the replay server")
        self.base = base.rstrip("/")

    async def download_request(self, request: Request) -> Response:
        proxied = request.replace(url=f"{self.base}/fetch?url={quote(request.url, safe='')}")
        response = await super().download_request(proxied)
        return response.replace(url=request.url, request=request)
