"""Store articles with SQLAlchemy, off the reactor thread, losing nothing when the database fails.

Each article is upserted (a second identical crawl adds no rows). Articles arriving together
are written in one transaction (up to STORE_BATCH_SIZE, waiting at most STORE_BATCH_WAIT
seconds for company); each item still waits for its own write.

Two kinds of failure, told apart by ``digestcrawl.store.engine.row_error_reason``:

* the database is unreachable: the batch is retried STORE_RETRY_TIMES times with exponential
  backoff, then its articles go to a spool file that the next run replays before crawling
  (``digestcrawl/spooled``, ``digestcrawl/replayed``). Once the database has failed, later items
  try once before spooling, so an outage does not stall the crawl;
* the database refuses a row (a value too long, invalid, a broken constraint): the batch is
  written again one article at a time, so the others are stored; the refused one is tried with
  its fields cut to ``FIELD_CAPS`` (``digestcrawl/truncated``) and, refused again, quarantined
  in ``STORE_SPOOL_DIR/rejected.jsonl`` with its reason (``digestcrawl/rejected/<reason>``), never
  spooled: it would fail every replay.

A spool line that holds no article is moved to ``rejected.jsonl``
(``digestcrawl/rejected/corrupt_spool_line``) and the replay goes on.
A copy (``duplicate_of`` set by the dedup pipeline) is stored as a link to its original: its
row keeps outlet, URL and title, not the text, and counts as ``digestcrawl/copies``, apart
from ``digestcrawl/stored``.
Pages retracted after they passed (``digestcrawl.ops.signals.articles_retracted``: walls the dedup
pipeline recognised late) are not written, or deleted once their write is done, and no longer
count as stored or copies.
Repository counters (``RepoStats``, one row per repo per day) share the batches, the retries,
the spool and the quarantine; each stored reading counts as ``digestcrawl/repo_stats``.
Stats also per source (``digestcrawl/source/<name>/...``): stored, copies, repo_stats, spooled,
truncated, rejected.
The database (engine and schema check) is the crawler's one ``digestcrawl.store.database.Database``.
Settings: STORE_RETRY_TIMES, STORE_RETRY_BACKOFF, STORE_BATCH_SIZE, STORE_BATCH_WAIT,
STORE_SPOOL_DIR, and the database's (STORE_URL, STORE_BUSY_TIMEOUT).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from sqlalchemy.exc import DBAPIError, OperationalError

from digestcrawl.crawl import CrawlContext
from digestcrawl.items import Item, ItemT, is_article
from digestcrawl.ops.signals import articles_retracted
from digestcrawl.ops.stats import count
from digestcrawl.store import (
    REJECTED_FILE,
    ArticleStore,
    CorruptLine,
    Database,
    Rejected,
    RowOutcome,
    Spool,
    short_error,
    to_dict,
)
from digestcrawl.text import WALL_TEXT_MAX

logger = logging.getLogger(__name__)
T = TypeVar("T")
DATABASE_ERRORS = (OperationalError, DBAPIError)
UNAVAILABLE = RowOutcome(stored=False)  # no reason: the database did not answer
RETRACTED = RowOutcome(stored=False, reason="retracted")  # taken out of its batch unwritten


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database = Database.of(crawler)
        self.retry_times = settings.getint("STORE_RETRY_TIMES")
        self.backoff = settings.getfloat("STORE_RETRY_BACKOFF")
        self.spool_dir = Path(settings.get("STORE_SPOOL_DIR"))
        self.rejected = Rejected(self.spool_dir / REJECTED_FILE)
        self.store: ArticleStore | None = None
        self.database_down = False
        self.batch_size = settings.getint("STORE_BATCH_SIZE")
        self.batch_wait = settings.getfloat("STORE_BATCH_WAIT")
        self.batch: list[tuple[Item, asyncio.Future[RowOutcome]]] = []
        self.flush_timer: asyncio.TimerHandle | None = None
        self.writes: set[asyncio.Future[None]] = set()  # batch writes in progress
        self.retracted: set[str] = set()
        # URL → (source, stored|copies) of the texts short enough to be walls stored in this run:
        # what a retraction takes back from the counts.
        self.counted: dict[str, tuple[str, str]] = {}
        # One writer thread: writes keep their arrival order and SQLite sees no write contention.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digestcrawl-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.retract, signal=articles_retracted)
        return pipeline

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def _open_store(self) -> ArticleStore:
        return ArticleStore(self.database.ready())

    async def open_spider(self) -> None:
        context = CrawlContext.of(self.crawler)
        self.spool = Spool(self.spool_dir / f"{context.spider}.jsonl")
        try:
            self.store = await self._run(self._open_store)
            await self._run(self.store.register_sources, [(s.name, s.category) for s in context.sources])
        except DATABASE_ERRORS as exc:
            self.database_down = True
            logger.error("Database unavailable at start (%s): articles will be spooled to %s",
                         short_error(exc), self.spool.path)
            return
        await self._replay()

    async def _replay(self) -> None:
        pending, corrupt = await self._run(self.spool.read)
        for line in corrupt:
            await self._reject_line(line)
        if not pending and not corrupt:
            return
        left: list[Item] = []
        stored = 0
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start:start + self.batch_size]
            # Once the database has failed, the rest waits for the next run.
            outcomes = [UNAVAILABLE] * len(chunk) if left else await self._save(chunk, attempts=1)
            for article, outcome in zip(chunk, outcomes, strict=True):
                if outcome.stored:
                    stored += 1
                elif outcome.reason is not None:
                    await self._reject(article, outcome)
                else:
                    left.append(article)
        await self._run(self.spool.replace, left)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digestcrawl/replayed", stored)
        logger.info("Replayed %d spooled article(s) from %s; %d still pending", stored, self.spool.path, len(left))

    async def _save(self, articles: list[Item], attempts: int) -> list[RowOutcome]:
        """Write ``articles``; each one's outcome (UNAVAILABLE for all when the database failed
        ``attempts`` times)."""
        for attempt in range(attempts):
            try:
                if self.store is None:
                    self.store = await self._run(self._open_store)
                outcomes = await self._run(self.store.save_batch, articles)
                self.database_down = False
                return outcomes
            except DATABASE_ERRORS as exc:
                logger.warning("Database write failed for %d article(s), first %s (attempt %d/%d): %s",
                               len(articles), ItemAdapter(articles[0])["url"], attempt + 1, attempts,
                               short_error(exc))
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.backoff * 2**attempt)
        return [UNAVAILABLE] * len(articles)

    def _join_batch(self, item: Item) -> asyncio.Future[RowOutcome]:
        """Queue ``item`` for the next batch write; the future says what became of it."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[RowOutcome] = loop.create_future()
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

    async def _write(self, batch: list[tuple[Item, asyncio.Future[RowOutcome]]]) -> None:
        attempts = 1 if self.database_down else self.retry_times + 1
        try:
            outcomes = await self._save([article for article, _ in batch], attempts)
        except Exception as exc:
            # Not a database failure (a bug): each item fails loudly rather than waiting forever.
            for _, written in batch:
                written.set_exception(exc)
            return
        for (_, written), outcome in zip(batch, outcomes, strict=True):
            written.set_result(outcome)

    async def process_item(self, item: ItemT) -> ItemT:
        adapter = ItemAdapter(item)
        url, source, article = adapter["url"], adapter["source"], is_article(adapter)
        if url in self.retracted:
            return item
        if article and adapter["duplicate_of"]:
            # A copy is a link to its original (its outlet, URL and title): the text is the
            # original's, stored once; without a signature it is never matched as an original.
            adapter["text"], adapter["minhash"] = "", None
        outcome = await self._join_batch(item)
        if url in self.retracted:
            return item  # not written, or deleted once written
        if outcome.stored:
            if not article:
                count(self.crawler, source, "repo_stats")
                return item
            event = "copies" if adapter["duplicate_of"] else "stored"
            count(self.crawler, source, event)
            if len(adapter["text"]) <= WALL_TEXT_MAX:  # short enough to be a wall retracted later
                self.counted[url] = (source, event)
            if outcome.truncated:
                count(self.crawler, source, "truncated")
                logger.warning("Stored %s with %s cut to fit the database", url, ", ".join(outcome.truncated))
            return item
        if outcome.reason is not None:
            await self._reject(item, outcome)
            return item
        self.database_down = True
        await self._run(self.spool.append, item)
        count(self.crawler, source, "spooled")
        logger.error("Database unavailable: spooled %s to %s for the next run", url, self.spool.path)
        return item

    async def retract(self, urls: list[str]) -> None:
        """Write none of ``urls``; delete those written, after the writes in progress."""
        self.retracted.update(urls)
        kept = []
        for item, written in self.batch:
            if ItemAdapter(item)["url"] in self.retracted:
                written.set_result(RETRACTED)
            else:
                kept.append((item, written))
        self.batch = kept
        await asyncio.gather(*self.writes, return_exceptions=True)
        try:
            if self.store is None:
                self.store = await self._run(self._open_store)
            await self._run(self.store.delete_articles, urls)
        except DATABASE_ERRORS as exc:
            logger.error("Could not delete %d retracted article(s), first %s: %s", len(urls), urls[0],
                         short_error(exc))
            return
        for url in urls:
            if (counted := self.counted.pop(url, None)) is not None:
                source, event = counted
                count(self.crawler, source, event, -1)

    async def _reject(self, item: Item, outcome: RowOutcome) -> None:
        assert outcome.reason is not None
        adapter = ItemAdapter(item)
        kind = "article" if is_article(adapter) else "repo_stats"
        await self._run(partial(self.rejected.add, outcome.reason, outcome.detail, **{kind: to_dict(item)}))
        count(self.crawler, adapter["source"], f"rejected/{outcome.reason}")
        logger.error("The database refused %s (%s: %s): quarantined in %s",
                     adapter["url"], outcome.reason, outcome.detail, self.rejected.path)

    async def _reject_line(self, line: CorruptLine) -> None:
        await self._run(partial(self.rejected.add, "corrupt_spool_line", line.error, spool=str(self.spool.path),
                                line_number=line.number, line=line.text))
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("digestcrawl/rejected/corrupt_spool_line")
        logger.error("Skipped line %d of spool %s, which holds no article (%s): moved to %s",
                     line.number, self.spool.path, line.error, self.rejected.path)

    async def close_spider(self) -> None:
        # The engine is the crawler's (digestcrawl.store.database): it is disposed after the
        # run lock, which closes later, has released its rows.
        self.executor.shutdown(wait=True)
