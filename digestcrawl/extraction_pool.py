"""Article extraction in worker processes, so one crawl uses every core.

Extraction (lxml, trafilatura) is most of a crawl's CPU and holds the GIL; in the crawl process
it caps a crawl at one core. The spider hands each page to a process pool and awaits the
result, so downloads, pipelines and the store keep running meanwhile. Workers come from a
forkserver that has imported the extraction code once: a worker starts in milliseconds, and
nothing is forked from the crawl process with its threads and event loop.

A worker that dies (killed, out of memory, a crash in C code) breaks the pool: its pages are
extracted in the crawl process instead (each counted in ``digestcrawl/extraction/worker_lost``),
the loss is logged, and a new pool serves the pages that follow.

Settings: EXTRACTION_PROCESSES (worker processes; 0 extracts in the crawl process; default
one per CPU core but one).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import tzinfo

from scrapy import signals
from scrapy.crawler import Crawler

from digestcrawl.extraction import ExtractedPage, extract_page

logger = logging.getLogger(__name__)


class ExtractionPool:
    def __init__(self, crawler: Crawler, processes: int) -> None:
        self.crawler = crawler
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPool:
        processes = crawler.settings.getint("EXTRACTION_PROCESSES", max(1, (os.cpu_count() or 1) - 1))
        pool = cls(crawler, max(0, processes))
        crawler.signals.connect(pool.close, signal=signals.spider_closed)
        return pool

    async def extract(self, html: str, url: str, zone: tzinfo) -> ExtractedPage | None:
        if self.processes == 0:
            return extract_page(html, url, zone)
        executor = self._executor or self._start()
        try:
            return await asyncio.wrap_future(executor.submit(extract_page, html, url, zone))
        except BrokenProcessPool as exc:
            if self._executor is executor:  # the first page to notice replaces the pool
                logger.error("An extraction worker died (%s); extracting %s here and starting new workers",
                             exc, url)
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("digestcrawl/extraction/worker_lost")
            return extract_page(html, url, zone)

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["digestcrawl.extraction"])
        self._executor = ProcessPoolExecutor(self.processes, mp_context=context)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
