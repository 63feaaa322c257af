"""Drop repeats of the same URL; link copies of the same text to their original.

Same canonical URL twice in a run: dropped (``duplicate_url``). Same folded title and text, or a
near-duplicate (MinHash Jaccard ≥ DEDUP_NEAR_THRESHOLD) of an article from this run or stored in
the last DEDUP_LOOKBACK_DAYS days, under another URL: kept, with ``duplicate_of`` naming the
original, so a story can cite every outlet (``digestcrawl/duplicate`` and
``digestcrawl/duplicate/<exact|near>``). A near-duplicate that states other numbers, dates or
names than its original (720億 against 320億: ``digestcrawl.text.facts``) is no copy: it is kept
as an article of its own (``digestcrawl/related``), which the digest may group into one story.
One short text served by three hosts under titles it does not hold is a wall, not a syndicated
story (``digestcrawl.text.boilerplate.RepeatedWalls``): that page and every later one with the text are
dropped as ``boilerplate_page``, and the earlier ones, already passed on, are retracted (the
``articles_retracted`` signal: the store deletes them) and counted as dropped too
(``digestcrawl/boilerplate/repeated_wall``).
Items are read and written through ``ItemAdapter``; repository counters pass untouched.
Stored articles are read through the crawler's database (``digestcrawl.store.database``).
Settings: DEDUP_NEAR_THRESHOLD, DEDUP_LOOKBACK_DAYS.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from digestcrawl.items import is_article
from digestcrawl.ops.signals import articles_retracted
from digestcrawl.ops.stats import count, drop
from digestcrawl.store import ArticleStore, Database, short_error
from digestcrawl.text import (
    Facts,
    NearDuplicateIndex,
    NearMatch,
    RepeatedWalls,
    Sighting,
    differ,
    fingerprint,
    stated_facts,
)

logger = logging.getLogger(__name__)


class DedupPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database = Database.of(crawler)
        self.lookback = timedelta(days=settings.getfloat("DEDUP_LOOKBACK_DAYS"))
        self.index = NearDuplicateIndex(threshold=settings.getfloat("DEDUP_NEAR_THRESHOLD"))
        self.originals_by_hash: dict[str, str] = {}
        # Original URL → the numbers, dates and names its text states (this run's, and those of
        # earlier runs' originals read when a new text is near them).
        self.facts: dict[str, Facts] = {}
        self.seen_urls: set[str] = set()
        self.walls = RepeatedWalls()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(crawler)

    async def open_spider(self) -> None:
        loaded = await asyncio.to_thread(self._load_recent)
        logger.info("Dedup index loaded with %d stored articles", loaded)

    def _load_recent(self) -> int:
        store = ArticleStore(self.database.ready())
        for row in store.signatures_since(datetime.now(UTC) - self.lookback):
            if row.text_hash:
                self.originals_by_hash.setdefault(row.text_hash, row.url)
            if row.minhash:
                self.index.add(row.url, self.index.from_bytes(row.minhash))
        return len(self.index)

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if not is_article(adapter):  # counters, not an article: only the store reads them
            return item
        url, title, text = adapter["url"], adapter["title"], adapter["text"]
        if url in self.seen_urls:
            raise drop(self.crawler, adapter, "duplicate_url")
        self.seen_urls.add(url)
        headline_only = adapter["headline_only"]
        if not headline_only and (walls := self.walls.see(url, adapter["source"], title, text)):
            raise await self._wall(adapter, walls)
        # Title and text together: pages that share only a template (a wall, an error page)
        # under different headlines are not copies of each other.
        body = f"{title}\n{text}" if text else title
        text_hash = adapter["text_hash"] = fingerprint(body)
        signature = None if headline_only else self.index.signature(body)
        adapter["minhash"] = NearDuplicateIndex.to_bytes(signature) if signature is not None else None
        original = self.originals_by_hash.get(text_hash)
        if original is not None and original != url:
            self._mark_copy(adapter, "exact", original, 1.0)
            return item
        stated = stated_facts(text or title) if signature is not None else frozenset()
        if signature is not None and (match := await self._near_original(adapter, signature, stated)):
            self._mark_copy(adapter, "near", match.key, round(match.similarity, 3))
        else:
            # Only originals are indexed, so copies of copies point at the first outlet.
            self.originals_by_hash.setdefault(text_hash, url)
            if signature is not None:
                self.index.add(url, signature)
                self.facts[url] = stated
        return item

    async def _near_original(self, item: ItemAdapter, signature: np.ndarray, stated: Facts) -> NearMatch | None:
        """The most similar original whose text ``item`` copies: near-duplicate text that states no
        other number, date or name (``digestcrawl.text.facts``). A near one that does is a
        related article, kept as one (``related``): linked as a copy, its claims would be lost."""
        near = self.index.matches(signature, exclude=item["url"])
        for match in near:
            if match.key not in self.facts:  # an original of an earlier run: its text is read once
                theirs = await asyncio.to_thread(self._stored_facts, match.key)
                if theirs is None:
                    continue
                self.facts[match.key] = theirs
            if not differ(stated, self.facts[match.key]):
                return match
        if near:
            count(self.crawler, item["source"], "related")
            logger.info("%s is near %s (similarity %.2f) but states other numbers, dates or names: kept as an "
                        "article", item["url"], near[0].key, near[0].similarity)
        return None

    def _stored_facts(self, url: str) -> Facts | None:
        """The facts of a stored original; None when the database cannot be read now (the item is
        then no copy of it: kept as an article, nothing it states is lost)."""
        try:
            stored = ArticleStore(self.database.ready()).text_of(url)
        except SQLAlchemyError as exc:
            logger.warning("Could not read %s to compare a near-duplicate with it: %s", url, short_error(exc))
            return None
        return stated_facts(stored[1] or stored[0]) if stored is not None else frozenset()

    async def _wall(self, item: ItemAdapter, walls: list[Sighting]) -> DropItem:
        """Drop ``item``, a wall; retract the earlier pages that served it, once the store has
        them out of the way (so a digest written at close never sees them)."""
        earlier = [sighting for sighting in walls if sighting.url != item["url"]]
        if earlier:
            logger.warning("One short text on %d hosts under titles it does not hold is a wall, not a story: "
                           "dropping %s and the %d pages that served it before: %s", len({s.host for s in walls}),
                           item["url"], len(earlier), ", ".join(s.url for s in earlier))
            await self.crawler.signals.send_catch_log_async(articles_retracted, urls=[s.url for s in earlier])
        for sighting in earlier:
            count(self.crawler, sighting.source, "boilerplate/repeated_wall")
            count(self.crawler, sighting.source, "dropped/boilerplate_page")
        count(self.crawler, item["source"], "boilerplate/repeated_wall")
        return drop(self.crawler, item, "boilerplate_page", "repeated_wall")

    def _mark_copy(self, item: ItemAdapter, method: str, original: str, similarity: float) -> None:
        item["duplicate_of"], item["similarity"] = original, similarity
        count(self.crawler, item["source"], "duplicate")
        count(self.crawler, item["source"], f"duplicate/{method}")
        logger.info("%s is a %s duplicate of %s (similarity %.2f)", item["url"], method, original, similarity)
