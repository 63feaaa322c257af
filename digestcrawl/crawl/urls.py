"""URL hygiene: unwrap search-engine redirects, strip tracking, map AMP to canonical.

``request_url`` is the one form a listed URL is requested and deduplicated under (article
pages, sitemap children, redirect hops): without the parameters below, path session ids
(``;jsessionid=…``) or fragment, its parameters sorted (w3lib's ``canonicalize_url``; a key's
case is kept: ``A=1`` is not ``a=1``). ``canonical_url`` is the form an article is stored under.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that name who sent the reader, a session or a cache-buster, never the page;
# names are matched case-insensitively (``UTM_Source`` too), values never.
TRACKING_PREFIXES = ("utm_", "mc_")  # campaign tags: utm_source, utm_medium, mc_cid, ...
TRACKING_PARAMS = frozenset({
    # click ids of ad and social networks
    "fbclid", "gclid", "dclid", "msclkid", "igshid", "yclid", "_ga", "spm", "ocid", "cmpid", "ncid",
    # referrers and share buttons
    "ref", "ref_src", "from", "oc", "sr_share", "share", "cid",
    # sessions
    "sessionid", "session_id", "jsessionid", "phpsessid", "aspsessionid", "sid",
    # cache-busters (jQuery's ``_=<ms>``)
    "_",
})
# A session id in the path (``/a.html;jsessionid=0A1B``), as Java and PHP servers append it.
PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/;?#]*", re.IGNORECASE)
AMP_PATH = re.compile(r"/amp(?=/)|/amp/?$|\.amp(?=\.html?$)")


def unwrap_bing(link: str) -> str:
    """Bing News wraps every target in ``apiclick.aspx?...&url=<target>``: read it, no request."""
    parts = urlsplit(link)
    if parts.path.lower().endswith("/apiclick.aspx"):
        target = dict(parse_qsl(parts.query)).get("url")
        if target and urlsplit(target).scheme in ("http", "https"):
            return target
    return link


def is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def strip_tracking(url: str) -> str:
    """The URL without tracking, session and cache-buster parameters or fragment."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not is_tracking(k)]
    return urlunsplit((parts.scheme, parts.netloc, PATH_SESSION.sub("", parts.path), urlencode(query), ""))


def request_url(url: str) -> str:
    """The form a listed URL is requested and deduplicated under: one fetch for all the
    variants a feed or a sitemap may list of one page."""
    return canonicalize_url(strip_tracking(url), keep_fragments=False)


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
    return request_url(de_amp(url))


def _site(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.").removeprefix("m.")


HTTP_SCHEMES = frozenset({"http", "https"})  # all the crawl fetches (urlsplit lower-cases schemes)


def is_http(url: str) -> bool:
    return urlsplit(url).scheme in HTTP_SCHEMES


def slot_key(url: str) -> str:
    """The download slot of a URL's host: Scrapy's own key (the host name), with the port when
    the URL names one, so that two servers on one host keep apart."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host
