"""The run reports under REPORT_DIR, one JSON file per crawl: written by
``digestcrawl.extensions.report`` when the spider closes, completed with the exit code and its
outcome when the command exits (``scrapy crawl``, ``scrapy daily``), read back by ``scrapy jobs``
and the monitors' history.

A report is ``<spider>-<UTC time>[-<job>].json``: ``<job>`` is the Scrapyd job id
(DIGESTCRAWL_JOB, which the crawl context takes from Scrapyd's ``_job`` argument), so a job's
report is ``REPORT_DIR/*-<job id>.json``. A report without ``exit_code`` is of a process that
ended before its command did (killed, out of memory).
"""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
# Why a command exits non-zero (digestcrawl.ops.exitcodes), in a word or three.
OUTCOMES = {0: "ok", 1: "error", 2: "usage error", 3: "every source failed", 4: "digest failed",
            5: "already running", 6: "Redis lost"}


def outcome(code: int | None) -> str:
    """The outcome a person reads for an exit code (None: the process never recorded one)."""
    if code is None:
        return "no exit code recorded (killed, or an older report)"
    if code > 128:
        return f"stopped by {signal.Signals(code - 128).name}"
    return OUTCOMES.get(code, f"exit code {code}")


def report_path(directory: str | Path, spider: str, finished: datetime, job: str | None) -> Path:
    name = f"{spider}-{finished:%Y%m%dT%H%M%S%fZ}" + (f"-{job}" if job else "")
    return Path(directory) / f"{name}.json"


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write ``report`` whole or not at all: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    staged.replace(path)


def record_exit(path: str | Path | None, code: int) -> None:
    """Add the command's exit code and outcome to a crawl's report (``digestcrawl/report_file``)."""
    if not path:
        return
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        write_report(Path(path), {**report, "exit_code": code, "outcome": outcome(code)})
    except (OSError, ValueError) as error:
        logger.warning("Could not record exit code %d in the run report %s: %s", code, path, error)


@dataclass(frozen=True)
class RunReport:
    path: Path
    data: dict[str, Any]

    @property
    def exit_code(self) -> int | None:
        code = self.data.get("exit_code")
        return code if isinstance(code, int) else None

    @property
    def failed(self) -> bool:
        """A non-zero exit code, or none recorded."""
        return self.exit_code != 0

    def describe(self) -> str:
        """One line: when, which spider and job, the outcome and what failed."""
        totals = self.data.get("totals", {})
        failed = [f"{m['monitor']} {m['source'] or ''}".strip()
                  for m in self.data.get("monitors", {}).get("failed", [])]
        code = self.exit_code
        return (f"{str(self.data.get('finished', '?'))[:19]}  {self.data.get('spider', '?'):<8}  "
                f"{'-' if code is None else code:>3}  {outcome(code):<20}  "
                f"{len(self.data.get('sources', {})):>3} sources  {totals.get('stored', 0):>4} stored"
                + (f"  job {self.data['job']}" if self.data.get("job") else "")
                + (f"  monitors failed: {', '.join(failed)}" if failed else ""))


def recent_reports(directory: str | Path, limit: int, job: str | None = None) -> Iterator[RunReport]:
    """The newest ``limit`` reports, newest first (only ``job``'s when given); unreadable ones are
    skipped with a warning."""
    paths = sorted(Path(directory).glob(f"*-{job}.json" if job else "*.json"),
                   key=lambda path: path.stem.split("-")[1], reverse=True)
    for path in paths[:limit]:
        try:
            yield RunReport(path, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            logger.warning("Ignoring unreadable run report %s: %s", path, error)


def record_start_failure(directory: str | None, spider: str, job: str | None, error: str) -> None:
    """The report of a crawl that never started (a bad argument, a database that cannot be
    opened): exit code 1, so ``scrapy jobs`` shows the job failed."""
    if not directory:
        return
    now = datetime.now(UTC)
    write_report(report_path(directory, spider, now, job), {
        "spider": spider, "job": job, "reason": "failed_to_start", "error": error,
        "started": now.isoformat(), "finished": now.isoformat(), "duration_seconds": 0, "sources": {},
        "totals": {}, "monitors": {"passed": False, "nothing_new": False, "failed": []},
        "exit_code": 1, "outcome": outcome(1)})
