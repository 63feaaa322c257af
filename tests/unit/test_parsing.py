"""Dates, encodings, feeds, sitemaps, listings and JSON APIs, on hand-made documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from lxml.html import HtmlElement

from digestcrawl.crawl.feeds import FeedError, parse_feed, parse_sitemap
from digestcrawl.crawl.kinds.json_api import FieldMap, parse_json_api
from digestcrawl.crawl.kinds.listing import Selectors, parse_listing
from digestcrawl.text import extraction
from digestcrawl.text.dates import parse_datetime
from digestcrawl.text.encoding import decode_html
from digestcrawl.text.extraction import PageText, _parse, _set_aside, _without_linked_cells, extract_page

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(("value", "expected"), [
    ("Mon, 19 Jan 2026 02:30:00 GMT", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("2026-01-19T10:30:00+08:00", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("2026-01-19T02:30:00Z", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("2026-01-19 10:30", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),  # naive: source zone
    ("2026年1月19日 10:30", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("2026/01/19 09:15", datetime(2026, 1, 19, 1, 15, tzinfo=UTC)),
    (1768789800, datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("1768789800.0", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("20260119T023000Z", datetime(2026, 1, 19, 2, 30, tzinfo=UTC)),
    ("not a date", None),
    ("", None),
])
def test_parse_datetime_is_aware(value: object, expected: datetime | None) -> None:
    parsed = parse_datetime(value, TAIPEI)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


ZH_HANT = "阿里千問春節後將開放第三方入駐，國際版年內上線。月活躍用戶突破一億。" * 3
ZH_HANS = "阿里千问春节后将开放第三方入驻，国际版年内上线。月活跃用户突破一亿人。" * 3
JA = "アリババは通義千問をショッピングアプリに統合すると発表した。" * 3


@pytest.mark.parametrize(("body", "content_type", "text"), [
    (f"<p>{ZH_HANT}</p>".encode("big5"), "text/html; charset=big5", ZH_HANT),
    (f"<p>{ZH_HANS}</p>".encode("gb18030"), "text/html; charset=utf-8", ZH_HANS),  # mislabelled
    (f'<meta charset="shift_jis"><p>{JA}</p>'.encode("shift_jis"), "text/html", JA),
    (f"<p>{ZH_HANS}</p>".encode("gb18030"), None, ZH_HANS),  # no label at all
    (f"<p>{ZH_HANT}</p>".encode(), "text/html; charset=iso-8859-1", ZH_HANT),  # UTF-8 labelled latin-1
    (b"\xef\xbb\xbf<p>" + ZH_HANT.encode() + b"</p>", None, ZH_HANT),
])
def test_decode_html(body: bytes, content_type: str | None, text: str) -> None:
    decoded, _ = decode_html(body, content_type)
    assert text in decoded


GOOGLE_RSS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>q</title>
<item><title>\xe5\x8d\x83\xe5\x95\x8f App \xe5\x8d\x87\xe7\xb4\x9a - UDN</title>
<link>https://news.google.com/rss/articles/CBMiABC?oc=5</link>
<pubDate>Mon, 19 Jan 2026 02:30:00 GMT</pubDate><source url="https://udn.com">UDN</source></item>
</channel></rss>"""


def test_google_feed_keeps_publisher_and_strips_it_from_title() -> None:
    [entry] = parse_feed(GOOGLE_RSS, "https://news.google.com/rss/search", TAIPEI)
    assert entry.title == "千問 App 升級" and entry.publisher == "UDN"
    assert entry.published == datetime(2026, 1, 19, 2, 30, tzinfo=UTC)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>Qwen news</title><link href="/a/1"/><updated>2026-01-19T10:00:00+09:00</updated>
<summary>&lt;b&gt;bold&lt;/b&gt; text</summary></entry></feed>"""


def test_atom_feed_relative_links_and_summary() -> None:
    [entry] = parse_feed(ATOM, "https://jp.example/atom.xml", TAIPEI)
    assert entry.url == "https://jp.example/a/1" and entry.snippet == "bold text"
    assert entry.published == datetime(2026, 1, 19, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"<rss><channel><item><title>cut", b"", b"<html><body>hi</body></html>",
                                  b"\x89PNG\r\n"])
def test_malformed_feed_raises(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, "https://x/feed", TAIPEI)


def test_truncated_feed_keeps_the_entries_before_the_cut() -> None:
    body = GOOGLE_RSS[: GOOGLE_RSS.index(b"</item>") + 7] + b"<item><title>cut"
    with pytest.raises(FeedError) as caught:
        parse_feed(body, "https://x/feed", TAIPEI)
    assert [e.title for e in caught.value.recovered] == ["千問 App 升級"]


SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://s.example/a.html</loc><news:news><news:publication><news:name>Sina</news:name>
<news:language>zh-cn</news:language></news:publication>
<news:publication_date>2026-01-19T11:00:00+08:00</news:publication_date>
<news:title>千问 App</news:title></news:news></url>
</urlset>""".encode()
INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://s.example/news-1.xml</loc></sitemap></sitemapindex>"""


