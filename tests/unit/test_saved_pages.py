"""The crawl's reading path on saved page shapes (tests/pages): a page without <html>, a layout
table, dates written in the text, a year alone, a UTC instant against a dated URL (issue 15)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digestcrawl.text.encoding import decode_html
from digestcrawl.text.extraction import extract_page

PAGES = Path(__file__).resolve().parent.parent / "pages"
SHANGHAI = ZoneInfo("Asia/Shanghai")
LEAD = "使用4周后，肌肤年轻12年"


@pytest.mark.parametrize(("name", "url", "zone", "published", "origin", "has", "lacks"), [
    # The layout table gives way to the article's block; the date is the one under the headline,
    # not a related story's.
    ("zh-table-layout.gb2312.html", "http://business.example/n1.shtml", SHANGHAI,
     "2005-03-11T12:12:00+08:00", "text", LEAD, ["搜狐首页", "相关报道", "Copyright"]),
    ("zh-no-wrapper.gbk.html", "http://ccc.example/article.asp?id=1", SHANGHAI,
     "2004-09-17T05:54:13+08:00", "text", LEAD, ["CopyRight", "公民社会"]),
    # A copyright year is no publication day.
    ("zh-year-only.html", "http://mil.example/tech/1.htm", SHANGHAI, None, None, LEAD, ["Copyright"]),
    # A dated URL puts the UTC instant on the publisher's day.
    ("en-utc-instant.html", "https://news.example/2019/11/18/wework/", ZoneInfo("America/New_York"),
     "2019-11-18T22:05:46-05:00", "jsonld", "investigating WeWork and its former", []),
    ("en-utc-instant.html", "https://news.example/wework/", ZoneInfo("America/New_York"),
     "2019-11-19T03:05:46+00:00", "jsonld", "investigating WeWork and its former", []),
])
def test_saved_page(name: str, url: str, zone: ZoneInfo, published: str | None, origin: str | None,
                    has: str, lacks: list[str]) -> None:
    html, _ = decode_html((PAGES / name).read_bytes())
    page = extract_page(html, url, zone)
    assert page is not None
    assert (page.published.isoformat() if page.published else None, page.published_from) == (published, origin)
    assert has in page.text
    for text in lacks:
        assert text not in page.text


def test_fragment_without_html_is_parsed() -> None:
    """trafilatura's loader rejects a tree with one child when "html" is not in its first bytes."""
    page = extract_page("<div><p>" + "Qwen ships a model with a longer context window. " * 8 + "</p></div>",
                        "https://example.com/a", SHANGHAI)
    assert page is not None and page.text.startswith("Qwen ships a model")
