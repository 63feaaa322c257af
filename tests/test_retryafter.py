"""Retry-After holds only the asking host's download slot; a wait over RETRYAFTER_MAX gives up."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from digestcrawl.crawl.guard.retryafter import retry_after_seconds
from spiders.news import NewsSpider
from tests.conftest import run_crawl
from tests.tinyweb import Page, TinyWeb

WAIT = 2  # seconds the throttled host asks for
TOLERANCE = 0.05  # timer and clock granularity
ARTICLE = ("<html><head><title>Qwen {n}</title></head><body><article><h1>Qwen {n}</h1><p>Qwen {n}: an "
           "article about the Qwen model family, long enough to be kept as the text of a page.</p>"
           "</article></body></html>")
RSS = "application/rss+xml"


def rss(*links: str) -> str:
    items = "".join(f"<item><title>Qwen {i}</title><link>{url}</link></item>" for i, url in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'


def sources(tmp_path: Path, **feeds: str) -> str:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n" + "".join(f'  - {{name: {name}, kind: feed, category: news, url: "{url}"}}\n'
                                           for name, url in feeds.items()))
    return str(path)


@pytest.fixture
def settings(crawl_settings: dict[str, Any]) -> dict[str, Any]:
    # Two hosts, two download slots: 127.0.0.1 and 127.0.0.2.
    return {**crawl_settings, "NETGUARD_ALLOW": ["127.0.0.1/32", "127.0.0.2/32"], "ROBOTSTXT_OBEY": False,
            "DIGEST_ON_CLOSE": False}


@deferred_f_from_coro_f
async def test_only_the_throttled_host_waits(tmp_path: Path, settings: dict[str, Any]) -> None:
    throttled = threading.Event()
    slow = TinyWeb(host="127.0.0.1")
    other = TinyWeb(host="127.0.0.2")
    slow.pages.update({
        "/feed.xml": Page(rss(), content_type=RSS, first=Page(b"slow down", status=429, content_type="text/plain",
                                                             headers={"Retry-After": str(WAIT)}, answered=throttled)),
        "/late.html": Page(ARTICLE.format(n="late")),
    })
    # The other host's feed is answered once the throttled host has said 429: everything it
    # lists is asked for while the throttled host waits, including a page on the throttled host.
    other.pages.update({
        "/feed.xml": Page(rss(*(other.url(f"/b{n}.html") for n in range(3)), slow.url("/late.html")),
                          content_type=RSS, wait_for=throttled),
        **{f"/b{n}.html": Page(ARTICLE.format(n=n)) for n in range(3)},
    })
    settings["DIGESTCRAWL_SOURCES_FILE"] = sources(tmp_path, slow=slow.url("/feed.xml"), other=other.url("/feed.xml"))
    with slow, other:
        crawler = await run_crawl(NewsSpider, settings, model="qwen", since="2000-01-01")

    first, retry = slow.hits_of("/feed.xml")
    assert retry.at - first.at >= WAIT - TOLERANCE
    # The other host went on meanwhile: its feed and pages were all asked for before the retry.
    others = [hit for hit in other.hits if hit.path.startswith("/b")]
    assert len(others) == 3 and all(first.at < hit.at < retry.at for hit in others)
    # The throttled host's other request waited for the end of the wait too.
    (late,) = slow.hits_of("/late.html")
    assert late.at - first.at >= WAIT - TOLERANCE
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["digestcrawl/retry_after/count"] == 1
    assert stats["digestcrawl/source/slow/fetched"] == 1  # the feed, once retried
    assert stats["digestcrawl/source/other/fetched"] == 5  # its feed, its three pages and the late one
    assert "digestcrawl/retry_after/gave_up" not in stats


@deferred_f_from_coro_f
async def test_a_wait_over_the_maximum_gives_up_at_once(
        tmp_path: Path, settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    web = TinyWeb({"/feed.xml": Page(b"come back tomorrow", status=429, content_type="text/plain",
                                     headers={"Retry-After": "86400"})})
    settings["DIGESTCRAWL_SOURCES_FILE"] = sources(tmp_path, patient=web.url("/feed.xml"))
    with web:
        crawler = await run_crawl(NewsSpider, settings, model="qwen", since="2000-01-01")
    assert len(web.hits_of("/feed.xml")) == 1  # neither this middleware nor RetryMiddleware retried it
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["digestcrawl/retry_after/gave_up"] == 1
    assert stats["digestcrawl/source/patient/errors/http_429"] == 1  # reported as failed
    assert "retry/count" not in stats and "digestcrawl/retry_after/count" not in stats
    assert any("asking to wait 86400s (> RETRYAFTER_MAX 120s): giving up" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0), (" 5 ", 5.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), ("", None), (None, None),
    ("-1", None),
])
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds
