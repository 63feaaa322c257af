"""The reliable queue of distributed crawls (digestcrawl.crawl.distributed.inflight, through the scheduler)
against a real Redis: a request a worker took comes back to the queue when the worker dies or
stops early, never while it lives."""

from __future__ import annotations

import asyncio
import time

import pytest
from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse
from scrapy.utils.defer import deferred_f_from_coro_f, maybe_deferred_to_future
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.distributed.inflight import ReleaseProcessed, ReliablePriorityQueue
from digestcrawl.crawl.distributed.scheduler import RedisScheduler

TTL = 0.6  # seconds: heartbeats every 0.2 s


class PlainSpider(Spider):
    name = "plain"


async def worker(redis_url: str, crawl_id: str) -> RedisScheduler:
    keys = f"t:{crawl_id}:%(spider)s"
    crawler = get_crawler(PlainSpider, settings_dict={
        "REDIS_URL": redis_url, "DIGESTCRAWL_CRAWL_ID": crawl_id, "DIGESTCRAWL_WORKER_TTL": TTL,
        "SCHEDULER_QUEUE_KEY": f"{keys}:requests", "SCHEDULER_DUPEFILTER_KEY": f"{keys}:dupefilter",
        "SCHEDULER_EPOCH_KEY": f"{keys}:epoch", "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_CLASS": "digestcrawl.crawl.distributed.inflight.ReliablePriorityQueue",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter", "SCHEDULER_REDIS_DOWN_TIMEOUT": 300})
    spider = PlainSpider.from_crawler(crawler)
    crawler.spider = spider
    scheduler = RedisScheduler.from_crawler(crawler)
    await maybe_deferred_to_future(scheduler.open(spider))
    assert isinstance(scheduler.queue, ReliablePriorityQueue)
    return scheduler


def requeued(scheduler: RedisScheduler) -> int:
    assert scheduler.crawler.stats is not None
    return int(scheduler.crawler.stats.get_value("digestcrawl/redis/requeued", 0))


def stays_open(scheduler: RedisScheduler) -> bool:
    try:
        scheduler.spider_idle()
    except DontCloseSpider:
        return True
    return False


@deferred_f_from_coro_f
async def test_a_dead_workers_request_is_requeued_after_its_ttl(redis_url: str) -> None:
    killed, survivor = await worker(redis_url, "dead"), await worker(redis_url, "dead")
    for url in ("http://127.0.0.1:9/a.html", "http://127.0.0.1:9/b.html"):
        killed.enqueue_request(Request(url))
    taken = killed.next_request()
    assert taken is not None
    await killed.workers._stop()  # as kill -9: no more heartbeats, no close
    other = survivor.next_request()
    assert other is not None and other.url != taken.url
    # While the killed worker's registry entry lives, its request is its own: the survivor,
    # idle, waits for it and does not take it.
    assert stays_open(survivor)
    assert survivor.next_request() is None and requeued(survivor) == 0

    deadline = time.monotonic() + 10 * TTL
    while not requeued(survivor) and time.monotonic() < deadline:
        assert stays_open(survivor)
        await asyncio.sleep(TTL / 6)
    assert requeued(survivor) == 1
    again = survivor.next_request()
    assert again is not None and again.url == taken.url
    assert not stays_open(survivor)  # nothing anyone holds is left: the survivor may close
    await maybe_deferred_to_future(survivor.close("finished"))


@pytest.mark.parametrize(("reason", "back"), [("shutdown", 1), ("finished", 0)])
@deferred_f_from_coro_f
async def test_a_worker_closing_early_gives_back_what_it_took(redis_url: str, reason: str, back: int) -> None:
    closing, other = await worker(redis_url, f"close-{reason}"), await worker(redis_url, f"close-{reason}")
    closing.enqueue_request(Request("http://127.0.0.1:9/a.html"))
    assert closing.next_request() is not None
    if reason == "finished":
        assert not stays_open(closing)  # idle: what it took was processed
    await maybe_deferred_to_future(closing.close(reason))
    assert requeued(closing) == back
    assert len(other.queue) == back
    # Without the closing digest (DIGEST_ON_CLOSE off here) the scheduler left the registry.
    assert other.queue.server.zscore(closing.workers.key, closing.workers.id) is None
    assert not stays_open(other)  # nothing left in flight anywhere, and no dead worker to reap
    await maybe_deferred_to_future(other.close("finished"))


def in_flight(scheduler: RedisScheduler) -> int:
    assert isinstance(scheduler.queue, ReliablePriorityQueue)
    return int(scheduler.queue.server.zcard(scheduler.queue.processing_key))


@deferred_f_from_coro_f
async def test_a_request_is_released_once_its_items_left_the_pipelines(redis_url: str) -> None:
    scheduler = await worker(redis_url, "release")
    middleware = ReleaseProcessed.from_crawler(scheduler.crawler)
    for url in ("http://127.0.0.1:9/feed.xml", "http://127.0.0.1:9/other.xml"):
        scheduler.enqueue_request(Request(url))
    feed, other = scheduler.next_request(), scheduler.next_request()
    assert feed is not None and other is not None and in_flight(scheduler) == 2
    response = HtmlResponse(feed.url, request=feed, body=b"<html></html>")
    item = {"url": "http://127.0.0.1:9/a.html"}

    output = list(middleware.process_spider_output(response, iter([item, Request("http://127.0.0.1:9/b.html")])))
    assert len(output) == 2
    assert in_flight(scheduler) == 2  # read, but its item is still in the pipelines
    scheduler.crawler.signals.send_catch_log(signals.item_scraped, item=item, response=response,
                                             spider=scheduler.spider)
    assert in_flight(scheduler) == 1  # the feed is processed; the other request is still in flight
    assert not stays_open(scheduler) and in_flight(scheduler) == 0
    await maybe_deferred_to_future(scheduler.close("finished"))
