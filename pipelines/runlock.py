"""Refuse a crawl while another run of the same spider, model and day is in progress.

The lock lives in the database (digestcrawl.runlock), so it holds across Scrapyd nodes and cron
hosts. A refused run closes at once with the reason ``already_running`` and one error line
naming the holder; nothing is fetched. The day is the last day of the spider's window.
Settings: RUN_LOCK_ENABLED (default True), RUN_LOCK_TTL_HOURS (default 6: a lock older than
this belonged to a run that died), DATABASE_URL, DIGEST_TIMEZONE. When the database is down
the run goes ahead unlocked, with an error line and ``digestcrawl/runlock/unavailable``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from digestcrawl.items import Article
from digestcrawl.runlock import RunLocks, holder_id
from digestcrawl.storage import ensure_schema, make_engine

logger = logging.getLogger(__name__)


class RunLockPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.engine: Engine | None = None
        self.ttl = timedelta(hours=settings.getfloat("RUN_LOCK_TTL_HOURS", 6))
        self.zone = ZoneInfo(settings.get("DIGEST_TIMEZONE"))
        self.holder = holder_id(settings.get("JOBDIR"),
                                settings.get("CRAWL_ID") if settings.getbool("DISTRIBUTED") else None)
        self.held = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLockPipeline:
        if not crawler.settings.getbool("RUN_LOCK_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    def _key(self) -> tuple[str, list[str], date]:
        spider = self.crawler.spider
        assert spider is not None
        return spider.name, list(spider.args.models), spider.digest_day(self.zone)  # type: ignore[attr-defined]

    async def open_spider(self) -> None:
        name, models, day = self._key()
        self.engine = make_engine(self.crawler.settings.get("DATABASE_URL"),
                                  self.crawler.settings.getfloat("DATABASE_BUSY_TIMEOUT", 5.0))
        locks = RunLocks(self.engine, self.ttl)
        try:
            await asyncio.to_thread(ensure_schema, self.engine)
            held = await asyncio.to_thread(locks.acquire, name, models, day, self.holder)
        except SQLAlchemyError as exc:
            # The store spools what the database won't take and replays are upserts, so an
            # outage costs the overlap guarantee, not the crawl.
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("digestcrawl/runlock/unavailable")
            logger.error("Database unavailable (%s): running %s without the run lock", str(exc).splitlines()[0], name)
            return
        if held is not None:
            logger.error("Refusing to run %s for %s on %s: already running (%s, since %s)",
                         name, held.model, held.day, held.holder, held.since.isoformat(timespec="seconds"))
            raise CloseSpider("already_running")
        self.held = True

    def process_item(self, item: Article) -> Article:
        return item

    async def close_spider(self) -> None:
        if self.engine is None:
            return
        if self.held:
            name, models, day = self._key()
            await asyncio.to_thread(RunLocks(self.engine, self.ttl).release, name, models, day, self.holder)
        self.engine.dispose()
