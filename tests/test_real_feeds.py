"""Feeds and sitemaps shaped like real Chinese sources, through the crawl: a GB2312 feed starting
with a newline, a gzipped sitemap with and without Content-Encoding, and a gzip bomb."""

from __future__ import annotations

import gzip
import logging
import zlib
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import create_engine, text

from spiders.news import NewsSpider
from tests.conftest import run_crawl
from tests.tinyweb import Page, TinyWeb

ARTICLE = ("<html><head><title>Qwen {n}</title></head><body><article><h1>Qwen {n}</h1><p>Qwen {n} is "
           "an article about the Qwen model family, long enough to be kept as the text of a page "
           "and nothing else at all.</p></article></body></html>")
TITLE = "阿里千问 Qwen 开放第三方入驻，朱镕基"  # 镕 is GBK, not GB2312
MAX_SIZE = 256 * 1024


def urlset(urls: list[str]) -> bytes:
    items = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</urlset>\n").encode()


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(compressor.compress(b" " * 1024 * 1024) for _ in range(size // (1024 * 1024))) + compressor.flush()


@deferred_f_from_coro_f
async def test_real_shaped_feeds_and_gzipped_sitemaps(tmp_path: Path, crawl_settings: dict[str, Any],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    web = TinyWeb()
    feed = ('<?xml version="1.0" encoding="gb2312"?>\n<rss version="2.0"><channel><title>新闻</title>'
            f"<item><title>{TITLE}</title><link>{web.url('/a3.html')}</link>"
            "<pubDate>Mon, 19 Jan 2026 10:30:00 +0800</pubDate></item></channel></rss>\n")
    index = "".join(f"<sitemap><loc>{web.url(p)}</loc></sitemap>" for p in ("/n1.xml.gz", "/n2.xml", "/bomb.xml.gz"))
    web.pages.update({
        "/index.xml": Page('<?xml version="1.0"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                           f"{index}</sitemapindex>", content_type="application/xml"),
        # .xml.gz as a file: no Content-Encoding, so Scrapy hands over the gzip bytes.
        "/n1.xml.gz": Page(gzip.compress(b"\n" + urlset([web.url("/a1.html")])), content_type="application/x-gzip"),
        # Content-Encoding: Scrapy's HttpCompressionMiddleware inflates it before the spider.
        "/n2.xml": Page(gzip.compress(urlset([web.url("/a2.html")])), content_type="application/xml",
                        headers={"Content-Encoding": "gzip"}),
        "/bomb.xml.gz": Page(gzip_bomb(16 * 1024 * 1024), content_type="application/x-gzip"),
        "/feed.xml": Page(b"\n" + feed.encode("gb18030"), content_type="text/xml"),
        **{f"/a{n}.html": Page(ARTICLE.format(n=n)) for n in (1, 2, 3)},
    })
    sources = tmp_path / "sources.yaml"
    index_url, feed_url = web.url("/index.xml"), web.url("/feed.xml")
    sources.write_text("sources:\n"
                       f'  - {{name: index, kind: sitemap, category: news, url: "{index_url}"}}\n'
                       f'  - {{name: feed, kind: feed, category: news, follow: false, url: "{feed_url}"}}\n')
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources), "DIGEST_ON_CLOSE": False,
                "DOWNLOAD_MAXSIZE": MAX_SIZE}
    with web:
        crawler = await run_crawl(NewsSpider, settings, model="qwen", since="2000-01-01")

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert "digestcrawl/source/feed/errors/malformed_feed" not in stats  # a leading newline is no error
    assert stats["digestcrawl/source/feed/entries"] == 1
    assert stats["digestcrawl/source/index/entries"] == 2  # n1 and n2; the bomb has none
    assert stats["digestcrawl/source/index/errors/malformed_feed"] == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    [bomb] = errors
    assert "bomb.xml.gz" in bomb and f"too large: inflates past {MAX_SIZE} bytes" in bomb

    engine = create_engine(crawl_settings["STORE_URL"])
    with engine.connect() as conn:
        rows = {row.url.rsplit("/", 1)[1]: row for row in conn.execute(text("SELECT url, title FROM articles"))}
    engine.dispose()
    assert set(rows) == {"a1.html", "a2.html", "a3.html"}
    assert rows["a3.html"].title == TITLE  # the feed's own title, read as GB2312's superset
