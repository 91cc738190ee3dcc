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

from config.settings import get_settings
from spiders.replay_server import ReplayServer


class ReplayDownloadHandler(HTTP11DownloadHandler):
    """Sends each request to the replay server: the one at `HKAI_REPLAY_URL`, or one started here
    on the snapshot (`HKAI_SNAPSHOT_DIR`) for the crawl's lifetime, as a plain `scrapy crawl` needs."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        base = crawler.settings.get("HKAI_REPLAY_URL")
        self._server: ReplayServer | None = None
        if not base:
            self._server = ReplayServer(get_settings().snapshot_dir).__enter__()
            base = self._server.url
        self.base = base.rstrip("/")

    async def close(self) -> None:
        await super().close()
        if self._server is not None:
            self._server.__exit__()
            self._server = None

    async def download_request(self, request: Request) -> Response:
        proxied = request.replace(url=f"{self.base}/fetch?url={quote(request.url, safe='')}")
        response = await super().download_request(proxied)
        return response.replace(url=request.url, request=request)
