"""The worker registry of distributed crawls (digestcrawl.crawl.distributed.workers) against a real Redis: the last
live worker writes the digest, a crashed worker's entry expires, and when Redis is unreachable
the worker writes it anyway."""

from __future__ import annotations

import asyncio
import socket

from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.distributed.workers import WorkerRegistry

TTL = 0.6  # seconds: heartbeats every 0.2 s


def registry(redis_url: str, crawl_id: str) -> WorkerRegistry:
    return WorkerRegistry.from_crawler(get_crawler(settings_dict={
        "REDIS_URL": redis_url, "DIGESTCRAWL_CRAWL_ID": crawl_id, "DIGESTCRAWL_WORKER_TTL": TTL}))


async def crash(worker: WorkerRegistry) -> None:
    """As kill -9: the heartbeat stops and the worker never leaves."""
    await worker._stop()


def stats(worker: WorkerRegistry) -> dict[str, int]:
    assert worker.crawler.stats is not None
    return {k: v for k, v in worker.crawler.stats.get_stats().items() if k.startswith("digestcrawl/workers/")}


@deferred_f_from_coro_f
async def test_the_last_live_worker_writes_the_digest(redis_url: str) -> None:
    first, second = registry(redis_url, "last-live"), registry(redis_url, "last-live")
    await first.join()
    await second.join()
    # The first to close sees the other refresh its entry: alive, so it will write.
    assert await first.finish() is False
    assert await second.finish() is True
    assert stats(first) == stats(second) == {}


@deferred_f_from_coro_f
async def test_two_workers_closing_at_once_write_one_digest(redis_url: str) -> None:
    workers = [registry(redis_url, "at-once") for _ in range(3)]
    for worker in workers:
        await worker.join()
    outcomes = await asyncio.gather(*(worker.finish() for worker in workers))
    assert sorted(outcomes) == [False, False, True]


@deferred_f_from_coro_f
async def test_a_crashed_worker_does_not_block_the_digest(redis_url: str) -> None:
    survivor, crashed = registry(redis_url, "crashed"), registry(redis_url, "crashed")
    await survivor.join()
    await crashed.join()
    await crash(crashed)
    # Its entry is still live when the survivor closes: the survivor waits, sees it expire, writes.
    assert await survivor.finish() is True
    assert stats(survivor) == {"digestcrawl/workers/peer_expired": 1}


@deferred_f_from_coro_f
async def test_a_stalled_worker_that_comes_back_writes_the_digest_again(redis_url: str) -> None:
    survivor, stalled = registry(redis_url, "stalled"), registry(redis_url, "stalled")
    await survivor.join()
    await stalled.join()
    await crash(stalled)  # e.g. its event loop blocked for longer than the TTL
    assert await survivor.finish() is True
    await stalled._refresh(joining=False)  # its next heartbeat: it is back, with more articles stored
    assert await stalled.finish() is True


@deferred_f_from_coro_f
async def test_a_new_round_of_the_crawl_writes_its_own_digest(redis_url: str) -> None:
    first = registry(redis_url, "rounds")
    await first.join()
    assert await first.finish() is True
    again = registry(redis_url, "rounds")  # the same crawl id resumed later
    await again.join()
    assert await again.finish() is True


@deferred_f_from_coro_f
async def test_unreachable_redis_writes_the_digest_anyway() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = WorkerRegistry.from_crawler(get_crawler(settings_dict={
        "REDIS_URL": f"redis://127.0.0.1:{port}/0", "REDIS_PARAMS": {"retry": None, "socket_connect_timeout": 1},
        "DIGESTCRAWL_CRAWL_ID": "down", "DIGESTCRAWL_WORKER_TTL": TTL}))
    await worker.join()
    assert await worker.finish() is True
    assert stats(worker)["digestcrawl/workers/redis_error"] >= 2
