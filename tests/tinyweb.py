"""A tiny scripted web server on one loopback address, for the guard and Retry-After tests.

Each path answers a ``Page``: a status, headers and a body; optionally a different first answer
(a 429 then the page), a gate it waits on before answering, and an event it sets once it has
answered. Every request is logged with its arrival time (``time.monotonic``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

GATE_TIMEOUT = 60.0


@dataclass
class Page:
    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    first: Page | None = None  # answered instead, the first time only
    wait_for: threading.Event | None = None  # answer only once this is set
    answered: threading.Event | None = None  # set after answering

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Page:
        return cls(status=status, headers={"Location": location})


@dataclass(frozen=True)
class Hit:
    at: float  # time.monotonic() when the request arrived
    path: str


class TinyWeb:
    """``with TinyWeb({"/feed.xml": Page(...)}, host="127.0.0.2") as web: web.url("/feed.xml")``"""

    def __init__(self, pages: dict[str, Page] | None = None, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self.hits: list[Hit] = []
        self._answered_first: set[str] = set()
        self._lock = threading.Lock()
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                web._serve(self)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits_of(self, path: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path == path]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        with self._lock:
            self.hits.append(Hit(time.monotonic(), path))
            page = self.pages.get(path)
            if page is not None and page.first is not None and path not in self._answered_first:
                self._answered_first.add(path)
                page = page.first
        if page is None:
            page = Page(b"Not Found\n", status=404, content_type="text/plain")
        if page.wait_for is not None:
            page.wait_for.wait(GATE_TIMEOUT)
        body = page.body.encode() if isinstance(page.body, str) else page.body
        handler.send_response(page.status)
        handler.send_header("Content-Type", page.content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in page.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        if page.answered is not None:
            page.answered.set()

    def __enter__(self) -> TinyWeb:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
