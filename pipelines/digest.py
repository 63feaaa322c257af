"""When a crawl closes, regenerate the digest of its last day for each of its models.

The digest is built from the database, so the news, social and finance crawls of a day make
one post together whichever closes last. The day is the last day of the spider's window
(``until``, else now) in DIGEST_TIMEZONE. In a distributed crawl only the last live worker to
close writes the digest (``digestcrawl.workers``).
Settings: DIGEST_ON_CLOSE (bool, default True), DISTRIBUTED, those of ``digestcrawl.workers``
and of ``digestcrawl.digest.daily``.
"""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from digestcrawl.items import Article
from digestcrawl.workers import WorkerRegistry

logger = logging.getLogger(__name__)


class DigestPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.workers = WorkerRegistry.from_crawler(crawler) if crawler.settings.getbool("DISTRIBUTED") else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DigestPipeline:
        if not crawler.settings.getbool("DIGEST_ON_CLOSE", True):
            raise NotConfigured
        return cls(crawler)

    async def open_spider(self) -> None:
        if self.workers is not None:
            await self.workers.join()

    def process_item(self, item: Article) -> Article:
        return item

    async def close_spider(self) -> None:
        if self.workers is not None and not await self.workers.finish():
            return
        spider = self.crawler.spider
        assert spider is not None and self.crawler.stats is not None
        day = spider.digest_day(ZoneInfo(self.crawler.settings.get("DIGEST_TIMEZONE")))  # type: ignore[attr-defined]
        outcomes = await asyncio.to_thread(self._build_all, list(spider.args.models), day)  # type: ignore[attr-defined]
        for outcome in outcomes:
            written = outcome.post is not None
            self.crawler.stats.inc_value("digestcrawl/digest/written" if written else "digestcrawl/digest/empty_day")

    def _build_all(self, models: list[str], day):  # type: ignore[no-untyped-def]
        # The digest stack (matplotlib, openai) is loaded only when a digest is written.
        from digestcrawl.digest.daily import DigestBuilder

        builder = DigestBuilder.from_settings(self.crawler.settings)
        try:
            return [builder.build(model, day) for model in models]
        finally:
            builder.close()
