"""``kind: search_feed``: a search engine's RSS or Atom answer to the models' names (Google News,
Bing); a feed whose URL asks for ``{query}``."""

from __future__ import annotations

from digestcrawl.crawl.kinds.base import SourceKind
from digestcrawl.crawl.kinds.feed import read_feed

KIND = SourceKind("search_feed", read_feed, placeholders=frozenset({"query"}))