def test_news_sitemap_and_index() -> None:
    [entry], children = parse_sitemap(SITEMAP, TAIPEI)
    assert (entry.url, entry.title, entry.publisher) == ("https://s.example/a.html", "千问 App", "Sina")
    assert entry.published == datetime(2026, 1, 19, 3, 0, tzinfo=UTC) and children == []
    assert parse_sitemap(INDEX, TAIPEI) == ([], ["https://s.example/news-1.xml"])
    with pytest.raises(FeedError):
        parse_sitemap(b"<urlset><url>", TAIPEI)


def test_listing_with_selectors() -> None:
    html = """<ul><li class="news"><a class="title" href="/article/1.html"> Qwen <b>up</b></a>
    <span class="date">2026/01/19 09:15</span></li><li class="news">no link</li></ul>"""
    selectors = Selectors(item="li.news", url="a::attr(href)", title="a.title ::text",
                          published="span.date::text")
    [entry] = parse_listing(html, "https://c.example/list", selectors, TAIPEI)
    assert entry.url == "https://c.example/article/1.html" and entry.title == "Qwen up"
    assert entry.published == datetime(2026, 1, 19, 1, 15, tzinfo=UTC)



def test_listing_card_with_a_relative_date_counts_back_from_now() -> None:
    """Issue 20: "3 小時前" on a Taipei listing is three hours before the crawl, not eleven."""
    html = """<ul><li class="news"><a class="title" href="/article/1.html">Qwen</a>
    <span class="date">3 小時前</span></li></ul>"""
    selectors = Selectors(item="li.news", url="a::attr(href)", title="a.title ::text", published="span.date::text")
    before = datetime.now(UTC)
    [entry] = parse_listing(html, "https://c.example/list", selectors, TAIPEI)
    after = datetime.now(UTC)
    assert entry.published is not None and entry.published.utcoffset() == timedelta(hours=8)
    assert before - timedelta(hours=3, seconds=1) <= entry.published <= after - timedelta(hours=3)


def test_a_page_declaring_a_relative_date_counts_back_from_now() -> None:
    """Issue 20: extraction reads declared dates through the same path as listings."""
    text = "通義千問發布新版本模型，開發者社群反應熱烈。" * 10
    html = ('<html><head><title>Qwen</title><meta property="article:published_time" content="昨天"></head>'
            f"<body><article><h1>Qwen</h1><p>{text}</p></article></body></html>")
    before = datetime.now(UTC)
    page = extract_page(html, "https://c.example/news/1", TAIPEI)
    after = datetime.now(UTC)
    assert page is not None and page.published is not None and page.published_from == "meta"
    # dateparser keeps the clock time for a day ago: the same instant, a day earlier, read in Taipei.
    assert before - timedelta(days=1, seconds=1) <= page.published <= after - timedelta(days=1)
    assert page.published.utcoffset() == timedelta(hours=8)

ENGLISH = "The council approved the new budget for the city's schools after a long debate. " * 6


def test_a_pages_utc_instant_and_naive_dates_are_on_its_own_clock() -> None:
    """Issue 24: a UTC instant is the publisher's day only on the publisher's clock, which the
    page states in its other times; a date without an offset is read on it, not in the source's."""
    html = ('<html><head><title>Budget</title><meta property="article:published_time"'
            ' content="2023-11-09T06:35:29+00:00"></head><body><article><h1>Budget</h1>'
            f'<time datetime="2023-11-08T23:05:04-08:00">Nov 8</time><p>{ENGLISH}</p></article></body></html>')
    page = extract_page(html, "https://c.example/news/1", TAIPEI)
    assert page is not None and page.published is not None
    assert (page.published.isoformat(), page.published_from) == ("2023-11-08T22:35:29-08:00", "meta")
    naive = html.replace("2023-11-09T06:35:29+00:00", "2023-11-08 22:35:29")
    page = extract_page(naive, "https://c.example/news/1", TAIPEI)
    assert page is not None and page.published is not None
    assert page.published.isoformat() == "2023-11-08T22:35:29-08:00"


