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
when a digest failed, 128 + the signal when SIGINT or SIGTERM stopped it.

Stops (digestcrawl.ops.stops): a signal during the crawls stops them as Scrapy does, and then no
digest is written (partial crawls) unless DIGEST_ON_PARTIAL is set. A signal during the digests
lets them finish; a second one ends the process at once (the digests run in a daemon thread and
the post being published is completed or put back first).
"""

from __future__ import annotations

import argparse
import logging

from scrapy.commands import BaseRunSpiderCommand
from scrapy.crawler import Crawler

from digestcrawl.crawl import CrawlContext
from digestcrawl.ops.exitcodes import ERROR, announce, exit_code
from digestcrawl.ops.startfailure import StartFailures, database_opens
from digestcrawl.ops.stops import ForcedStop, ShutdownSignals
from digestcrawl.ops.threads import wait_in_daemon_thread

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
        if not database_opens(self.settings):
            self.exitcode = ERROR
            return
        crawlers: list[Crawler] = []
        stops, failures = ShutdownSignals(), StartFailures()
        stops.watch(self.crawler_process)
        for name in SPIDERS:
            crawler = self.crawler_process.create_crawler(name)
            crawlers.append(crawler)
            failures.watch(self.crawler_process.crawl(crawler, **opts.spargs))
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = ERROR
            return
        runs = [c.stats.get_stats() for c in crawlers if c.stats is not None]
        finished = [c for c in crawlers if c.stats and c.stats.get_value("finish_reason") == "finished"]
        # A refused crawl is not partial: the run holding its lock rewrites the post.
        partial = stops.signum is not None or any(
            run.get("finish_reason") not in ("finished", "already_running") for run in runs)
        if not finished or (partial and not self.settings.getbool("DIGEST_ON_PARTIAL")):
            logger.error("No crawl finished; no digest written" if not finished else
                         "Partial crawls: no digest written, the previous posts stand (DIGEST_ON_PARTIAL writes them)")
            self.exitcode = announce(exit_code(runs, signum=stops.signum)) or ERROR
            return
        stops.after_reactor()
        try:
            written = wait_in_daemon_thread(lambda: self._digest(finished[0]))
        except ForcedStop:
            logger.error("Digests stopped by a second signal; the previous post of the one in progress stands")
            written = False
        self.exitcode = announce(exit_code(runs, digest_failed=not written, signum=stops.signum))

    def _digest(self, crawler: Crawler) -> bool:
        """Write each model's digest for the crawls' day; whether every one was written."""
        assert self.settings is not None
        from digestcrawl.digest import build_digests

        context = CrawlContext.of(crawler)
        jobs = [(model, context.day) for model in context.models]
        outcomes = build_digests(self.settings, jobs, each=lambda outcome: print(outcome.describe(), flush=True))
        return not any(outcome.failed for outcome in outcomes)
