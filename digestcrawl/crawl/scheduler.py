"""The distributed scheduler: scrapy-redis's shared queue, made to survive a Redis restart.

A Redis without persistence (or flushed, or failed over) comes back empty: the shared queue and
dupefilter are gone, and the workers would finish "successfully" on part of the crawl.

* Lost data is detected with an epoch key (SCHEDULER_EPOCH_KEY): the first worker sets it with
  a random value; every worker remembers it, and checks it before each request it hands out and
  before it reports the queue empty. A missing or changed key means Redis lost the crawl's
  data: the worker logs a WARNING, counts ``digestcrawl/redis/data_lost`` and re-seeds. It
  schedules its spider's ``restart_sources()`` again through the shared dupefilter (the first
  worker's copy wins). The feeds are read anew and every article they list is found again:
  stored, unchanged ones are skipped by the incremental middleware, and the store upserts the
  rest.
* While Redis is unreachable, a request that cannot be queued waits in this worker's memory
  (``digestcrawl/redis/held_requests``). It is pushed when Redis answers again; until then this
  worker crawls it itself. An idle worker stays open for up to SCHEDULER_REDIS_DOWN_TIMEOUT
  seconds of outage, then closes with reason ``redis_lost``, one ERROR line and
  ``digestcrawl/redis/lost`` (the ``redis_lost`` monitor fails).

Settings: SCHEDULER_EPOCH_KEY, SCHEDULER_REDIS_DOWN_TIMEOUT (seconds), and those of
``scrapy_redis.scheduler.Scheduler`` (SCHEDULER_QUEUE_KEY, SCHEDULER_PERSIST, REDIS_URL, …); the
distributed profile (``digestcrawl.crawl.distributed``) sets the keys from DIGESTCRAWL_CRAWL_ID.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque

from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.statscollectors import StatsCollector
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

# While Redis is down it is tried this often, not on every call: each failed call blocks the
# reactor through redis-py's own retries.
RETRY_INTERVAL = 1.0


class RedisScheduler(Scheduler):  # type: ignore[misc]  # scrapy-redis is untyped
    crawler: Crawler
    epoch_key: str
    down_timeout: float

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        scheduler: RedisScheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.epoch_key = crawler.settings.get("SCHEDULER_EPOCH_KEY")
        scheduler.down_timeout = crawler.settings.getfloat("SCHEDULER_REDIS_DOWN_TIMEOUT")
        scheduler._waiting = deque()
        scheduler._epoch = None
        scheduler._down_since = None
        scheduler._tried = 0.0
        scheduler._failed = False
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    _waiting: deque[Request]
    _epoch: str | None
    _down_since: float | None  # time.monotonic() of the first failed call of an outage
    _tried: float  # time.monotonic() of the last call to Redis during an outage
    _failed: bool  # the queue was lost and could not be re-seeded

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.epoch_key = self.epoch_key % {"spider": spider.name}
        self._epoch = self._current_epoch()

    def enqueue_request(self, request: Request) -> bool:
        try:
            if self._wait_for_redis():
                raise RedisError("still unreachable")
            self._push_waiting()
            queued = self._enqueue(request)
        except RedisError as exc:
            self._unreachable(exc)
            self._waiting.append(request)
            self._count("held_requests")
            return True
        self._reachable()
        return queued

    def next_request(self) -> Request | None:
        try:
            if self._wait_for_redis():
                raise RedisError("still unreachable")
            self._push_waiting()
            self._reseed_if_lost()
            request: Request | None = self.queue.pop(self.idle_before_close)
        except RedisError as exc:
            self._unreachable(exc)
            return self._waiting.popleft() if self._waiting else None
        self._reachable()
        if request is not None:
            self._stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self._waiting:
            return True
        try:
            if self._wait_for_redis():
                raise RedisError("still unreachable")
            self._reseed_if_lost()
            pending: bool = super().has_pending_requests()
        except RedisError as exc:
            self._unreachable(exc)
            return False  # idle: spider_idle waits for Redis or gives up
        self._reachable()
        return pending

    def spider_idle(self) -> None:
        if self._failed:
            self._count("lost")
            raise CloseSpider("redis_lost")
        if self._down_since is None:
            return
        down = time.monotonic() - self._down_since
        if down < self.down_timeout:
            raise DontCloseSpider
        logger.error("Redis unreachable for %.0fs (SCHEDULER_REDIS_DOWN_TIMEOUT): closing with reason redis_lost; "
                     "requests queued in Redis are not crawled by this worker", down)
        self._count("lost")
        raise CloseSpider("redis_lost")

    def _current_epoch(self) -> str:
        """The crawl's epoch, set now (to a new random value) if Redis has none."""
        pipe = self.server.pipeline(transaction=True)
        pipe.set(self.epoch_key, uuid.uuid4().hex, nx=True).get(self.epoch_key)
        value = pipe.execute()[1]
        return value.decode() if isinstance(value, bytes) else str(value)

    def _reseed_if_lost(self) -> None:
        epoch = self._current_epoch()
        if epoch == self._epoch:
            return
        self._epoch = epoch
        self._count("data_lost")
        restart = getattr(self.spider, "restart_sources", None)
        if restart is None:
            logger.error("Redis lost the shared queue (%s missing or replaced) and spider %s cannot re-seed it: "
                         "it will close with reason redis_lost", self.epoch_key, self.spider.name)
            self._failed = True
            return
        requests = list(restart())
        logger.warning("Redis lost the shared queue (%s missing or replaced): re-seeding %d source requests",
                       self.epoch_key, len(requests))
        for request in requests:
            self.enqueue_request(request)

    def _enqueue(self, request: Request) -> bool:
        # scrapy-redis's enqueue, without the spider argument Scrapy deprecates in stats calls.
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self._stats.inc_value("scheduler/enqueued/redis")
        return True

    def _push_waiting(self) -> None:
        while self._waiting:
            self._enqueue(self._waiting[0])
            self._waiting.popleft()

    def _wait_for_redis(self) -> bool:
        """True while Redis is down and was tried less than RETRY_INTERVAL ago."""
        now = time.monotonic()
        if self._down_since is None or now - self._tried >= RETRY_INTERVAL:
            self._tried = now
            return False
        return True

    def _unreachable(self, exc: Exception) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._count("unreachable")
            logger.warning("Redis unreachable (%s): holding new requests in memory, retrying", exc)

    def _reachable(self) -> None:
        if self._down_since is not None:
            logger.info("Redis reachable again after %.1fs", time.monotonic() - self._down_since)
            self._down_since = None

    @property
    def _stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats

    def _count(self, event: str) -> None:
        self._stats.inc_value(f"digestcrawl/redis/{event}")
