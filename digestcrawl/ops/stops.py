"""Stops by SIGINT or SIGTERM, on top of Scrapy's own handling.

Scrapy's crawler process stops gracefully on the first signal (the spider closes with
``finish_reason: shutdown``) and stops the reactor on the second. Here:

* :class:`ShutdownSignals` remembers the first signal for the exit code (``128 + signal``: 130
  for SIGINT, 143 for SIGTERM), and handles the signals of ``scrapy daily``'s own digests, after
  the reactor.
* ``digestcrawl.extensions.close_before_stop.CloseBeforeStop`` holds ``engine_stopped`` until a
  close already running is over.

A forced stop does not wait for the digest: it runs in a daemon thread (``digestcrawl.ops.threads``).
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from scrapy.crawler import CrawlerProcessBase

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
