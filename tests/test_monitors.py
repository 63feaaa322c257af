"""Monitors fail loudly when a source goes silent, blocks us, changes layout, or nothing is found."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from digestcrawl.ops.monitors import MonitorFailure, Thresholds, evaluate, nothing_new
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, run_crawl
from tests.fixtureweb.server import SITE_ROOT, FixtureWeb


@pytest.mark.parametrize(("sources", "totals", "history", "expected"), [
    ({"a": {"fetched": 5, "entries": 4, "relevant": 2}}, {"relevant": 2}, [{"a": {"entries": 3}}], []),
    ({"a": {"fetched": 1, "entries": 0}}, {"relevant": 1}, [{"a": {"entries": 3}}], [("source_silent", "a")]),
    ({"a": {"fetched": 1, "entries": 0}}, {"relevant": 1}, [{"a": {"entries": 0}}], []),  # never yielded
    ({"a": {"fetched": 2, "errors/http_429": 2}}, {"relevant": 1}, [], [("blocked", "a")]),
    ({"a": {"fetched": 9, "errors/http_403": 1}}, {"relevant": 1}, [], []),
    ({"a": {"fetched": 6, "relevant": 1, "dropped/empty_page": 4}}, {"relevant": 1}, [], [("layout_changed", "a")]),
    ({"a": {"fetched": 6, "relevant": 5, "dropped/empty_page": 1}}, {"relevant": 5}, [], []),
    ({}, {"relevant": 0}, [], [("no_relevant_items", None)]),
    # No source answered (no network): one failure for that, besides finding nothing.
    ({"a": {"errors/download": 3}, "b": {"errors/http_503": 1}}, {"relevant": 0}, [],
     [("every_source_failed", None), ("no_relevant_items", None)]),
    ({"a": {"errors/download": 3}, "b": {"fetched": 1, "entries": 2}}, {"relevant": 1}, [], []),
    # A rerun with nothing new: every listed article is stored and unchanged. Not a failure.
    ({"a": {"fetched": 1, "entries": 4, "skipped/unchanged": 4}}, {"relevant": 0}, [], []),
    ({"a": {"fetched": 3, "entries": 4, "skipped/unchanged": 2, "dropped/off_topic": 2}}, {"relevant": 0}, [], []),
    # ... where the one new page is empty: not half of the source's pages, which are stored.
    ({"a": {"fetched": 3, "entries": 5, "skipped/unchanged": 3, "dropped/off_topic": 1, "dropped/empty_page": 1}},
     {"relevant": 0}, [], []),
    ({}, {"relevant": 1, "digest/written": 1}, [], []),
    ({}, {"relevant": 1, "digest/failed": 1}, [], [("digest_failed", None)]),
    ({}, {"relevant": 1, "digest/written": 2, "digest/fallback": 2, "digest/fallback/deadline": 1,
          "digest/fallback/malformed_body": 1}, [], [("digest_fallback", None)]),
    ({}, {"relevant": 1, "redis/lost": 1}, [], [("redis_lost", None)]),
])
def test_monitor_table(sources: dict[str, dict[str, int]], totals: dict[str, int],
                       history: list[dict[str, dict[str, int]]], expected: list[tuple[str, str | None]]) -> None:
    failures = evaluate(sources, totals, history, Thresholds())
    assert [(f.monitor, f.source) for f in failures] == expected
    assert all(isinstance(f, MonitorFailure) and str(f) for f in failures)
    if expected == [("digest_fallback", None)]:
        assert str(failures[0]) == "digest_fallback: 2 digest(s) written without the LLM (deadline 1, malformed_body 1)"


def _break(site: Path, scenario: str) -> None:
    feed = site / "udn" / "rssfeed" / "news.rss.xml"
    if scenario == "source_silent":
        feed.write_text(re.sub(r"<item>.*?</item>", "", feed.read_text("utf-8"), flags=re.DOTALL), "utf-8")
    elif scenario == "layout_changed":
        for page in (site / "udn" / "news" / "story").rglob("*.html"):
            page.write_text('<html><head><meta charset="utf-8"></head><body><div id="app"></div></body></html>')


@pytest.mark.parametrize("scenario", ["source_silent", "blocked", "layout_changed"])
@deferred_f_from_coro_f
async def test_broken_source_fails_its_monitor_in_the_run_report(
        scenario: str, crawl_settings: dict[str, Any], tmp_path: Path) -> None:
    site = tmp_path / "web"
    shutil.copytree(SITE_ROOT, site)
    with FixtureWeb(root=site) as web:
        sources = web.write_sources(tmp_path / "sources.yaml")
        settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources), "DIGEST_ON_CLOSE": False}
        healthy = await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)
        assert healthy.stats is not None and not healthy.stats.get_value("digestcrawl/monitor/failed/" + scenario)

        _break(site, scenario)
        if scenario == "blocked":
            sources.write_text(sources.read_text("utf-8").replace("/rssfeed/", "/blocked/rssfeed/"), "utf-8")
        broken = {**settings, "STORE_URL": f"sqlite:///{tmp_path / 'after.sqlite3'}",
                  "HTTPCACHE_ENABLED": False}
        crawler = await run_crawl(NewsSpider, broken, model="qwen", source="udn", **FIXTURE_WINDOW)

    assert crawler.stats is not None
    assert crawler.stats.get_value(f"digestcrawl/monitor/failed/{scenario}") == 1
    report = json.loads(Path(crawler.stats.get_value("digestcrawl/report_file")).read_text("utf-8"))
    assert report["monitors"]["passed"] is False
    assert {"monitor": scenario, "source": "udn"} in [
        {k: f[k] for k in ("monitor", "source")} for f in report["monitors"]["failed"]]


@pytest.mark.parametrize(("sources", "relevant", "expected"), [
    ({"a": {"skipped/unchanged": 3}}, 0, True),
    ({"a": {"skipped/unchanged": 3}}, 1, False),  # something new and relevant: a normal run
    ({"a": {"fetched": 2, "entries": 3}}, 0, False),  # nothing relevant, and nothing known either
])
def test_nothing_new_table(sources: dict[str, dict[str, int]], relevant: int, expected: bool) -> None:
    assert nothing_new(sources, {"relevant": relevant}) is expected


@deferred_f_from_coro_f
async def test_rerun_with_nothing_new_is_not_a_failure(
        crawl_settings: dict[str, Any], sources_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 13: a rerun with nothing new logged ERROR no_relevant_items."""
    caplog.set_level(logging.INFO, logger="digestcrawl.extensions.report")
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file), "DIGEST_ON_CLOSE": False}
    first = await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)
    assert first.stats is not None and first.stats.get_value("digestcrawl/relevant", 0) > 0
    caplog.clear()

    again = await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)

    assert again.stats is not None
    stats = again.stats.get_stats()
    assert stats.get("digestcrawl/relevant", 0) == 0 and stats["digestcrawl/skipped/unchanged"] > 0
    assert stats["digestcrawl/monitor/nothing_new"] == 1
    assert not [k for k in stats if k.startswith("digestcrawl/monitor/failed/")]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r for r in caplog.records if r.levelname == "INFO" and r.getMessage().startswith("Nothing new")]
    report = json.loads(Path(stats["digestcrawl/report_file"]).read_text("utf-8"))
    assert report["monitors"] == {"passed": True, "nothing_new": True, "failed": []}
