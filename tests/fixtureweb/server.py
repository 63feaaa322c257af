"""Serve the fixture web: one stdlib HTTP server per site directory, all on 127.0.0.1.

Every directory under ``site/`` is a "site" with its own port, hence its own netloc, so
per-domain logic (robots.txt, throttling, duplicate detection across publishers) behaves as on
the real web. Files may contain ``{{site:NAME}}`` tokens; they are replaced with the base URL of
site NAME in the raw bytes (the tokens are ASCII), so Big5, GB18030 and Shift_JIS pages keep
their encoding.

Behaviour worth knowing (see README.md):

* routing: request path → ``site/<site>/<path>`` (query string ignored, ``/`` → ``index.html``),
  404 when missing, no way out of the site directory;
* Content-Type from the file name: ``*.rss.xml`` → application/rss+xml, ``*.atom.xml`` →
  application/atom+xml, ``*.big5.html`` → ``charset=big5``, ``*.mislabelled.html`` →
  ``charset=utf-8`` although the bytes are GB18030, ``*.sjis.html`` → no charset parameter;
* any path under ``/throttled/`` answers 429 with ``Retry-After: 1`` the first time it is
  requested (per server), then normally;
* ``ETag`` (hash of the served bytes) and ``Last-Modified`` (file mtime), answered with 304 on
  a matching conditional GET;
* every request is logged in ``FixtureWeb.requests``.

``python -m tests.fixtureweb.server`` serves it in the foreground and prints each base URL.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import re
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
SITE_ROOT = HERE / "site"
SOURCES_TEMPLATE = HERE / "sources.yaml"
# Releases, papers, AI press and an official blog (tests/test_first_party.py), with their models.
FIRST_PARTY_TEMPLATE = HERE / "first_party.yaml"
FIRST_PARTY_MODELS = HERE / "first_party_models.yaml"

TOKEN_TEXT = re.compile(r"\{\{site:([a-z0-9_]+)\}\}")
TOKEN_BYTES = re.compile(rb"\{\{site:([a-z0-9_]+)\}\}")
THROTTLED_PREFIX = "/throttled/"
# Requests under /blocked/ always answer 429 with no Retry-After: a source that blocks us.
BLOCKED_PREFIX = "/blocked/"
# Requests under /gate/ wait until the test opens the gate: a crawl that provably stays running.
GATE_PREFIX = "/gate/"
GATE_TIMEOUT = 120.0
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class LoggedRequest:
    site: str
    method: str
    path: str  # including the query string, as requested
    headers: dict[str, str] = field(default_factory=dict)


def content_type(name: str) -> str:
    """The Content-Type header for a file name (see the module docstring)."""
    lower = name.lower()
    if lower.endswith(".rss.xml"):
        base = "application/rss+xml"
    elif lower.endswith(".atom.xml"):
        base = "application/atom+xml"
    elif lower.endswith(".xml"):
        base = "application/xml"
    elif lower.endswith((".html", ".htm")):
        base = "text/html"
    elif lower.endswith(".json"):
        base = "application/json"
    elif lower.endswith(".png"):
        return "image/png"
    elif lower.endswith(".txt"):
        base = "text/plain"
    else:
        return "application/octet-stream"
    if lower.endswith(".big5.html"):
        return f"{base}; charset=big5"
    if lower.endswith(".sjis.html"):
        return base  # the page declares <meta charset="shift_jis"> itself
    # *.mislabelled.html: GB18030 bytes, labelled utf-8 on purpose.
    return f"{base}; charset=utf-8"


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, web: FixtureWeb, site: str, root: Path) -> None:
        self.web = web
        self.site = site
        self.root = root
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"
    server_version = "FixtureWeb/1.0"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.web.verbose:
            sys.stderr.write(f"[{self.server.site}] {format % args}\n")

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        web, site = self.server.web, self.server.site
        web._log(LoggedRequest(site, self.command, self.path, dict(self.headers.items())))
        path = unquote(urlsplit(self.path).path) or "/"
        if path.startswith(GATE_PREFIX):
            web.gate.wait(GATE_TIMEOUT)
            path = "/" + path[len(GATE_PREFIX):]
        if path.startswith(BLOCKED_PREFIX):
            self._send_simple(HTTPStatus.TOO_MANY_REQUESTS, b"Too Many Requests\n", head)
            return
        if path.startswith(THROTTLED_PREFIX) and web._first_time(site, path):
            self._send_simple(HTTPStatus.TOO_MANY_REQUESTS, b"Too Many Requests\n", head,
                              {"Retry-After": str(RETRY_AFTER_SECONDS)})
            return
        file = self._resolve(path)
        if file is None:
            self._send_simple(HTTPStatus.NOT_FOUND, b"Not Found\n", head)
            return
        if file.is_dir():
            self._send_simple(HTTPStatus.MOVED_PERMANENTLY, b"", head, {"Location": path + "/"})
            return
        body = web.render_bytes(file.read_bytes())
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        mtime = int(file.stat().st_mtime)
        headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
                   "Cache-Control": "max-age=0, must-revalidate"}
        if self._not_modified(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type(file.name))
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _resolve(self, path: str) -> Path | None:
        root = self.server.root
        relative = path.lstrip("/")
        if path.endswith("/"):
            relative += "index.html"
        if "\x00" in relative:
            return None
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root) or not candidate.exists():
            return None
        return candidate

    def _not_modified(self, etag: str, mtime: int) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
            return etag in tags or "*" in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return since is not None and mtime <= int(since.timestamp())
        return False

    def _send_simple(self, status: HTTPStatus, body: bytes, head: bool,
                     headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class FixtureWeb:
    """All fixture sites, each on its own 127.0.0.1 port. Use as a context manager."""

    def __init__(self, root: Path = SITE_ROOT, verbose: bool = False) -> None:
        self.root = root.resolve()
        self.verbose = verbose
        self.sites: tuple[str, ...] = tuple(sorted(p.name for p in self.root.iterdir() if p.is_dir()))
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._seen_throttled: set[tuple[str, str]] = set()
        self.gate = threading.Event()
        self._logged = threading.Condition(self._lock)
        self._servers: dict[str, _SiteServer] = {}
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FixtureWeb:
        if self._servers:
            return self
        try:
            for site in self.sites:
                server = _SiteServer(self, site, self.root / site)
                self._servers[site] = server
                thread = threading.Thread(target=server.serve_forever, name=f"fixtureweb-{site}",
                                          daemon=True)
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------

    def base(self, site: str) -> str:
        """``http://127.0.0.1:<port>`` of a site, without trailing slash."""
        try:
            server = self._servers[site]
        except KeyError:
            if site not in self.sites:
                raise KeyError(f"no fixture site {site!r}; sites: {', '.join(self.sites)}") from None
            raise RuntimeError("FixtureWeb is not started") from None
        return f"http://127.0.0.1:{server.server_address[1]}"

    def url(self, site: str, path: str) -> str:
        return f"{self.base(site)}/{path.lstrip('/')}"

    def render_text(self, text: str) -> str:
        """Replace every ``{{site:NAME}}`` with the base URL of site NAME."""
        return TOKEN_TEXT.sub(lambda m: self.base(m.group(1)), text)

    def render_bytes(self, data: bytes) -> bytes:
        """``render_text`` on raw bytes (any ASCII-compatible encoding)."""
        return TOKEN_BYTES.sub(lambda m: self.base(m.group(1).decode("ascii")).encode("ascii"), data)

    def write_sources(self, dest_path: str | Path, template: Path = SOURCES_TEMPLATE) -> Path:
        """Write ``template`` (``sources.yaml``) with the tokens replaced by this server's base URLs."""
        dest = Path(dest_path)
        dest.write_text(self.render_text(template.read_text(encoding="utf-8")), encoding="utf-8")
        return dest

    # -- request log -----------------------------------------------------------------------

    def reset(self) -> None:
        """As if just started: an empty request log, the throttled paths throttle again, and
        the gate is closed."""
        with self._lock:
            self.requests.clear()
            self._seen_throttled.clear()
            self.gate.clear()

    def _log(self, entry: LoggedRequest) -> None:
        with self._logged:
            self.requests.append(entry)
            self._logged.notify_all()

    def wait_for_request(self, path_prefix: str, timeout: float = 60.0, count: int = 1) -> bool:
        """Block until ``count`` requests for paths starting with ``path_prefix`` have arrived."""
        with self._logged:
            return self._logged.wait_for(
                lambda: sum(r.path.startswith(path_prefix) for r in self.requests) >= count, timeout)

    def _first_time(self, site: str, path: str) -> bool:
        with self._lock:
            key = (site, path)
            if key in self._seen_throttled:
                return False
            self._seen_throttled.add(key)
            return True


def main() -> None:
    with FixtureWeb(verbose=True) as web:
        for site in web.sites:
            print(f"{site:10} {web.base(site)}/", flush=True)
        print("Serving the fixture web; Ctrl-C stops.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
