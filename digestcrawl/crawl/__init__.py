"""What fetching needs: spider arguments, source URLs, feeds and listings, the network guard,
retries, incremental crawls, the extraction pool, distributed scheduling.
"""

from typing import TYPE_CHECKING

from digestcrawl.lazy import lazy_attributes

# The surface: what the rest of the project imports from the package, each name loaded
# from its module on first use (digestcrawl.lazy).
if TYPE_CHECKING:
    from digestcrawl.crawl.args import ArgumentError
    from digestcrawl.crawl.budget import SourceBudget, newest_first
    from digestcrawl.crawl.context import CrawlContext
    from digestcrawl.crawl.discovery import SitemapDiscovery
    from digestcrawl.crawl.expand import SourceURL, source_urls
    from digestcrawl.crawl.failures import download_error_reason
    from digestcrawl.crawl.feeds import Entry, FeedError
    from digestcrawl.crawl.incremental import ENTRY_CHANGED, UnchangedArticle
    from digestcrawl.crawl.urls import canonical_url, is_http, request_url, slot_key, unwrap_bing

__all__ = [
    "ENTRY_CHANGED",
    "ArgumentError",
    "CrawlContext",
    "Entry",
    "FeedError",
    "SitemapDiscovery",
    "SourceBudget",
    "SourceURL",
    "UnchangedArticle",
    "canonical_url",
    "download_error_reason",
    "is_http",
    "newest_first",
    "request_url",
    "slot_key",
    "source_urls",
    "unwrap_bing",
]
__getattr__ = lazy_attributes(__name__)
