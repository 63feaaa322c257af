"""The incremental check looks up the article requests that arrive together in one query, by
the URL the store recorded each article was requested under."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler
from sqlalchemy import event

from digestcrawl.crawl.incremental import ENTRY_CHANGED, LOOKUP_BATCH, SkipUnchangedArticles, UnchangedArticle
from digestcrawl.items import Article
from digestcrawl.store import ArticleStore

FETCHED = datetime(2026, 1, 19, 8, tzinfo=UTC)
DATABASE_EXTENSION = "digestcrawl.store.database.Database"  # the middleware finds it with get_extension
STORED = [
    # canonical URL (the row's key), URL it was requested under
    ("https://news.example/story/1", "https://news.example/s?id=1"),  # the page names another canonical
    ("https://news.example/story/2", None),  # stored before requested URLs were kept
    ("https://news.example/story/3", "https://news.example/story/3"),
]


def stored_article(url: str, requested: str | None) -> Article:
    return Article(url=url, requested_url=requested, source="s", category="news", title="Qwen3",
                   text="Alibaba released Qwen3.", fetched=FETCHED, entry_changed=FETCHED)


@pytest.fixture
def middleware(tmp_path: Path) -> Any:
    database = f"sqlite:///{tmp_path / 'incremental.sqlite3'}"
    store = ArticleStore.connect(database)
    store.save_many([stored_article(url, requested) for url, requested in STORED])
    store.close()
    crawler = get_crawler(settings_dict={"STORE_URL": database, "STORE_BUSY_TIMEOUT": 5.0,
                                         "INCREMENTAL_ENABLED": True, "EXTENSIONS": {DATABASE_EXTENSION: 0}})
    middleware = SkipUnchangedArticles.from_crawler(crawler)
    yield middleware
    middleware.database.close()


def article_selects(middleware: SkipUnchangedArticles) -> list[str]:
    """The SELECTs on articles the middleware's engine runs from now on."""
    statements: list[str] = []

    @event.listens_for(middleware.database.engine, "before_cursor_execute")
    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "articles" in statement:
            statements.append(statement)

    return statements


async def skipped(middleware: SkipUnchangedArticles, *urls: str) -> list[bool]:
    async def one(url: str) -> bool:
        try:
            await middleware.process_request(Request(url, meta={ENTRY_CHANGED: FETCHED.isoformat()}))
        except UnchangedArticle:
            return True
        return False

    return list(await asyncio.gather(*(one(url) for url in urls)))


@deferred_f_from_coro_f
async def test_requests_arriving_together_cost_one_query(middleware: SkipUnchangedArticles) -> None:
    selects = article_selects(middleware)
    answers = await skipped(middleware, "https://news.example/s?id=1", "https://news.example/story/2?utm_source=x",
                            "https://news.example/story/3", "https://news.example/new", "https://news.example/s?id=1")
    assert answers == [True, True, True, False, True]
    assert len(selects) == 1


@deferred_f_from_coro_f
async def test_a_page_stored_under_its_canonical_url_is_found_by_the_requested_one(
        middleware: SkipUnchangedArticles) -> None:
    assert await skipped(middleware, "https://news.example/s?id=1") == [True]
    assert await skipped(middleware, "https://news.example/s?id=2") == [False]  # another listed page


@deferred_f_from_coro_f
async def test_a_full_batch_is_looked_up_at_once(middleware: SkipUnchangedArticles) -> None:
    selects = article_selects(middleware)
    urls = [f"https://news.example/new/{n}" for n in range(LOOKUP_BATCH + 1)]
    assert await skipped(middleware, *urls) == [False] * len(urls)
    assert len(selects) == 2  # the full batch, then the one left over