def test_a_date_only_htmldates_extensive_search_finds_is_taken_with_its_origin() -> None:
    """Issue 24: the last resort when no other reading finds a date: htmldate's search of the
    whole text (its fast mode finds two dates here and answers none)."""
    html = ("<html><head><title>Budget</title></head><body><div>Pressemitteilung vom 20.01.2022</div>"
            f"<article><h1>Budget</h1><p>{ENGLISH}</p><p>Antwort vom 12. Januar 2022: {ENGLISH}</p>"
            "</article></body></html>")
    page = extract_page(html, "https://c.example/news/1", TAIPEI)
    assert page is not None and page.published is not None
    assert (page.published.date().isoformat(), page.published_from) == ("2022-01-20", "htmldate_text")


def test_json_api_field_mapping() -> None:
    body = b"""{"hits": [{"objectID": "42", "title": "Ask HN: Qwen?", "url": null, "story_text": "<p>Is it good?</p>",
               "created_at": "2026-01-19T03:12:00Z", "author": "pg"},
               {"objectID": "43", "title": "Qwen3", "url": "https://q.example/", "created_at_i": 1}]}"""
    fields = FieldMap(items="hits", url="url || join('', ['https://news.ycombinator.com/item?id=', objectID])",
                      title="title", text="story_text", published="created_at", author="author")
    first, second = parse_json_api(body, fields, TAIPEI)
    assert first.url == "https://news.ycombinator.com/item?id=42" and first.text == "Is it good?"
    assert first.author == "pg" and first.published == datetime(2026, 1, 19, 3, 12, tzinfo=UTC)
    assert second.url == "https://q.example/" and second.published is None
    with pytest.raises(FeedError):
        parse_json_api(b"{not json", fields, TAIPEI)
    with pytest.raises(FeedError):
        parse_json_api(b'{"hits": 3}', fields, TAIPEI)


def test_json_api_functions_build_a_web_url_from_ids() -> None:
    body = b"""{"posts": [
      {"uri": "at://did:plc:abc/app.bsky.feed.post/3lfq2xyz", "author": {"handle": "alice.example"}, "n": 7},
      {"uri": "at://did:plc:def/app.bsky.feed.post/3lfq2abc", "author": {}, "n": 8, "url": "https://fallback.example/"},
      {"uri": null, "author": {"handle": "carol.example"}}]}"""
    fields = FieldMap(items="posts", url="format('https://bsky.app/profile/{}/post/{}', author.handle, "
                                         "split(uri, '/')[-1]) || url",
                      title="format('#{} by {}', n, author.handle)",
                      author="join('/', split(uri, '/')[2:3])")
    first, second = parse_json_api(body, fields, TAIPEI)
    assert first.url == "https://bsky.app/profile/alice.example/post/3lfq2xyz"
    assert first.title == "#7 by alice.example" and first.author == "did:plc:abc"
    # A null value makes format() null, so `||` falls back; a null uri splits to null: no URL, no entry.
    assert second.url == "https://fallback.example/" and second.title == ""


def test_json_api_item_a_function_cannot_take_reads_as_missing() -> None:
    # JMESPath's join() takes strings only: an id served as a number costs that item, not the answer.
    body = b'{"hits": [{"objectID": 41, "url": null}, {"objectID": "42", "url": null}]}'
    fields = FieldMap(items="hits", url="url || join('', ['https://news.ycombinator.com/item?id=', objectID])")
    [entry] = parse_json_api(body, fields, TAIPEI)
    assert entry.url == "https://news.ycombinator.com/item?id=42"


@pytest.mark.parametrize(("cell", "linked", "kept"), [
    # A layout table's related list (links) gives way to readability's reading of the page ...
    ("相關新聞第{n}則", True, False),
    # ... a data table's cells (no links) stay.
    ("數據第{n}則", False, True),
])
def test_table_rows_of_links_give_way_to_readabilitys_reading(cell: str, linked: bool, kept: bool) -> None:
    """Issue 24 (zh dev, half B 0.948 -> 0.976): trafilatura keeps a layout table's related
    lists and ads with the article's row."""
    para = "通義千問發布新版本模型，開發者社群反應熱烈，多家企業表示將在下月導入新模型。" * 4
    cells = [cell.format(n=n) for n in range(1, 5)]
    row = "".join(f'<td><a href="/n{n}.html">{text}</a></td>' if linked else f"<td>{text}</td>"
                  for n, text in enumerate(cells))
    html = (f"<html><head><title>千問</title></head><body><div class='article'><p>{para}</p><p>{para}</p>"
            f"<p>{para}</p></div><table><tr>{row}</tr></table></body></html>")
    text = f"{para}\n{para}\n{para}\n| " + " | ".join(cells) + " |"
    read = _without_linked_cells(_parse(html), text, "千問")
    assert para in read and (cells[0] in read) is kept


