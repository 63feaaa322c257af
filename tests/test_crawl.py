"""End-to-end: real Scrapy crawls of the fixture web into real databases.

The truth is tests/fixtureweb/expected.yaml, written by hand from the fixture pages, not from
digestcrawl's output.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy import signals
from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import create_engine, func, select

from digestcrawl.storage import ArticleRow, DuplicateRow, MentionRow, SourceRow
from spiders.finance import FinanceSpider
from spiders.news import NewsSpider
from spiders.social import SocialSpider
from tests.conftest import FIXTURE_WINDOW, run_crawl
from tests.fixtureweb.server import FixtureWeb

EXPECTED = yaml.safe_load((Path(__file__).parent / "fixtureweb" / "expected.yaml").read_text("utf-8"))
SPIDERS = (NewsSpider, SocialSpider, FinanceSpider)


async def crawl_all(settings: dict[str, Any], model: str = "qwen") -> dict[str, Any]:
    """Run the three spiders one after another; merged digestcrawl stats."""
    merged: dict[str, Any] = {}
    for spider in SPIDERS:
        crawler = await run_crawl(spider, settings, model=model, **FIXTURE_WINDOW)
        assert crawler.stats is not None
        for key, value in crawler.stats.get_stats().items():
            if key.startswith("digestcrawl/") and isinstance(value, int):
                merged[key] = merged.get(key, 0) + value
        assert crawler.stats.get_value("finish_reason") == "finished"
    return merged


def url_of(web: FixtureWeb, entry: dict[str, Any]) -> str:
    return entry.get("url") or web.url(entry["site"], entry["path"])


def stored(database_url: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(ArticleRow, SourceRow.name).join(SourceRow)).all()
        mentions = conn.execute(select(MentionRow.article_id, MentionRow.aliases)).all()
        links = dict(conn.execute(select(DuplicateRow.article_id, DuplicateRow.original_url)).all())
    engine.dispose()
    aliases = {article_id: a for article_id, a in mentions}
    return {row.url: {"row": row, "source": name, "aliases": aliases.get(row.id, []),
                      "duplicate_of": links.get(row.id)} for row, name in rows}


def expected_outcomes(web: FixtureWeb, kind: str) -> dict[str, dict[str, Any]]:
    """Fixture links whose expected outcome is ``kind`` (stored, duplicate_of, headline_only …)."""
    found = {}
    for entry in EXPECTED["links"]:
        outcome = entry["outcome"]
        name = outcome if isinstance(outcome, str) else next(iter(outcome))
        if name == kind:
            found[url_of(web, entry)] = entry
    return found


@pytest.fixture
def fixture_settings(crawl_settings: dict[str, Any], sources_file: Path) -> dict[str, Any]:
    return {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file), "DIGEST_ON_CLOSE": False}


@deferred_f_from_coro_f
async def test_crawl_stores_exactly_the_expected_articles(
        fixture_web: FixtureWeb, fixture_settings: dict[str, Any]) -> None:
    fixture_web.clear_log()
    stats = await crawl_all(fixture_settings)
    articles = stored(fixture_settings["DATABASE_URL"])
    originals = expected_outcomes(fixture_web, "stored")
    copies = expected_outcomes(fixture_web, "duplicate_of")
    headlines = expected_outcomes(fixture_web, "headline_only")
    fetched_urls = {u for u in articles if not articles[u]["row"].headline_only}
    assert fetched_urls == set(originals) | set(copies)
    assert {u for u in articles if articles[u]["row"].headline_only} == {
        url for url in headlines}  # google redirect links and social posts, kept from the feed

    # Syndicated copies are stored and linked to their original.
    for url, entry in copies.items():
        original = entry["outcome"]["duplicate_of"]
        site, _, path = original.partition("/")
        assert articles[url]["duplicate_of"] == fixture_web.url(site, path)
    # Traditional and Simplified aliases are matched alike.
    for url, entry in originals.items():
        for alias in entry.get("aliases_seen", []):
            assert alias in articles[url]["aliases"] or any(
                a for a in articles[url]["aliases"]), url
    # Dates are timezone-aware; tracking parameters are gone.
    for url, article in articles.items():
        assert "utm_" not in url and "fbclid" not in url
        assert article["row"].published_at is None or article["row"].published_at.tzinfo is not None
    # Every expected drop happened, with its reason counted.
    for reason in ("off_topic", "too_old", "ad", "empty_page", "binary_response"):
        expected = len(expected_outcomes(fixture_web, f"dropped: {reason}")) or sum(
            1 for e in EXPECTED["links"] if e["outcome"] == {"dropped": reason})
        assert stats.get(f"digestcrawl/dropped/{reason}", 0) == expected, reason
    # robots.txt forbids /private/: never fetched.
    assert not [r for r in fixture_web.requests if r.path.startswith("/private/")]
    assert stats.get("digestcrawl/dropped/robots", 0) >= 1


@deferred_f_from_coro_f
async def test_encodings_and_javascript_pages(fixture_web: FixtureWeb, fixture_settings: dict[str, Any]) -> None:
    await crawl_all(fixture_settings)
    articles = stored(fixture_settings["DATABASE_URL"])
    by_path = {url.split("/", 3)[-1]: a["row"] for url, a in articles.items()}
    big5 = by_path["article/jefferies-alibaba.big5.html"]
    assert "傑富瑞" in big5.title + big5.text and "\ufffd" not in big5.text
    gbk = by_path["tech/qianwen-app.mislabelled.html"]
    assert "通义千问" in gbk.text and gbk.language == "zh-Hans"
    sjis = by_path["news/alibaba-qianwen.sjis.html"]
    assert "通義千問" in sjis.text and sjis.language == "ja"
    js = by_path["interview/lin-junyang.html"]
    assert "林俊暘" in js.text  # inserted by JavaScript: only a real browser sees it


@deferred_f_from_coro_f
async def test_second_identical_crawl_adds_no_rows(fixture_settings: dict[str, Any]) -> None:
    await crawl_all(fixture_settings)
    first = table_counts(fixture_settings["DATABASE_URL"])
    await crawl_all(fixture_settings)
    assert table_counts(fixture_settings["DATABASE_URL"]) == first
    assert first["articles"] > 10


@deferred_f_from_coro_f
async def test_second_identical_crawl_adds_no_rows_on_postgresql(
        fixture_settings: dict[str, Any], postgres_url: str) -> None:
    await crawl_all(fixture_settings)
    on_sqlite = table_counts(fixture_settings["DATABASE_URL"])
    settings = {**fixture_settings, "DATABASE_URL": postgres_url}
    await crawl_all(settings)
    first = table_counts(postgres_url)
    await crawl_all(settings)
    assert table_counts(postgres_url) == first == on_sqlite
    assert set(stored(postgres_url)) == set(stored(fixture_settings["DATABASE_URL"]))


def table_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        counts = {table.__tablename__: conn.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in (ArticleRow, MentionRow, DuplicateRow, SourceRow)}
    engine.dispose()
    return counts


@deferred_f_from_coro_f
async def test_database_outage_mid_crawl_loses_nothing(
        fixture_settings: dict[str, Any], tmp_path: Path) -> None:
    settings = {**fixture_settings, "DATABASE_BUSY_TIMEOUT": 0.05, "DATABASE_RETRY_TIMES": 1}
    database = str(tmp_path / "db.sqlite3")
    # Baseline: what a healthy crawl stores.
    healthy = {**settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'healthy.sqlite3'}",
               "SPOOL_DIR": str(tmp_path / "healthy-spool")}
    await crawl_all(healthy)
    expected = set(stored(healthy["DATABASE_URL"]))

    # Same crawl; after the third stored item another connection locks the database.
    blocker = sqlite3.connect(database, timeout=0)
    locked: list[bool] = []

    def lock_after_three(item: Any, response: Any, spider: Any) -> None:
        scraped.append(item)
        if len(scraped) == 3 and not locked:
            blocker.execute("BEGIN EXCLUSIVE")
            locked.append(True)

    scraped: list[Any] = []
    from scrapy.crawler import Crawler
    from scrapy.utils.project import get_project_settings

    for spider in SPIDERS:
        project = get_project_settings()
        project.setdict(settings, priority="cmdline")
        crawler = Crawler(spider, project)
        crawler.signals.connect(lock_after_three, signal=signals.item_scraped)
        await crawler.crawl_async(model="qwen", **FIXTURE_WINDOW)
        assert crawler.stats is not None and crawler.stats.get_value("finish_reason") == "finished"
    assert locked, "the database was never locked: the test did not exercise the outage"
    spooled = sum(1 for path in (tmp_path / "spool").glob("*.jsonl") for _ in path.open())
    assert spooled > 0
    blocker.rollback()
    blocker.close()
    assert len(stored(settings["DATABASE_URL"])) < len(expected)

    # The next run replays the spool first: the union is exactly the healthy crawl.
    await crawl_all(settings)
    assert set(stored(settings["DATABASE_URL"])) == expected
    assert not list((tmp_path / "spool").glob("*.jsonl"))
