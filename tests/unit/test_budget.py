"""The per-source budget: newest entries first, the rest deferred and counted, a skipped
request's place given to the next deferred one (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import scrapy
from scrapy.utils.test import get_crawler

from digestcrawl.config import SourceConfig
from digestcrawl.crawl.budget import SourceBudget, newest_first
from digestcrawl.crawl.feeds import Entry, parse_sitemap
from tests.conftest import project_settings

DAY = datetime(2026, 1, 19, tzinfo=UTC)
FEED = SourceConfig(name="big", kind="feed", category="news", url="https://big.example/rss")
CAPPED = SourceConfig(name="capped", kind="feed", category="news", url="https://capped.example/rss", max_requests=1)


def entry(n: int, hours: int | None) -> Entry:
    published = None if hours is None else DAY + timedelta(hours=hours)
    return Entry(f"https://big.example/{n}", f"Qwen {n}", published=published)


def test_newest_first_undated_last_in_document_order() -> None:
    entries = [entry(0, None), entry(1, 1), entry(2, 5), entry(3, None), entry(4, 3),
               Entry("https://big.example/5", "Qwen 5", updated=DAY + timedelta(hours=4))]
    assert [e.url.rsplit("/", 1)[1] for e in newest_first(entries)] == ["2", "5", "4", "1", "0", "3"]


def test_budget_defers_what_is_left_and_a_refund_releases_it() -> None:
    crawler = get_crawler(settings_dict=project_settings(SOURCE_MAX_REQUESTS=3))
    budget = SourceBudget.from_crawler(crawler)

    def build(n: int) -> scrapy.Request:
        return scrapy.Request(f"https://big.example/{n}")

    made = [budget.request(FEED, lambda n=n: build(n)) for n in range(5)]
    assert [r.url if r else None for r in made] == [*(f"https://big.example/{n}" for n in range(3)), None, None]
    assert crawler.stats.get_value("digestcrawl/source/big/deferred") == 2  # type: ignore[union-attr]
    # One of the three was stored and unchanged, never fetched: the first deferred one goes.
    released = budget.refund("big")
    assert released is not None and released.url == "https://big.example/3"
    assert crawler.stats.get_value("digestcrawl/source/big/deferred") == 1  # type: ignore[union-attr]
    # A source's own max_requests beats the setting.
    assert budget.request(CAPPED, lambda: build(9)) is not None
    assert budget.request(CAPPED, lambda: build(10)) is None


def test_no_cap_at_zero() -> None:
    crawler = get_crawler(settings_dict=project_settings(SOURCE_MAX_REQUESTS=0))
    budget = SourceBudget.from_crawler(crawler)
    assert all(budget.request(FEED, lambda: scrapy.Request("https://big.example/")) for _ in range(1000))


def test_an_index_lists_its_newest_sitemaps_first() -> None:
    index = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://big.example/undated.xml</loc></sitemap>
    <sitemap><loc>https://big.example/2025-12.xml</loc><lastmod>2025-12-31</lastmod></sitemap>
    <sitemap><loc>https://big.example/2026-01.xml</loc><lastmod>2026-01-19T08:00:00Z</lastmod></sitemap>
    <sitemap><loc>https://big.example/2025-11.xml</loc><lastmod>2025-11-30</lastmod></sitemap>
    </sitemapindex>"""
    assert parse_sitemap(index, UTC)[1] == [f"https://big.example/{name}.xml"
                                            for name in ("2026-01", "2025-12", "2025-11", "undated")]
