"""Extraction in worker processes gives what extraction in the crawl process gives, a worker
that dies costs no page, and a page that stalls a worker costs only itself."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scrapy import signals
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.extraction import pool as extraction_pool
from digestcrawl.crawl.extraction.pool import (
    REAP_TIMEOUT,
    ExtractionPool,
    ExtractionShortfall,
    processes_for_memory,
)
from digestcrawl.text.extraction import extract_page
from tests.conftest import project_settings
from tests.hostilepages import article, many_links
from tests.processes import alive

PAGE = Path(__file__).parent.parent / "fixtureweb/site/mashdigi/en/google-expands-gemini-3-deep-think.html"
URL = "http://127.0.0.1/en/google-expands-gemini-3-deep-think.html"
ZONE = ZoneInfo("Asia/Taipei")
# Seconds of trafilatura on any machine (tens of microseconds per link): far longer than the
# tests' time limits, and than a few normal pages.
STUCK = many_links(100_000)


def pool_with(processes: int, **settings: object) -> ExtractionPool:
    crawler = get_crawler(settings_dict=project_settings(EXTRACTION_PROCESSES=processes, **settings))
    return ExtractionPool.from_crawler(crawler)


async def eventually(condition: Callable[[], bool], timeout: float = REAP_TIMEOUT) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes (a killed process takes a moment
    to be reaped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@deferred_f_from_coro_f
async def test_workers_extract_what_the_crawl_process_extracts() -> None:
    html = PAGE.read_text(encoding="utf-8")
    expected = extract_page(html, URL, ZONE)
    assert expected is not None and "Gemini" in expected.text
    inline, workers = pool_with(0), pool_with(2)
    try:
        assert await inline.extract(html, URL, ZONE) == expected
        assert inline.pids == []  # no process started
        assert await workers.extract(html, URL, ZONE) == expected
        assert await eventually(lambda: len(workers.pids) == 2)  # each started by its own thread
    finally:
        workers.close()
    assert workers.pids == []


@deferred_f_from_coro_f
async def test_a_dead_worker_costs_no_page() -> None:
    html = PAGE.read_text(encoding="utf-8")
    expected = extract_page(html, URL, ZONE)
    pool = pool_with(1)
    try:
        assert await pool.extract(html, URL, ZONE) == expected
        [killed] = pool.pids
        os.kill(killed, signal.SIGKILL)
        assert await pool.extract(html, URL, ZONE) == expected  # tried again by a new worker
        assert await pool.extract(html, URL, ZONE) == expected
        assert len(pool.pids) == 1 and killed not in pool.pids
    finally:
        pool.close()
    assert pool.crawler.stats is not None
    assert pool.crawler.stats.get_value("digestcrawl/extraction/worker_lost") == 1


@deferred_f_from_coro_f
async def test_a_stuck_page_is_given_up_and_its_worker_replaced() -> None:
    pool = pool_with(1, EXTRACTION_TIMEOUT=0.05)
    try:
        with pytest.raises(ExtractionShortfall) as given_up:
            await pool.extract(STUCK, URL, ZONE)
        assert given_up.value.reason == "extraction_timeout"
        assert given_up.value.detail == "not extracted within 0.05 s"
        [replacement] = pool.pids  # started at once, not on the next page
        html = PAGE.read_text(encoding="utf-8")
        pool.timeout = 60  # the next page is a normal one, on a machine that may be busy
        assert await pool.extract(html, URL, ZONE) == extract_page(html, URL, ZONE)
        assert pool.pids == [replacement]
    finally:
        pool.close()
    assert pool.crawler.stats is not None
    assert pool.crawler.stats.get_value("digestcrawl/extraction/worker_lost") is None  # killed, not lost


@deferred_f_from_coro_f
async def test_pages_behind_a_stuck_page_do_not_wait_and_closing_gives_it_up() -> None:
    html = PAGE.read_text(encoding="utf-8")
    expected = extract_page(html, URL, ZONE)
    pool = pool_with(2, EXTRACTION_TIMEOUT=600)
    try:
        stuck = asyncio.ensure_future(pool.extract(STUCK, URL, ZONE))
        assert await eventually(lambda: len(pool.pids) == 2)
        normal = [await pool.extract(html, URL, ZONE) for _ in range(3)]
        assert normal == [expected] * 3
        assert not stuck.done()
        busy = pool.pids
    finally:
        pool.close()  # kills the busy worker: nothing extracts the stuck page again
    with pytest.raises(ExtractionShortfall) as given_up:
        await stuck
    assert given_up.value.reason == "extraction_cancelled"
    assert await eventually(lambda: not any(alive(pid) for pid in busy))


@deferred_f_from_coro_f
async def test_a_page_sent_ahead_of_a_lost_page_is_not_lost() -> None:
    """A worker is sent its next page while it extracts one (PAGES_AHEAD): when the worker dies
    on its page, or the page is given up, the page behind it goes to the new worker, uncharged."""
    html = PAGE.read_text(encoding="utf-8")
    expected = extract_page(html, URL, ZONE)
    pool = pool_with(1, EXTRACTION_TIMEOUT=600)
    try:
        # Both queued before the worker has started: the stuck page goes first, the other behind it.
        stuck = asyncio.ensure_future(pool.extract(STUCK, URL, ZONE))
        behind = asyncio.ensure_future(pool.extract(html, URL, ZONE))
        for _ in range(2):  # the stuck page kills two workers: given up
            assert await eventually(lambda: len(pool.pids) == 1)
            [worker] = pool.pids
            os.kill(worker, signal.SIGKILL)
            assert await eventually(lambda: worker not in pool.pids)  # noqa: B023 (used at once)
        with pytest.raises(ExtractionShortfall) as given_up:
            await stuck
        assert given_up.value.reason == "extraction_crashed"
        assert await behind == expected
    finally:
        pool.close()
    assert pool.crawler.stats is not None
    assert pool.crawler.stats.get_value("digestcrawl/extraction/worker_lost") == 2  # the stuck page's alone


@deferred_f_from_coro_f
async def test_large_pages_sent_ahead_and_large_answers_do_not_wait_on_each_other() -> None:
    """A page sent ahead can be larger than the pipe holds, and so can the answer the worker
    sends meanwhile: the worker reads pages as they come, so neither waits for the other."""
    pages = [article(f"Qwen long read {n}", paragraphs=6000) for n in range(3)]
    pool = pool_with(1, EXTRACTION_TIMEOUT=600)
    try:
        done = await asyncio.wait_for(asyncio.gather(*(pool.extract(page, URL, ZONE) for page in pages)), 120)
    finally:
        pool.close()
    assert [len(page.text) > 500_000 for page in done if page is not None] == [True] * 3


@pytest.mark.parametrize(("processes", "worker_mb", "available_mb", "sized"), [
    (3, 150, 8000, 3),  # memory enough: the cores decide
    (7, 150, 1200, 4),  # half of 1,200 MB holds four workers
    (3, 150, 200, 1),  # never none: one worker, as with a single core
    (3, 0, 200, 3),  # no memory sizing
    (3, 150, None, 3),  # memory unknown
    (0, 150, 100, 0),  # extraction in the crawl process stays there
])
def test_the_pool_is_sized_by_memory_as_well_as_by_cores(processes: int, worker_mb: int, available_mb: int | None,
                                                         sized: int) -> None:
    assert processes_for_memory(processes, worker_mb, available_mb) == sized


def test_a_crawl_starts_the_workers_its_memory_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extraction_pool, "available_memory_mb", lambda: 600)
    assert pool_with(3, EXTRACTION_WORKER_MEMORY_MB=150).processes == 2
    assert pool_with(3, EXTRACTION_WORKER_MEMORY_MB=0).processes == 3


@deferred_f_from_coro_f
async def test_workers_start_when_the_spider_opens_not_on_the_first_page() -> None:
    """Issue 25: the forkserver imports the extraction code while the first feeds download."""
    # No extensions: the spider_opened receivers are the pool's alone.
    crawler = get_crawler(settings_dict=project_settings(EXTRACTION_PROCESSES=1, EXTENSIONS={}, EXTENSIONS_BASE={}))
    pool, inline = ExtractionPool.from_crawler(crawler), pool_with(0)
    try:
        assert pool.pids == []
        crawler.signals.send_catch_log(signals.spider_opened, spider=None)
        inline.start()
        assert await eventually(lambda: len(pool.pids) == 1)
        assert inline.pids == []  # extracting in the crawl process starts nothing
    finally:
        pool.close()
    assert pool.pids == []


def test_a_workers_start_is_not_its_first_pages_time() -> None:
    """A lone worker imports the extraction code as it starts (its forkserver does not: issue 25),
    which takes longer than this page's time limit; the limit starts when the worker says it is
    ready. A fresh process, so that no earlier pool's forkserver holds the code already."""
    script = f"""
import asyncio, sys
from zoneinfo import ZoneInfo
from scrapy.utils.test import get_crawler
from digestcrawl.crawl.extraction.pool import ExtractionPool
from tests.conftest import project_settings

async def main():
    crawler = get_crawler(settings_dict=project_settings(EXTRACTION_PROCESSES=1, EXTRACTION_TIMEOUT=0.1))
    pool = ExtractionPool.from_crawler(crawler)
    try:
        page = await pool.extract(open({str(PAGE)!r}, encoding="utf-8").read(), {URL!r}, ZoneInfo("UTC"))
        print("loaded before:", "digestcrawl.text.extraction" in sys.modules, "|", page.title)
    finally:
        pool.close()

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("loaded before: False |") and "Gemini" in done.stdout
