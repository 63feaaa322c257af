"""The distributed scheduler (digestcrawl.crawl.distributed.scheduler) against a real Redis that goes away: no
request is lost while it is down, and a Redis that comes back empty is re-seeded."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider
from scrapy.utils.test import get_crawler

from digestcrawl.crawl.distributed import scheduler as scheduler_module
from digestcrawl.crawl.distributed.scheduler import RedisScheduler
from tests.redisserver import RedisServer


class SourcesSpider(Spider):
    name = "sources"
    sources: ClassVar[list[str]] = ["http://127.0.0.1:9/feed-a.xml", "http://127.0.0.1:9/feed-b.xml"]

    def restart_sources(self) -> list[Request]:
        return [Request(url) for url in self.sources]


def open_scheduler(redis: RedisServer, spider_cls: type[Spider] = SourcesSpider) -> tuple[RedisScheduler, Spider]:
    crawler = get_crawler(spider_cls, settings_dict={
        "REDIS_URL": redis.url, "REDIS_PARAMS": {"retry": None, "socket_connect_timeout": 1},
        "SCHEDULER_QUEUE_KEY": "t:%(spider)s:requests", "SCHEDULER_DUPEFILTER_KEY": "t:%(spider)s:dupefilter",
        "SCHEDULER_EPOCH_KEY": "t:%(spider)s:epoch", "SCHEDULER_PERSIST": True,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter", "SCHEDULER_REDIS_DOWN_TIMEOUT": 300})
    spider = spider_cls.from_crawler(crawler)
    crawler.spider = spider
    scheduler = RedisScheduler.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler, spider


def drain(scheduler: RedisScheduler) -> list[str]:
    urls = []
    while (request := scheduler.next_request()) is not None:
        urls.append(request.url)
    return urls


def stats(scheduler: RedisScheduler) -> dict[str, Any]:
    assert scheduler.crawler.stats is not None
    return {k: v for k, v in scheduler.crawler.stats.get_stats().items() if k.startswith("digestcrawl/redis/")}


@pytest.fixture(autouse=True)
def retry_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "RETRY_INTERVAL", 0.0)


def test_requests_are_held_while_redis_is_down_and_the_lost_queue_is_reseeded(own_redis: RedisServer) -> None:
    scheduler, _ = open_scheduler(own_redis)
    assert scheduler.enqueue_request(Request("http://127.0.0.1:9/queued.html"))
    own_redis.stop()  # the queued request goes with it
    for n in (1, 2, 3):
        assert scheduler.enqueue_request(Request(f"http://127.0.0.1:9/held-{n}.html"))
    # While Redis is down the worker crawls what it holds itself.
    assert scheduler.next_request().url.endswith("held-1.html")
    assert scheduler.has_pending_requests()
    own_redis.start()  # empty
    assert sorted(drain(scheduler)) == sorted([
        "http://127.0.0.1:9/held-2.html", "http://127.0.0.1:9/held-3.html", *SourcesSpider.sources])
    assert not scheduler.has_pending_requests()
    assert stats(scheduler) == {"digestcrawl/redis/unreachable": 1, "digestcrawl/redis/held_requests": 3,
                                "digestcrawl/redis/data_lost": 1}


def test_a_queue_that_survived_is_not_reseeded(own_redis: RedisServer) -> None:
    scheduler, _ = open_scheduler(own_redis)
    other_worker, _ = open_scheduler(own_redis)
    scheduler.enqueue_request(Request("http://127.0.0.1:9/a.html"))
    assert drain(other_worker) == ["http://127.0.0.1:9/a.html"]
    assert stats(scheduler) == stats(other_worker) == {}


def test_every_worker_notices_the_loss_and_the_dupefilter_reseeds_once(own_redis: RedisServer) -> None:
    first, _ = open_scheduler(own_redis)
    second, _ = open_scheduler(own_redis)
    own_redis.stop()
    own_redis.start()
    assert sorted(drain(first) + drain(second)) == sorted(SourcesSpider.sources)
    assert stats(first)["digestcrawl/redis/data_lost"] == stats(second)["digestcrawl/redis/data_lost"] == 1


def test_a_spider_that_cannot_reseed_closes_as_redis_lost(own_redis: RedisServer) -> None:
    class PlainSpider(Spider):
        name = "plain"

    scheduler, _ = open_scheduler(own_redis, PlainSpider)
    own_redis.stop()
    own_redis.start()
    assert drain(scheduler) == []
    with pytest.raises(CloseSpider) as raised:
        scheduler.spider_idle()
    assert raised.value.reason == "redis_lost"
    assert stats(scheduler)["digestcrawl/redis/lost"] == 1
