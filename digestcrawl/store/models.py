"""The store's tables (SQLAlchemy models): what the migrations in digestcrawl.store.migrations
create, and what the store, the run lock and the digest read and write."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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
    # The URL a crawl last requested the page under (url is the page's canonical): the key of
    # the incremental check, which knows only what a feed listed.
    requested_url: Mapped[str | None] = mapped_column(String(2048), index=True)
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
    """An LLM answer, keyed by model, prompt version and exact request (digestcrawl.digest.summarize.cache)."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(40))
    response: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
