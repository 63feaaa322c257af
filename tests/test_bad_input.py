"""Bad input gets one clear log line and a counter; the crawl goes on to the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy.utils.defer import deferred_f_from_coro_f

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
