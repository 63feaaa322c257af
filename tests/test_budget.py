"""Per-source budgets (issue 20): a 50,000-URL sitemap and a 20,000-entry feed make a bounded
crawl that exits 0 and reports what it deferred; the newest entries go first, and the next run
fetches what the first deferred."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import yaml
from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import create_engine, select

from digestcrawl.store.models import ArticleRow
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, run_crawl, scrapy_command

SINCE = datetime.fromisoformat(FIXTURE_WINDOW["since"]).astimezone(UTC)
CRAWL_LIMIT_SECONDS = 300
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "gu", "shi", "ren", "tol", "bar", "quin"]


def published(n: int) -> datetime:
    """Entry ``n``'s date: a larger ``n`` is newer, all within the crawl's window."""
    return SINCE + timedelta(hours=1, seconds=5 * n)


def page(n: int) -> bytes:
    """An article about Qwen whose text no other page shares (no copies among them)."""
    words = random.Random(n)
    paragraphs = "".join(
        "<p>" + " ".join("".join(words.choices(SYLLABLES, k=3)) for _ in range(60)) + ".</p>" for _ in range(6))
    title = f"Qwen release note {n}"
    return (f"<!DOCTYPE html><html lang=en><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>The Qwen team published release note {n} today.</p>{paragraphs}</article></body></html>").encode()


class BigWeb:
    """A sitemap of ``sitemap`` URLs and a feed of ``feed`` entries (both shuffled, so that
    document order is not date order) and their article pages, on 127.0.0.1."""

    def __init__(self, sitemap: int, feed: int) -> None:
        self.requests: list[str] = []
        self.documents: dict[str, bytes] = {}
        self._lock = threading.Lock()
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with web._lock:
                    web.requests.append(path)
                status, kind = 200, "application/xml"
                if path in web.documents:
                    body = web.documents[path]
                elif path.startswith(("/s/", "/f/")):
                    body, kind = page(int(path.rsplit("/", 1)[1].removesuffix(".html"))), "text/html; charset=utf-8"
                elif path == "/robots.txt":
                    body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
                else:
                    status, body, kind = 404, b"not found", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.documents["/sitemap.xml"] = self._sitemap(sitemap)
        self.documents["/feed.xml"] = self._feed(feed)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _sitemap(self, count: int) -> bytes:
        order = list(range(count))
        random.Random(1).shuffle(order)
        urls = "".join(f"<url><loc>{self.base}/s/{n}.html</loc><lastmod>{published(n).isoformat()}</lastmod></url>"
                       for n in order)
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>").encode()

    def _feed(self, count: int) -> bytes:
        order = list(range(count))
        random.Random(2).shuffle(order)
        items = "".join(f"<item><title>Qwen release note {n}</title><link>{self.base}/f/{n}.html</link>"
                        f"<pubDate>{format_datetime(published(n), usegmt=True)}</pubDate></item>" for n in order)
        return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>big</title>'
                f"<link>{self.base}/</link><description>big</description>{items}</channel></rss>").encode()

    def pages(self, prefix: str) -> set[int]:
        with self._lock:
            return {int(p.rsplit("/", 1)[1].removesuffix(".html")) for p in self.requests if p.startswith(prefix)}

    def write_sources(self, path: Path) -> Path:
        sources = [{"name": "big_sitemap", "kind": "sitemap", "category": "news", "url": f"{self.base}/sitemap.xml"},
                   {"name": "big_feed", "kind": "feed", "category": "news", "url": f"{self.base}/feed.xml"}]
        path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
        return path

    def __enter__(self) -> BigWeb:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def test_huge_sitemap_and_feed_make_a_bounded_crawl_that_reports_what_it_deferred(
        crawl_settings: dict[str, Any], tmp_path: Path) -> None:
    budget = 8
    with BigWeb(sitemap=50_000, feed=20_000) as web:
        settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": web.write_sources(tmp_path / "sources.yaml"),
                    "SOURCE_MAX_REQUESTS": budget, "HTTPCACHE_ENABLED": False, "DIGEST_ON_CLOSE": False,
                    "NETGUARD_ALLOW": "127.0.0.1/32", "LOG_FILE": tmp_path / "crawl.log"}
        started = time.monotonic()
        finished = subprocess.run(scrapy_command("crawl", "news", spider_args={"model": "qwen", **FIXTURE_WINDOW},
                                                 settings=settings),
                                  capture_output=True, text=True, timeout=CRAWL_LIMIT_SECONDS, check=False)
        seconds = time.monotonic() - started
        # The newest entries of each source, whatever their order in the document.
        assert web.pages("/s/") == set(range(50_000 - budget, 50_000))
        assert web.pages("/f/") == set(range(20_000 - budget, 20_000))
    assert finished.returncode == 0, (tmp_path / "crawl.log").read_text("utf-8")[-3000:]
    assert seconds <= CRAWL_LIMIT_SECONDS
    [report] = (tmp_path / "reports").glob("news-*.json")
    sources = json.loads(report.read_text("utf-8"))["sources"]
    assert sources["big_sitemap"]["deferred"] == 50_000 - budget
    assert sources["big_feed"]["deferred"] == 20_000 - budget
    assert sources["big_sitemap"]["stored"] == sources["big_feed"]["stored"] == budget
    assert "Source big_sitemap reached its budget of 8 requests" in (tmp_path / "crawl.log").read_text("utf-8")


@deferred_f_from_coro_f
async def test_the_next_run_fetches_what_the_first_deferred(crawl_settings: dict[str, Any], tmp_path: Path) -> None:
    with BigWeb(sitemap=0, feed=25) as web:
        settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(web.write_sources(tmp_path / "sources.yaml")),
                    "SOURCE_MAX_REQUESTS": 10, "HTTPCACHE_ENABLED": False, "DIGEST_ON_CLOSE": False}
        runs = []
        for _ in range(3):
            web.requests.clear()
            crawler = await run_crawl(NewsSpider, settings, model="qwen", source="big_feed", **FIXTURE_WINDOW)
            assert crawler.stats is not None
            runs.append((web.pages("/f/"), crawler.stats.get_value("digestcrawl/source/big_feed/deferred")))
    # Each run downloads the newest entries not yet stored: the stored ones are skipped without
    # a request, and their places in the budget go to the entries deferred so far.
    assert runs == [(set(range(15, 25)), 15), (set(range(5, 15)), 5), (set(range(5)), 0)]
    engine = create_engine(settings["STORE_URL"])
    with engine.connect() as conn:
        urls = set(conn.execute(select(ArticleRow.url)).scalars())
    engine.dispose()
    assert urls == {f"{web.base}/f/{n}.html" for n in range(25)}
