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
from tests.tinyweb import Page, TinyWeb

PRIVATE_TARGETS = [
    "http://169.254.169.254/latest/meta-data/iam/",  # cloud metadata endpoint
    "http://10.0.0.1/admin",
    "http://192.168.1.1/",
    "http://[fd00::1]/x",
    "http://127.0.0.2:9/",  # loopback, but not the allow-listed 127.0.0.1
    "http://127.0.0.2.:9/dot",  # the same literal with a trailing dot: not a name for DNS
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


def _feed_sources(tmp_path: Path, feed_url: str, render: bool = False) -> str:
    extra = ", render: playwright" if render else ""
    path = tmp_path / "guard-sources.yaml"
    path.write_text(f'sources:\n  - {{name: guarded, kind: feed, category: news, url: "{feed_url}"{extra}}}\n')
    return str(path)


def _rss(*links: str) -> str:
    items = "".join(f"<item><title>Qwen {i}</title><link>{url}</link></item>" for i, url in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'


ARTICLE = ("<html><head><title>Qwen page</title></head><body><article><h1>Qwen page</h1><p>An article "
           "about the Qwen model family, long enough to be kept as the text of a page and nothing "
           "else at all.</p>{extra}</article></body></html>")


@pytest.mark.parametrize("allowed", [True, False])
@deferred_f_from_coro_f
async def test_host_names_are_judged_by_the_resolver(
        allowed: bool, tmp_path: Path, crawl_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """``localhost`` is no IP literal: only the DNS answer (127.0.0.1) tells it is loopback."""
    web = TinyWeb()
    base = f"http://localhost:{web.port}"
    web.pages.update({"/feed.xml": Page(_rss(f"{base}/ok.html"), content_type="application/rss+xml"),
                      "/ok.html": Page(ARTICLE.format(extra=""))})
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": _feed_sources(tmp_path, f"{base}/feed.xml"),
                "NETGUARD_ALLOW": ["127.0.0.1/32", "::1/128"] if allowed else [], "DIGEST_ON_CLOSE": False}
    with web:
        crawler = await run_crawl(NewsSpider, settings, model="qwen", since="2000-01-01")
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    if allowed:
        assert web.hits_of("/feed.xml") and web.hits_of("/ok.html")
        assert "digestcrawl/refused/private_address" not in stats
        return
    assert web.hits == []
    # The resolver refuses the first request (robots.txt, unless an earlier crawl in this process
    # left its verdict cached), the feed then without another lookup; neither is retried as a
    # DNS failure.
    assert "retry/count" not in stats and "digestcrawl/source/guarded/errors/download" not in stats
    assert stats["digestcrawl/source/guarded/dropped/refused_address"] == 1
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Refused ")]
    line = "Refused {}: localhost: non-public address 127.0.0.1 (loopback); see NETGUARD_ALLOW"
    assert refusals[-1] == line.format(f"{base}/feed.xml")
    assert refusals[:-1] in ([], [line.format(f"{base}/robots.txt")])
    assert stats["digestcrawl/refused/private_address"] == len(refusals)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")
@pytest.mark.parametrize("allowed", [False, True])
@deferred_f_from_coro_f
async def test_chromium_never_fetches_a_private_subresource(
        allowed: bool, tmp_path: Path, crawl_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """A rendered page's image, script and frame on 127.0.0.2 (loopback, but not the allowed
    127.0.0.1) are aborted before Chromium connects: that server sees no request at all. Allowed,
    the same page loads them (the test can see a fetch)."""
    private = TinyWeb({"/pixel.png": Page(b"\x89PNG", content_type="image/png")}, host="127.0.0.2")
    extra = (f'<img src="{private.url("/pixel.png")}"><script src="{private.url("/x.js")}"></script>'
             f'<iframe src="{private.url("/frame.html")}"></iframe><img src="file:///etc/passwd">')
    web = TinyWeb()
    web.pages.update({"/feed.xml": Page(_rss(web.url("/page.html")), content_type="application/rss+xml"),
                      "/page.html": Page(ARTICLE.format(extra=extra))})
    settings = {**crawl_settings, "DIGEST_ON_CLOSE": False,
                "DIGESTCRAWL_SOURCES_FILE": _feed_sources(tmp_path, web.url("/feed.xml"), render=True)}
    if allowed:
        settings["NETGUARD_ALLOW"] = ["127.0.0.1/32", "127.0.0.2/32"]
    with web, private:
        crawler = await run_crawl(NewsSpider, settings, model="qwen", since="2000-01-01")
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert web.hits_of("/page.html") and stats.get("playwright/page_count", 0) >= 1  # rendered
    if allowed:
        assert private.hits_of("/pixel.png")
        return
    assert private.hits == []
    aborted = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Aborted browser request")]
    assert len(aborted) == stats["digestcrawl/refused/browser_request"] >= 3
    assert all("127.0.0.2" in line or "file:" in line for line in aborted), aborted
