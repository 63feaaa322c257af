"""End-to-end: real Scrapy crawls of the fixture web into real databases.

The truth is tests/fixtureweb/expected.yaml, written by hand from the fixture pages, not from
digestcrawl's output.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import yaml
from scrapy import signals
from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from digestcrawl.store.models import ArticleRow, DuplicateRow, MentionRow, SourceRow
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


TRACKING = re.compile(r"^(utm_\w+|fbclid|from|oc)$")


def clean(url: str) -> str:
    """A linked URL as it should be stored: no tracking parameters (the truth file keeps them)."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not TRACKING.match(k)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def url_of(web: FixtureWeb, entry: dict[str, Any] | str) -> str:
    if isinstance(entry, str):  # "site/path" or a full URL, as in outcomes and stories
        return clean(entry) if "://" in entry else clean(web.url(*entry.split("/", 1)))
    return clean(entry.get("url") or web.url(entry["site"], entry["path"]))


def outcome_of(entry: dict[str, Any]) -> tuple[str, str | None]:
    outcome = entry["outcome"]
    if isinstance(outcome, str):
        return outcome, None
    [(kind, value)] = outcome.items()
    return kind, value


def expected(web: FixtureWeb, kind: str, value: str | None = None, links: list[Any] | None = None) -> set[str]:
    return {url_of(web, e) for e in links or EXPECTED["links"]
            if outcome_of(e)[0] == kind and (value is None or outcome_of(e)[1] == value)}


def stored(database_url: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = session.execute(select(ArticleRow, SourceRow.name).join(SourceRow)).all()
    with engine.connect() as conn:
        mentions = conn.execute(select(MentionRow.article_id, MentionRow.model, MentionRow.aliases)).all()
        links = dict(conn.execute(select(DuplicateRow.article_id, DuplicateRow.original_url)).all())
    engine.dispose()
    found: dict[int, dict[str, list[str]]] = {}
    for article_id, model, aliases in mentions:
        found.setdefault(article_id, {})[model] = aliases
    return {row.ArticleRow.url: {"row": row.ArticleRow, "source": row.name,
                                 "models": found.get(row.ArticleRow.id, {}),
                                 "duplicate_of": links.get(row.ArticleRow.id)} for row in rows}


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


def dropped_urls(caplog: pytest.LogCaptureFixture, reason: str) -> set[str]:
    prefix = f"Dropped {reason}: "
    return {r.getMessage()[len(prefix):].split(" ")[0] for r in caplog.records if r.getMessage().startswith(prefix)}


@pytest.fixture
def fixture_settings(crawl_settings: dict[str, Any], sources_file: Path) -> dict[str, Any]:
    return {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file), "DIGEST_ON_CLOSE": False}


