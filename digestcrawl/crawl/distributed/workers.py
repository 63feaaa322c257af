"""Which workers of a distributed crawl are still alive, so exactly one writes the digest.

Each worker keeps an entry in the Redis sorted set ``digestcrawl:<DIGESTCRAWL_CRAWL_ID>:workers``: the member
is the worker's id, the score the moment (Redis server clock, ms) it expires. A heartbeat
refreshes it every third of DIGESTCRAWL_WORKER_TTL, and re-adds it after Redis lost its data;
the set itself expires two TTLs after the last heartbeat. A worker killed with -9 stops
refreshing, so its entry expires instead of counting forever (an INCR/DECR counter kept it).

A worker's entry is one per crawler (:meth:`WorkerRegistry.of`): the distributed scheduler joins
it when it opens and names the worker's in-flight requests after its id
(``digestcrawl.crawl.distributed.inflight``); an expired entry lets other workers re-queue them.

When a worker closes, :meth:`WorkerRegistry.finish` removes its entry and drops expired ones in
one Lua script; the worker writes the digest when no entry is left and it wins the claim key
``digestcrawl:<DIGESTCRAWL_CRAWL_ID>:digest`` (two workers closing at once: one writes; a worker that joins,
or comes back after its entry expired, clears the claim: the digest is due again). Entries left are
watched for one TTL: a worker whose entry is refreshed is alive and will write the digest
itself when it closes; one whose entry expires has died, and the closing worker writes instead.
When Redis cannot be reached the worker writes the digest anyway (the digest is an upsert,
and a digest written twice beats none). A worker that writes no digest (DIGEST_ON_CLOSE off)
leaves with :meth:`WorkerRegistry.leave` instead.

Settings: DIGESTCRAWL_WORKER_TTL (seconds, default 30), DIGESTCRAWL_CRAWL_ID, and scrapy-redis's connection
settings (REDIS_URL, REDIS_PARAMS, …) read by ``scrapy_redis.connection.get_redis_from_settings``.
Stats: ``digestcrawl/workers/redis_error``, ``digestcrawl/workers/peer_expired``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from redis import Redis
from redis.exceptions import RedisError
from scrapy.crawler import Crawler
from scrapy_redis.connection import get_redis_from_settings

logger = logging.getLogger(__name__)

# The time is Redis's own, so workers on hosts with skewed clocks agree on who expired.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: workers, claim. ARGV: worker id, ttl ms, 1 when joining. Returns the server time.
# Expired entries stay for finish to find and count, but a joining worker that finds no live one
# starts a new round and drops the last round's.
_BEAT = _NOW + """
if ARGV[3] == '1' and redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') == 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
end
if redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) == 1 then
    -- a worker joined, or came back after its entry expired (a stalled process, a Redis that lost
    -- its data): the digest is due again when the last one closes
    redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))  -- dead entries outlive themselves, to be counted
