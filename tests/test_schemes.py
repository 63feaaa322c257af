"""Only http(s) is ever fetched: other schemes in a sitemap index, a feed and redirects are
dropped before they are scheduled, each counted as ``dropped/bad_scheme`` with one log line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.project import get_project_settings
from sqlalchemy import create_engine, text

from spiders.news import NewsSpider
from tests.tinyweb import Page, TinyWeb

SECRET = "SECRET-MARKER-3f9a"
ARTICLE = ("<html><head><title>Qwen {n}</title></head><body><article><h1>Qwen {n}</h1><p>Qwen {n} is "
           "an article about the Qwen model family, long enough to be kept as the text of a page "
           "and nothing else at all.</p></article></body></html>")


def bad_urls(secret: Path) -> list[str]:
    return [f"file://{secret}", "file:///dev/zero", "ftp://127.0.0.1/sitemap.xml", "gopher://127.0.0.1:70/1x",
            "data:text/xml,%3Curlset/%3E", "javascript:alert(1)"]


def sitemap_index(children: list[str]) -> str:
    locs = "".join(f"<sitemap><loc>{c.replace('&', '&amp;')}</loc></sitemap>" for c in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'


def urlset(urls: list[str]) -> str:
    items = "".join(f"<url><loc>{u.replace('&', '&amp;')}</loc></url>" for u in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'


def rss(links: list[str]) -> str:
    items = "".join(f"<item><title>Qwen {i}</title><link>{u.replace('&', '&amp;')}</link></item>"
                    for i, u in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(f"{SECRET}\nroot:x:0:0:root:/root:/bin/bash\n")
    return path


@deferred_f_from_coro_f
async def test_other_schemes_are_dropped_everywhere(
        secret: Path, tmp_path: Path, crawl_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    bad = bad_urls(secret)
    web = TinyWeb()
    xml = "application/xml"
    web.pages.update({
        "/index.xml": Page(sitemap_index([*bad, web.url("/child.xml")]), content_type=xml),
        "/child.xml": Page(urlset([web.url("/a1.html"), "javascript:void(0)"]), content_type=xml),
        "/feed.xml": Page(rss([*bad[:1], *bad[2:], web.url("/a2.html"),
                               *(web.url(f"/redirect/{i}") for i in range(len(bad)))]),
                          content_type="application/rss+xml"),
        "/a1.html": Page(ARTICLE.format(n=1)),
        "/a2.html": Page(ARTICLE.format(n=2)),
        **{f"/redirect/{i}": Page.redirect(url) for i, url in enumerate(bad)},
    })
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n"
                       f'  - {{name: index, kind: sitemap, category: news, url: "{web.url("/index.xml")}"}}\n'
                       f'  - {{name: feed, kind: feed, category: news, url: "{web.url("/feed.xml")}"}}\n')
    reached: list[str] = []

    def record(request: Request, spider: Any) -> None:
        reached.append(request.url)

    project = get_project_settings()
    project.setdict({**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources), "DIGEST_ON_CLOSE": False},
                    priority="cmdline")
    crawler = Crawler(NewsSpider, project)
    crawler.signals.connect(record, signal=signals.request_reached_downloader)
    with web:
        await crawler.crawl_async(model="qwen", since="2000-01-01")

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    # Six bad sitemap children and one bad entry of the good child.
    assert stats["digestcrawl/source/index/dropped/bad_scheme"] == len(bad) + 1
    # Five bad feed entries, and each of the six redirects to a bad scheme.
    assert stats["digestcrawl/source/feed/dropped/bad_scheme"] == len(bad) - 1 + len(bad)
    assert stats["digestcrawl/dropped/bad_scheme"] == 3 * len(bad)
    assert stats["digestcrawl/refused/bad_scheme"] == len(bad)  # the redirects, in the downloader
    assert all(url.startswith("http://") for url in reached), reached
    assert len(web.hits_of("/child.xml")) == 1 and web.hits_of("/a1.html") and web.hits_of("/a2.html")
    assert all(len(web.hits_of(f"/redirect/{i}")) == 1 for i in range(len(bad)))  # not retried
    messages = [r.getMessage() for r in caplog.records]
    assert sum("is not an http(s) URL" in m for m in messages) == 2 * len(bad)
    assert sum("redirected to scheme" in m for m in messages) == len(bad)
    assert not [m for m in messages if "Traceback" in m or "HTTP 302" in m]

    engine = create_engine(crawl_settings["STORE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, feed_url, title, text FROM articles")).all()
    engine.dispose()
    assert rows, "the http(s) articles are stored"
    for row in rows:
        assert row.url.startswith("http://") and row.feed_url.startswith("http://"), row
        assert SECRET not in f"{row.title} {row.text}" and "root:x:0:0" not in (row.text or "")
