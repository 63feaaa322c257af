"""URL hygiene: unwrap search-engine redirects, strip tracking, map AMP to canonical."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_[a-z]+|igshid|yclid|_ga|ref_src|spm|from|ocid|cmpid|"
    r"oc|ncid|sr_share|share|cid)$",
    re.IGNORECASE,
)
AMP_PATH = re.compile(r"/amp(?=/)|/amp/?$|\.amp(?=\.html?$)")


def unwrap_bing(link: str) -> str:
    """Bing News wraps every target in ``apiclick.aspx?...&url=<target>``: read it, no request."""
    parts = urlsplit(link)
    if parts.path.lower().endswith("/apiclick.aspx"):
        target = dict(parse_qsl(parts.query)).get("url")
        if target and urlsplit(target).scheme in ("http", "https"):
            return target
    return link


def strip_tracking(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not TRACKING_PARAMS.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def de_amp(url: str) -> str:
    """Best-effort AMP → canonical when the page itself names no canonical URL."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in ("amp", "outputtype")]
    path = AMP_PATH.sub("", parts.path) or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def canonical_url(url: str, page_canonical: str | None = None) -> str:
    """The URL an article is stored under: the page's own canonical link when it has a usable
    one (same site, http(s)), else the fetched URL without AMP and tracking noise."""
    if page_canonical:
        candidate = urljoin(url, page_canonical.strip())
        if (urlsplit(candidate).scheme in ("http", "https")
                and _site(candidate) == _site(url)):
            url = candidate
    return canonicalize_url(de_amp(strip_tracking(url)), keep_fragments=False)


def _site(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.").removeprefix("m.")


HTTP_SCHEMES = frozenset({"http", "https"})  # all the crawl fetches (urlsplit lower-cases schemes)


def is_http(url: str) -> bool:
    return urlsplit(url).scheme in HTTP_SCHEMES
