"""Hostile shapes fed to the functions directly: each call finishes in bounded time, and what it
gives is capped (page caps, title and lead only, field caps, plausible dates)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from scrapy.utils.test import get_crawler

from digestcrawl import settings as defaults
from digestcrawl.crawl.feeds import parse_feed, parse_sitemap
from digestcrawl.crawl.kinds.json_api import FieldMap, parse_json_api
from digestcrawl.items import Article
from digestcrawl.store.caps import FIELD_CAPS, cap_fields, drop_implausible_dates, truncate
from digestcrawl.text.dates import date_from_url, parse_datetime, plausible
from digestcrawl.text.encoding import decode_html
from digestcrawl.text.extraction import HEAD_SIZE, extract_head, extract_page
from digestcrawl.text.page import PageLimits, oversize
from pipelines.normalize import NormalizePipeline
from tests.hostilepages import LEAD, article, huge_title, many_links, nested_divs, padded

TAIPEI = ZoneInfo("Asia/Taipei")
URL = "http://127.0.0.1/news/hostile.html"
LIMITS = PageLimits(defaults.EXTRACTION_MAX_BYTES, defaults.EXTRACTION_MAX_TAGS, defaults.EXTRACTION_MAX_LINKS)
MEGABYTE = 1024 * 1024
# Generous for a loaded machine; an unbounded call takes minutes.
BOUND = 5.0


@contextmanager
def bounded(seconds: float = BOUND) -> Iterator[None]:
    start = time.perf_counter()
    yield
    assert time.perf_counter() - start < seconds


@pytest.mark.parametrize(("html", "reason"), [
    (many_links(50_000), "50,000 links (cap 10,000)"),
    (nested_divs(100_000), "200,0"),  # tags: each div opens and closes
    (padded(50 * MEGABYTE), "bytes (cap 5,242,880)"),
    (huge_title(MEGABYTE), None),  # a megabyte of title is few tags: extracted, then capped
    (article("Qwen 3 ships"), None),
])
def test_oversized_pages_are_caught_before_parsing(html: str, reason: str | None) -> None:
    body = html.encode()
    with bounded(1.0):
        found = oversize(body, LIMITS)
    assert (found is None) if reason is None else (found is not None and reason in found)


@pytest.mark.parametrize(("html", "lead"), [
    (many_links(50_000), LEAD),
    (nested_divs(100_000), LEAD),
    (padded(50 * MEGABYTE), LEAD),
    (huge_title(MEGABYTE), None),  # its description comes after the title, beyond the head read
])
def test_title_and_lead_of_any_page_in_milliseconds(html: str, lead: str | None) -> None:
    with bounded():
        head = extract_head(decode_html(html.encode())[0], URL, TAIPEI)
    assert head is not None and head.title.startswith("Qwen") and head.text == ""
    assert head.description == lead
    assert len(head.title) <= HEAD_SIZE


def test_a_megabyte_title_is_extracted_then_capped() -> None:
    with bounded():
        page = extract_page(huge_title(MEGABYTE), URL, TAIPEI)
    assert page is not None and len(page.title) > MEGABYTE - 100
    item = Article(url=URL, source="hostile", category="news", title=page.title, text=page.text)
    assert cap_fields(item) == ["title"]
    assert len(item.title) <= 300 and item.title.endswith(("very…", "long…", "title…"))  # after a word


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 10, "short"),
    ("exactly ten", 11, "exactly ten"),
    ("one two three four five", 16, "one two three…"),
    ("千問" * 100, 11, "千問千問千問千問千問…"),  # no spaces: cut at a character
    ("千問發布新模型。阿里巴巴宣布", 9, "千問發布新模型…"),  # at CJK punctuation
    ("a" * 50, 10, "aaaaaaaaa…"),
])
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_every_capped_field() -> None:
    item = Article(url=URL, source="hostile", category="news", title="T" * 5000, text="word " * 100_000,
                   snippet="s" * 5000, author="A" * 400, site_name="S" * 400, publisher="P" * 400,
                   language="x" * 1000)
    assert cap_fields(item) == [*FIELD_CAPS, "language"]
    for name, limit in FIELD_CAPS.items():
        assert len(getattr(item, name)) <= limit
    assert item.language is None
    assert item.text.endswith("word…")


NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "ok"), [
    (datetime(3000, 1, 1, tzinfo=UTC), False),
    (datetime(1989, 12, 31, 23, tzinfo=UTC), False),
    (datetime(1990, 1, 1, tzinfo=UTC), True),
    (NOW + timedelta(hours=23), True),  # a zone ahead of ours, a skewed clock
    (NOW + timedelta(days=2), False),
])
def test_plausible_dates(moment: datetime, ok: bool) -> None:
    assert plausible(moment, NOW) is ok


@pytest.mark.parametrize("value", ["3000-01-01T00:00:00Z", "Tue, 01 Jan 3000 00:00:00 GMT", "3000年1月1日",
                                   "1970-01-01", 0, 1e20, "99999999999", "0001-01-01"])
def test_implausible_dates_read_as_none(value: object) -> None:
    assert parse_datetime(value, TAIPEI) is None


def test_command_line_dates_may_be_any_time() -> None:
    assert parse_datetime("3000-01-01", TAIPEI, any_time=True) == datetime(3000, 1, 1, tzinfo=TAIPEI)


def test_implausible_dates_from_pages_urls_feeds_sitemaps_and_apis() -> None:
    head = '<meta property="article:published_time" content="3000-01-01T00:00:00Z">'
    page = extract_page(article("Qwen from the future", head), "http://127.0.0.1/2099/01/01/a.html", TAIPEI)
    assert page is not None and page.published is None and page.published_from is None
    assert date_from_url("http://127.0.0.1/2099/01/01/a.html") is None
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title><item><title>Qwen</title>'
           b"<link>http://127.0.0.1/a</link><pubDate>Tue, 01 Jan 3000 00:00:00 GMT</pubDate></item></channel></rss>")
    [entry] = parse_feed(rss, "http://127.0.0.1/feed", TAIPEI)
    assert entry.published is None
    sitemap = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               b"<url><loc>http://127.0.0.1/a</loc><lastmod>3000-01-01</lastmod></url></urlset>")
    [entry], _ = parse_sitemap(sitemap, TAIPEI)
    assert entry.published is None and entry.updated is None
    api = b'{"hits": [{"url": "http://127.0.0.1/a", "title": "Qwen", "created_at_i": 1e20}]}'
    [entry] = parse_json_api(api, FieldMap(items="hits", url="url", title="title", published="created_at_i"), TAIPEI)
    assert entry.published is None


def test_normalize_caps_every_article_and_clears_implausible_dates() -> None:
    crawler = get_crawler(settings_dict={})
    pipeline = NormalizePipeline.from_crawler(crawler)
    item = Article(url=URL, source="hostile", category="news", title="Qwen " * 200_000, site_name="S" * 400,
                   published=datetime(3000, 1, 1, tzinfo=UTC), published_from="jsonld",
                   modified=datetime(1970, 1, 1, tzinfo=UTC), modified_from="meta")
    with bounded():
        item = pipeline.process_item(item)
    assert len(item.title) <= 300 and len(item.site_name or "") <= 200
    assert (item.published, item.published_from, item.modified, item.modified_from) == (None, None, None, None)
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    for event in ("capped/title", "capped/site_name", "implausible_date/published", "implausible_date/modified"):
        assert stats[f"digestcrawl/{event}"] == 1
        assert stats[f"digestcrawl/source/hostile/{event}"] == 1
    assert drop_implausible_dates(item) == []
