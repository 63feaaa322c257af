"""SQLAlchemy models and the article store (SQLite by default, PostgreSQL in production).

Writes are upserts on natural keys (source name, canonical URL, article+model), so storing the
same crawl twice adds no rows; ``save_each`` isolates the rows the database refuses and says why
(``row_error_reason``). All methods block: callers run them off the reactor thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    case,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    StatementError,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from digestcrawl.items import Article, RepoStats
from digestcrawl.store.caps import cap_fields


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as UTC; read back timezone-aware even from SQLite, which keeps no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored time must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str] = mapped_column(String(20))


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    snippet: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(String(300))
    site_name: Mapped[str | None] = mapped_column(String(300))
    publisher: Mapped[str | None] = mapped_column(String(300))
    feed_url: Mapped[str | None] = mapped_column(String(2048))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_from: Mapped[str | None] = mapped_column(String(16))
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified_from: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    headline_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Latest feed-entry time seen when fetching: an entry showing a later one means a change.
    entry_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)


class MentionRow(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("article_id", "model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(40), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    # Where the model is first named (title, lead, body) and how often: None for older rows.
    placement: Mapped[str | None] = mapped_column(String(8))
    hits: Mapped[int | None] = mapped_column(Integer)


class DuplicateRow(Base):
    """A syndicated or near-identical copy, kept so a story can cite every outlet that ran it.

    The original is named by URL, not id: both may be written in either order.
    """

    __tablename__ = "duplicates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), unique=True)
    original_url: Mapped[str] = mapped_column(String(2048), index=True)
    similarity: Mapped[float] = mapped_column(Float)


class StoryRow(Base):
    """A story of one digest; its articles say where every sentence came from."""

    __tablename__ = "stories"
    __table_args__ = (UniqueConstraint("model", "day", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date, index=True)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    rank: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer)
    follow_up_of: Mapped[str | None] = mapped_column(String(40))


class StoryArticleRow(Base):
    __tablename__ = "story_articles"
    __table_args__ = (UniqueConstraint("story_id", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    cited: Mapped[bool] = mapped_column(Boolean, default=False)


class DigestRow(Base):
    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("model", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(1024))
    generator: Mapped[str] = mapped_column(String(100))
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    llm_calls: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunLockRow(Base):
    """A crawl of one spider for one model and day in progress (digestcrawl.store.runlock)."""

    __tablename__ = "run_locks"
    __table_args__ = (UniqueConstraint("spider", "model", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    holder: Mapped[str] = mapped_column(String(300))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepoStatsRow(Base):
    """A model repository's downloads and likes on one day (digestcrawl.items.RepoStats): one
    row per repo per day, the last reading of the day wins."""

    __tablename__ = "repo_stats"
    __table_args__ = (UniqueConstraint("repo", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2048))
    day: Mapped[date] = mapped_column(Date, index=True)
    downloads: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LLMCacheRow(Base):
    """An LLM answer, keyed by model, prompt version and exact request (digestcrawl.digest.cache)."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(40))
    response: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class StoredSignature:
    url: str
    text_hash: str | None
    minhash: bytes | None


ARTICLE_FIELDS = ("category", "title", "text", "snippet", "language", "author", "site_name",
                  "publisher", "feed_url", "published_from", "modified_from", "headline_only",
                  "text_hash", "minhash")


def make_engine(url: str, busy_timeout: float = 5.0) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


_SCHEMA_LOCK = threading.Lock()


def ensure_schema(engine: Engine, attempts: int = 3) -> None:
    """Bring the database to the current schema by running the Alembic migrations to head
    (digestcrawl.store.migrations), adopting a database made by create_all before migrations existed.

    Components of one process take turns. Separate processes serialize on the database
    (pg_advisory_xact_lock on PostgreSQL, BEGIN IMMEDIATE on SQLite); the loser of any remaining
    race (a lock wait timing out, another backend) tries again and then finds the winner's
    schema at head."""
    import time

    # Imported here: digestcrawl.store.migrations imports this module's models.
    from digestcrawl.store.migrations import upgrade

    with _SCHEMA_LOCK:
        for attempt in range(attempts):
            try:
                upgrade(engine)
                return
            # IntegrityError: two unlocked creators can collide on a unique key (alembic_version,
            # PostgreSQL's catalog).
            except (OperationalError, ProgrammingError, IntegrityError):
                if attempt + 1 == attempts:
                    raise
                time.sleep(0.5 * (attempt + 1))


