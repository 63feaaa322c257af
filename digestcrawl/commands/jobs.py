"""``scrapy jobs``: the last runs and their outcomes, from the run reports under REPORT_DIR
(digestcrawl.ops.runreports), so that a failed job is seen without reading its log.

    scrapy jobs                 # the 20 newest runs, newest first
    scrapy jobs -n 50
    scrapy jobs --job 6487ec7…  # a Scrapyd job's run (its id, from schedule.json or listjobs.json)

One line per run: when it finished, the spider, the exit code and outcome, sources and stored
articles, the job id, the failed monitors; a failed run is marked ``!``; then the report's path.
Exit status 1 when the newest run listed failed (a non-zero exit code, or none recorded), so a
check can run it.
"""

from __future__ import annotations

import argparse

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from digestcrawl.ops.runreports import recent_reports


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[-n N] [--job JOB]"

    def short_desc(self) -> str:
        return "List the last runs and their outcomes, from the run reports"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-n", type=int, default=20, dest="limit", help="how many runs (default 20)")
        parser.add_argument("--job", help="only this Scrapyd job's run")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        directory = self.settings.get("REPORT_DIR")
        if not directory:
            raise UsageError("REPORT_DIR is not set: no run report is written")
        reports = list(recent_reports(directory, opts.limit, opts.job))
        if not reports:
            print(f"No run report in {directory}" + (f" for job {opts.job}" if opts.job else ""))
            self.exitcode = 1 if opts.job else 0
            return
        for report in reports:
            print(f"{'!' if report.failed else ' '} {report.describe()}\n    {report.path}")
        self.exitcode = int(reports[0].failed)
