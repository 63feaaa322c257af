"""Feed items pointing at private addresses are refused before they reach the downloader."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.utils.defer import deferred_f_from_coro_f

from spiders.news import NewsSpider
from tests.conftest import run_crawl

PRIVATE_TARGETS = [
    "http://169.254.169.254/latest/meta-data/iam/",  # cloud metadata endpoint
    "http://10.0.0.1/admin",
    "http://192.168.1.1/",
    "http://[fd00::1]/x",
    "http://127.0.0.2:9/",  # loopback, but not the allow-listed 127.0.0.1
]


@pytest.fixture
def feed_site(tmp_path: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    items = "".join(f"<item><title>Qwen {i}</title><link>{url}</link></item>"
                    for i, url in enumerate([*PRIVATE_TARGETS, f"{base}/ok.html"]))
    (tmp_path / "feed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
                                       f"{items}</channel></rss>")
    (tmp_path / "ok.html").write_text("<html><body><article><p>Qwen ok page, an article about the "
                                      "Qwen model family and nothing else.</p></article></body></html>")
    (tmp_path / "sources.yaml").write_text(
        f'sources:\n  - {{name: guarded, kind: feed, category: news, url: "{base}/feed.xml"}}\n')
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield str(tmp_path / "sources.yaml")
    server.shutdown()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@deferred_f_from_coro_f
async def test_private_addresses_never_reach_the_downloader(
        feed_site: str, crawl_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    reached: list[str] = []

    def record(request: Request, spider: Any) -> None:
        reached.append(request.url)

    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": feed_site, "DIGEST_ON_CLOSE": False}
    from scrapy.crawler import Crawler
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    crawler = Crawler(NewsSpider, project)
    crawler.signals.connect(record, signal=signals.request_reached_downloader)
    await crawler.crawl_async(model="qwen", since="2000-01-01")

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["digestcrawl/refused/private_address"] == len(PRIVATE_TARGETS)
    assert stats["digestcrawl/source/guarded/dropped/refused_address"] == len(PRIVATE_TARGETS)
    assert not [url for url in reached if any(url.startswith(t.rstrip("/")) for t in PRIVATE_TARGETS)]
    assert any(url.endswith("/ok.html") for url in reached)  # the public (allow-listed) one went
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Refused ")]
    assert len(refusals) == len(PRIVATE_TARGETS)
    assert any("169.254.169.254" in line and "non-public" in line for line in refusals)


@deferred_f_from_coro_f
async def test_without_allow_list_even_loopback_is_refused(
        feed_site: str, crawl_settings: dict[str, Any]) -> None:
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": feed_site, "NETGUARD_ALLOW": [],
                "DIGEST_ON_CLOSE": False}
    crawler = await run_crawl(NewsSpider, settings, model="qwen", since="2000-01-01")
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    # The feed itself lives on 127.0.0.1: nothing is fetched at all.
    assert stats["digestcrawl/refused/private_address"] >= 1
    assert stats.get("digestcrawl/source/guarded/fetched", 0) == 0
