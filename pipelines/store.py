"""Store articles with SQLAlchemy, off the reactor thread, losing nothing when the database fails.

Each article is upserted (a second identical crawl adds no rows). Articles arriving together
are written in one transaction (up to DATABASE_BATCH_SIZE, waiting at most DATABASE_BATCH_WAIT
seconds for company); each item still waits for its own write. A database error is retried
DATABASE_RETRY_TIMES times with exponential backoff; then the article goes to a spool file that
the next run replays before crawling (``digestcrawl/stored``, ``digestcrawl/spooled``,
``digestcrawl/replayed``). Once the database has failed, later items try once before spooling,
so an outage does not stall the crawl.
Settings: DATABASE_URL, DATABASE_BUSY_TIMEOUT, DATABASE_RETRY_TIMES, DATABASE_RETRY_BACKOFF,
DATABASE_BATCH_SIZE (50), DATABASE_BATCH_WAIT (0.2), SPOOL_DIR.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scrapy.crawler import Crawler
from sqlalchemy.exc import DBAPIError, OperationalError

from digestcrawl.items import Article
from digestcrawl.spool import Spool
from digestcrawl.stats import count
from digestcrawl.storage import ArticleStore

logger = logging.getLogger(__name__)
DATABASE_ERRORS = (OperationalError, DBAPIError)


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database_url = settings.get("DATABASE_URL")
        self.busy_timeout = settings.getfloat("DATABASE_BUSY_TIMEOUT", 5.0)
        self.retry_times = settings.getint("DATABASE_RETRY_TIMES", 3)
        self.backoff = settings.getfloat("DATABASE_RETRY_BACKOFF", 1.0)
        self.spool_dir = Path(settings.get("SPOOL_DIR"))
        self.store: ArticleStore | None = None
        self.database_down = False
        self.batch_size = settings.getint("DATABASE_BATCH_SIZE", 50)
        self.batch_wait = settings.getfloat("DATABASE_BATCH_WAIT", 0.2)
        self.batch: list[tuple[Article, asyncio.Future[bool]]] = []
        self.flush_timer: asyncio.TimerHandle | None = None
        self.writes: set[asyncio.Future[None]] = set()  # batch writes in progress
        # One writer thread: writes keep their arrival order and SQLite sees no write contention.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digestcrawl-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    async def _run(self, function, *args):  # type: ignore[no-untyped-def]
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def open_spider(self) -> None:
        assert self.crawler.spider is not None
        self.spool = Spool(self.spool_dir / f"{self.crawler.spider.name}.jsonl")
        try:
            self.store = await self._run(ArticleStore.connect, self.database_url, self.busy_timeout)
            sources = [(s.name, s.category) for s in getattr(self.crawler.spider, "sources", [])]
            await self._run(self.store.register_sources, sources)
        except DATABASE_ERRORS as exc:
            self.database_down = True
            logger.error("Database unavailable at start (%s): articles will be spooled to %s",
                         _short(exc), self.spool.path)
            return
        await self._replay()

    async def _replay(self) -> None:
        pending = list(self.spool.pending())
        if not pending:
            return
        left = [article for article in pending if not await self._save([article], attempts=1)]
        self.spool.replace(left)
        stored = len(pending) - len(left)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digestcrawl/replayed", stored)
        logger.info("Replayed %d spooled article(s) from %s; %d still pending", stored, self.spool.path, len(left))

    async def _save(self, articles: list[Article], attempts: int) -> bool:
        for attempt in range(attempts):
            try:
                if self.store is None:
                    self.store = await self._run(ArticleStore.connect, self.database_url, self.busy_timeout)
                await self._run(self.store.save_many, articles)
                self.database_down = False
                return True
            except DATABASE_ERRORS as exc:
                logger.warning("Database write failed for %d article(s), first %s (attempt %d/%d): %s",
                               len(articles), articles[0].url, attempt + 1, attempts, _short(exc))
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.backoff * 2**attempt)
        return False

    def _join_batch(self, item: Article) -> asyncio.Future[bool]:
        """Queue ``item`` for the next batch write; the future says whether it was stored."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[bool] = loop.create_future()
        self.batch.append((item, written))
        if len(self.batch) >= self.batch_size:
            self._flush()
        elif self.flush_timer is None:
            self.flush_timer = loop.call_later(self.batch_wait, self._flush)
        return written

    def _flush(self) -> None:
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        batch, self.batch = self.batch, []
        if batch:
            self.writes.add(task := asyncio.ensure_future(self._write(batch)))
            task.add_done_callback(self.writes.discard)

    async def _write(self, batch: list[tuple[Article, asyncio.Future[bool]]]) -> None:
        attempts = 1 if self.database_down else self.retry_times + 1
        stored = await self._save([article for article, _ in batch], attempts)
        for _, written in batch:
            written.set_result(stored)

    async def process_item(self, item: Article) -> Article:
        if await self._join_batch(item):
            count(self.crawler, item.source, "stored")
            return item
        self.database_down = True
        await self._run(self.spool.append, item)
        count(self.crawler, item.source, "spooled")
        logger.error("Database unavailable: spooled %s to %s for the next run", item.url, self.spool.path)
        return item

    async def close_spider(self) -> None:
        if self.store is not None:
            await self._run(self.store.close)
        self.executor.shutdown(wait=True)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
