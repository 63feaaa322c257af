"""Run monitors on Scrapy's stats: a run that looks broken says so loudly.

Each check reads the per-source counters the spiders and pipelines keep
(``digestcrawl/source/<name>/<event>``) and, for "normally yields", earlier run reports:

* ``source_silent``: a source that had entries in a recent run has none now;
* ``blocked``: 403/429 answers are at least MONITOR_BLOCKED_SHARE of a source's fetches;
* ``layout_changed``: at least MONITOR_EXTRACTION_SHARE of a source's article pages gave no text
  (pages skipped as stored and unchanged count as pages with text);
* ``every_source_failed``: no source answered at all, only errors or guard refusals (no network, a
  dead proxy, no NETGUARD_ALLOW);
* ``no_relevant_items``: the whole run found no relevant item, and did not list any stored
  article either. A run whose articles were all skipped as stored and unchanged (a rerun with
  nothing new: ``skipped/unchanged``) is ``nothing_new``, which is no failure; nor is a run that
  stored repository counters (``repo_stats``) on a day without releases.
* ``digest_failed``: a digest could not be written (``digestcrawl/digest/failed``);
* ``digest_fallback``: a digest was written without the LLM because the LLM failed
  (``digestcrawl/digest/fallback``, by kind in ``digestcrawl/digest/fallback/<kind>``).
* ``redis_lost``: a distributed worker gave up on an unreachable Redis (digestcrawl.crawl.distributed.scheduler).

Settings: MONITOR_BLOCKED_SHARE (0.5), MONITOR_EXTRACTION_SHARE (0.5), MONITOR_HISTORY_RUNS (7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from digestcrawl.crawl.guard.netguard import BadScheme, GuardRefusal, RefusedAddress

REFUSED = frozenset(f"dropped/{kind.reason}" for kind in (GuardRefusal, RefusedAddress, BadScheme))


@dataclass(frozen=True)
class MonitorFailure:
    monitor: str
    source: str | None
    detail: str

    def __str__(self) -> str:
        where = f" {self.source}" if self.source else ""
        return f"{self.monitor}{where}: {self.detail}"


@dataclass(frozen=True)
class Thresholds:
    blocked_share: float = 0.5
    extraction_share: float = 0.5


def evaluate(sources: dict[str, dict[str, int]], totals: dict[str, int],
             history: Iterable[dict[str, dict[str, int]]], thresholds: Thresholds) -> list[MonitorFailure]:
    """The failed monitors of one run: ``sources`` and ``totals`` are this run's counters,
    ``history`` the per-source counters of earlier runs of the same spider."""
    failures: list[MonitorFailure] = []
    yielded_before = {name for run in history for name, events in run.items() if events.get("entries", 0) > 0}
    for name, events in sorted(sources.items()):
        fetched = events.get("fetched", 0) + events.get("errors/http_403", 0) + events.get("errors/http_429", 0)
        if name in yielded_before and events.get("entries", 0) == 0:
            failures.append(MonitorFailure("source_silent", name, "no entries, though earlier runs had some"))
        blocked = events.get("errors/http_403", 0) + events.get("errors/http_429", 0)
        if blocked and blocked >= thresholds.blocked_share * fetched:
            failures.append(MonitorFailure("blocked", name, f"{blocked} of {fetched} requests answered 403/429"))
        # Pages skipped as stored and unchanged count too: they had text when stored, and a
        # rerun fetches only the few new pages, where one empty page would otherwise be half.
        pages = (events.get("relevant", 0) + events.get("dropped/off_topic", 0) + events.get("dropped/empty_page", 0)
                 + events.get("skipped/unchanged", 0))
        empty = events.get("dropped/empty_page", 0)
        if empty and empty >= thresholds.extraction_share * pages:
            failures.append(MonitorFailure("layout_changed", name, f"{empty} of {pages} pages gave no article text"))
    if every_source_failed(sources):
        failed_requests = sum(v for events in sources.values() for k, v in events.items() if is_failure(k))
        failures.append(MonitorFailure("every_source_failed", None,
                                       f"no source answered: {failed_requests} request(s) failed"))
    # A day without releases still reads the Hugging Face counters: that run works.
    if totals.get("relevant", 0) == 0 and not totals.get("repo_stats", 0) and not nothing_new(sources, totals):
        failures.append(MonitorFailure("no_relevant_items", None, "the run found no relevant item at all"))
    if failed := totals.get("digest/failed", 0):
        failures.append(MonitorFailure("digest_failed", None,
                                       f"{failed} digest(s) not written; the previous posts stand"))
    if fallback := totals.get("digest/fallback", 0):
        kinds = ", ".join(f"{key.rsplit('/', 1)[1]} {count}" for key, count in sorted(totals.items())
                          if key.startswith("digest/fallback/"))
        failures.append(MonitorFailure("digest_fallback", None,
                                       f"{fallback} digest(s) written without the LLM ({kinds or 'unknown'})"))
    if totals.get("redis/lost", 0):
        failures.append(MonitorFailure("redis_lost", None, "Redis stayed unreachable: requests queued there were lost"))
    return failures


def every_source_failed(sources: dict[str, dict[str, int]]) -> bool:
    """No source gave a single response (feed, sitemap, API or page) and some gave errors or
    were refused by the address guard (a cron job without NETGUARD_ALLOW fails as surely)."""
    return (not any(events.get("fetched", 0) for events in sources.values())
            and any(is_failure(key) for events in sources.values() for key in events))


def is_failure(event: str) -> bool:
    """A per-source event that is a failed request: an error, or a refusal by the address guard."""
    return event.startswith("errors/") or event in REFUSED


def nothing_new(sources: dict[str, dict[str, int]], totals: dict[str, int]) -> bool:
    """Nothing relevant, because the articles the sources listed are stored and unchanged (they
    were relevant when stored): a rerun with nothing new, not a broken relevance filter."""
    return (totals.get("relevant", 0) == 0
            and sum(events.get("skipped/unchanged", 0) for events in sources.values()) > 0)
