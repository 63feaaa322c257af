"""Bad input gets one clear log line and a counter; the crawl goes on to the end."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy.utils.defer import deferred_f_from_coro_f
from sqlalchemy import select

from digestcrawl.items import Article
from digestcrawl.store.engine import make_engine
from digestcrawl.store.models import ArticleRow
from digestcrawl.store.spool import Spool, to_dict, to_json
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, run_crawl


@deferred_f_from_coro_f
async def test_bad_config_feed_page_and_binary(crawl_settings: dict[str, Any], sources_file: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    config = yaml.safe_load(sources_file.read_text("utf-8"))
    config["sources"].append({"name": "typo", "kind": "feeed", "category": "news", "url": "http://127.0.0.1:1/"})
    sources_file.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file), "DIGEST_ON_CLOSE": False}

    crawler = await run_crawl(NewsSpider, settings, model="qwen", **FIXTURE_WINDOW)

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert stats["digestcrawl/config/invalid_source"] == 1
    assert stats["digestcrawl/source/broken/errors/malformed_feed"] == 1
    assert stats["digestcrawl/source/udn/dropped/empty_page"] == 1
    assert stats["digestcrawl/source/udn/dropped/binary_response"] == 1
    assert stats["digestcrawl/stored"] > 5  # the good sources were crawled all the same
    messages = [r.getMessage() for r in caplog.records]
    [config_line] = [m for m in messages if "Skipping invalid source entry" in m]
    assert "#" in config_line and "(typo)" in config_line and "field kind" in config_line
    assert len([m for m in messages if m.startswith("Malformed feed from source broken")]) == 1
    assert len([m for m in messages if m.startswith("Empty page from udn")]) == 1
    assert len([m for m in messages if m.startswith("Binary response (image/png) from udn")]) == 1
    assert not [r for r in caplog.records if r.exc_info], "no traceback may be logged"


@deferred_f_from_coro_f
async def test_corrupt_spool_lines_are_quarantined_and_the_crawl_starts(
        crawl_settings: dict[str, Any], sources_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 13: one truncated spool line made every later crawl die at start (JSONDecodeError)."""
    moment = datetime(2026, 1, 19, 8, 0, tzinfo=UTC)
    good = Article(url="https://example.com/spooled", source="udn", category="news", title="Qwen, spooled",
                   text="Qwen text.", published=moment, fetched=moment, models={"qwen": ["Qwen"]}, score={"qwen": 3})
    spool = Spool(Path(crawl_settings["STORE_SPOOL_DIR"]) / "news.jsonl")
    spool.append(good)
    wrong_type = {**to_dict(replace(good, url="https://example.com/wrong")), "models": ["qwen"]}
    naive = replace(good, url="https://example.com/naive", published=datetime(2026, 1, 19, 8, 0))
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(wrong_type) + "\n" + '{"url": "https://example.com/fields"}\n' + '["a list"]\n'
                     + to_json(naive) + "\n" + to_json(good)[:40])  # the last line cut short by a crash
    spool.append(replace(good, url="https://example.com/after-the-crash"))  # must not glue onto it
    settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file), "DIGEST_ON_CLOSE": False}

    crawler = await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert stats["digestcrawl/replayed"] == 2
    assert stats["digestcrawl/rejected/corrupt_spool_line"] == 4
    assert stats["digestcrawl/rejected/unbindable_value"] == 1  # read back, but the database refuses it
    assert stats["digestcrawl/stored"] >= 3  # and the crawl itself went on as usual
    assert not spool.path.exists()
    rejected = [json.loads(line) for line in (spool.path.parent / "rejected.jsonl").open(encoding="utf-8")]
    assert [(r["reason"], r.get("line_number")) for r in rejected] == [
        ("corrupt_spool_line", 2), ("corrupt_spool_line", 3), ("corrupt_spool_line", 4), ("corrupt_spool_line", 6),
        ("unbindable_value", None)]
    assert rejected[0]["detail"] == "field models holds a list"
    assert rejected[1]["detail"] == "missing field 'published'"
    assert rejected[3]["line"] == to_json(good)[:40]
    assert rejected[4]["article"]["url"] == "https://example.com/naive"
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if m.startswith("Skipped line ") and "holds no article" in m]) == 4
    assert not [r for r in caplog.records if r.exc_info], "no traceback may be logged"
    engine = make_engine(settings["STORE_URL"])
    with engine.connect() as conn:
        urls = set(conn.execute(select(ArticleRow.url)).scalars())
    engine.dispose()
    assert {"https://example.com/spooled", "https://example.com/after-the-crash"} <= urls
    assert "https://example.com/naive" not in urls
