"""Bounds on what an article may hold: field lengths and plausible dates.

A hostile or broken page can declare a megabyte title, a 400-character site name or the year
3000; feeds and APIs can too. Every article is bounded here before it is stored (by
``pipelines.normalize``), so no single field can fail a database batch, bloat a digest or
break rendering. Pure functions, for every place that needs the same bounds.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from itemadapter import ItemAdapter

from digestcrawl.text import plausible

# Characters per field. A title is a headline, not a paragraph; names are a person or an
# outlet; 200k characters hold any real article (a long feature is 10-50k).
FIELD_CAPS = {
    "title": 300,
    "author": 200,
    "site_name": 200,
    "publisher": 200,
    "snippet": 1000,
    "text": 200_000,
}
LANGUAGE_MAX = 16  # the longest tag the database stores; longer is no language tag
ELLIPSIS = "…"
# A cut goes back to the last space, line break or CJK punctuation within this share of the
# cap, else (a long word, text without spaces) at a character.
BOUNDARY_SHARE = 0.2
BOUNDARY = re.compile(r"[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f]")


def truncate(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut at a word boundary where there is one near
    the end, and marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = room
    floor = int(room * (1 - BOUNDARY_SHARE))
    for position in range(room, floor, -1):
        if BOUNDARY.match(text, position):
            cut = position
            break
    return text[:cut].rstrip() + ELLIPSIS


def cap_fields(item: Any) -> list[str]:
    """Cut every over-long field of ``item`` (an article, or its ``ItemAdapter``) in place; the
    names of the fields cut."""
    fields = _adapted(item)
    cut = []
    for name, limit in FIELD_CAPS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            fields[name] = truncate(value, limit)
            cut.append(name)
    if fields.get("language") is not None and len(fields["language"]) > LANGUAGE_MAX:
        fields["language"] = None
        cut.append("language")
    return cut


def drop_implausible_dates(item: Any, now: datetime | None = None) -> list[str]:
    """Clear, with their provenance, the dates of ``item`` (an article, or its ``ItemAdapter``)
    that cannot be an article's (``digestcrawl.text.dates.plausible``); the names of the dates
    cleared."""
    fields = _adapted(item)
    cleared = []
    for name in ("published", "modified"):
        value = fields.get(name)
        if isinstance(value, datetime) and not plausible(value, now):
            fields[name] = None
            fields[f"{name}_from"] = None
            cleared.append(name)
    return cleared


def _adapted(item: Any) -> ItemAdapter:
    return item if isinstance(item, ItemAdapter) else ItemAdapter(item)
