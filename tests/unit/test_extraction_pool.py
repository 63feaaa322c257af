"""Extraction in worker processes gives what extraction in the crawl process gives, and a worker
that dies costs no page."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from zoneinfo import ZoneInfo

from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from digestcrawl.extraction import extract_page
from digestcrawl.extraction_pool import ExtractionPool

PAGE = Path(__file__).parent.parent / "fixtureweb/site/mashdigi/en/google-expands-gemini-3-deep-think.html"
URL = "http://127.0.0.1/en/google-expands-gemini-3-deep-think.html"
ZONE = ZoneInfo("Asia/Taipei")


def pool_with(processes: int) -> ExtractionPool:
    return ExtractionPool.from_crawler(get_crawler(settings_dict={"EXTRACTION_PROCESSES": processes}))


@deferred_f_from_coro_f
async def test_workers_extract_what_the_crawl_process_extracts() -> None:
    html = PAGE.read_text(encoding="utf-8")
    expected = extract_page(html, URL, ZONE)
    assert expected is not None and "Gemini" in expected.text
    inline, workers = pool_with(0), pool_with(2)
    try:
        assert await inline.extract(html, URL, ZONE) == expected
        assert inline._executor is None  # no process started
        assert await workers.extract(html, URL, ZONE) == expected
        assert workers._executor is not None
    finally:
        workers.close()
    assert workers._executor is None


@deferred_f_from_coro_f
async def test_a_dead_worker_costs_no_page() -> None:
    html = PAGE.read_text(encoding="utf-8")
    expected = extract_page(html, URL, ZONE)
    pool = pool_with(1)
    try:
        assert await pool.extract(html, URL, ZONE) == expected
        assert pool._executor is not None
        for pid in list(pool._executor._processes):
            os.kill(pid, signal.SIGKILL)
        assert await pool.extract(html, URL, ZONE) == expected  # in the crawl process
        assert await pool.extract(html, URL, ZONE) == expected  # by a new worker
        assert pool._executor is not None and pool._executor._processes
    finally:
        pool.close()
    assert pool.crawler.stats is not None
    assert pool.crawler.stats.get_value("digestcrawl/extraction/worker_lost") == 1