PARA = "通義千問發布新版本模型，開發者社群反應熱烈，多家企業表示將在下月導入新模型。"
DATA_ROWS = "".join(f"<tr><td>季度{n}</td><td>營收成長{n}成，用戶數達{n}億</td></tr>" for n in range(1, 5))


@pytest.mark.parametrize(("body", "recall", "readability"), [
    # A short text: the recall pass.
    (f"<div class='article'><p>{PARA}</p></div>", True, False),
    # Table rows: readability's reading too, to tell a layout table from a data table.
    (f"<div class='article'><p>{PARA * 4}</p><p>{PARA * 4}</p><p>{PARA * 4}</p>"
     f"<table>{DATA_ROWS}</table></div>", True, True),
], ids=["short", "table"])
def test_a_page_is_parsed_once_whatever_the_passes_it_needs(monkeypatch: pytest.MonkeyPatch, body: str,
                                                            recall: bool, readability: bool) -> None:
    """Issue 25: every pass reads the page's one tree (trafilatura's fallback passes and
    readability included), and gets what it would get from a fresh parse of its own."""
    html = f"<html><head><title>千問</title></head><body>{body}</body></html>"
    fresh: dict[str, list[object]] = {"passes": [], "readability": []}

    def trafilatura_text(tree, url, precision, fast=True, tables=True):  # type: ignore[no-untyped-def]
        fresh["passes"].append(precision)
        return original_pass(_parse(html), url, precision, fast, tables)

    def readability_text(tree):  # type: ignore[no-untyped-def]
        fresh["readability"].append(tree)
        return original_readability(_parse(html))

    original_pass, original_readability = extraction._trafilatura_text, extraction._readability_text
    monkeypatch.setattr(extraction, "_trafilatura_text", trafilatura_text)
    monkeypatch.setattr(extraction, "_readability_text", readability_text)
    on_fresh_trees = extract_page(html, "https://example.com/a.html", ZoneInfo("UTC"))
    monkeypatch.undo()
    parses: list[str] = []
    monkeypatch.setattr(extraction, "_parse", lambda page: parses.append(page) or _parse(page))
    on_one_tree = extract_page(html, "https://example.com/a.html", ZoneInfo("UTC"))
    assert (False in fresh["passes"]) is recall and bool(fresh["readability"]) is readability
    assert on_fresh_trees is not None and on_one_tree == on_fresh_trees and PARA in on_one_tree.text
    assert len(parses) == 1


def test_the_precision_pass_is_run_without_the_link_lists_beside_the_article() -> None:
    """Issue 25: trafilatura's pruning costs per element it is given, so menus, footers and
    sidebars of links beside the article are taken out for its precision pass, then put back
    where they were (an element with text after it stays: taking it out would take that text)."""
    menu = "".join(f'<li><a href="/c{n}.html">分類新聞第{n}頁</a></li>' for n in range(20))
    html = (f"<html><head><title>千問</title></head><body><nav><ul>{menu}</ul></nav>"
            f"<div id='main'><div class='article'><p>{PARA * 3}</p><p>{PARA * 3}</p></div>"
            f"<div class='links'><a href='/x.html'>延伸閱讀第一篇報導</a></div>正文之後的說明文字"
            f"</div><footer><a href='/about.html'>關於我們與聯絡方式</a></footer></body></html>")
    tree = _parse(html)
    assert tree is not None
    whole = etree.tostring(tree)
    asides = PageText.read(tree).asides
    assert [element.tag for element in asides] == ["nav", "footer"]
    with pytest.raises(RuntimeError), _set_aside(asides):
        assert b"<nav>" not in etree.tostring(tree) and b"<footer>" not in etree.tostring(tree)
        raise RuntimeError("a failing pass")
    assert etree.tostring(tree) == whole
    page = extract_page(html, "https://example.com/a.html", ZoneInfo("UTC"))
    assert page is not None and PARA in page.text and "分類新聞" not in page.text


def test_pages_are_parsed_into_lxml_html_elements_fragments_included() -> None:
    """Issue 25: the parser picks lxml.html's element class in C; every element still has
    lxml.html's methods, and a fragment without <html> still parses."""
    tree = _parse("<title>千問</title><form><input name='q'></form><p>千問發布</p>")
    assert tree is not None and tree.find(".//p").text_content() == "千問發布"
    assert all(isinstance(element, HtmlElement) for element in tree.iter())
    assert _parse("") is None
