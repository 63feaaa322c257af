"""Honour 429 / 503 with ``Retry-After``: hold that host's download slot for the wait asked, and
retry the request once the slot opens again.

Scrapy's RetryMiddleware retries at once; a rate-limited server wants the pause. Nothing waits
inside the downloader: the retry request is returned at once, and the host's download slot
(every request to that host, not only this one) opens again when the wait is over, while other
hosts go on. A server asking for more than ``RETRYAFTER_MAX`` seconds gets no retry at all, not
even RetryMiddleware's: the response goes on to be reported as failed (``errors/http_<status>``)
and is counted as ``digestcrawl/retry_after/gave_up``.

Holding a slot drives Scrapy's private downloader internals (``Downloader.slots``, ``_latercall``,
``Slot.lastseen``/``latercall``): ``tests/unit/test_retryafter_internals.py`` fails, naming the
one that moved, when a Scrapy upgrade changes them.

Settings: RETRYAFTER_MAX (float seconds), RETRYAFTER_CODES (list of statuses), RETRY_TIMES
(Scrapy's).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic

from scrapy import Request, Spider
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.utils.asyncio import call_later

logger = logging.getLogger(__name__)

STATS_BASE = "digestcrawl/retry_after"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRYAFTER_MAX")
        self.codes = {int(c) for c in crawler.settings.getlist("RETRYAFTER_CODES")}
        # Slot key → monotonic time until which the slot is held.
        self._held_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        if response.status not in self.codes:
            return response
        header = response.headers.get(b"Retry-After")
        wait = retry_after_seconds(header.decode("latin-1") if header else None)
        if wait is None:
            return response  # Scrapy's RetryMiddleware handles a plain 429/503
        assert self.crawler.stats is not None
        if wait > self.max_wait:
            self.crawler.stats.inc_value(f"{STATS_BASE}/gave_up")
            logger.warning("%s answered %s asking to wait %.0fs (> RETRYAFTER_MAX %.0fs): giving up on it",
                           request.url, response.status, wait, self.max_wait)
            request.meta["dont_retry"] = True  # nor does RetryMiddleware retry it at its own pace
            return response
        assert self.crawler.spider is not None
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"{response.status} Retry-After",
                                  stats_base_key=STATS_BASE)
        if retry is None:
            return response
        self._hold_slot(request, wait)
        logger.info("%s answered %s; its host waits %.1fs as asked, then it is retried",
                    request.url, response.status, wait)
        return retry

    def _hold_slot(self, request: Request, wait: float) -> None:
        """Keep the request's download slot closed for ``wait`` seconds (only that slot)."""
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        key: str | None = request.meta.get(Downloader.DOWNLOAD_SLOT)
        slot = downloader.slots.get(key) if key is not None else None
        if key is None or slot is None or wait <= 0:
            return
        until = monotonic() + wait
        if self._held_until.get(key, 0.0) >= until:
            return
        self._held_until[key] = until
        # The slot's own delay counts from lastseen: moved forward, it keeps the slot closed with
        # a download delay, and the slot is not collected as idle meanwhile. Without a delay the
        # slot's queue is only processed when ``latercall`` fires.
        slot.lastseen = max(slot.lastseen, until - slot.delay)
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(wait, self._reopen, downloader, key, slot)

    def _reopen(self, downloader: Downloader, key: str, slot: Slot) -> None:
        self._held_until.pop(key, None)  # a longer hold would have replaced this timer
        # Downloader._latercall clears the slot's timer and processes its queue.
        downloader._latercall(slot)
