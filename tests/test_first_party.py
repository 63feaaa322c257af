"""First-party signals end to end: the releases spider and the AI press on the fixture web.

Hugging Face models API answers (JSON), GitHub releases and arXiv API answers (Atom), two AI
press feeds (WordPress RSS, The Verge's Atom) and an official blog, each served in its real
shape on 127.0.0.1 with one malformed answer per kind (tests/fixtureweb/first_party.yaml). The
truth below is read off those fixture files by hand.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.project import get_project_settings
from sqlalchemy.orm import Session

from digestcrawl.crawl.context import CrawlContext
from digestcrawl.crawl.urls import canonical_url
from digestcrawl.items import RepoStats
from digestcrawl.store.models import ArticleRow, MentionRow, RepoStatsRow, SourceRow
from digestcrawl.store.spool import from_json, to_json
from spiders.news import NewsSpider
from spiders.releases import ReleasesSpider
from tests.conftest import FIXTURE_WINDOW, run_crawl, spider_crawler
from tests.fixtureweb.server import FIRST_PARTY_MODELS, FIRST_PARTY_TEMPLATE, FixtureWeb

DAY = date(2026, 1, 19)  # the digest day of FIXTURE_WINDOW
NEW_CHECKPOINT = "https://huggingface.co/Qwen/Qwen3-Coder-Next-80B-A3B-Instruct"
QWEN_RELEASE = "https://github.com/QwenLM/Qwen3/releases/tag/v3.1.0"
ACME_RELEASE = "https://github.com/acme-labs/toolkit/releases/tag/v0.3.1"
PAPER = canonical_url("http://arxiv.org/abs/2601.11234v1")
# Every repository the two listings name, with its downloads and likes: a repo in both is read
# once, by whichever listing answered first; one without a download count is no reading.
READINGS = {
    "Qwen/Qwen3-Coder-Next-80B-A3B-Instruct": (18234, 412),
    "Qwen/Qwen3-8B": (1268440, 712),
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": (702113, 823),
    "Qwen/Qwen2.5-7B-Instruct": (2145020, 786),
}
ONLY_IN = {"Qwen/Qwen3-Coder-Next-80B-A3B-Instruct": "hf_recent", "Qwen/Qwen2.5-7B-Instruct": "hf_downloads"}


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


@pytest.fixture
def settings(fixture_web: FixtureWeb, crawl_settings: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    fixture_web.reset()
    sources = fixture_web.write_sources(tmp_path / "first_party.yaml", FIRST_PARTY_TEMPLATE)
    return {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources),
            "DIGESTCRAWL_MODELS_FILE": str(FIRST_PARTY_MODELS), "DIGEST_ON_CLOSE": False}


def stored(database_url: str) -> dict[str, dict[str, Any]]:
    """URL → its row, source and mentions (model → (aliases, placement))."""
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        rows = session.execute(sa.select(ArticleRow, SourceRow.name).join(SourceRow)).all()
        mentions = session.execute(sa.select(MentionRow.article_id, MentionRow.model, MentionRow.aliases,
                                             MentionRow.placement)).all()
        session.expunge_all()
    engine.dispose()
    by_article: dict[int, dict[str, tuple[list[str], str]]] = {}
    for article_id, model, aliases, placement in mentions:
        by_article.setdefault(article_id, {})[model] = (aliases, placement)
    return {row.url: {"row": row, "source": name, "models": by_article.get(row.id, {})} for row, name in rows}


def readings(database_url: str) -> list[Any]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(RepoStatsRow).order_by(RepoStatsRow.repo)).all()
    engine.dispose()
    return list(rows)


def stats_of(crawler: Crawler) -> dict[str, Any]:
    assert crawler.stats is not None
    return crawler.stats.get_stats()


@deferred_f_from_coro_f
async def test_releases_papers_and_repo_counters(settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    crawler = await run_crawl(ReleasesSpider, settings, model="all", **FIXTURE_WINDOW)
    stats = stats_of(crawler)
    assert stats["finish_reason"] == "finished"
    articles = stored(settings["STORE_URL"])

    # Only the checkpoint created within the window, this week's releases and the paper: not
    # the older repos, the older release and paper, nor the Gemini telescope paper.
    assert set(articles) == {NEW_CHECKPOINT, QWEN_RELEASE, ACME_RELEASE, PAPER}
    checkpoint = articles[NEW_CHECKPOINT]
    assert (checkpoint["row"].category, checkpoint["source"]) == ("release", "hf_recent")
    assert checkpoint["row"].title == "Qwen/Qwen3-Coder-Next-80B-A3B-Instruct"
    assert checkpoint["row"].published_at == datetime(2026, 1, 18, 9, 12, 44, tzinfo=UTC)
    assert set(checkpoint["models"]) == {"qwen"}

    # A release is titled by its repository and tag, its notes kept as text.
    release = articles[QWEN_RELEASE]
    assert release["row"].category == "release" and release["row"].title == "QwenLM/Qwen3 v3.1.0"
    assert "vLLM and SGLang recipes for 256K context" in release["row"].text
    assert release["models"]["qwen"][1] == "title"
    # A release that names no model is still its repository's model's: first-party, placed "owner".
    acme = articles[ACME_RELEASE]
    assert acme["row"].title == "acme-labs/toolkit v0.3.1"
    assert acme["models"] == {"acme": (["acme-labs/toolkit"], "owner")}
    assert stats["digestcrawl/first_party"] == 1

    paper = articles[PAPER]
    assert (paper["row"].category, paper["source"], set(paper["models"])) == ("paper", "arxiv", {"qwen"})
    assert "SWE-bench" in paper["row"].snippet

    # One counters reading per repository for the digest day, whichever listing named it first.
    rows = readings(settings["STORE_URL"])
    assert {r.repo: (r.downloads, r.likes) for r in rows} == READINGS
    assert {(r.model, r.day) for r in rows} == {("qwen", DAY)}
    assert {r.url for r in rows} == {f"https://huggingface.co/{repo}" for repo in READINGS}
    assert {r.repo: r.source for r in rows if r.repo in ONLY_IN} == ONLY_IN
    assert stats["digestcrawl/repo_stats"] == len(READINGS)
    assert stats["digestcrawl/source/hf_recent/entries"] == 3 and stats["digestcrawl/source/hf_downloads/entries"] == 3

    # Each malformed answer is counted and logged; the good answers of its kind were read.
    for source, kind in (("hf_truncated", "hf_models"), ("github_releases", "feed"), ("arxiv_broken", "feed")):
        assert stats[f"digestcrawl/source/{source}/errors/malformed_feed"] == 1, source
        assert any(r.getMessage().startswith(f"Malformed {kind} from source {source} at ") for r in caplog.records)


@deferred_f_from_coro_f
async def test_second_crawl_of_the_day_updates_the_counters(settings: dict[str, Any]) -> None:
    await run_crawl(ReleasesSpider, settings, model="qwen", source="hf_recent,hf_downloads", **FIXTURE_WINDOW)
    engine = sa.create_engine(settings["STORE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.update(RepoStatsRow).values(downloads=1))
    engine.dispose()
    await run_crawl(ReleasesSpider, settings, model="qwen", source="hf_recent,hf_downloads", **FIXTURE_WINDOW)
    rows = readings(settings["STORE_URL"])
    assert len(rows) == len(READINGS)  # one row per repo per day
    assert {r.repo: r.downloads for r in rows} == {repo: downloads for repo, (downloads, _) in READINGS.items()}


@deferred_f_from_coro_f
async def test_arxiv_gets_one_request_every_three_seconds(settings: dict[str, Any]) -> None:
    # AutoThrottle on, as in production: it must not lower the source's delay.
    project = get_project_settings()
    project.setdict({**settings, "AUTOTHROTTLE_ENABLED": True}, priority="cmdline")
    crawler = Crawler(ReleasesSpider, project)
    seen: list[tuple[float, str, float, int, float]] = []

    def received(response: Response, request: Any, spider: Any) -> None:
        assert crawler.engine is not None
        key = request.meta["download_slot"]
        slot = crawler.engine.downloader.slots[key]
        seen.append((time.monotonic(), key, slot.delay, slot.concurrency, slot.jitter))

    crawler.signals.connect(received, signal=signals.response_received)
    await crawler.crawl_async(model="qwen", source="arxiv,arxiv_broken", **FIXTURE_WINDOW)
    arxiv = [s for s in seen if s[1] != "127.0.0.1"]  # robots.txt has the host's own slot
    assert len(arxiv) == 2
    assert {(key, delay, concurrency, jitter) for _, key, delay, concurrency, jitter in arxiv} == {
        (arxiv[0][1], 3.0, 1, 0.0)}
    assert arxiv[1][0] - arxiv[0][0] >= 2.9


@deferred_f_from_coro_f
async def test_ai_press_feeds_and_an_official_blog(settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    crawler = await run_crawl(NewsSpider, settings, model="all", **FIXTURE_WINDOW)
    assert stats_of(crawler)["finish_reason"] == "finished"
    articles = stored(settings["STORE_URL"])
    qbitai = articles["https://www.qbitai.com/2026/01/318842.html"]
    assert (qbitai["row"].publisher, qbitai["row"].headline_only, set(qbitai["models"])) == ("量子位", True, {"qwen"})
    verge = articles["https://www.theverge.com/news/861234/alibaba-qwen3-coder-next-open-weights"]
    assert verge["row"].title == "Alibaba’s new Qwen coding model takes aim at Claude Code"
    assert set(verge["models"]) == {"qwen"}
    # The official blog's post never names Qwen: it is Qwen's all the same, from its own blog.
    [blog] = [a for url, a in articles.items() if url.endswith("/blog/gspo/")]
    assert "Group Sequence Policy Optimization" in blog["row"].text and not blog["row"].headline_only
    assert blog["models"] == {"qwen": (["Qwen"], "owner")}
    assert len(articles) == 3  # the robot hand and the smart glasses are off topic
    assert {r.getMessage().split(" ")[2] for r in caplog.records
            if r.getMessage().startswith("Dropped off_topic: ")} == {
        "https://www.qbitai.com/2026/01/318790.html", "https://www.theverge.com/tech/860001/ces-smart-glasses"}


@deferred_f_from_coro_f
async def test_counters_are_spooled_while_the_database_is_down_and_replayed(
        settings: dict[str, Any], tmp_path: Path) -> None:
    # No run lock: the first run cannot release its own while the database is locked.
    settings = {**settings, "STORE_BUSY_TIMEOUT": 0.05, "STORE_RETRY_TIMES": 1, "RUN_LOCK_ENABLED": False}
    blocker = sqlite3.connect(tmp_path / "db.sqlite3", timeout=30)

    def lock(spider: Any) -> None:  # once the pipelines have opened: nothing can be written after
        blocker.execute("BEGIN EXCLUSIVE")

    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    down = Crawler(ReleasesSpider, project)
    down.signals.connect(lock, signal=signals.spider_opened)
    try:
        await down.crawl_async(model="qwen", source="hf_recent,hf_downloads", **FIXTURE_WINDOW)
    finally:
        blocker.rollback()
        blocker.close()
    assert stats_of(down)["digestcrawl/spooled"] == len(READINGS) + 1  # and the new checkpoint's article
    spooled = [json.loads(line) for line in (tmp_path / "spool" / "releases.jsonl").read_text("utf-8").splitlines()]
    assert sorted(line["repo"] for line in spooled if line.get("item") == "repo_stats") == sorted(READINGS)

    # The next run (here one that reads nothing new) stores what the first could not.
    again = await run_crawl(ReleasesSpider, settings, model="qwen", source="hf_truncated", **FIXTURE_WINDOW)
    assert stats_of(again)["digestcrawl/replayed"] == len(READINGS) + 1
    assert {r.repo: (r.downloads, r.likes, r.day) for r in readings(settings["STORE_URL"])} == {
        repo: (*counters, DAY) for repo, counters in READINGS.items()}
    assert NEW_CHECKPOINT in stored(settings["STORE_URL"])
    assert not (tmp_path / "spool" / "releases.jsonl").exists()


@pytest.mark.parametrize("line", [
    '{"item": "repo_stats", "repo": "Qwen/Qwen3-8B", "model": "qwen", "source": "hf", "url": "u", "day": "2026-01-19"}',
    '{"item": "repo_stats", "repo": "Qwen/Qwen3-8B", "model": "qwen", "source": "hf", "url": "u", '
    '"day": "2026-01-19", "downloads": "many", "likes": 1, "fetched": null}',
    '{"item": "repo_stats", "repo": "Qwen/Qwen3-8B", "model": "qwen", "source": "hf", "url": "u", '
    '"day": "yesterday", "downloads": 1, "likes": 1, "fetched": null}',
])
def test_a_spooled_counters_line_that_holds_no_reading_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        from_json(line)


def test_a_counters_reading_survives_the_spool() -> None:
    reading = RepoStats(repo="Qwen/Qwen3-8B", model="qwen", source="hf_recent", url="https://huggingface.co/Qwen/Qwen3-8B",
                        day=DAY, downloads=1268440, likes=712, fetched=datetime(2026, 1, 19, 1, tzinfo=UTC))
    assert from_json(to_json(reading)) == reading


def test_a_source_first_party_for_an_unknown_model_is_skipped(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n"
                       "  - {name: blog, kind: feed, category: news, url: 'https://a/', first_party: [qwen, bard]}\n"
                       "  - {name: press, kind: feed, category: news, url: 'https://b/'}\n", "utf-8")
    crawler = spider_crawler(NewsSpider, {"DIGESTCRAWL_SOURCES_FILE": str(sources), "EXTRACTION_PROCESSES": 0},
                             model="qwen", **FIXTURE_WINDOW)
    context = CrawlContext.of(crawler)
    assert [s.name for s in context.sources] == ["press"]
    [problem] = context.config_problems
    assert "blog" in str(problem) and "unknown models ['bard']" in str(problem)


@deferred_f_from_coro_f
async def test_a_refused_reading_costs_only_itself(settings: dict[str, Any], tmp_path: Path, postgres_url: str) -> None:
    from pipelines.store import StorePipeline

    project = get_project_settings()
    # PostgreSQL: it enforces column lengths, which SQLite does not.
    project.setdict({**settings, "STORE_URL": postgres_url, "EXTRACTION_PROCESSES": 0}, priority="cmdline")
    crawler = Crawler(ReleasesSpider, project)
    crawler.spider = crawler._create_spider(model="qwen", **FIXTURE_WINDOW)  # as a crawl does, before...
    crawler._apply_settings()  # ...its settings freeze and its stats start
    store = StorePipeline.from_crawler(crawler)
    await store.open_spider()
    good = RepoStats(repo="Qwen/Qwen3-8B", model="qwen", source="hf_recent", url="https://huggingface.co/Qwen/Qwen3-8B",
                     day=DAY, downloads=1268440, likes=712)
    # A model key longer than its column (models.yaml bounds no key's length).
    bad = RepoStats(repo="Qwen/broken", model="q" * 41, source="hf_recent", url="https://huggingface.co/Qwen/broken",
                    day=DAY, downloads=1, likes=None)
    try:
        await asyncio.gather(store.process_item(good), store.process_item(bad))  # one batch
    finally:
        await store.close_spider()
    assert [r.repo for r in readings(postgres_url)] == ["Qwen/Qwen3-8B"]
    [rejected] = [json.loads(line) for line in (tmp_path / "spool" / "rejected.jsonl").read_text("utf-8").splitlines()]
    assert rejected["reason"] == "data_error" and rejected["repo_stats"]["repo"] == "Qwen/broken"
    stats = stats_of(crawler)
    assert stats["digestcrawl/repo_stats"] == 1 and stats["digestcrawl/rejected/data_error"] == 1
