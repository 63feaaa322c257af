"""When a crawl closes, regenerate the digest of its last day for each of its models.

The digest is built from the database, so the news, social and finance crawls of a day make
one post together whichever closes last. The day is the last day of the spider's window
(``until``, else now) in DIGEST_TIMEZONE. In a distributed crawl only the last live worker to
close writes the digest (``digestcrawl.crawl.workers``).

A failed digest never raises out of ``close_spider`` (Scrapy would only log "Scraper close
failure"): it is logged with its traceback and counted. Stats: ``digestcrawl/digest/written``,
``…/empty_day``, ``…/failed`` (the previous post stands), ``…/fallback`` and
``…/fallback/<kind>`` (written by the extractive summarizer because the LLM failed),
``…/llm/malformed_body`` (LLM response bodies that were no chat completion),
``…/llm/ungrounded_dropped`` (generated sentences, list items and tags the grounding check dropped).

Settings: DIGEST_ON_CLOSE (bool, default True), DIGESTCRAWL_DISTRIBUTED, those of ``digestcrawl.crawl.workers``
and of ``digestcrawl.digest.daily``.
"""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from digestcrawl.crawl.workers import WorkerRegistry
from digestcrawl.items import ItemT
from digestcrawl.store.runlock import REFUSED_STAT

logger = logging.getLogger(__name__)


class DigestPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        distributed = crawler.settings.getbool("DIGESTCRAWL_DISTRIBUTED")
        self.workers = WorkerRegistry.from_crawler(crawler) if distributed else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DigestPipeline:
        if not crawler.settings.getbool("DIGEST_ON_CLOSE", True):
            raise NotConfigured
        return cls(crawler)

    async def open_spider(self) -> None:
        if self.workers is not None:
            await self.workers.join()

    def process_item(self, item: ItemT) -> ItemT:
        return item

    async def close_spider(self) -> None:
        if self.workers is not None and not await self.workers.finish():
            return
        spider = self.crawler.spider
        assert spider is not None and self.crawler.stats is not None
        if self.crawler.stats.get_value(REFUSED_STAT):
            # Refused as already running (the close reason is not known yet here): this run
            # crawled nothing, and the run holding the lock writes the day's post when it closes.
            logger.info("No digest from a refused run: the run holding the lock writes it")
            return
        day = spider.digest_day(ZoneInfo(self.crawler.settings.get("DIGEST_TIMEZONE")))  # type: ignore[attr-defined]
        outcomes = await asyncio.to_thread(self._build_all, list(spider.args.models), day)  # type: ignore[attr-defined]
        stats = self.crawler.stats
        for outcome in outcomes:
            if outcome.failed is not None:
                stats.inc_value("digestcrawl/digest/failed")
            else:
                stats.inc_value("digestcrawl/digest/written" if outcome.post else "digestcrawl/digest/empty_day")
            if outcome.fallback:
                stats.inc_value("digestcrawl/digest/fallback")
                stats.inc_value(f"digestcrawl/digest/fallback/{outcome.fallback}")
            if outcome.malformed:
                stats.inc_value("digestcrawl/digest/llm/malformed_body", outcome.malformed)
            if outcome.ungrounded:
                stats.inc_value("digestcrawl/digest/llm/ungrounded_dropped", outcome.ungrounded)

    def _build_all(self, models: list[str], day):  # type: ignore[no-untyped-def]
        # The digest stack (matplotlib, openai) is loaded only when a digest is written.
        from digestcrawl.digest.daily import build_digests

        return build_digests(self.crawler.settings, [(model, day) for model in models])