def short_error(exc: BaseException) -> str:
    """A database error's first line, for a log line (SQLAlchemy appends the whole statement)."""
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def row_error_reason(exc: BaseException) -> str | None:
    """Why the database refused a write for what a row holds (a value too long or invalid, a
    broken constraint, a value that cannot be bound), or None when the failure is the
    database's own (unreachable, restarting): a row error fails every retry, a connection
    error may pass on the next."""
    if isinstance(exc, DataError):
        return "data_error"
    if isinstance(exc, IntegrityError):
        return "integrity_error"
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return "unbindable_value"
    return None


@dataclass(frozen=True)
class RowOutcome:
    """What became of one article written on its own (ArticleStore.save_each)."""

    stored: bool
    truncated: tuple[str, ...] = ()  # fields cut to FIELD_CAPS before it was stored
    reason: str | None = None  # why the database refused it, when not stored
    detail: str = ""


class ArticleStore:
    """Reads and writes articles; one per component, opened in ``open_spider``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._source_ids: dict[str, int] = {}
        self._prepare_upserts()

    @classmethod
    def connect(cls, url: str, busy_timeout: float = 5.0) -> ArticleStore:
        store = cls(make_engine(url, busy_timeout))
        ensure_schema(store.engine)
        return store

    def close(self) -> None:
        self.engine.dispose()

    def _insert_source(self, conn: Connection, name: str, category: str) -> None:
        conn.execute(self._insert(SourceRow).values(name=name, category=category)
                     .on_conflict_do_nothing(index_elements=["name"]))

    def register_sources(self, sources: list[tuple[str, str]]) -> None:
        """Make sure every crawled source (name, category) has its row."""
        with self.engine.begin() as conn:
            for name, category in sources:
                self._insert_source(conn, name, category)

    def save(self, article: Article, now: datetime | None = None) -> int:
        """Upsert one article with its mentions and duplicate link; returns its id."""
        return self.save_many([article], now)[0]

    def save_many(self, articles: list[Article], now: datetime | None = None) -> list[int]:
        """Upsert articles with their mentions and duplicate links in one transaction; returns
        their ids in order. Each table gets one prepared statement executed over all rows (one
        commit and no per-row statement building are most of the saving)."""
        now = now or datetime.now(UTC)
        # One row per URL: an upsert statement may not touch the same row twice.
        latest = {article.url: article for article in articles}
        try:
            with self.engine.begin() as conn:
                source_ids = self._source_ids_for(conn, latest.values())
                rows = [self._article_row(article, source_ids[article.source], now) for article in latest.values()]
                # Matched by URL: RETURNING order is not the parameters' order for updated rows.
                ids: dict[str, int] = {url: id_ for url, id_ in conn.execute(self._article_upsert, rows)}
                mentions = [{"article_id": ids[url], "model": model, "aliases": aliases,
                             "score": article.score.get(model, 0), "placement": article.placement.get(model),
                             "hits": article.hits.get(model)}
                            for url, article in latest.items() for model, aliases in article.models.items()]
                if mentions:
                    conn.execute(self._mention_upsert, mentions)
                links = [{"article_id": ids[url], "original_url": article.duplicate_of,
                          "similarity": article.similarity or 1.0}
                         for url, article in latest.items() if article.duplicate_of]
                if links:
                    conn.execute(self._duplicate_upsert, links)
        except Exception:
            self._source_ids.clear()  # ids learnt in the rolled-back transaction may not exist
            raise
        return [ids[article.url] for article in articles]

    def save_each(self, articles: list[Article], now: datetime | None = None) -> list[RowOutcome]:
        """Write articles one at a time, so that a row the database refuses costs only itself
        (after its batch failed). A refused row is tried once more with its fields cut to
        FIELD_CAPS; refused again, it is reported with the reason. Connection errors propagate."""
        outcomes = []
        for article in articles:
            error = self._row_error(article, now)
            fitted = replace(article)
            cut = cap_fields(fitted)
            if error is not None and cut:
                error = self._row_error(fitted, now)
                if error is None:
                    outcomes.append(RowOutcome(stored=True, truncated=tuple(sorted(cut))))
                    continue
            if error is None:
                outcomes.append(RowOutcome(stored=True))
            else:
                outcomes.append(RowOutcome(stored=False, reason=row_error_reason(error),
                                           detail=short_error(error)))
        return outcomes

    def _row_error(self, article: Article, now: datetime | None) -> StatementError | None:
        """Save one article: None, or the row error that refused it (other errors propagate)."""
        try:
            self.save_many([article], now)
        except StatementError as exc:
            if row_error_reason(exc) is None:
                raise
            return exc
        return None

    def _source_ids_for(self, conn: Connection, articles: Iterable[Article]) -> dict[str, int]:
        for article in articles:
            if article.source not in self._source_ids:
                self._insert_source(conn, article.source, article.category)
                self._source_ids[article.source] = conn.execute(
                    select(SourceRow.id).where(SourceRow.name == article.source)).scalar_one()
        return self._source_ids

    @staticmethod
    def _article_row(article: Article, source_id: int, now: datetime) -> dict[str, Any]:
        row = {field: getattr(article, field) for field in ARTICLE_FIELDS}
        row.update(url=article.url, source_id=source_id, first_seen_at=article.fetched or now,
                   entry_changed_at=article.entry_changed, published_at=article.published,
                   modified_at=article.modified, updated_at=now)
        return row

    def _prepare_upserts(self) -> None:
        article = self._insert(ArticleRow)
        new = article.excluded
        # Several feeds may list one article with different times: keep the latest.
        latest_entry = case(
            (new.entry_changed_at.is_(None), ArticleRow.entry_changed_at),
            (ArticleRow.entry_changed_at.is_(None), new.entry_changed_at),
            (new.entry_changed_at > ArticleRow.entry_changed_at, new.entry_changed_at),
            else_=ArticleRow.entry_changed_at)
        updated = {column: new[column] for column in (*ARTICLE_FIELDS, "published_at", "modified_at", "updated_at")}
        self._article_upsert = (article.on_conflict_do_update(index_elements=["url"],
                                                              set_={**updated, "entry_changed_at": latest_entry})
                                .returning(ArticleRow.url, ArticleRow.id))
        mention = self._insert(MentionRow)
        self._mention_upsert = mention.on_conflict_do_update(
            index_elements=["article_id", "model"],
            set_={"aliases": mention.excluded.aliases, "score": mention.excluded.score,
                  "placement": mention.excluded.placement, "hits": mention.excluded.hits})
        link = self._insert(DuplicateRow)
        self._duplicate_upsert = link.on_conflict_do_update(
            index_elements=["article_id"],
            set_={"original_url": link.excluded.original_url, "similarity": link.excluded.similarity})

    def delete_articles(self, urls: list[str]) -> None:
        """Delete the articles at ``urls`` with their mentions, copy links and story places."""
        with self.engine.begin() as conn:
            conn.execute(delete(ArticleRow).where(ArticleRow.url.in_(urls)))

    def save_repo_stats(self, readings: list[RepoStats], now: datetime | None = None) -> None:
        """Upsert repository counters, one row per repo per day (a later reading replaces)."""
        now = now or datetime.now(UTC)
        latest = {(r.repo, r.day): r for r in readings}
        if not latest:
            return
        rows = [{"repo": r.repo, "model": r.model, "source": r.source, "url": r.url, "day": r.day,
                 "downloads": r.downloads, "likes": r.likes, "fetched_at": r.fetched or now}
                for r in latest.values()]
        upsert = self._insert(RepoStatsRow)
        with self.engine.begin() as conn:
            conn.execute(upsert.on_conflict_do_update(
                index_elements=["repo", "day"],
                set_={column: upsert.excluded[column]
                      for column in ("model", "source", "url", "downloads", "likes", "fetched_at")}), rows)

    def signatures_since(self, since: datetime) -> Iterator[StoredSignature]:
        """Dedup signatures of the originals (not the copies) first seen or published since ``since``."""
        query = (select(ArticleRow.url, ArticleRow.text_hash, ArticleRow.minhash)
                 .outerjoin(DuplicateRow, DuplicateRow.article_id == ArticleRow.id)
                 .where(DuplicateRow.id.is_(None))
                 .where((ArticleRow.first_seen_at >= since) | (ArticleRow.published_at >= since))
                 .execution_options(yield_per=2000))
        with self.engine.connect() as conn:
            for url, text_hash, minhash in conn.execute(query):
                yield StoredSignature(url, text_hash, minhash)
