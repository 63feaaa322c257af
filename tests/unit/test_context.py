"""The crawl context (built once from the spider arguments and settings) and the crawler's one
database, built with scrapy.utils.test.get_crawler."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy.engine import Engine

from digestcrawl import settings as defaults
from digestcrawl.crawl.args import ArgumentError
from digestcrawl.crawl.context import CrawlContext
from digestcrawl.crawl.incremental import SkipUnchangedArticles
from digestcrawl.store import database as database_module
from digestcrawl.store.database import Database
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from spiders.news import NewsSpider
from tests.conftest import spider_crawler

PROJECT = {name: getattr(defaults, name) for name in dir(defaults) if name.isupper()}
TAIPEI = {"DIGEST_TIMEZONE": "Asia/Taipei"}
NOW = datetime(2026, 1, 19, 20, tzinfo=UTC)  # 2026-01-20 04:00 in Taipei


@pytest.mark.parametrize(("raw", "settings", "day", "crawl_id", "inside", "outside"), [
    # No until: the day is today in the digest's time zone, the window the last day.
    ({"model": "qwen"}, {}, date(2026, 1, 20), None, datetime(2026, 1, 19, 8, tzinfo=UTC),
     datetime(2026, 1, 18, 19, tzinfo=UTC)),
    # until is exclusive: a window ending at Taipei midnight is for the day before.
    ({"model": "qwen", "since": "2026-01-19", "until": "2026-01-20"}, {}, date(2026, 1, 19), None,
     datetime(2026, 1, 19, 15, tzinfo=UTC), datetime(2026, 1, 19, 16, tzinfo=UTC)),
    # A distributed crawl's id names its lock holder; a single process has none.
    ({"model": "all"}, {"DIGESTCRAWL_DISTRIBUTED": True, "DIGESTCRAWL_CRAWL_ID": "c1"}, date(2026, 1, 20), "c1",
     NOW, datetime(2025, 1, 19, tzinfo=UTC)),
    ({"model": "all"}, {"DIGESTCRAWL_CRAWL_ID": "c1"}, date(2026, 1, 20), None, NOW, datetime(2025, 1, 19, tzinfo=UTC)),
])
def test_context_is_built_from_the_arguments(raw: dict[str, str], settings: dict[str, Any], day: date,
                                              crawl_id: str | None, inside: datetime, outside: datetime) -> None:
    crawl_settings = get_crawler(settings_dict={**TAIPEI, **settings}).settings
    context = CrawlContext.build(crawl_settings, "news", ("news",), raw, NOW)
    assert context.day == day and context.crawl_id == crawl_id
    assert context.in_window(inside) and not context.in_window(outside)
    assert "qwen" in context.models and all(s.category == "news" for s in context.sources)


def test_the_addon_builds_the_context_from_the_spiders_arguments() -> None:
    crawler = spider_crawler(NewsSpider, {"EXTRACTION_PROCESSES": 0}, model="qwen", since="2026-01-19",
                             until="2026-01-20")
    context = CrawlContext.of(crawler)
    assert context is CrawlContext.of(crawler) and crawler.spider is not None and crawler.spider.context is context
    assert (context.spider, list(context.models), context.day) == ("news", ["qwen"], date(2026, 1, 19))


def test_a_bad_argument_fails_the_context() -> None:
    crawler = spider_crawler(NewsSpider, {"EXTRACTION_PROCESSES": 0}, model="gpt9")
    with pytest.raises(ArgumentError, match="model: unknown"):
        CrawlContext.of(crawler)


def test_a_crawler_without_a_context_says_so() -> None:
    with pytest.raises(RuntimeError, match="no crawl context"):
        CrawlContext.of(get_crawler())
    # A spider that is not a source spider has none either.
    with pytest.raises(RuntimeError, match="no crawl context"):
        CrawlContext.of(get_crawler(settings_dict=PROJECT))


def test_the_components_share_one_database_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks: list[Engine] = []
    real = database_module.ensure_schema

    def counted(engine: Engine) -> None:
        checks.append(engine)
        real(engine)

    monkeypatch.setattr(database_module, "ensure_schema", counted)
    crawler = get_crawler(settings_dict={**PROJECT, "STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    components = [StorePipeline(crawler), DedupPipeline(crawler), SkipUnchangedArticles(crawler)]
    # The extension Scrapy built; the run lock, an extension too, looks it up when the spider opens.
    shared = crawler.get_extension(Database)
    assert isinstance(shared, Database)
    assert all(component.database is shared for component in components)
    for _ in components:
        shared.ready()
    assert checks == [shared.engine]
    shared.close()
    components[0].executor.shutdown()


def test_a_crawler_without_the_database_extension_says_so() -> None:
    with pytest.raises(RuntimeError, match="Database extension"):
        Database.of(get_crawler())
