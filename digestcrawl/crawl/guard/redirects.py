"""Redirect cycles end at the first repeated URL, not after REDIRECT_MAX_TIMES hops.

Scrapy's redirect middlewares (HTTP 3xx and meta refresh) list the URLs a request went through
in ``meta["redirect_urls"]``; a hop back to one of them (compared as ``request_url``, so a
session id added on every hop changes nothing) is refused before it is downloaded, as
``RedirectLoop``, counted as ``errors/redirect_loop`` (digestcrawl.crawl.failures). An endless
chain of new URLs still ends at REDIRECT_MAX_TIMES.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest

from digestcrawl.crawl.urls import request_url


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL this request already went through."""


class StopRedirectLoops:
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        earlier = request.meta.get("redirect_urls")
        if earlier and request_url(request.url) in {request_url(url) for url in earlier}:
            raise RedirectLoop(f"redirect loop: back to {request.url} after {len(earlier)} hop(s)")
