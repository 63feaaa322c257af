"""The database: one engine and one schema check, the only place that builds an engine.

In a crawl it is an extension (EXTENSIONS): the run lock, the dedup lookups, the store and the
incremental middleware all read and write the same database, and each finds the crawler's one
instance with :meth:`Database.of` (``crawler.get_extension``). Scrapy builds the extensions
before the engine, its middlewares and pipelines; an extension itself looks it up once the
spider opens. The engine is created when first needed and disposed when the engine stops,
after every component has closed. Commands and the digest make their own with
:meth:`Database.from_settings` and close it.

:meth:`Database.ready` brings the schema to head once per crawler; until that succeeds (the
database down when the crawl opens), each call tries again, so a component that failed at
start (the store: it spools) finds the database when it comes back.

:meth:`open_at_start` is what ``scrapy crawl`` and ``scrapy daily`` check before any crawl starts
(``digestcrawl.ops.startfailure``): a database that cannot be opened, read or written there is a
configuration to fix, not an outage to spool through, and it raises :class:`StoreUnavailable`,
one line with the URL (password masked) and the cause. A SQLite file is created there, with an
INFO line naming it, only in a directory that exists: a mistyped path fails instead of starting
an empty database (``scrapy migrate`` creates the directory).

Blocking: call :meth:`ready` and the engine off the reactor thread.
Settings read: STORE_URL, STORE_BUSY_TIMEOUT.
"""

from __future__ import annotations

import logging
import threading

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from digestcrawl.store.engine import ensure_schema, make_engine, masked_url, short_error, sqlite_file

logger = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The database cannot be used; the message names it (password masked) and says why."""

    def __init__(self, url: str, cause: str) -> None:
        super().__init__(f"database {masked_url(url)} cannot be used: {cause}")


class Database:
    def __init__(self, url: str, busy_timeout: float) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self._engine: Engine | None = None
        self._at_head = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Database:
        """The database of STORE_URL, for a command or a script: the caller closes it."""
        return cls(settings.get("STORE_URL"), settings.getfloat("STORE_BUSY_TIMEOUT"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Database:
        database = cls.from_settings(crawler.settings)
        crawler.signals.connect(database.close, signal=signals.engine_stopped)
        return database

    @staticmethod
    def of(crawler: Crawler) -> Database:
        """``crawler``'s database extension."""
        database = crawler.get_extension(Database)
        if database is None:
            raise RuntimeError("the Database extension (digestcrawl.store.database.Database) is not in EXTENSIONS")
        return database

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.url, self.busy_timeout)
            return self._engine

    def ready(self) -> Engine:
        """The engine, its database at the current schema (checked once per crawler)."""
        engine = self.engine
        with self._lock:
            if not self._at_head:
                ensure_schema(engine)
                self._at_head = True
        return engine

    def open_at_start(self) -> None:
        """Open the database, at the current schema, or raise :class:`StoreUnavailable`."""
        path = sqlite_file(self.url)
        if path is not None and not path.parent.is_dir():
            raise StoreUnavailable(self.url, f"directory {path.parent} does not exist "
                                             "(scrapy migrate creates it and the database)")
        if path is not None and not path.exists():
            logger.info("Creating a new SQLite database at %s", path.resolve())
        try:
            self.ready()
        except (SQLAlchemyError, OSError, ImportError) as error:
            raise StoreUnavailable(self.url, short_error(getattr(error, "orig", None) or error)) from None

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
