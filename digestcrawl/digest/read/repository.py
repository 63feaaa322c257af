"""Database reads and writes of the digest: a day's articles and figures, stories, digests.

Writes of one (model, day) are serialised, so two ``scrapy digest`` runs or two distributed
workers never collide on its stories' unique key: PostgreSQL takes a transaction-scoped
advisory lock on the pair, SQLite's first write takes the database's write lock (waiting up to
STORE_BUSY_TIMEOUT); the digest row is an upsert besides.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, aliased

from digestcrawl.config import ModelConfig
from digestcrawl.digest.model import DayFigures, RepoTrend, Story, StoryArticle, SummaryResult
from digestcrawl.digest.read.sanitize import clean_day
from digestcrawl.store import (
    ArticleRow,
    DigestRow,
    DuplicateRow,
    MentionRow,
    RepoStatsRow,
    SourceRow,
    StoryArticleRow,
    StoryRow,
    dialect_insert,
)
from digestcrawl.text import RelevanceMatcher

TREND_DAYS = 7


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _moment():  # type: ignore[no-untyped-def]
    # An article's day is its published day. One with no date from its page, feed entry or URL
    # (counted ``undated`` by the crawl) is no news of any day: a 2004 page, a textbook found
    # today. A dated feed entry that brought a page gave it its date.
    return ArticleRow.published_at


def lock_key(model: str, day: date) -> int:
    """The advisory lock of one (model, day) digest: a signed 64-bit number."""
    digest = hashlib.sha256(f"digestcrawl:digest:{model}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _nothing() -> None:
    pass


class DigestRepository:
    def __init__(self, engine: Engine, zone: ZoneInfo) -> None:
        self.engine = engine
        self.zone = zone
        self._insert = dialect_insert(engine)

    def articles(self, model: str, day: date) -> list[StoryArticle]:
        start, end = day_bounds(day, self.zone)
        # A copy is stored as a link without text: it reads as its original, whatever day that is.
        original = aliased(ArticleRow)
        query = (
            select(ArticleRow, SourceRow.name, MentionRow.score, MentionRow.placement, MentionRow.hits,
                   DuplicateRow.original_url, original.text)
            .join(MentionRow, (MentionRow.article_id == ArticleRow.id) & (MentionRow.model == model))
            .join(SourceRow, SourceRow.id == ArticleRow.source_id)
            .outerjoin(DuplicateRow, DuplicateRow.article_id == ArticleRow.id)
            .outerjoin(original, original.url == DuplicateRow.original_url)
            .where(_moment() >= start, _moment() < end)
            .order_by(ArticleRow.id)
        )
        with Session(self.engine) as session:
            rows = session.execute(query).all()
        # Cleaned here, once, as a day: whatever a page said, the digest is built from sane strings,
        # and what a host repeats on its pages (a sidebar, its name in every title) is known.
        return clean_day([
            StoryArticle(
                id=row.id, url=row.url, title=row.title, text=row.text or original_text or "", snippet=row.snippet,
                source=name,
                category=row.category, publisher=row.publisher or row.site_name or "", language=row.language,
                published=row.published_at, score=score, duplicate_of=original_url,
                site_name=row.site_name or "", placement=placement, hits=hits or 0, feed_url=row.feed_url or "")
            for row, name, score, placement, hits, original_url, original_text in rows
        ])

    def figures(self, model: str, day: date, today: list[StoryArticle], tickers: tuple[str, ...],
                other_models: list[str]) -> DayFigures:
        start, _ = day_bounds(day - timedelta(days=TREND_DAYS - 1), self.zone)
        _, end = day_bounds(day, self.zone)
        with self.engine.connect() as conn:
            moments = conn.execute(
                select(_moment()).join(MentionRow, (MentionRow.article_id == ArticleRow.id)
                                       & (MentionRow.model == model))
                .where(_moment() >= start, _moment() < end)).scalars().all()
            ids = [a.id for a in today]
            co = Counter(conn.execute(select(MentionRow.model).where(
                MentionRow.article_id.in_(ids), MentionRow.model.in_(other_models))).scalars())
        trend = {day - timedelta(days=n): 0 for n in range(TREND_DAYS)}
        for moment in moments:
            local = _aware(moment).astimezone(self.zone).date()
            if local in trend:
                trend[local] += 1
        return DayFigures(
            mentions_by_category=dict(Counter(a.category for a in today)),
            trend=dict(sorted(trend.items())),
            co_mentioned=dict(co),
            tickers=tickers,
            finance_titles=tuple(a.title for a in today if a.category == "finance" and not a.duplicate_of),
            repo_trends=self.repo_trends(model, day),
        )

    def repo_trends(self, model: str, day: date, days: int = TREND_DAYS) -> tuple[RepoTrend, ...]:
        """The model's repositories read within the ``days`` ending on ``day``, largest
        downloads first: the stored series, the only place a downloads figure may come from."""
        first = day - timedelta(days=days - 1)
        query = (select(RepoStatsRow.repo, RepoStatsRow.url, RepoStatsRow.source, RepoStatsRow.day,
                        RepoStatsRow.downloads, RepoStatsRow.likes)
                 .where(RepoStatsRow.model == model, RepoStatsRow.day >= first, RepoStatsRow.day <= day)
                 .order_by(RepoStatsRow.repo, RepoStatsRow.day))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        by_repo: dict[str, list[Any]] = {}
        for row in rows:
            by_repo.setdefault(row.repo, []).append(row)
        trends = []
        for repo, readings in by_repo.items():
            first_reading, last = readings[0], readings[-1]
            earlier = first_reading.day < last.day
            trends.append(RepoTrend(
                repo=repo, url=last.url, source=last.source, downloads=last.downloads, last_day=last.day,
                previous=first_reading.downloads if earlier else None,
                first_day=first_reading.day if earlier else None, likes=last.likes,
                series=tuple((r.day, r.downloads) for r in readings)))
        return tuple(sorted(trends, key=lambda t: (-t.downloads, t.repo)))

    def save(self, model: str, day: date, stories: list[Story], result: SummaryResult, path: str,
             publish: Callable[[], None] = _nothing) -> None:
        """Replace the day's stories and digest row (regenerating is idempotent) in one
        transaction, serialised per (model, day). ``publish`` (putting the post's files in place)
        runs last before the commit: if it fails, the rows are rolled back."""
        cited = {i for s in result.content.stories for i in s.cited}
        values = {"path": path, "generator": result.generator, "fallback_reason": result.fallback_reason,
                  "llm_calls": result.llm_calls, "prompt_tokens": result.prompt_tokens,
                  "completion_tokens": result.completion_tokens, "content": result.content.model_dump(),
                  "written_at": datetime.now(UTC)}
        with self.engine.begin() as conn:
            self._lock(conn, model, day)
            conn.execute(delete(StoryRow).where(StoryRow.model == model, StoryRow.day == day))
            for position, story in enumerate(stories):
                story_id = conn.execute(insert(StoryRow).values(
                    model=model, day=day, key=story.key, title=story.lead.title, rank=story.rank,
                    position=position, follow_up_of=story.follow_up_of).returning(StoryRow.id)).scalar_one()
                conn.execute(insert(StoryArticleRow), [
                    {"story_id": story_id, "article_id": a.id, "cited": a.id in cited} for a in story.articles])
            upsert = self._insert(DigestRow).values(model=model, day=day, **values)
            conn.execute(upsert.on_conflict_do_update(index_elements=["model", "day"], set_=values))
            publish()

    def _lock(self, conn: Connection, model: str, day: date) -> None:
        # SQLite needs none: the DELETE that follows takes the database's one write lock.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(model, day)})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def co_mentions(articles: list[StoryArticle], others: dict[str, ModelConfig],
                stored: dict[str, int]) -> dict[str, int]:
    """Other watched model → the day's articles that name it: read from the articles' words (a
    crawl for one model stores no mention of the others), at least what the store recorded."""
    if not others:
        return dict(stored)
    matcher = RelevanceMatcher(others)
    named = Counter(key for a in articles for key in matcher.judge(a.title, a.text).matches)
    return {key: n for key in others if (n := max(named[key], stored.get(key, 0)))}
