"""Cookies kept and sent within a browser's bounds, judged with the public suffix list shipped
with tldextract, never one fetched from the network.

Scrapy's ``CookiesMiddleware`` keeps every cookie a site sets and sends them all back: one page's
300 × 4 KB ``Set-Cookie`` made the next request carry a 1.1 MB ``Cookie`` header.
:class:`BoundedCookiesMiddleware` (registered in its place) gives each cookie jar the bounds of
RFC 6265 §6.1's minimums, which browsers keep: a cookie of more than ``COOKIES_MAX_SIZE`` bytes
(name and value) is dropped, and so is a new cookie for a domain that already has
``COOKIES_MAX_PER_DOMAIN`` (the ones set first are kept, so a flood cannot push out a session
cookie). A request's ``Cookie`` header holds at most ``COOKIES_MAX_HEADER`` bytes (servers
commonly refuse more than 8 KB): the cookies that do not fit stay in the jar but are not sent.
Each is counted, globally and per source (``cookies/dropped/too_large``,
``cookies/dropped/domain_full``, ``cookies/not_sent``).

Scrapy asks tldextract whether a cookie's domain is a public suffix, through an extractor built
with tldextract's defaults, which download the list from publicsuffix.org on first use: a request
the address guard never sees. Scrapy has no setting for it; this module replaces that extractor
with one that reads only the snapshot in the installed tldextract package (no URL, no disk cache).

Settings: COOKIES_ENABLED, COOKIES_DEBUG (Scrapy's), COOKIES_MAX_SIZE, COOKIES_MAX_PER_DOMAIN,
COOKIES_MAX_HEADER.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import Cookie
from typing import Any

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.http.cookies import CookieJar
from tldextract import TLDExtract

from digestcrawl.ops.stats import count

# Scrapy's public-suffix check, made with the shipped snapshot (Scrapy offers no setting for it;
# include_psl_private_domains as Scrapy sets it).
scrapy_cookies._split_domain = TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)

COOKIE_SEPARATOR = b"; "  # how http.cookiejar joins a Cookie header (values never hold ";")


@dataclass(frozen=True)
class CookieLimits:
    max_size: int = 4096
    max_per_domain: int = 50
    max_header: int = 8192

    @classmethod
    def from_settings(cls, settings: Any) -> CookieLimits:
        return cls(settings.getint("COOKIES_MAX_SIZE"), settings.getint("COOKIES_MAX_PER_DOMAIN"),
                   settings.getint("COOKIES_MAX_HEADER"))


class BoundedCookieJar(CookieJar):
    """Scrapy's jar, refusing cookies over the size and per-domain bounds and cutting the
    ``Cookie`` header it adds to the header bound; ``dropped(request, event, n)`` counts."""

    def __init__(self, limits: CookieLimits, dropped: Callable[[Request, str, int], None]) -> None:
        super().__init__()
        self.limits = limits
        self.dropped = dropped

    def set_cookie_if_ok(self, cookie: Cookie, request: Request) -> None:
        if len(cookie.name) + len(cookie.value or "") > self.limits.max_size:
            self.dropped(request, "cookies/dropped/too_large", 1)
            return
        paths = self._cookies.get(cookie.domain, {})
        replaces = cookie.name in paths.get(cookie.path, {})
        if not replaces and sum(map(len, paths.values())) >= self.limits.max_per_domain:
            self.dropped(request, "cookies/dropped/domain_full", 1)
            return
        super().set_cookie_if_ok(cookie, request)

    def add_cookie_header(self, request: Request) -> None:
        super().add_cookie_header(request)
        header = request.headers.get("Cookie")
        if header is None or len(header) <= self.limits.max_header:
            return
        # The jar orders cookies most specific path first: keep the ones that fit, in that order.
        kept: list[bytes] = []
        size = 0
        pairs = header.split(COOKIE_SEPARATOR)
        for pair in pairs:
            grown = size + len(pair) + (len(COOKIE_SEPARATOR) if kept else 0)
            if grown > self.limits.max_header:
                break
            kept.append(pair)
            size = grown
        self.dropped(request, "cookies/not_sent", len(pairs) - len(kept))
        if kept:
            request.headers["Cookie"] = COOKIE_SEPARATOR.join(kept)
        else:
            del request.headers["Cookie"]


class BoundedCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookies middleware with :class:`BoundedCookieJar` jars (set Scrapy's to None)."""

    limits: CookieLimits

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoundedCookiesMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.limits = CookieLimits.from_settings(crawler.settings)
        middleware.jars = defaultdict(middleware.new_jar)
        return middleware

    def new_jar(self) -> BoundedCookieJar:
        return BoundedCookieJar(self.limits, self.count)

    def count(self, request: Request, event: str, amount: int) -> None:
        count(self.crawler, request.meta.get("source", "unknown"), event, amount)
