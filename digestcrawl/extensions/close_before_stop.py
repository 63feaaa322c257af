"""A signal that comes while the spider is already closing (the closing digest) stops the engine
while the close is still running, and Scrapy then stops the reactor under it: no stats, no
report. :class:`CloseBeforeStop` holds ``engine_stopped`` until the close is over, so the close
path runs whatever the signal interrupted (``digestcrawl.ops.stops`` has the rest of the stops).
"""

from __future__ import annotations

import asyncio

from scrapy import signals
from scrapy.crawler import Crawler

from digestcrawl.extensions.digest_on_close import DigestOnClose
from digestcrawl.extensions.report import SourceReport


class CloseBeforeStop:
    """Holds ``engine_stopped`` until the spider's close, once begun, is over."""

    def __init__(self, crawler: Crawler) -> None:
        self.closing: asyncio.Event | None = None  # set when the close is over
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CloseBeforeStop:
        return cls(crawler)

    async def spider_closed(self) -> None:
        # Handlers run side by side: the run report comes last (it waits for the digest).
        self.closing = asyncio.Event()
        report = self.crawler.get_extension(SourceReport)
        digest = self.crawler.get_extension(DigestOnClose)
        if report is not None:
            await report.done.wait()
        elif digest is not None:
            await digest.finished.wait()
        self.closing.set()

    async def engine_stopped(self) -> None:
        if self.closing is not None:
            await self.closing.wait()
