"""Feeds and sitemaps as real servers send them: junk before the XML declaration, the declared
encoding (as its superset, with a stray byte), gzip with a cap on the inflated size."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from digestcrawl.crawl.feeds import FeedError, parse_feed, parse_sitemap, xml_document

SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLES = ["国务院新闻办公室举行发布会", "朱镕基会见外宾", "王堃获奖"]  # 镕 and 堃 are GBK, not GB2312


def rss(encoding: str, titles: list[str] = TITLES, declared: str | None = None) -> bytes:
    """The shape of the Chinese portals' RSS 2.0 feeds (a channel, items with pubDate)."""
    items = "".join(f"<item><title><![CDATA[{title}]]></title><link>http://news.example.cn/{i}.shtml</link>"
                    f"<pubDate>Mon, 19 Jan 2026 0{i}:30:00 +0800</pubDate><description>{title}。</description></item>\n"
                    for i, title in enumerate(titles))
    return (f'<?xml version="1.0" encoding="{declared or encoding}"?>\n<rss version="2.0"><channel>'
            f"<title>News</title><link>http://news.example.cn/</link>\n{items}</channel></rss>\n").encode(encoding)


@pytest.mark.parametrize("prefix", [
    b"", b"\n", b"\r\n", b"  \n\t", b"\xef\xbb\xbf", b"\n\xef\xbb\xbf", b"\xef\xbb\xbf\n",
    b"<br />\n<b>Notice</b>: Undefined index: page in /var/www/rss.php on line 3<br />\n",
])
@pytest.mark.parametrize(("encoding", "declared"), [("gb18030", "gb2312"), ("gb18030", "GBK"), ("utf-8", "utf-8")])
def test_feed_with_junk_before_the_declaration_reads_in_its_encoding(prefix: bytes, encoding: str,
                                                                       declared: str) -> None:
    body = prefix + rss(encoding, declared=declared)
    entries = parse_feed(body, "http://news.example.cn/rss.xml", SHANGHAI)  # no FeedError
    assert [e.title for e in entries] == TITLES
    assert entries[1].published == datetime(2026, 1, 18, 17, 30, tzinfo=UTC)


def test_gb2312_feed_with_a_stray_byte_keeps_its_other_titles() -> None:
    body = b"\n" + rss("gb18030", declared="gb2312").replace("朱".encode("gb18030"), b"\x80")
    entries = parse_feed(body, "http://news.example.cn/rss.xml", SHANGHAI)
    assert [e.title for e in entries] == [TITLES[0], "\ufffd镕基会见外宾", TITLES[2]]


@pytest.mark.parametrize(("encoding", "declared", "titles"), [
    ("big5hkscs", "big5", ["行政院召開記者會", "香港特區政府公布"]),
    ("cp932", "Shift_JIS", ["政府は経済対策を発表", "髙﨑市の①番目"]),
    ("utf-16", "utf-16", TITLES),  # with its BOM
])
def test_the_declared_encoding_is_honoured(encoding: str, declared: str, titles: list[str]) -> None:
    entries = parse_feed(rss(encoding, titles, declared), "http://x.example/rss", SHANGHAI)
    assert [e.title for e in entries] == titles


def test_atom_feed_with_a_leading_newline() -> None:
    body = b"\n\n" + b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><entry><title>\xe5\x8d\x83\xe5\x95\x8f</title><link href="/a/1"/>
<updated>2026-01-19T10:00:00+08:00</updated></entry></feed>"""
    [entry] = parse_feed(body, "https://x.example/atom.xml", SHANGHAI)
    assert entry.title == "千問" and entry.url == "https://x.example/a/1"


def test_xml_document_is_utf8_starting_with_its_declaration() -> None:
    document = xml_document(b"\r\n" + rss("gb18030", declared="gb2312"))
    assert document.startswith(b'<?xml version="1.0"?>\n<rss')
    assert "朱镕基".encode() in document


SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://s.example.cn/a.html</loc><news:news><news:publication><news:name>新浪</news:name>
<news:language>zh-cn</news:language></news:publication>
<news:publication_date>2026-01-19T11:00:00+08:00</news:publication_date>
<news:title>千问 App 上线</news:title></news:news></url>
</urlset>
""".encode()
INDEX = b"""<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://s.example.cn/news-1.xml.gz</loc></sitemap></sitemapindex>"""


@pytest.mark.parametrize("body", [
    gzip.compress(SITEMAP),
    gzip.compress(b"\n" + SITEMAP),  # gzipped, and a newline before the declaration inside
    b"\n  " + SITEMAP,
    gzip.compress(SITEMAP[:200]) + gzip.compress(SITEMAP[200:]),  # two gzip members
    SITEMAP.decode().replace("UTF-8", "gb2312").encode("gb18030"),
])
def test_sitemap_gzipped_or_with_leading_whitespace(body: bytes) -> None:
    [entry], children = parse_sitemap(body, SHANGHAI, max_size=1024 * 1024)
    assert (entry.url, entry.title, entry.publisher) == ("https://s.example.cn/a.html", "千问 App 上线", "新浪")
    assert entry.published == datetime(2026, 1, 19, 3, 0, tzinfo=UTC) and children == []


def test_gzipped_sitemap_index_and_feed() -> None:
    assert parse_sitemap(gzip.compress(INDEX), SHANGHAI) == ([], ["https://s.example.cn/news-1.xml.gz"])
    entries = parse_feed(gzip.compress(b"\n" + rss("gb18030", declared="gb2312")), "http://x.example/rss", SHANGHAI)
    assert [e.title for e in entries] == TITLES


def test_gzip_bomb_is_refused_within_its_cap() -> None:
    """64 MiB of zeros in 64 KB of gzip, capped at 1 MiB: FeedError, and no more memory than the cap."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(64)) + compressor.flush()
    bomb = gzip.compress(b"<urlset>") + bomb  # the bomb as a second member, after a harmless one
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(FeedError, match="too large"):
            parse_sitemap(bomb, SHANGHAI, max_size=1024 * 1024)
        with pytest.raises(FeedError, match="too large"):
            parse_feed(bomb, "http://x.example/rss", SHANGHAI, max_size=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_sitemap_over_the_cap_and_corrupt_gzip() -> None:
    with pytest.raises(FeedError, match="too large"):
        parse_sitemap(gzip.compress(SITEMAP), SHANGHAI, max_size=100)
    with pytest.raises(FeedError, match="corrupt gzip"):
        parse_sitemap(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x07garbage", SHANGHAI)  # bad block type
    with pytest.raises(FeedError, match="not a sitemap"):  # truncated: what it holds is cut XML
        parse_sitemap(gzip.compress(SITEMAP)[:120], SHANGHAI)
