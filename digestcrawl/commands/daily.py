"""``scrapy daily``: the scheduled job for hosts without Scrapyd.

    scrapy daily                       # every model, every category, the last day; then digests
    scrapy daily -a model=qwen -a since=2026-01-19 -a until=2026-01-20

Runs the news, social, finance and releases spiders together in one process (each refuses to
start while another run of it for the same model and day holds the database lock), then writes each model's
digest once, from the day's articles in the database, when at least one crawl finished: a crawl
refused as already running leaves its part to the run that holds it, which rewrites the post
when it closes. Spider arguments (-a) are passed to all four spiders.
Exit codes (digestcrawl.ops.exitcodes): 1 when a crawl failed to start or none finished, 5 when a
crawl was refused as already running, 3 when not one source of the four spiders answered, 4
when a digest failed.
"""

from __future__ import annotations

import argparse
import logging

from scrapy.commands import BaseRunSpiderCommand
from scrapy.crawler import Crawler

from digestcrawl.context import CrawlContext
from digestcrawl.ops.exitcodes import ERROR, announce, exit_code

logger = logging.getLogger(__name__)
SPIDERS = ("news", "social", "finance", "releases")


class Command(BaseRunSpiderCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[-a model=…] [-a since=…] [-a until=…]"

    def short_desc(self) -> str:
        return "Crawl every category for the models, then write their digests"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None and self.settings is not None
        # One digest per model at the end, rather than one per spider as each closes.
        self.settings.set("DIGEST_ON_CLOSE", False, priority="cmdline")
        crawlers: list[Crawler] = []
        for name in SPIDERS:
            crawler = self.crawler_process.create_crawler(name)
            crawlers.append(crawler)
            self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        runs = [c.stats.get_stats() for c in crawlers if c.stats is not None]
        finished = [c for c in crawlers if c.stats and c.stats.get_value("finish_reason") == "finished"]
        if not finished:
            logger.error("No crawl finished; no digest written")
            self.exitcode = announce(exit_code(runs)) or ERROR
            return
        self.exitcode = announce(exit_code(runs, digest_failed=not self._digest(finished[0])))

    def _digest(self, crawler: Crawler) -> bool:
        """Write each model's digest for the crawls' day; whether every one was written."""
        assert self.settings is not None
        from digestcrawl.digest.daily import build_digests

        context = CrawlContext.of(crawler)
        jobs = [(model, context.day) for model in context.models]
        outcomes = build_digests(self.settings, jobs, each=lambda outcome: print(outcome.describe(), flush=True))
        return not any(outcome.failed for outcome in outcomes)
