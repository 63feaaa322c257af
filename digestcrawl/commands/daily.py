"""``scrapy daily``: the scheduled job for hosts without Scrapyd.

    scrapy daily                       # every model, every category, the last day; then digests
    scrapy daily -a model=qwen -a since=2026-01-19 -a until=2026-01-20
    scrapy daily --site ~/blog --build # the posts into ~/blog, then the site built (DIGEST_SITE_BUILD)

Runs the news, social, finance and releases spiders together in one process (each refuses to
start while another run of it for the same model and day holds the database lock), then writes each model's
digest once, from the day's articles in the database, when at least one crawl finished: a crawl
refused as already running leaves its part to the run that holds it, which rewrites the post
when it closes. Spider arguments (-a) are passed to all four spiders.
Exit codes (digestcrawl.ops.exitcodes): 1 when a crawl failed to start or none finished, 5 when a
crawl was refused as already running, 3 when not one source of the four spiders answered, 4
when a digest failed, 128 + the signal when SIGINT or SIGTERM stopped it.

Output (digestcrawl.ops.console): warnings, errors and the INFO lines a person acts on, a progress
line on a terminal, then a summary on stdout (digestcrawl.commands.summary): each model and day,
the crawls, the site, the exit code. Each crawl's run report records the exit code and outcome
(``scrapy jobs`` lists them).

Stops (digestcrawl.ops.stops): a signal during the crawls stops them as Scrapy does, and then no
digest is written (partial crawls) unless DIGEST_ON_PARTIAL is set. A signal during the digests
lets them finish; a second one ends the process at once (the digests run in a daemon thread and
the post being published is completed or put back first).
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.commands import BaseRunSpiderCommand
from scrapy.crawler import Crawler

from digestcrawl.commands.digest import add_site_options, build_site, set_site_options
from digestcrawl.commands.summary import summary
from digestcrawl.crawl import CrawlContext
from digestcrawl.ops.console import is_quiet, logs_above_progress, progress, quiet_routine_loggers
from digestcrawl.ops.exitcodes import ERROR, announce, exit_code
from digestcrawl.ops.runreports import record_exit, record_start_failure
from digestcrawl.ops.startfailure import DATABASE_FAILED, StartFailures, database_opens
from digestcrawl.ops.stops import ForcedStop, ShutdownSignals
from digestcrawl.ops.threads import wait_in_daemon_thread

if TYPE_CHECKING:
    from digestcrawl.digest import DigestOutcome

logger = logging.getLogger(__name__)
SPIDERS = ("news", "social", "finance", "releases")


class Command(BaseRunSpiderCommand):
    requires_project = True
    quiet = False

    def syntax(self) -> str:
        return "[-a model=…] [-a since=…] [-a until=…] [--site DIR] [--build]"

    def short_desc(self) -> str:
        return "Crawl every category for the models, then write their digests (and build the site)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_site_options(parser)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        set_site_options(self.settings, opts)
        self.quiet = is_quiet(self.settings)
        if self.quiet:  # before the crawler process logs them
            self.settings.set("LOG_VERSIONS", [], priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None and self.settings is not None
        if self.quiet:
            quiet_routine_loggers()
        # One digest per model at the end, rather than one per spider as each closes.
        self.settings.set("DIGEST_ON_CLOSE", False, priority="cmdline")
        job = opts.spargs.get("_job") or self.settings.get("DIGESTCRAWL_JOB")
        if not database_opens(self.settings):
            for name in SPIDERS:
                record_start_failure(self.settings.get("REPORT_DIR"), name, job, DATABASE_FAILED)
            self.exitcode = ERROR
            print(summary([], ERROR), flush=True)
            return
        crawlers: list[Crawler] = []
        stops, failures = ShutdownSignals(), StartFailures()
        stops.watch(self.crawler_process)
        pages = progress("crawling", "page")
        for name in SPIDERS:
            crawler = self.crawler_process.create_crawler(name)
            crawler.signals.connect(lambda: pages.update(), signal=signals.response_received, weak=False)
            crawlers.append(crawler)
            failures.watch(self.crawler_process.crawl(crawler, **opts.spargs))
        with logs_above_progress():
            self.crawler_process.start()
        pages.close()
        if self.crawler_process.bootstrap_failed:
            for name in SPIDERS:
                record_start_failure(self.settings.get("REPORT_DIR"), name, job, failures.reason())
            self.exitcode = ERROR
            print(summary([], ERROR), flush=True)
            return
        runs = {c.spidercls.name: c.stats.get_stats() for c in crawlers if c.stats is not None}
        outcomes, published, site = self._publish(crawlers, stops)
        code = exit_code(runs.values(), digest_failed=published is False, signum=stops.signum)
        self.exitcode = announce(code if published is not None else code or ERROR)
        for stats in runs.values():
            record_exit(stats.get("digestcrawl/report_file"), self.exitcode)
        print(summary(outcomes, self.exitcode, runs, site), flush=True)

    def _publish(self, crawlers: list[Crawler], stops: ShutdownSignals) -> tuple[list[DigestOutcome], bool | None,
                                                                                 str | None]:
        """The digests of the crawls' day, when they may be written, then the site built when asked:
        the outcomes, whether every digest and the build went well (None: nothing was to be
        written) and the site's summary line."""
        assert self.settings is not None
        runs = [c.stats.get_stats() for c in crawlers if c.stats is not None]
        finished = [c for c in crawlers if c.stats and c.stats.get_value("finish_reason") == "finished"]
        # A refused crawl is not partial: the run holding its lock rewrites the post.
        partial = stops.signum is not None or any(
            run.get("finish_reason") not in ("finished", "already_running") for run in runs)
        if not finished or (partial and not self.settings.getbool("DIGEST_ON_PARTIAL")):
            logger.error("No crawl finished; no digest written" if not finished else
                         "Partial crawls: no digest written, the previous posts stand (DIGEST_ON_PARTIAL writes them)")
            return [], None, None
        stops.after_reactor()
        try:
            outcomes = wait_in_daemon_thread(lambda: self._digest(finished[0]))
        except ForcedStop:
            logger.error("Digests stopped by a second signal; the previous post of the one in progress stands")
            return [], False, None
        written = not any(outcome.failed for outcome in outcomes)
        if not self.settings.getbool("DIGEST_SITE_BUILD"):
            return outcomes, written, None
        built, site = build_site(self.settings)
        return outcomes, written and built, site

    def _digest(self, crawler: Crawler) -> list[DigestOutcome]:
        """Each model's digest for the crawls' day."""
        assert self.settings is not None
        from digestcrawl.digest import build_digests

        context = CrawlContext.of(crawler)
        jobs = [(model, context.day) for model in context.models]
        bar = progress("digests", "digest", total=len(jobs))
        with bar:
            return build_digests(self.settings, jobs, prepare_site=True, each=lambda _: bar.update())
