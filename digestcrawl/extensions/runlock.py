"""Refuse a crawl while another run of the same spider, model and day is in progress.

An extension, not a pipeline: it touches no item. When the spider opens it takes the lock
rows (digestcrawl.store.runlock) of its spider, models and digest day (the crawl context), so
the lock holds across Scrapyd nodes and cron hosts; when the spider closes it releases them.
A refused run closes at once with the reason ``already_running`` and one error line naming
the holder; nothing is fetched and no digest is written (``digestcrawl/runlock/refused``).

The lock lives RUN_LOCK_TTL seconds and a heartbeat on the event loop extends it every third of
that while the run is alive, so a run that dies, or cannot release its lock because the
database is down, holds it up to RUN_LOCK_TTL longer: the next run proceeds. A failed heartbeat
is a warning (``digestcrawl/runlock/heartbeat_failed``), not the end of the run.
When the database is down at start the run goes ahead unlocked, with an error line and
``digestcrawl/runlock/unavailable``.
Settings: RUN_LOCK_ENABLED, RUN_LOCK_TTL, JOBDIR, and the crawl context's and the database's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, timedelta

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from sqlalchemy.exc import SQLAlchemyError

from digestcrawl.crawl import CrawlContext
from digestcrawl.store import REFUSED_STAT, Database, RunLocks, holder_id, short_error

logger = logging.getLogger(__name__)


class RunLock:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.ttl = timedelta(seconds=settings.getfloat("RUN_LOCK_TTL"))
        if self.ttl <= timedelta(0):
            raise ValueError(f"RUN_LOCK_TTL must be a positive number of seconds, not {settings.get('RUN_LOCK_TTL')!r}")
        self.locks: RunLocks | None = None
        self.holder = ""
        self.held = False
        self.heartbeat: asyncio.Task[None] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLock:
        if not crawler.settings.getbool("RUN_LOCK_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def _key(self) -> tuple[str, list[str], date]:
        context = CrawlContext.of(self.crawler)
        return context.spider, list(context.models), context.day

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    async def spider_opened(self) -> None:
        name, models, day = self._key()
        settings = self.crawler.settings
        self.holder = holder_id(settings.get("JOBDIR"), CrawlContext.of(self.crawler).crawl_id,
                                settings.get("DIGESTCRAWL_JOB"))
        try:
            self.locks = RunLocks(await asyncio.to_thread(Database.of(self.crawler).ready), self.ttl)
            held = await asyncio.to_thread(self.locks.acquire, name, models, day, self.holder)
        except SQLAlchemyError as exc:
            # The store spools what the database won't take and replays are upserts, so an
            # outage costs the overlap guarantee, not the crawl.
            self._inc("digestcrawl/runlock/unavailable")
            logger.error("Database unavailable (%s): running %s without the run lock", short_error(exc), name)
            return
        if held is not None:
            logger.error("Refusing to run %s for %s on %s: already running (%s, since %s)",
                         name, held.model, held.day, held.holder, held.since.isoformat(timespec="seconds"))
            self._inc(REFUSED_STAT)
            raise CloseSpider("already_running")
        self.held = True
        self.heartbeat = asyncio.create_task(self._beat(name, models, day))

    async def _beat(self, name: str, models: list[str], day: date) -> None:
        assert self.locks is not None
        # A third of the TTL: two heartbeats in a row may fail (a database restart) before the
        # lock expires under a live run.
        interval = self.ttl.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await asyncio.to_thread(self.locks.refresh, name, models, day, self.holder)
                if kept < len(models):
                    # It expired while the database was out of reach (or another worker of a
                    # distributed crawl released it on closing): take it again unless another
                    # run already has.
                    held = await asyncio.to_thread(self.locks.acquire, name, models, day, self.holder)
                    if held is not None:
                        self._inc("digestcrawl/runlock/lost")
                        logger.error("Run lock of %s for %s on %s lost to %s: the runs overlap",
                                     name, held.model, held.day, held.holder)
                        return
                    logger.warning("Run lock of %s on %s was gone (expired, or released by another worker): "
                                   "taken again", name, day)
            except SQLAlchemyError as exc:
                self._inc("digestcrawl/runlock/heartbeat_failed")
                logger.warning("Run lock heartbeat failed (%s): the lock expires within %d s unless a "
                               "later heartbeat succeeds", short_error(exc), self.ttl.total_seconds())

    async def spider_closed(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.heartbeat
        if self.held:
            assert self.locks is not None
            name, models, day = self._key()
            try:
                await asyncio.to_thread(self.locks.release, name, models, day, self.holder)
            except SQLAlchemyError as exc:
                self._inc("digestcrawl/runlock/release_failed")
                logger.error("Could not release the run lock of %s (%s): it expires within %d s",
                             name, short_error(exc), self.ttl.total_seconds())
