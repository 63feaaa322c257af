"""Stops by SIGINT or SIGTERM, on top of Scrapy's own handling.

Scrapy's crawler process stops gracefully on the first signal (the spider closes with
``finish_reason: shutdown``) and stops the reactor on the second. Here:

* :class:`ShutdownSignals` remembers the first signal for the exit code (``128 + signal``: 130
  for SIGINT, 143 for SIGTERM), and handles the signals of ``scrapy daily``'s own digests, after
  the reactor.
* :class:`CloseBeforeStop` (an extension): a signal that comes while the spider is already
  closing (the closing digest) stops the engine while the close is still running, and Scrapy
  then stops the reactor under it: no stats, no report. The extension holds ``engine_stopped``
  until the close is over, so the close path runs whatever the signal interrupted.

A forced stop does not wait for the digest: it runs in a daemon thread (``digestcrawl.ops.threads``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcessBase

from digestcrawl.ops.digest_on_close import DigestOnClose
from digestcrawl.ops.report import SourceReport

logger = logging.getLogger(__name__)


def signal_exit_code(signum: int) -> int:
    """The shell's convention for a process ended by a signal."""
    return 128 + signum


class ShutdownSignals:
    """The SIGINT/SIGTERM a crawler process received, seen through its own handlers."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def watch(self, process: CrawlerProcessBase) -> None:
        """Note the first signal ``process`` handles. Its handler is a bound method that Scrapy
        installs when the reactor starts, so wrapping it on the instance sees the signal without
        replacing Scrapy's handling (which installs its own for the second)."""
        shutdown = process._signal_shutdown

        def on_shutdown(signum: int, frame: Any) -> None:
            self.signum = self.signum or signum
            shutdown(signum, frame)

        setattr(process, "_signal_shutdown", on_shutdown)  # noqa: B010 (mypy: a method replaced)

    def after_reactor(self) -> None:
        """Handle signals once the reactor has stopped (``scrapy daily``'s own digests): the
        first is noted and the work goes on, a second raises :class:`ForcedStop`."""
        def handler(signum: int, _frame: Any) -> None:
            if self.signum is not None:
                raise ForcedStop(signum)
            self.signum = signum
            # Safe to log here: the main thread only waits for the digests' thread.
            logger.info("Received %s, finishing the digests. Send again to force", signal.Signals(signum).name)

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, handler)


class ForcedStop(BaseException):
    """A second signal: stop now (a BaseException, as KeyboardInterrupt: nothing catches it
    as a failure of its own)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


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
