"""What ``scrapy daily`` and ``scrapy digest`` show a person: warnings, errors and the INFO lines
one acts on (a database or site created), a progress line on a terminal, then their summary.

The routine INFO of a run (Scrapy's versions, enabled components, overridden settings and stats dump, the
migrations, each crawl's per-source table, each digest written) is in the run reports and the
summary; ``-L INFO`` (or any LOG_LEVEL given on the command line, or a LOG_FILE) logs it all.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scrapy.settings import BaseSettings, get_settings_priority
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

# Loggers whose INFO lines are routine: raised to WARNING in a quiet run.
ROUTINE = ("scrapy", "scrapy-playwright", "alembic", "pipelines", "digestcrawl.extensions.report",
           "digestcrawl.digest.daily", "digestcrawl.crawl.guard.retryafter")


def is_quiet(settings: BaseSettings) -> bool:
    """Quiet: LOG_LEVEL is the project's default and the log goes to the console (no LOG_FILE)."""
    return (settings.getpriority("LOG_LEVEL") or 0) <= get_settings_priority("project") and not settings.get("LOG_FILE")


def quiet_routine_loggers() -> None:
    """Keep the routine loggers to their warnings (after Scrapy configured logging, which sets
    its own loggers' levels). Scrapy's crawler process keeps its INFO about the stop signals
    ("Send again to force"), without the settings it dumps."""
    for name in ROUTINE:
        logging.getLogger(name).setLevel(logging.WARNING)
    crawler = logging.getLogger("scrapy.crawler")
    crawler.setLevel(logging.INFO)
    crawler.addFilter(lambda record: not str(record.msg).startswith("Overridden settings"))


def progress(description: str, unit: str, total: int | None = None) -> tqdm[Any]:
    """A progress line on stderr, off when stderr is no terminal (cron, systemd, Scrapyd logs)."""
    return tqdm(desc=description, unit=unit, total=total, file=sys.stderr, disable=None, leave=False,
                dynamic_ncols=True)


@contextmanager
def logs_above_progress() -> Iterator[None]:
    """On a terminal, console log lines go above the progress line rather than through it."""
    consoles = [handler for handler in logging.root.handlers
                if type(handler) is logging.StreamHandler and handler.stream is sys.stderr]
    if not consoles or not sys.stderr.isatty():
        yield
        return
    with logging_redirect_tqdm():
        logging.root.handlers[-1].setLevel(consoles[0].level)  # tqdm's handler keeps no level
        yield
