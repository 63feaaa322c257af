"""Sitemap children: each fetched once per crawl (session ids ignored), at most two index levels
deep; redirects stop at the first repeated URL (issue 20)."""

from __future__ import annotations

import pytest
from scrapy import Request

from digestcrawl.crawl.discovery import SitemapDiscovery
from digestcrawl.crawl.failures import download_error_reason
from digestcrawl.crawl.guard.redirects import RedirectLoop, StopRedirectLoops


def test_a_cycle_back_to_the_source_url_is_refused() -> None:
    discovery = SitemapDiscovery(max_depth=2)
    discovery.start("s", "https://a.com/sitemap.xml")
    assert discovery.refusal("s", "https://a.com/b.xml", 1) is None
    assert discovery.refusal("s", "https://a.com/sitemap.xml#x", 2) == "sitemap_repeat"
    # Another source may list the same document.
    assert discovery.refusal("t", "https://a.com/b.xml", 1) is None


def test_a_new_session_id_is_the_same_child() -> None:
    discovery = SitemapDiscovery(max_depth=2)
    assert discovery.refusal("s", "https://a.com/child.xml?sid=1&page=2", 1) is None
    assert discovery.refusal("s", "https://a.com/child.xml?page=2&sid=2", 2) == "sitemap_repeat"
    assert discovery.refusal("s", "https://a.com/child.xml;jsessionid=3?page=2", 2) == "sitemap_repeat"
    assert discovery.refusal("s", "https://a.com/child.xml?page=3", 2) is None  # the query is kept


def test_depth_limit() -> None:
    discovery = SitemapDiscovery(max_depth=2)
    assert discovery.refusal("s", "https://a.com/1.xml", 1) is None
    assert discovery.refusal("s", "https://a.com/2.xml", 2) is None
    assert discovery.refusal("s", "https://a.com/3.xml", 3) == "sitemap_too_deep"


@pytest.mark.parametrize(("hops", "refused"), [
    (["https://a.com/a", "https://a.com/b"], True),
    (["https://a.com/a?sid=1", "https://a.com/b?sid=2"], True),  # a session id added on each hop
    (["https://a.com/x", "https://a.com/b"], False),
    ([], False),
])
def test_redirect_back_to_a_visited_url(hops: list[str], refused: bool) -> None:
    request = Request("https://a.com/a?sid=3", meta={"redirect_urls": hops} if hops else {})
    if not refused:
        assert StopRedirectLoops().process_request(request) is None
        return
    with pytest.raises(RedirectLoop) as caught:
        StopRedirectLoops().process_request(request)
    assert download_error_reason(caught.value) == "redirect_loop"
