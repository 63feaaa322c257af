"""Drop repeats of the same URL; link copies of the same text to their original.

Same canonical URL twice in a run: dropped (``duplicate_url``). Same folded title and text, or a
near-duplicate (MinHash Jaccard ≥ DEDUP_NEAR_THRESHOLD) of an article from this run or stored in
the last DEDUP_LOOKBACK_DAYS days, under another URL: kept, with ``duplicate_of`` naming the
original, so a story can cite every outlet (``digestcrawl/duplicate`` and
``digestcrawl/duplicate/<exact|near>``).
One short text served by three hosts under titles it does not hold is a wall, not a syndicated
story (``digestcrawl.text.boilerplate.RepeatedWalls``): that page and every later one with the text are
dropped as ``boilerplate_page``, and the earlier ones, already passed on, are retracted (the
``articles_retracted`` signal: the store deletes them) and counted as dropped too
(``digestcrawl/boilerplate/repeated_wall``).
Stored articles are read through the crawler's database (``digestcrawl.store.database``).
Settings: DEDUP_NEAR_THRESHOLD, DEDUP_LOOKBACK_DAYS.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from digestcrawl.items import Article, ItemT, RepoStats
from digestcrawl.ops.signals import articles_retracted
from digestcrawl.ops.stats import count, drop
from digestcrawl.store.articles import ArticleStore
from digestcrawl.store.database import Database
from digestcrawl.text.boilerplate import RepeatedWalls, Sighting
from digestcrawl.text.dedup import NearDuplicateIndex, fingerprint

logger = logging.getLogger(__name__)


class DedupPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database = Database.of(crawler)
        self.lookback = timedelta(days=settings.getfloat("DEDUP_LOOKBACK_DAYS"))
        self.index = NearDuplicateIndex(threshold=settings.getfloat("DEDUP_NEAR_THRESHOLD"))
        self.originals_by_hash: dict[str, str] = {}
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

    async def process_item(self, item: ItemT) -> ItemT:
        if isinstance(item, RepoStats):  # counters, not an article: only the store reads them
            return item
        if item.url in self.seen_urls:
            raise drop(self.crawler, item, "duplicate_url")
        self.seen_urls.add(item.url)
        if not item.headline_only and (walls := self.walls.see(item.url, item.source, item.title, item.text)):
            raise await self._wall(item, walls)
        # Title and text together: pages that share only a template (a wall, an error page)
        # under different headlines are not copies of each other.
        body = f"{item.title}\n{item.text}" if item.text else item.title
        item.text_hash = fingerprint(body)
        signature = None if item.headline_only else self.index.signature(body)
        item.minhash = NearDuplicateIndex.to_bytes(signature) if signature is not None else None
        original = self.originals_by_hash.get(item.text_hash)
        if original is not None and original != item.url:
            item.duplicate_of, item.similarity = original, 1.0
            self._count(item, "exact")
        elif signature is not None and (match := self.index.best_match(signature, exclude=item.url)):
            item.duplicate_of, item.similarity = match.key, round(match.similarity, 3)
            self._count(item, "near")
        else:
            # Only originals are indexed, so copies of copies point at the first outlet.
            self.originals_by_hash.setdefault(item.text_hash, item.url)
            if signature is not None:
                self.index.add(item.url, signature)
        return item

    async def _wall(self, item: Article, walls: list[Sighting]) -> DropItem:
        """Drop ``item``, a wall; retract the earlier pages that served it, once the store has
        them out of the way (so a digest written at close never sees them)."""
        earlier = [sighting for sighting in walls if sighting.url != item.url]
        if earlier:
            logger.warning("One short text on %d hosts under titles it does not hold is a wall, not a story: "
                           "dropping %s and the %d pages that served it before: %s", len({s.host for s in walls}),
                           item.url, len(earlier), ", ".join(s.url for s in earlier))
            await self.crawler.signals.send_catch_log_async(articles_retracted, urls=[s.url for s in earlier])
        for sighting in earlier:
            count(self.crawler, sighting.source, "boilerplate/repeated_wall")
            count(self.crawler, sighting.source, "dropped/boilerplate_page")
        count(self.crawler, item.source, "boilerplate/repeated_wall")
        return drop(self.crawler, item, "boilerplate_page", "repeated_wall")

    def _count(self, item: Article, method: str) -> None:
        count(self.crawler, item.source, "duplicate")
        count(self.crawler, item.source, f"duplicate/{method}")
        logger.info("%s is a %s duplicate of %s (similarity %.2f)", item.url, method,
                    item.duplicate_of, item.similarity or 1.0)
