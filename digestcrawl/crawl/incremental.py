"""Incremental crawling: don't fetch an article page that is already stored and unchanged.

An article request carries its feed entry's last-change time (``meta["entry_changed"]``). If
the article's canonical URL is stored and the entry shows no later time than any entry seen
when it was fetched, the request is dropped before download
(``digestcrawl/source/<name>/skipped/unchanged``). Pages that were fetched but not stored
(off-topic, empty) are fetched again: nothing remembers them yet.
Feeds themselves are revalidated with conditional GETs by Scrapy's HTTP cache (RFC 2616
policy, see settings): an unchanged feed costs a 304.

Lookups go through the crawler's database (``digestcrawl.store.database``).
Settings: INCREMENTAL_ENABLED.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from digestcrawl.crawl.urls import canonical_url
from digestcrawl.store import ArticleRow, Database

logger = logging.getLogger(__name__)
ENTRY_CHANGED = "entry_changed"


class UnchangedArticle(IgnoreRequest):
    """The article is stored and its feed entry shows no change since."""


class SkipUnchangedArticles:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database = Database.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipUnchangedArticles:
        if not crawler.settings.getbool("INCREMENTAL_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def _stored(self, url: str) -> tuple[bool, datetime | None]:
        """Whether the article is stored, and the latest feed-entry time seen when fetching it."""
        # No schema check per lookup: the pipelines brought the schema to head before the
        # first request, and a lookup that fails only means fetching the page again.
        with self.database.engine.connect() as conn:
            row = conn.execute(select(ArticleRow.entry_changed_at).where(ArticleRow.url == url)).first()
        return (False, None) if row is None else (True, row.entry_changed_at)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if ENTRY_CHANGED not in request.meta:
            return None
        try:
            stored, as_of = await asyncio.to_thread(self._stored, canonical_url(request.url))
        except SQLAlchemyError as exc:
            # Fetching once more is cheaper than losing the article to a database hiccup.
            logger.warning("Incremental check failed for %s (%s): fetching it", request.url, exc)
            return None
        changed = request.meta[ENTRY_CHANGED]
        if not stored or (changed is not None and (as_of is None or datetime.fromisoformat(changed) > as_of)):
            return None
        raise UnchangedArticle("stored and unchanged")
