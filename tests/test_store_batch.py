"""A batch of articles is upserted with one statement per table: every id, mention and duplicate
link must land on its own article, on SQLite and on PostgreSQL; a row the database refuses costs
only itself."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from scrapy.utils.defer import deferred_f_from_coro_f

from digestcrawl.items import Article
from digestcrawl.store.articles import ArticleStore
from digestcrawl.store.caps import truncate
from digestcrawl.store.models import ArticleRow, DuplicateRow, MentionRow
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, run_crawl
from tests.fixtureweb.server import SITE_ROOT, FixtureWeb


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


def test_a_refused_row_costs_only_itself(store: ArticleStore) -> None:
    """A batch the database refuses for one row's content is written one row at a time: a
    refused row is cut to FIELD_CAPS, or reported with its reason; the others are stored."""
    naive = datetime(2026, 1, 19, 8, 0)  # every stored time must be timezone-aware
    batch = [article(1), article(2, author="A" * 400, site_name="S" * 400, title="T" * 400),
             article(3, published=naive), article(4)]
    try:
        outcomes = store.save_batch(batch)
        with store.engine.connect() as conn:
            rows = {url: (author, site_name, title) for url, author, site_name, title in conn.execute(
                sa.select(ArticleRow.url, ArticleRow.author, ArticleRow.site_name, ArticleRow.title))}
    finally:
        store.close()
    assert [o.stored for o in outcomes] == [True, True, False, True]
    assert outcomes[0].truncated == ()
    if store.engine.dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        assert outcomes[1].truncated == ("author", "site_name", "title")
        assert rows["https://example.com/2"] == (truncate("A" * 400, 200), truncate("S" * 400, 200),
                                                 truncate("T" * 400, 300))
    assert outcomes[2].reason == "unbindable_value" and "naive datetime" in outcomes[2].detail
    assert sorted(rows) == [f"https://example.com/{n}" for n in (1, 2, 4)]


@deferred_f_from_coro_f
async def test_crawl_on_postgresql_stores_the_good_rows_of_a_batch_with_a_bad_one(
        postgres_url: str, crawl_settings: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 13: a 400-character author failed the whole batch on PostgreSQL, and its innocent
    neighbours were spooled as "Database unavailable". A row still too long after the caps (a
    2,067-character URL) is quarantined with its reason, not spooled forever."""
    site = tmp_path / "web"
    shutil.copytree(SITE_ROOT, site)
    long_author = site / "mashdigi" / "en" / "alibabas-qianwen-platform-integrates-with-alipay.html"
    html = long_author.read_text("utf-8").replace('content="Mash Yang"', f'content="{"Mash Yang " * 40}"')
    long_author.write_text(html.replace('content="mashdigi"', f'content="{"mashdigi " * 45}"'), "utf-8")
    # The listing links the page under a URL longer than the column (2,048) but not than Scrapy's
    # URLLENGTH_LIMIT (2,083), and the page names no canonical one.
    page = site / "aibase" / "tw" / "news" / "24462.html"
    page.write_text(re.sub(r'<link rel="canonical"[^>]*>|<meta property="og:url"[^>]*>', "", page.read_text("utf-8")),
                    "utf-8")
    listing = site / "aibase" / "tw" / "news" / "index.html"
    listing.write_text(listing.read_text("utf-8").replace(
        'href="/tw/news/24462.html"', f'href="/tw/news/24462.html?page={"x" * 2020}"', 1), "utf-8")
    with FixtureWeb(root=site) as web:
        sources = web.write_sources(tmp_path / "sources.yaml")
        # Long batches: the bad rows share theirs with good ones.
        settings = {**crawl_settings, "STORE_URL": postgres_url, "DIGESTCRAWL_SOURCES_FILE": str(sources),
                    "DIGEST_ON_CLOSE": False, "STORE_BATCH_SIZE": 500, "STORE_BATCH_WAIT": 1.0}
        crawler = await run_crawl(NewsSpider, settings, model="qwen", **FIXTURE_WINDOW)
        mashdigi = web.url("mashdigi", "en/alibabas-qianwen-platform-integrates-with-alipay.html")
        aibase = web.url("aibase", "tw/news/24404.html"), web.url("aibase", "tw/news/24462.html")

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert "digestcrawl/spooled" not in stats
    assert stats["digestcrawl/rejected/data_error"] == 1
    assert sum(v for k, v in stats.items() if k.startswith("digestcrawl/source/")  # only aibase lists it
               and k.endswith("/rejected/data_error")) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Database unavailable" in m]
    assert [m for m in messages if "writing them one at a time" in m]
    [quarantined] = [json.loads(line) for line in (tmp_path / "spool" / "rejected.jsonl").open(encoding="utf-8")]
    assert quarantined["reason"] == "data_error" and "too long" in quarantined["detail"]
    assert quarantined["article"]["url"].startswith(aibase[1] + "?page=xxx")
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        rows = {url: (author, site_name) for url, author, site_name in conn.execute(
            sa.select(ArticleRow.url, ArticleRow.author, ArticleRow.site_name))}
    engine.dispose()
    assert len(rows) == stats["digestcrawl/stored"] + stats.get("digestcrawl/copies", 0)
    assert stats["digestcrawl/stored"] >= 10
    author, site_name = rows[mashdigi]
    assert author is not None and author.startswith("Mash Yang") and len(author) <= 200
    assert site_name is not None and len(site_name) <= 200
    assert aibase[0] in rows  # its neighbour


def test_deleted_articles_take_their_mentions_and_copy_links_along(store: ArticleStore) -> None:
    """What the store does with pages retracted as walls after they were written."""
    batch = [article(1), article(2, duplicate_of="https://example.com/1", similarity=0.9), article(3)]
    try:
        store.save_many(batch)
        store.delete_articles(["https://example.com/1", "https://example.com/2", "https://example.com/9"])
        with store.engine.connect() as conn:
            urls = conn.execute(sa.select(ArticleRow.url)).scalars().all()
            mentions = conn.execute(sa.select(MentionRow.model)).scalars().all()
            links = conn.execute(sa.select(DuplicateRow.original_url)).scalars().all()
    finally:
        store.close()
    assert (urls, mentions, links) == (["https://example.com/3"], ["model3"], [])