@deferred_f_from_coro_f
async def test_crawl_stores_exactly_the_expected_articles(
        fixture_web: FixtureWeb, fixture_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    stats = await crawl_all(fixture_settings)
    articles = stored(fixture_settings["STORE_URL"])

    fetched = {u for u, a in articles.items() if not a["row"].headline_only}
    assert fetched == expected(fixture_web, "stored") | expected(fixture_web, "duplicate_of")
    headlines = {u for u, a in articles.items() if a["row"].headline_only}
    assert headlines == expected(fixture_web, "headline_only")
    # AMP pages, tracking-parameter links and repeats collapse into their canonical URL.
    assert {url_of(fixture_web, t) for t in (outcome_of(e)[1] for e in EXPECTED["links"]
                                             if outcome_of(e)[0] == "same_as") if t} <= fetched
    # The syndicated copy is stored as a link to its original (title, no second text), counted apart.
    copies = 0
    for entry in EXPECTED["links"]:
        kind, original = outcome_of(entry)
        if kind == "duplicate_of":
            copy = articles[url_of(fixture_web, entry)]
            assert copy["duplicate_of"] == url_of(fixture_web, str(original))
            assert copy["row"].title and copy["row"].text == "" and copy["row"].minhash is None
            copies += 1
    assert stats.get("digestcrawl/copies", 0) == copies
    # Traditional and Simplified spellings are both matched, as whichever alias they fold to.
    for entry in EXPECTED["links"]:
        if outcome_of(entry)[0] in ("stored", "duplicate_of"):
            assert articles[url_of(fixture_web, entry)]["models"].get("qwen"), entry
    simplified = articles[url_of(fixture_web, "sina/tech/qianwen-app.mislabelled.html")]
    assert simplified["row"].language == "zh-Hans" and simplified["models"]["qwen"]
    # Dates are timezone-aware and equal to the truth; tracking parameters are gone.
    for entry in EXPECTED["links"]:
        if outcome_of(entry)[0] in ("stored", "duplicate_of", "headline_only"):
            row = articles[url_of(fixture_web, entry)]["row"]
            assert row.published_at == datetime.fromisoformat(entry["published"]), entry
    assert not [u for u in articles if "utm_" in u or "fbclid" in u or "oc=5" in u]
    # Every drop happened for its reason, once per URL.
    for reason in ("off_topic",):
        assert dropped_urls(caplog, reason) == expected(fixture_web, "dropped", reason), reason
    for reason in ("too_old", "ad", "empty_page", "binary_response"):
        assert stats.get(f"digestcrawl/dropped/{reason}", 0) == len(expected(fixture_web, "dropped", reason)), reason
    # robots.txt forbids /private/: never requested.
    assert not [r for r in fixture_web.requests if r.path.startswith("/private/")]
    assert stats["digestcrawl/dropped/robots"] == len(expected(fixture_web, "not_fetched", "robots"))
    assert stats["digestcrawl/retry_after/count"] == 1  # the 429 feed, retried after Retry-After


BLUESKY_SEARCH = "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?"
# The posts of tests/fixtureweb/site/bsky/xrpc/app.bsky.feed.searchPosts.json, read by hand.
ALICE_POST = "Qwen3-Coder-Next is out: 80B total, 3B active, Apache 2.0. Running it locally tonight."
MLNEWS_POST = ("Alibaba says the Qwen app passed 100 million monthly active users, two months after launch, and "
               "will open to third-party merchants after Lunar New Year. qwen.ai/blog?id=qwen-app…")


@deferred_f_from_coro_f
async def test_bluesky_posts_are_stored_under_their_web_urls(
        fixture_web: FixtureWeb, crawl_settings: dict[str, Any], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """The shipped Bluesky source, a json_api entry with no code of its own, on a searchPosts
    answer in the AppView's shape: each post is stored under its bsky.app page, built from its
    at:// uri and its author's handle."""
    shipped = yaml.safe_load(resources.files("digestcrawl").joinpath("conf", "sources.yaml").read_text("utf-8"))
    [entry] = [source for source in shipped["sources"] if source["name"] == "bluesky"]
    assert entry["url"].startswith(BLUESKY_SEARCH)
    entry["url"] = fixture_web.url("bsky", "xrpc/app.bsky.feed.searchPosts.json?") + entry["url"][len(BLUESKY_SEARCH):]
    sources = tmp_path / "bluesky.yaml"
    sources.write_text(yaml.safe_dump({"sources": [entry]}), encoding="utf-8")
    fixture_web.reset()
    crawler = await run_crawl(SocialSpider, {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources),
                                             "DIGEST_ON_CLOSE": False}, model="qwen", **FIXTURE_WINDOW)

    articles = stored(crawl_settings["STORE_URL"])
    assert {url: (a["source"], a["row"].title, a["row"].text, a["row"].author, a["row"].published_at,
                  a["row"].headline_only) for url, a in articles.items()} == {
        "https://bsky.app/profile/alice.bsky.social/post/3mcqf2k7xbs2a": (
            "bluesky", ALICE_POST, ALICE_POST, "alice.bsky.social",
            datetime(2026, 1, 19, 3, 12, 45, 123000, tzinfo=UTC), True),
        "https://bsky.app/profile/mlnews.example.com/post/3mcpzr4tlw22k": (
            "bluesky", MLNEWS_POST[:120], MLNEWS_POST, "mlnews.example.com",
            datetime(2026, 1, 18, 22, 40, 7, 512000, tzinfo=UTC), True),
    }
    # One search per Latin alias, each asking for JSON; every answer lists the old post and the
    # one that names no model (the search matched its link card).
    requests = [r for r in fixture_web.requests if r.site == "bsky" and r.path.startswith("/xrpc/")]
    assert sorted(parse_qs(urlsplit(r.path).query)["q"][0] for r in requests) == ['"Tongyi Qianwen"', "Qianwen", "Qwen"]
    assert {r.headers.get("Accept") for r in requests} == {"application/json"}
    assert crawler.stats is not None
    assert crawler.stats.get_value("digestcrawl/dropped/too_old") == len(requests)
    assert dropped_urls(caplog, "off_topic") == {"https://bsky.app/profile/carol.bsky.social/post/3mcqa7dmbxc2t"}


@deferred_f_from_coro_f
async def test_everyday_senses_of_model_names_are_dropped(
        fixture_web: FixtureWeb, fixture_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    truth = EXPECTED["multi_model"]
    await crawl_all(fixture_settings, model=",".join(truth["models"]))
    articles = stored(fixture_settings["STORE_URL"])
    assert dropped_urls(caplog, "ambiguous_alias") == expected(fixture_web, "dropped", "ambiguous_alias",
                                                               truth["links"])
    for entry in truth["links"]:
        if outcome_of(entry)[0] in ("stored", "headline_only"):
            assert sorted(articles[url_of(fixture_web, entry)]["models"]) == sorted(entry["models"]), entry


@deferred_f_from_coro_f
async def test_encodings_and_javascript_pages(fixture_web: FixtureWeb, fixture_settings: dict[str, Any]) -> None:
    await crawl_all(fixture_settings)
    articles = stored(fixture_settings["STORE_URL"])
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
async def test_only_crawls_with_rendered_sources_start_playwright(fixture_settings: dict[str, Any]) -> None:
    for spider, renders in ((FinanceSpider, False), (SocialSpider, False), (NewsSpider, True)):
        crawler = await run_crawl(spider, fixture_settings, model="qwen", **FIXTURE_WINDOW)
        assert crawler.stats is not None
        assert ("playwright/browser_count" in crawler.stats.get_stats()) is renders, spider.name


@deferred_f_from_coro_f
async def test_second_identical_crawl_adds_no_rows(fixture_settings: dict[str, Any]) -> None:
    await crawl_all(fixture_settings)
    first = table_counts(fixture_settings["STORE_URL"])
    await crawl_all(fixture_settings)
    assert table_counts(fixture_settings["STORE_URL"]) == first
    assert first["articles"] > 10


@deferred_f_from_coro_f
async def test_second_identical_crawl_adds_no_rows_on_postgresql(
        fixture_settings: dict[str, Any], postgres_url: str) -> None:
    await crawl_all(fixture_settings)
    on_sqlite = table_counts(fixture_settings["STORE_URL"])
    settings = {**fixture_settings, "STORE_URL": postgres_url}
    await crawl_all(settings)
    first = table_counts(postgres_url)
    await crawl_all(settings)
    assert table_counts(postgres_url) == first == on_sqlite
    assert set(stored(postgres_url)) == set(stored(fixture_settings["STORE_URL"]))


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
    settings = {**fixture_settings, "STORE_BUSY_TIMEOUT": 0.05, "STORE_RETRY_TIMES": 1}
    database = str(tmp_path / "db.sqlite3")
    # Baseline: what a healthy crawl stores.
    healthy = {**settings, "STORE_URL": f"sqlite:///{tmp_path / 'healthy.sqlite3'}",
               "STORE_SPOOL_DIR": str(tmp_path / "healthy-spool")}
    await crawl_all(healthy)
    expected = set(stored(healthy["STORE_URL"]))

    # Same crawl; after the third stored item another connection locks the database.
    # It waits for a write in progress to finish (SQLite lock wait), then holds the lock.
    blocker = sqlite3.connect(database, timeout=30)
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
    assert len(stored(settings["STORE_URL"])) < len(expected)

    # The next run replays the spool first: the union is exactly the healthy crawl.
    await crawl_all(settings)
    assert set(stored(settings["STORE_URL"])) == expected
    assert not list((tmp_path / "spool").glob("*.jsonl"))
