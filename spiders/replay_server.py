"""Loopback HTTP server that answers by original URL from a saved snapshot.

The spiders run unchanged in replay mode: only the download handler differs, and it sends each
request here as `GET /fetch?url=<original URL>`. The server speaks real HTTP (status codes,
ETag / Last-Modified with 304, redirects, charsets), so the crawl exercises Scrapy's whole
middleware stack. Manifest entries can also describe faults for tests: any `status`, a redirect
(`location`), a `delay` in seconds before answering, and `hang` (the headers are sent, the body
never is, until the server stops). Every request is kept in `ReplayServer.access_log` with its
arrival time, so tests can measure what a crawl really did (e.g. the spacing of its requests).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from transforms.urls import canonical_url


@dataclass(frozen=True)
class SnapshotEntry:
    url: str
    file: str | None
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None
    delay: float = 0.0
    last_modified: float | None = None
    hang: bool = False


@dataclass(frozen=True)
class Access:
    """One request as the server saw it: arrival time (time.monotonic and wall clock), URL, answer."""

    monotonic: float
    at: float
    url: str
    status: int = field(default=0, compare=False)


class Snapshot:
    """A manifest (`manifest.jsonl`) of saved responses, indexed by canonical URL."""

    def __init__(self, root: Path):
        self.root = root
        self.entries: dict[str, SnapshotEntry] = {}
        manifest = root / "manifest.jsonl"
        for line_no, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            record: dict[str, Any] = json.loads(line)
            try:
                entry = SnapshotEntry(
                    url=record["url"],
                    file=record.get("file"),
                    status=int(record.get("status", 200)),
                    content_type=record.get("content_type", "text/html; charset=utf-8"),
                    location=record.get("location"),
                    delay=float(record.get("delay", 0.0)),
                    last_modified=record.get("last_modified"),
                    hang=bool(record.get("hang", False)),
                )
            except KeyError as exc:
                raise ValueError(f"{manifest}:{line_no}: missing {exc}") from exc
            self.entries[canonical_url(entry.url)] = entry
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def lookup(self, url: str) -> SnapshotEntry | None:
        return self.entries.get(canonical_url(url))

    def body(self, entry: SnapshotEntry) -> bytes:
        if not entry.file:
            return b""
        with self._lock:
            if entry.file not in self._bodies:
                path = self.root / entry.file
                data = path.read_bytes()
                self._bodies[entry.file] = gzip.decompress(data) if path.suffix == ".gz" else data
            return self._bodies[entry.file]


def _handler_for(
    snapshot: Snapshot, access_log: list[Access], stopping: threading.Event
) -> type[BaseHTTPRequestHandler]:
    class ReplayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hkai-replay/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            arrived, arrived_at = time.monotonic(), time.time()
            query = parse_qs(urlsplit(self.path).query)
            original = (query.get("url") or [""])[0]
            entry = snapshot.lookup(original) if original else None
            access_log.append(Access(arrived, arrived_at, original, entry.status if entry else 404))
            if entry is None:
                self._send(404, {"Content-Type": "text/plain"}, b"not in snapshot")
                return
            if entry.delay:
                stopping.wait(entry.delay)
            if entry.hang:  # headers promise a body that never comes, until the server stops
                self.send_response(entry.status)
                self.send_header("Content-Type", entry.content_type)
                self.send_header("Content-Length", str(max(1, len(snapshot.body(entry)))))
                self.end_headers()
                self.wfile.flush()
                stopping.wait()
                self.close_connection = True
                return
            if entry.location:
                self._send(entry.status or 301, {"Location": entry.location})
                return
            body = snapshot.body(entry)
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            headers = {"Content-Type": entry.content_type, "ETag": etag}
            if entry.last_modified:
                headers["Last-Modified"] = formatdate(entry.last_modified, usegmt=True)
            if entry.status == 200 and self.headers.get("If-None-Match") == etag:
                self._send(304, {"ETag": etag})
                return
            self._send(entry.status, headers, body)

    return ReplayHandler


class ReplayServer:
    """Runs the replay HTTP server on 127.0.0.1 in a daemon thread (port 0 = any free port)."""

    def __init__(self, root: Path, port: int = 0):
        self.snapshot = Snapshot(root)
        self.access_log: list[Access] = []
        self._stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", port), _handler_for(self.snapshot, self.access_log, self._stopping)
        )
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="hkai-replay", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # releases delayed and hanging answers
        self.httpd.shutdown()
        self.httpd.server_close()
