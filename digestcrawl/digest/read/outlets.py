"""Who published the page a link points to, and through which aggregator it came.

A link is labelled with its page's publisher: the page's own name for its site (og:site_name or
JSON-LD publisher, kept by extraction), the name a Google News entry gives it (RSS
``<source>``), the table of known outlets (``templates/outlets.yaml``), the site name in its
``<title>`` (``titles.title_site``), the source's configured publisher for the source's own
pages, in that order; its host only when nothing else is known, and never a bare address
(127.0.0.1) nor a config source name while anything else is known.

An entry that a feed listed from another site came through that feed: through an aggregator
of the table (Hacker News, Reddit, Google News), or through the community the entry names
(r/LocalLLaMA). A link to the aggregator's own page (an Ask HN post) is the aggregator's, and an
aggregator's redirect URL (Google News') is never given as a source (``is_redirect``).
No settings are read.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TypeVar
from urllib.parse import urlsplit

import yaml

from digestcrawl.digest.model import host_of

T = TypeVar("T")


@dataclass(frozen=True)
class Aggregator:
    name: str
    redirects: bool = False  # its article URLs only redirect to the publisher's page


@dataclass(frozen=True)
class Outlets:
    aggregators: dict[str, Aggregator]
    names: dict[str, str]


@lru_cache(maxsize=1)
def outlet_table() -> Outlets:
    data = yaml.safe_load(resources.files("templates").joinpath("outlets.yaml").read_text("utf-8"))
    return Outlets({host: Aggregator(**entry) for host, entry in data["aggregators"].items()}, data["outlets"])


def _lookup(table: dict[str, T], host: str) -> T | None:
    """The entry of ``host`` or of its nearest parent domain (www.scmp.com → scmp.com)."""
    parts = host.lower().split(".")
    for n in range(len(parts) - 1):
        if (found := table.get(".".join(parts[n:]))) is not None:
            return found
    return None


def known_outlet(url: str) -> str:
    return _lookup(outlet_table().names, host_of(url)) or ""


def aggregator_of(url: str) -> Aggregator | None:
    return _lookup(outlet_table().aggregators, host_of(url))


def is_redirect(url: str) -> bool:
    """An aggregator's URL that only redirects to the publisher's page: never a source."""
    aggregator = aggregator_of(url)
    return aggregator is not None and aggregator.redirects


def readable_host(url: str) -> str:
    """The URL's host as a reader may see it: not an address, not localhost."""
    host = host_of(url)
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        return "" if host in ("", "localhost") else host.removeprefix("www.")


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def outlet_and_via(url: str, feed_url: str, site_name: str, publisher: str, title_site: str) -> tuple[str, str]:
    """(the publisher's name, the aggregator or community the link came through, or "").

    ``publisher`` is what the crawl stored: the feed entry's publisher (Google News' outlet,
    Hacker News, a subreddit), else the page's site name, else the source's configured one."""
    own = aggregator_of(url)
    if own is not None and own.redirects:  # a Google News link: its entry names the outlet
        return publisher if publisher and publisher != own.name else own.name, own.name
    if own is not None:
        return own.name, ""  # the aggregator's own page: an Ask HN post, a Reddit thread
    if not feed_url or _netloc(feed_url) == _netloc(url):  # the source's own page
        candidates = [site_name, known_outlet(url), title_site, publisher, readable_host(url)]
        return next((c for c in candidates if c), ""), ""
    # Listed by another site's feed: the page is named by itself, never by the feed.
    name = next((c for c in (site_name, known_outlet(url), title_site, readable_host(url), publisher) if c), "")
    through = aggregator_of(feed_url)
    via = through.name if through else publisher if publisher not in ("", site_name, name) else ""
    return name, via if via != name else ""
