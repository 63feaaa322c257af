"""Incremental crawling: don't fetch an article page that is already stored and unchanged.

An article request carries its feed entry's last-change time (``meta["entry_changed"]``). If
the article is stored and the entry shows no later time than any entry seen when it was
fetched, the request is dropped before download
(``digestcrawl/source/<name>/skipped/unchanged``). Pages that were fetched but not stored
(off-topic, empty) are fetched again: nothing remembers them yet.
Feeds themselves are revalidated with conditional GETs by Scrapy's HTTP cache (RFC 2616
policy, see settings): an unchanged feed costs a 304.

A stored article is found by the URL it was requested under (``articles.requested_url``, what
the request carries: the store keeps it beside the page's canonical URL) or, for rows stored
before that was kept, by the request's canonical form. Lookups are batched: the article
requests that reach the middleware together (up to ``LOOKUP_BATCH``, within ``LOOKUP_WAIT``
seconds of the first) cost one query, which runs in a thread through the crawler's database
(``digestcrawl.store.database``).
Settings: INCREMENTAL_ENABLED.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from digestcrawl.crawl.urls import canonical_url
from digestcrawl.store import ArticleRow, Database

logger = logging.getLogger(__name__)
ENTRY_CHANGED = "entry_changed"
# An IN list of each key per query: well within SQLite's 999 parameters.
LOOKUP_BATCH = 200
# How long the first request of a batch waits for company: the engine hands requests to the
# downloader a few at a time, a fetch takes far longer.
LOOKUP_WAIT = 0.02


class UnchangedArticle(IgnoreRequest):
    """The article is stored and its feed entry shows no change since."""


@dataclass(frozen=True)
class Stored:
    """What the store holds of a requested article: whether it is stored, and the latest
    feed-entry time seen when it was fetched."""

    stored: bool
    entry_changed: datetime | None = None


NOT_STORED = Stored(False)


class SkipUnchangedArticles:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database = Database.of(crawler)
        self._waiting: dict[str, list[asyncio.Future[Stored]]] = {}  # requested URL → its waiters
        self._timer: asyncio.TimerHandle | None = None
        self._lookups: set[asyncio.Future[None]] = set()  # batch lookups in progress

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipUnchangedArticles:
        if not crawler.settings.getbool("INCREMENTAL_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def _stored(self, urls: list[str]) -> dict[str, Stored]:
        """What the store holds of each requested URL (absent: not stored)."""
        canonical = {url: canonical_url(url) for url in urls}
        pages = list(dict.fromkeys(canonical.values()))
        query = (select(ArticleRow.url, ArticleRow.requested_url, ArticleRow.entry_changed_at)
                 .where(or_(ArticleRow.requested_url.in_(urls), ArticleRow.url.in_(pages))))
        # No schema check per lookup: the pipelines brought the schema to head before the
        # first request, and a lookup that fails only means fetching the pages again.
        with self.database.engine.connect() as conn:
            rows = conn.execute(query).all()
        by_request = {row.requested_url: Stored(True, row.entry_changed_at) for row in rows}
        by_page = {row.url: Stored(True, row.entry_changed_at) for row in rows}
        return {url: by_request.get(url) or by_page.get(canonical[url]) or NOT_STORED for url in urls}

    def _lookup(self, url: str) -> asyncio.Future[Stored]:
        """What the store holds of ``url``, from the next batch lookup."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Stored] = loop.create_future()
        self._waiting.setdefault(url, []).append(answer)
        if len(self._waiting) >= LOOKUP_BATCH:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(LOOKUP_WAIT, self._flush)
        return answer

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, {}
        if waiting:
            self._lookups.add(lookup := asyncio.ensure_future(self._answer(waiting)))
            lookup.add_done_callback(self._lookups.discard)

    async def _answer(self, waiting: dict[str, list[asyncio.Future[Stored]]]) -> None:
        try:
            found = await asyncio.to_thread(self._stored, list(waiting))
        except Exception as exc:  # each waiting request decides what a failed lookup means
            for answers in waiting.values():
                for answer in answers:
                    if not answer.done():  # not a request cancelled meanwhile
                        answer.set_exception(exc)
            return
        for url, answers in waiting.items():
            for answer in answers:
                if not answer.done():
                    answer.set_result(found[url])

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if ENTRY_CHANGED not in request.meta:
            return None
        try:
            held = await self._lookup(request.url)
        except SQLAlchemyError as exc:
            # Fetching once more is cheaper than losing the article to a database hiccup.
            logger.warning("Incremental check failed for %s (%s): fetching it", request.url, exc)
            return None
        changed = request.meta[ENTRY_CHANGED]
        if not held.stored or (changed is not None and (held.entry_changed is None
                                                        or datetime.fromisoformat(changed) > held.entry_changed)):
            return None
        raise UnchangedArticle("stored and unchanged")
