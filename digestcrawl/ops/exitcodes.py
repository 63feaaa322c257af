"""Exit codes of ``scrapy crawl`` and ``scrapy daily``, so that a scheduler (cron, systemd,
Scrapyd's logs, CI) sees a run that did nothing useful.

====  ==========================================================================================
0     the run finished (monitors may still have warned, see the run report)
1     error: bad spider arguments or settings, a database that cannot be opened or written, a crawl
      that failed to start (Scrapy's own code); one ERROR line (digestcrawl.ops.startfailure)
2     usage error: unknown command-line option (Scrapy's own code)
3     every source failed: not one source answered, only errors or address-guard refusals (no
      network, a dead proxy, no NETGUARD_ALLOW for private sources)
4     the digest failed (stats ``digestcrawl/digest/failed``; ``scrapy daily``: its own digest)
5     refused: the same crawl is already running (``finish_reason: already_running``)
6     a distributed worker gave up on an unreachable Redis (``finish_reason: redis_lost``)
130   stopped by SIGINT (Ctrl-C); 143: stopped by SIGTERM (128 + the signal's number). The close
      path ran (stats, run report, monitors) unless a second signal forced the stop
====  ==========================================================================================

When several apply, a signal wins, then the first of 5, 6, 3, 4: a stopped run is partial
whatever else it shows, a refused run did nothing else, a worker that lost Redis lost requests,
and with every source down the digest is moot.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterable
from typing import Any

from digestcrawl.ops.monitors import every_source_failed
from digestcrawl.ops.stats import per_source
from digestcrawl.ops.stops import signal_exit_code

logger = logging.getLogger(__name__)

OK = 0
ERROR = 1
EVERY_SOURCE_FAILED = 3
DIGEST_FAILED = 4
ALREADY_RUNNING = 5
REDIS_LOST = 6
DIGEST_FAILED_STAT = "digestcrawl/digest/failed"
MEANING = {EVERY_SOURCE_FAILED: "every source failed", DIGEST_FAILED: "the digest failed",
           ALREADY_RUNNING: "the crawl is already running",
           REDIS_LOST: "Redis stayed unreachable: the shared queue was lost"}


def exit_code(runs: Iterable[dict[str, Any]], digest_failed: bool = False, signum: int | None = None) -> int:
    """The exit code of a command from its crawls' stats (one for ``crawl``, one per spider for
    ``daily``), whether a digest the command wrote itself failed, and the signal that stopped it."""
    if signum is not None:
        return signal_exit_code(signum)
    runs = list(runs)
    if any(stats.get("finish_reason") == "already_running" for stats in runs):
        return ALREADY_RUNNING
    if any(stats.get("finish_reason") == "redis_lost" for stats in runs):
        return REDIS_LOST
    sources = {name: events for stats in runs for name, events in per_source(stats).items()}
    if every_source_failed(sources):
        return EVERY_SOURCE_FAILED
    if digest_failed or any(stats.get(DIGEST_FAILED_STAT) for stats in runs):
        return DIGEST_FAILED
    return OK


def announce(code: int) -> int:
    """Log why the command exits non-zero, as the last line a scheduler's log shows; ``code``."""
    if code in MEANING:
        logger.error("Exit code %d: %s", code, MEANING[code])
    elif code > 128:
        logger.error("Exit code %d: stopped by %s", code, signal.Signals(code - 128).name)
    return code
