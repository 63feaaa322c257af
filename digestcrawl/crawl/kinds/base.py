"""What a source kind declares, what it reads and what it gives back.

A kind turns one fetched source document into entries (links to articles), child documents of
the same source (a sitemap index's sitemaps) and repository readings (a Hugging Face listing's
counters). Kinds are pure over bytes: the spider fetches, counts and follows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict

from digestcrawl.crawl.feeds import Entry


class Options(BaseModel):
    """A kind's own settings in sources.yaml: unknown keys are refused, as everywhere there."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Document:
    """A fetched source document and what reading it takes."""

    body: bytes
    url: str
    content_type: str | None
    zone: tzinfo  # the source's: dates written without an offset are read in it
    max_size: int  # a gzipped document inflates no larger (DOWNLOAD_MAXSIZE; 0: the protocol's)
    options: Any = None  # the source's value of its kind's ``option`` field (Selectors, FieldMap)


@dataclass(frozen=True)
class RepoReading:
    """A repository's counters as a listing shows them on the day it is read."""

    repo: str  # "owner/name"
    url: str
    downloads: int
    likes: int | None
    created: datetime | None


@dataclass
class Parsed:
    """What one document of a source gave."""

    entries: list[Entry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # more documents of the source, to fetch
    repos: list[RepoReading] = field(default_factory=list)


@dataclass(frozen=True)
class SourceKind:
    """One ``kind:`` of sources.yaml. A document it cannot read raises ``FeedError``."""

    name: str
    parse: Callable[[Document], Parsed]
    # The SourceConfig field that holds this kind's own settings (``selectors``, ``fields``):
    # required for this kind, refused for any other.
    option: str | None = None
    # URL placeholders its URL must name (a search is nothing without {query}).
    placeholders: frozenset[str] = frozenset()
    # Request headers of its documents (an API is asked for JSON).
    headers: Mapping[str, str] = field(default_factory=dict)
    # Its entries carry their own text (an API's posts): when a followed link answers JSON
    # instead of a page, the entry itself is stored.
    self_contained: bool = False
