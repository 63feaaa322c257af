"""The summary `scrapy daily` and `scrapy digest` end with, and the run reports `scrapy jobs` reads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from digestcrawl.commands.summary import day_ranges, summary
from digestcrawl.digest import DigestOutcome
from digestcrawl.ops.runreports import outcome, recent_reports, record_exit, report_path, write_report


def test_consecutive_days_read_as_ranges() -> None:
    days = [date(2026, 1, d) for d in (15, 13, 14, 19)]
    assert day_ranges(days) == "2026-01-13..2026-01-15, 2026-01-19"


def test_every_empty_model_day_is_one_line() -> None:
    posted = DigestOutcome("qwen", date(2026, 1, 19), Path("site/_posts/2026-01-19-qwen-daily.md"), 5, 14, "extractive")
    failed = DigestOutcome("gpt", date(2026, 1, 19), None, failed="OSError: disk full")
    empty = [DigestOutcome(model, date(2026, 1, d), None) for model in ("deepseek", "llama") for d in range(13, 20)]
    text = summary([posted, failed, *empty], 4, site="Site built: site/_site")
    assert text.splitlines() == [
        "Summary:",
        f"  {posted.describe()}",
        f"  {failed.describe()}",
        "  no relevant items, no post written: deepseek 2026-01-13..2026-01-19; llama 2026-01-13..2026-01-19",
        "  Site built: site/_site",
        "Exit code 4: digest failed"]


def test_outcomes_of_exit_codes() -> None:
    assert [outcome(code) for code in (0, 3, 5, 143, None)] == [
        "ok", "every source failed", "already running", "stopped by SIGTERM",
        "no exit code recorded (killed, or an older report)"]


def test_reports_newest_first_with_their_exit_codes_and_by_job(tmp_path: Path) -> None:
    for minute, job in ((1, "a1"), (3, None), (2, "b2")):
        finished = datetime(2026, 1, 19, 23, minute, tzinfo=UTC)
        path = report_path(tmp_path, "news", finished, job)
        write_report(path, {"spider": "news", "job": job, "finished": finished.isoformat(), "sources": {},
                            "totals": {"stored": minute}, "monitors": {"passed": True, "failed": []}})
        if job:
            record_exit(path, 0 if job == "a1" else 3)
    reports = list(recent_reports(tmp_path, 10))
    assert [r.data["totals"]["stored"] for r in reports] == [3, 2, 1]
    assert [r.exit_code for r in reports] == [None, 3, 0] and [r.failed for r in reports] == [True, True, False]
    assert "every source failed" in reports[1].describe() and "job b2" in reports[1].describe()
    [only] = recent_reports(tmp_path, 10, job="a1")
    assert json.loads(only.path.read_text())["outcome"] == "ok" and only.path.name.endswith("-a1.json")
    assert not list(tmp_path.glob(".*"))  # no staged file left
