"""The relevance pipeline reads the title and the main text, not the page's description."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from digestcrawl.items import Article
from pipelines.relevance import RelevancePipeline
from spiders.news import NewsSpider
from tests.conftest import spider_crawler


def pipeline() -> RelevancePipeline:
    crawler = spider_crawler(NewsSpider, {"EXTRACTION_PROCESSES": 0}, model="qwen")
    relevance = RelevancePipeline.from_crawler(crawler)
    relevance.open_spider()
    return relevance


def item(title: str, text: str, snippet: str = "") -> Article:
    return Article(url="https://news.example/a", source="news", category="news", title=title, text=text,
                   snippet=snippet)


def test_a_mention_only_in_the_description_is_off_topic() -> None:
    with pytest.raises(DropItem, match="off_topic"):
        pipeline().process_item(item("Cloud revenue grows", "Revenue rose 20% on AI demand.",
                                     snippet="Related: Qwen3 tops leaderboard"))


def test_a_feed_entry_is_judged_on_its_summary() -> None:
    kept = pipeline().process_item(item("Alibaba cloud update", "", snippet="通義千問推出新版本"))
    assert kept.models == {"qwen": ["通義千問"]} and kept.placement == {"qwen": "lead"}


def test_placement_and_hits_are_recorded() -> None:
    kept = pipeline().process_item(item("Qwen3 tops the leaderboard", "Qwen3 scored first; Qwen again."))
    assert kept.placement == {"qwen": "title"} and kept.hits == {"qwen": 3}


def test_a_fullwidth_alias_is_kept_and_stored_as_written() -> None:
    """Issue 20: Ｑｗｅｎ matches Qwen (NFKC) and the item keeps its fullwidth title and text."""
    kept = pipeline().process_item(item("阿里發布Ｑｗｅｎ３", "Ｑｗｅｎ團隊今天發布新版本模型。"))
    assert kept.models == {"qwen": ["Qwen"]} and kept.placement == {"qwen": "title"} and kept.hits == {"qwen": 2}
    assert (kept.title, kept.text) == ("阿里發布Ｑｗｅｎ３", "Ｑｗｅｎ團隊今天發布新版本模型。")
