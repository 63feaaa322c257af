"""Per-source run report: a table in the log and a JSON file beside it when a spider closes,
with the run monitors' verdict (digestcrawl.ops.monitors): each failed monitor is an ERROR line,
a ``digestcrawl/monitor/failed/<name>`` counter and an entry in the report. A run with nothing
new is an INFO line, ``digestcrawl/monitor/nothing_new`` and ``"nothing_new": true``. A run
refused as already running crawled nothing: its monitors are not run.

The report names the Scrapyd job (``job``); the command completes it with ``exit_code`` and
``outcome`` when it exits (``digestcrawl.ops.runreports``, read by ``scrapy jobs``).

Settings: REPORT_DIR (directory for ``<spider>-<UTC time>[-<job>].json``; None: no file, and no
history for the monitors), DIGESTCRAWL_JOB, MONITOR_BLOCKED_SHARE, MONITOR_EXTRACTION_SHARE,
MONITOR_HISTORY_RUNS.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from digestcrawl.extensions.digest_on_close import DigestOnClose
from digestcrawl.ops.monitors import Thresholds, evaluate, nothing_new
from digestcrawl.ops.runreports import report_path, write_report
from digestcrawl.ops.stats import PREFIX, per_source

logger = logging.getLogger(__name__)
COLUMNS = ("fetched", "entries", "relevant", "duplicate", "stored", "copies", "undated", "repo_stats", "deferred")


def format_table(table: dict[str, dict[str, int]]) -> str:
    rows: list[tuple[str, ...]] = [("source", *COLUMNS, "dropped / errors")]
    for source, events in table.items():
        other = ", ".join(f"{k.split('/', 1)[1]} {v}" for k, v in sorted(events.items())
                          if k.startswith(("dropped/", "errors/", "rejected/")))
        rows.append((source, *(str(events.get(c, 0)) for c in COLUMNS), other or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) + 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
             for row in rows]
    return "\n".join(line.rstrip() for line in lines)


class SourceReport:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.directory = settings.get("REPORT_DIR")
        self.job = settings.get("DIGESTCRAWL_JOB")
        self.history_runs = settings.getint("MONITOR_HISTORY_RUNS")
        self.thresholds = Thresholds(settings.getfloat("MONITOR_BLOCKED_SHARE"),
                                     settings.getfloat("MONITOR_EXTRACTION_SHARE"))
        self.started = datetime.now(UTC)
        self.done = asyncio.Event()  # set once the report is written (digestcrawl.ops.stops)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceReport:
        return cls(crawler)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        try:
            await self._report(spider, reason)
        finally:
            self.done.set()

    async def _report(self, spider: Spider, reason: str) -> None:
        # Signal handlers run side by side: the monitors judge the closing digest too.
        if (digest := self.crawler.get_extension(DigestOnClose)) is not None:
            await digest.finished.wait()
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        table = per_source(stats)
        logger.info("Per-source summary for %s:\n%s", spider.name, format_table(table))
        totals = {k.removeprefix("digestcrawl/"): v for k, v in stats.items()
                  if k.startswith("digestcrawl/") and not k.startswith(PREFIX)}
        refused = reason == "already_running"
        failures = [] if refused else evaluate(table, totals, self._history(spider.name), self.thresholds)
        for failure in failures:
            logger.error("Monitor failed: %s", failure)
            self.crawler.stats.inc_value(f"digestcrawl/monitor/failed/{failure.monitor}")
        unchanged = not refused and nothing_new(table, totals)
        if unchanged:
            logger.info("Nothing new: every article the sources listed is stored and unchanged")
            self.crawler.stats.set_value("digestcrawl/monitor/nothing_new", 1)
        if not self.directory:
            return
        finished = datetime.now(UTC)
        report = {
            "spider": spider.name,
            "job": self.job,
            "reason": reason,
            "started": self.started.isoformat(),
            "finished": finished.isoformat(),
            "duration_seconds": round((finished - self.started).total_seconds(), 3),
            "sources": table,
            "totals": totals,
            "monitors": {"passed": not failures, "nothing_new": unchanged, "failed": [
                {"monitor": f.monitor, "source": f.source, "detail": f.detail} for f in failures]},
        }
        path = report_path(self.directory, spider.name, finished, self.job)
        write_report(path, report)
        self.crawler.stats.set_value("digestcrawl/report_file", str(path))

    def _history(self, spider: str) -> list[dict[str, dict[str, int]]]:
        """Per-source counters of this spider's most recent earlier reports."""
        if not self.directory:
            return []
        paths = sorted(Path(self.directory).glob(f"{spider}-*.json"))[-self.history_runs:]
        runs = []
        for path in paths:
            try:
                runs.append(json.loads(path.read_text(encoding="utf-8"))["sources"])
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("Ignoring unreadable run report %s: %s", path, exc)
        return runs
