"""The summary ``scrapy daily`` and ``scrapy digest`` end with, on stdout, one screen: a line per
model and day that has a post or failed, one line for every model-day with nothing to say, the
crawls (``daily``), the site build, then the exit code and its outcome."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from digestcrawl.ops.runreports import outcome
from digestcrawl.ops.stats import per_source

if TYPE_CHECKING:
    from digestcrawl.digest import DigestOutcome


def day_ranges(days: Iterable[date]) -> str:
    """``2026-01-13..2026-01-15, 2026-01-19``: consecutive days as one range (``--date``'s syntax)."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{run[0]}..{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def crawl_line(spider: str, stats: Mapping[str, Any]) -> str:
    report = stats.get("digestcrawl/report_file")
    return (f"crawl {spider}: {stats.get('finish_reason', 'not started')}, {len(per_source(dict(stats)))} "
            f"sources, {stats.get('digestcrawl/stored', 0)} stored" + (f"; report {report}" if report else ""))


def summary(outcomes: Sequence[DigestOutcome], code: int, crawls: Mapping[str, Mapping[str, Any]] | None = None,
            site: str | None = None) -> str:
    lines = [outcome.describe() for outcome in outcomes if outcome.post is not None or outcome.failed]
    empty: dict[str, list[date]] = {}
    for each in outcomes:
        if each.post is None and not each.failed:
            empty.setdefault(each.model, []).append(each.day)
    if empty:
        lines.append("no relevant items, no post written: "
                     + "; ".join(f"{model} {day_ranges(days)}" for model, days in empty.items()))
    lines += [crawl_line(spider, stats) for spider, stats in (crawls or {}).items()]
    if site:
        lines.append(site)
    return "\n".join(["Summary:", *(f"  {line}" for line in lines), f"Exit code {code}: {outcome(code)}"])
