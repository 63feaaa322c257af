"""scrapy-redis's priority queue with the reliable-queue pattern: no request is lost with its worker.

scrapy-redis's ``PriorityQueue.pop`` removes a request from the shared queue; a worker killed
before it crawled the request loses it for every worker. Here a pop moves the request, in one
Lua script, into the worker's in-flight set ``<queue key>:processing:<worker id>`` (a sorted set
with the request's queue score), and names the worker in ``<queue key>:processing``. The worker
id is its entry in the crawl's worker registry (``digestcrawl.crawl.distributed.workers``), whose heartbeat
keeps it alive.

* :meth:`ReliablePriorityQueue.release`: one request was processed: its callback's output was
  read and each of its items went through the pipelines (stored). The spider middleware
  :class:`ReleaseProcessed` (added by the distributed profile, next to the engine) tells so with
  the ``request_processed`` signal.
* :meth:`ReliablePriorityQueue.done`: every request this worker took was processed (the
  scheduler calls it when the spider is idle: nothing is downloading or being scraped), or the
  crawl finished. Requests that reach no callback (a download error and its errback, a
  redirect or a retry, which are queued anew, a page the incremental middleware skips) are
  released this way.
* :meth:`ReliablePriorityQueue.give_back`: a worker stopping before it finished (shutdown,
  ``redis_lost``) puts what it took back into the queue.
* :meth:`ReliablePriorityQueue.reap`: any live worker moves the in-flight requests of workers
  whose registry entry expired (or is gone) back into the queue, with their scores.

After a crash, besides the requests in flight, those the dead worker took since its last idle
moment and did not release are asked again: a stored article is then skipped again, a feed is
a conditional GET. Requests are encoded by scrapy-redis's own serializer, and the Lua
scripts move them as they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, NamedTuple

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_redis.queue import PriorityQueue

# Sent with ``request`` once its callback's output was read and its items left the pipelines.
request_processed = object()

# KEYS: queue, in-flight set of this worker, workers with in-flight sets. ARGV: worker id.
_POP = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
redis.call('ZREM', KEYS[1], first[1])
redis.call('ZADD', KEYS[2], first[2], first[1])
redis.call('SADD', KEYS[3], ARGV[1])
return first[1]
"""

# KEYS: queue, in-flight set of this worker, workers with in-flight sets. ARGV: worker id.
# Returns how many requests went back.
_GIVE_BACK = """
local taken = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #taken, 2 do redis.call('ZADD', KEYS[1], taken[i + 1], taken[i]) end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return #taken / 2
"""

# KEYS: queue, workers with in-flight sets, worker registry. ARGV: this worker's id, the prefix
# of in-flight set keys. Returns {requests re-queued, workers re-queued, live workers still
# holding requests}. The registry's scores are expiry times on Redis's clock (ms).
_REAP = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local requeued, dead, busy = 0, 0, 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if worker ~= ARGV[1] then
        local key = ARGV[2] .. worker
        local expiry = redis.call('ZSCORE', KEYS[3], worker)
        if expiry and tonumber(expiry) > now then
            if redis.call('EXISTS', key) == 1 then busy = busy + 1 end
        else
            local taken = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
            for i = 1, #taken, 2 do redis.call('ZADD', KEYS[1], taken[i + 1], taken[i]) end
            requeued = requeued + #taken / 2
            if #taken > 0 then dead = dead + 1 end
            redis.call('DEL', key)
            redis.call('SREM', KEYS[2], worker)
        end
    end
end
return {requeued, dead, busy}
"""


class Reaped(NamedTuple):
    requeued: int  # requests moved back into the queue
    dead: int  # workers they had been taken by
    busy: int  # live workers still holding requests


class ReliablePriorityQueue(PriorityQueue):  # type: ignore[misc]  # scrapy-redis is untyped
    """Set ``SCHEDULER_QUEUE_CLASS`` to this, and :meth:`track` before the first pop."""

    worker: str
    workers_key: str  # the worker registry's sorted set

    def track(self, worker: str, workers_key: str) -> None:
        self.worker = worker
        self.workers_key = workers_key
        self._pop = self.server.register_script(_POP)
        self._give_back = self.server.register_script(_GIVE_BACK)
        self._reap = self.server.register_script(_REAP)
        self._taken: dict[Request, bytes] = {}  # request → its member of the in-flight set

    @property
    def holders_key(self) -> str:
        return f"{self.key}:processing"

    @property
    def processing_key(self) -> str:
        return f"{self.holders_key}:{self.worker}"

    def pop(self, timeout: int = 0) -> Request | None:
        data = self._pop(keys=[self.key, self.processing_key, self.holders_key], args=[self.worker])
        if not data:
            return None
        request: Request = self._decode_request(data)
        self._taken[request] = data
        return request

    def release(self, request: Request) -> None:
        data = self._taken.pop(request, None)
        if data is not None:
            self.server.zrem(self.processing_key, data)

    def done(self) -> None:
        self._taken.clear()
        pipe = self.server.pipeline(transaction=True)
        pipe.delete(self.processing_key).srem(self.holders_key, self.worker)
        pipe.execute()

    def give_back(self) -> int:
        return int(self._give_back(keys=[self.key, self.processing_key, self.holders_key], args=[self.worker]))

    def reap(self) -> Reaped:
        requeued, dead, busy = self._reap(keys=[self.key, self.holders_key, self.workers_key],
                                          args=[self.worker, f"{self.holders_key}:"])
        return Reaped(int(requeued), int(dead), int(busy))


class ReleaseProcessed:
    """Spider middleware, next to the engine: sends ``request_processed`` for a response once
    its callback's output was read (or raised) and every item of it was scraped, dropped or
    failed in the pipelines."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._items: dict[Response, int] = {}  # items of a response still in the pipelines
        self._reading: set[Response] = set()  # responses whose output is still being read
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseProcessed:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        self._reading.add(response)
        try:
            for output in result:
                self._count(response, output)
                yield output
        finally:
            self._read(response)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]
                                          ) -> AsyncIterator[Any]:
        self._reading.add(response)
        try:
            async for output in result:
                self._count(response, output)
                yield output
        finally:
            self._read(response)

    def _count(self, response: Response, output: Any) -> None:
        if not isinstance(output, Request):
            self._items[response] = self._items.get(response, 0) + 1

    def _item_done(self, response: Response | None = None) -> None:
        if response is None or response not in self._items:
            return
        self._items[response] -= 1
        self._release_if_processed(response)

    def _read(self, response: Response) -> None:
        self._reading.discard(response)
        self._items.setdefault(response, 0)
        self._release_if_processed(response)

    def _release_if_processed(self, response: Response) -> None:
        if self._items[response] or response in self._reading:
            return
        del self._items[response]
        # Redis unreachable: the request is released when the spider is idle instead.
        self.crawler.signals.send_catch_log(request_processed, request=response.request, dont_log=RedisError)