return now
"""

# KEYS: workers, claim. ARGV: worker id, claim ttl ms. Returns {1, n} (this worker writes the
# digest), {-1, n} (another worker claimed it) or {0, n, id, expiry, …} (entries still there),
# n the number of expired entries it dropped.
_FINISH = _NOW + """
redis.call('ZREM', KEYS[1], ARGV[1])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local left = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if #left > 0 then
    table.insert(left, 1, expired)
    table.insert(left, 1, 0)
    return left
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, expired} end
return {-1, expired}
"""

# The crawler attribute that holds its registry (WorkerRegistry.of).
ATTRIBUTE = "_digestcrawl_worker_registry"

# The claim outlives any closing worker's wait; a worker (re)joining the registry clears it.
CLAIM_TTL_MS = 24 * 3600 * 1000


def worker_id() -> str:
    """This worker: host, process and a random part (a pid may be reused on another run)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkerRegistry:
    """The live workers of one distributed crawl. :meth:`join` when the spider opens (starts
    the heartbeat), :meth:`finish` when it closes."""

    def __init__(self, crawler: Crawler, server: Redis, crawl_id: str, ttl: float) -> None:
        self.crawler = crawler
        self.server = server
        self.crawl_id = crawl_id
        self.key = f"digestcrawl:{crawl_id}:workers"
        self.claim_key = f"digestcrawl:{crawl_id}:digest"
        self.id = worker_id()
        self.ttl_ms = max(1, round(ttl * 1000))
        self.interval = ttl / 3
        self._beat = server.register_script(_BEAT)
        self._finish = server.register_script(_FINISH)
        self._heartbeat: asyncio.Task[None] | None = None
        self._unreachable = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerRegistry:
        settings = crawler.settings
        return cls(crawler, get_redis_from_settings(settings), settings.get("DIGESTCRAWL_CRAWL_ID"),
                   settings.getfloat("DIGESTCRAWL_WORKER_TTL"))

    @classmethod
    def of(cls, crawler: Crawler) -> WorkerRegistry:
        """``crawler``'s one registry entry, shared by the scheduler (whose in-flight requests
        it keeps alive) and the closing digest; made on the first call."""
        registry = getattr(crawler, ATTRIBUTE, None)
        if registry is None:
            registry = cls.from_crawler(crawler)
            setattr(crawler, ATTRIBUTE, registry)
        assert isinstance(registry, WorkerRegistry)
        return registry

    async def join(self) -> None:
        if self._heartbeat is not None:  # already joined by another component
            return
        await self._refresh(joining=True)
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat_forever())

    async def leave(self) -> None:
        """Leave the crawl without a say in the digest (a worker that writes none)."""
        await self._stop()
        try:
            await asyncio.to_thread(self.server.zrem, self.key, self.id)
        except RedisError as exc:
            self._count("redis_error")
            logger.warning("Redis unreachable (%s): worker %s left its registry entry to expire", exc, self.id)

    async def finish(self) -> bool:
        """Leave the crawl; True when this worker is the one to write the digest."""
        await self._stop()
        try:
            first = await asyncio.to_thread(self._finish_once)
            if isinstance(first, bool):
                return first
            # Watch the entries left for one TTL (plus a beat): each is refreshed (alive: that
            # worker writes the digest), or it expires (dead: this one does).
            loop = asyncio.get_running_loop()
            deadline = loop.time() + (self.ttl_ms / 1000) + 2 * self.interval
            while loop.time() < deadline:
                await asyncio.sleep(self.interval)
                left = await asyncio.to_thread(self._finish_once)
                if isinstance(left, bool):
                    return left
                if all(expiry > first.get(worker, 0) for worker, expiry in left.items()):
                    logger.info("%d other worker(s) of crawl %s still running: the last one writes the digest",
                                len(left), self.crawl_id)
                    return False
            logger.warning("Workers %s of crawl %s neither refreshed nor expired: leaving the digest to them",
                           ", ".join(sorted(first)), self.crawl_id)
            return False
        except RedisError as exc:
            self._count("redis_error")
            logger.warning("Redis unreachable (%s): cannot tell whether other workers of crawl %s still run; "
                           "writing the digest", exc, self.crawl_id)
            return True

    def _finish_once(self) -> bool | dict[str, float]:
        """One finish script: True/False when decided, else the other workers' expiries."""
        reply = self._finish(keys=[self.key, self.claim_key], args=[self.id, CLAIM_TTL_MS])
        status, expired, *pairs = reply
        if expired:
            self._count("peer_expired", int(expired))
            logger.warning("%d worker(s) of crawl %s stopped without leaving (crashed?): their entries expired",
                           int(expired), self.crawl_id)
        if status != 0:
            return bool(status == 1)
        return {_text(pairs[i]): float(pairs[i + 1]) for i in range(0, len(pairs), 2)}

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._refresh(joining=False)

    async def _refresh(self, joining: bool) -> None:
        try:
            await asyncio.to_thread(self._beat, keys=[self.key, self.claim_key],
                                    args=[self.id, self.ttl_ms, int(joining)])
        except RedisError as exc:
            self._count("redis_error")
            if not self._unreachable:  # one line per outage, not one per beat
                logger.warning("Redis unreachable (%s): worker heartbeat of %s retried every %.1fs",
                               exc, self.id, self.interval)
            self._unreachable = True
        else:
            if self._unreachable:
                logger.info("Redis reachable again: worker %s registered", self.id)
            self._unreachable = False

    async def _stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None

    def _count(self, event: str, amount: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"digestcrawl/workers/{event}", amount)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
