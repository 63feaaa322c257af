"""Stats keys, namespaced: ``digestcrawl/<event>`` and ``digestcrawl/source/<name>/<event>``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

PREFIX = "digestcrawl/source/"


def count(crawler: Crawler, source: str, event: str, amount: int = 1) -> None:
    stats = crawler.stats
    assert stats is not None
    stats.inc_value(f"digestcrawl/{event}", amount)
    stats.inc_value(f"{PREFIX}{source}/{event}", amount)


def drop(crawler: Crawler, item: Mapping[str, Any], reason: str, detail: str = "") -> DropItem:
    """Count a dropped item (its ``ItemAdapter``) under its reason and return the DropItem to
    raise (Scrapy logs it)."""
    count(crawler, item["source"], f"dropped/{reason}")
    message = f"{reason}: {item['url']}" + (f" ({detail})" if detail else "")
    return DropItem(message, log_level="INFO")


def per_source(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{source: {event: count}} from the flat stats."""
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for key, value in stats.items():
        if key.startswith(PREFIX):
            source, _, event = key[len(PREFIX):].partition("/")
            table[source][event] = int(value)
    return dict(sorted(table.items()))
