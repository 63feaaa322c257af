"""A batch of articles is upserted with one statement per table: every id, mention and duplicate
link must land on its own article, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from digestcrawl.items import Article
from digestcrawl.storage import ArticleRow, ArticleStore, DuplicateRow, MentionRow


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArticleStore:
    if request.param == "sqlite":
        return ArticleStore.connect(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return ArticleStore.connect(request.getfixturevalue("postgres_url"))


def article(n: int, **fields: object) -> Article:
    moment = datetime(2026, 1, 19, 8, n, tzinfo=UTC)
    values: dict[str, object] = {"url": f"https://example.com/{n}", "source": f"site{n % 2}", "category": "news",
                                 "title": f"Title {n}", "text": f"body {n}", "published": moment, "fetched": moment,
                                 "models": {f"model{n}": [f"Alias{n}"]}, "score": {f"model{n}": n}}
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


def test_batch_rows_land_on_their_own_articles(store: ArticleStore) -> None:
    batch = [article(n) for n in range(1, 8)]
    batch[4] = article(5, duplicate_of="https://example.com/2", similarity=0.8)
    try:
        ids = store.save_many(batch)
        again = store.save_many(list(reversed(batch)))
        with store.engine.connect() as conn:
            by_id = dict(conn.execute(sa.select(ArticleRow.id, ArticleRow.url)).all())
            mentions = conn.execute(sa.select(MentionRow.article_id, MentionRow.model, MentionRow.score)).all()
            links = conn.execute(sa.select(DuplicateRow.article_id, DuplicateRow.original_url)).all()
    finally:
        store.close()
    assert [by_id[i] for i in ids] == [a.url for a in batch]
    assert again == list(reversed(ids))  # upserts: the same rows, in the order given
    assert sorted((by_id[i], model, score) for i, model, score in mentions) == sorted(
        (f"https://example.com/{n}", f"model{n}", n) for n in range(1, 8))
    assert [(by_id[i], original) for i, original in links] == [("https://example.com/5", "https://example.com/2")]


def test_a_url_twice_in_one_batch_is_one_row(store: ArticleStore) -> None:
    try:
        ids = store.save_many([article(1), article(1, title="Title 1, updated")])
        with store.engine.connect() as conn:
            titles = conn.execute(sa.select(ArticleRow.title)).scalars().all()
    finally:
        store.close()
    assert ids[0] == ids[1]
    assert titles == ["Title 1, updated"]
