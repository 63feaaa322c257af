"""Scrapy's scheduler for JOBDIR crawls, made safe to resume after a kill.

Scrapy's disk queue (queuelib) saves where its files start and end only when the crawl closes.
After a kill -9 that state is stale: the resumed queue reads the killed run's records as if they
were its own and never reaches the requests pushed after them, so the sources that ``start()``
asks again are silently lost (the feed in flight at the kill was never requested again).

So the queue is trusted only if the run that wrote it closed: a marker file is written into
``JOBDIR/requests.queue`` when the queue opens and removed once Scrapy has saved its state at
close. A queue found with the marker, or one that cannot be read (a truncated file, a broken
state file, a request that no longer deserializes, at open or at any pop), is set aside (renamed
``requests.queue.unreadable-<UTC time>``) with one WARNING, counted
``digestcrawl/jobdir/queue_set_aside``, and the crawl starts from a fresh queue. Nothing is lost
by that: the spider asks every source again (``start()`` at open; ``restart_sources()`` when
the queue breaks mid-crawl), and the database, not the old queue, decides which articles are
fetched again.

Settings: JOBDIR and those of ``scrapy.core.scheduler.Scheduler``.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import struct
from datetime import UTC, datetime
from pathlib import Path

from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

# Present while a run uses the queue; found at open, the last run did not close it.
MARKER = "in-use"
# What reading a damaged queue raises: queuelib's framing (struct), its state files (JSON, a
# ValueError), a record cut short, a chunk file gone, and whatever unpickling bytes that are no
# longer a request gives (a missing global is an AttributeError or an ImportError).
UNREADABLE = (struct.error, ValueError, pickle.UnpicklingError, EOFError, OSError, KeyError, TypeError,
              AttributeError, ImportError)


class ResumableScheduler(Scheduler):
    def open(self, spider: Spider) -> Deferred[None] | None:
        if self.dqdir is None:
            return super().open(spider)
        if (Path(self.dqdir) / MARKER).exists():
            self._set_aside("the run that wrote it did not close (killed?)")
        try:
            opened = super().open(spider)
        except UNREADABLE as exc:
            self._set_aside(f"{type(exc).__name__}: {exc}")
            opened = super().open(spider)
        (Path(self.dqdir) / MARKER).touch()
        return opened

    def close(self, reason: str) -> Deferred[None] | None:
        closed = super().close(reason)  # saves the disk queue's state
        if self.dqdir is not None:
            (Path(self.dqdir) / MARKER).unlink(missing_ok=True)
        return closed

    def _dqpop(self) -> Request | None:
        try:
            return super()._dqpop()
        except UNREADABLE as exc:
            self._set_aside(f"{type(exc).__name__}: {exc}", open_queue=True)
        restart = getattr(self.spider, "restart_sources", None)
        for request in restart() if restart is not None else ():
            self.enqueue_request(request)
        return super()._dqpop()

    def _set_aside(self, why: str, open_queue: bool = False) -> None:
        """Rename the disk queue out of the way and start an empty one in its place."""
        assert self.dqdir is not None
        if open_queue:
            assert self.dqs is not None
            with contextlib.suppress(*UNREADABLE):  # its state is what is being set aside
                self.dqs.close()
        queue = Path(self.dqdir)
        aside = queue.with_name(f"{queue.name}.unreadable-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")
        queue.rename(aside)
        queue.mkdir()
        logger.warning("JOBDIR request queue cannot be trusted (%s): set aside as %s; the crawl starts from a "
                       "fresh queue and requests every source again", why, aside)
        assert self.stats is not None
        self.stats.inc_value("digestcrawl/jobdir/queue_set_aside")
        if open_queue:
            self.dqs = self._dq()
