"""Source kinds: the ``kind:`` of a sources.yaml entry, one module each.

A kind module declares one ``KIND`` (``base.SourceKind``): its name, the configuration field of
its own settings, the URL placeholders it needs, its request headers and its parse function
(document → entries, child documents, repository readings). ``digestcrawl.config`` validates
entries against ``KINDS`` and the spider reads documents through it; neither names a kind.
A new kind is a module here, listed below, and an entry in sources.yaml.
"""

from __future__ import annotations

from digestcrawl.crawl.kinds import feed, hf_models, json_api, listing, search_feed, sitemap
from digestcrawl.crawl.kinds.base import Document, Parsed, RepoReading, SourceKind
from digestcrawl.crawl.kinds.json_api import FieldMap
from digestcrawl.crawl.kinds.listing import Selectors

KINDS: dict[str, SourceKind] = {module.KIND.name: module.KIND
                                for module in (search_feed, feed, sitemap, listing, json_api, hf_models)}
# The configuration fields that belong to one kind each (listing ``selectors``, json_api ``fields``).
OPTION_FIELDS = frozenset(kind.option for kind in KINDS.values() if kind.option)

__all__ = ["KINDS", "OPTION_FIELDS", "Document", "FieldMap", "Parsed", "RepoReading", "Selectors", "SourceKind"]
