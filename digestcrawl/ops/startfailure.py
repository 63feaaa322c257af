"""A crawl that cannot start for a reason the operator must fix says so in one ERROR line, and
the command exits 1 (README's code for bad arguments and settings), with no traceback.

* A bad ``-a`` argument (``digestcrawl.crawl.args.ArgumentError``: what is wrong and what is
  known). Scrapy runs each crawl as an asyncio task and leaves an exception raised while it
  starts to asyncio's "Task exception was never retrieved" traceback; :class:`StartFailures`
  retrieves it and logs one line, once however many crawls of ``scrapy daily`` fail alike.
  Anything else keeps its traceback. Scrapy's ``bootstrap_failed`` gives the exit code.
* A database that cannot be opened or written (:func:`database_opens`, before any crawl
  starts): a read-only directory, a URL that does not parse, a SQLite file in a directory that
  does not exist (``digestcrawl.store.database.StoreUnavailable``). Otherwise each component
  would fail on its own (tracebacks, articles spooled that no run can replay).
"""

from __future__ import annotations

import asyncio
import logging

from scrapy.settings import BaseSettings

from digestcrawl.crawl import ArgumentError
from digestcrawl.store import Database, StoreUnavailable

logger = logging.getLogger(__name__)
DATABASE_FAILED = "the database cannot be opened or written (STORE_URL)"


class StartFailures:
    def __init__(self) -> None:
        self.logged: set[str] = set()

    def watch(self, started: object) -> None:
        """``started``: what ``crawler_process.crawl`` returned (a task under asyncio)."""
        if isinstance(started, asyncio.Task):
            started.add_done_callback(self._done)

    def reason(self) -> str:
        """Why the crawls failed to start, for the run report."""
        return "; ".join(sorted(self.logged)) or "the crawl failed to start (see the log)"

    def _done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return
        if not isinstance(error, ArgumentError):
            logger.error("The crawl failed to start", exc_info=error)
            return
        line = f"Bad spider argument: {error}"
        if line not in self.logged:
            self.logged.add(line)
            logger.error("%s", line)


def database_opens(settings: BaseSettings) -> bool:
    """Whether the database of STORE_URL opens at the current schema; else one ERROR line."""
    database = Database.from_settings(settings)
    try:
        database.open_at_start()
    except StoreUnavailable as error:
        logger.error("Cannot start: %s", error)
        return False
    finally:
        database.close()
    return True
