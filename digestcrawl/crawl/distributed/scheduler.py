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

* A request a worker takes stays in its in-flight set until it was processed
  (``digestcrawl.crawl.distributed.inflight``: released once its callback's items left the pipelines, the
  rest when the spider is idle), and is given back to the queue when the worker stops before
  its crawl finished. The worker joins the crawl's registry (``digestcrawl.crawl.distributed.workers``)
  when the scheduler opens, before it takes a request. Every worker re-queues, on its
  heartbeat's rhythm and when idle, the in-flight requests of workers whose registry entry
  expired (killed: DIGESTCRAWL_WORKER_TTL after their last beat), with a WARNING and
  ``digestcrawl/redis/requeued``. An idle worker stays open while another holds requests: they
  may still come back to the queue, or add to it.

Settings: SCHEDULER_EPOCH_KEY, SCHEDULER_REDIS_DOWN_TIMEOUT (seconds), DIGEST_ON_CLOSE (without
the closing digest the scheduler leaves the worker registry itself), and those of
``scrapy_redis.scheduler.Scheduler`` (SCHEDULER_QUEUE_KEY, SCHEDULER_PERSIST, REDIS_URL, …); the
distributed profile (``digestcrawl.crawl.distributed.profile``) sets the keys from DIGESTCRAWL_CRAWL_ID.
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
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler
from twisted.internet.defer import Deferred

from digestcrawl.crawl.distributed.inflight import Reaped, ReliablePriorityQueue, request_processed
from digestcrawl.crawl.distributed.workers import WorkerRegistry

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
        scheduler.workers = WorkerRegistry.of(crawler)
        scheduler._reaped_at = 0.0
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.request_processed, signal=request_processed)
        return scheduler

    _waiting: deque[Request]
    _epoch: str | None
    _down_since: float | None  # time.monotonic() of the first failed call of an outage
    _tried: float  # time.monotonic() of the last call to Redis during an outage
    _failed: bool  # the queue was lost and could not be re-seeded
    workers: WorkerRegistry  # this worker's entry: its id names its in-flight requests
    _reaped_at: float  # time.monotonic() of the last look for dead workers' requests

    def open(self, spider: Spider) -> Deferred[None]:
        super().open(spider)
        self.epoch_key = self.epoch_key % {"spider": spider.name}
        self._epoch = self._current_epoch()
        if isinstance(self.queue, ReliablePriorityQueue):
            self.queue.track(self.workers.id, self.workers.key)
        # In the registry before the first request is taken: a worker without an entry is dead.
        return deferred_from_coro(self.workers.join())

    def close(self, reason: str) -> Deferred[None] | None:
        super().close(reason)
        if isinstance(self.queue, ReliablePriorityQueue):
            try:
                if reason == "finished":
                    self.queue.done()
                elif returned := self.queue.give_back():
                    self._count("requeued", returned)
                    logger.info("Closing (%s): %d request(s) this worker had taken are back in the shared queue",
                                reason, returned)
            except RedisError as exc:
                logger.warning("Redis unreachable (%s): the requests this worker had taken are re-queued by "
                               "another worker once its registry entry expires", exc)
        if self.crawler.settings.getbool("DIGEST_ON_CLOSE"):
            return None  # the closing digest leaves the registry (digestcrawl.extensions.digest_on_close)
        return deferred_from_coro(self.workers.leave())

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
            if (isinstance(self.queue, ReliablePriorityQueue)
                    and time.monotonic() - self._reaped_at >= self.workers.interval):
                self._reap()
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

    def request_processed(self, request: Request) -> None:
        if isinstance(self.queue, ReliablePriorityQueue):
            self.queue.release(request)

    def spider_idle(self) -> None:
        if self._failed:
            self._count("lost")
            raise CloseSpider("redis_lost")
        if self._down_since is None:
            self._idle_in_flight()
            return
        down = time.monotonic() - self._down_since
        if down < self.down_timeout:
            raise DontCloseSpider
        logger.error("Redis unreachable for %.0fs (SCHEDULER_REDIS_DOWN_TIMEOUT): closing with reason redis_lost; "
                     "requests queued in Redis are not crawled by this worker", down)
        self._count("lost")
        raise CloseSpider("redis_lost")

    def _idle_in_flight(self) -> None:
        """Idle: every request this worker took was processed. Stay open while dead workers'
        requests come back, or live ones hold some."""
        if not isinstance(self.queue, ReliablePriorityQueue):
            return
        try:
            self.queue.done()
            reaped = self._reap()
        except RedisError as exc:
            self._unreachable(exc)
            raise DontCloseSpider from exc
        if reaped.requeued or reaped.busy:
            raise DontCloseSpider

    def _reap(self) -> Reaped:
        """Put the requests of workers whose registry entry expired back into the queue."""
        assert isinstance(self.queue, ReliablePriorityQueue)
        self._reaped_at = time.monotonic()
        reaped = self.queue.reap()
        if reaped.requeued:
            self._count("requeued", reaped.requeued)
            logger.warning("Re-queued %d request(s) taken by %d worker(s) of crawl %s whose registry entry expired "
                           "(killed?)", reaped.requeued, reaped.dead, self.workers.crawl_id)
        return reaped

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

    def _count(self, event: str, amount: int = 1) -> None:
        self._stats.inc_value(f"digestcrawl/redis/{event}", amount)
