"""The distributed profile, a Scrapy add-on (ADDONS).

With DIGESTCRAWL_DISTRIBUTED on, from any source (-s, a Scrapyd job setting, a spider's settings,
the environment through digestcrawl.settings), the crawl's scheduler and dupefilter are
scrapy-redis's, in Redis, under keys named after DIGESTCRAWL_CRAWL_ID, so that any number of
workers share one crawl. Add-ons run once the crawler's settings are complete, which an
import-time branch in the settings module is not: it never saw -s.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings


class DistributedProfile:
    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.getbool("DIGESTCRAWL_DISTRIBUTED"):
            return
        # Here, not at the top: redis and scrapy-redis load only in a distributed crawl (0.08 s
        # of every other crawl's start).
        from digestcrawl.crawl.distributed.inflight import ReleaseProcessed

        keys = f"digestcrawl:{settings.get('DIGESTCRAWL_CRAWL_ID')}:%(spider)s"
        profile = {
            "SCHEDULER": "digestcrawl.crawl.distributed.scheduler.RedisScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            # The queue outlives any one worker (a closing worker must not flush it for the
            # others); workers wait this long on an empty queue for work another may still add.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_IDLE_BEFORE_CLOSE": 3,
            "SCHEDULER_QUEUE_KEY": f"{keys}:requests",
            # A request taken by a worker that dies is crawled by another (reliable queue).
            "SCHEDULER_QUEUE_CLASS": "digestcrawl.crawl.distributed.inflight.ReliablePriorityQueue",
            "SCHEDULER_DUPEFILTER_KEY": f"{keys}:dupefilter",
            # Set once per queue: found missing or changed, Redis lost the queue and it is re-seeded.
            "SCHEDULER_EPOCH_KEY": f"{keys}:epoch",
        }
        # At the settings module's priority, as if it had set them: -s, Scrapyd job settings and
        # spider settings still override each one.
        for name, value in profile.items():
            settings.set(name, value, priority="project")
        # Next to the engine: it sees every output of a callback, to release its request.
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", ReleaseProcessed, 0)
