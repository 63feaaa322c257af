"""Honour 429 / 503 with ``Retry-After``: wait what the server asks, then retry.

Scrapy's RetryMiddleware retries at once; a rate-limited server wants the pause. The wait is
capped: a server asking for longer than ``RETRY_AFTER_MAX`` seconds gets no retry, and the
response goes on to be reported as failed.

Settings: RETRY_AFTER_MAX (float seconds, default 120), RETRY_TIMES (Scrapy's), RETRY_AFTER_CODES
(default [429, 503]).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

logger = logging.getLogger(__name__)


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
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 120.0)
        self.codes = {int(c) for c in crawler.settings.getlist("RETRY_AFTER_CODES", [429, 503])}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response,
                               spider: Spider | None = None) -> Request | Response:
        if response.status not in self.codes:
            return response
        header = response.headers.get(b"Retry-After")
        wait = retry_after_seconds(header.decode("latin-1") if header else None)
        if wait is None:
            return response  # Scrapy's RetryMiddleware handles a plain 429/503
        if wait > self.max_wait:
            logger.warning("%s asks to wait %.0fs (> RETRY_AFTER_MAX %.0fs): not retrying",
                           request.url, wait, self.max_wait)
            return response
        assert self.crawler.spider is not None
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"{response.status} Retry-After",
                                  stats_base_key="digestcrawl/retry_after")
        if retry is None:
            return response
        logger.info("%s answered %s; retrying after %.1fs as asked", request.url, response.status, wait)
        await asyncio.sleep(wait)
        return retry
