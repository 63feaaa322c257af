"""An article listed by several feeds, sitemaps and APIs is fetched once and keeps the best of
their dates, whichever listing was read first (issue 15)."""

from __future__ import annotations

from datetime import datetime
from itertools import permutations

import pytest
from scrapy import Request

from digestcrawl.config import SourceConfig
from digestcrawl.crawl.feeds import Entry
from digestcrawl.text.dates import Dated
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, spider_crawler

URL = "https://news.example/story/1"
SOURCE = SourceConfig(name="example", kind="feed", category="news", url="https://news.example/rss",
                      timezone="Asia/Taipei")
LISTINGS = [
    Entry(URL, "Qwen story", published=datetime.fromisoformat("2026-01-19T00:00:00+08:00")),  # a sitemap's day
    Entry(URL, "Qwen story", published=datetime.fromisoformat("2026-01-19T10:00:00+08:00")),  # a feed's time
    Entry(URL, "Qwen story", published=None),  # an API without dates
    Entry(URL, "Qwen story", published=datetime.fromisoformat("2026-01-19T15:30:00+08:00")),  # a later listing
]


@pytest.mark.parametrize("order", list(permutations(range(len(LISTINGS))))[::5])
def test_listings_merge_to_the_same_date_in_any_order(order: tuple[int, ...]) -> None:
    spider = spider_crawler(NewsSpider, {"EXTRACTION_PROCESSES": 0}, model="qwen", **FIXTURE_WINDOW).spider
    assert isinstance(spider, NewsSpider)
    requests = [out for index in order for out in spider._follow_entry(LISTINGS[index], SOURCE, SOURCE.url, {})]
    assert len(requests) == 1 and isinstance(requests[0], Request)
    assert spider._listed[URL] == Dated(datetime.fromisoformat("2026-01-19T10:00:00+08:00"), "feed")
