"""The article store: upserts of articles, mentions, copy links and repository counters.

Writes are upserts on natural keys (source name, canonical URL, article+model), so storing the
same crawl twice adds no rows. ``save_batch`` writes a crawl's batch of articles and repository
readings, and isolates the rows the database refuses and says why (``row_error_reason``). All
methods block: callers run them off the reactor thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import case, delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import StatementError

from digestcrawl.items import Article, RepoStats
from digestcrawl.store.caps import cap_fields
from digestcrawl.store.database import Database
from digestcrawl.store.engine import dialect_insert, row_error_reason, short_error
from digestcrawl.store.models import ArticleRow, DuplicateRow, MentionRow, RepoStatsRow, SourceRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSignature:
    url: str
    text_hash: str | None
    minhash: bytes | None


ARTICLE_FIELDS = ("category", "title", "text", "snippet", "language", "author", "site_name",
                  "publisher", "feed_url", "requested_url", "published_from", "modified_from",
                  "headline_only", "text_hash", "minhash")


@dataclass(frozen=True)
class RowOutcome:
    """What became of one item of a batch (ArticleStore.save_batch)."""

    stored: bool
    truncated: tuple[str, ...] = ()  # fields cut to FIELD_CAPS before it was stored
    reason: str | None = None  # why the database refused it, when not stored
    detail: str = ""


STORED = RowOutcome(stored=True)
Row = TypeVar("Row", Article, RepoStats)


class ArticleStore:
    """Reads and writes articles on an engine: a crawl's shared one (digestcrawl.store.database), or
    its own from :meth:`connect` (scripts, benchmarks)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = dialect_insert(engine)
        self._source_ids: dict[str, int] = {}
        self._prepare_upserts()

    @classmethod
    def connect(cls, url: str, busy_timeout: float = 5.0) -> ArticleStore:
        return cls(Database(url, busy_timeout).ready())

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

    def save_batch(self, items: Sequence[Article | RepoStats], now: datetime | None = None) -> list[RowOutcome]:
        """Write a crawl's batch: its articles in one transaction, its repository readings in
        another; each item's outcome, in order. When the database refuses one row's content, the
        rest of its kind must not pay for it: they are written again one at a time
        (``_save_alone``). Connection errors propagate."""
        articles = [item for item in items if isinstance(item, Article)]
        readings = [item for item in items if isinstance(item, RepoStats)]
        written = iter(_save_kind(articles, partial(self.save_many, now=now), "article"))
        read = iter(_save_kind(readings, partial(self.save_repo_stats, now=now), "repository reading"))
        return [next(written) if isinstance(item, Article) else next(read) for item in items]

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
        # A feed entry stored without fetching (headline only) keeps the URL a fetch was asked under.
        requested = func.coalesce(new.requested_url, ArticleRow.requested_url)
        upsert = article.on_conflict_do_update(
            index_elements=["url"], set_={**updated, "entry_changed_at": latest_entry, "requested_url": requested})
        self._article_upsert = upsert.returning(ArticleRow.url, ArticleRow.id)
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

    def text_of(self, url: str) -> tuple[str, str] | None:
        """A stored article's title and text, or None when no article has ``url``."""
        query = select(ArticleRow.title, ArticleRow.text).where(ArticleRow.url == url).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (row.title or "", row.text or "") if row is not None else None


def _save_kind(items: list[Row], write: Callable[[list[Row]], object], noun: str) -> list[RowOutcome]:
    """Each item's outcome when ``write`` takes them together, else one at a time."""
    if not items:
        return []
    try:
        write(items)
    except StatementError as exc:
        if row_error_reason(exc) is None:
            raise
        logger.warning("The database refused a batch of %d %s(s) for one row's content (%s): "
                       "writing them one at a time", len(items), noun, short_error(exc))
        return [_save_alone(item, write) for item in items]
    return [STORED] * len(items)


def _save_alone(item: Row, write: Callable[[list[Row]], object]) -> RowOutcome:
    """Write one row. Refused, it is tried once more with its fields cut to FIELD_CAPS;
    refused again, it is reported with the reason."""
    error = _row_error(item, write)
    if error is None:
        return STORED
    fitted = replace(item)
    cut = cap_fields(fitted)
    if cut:
        error = _row_error(fitted, write)
        if error is None:
            return RowOutcome(stored=True, truncated=tuple(sorted(cut)))
    return RowOutcome(stored=False, reason=row_error_reason(error), detail=short_error(error))


def _row_error(item: Row, write: Callable[[list[Row]], object]) -> StatementError | None:
    """Write one row: None, or the row error that refused it (other errors propagate)."""
    try:
        write([item])
    except StatementError as exc:
        if row_error_reason(exc) is None:
            raise
        return exc
    return None
