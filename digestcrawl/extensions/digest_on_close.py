"""When a crawl closes, regenerate the digest of its day for each of its models.

An extension connected to ``spider_closed`` (it touches no item), so the digest is written
after every pipeline has closed. The digest is built from the database, so the news, social and
finance crawls of a day make one post together whichever closes last. The day and the models
are the crawl context's (``digestcrawl.crawl.context``: the last day of the window, in
DIGEST_TIMEZONE). In a distributed crawl only the last live worker to close writes the digest
(``digestcrawl.crawl.distributed.workers``, joined when the spider opens).

A failed digest never raises out of the signal handler: it is logged with its traceback and
counted. Stats: ``digestcrawl/digest/written``, ``…/empty_day``, ``…/failed`` (the previous post
stands), ``…/fallback`` and ``…/fallback/<kind>`` (written by the extractive summarizer because
the LLM failed), ``…/llm/malformed_body`` (LLM response bodies that were no chat completion),
``…/llm/ungrounded_dropped`` (generated sentences, list items and tags the grounding check dropped).

A partial crawl (any finish_reason but ``finished``: a SIGINT/SIGTERM's ``shutdown``, a
worker's ``redis_lost``, a CloseSpider limit) writes no post unless DIGEST_ON_PARTIAL is set:
half a day's articles would replace a whole post. The digest runs in a daemon thread
(``digestcrawl.ops.threads``), so a second signal stops the process without waiting for it.

With DIGEST_SITE_BUILD the site is built after the digests (``scrapy digest --build``'s build,
one at a time per site): each Scrapyd job of a day publishes what it wrote. Stats:
``digestcrawl/site/built``, ``…/build_failed``.

Settings: DIGEST_ON_CLOSE, DIGEST_ON_PARTIAL, DIGEST_SITE_BUILD, DIGESTCRAWL_DISTRIBUTED, those of
``digestcrawl.crawl.distributed.workers`` and of ``digestcrawl.digest.daily``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from digestcrawl.commands.digest import build_site
from digestcrawl.crawl import CrawlContext
from digestcrawl.ops.threads import in_daemon_thread
from digestcrawl.store import REFUSED_STAT, Database

if TYPE_CHECKING:
    from digestcrawl.crawl.distributed.workers import WorkerRegistry
    from digestcrawl.digest import DigestOutcome

logger = logging.getLogger(__name__)


class DigestOnClose:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.workers: WorkerRegistry | None = None
        if crawler.settings.getbool("DIGESTCRAWL_DISTRIBUTED"):
            # Here, not at the top: redis and scrapy-redis load only in a distributed crawl (0.08 s
            # of every other crawl's start).
            from digestcrawl.crawl.distributed.workers import WorkerRegistry

            self.workers = WorkerRegistry.of(crawler)
        self.on_partial = crawler.settings.getbool("DIGEST_ON_PARTIAL")
        self.finished = asyncio.Event()  # set once the digest is written, or not to be
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DigestOnClose:
        if not crawler.settings.getbool("DIGEST_ON_CLOSE"):
            raise NotConfigured
        return cls(crawler)

    async def spider_opened(self) -> None:
        if self.workers is not None:
            await self.workers.join()

    async def spider_closed(self, reason: str) -> None:
        try:
            await self._write(reason)
        finally:
            self.finished.set()

    async def _write(self, reason: str) -> None:
        if self.workers is not None and not await self.workers.finish():
            return
        stats = self.crawler.stats
        assert stats is not None
        if stats.get_value(REFUSED_STAT):
            # Refused as already running: this run crawled nothing, and the run holding the
            # lock writes the day's post when it closes.
            logger.info("No digest from a refused run: the run holding the lock writes it")
            return
        if reason != "finished" and not self.on_partial:
            logger.info("No digest from a partial crawl (finish_reason %s): the previous post stands; "
                        "DIGEST_ON_PARTIAL writes one", reason)
            return
        context = CrawlContext.of(self.crawler)
        # A daemon thread: a forced stop (a second signal) does not wait for the digest.
        outcomes = await in_daemon_thread(self._build_all, list(context.models), context.day)
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
        if self.crawler.settings.getbool("DIGEST_SITE_BUILD"):
            built, site = await in_daemon_thread(build_site, self.crawler.settings)
            logger.log(logging.INFO if built else logging.ERROR, "%s", site)
            stats.inc_value("digestcrawl/site/built" if built else "digestcrawl/site/build_failed")

    def _build_all(self, models: list[str], day: date) -> list[DigestOutcome]:
        # The digest stack (matplotlib, openai) is loaded only when a digest is written.
        from digestcrawl.digest import build_digests

        return build_digests(self.crawler.settings, [(model, day) for model in models],
                             engine=Database.of(self.crawler).ready)
