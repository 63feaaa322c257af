"""``scrapy crawl``, with exit codes a scheduler can act on (digestcrawl.ops.exitcodes): non-zero
when every source failed, when the digest failed, when the run was refused as already running,
and 128 + the signal when SIGINT or SIGTERM stopped it (digestcrawl.ops.stops). A crawl that cannot
start (a bad ``-a`` argument, a database that cannot be used) is one ERROR line and exit code 1
(digestcrawl.ops.startfailure). The exit code and its outcome go into the crawl's run report, and
a crawl that never started gets a report of its own (digestcrawl.ops.runreports), so that
``scrapy jobs`` shows every job's outcome. Everything else is Scrapy's own command."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiders import Spider

from digestcrawl.ops.exitcodes import ERROR, announce, exit_code
from digestcrawl.ops.runreports import record_exit, record_start_failure
from digestcrawl.ops.startfailure import DATABASE_FAILED, StartFailures, database_opens
from digestcrawl.ops.stops import ShutdownSignals


class Command(ScrapyCrawl):
    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        # Scrapy's run, with the started crawl and the shutdown signals watched.
        if len(args) != 1:
            raise UsageError("running 'scrapy crawl' needs exactly one spider")
        process = self.crawler_process
        assert process is not None and self.settings is not None
        job = opts.spargs.get("_job") or self.settings.get("DIGESTCRAWL_JOB")
        if not database_opens(self.settings):
            record_start_failure(self.settings.get("REPORT_DIR"), args[0], job, DATABASE_FAILED)
            self.exitcode = ERROR
            return
        stops, failures = ShutdownSignals(), StartFailures()
        stops.watch(process)
        failures.watch(process.crawl(self._create_crawler(args[0]), **opts.spargs))
        process.start()
        if process.bootstrap_failed:
            record_start_failure(self.settings.get("REPORT_DIR"), args[0], job, failures.reason())
            self.exitcode = ERROR
            return
        if self.crawler is not None and self.crawler.stats is not None:
            self.exitcode = announce(exit_code([self.crawler.stats.get_stats()], signum=stops.signum))
            record_exit(self.crawler.stats.get_value("digestcrawl/report_file"), self.exitcode)
