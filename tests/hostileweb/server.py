"""The hostile web: every shape of bad input and fault we have met, served on 127.0.0.1 (on two
ports: a case marked ``robots_down`` is served on the second, whose robots.txt answers 500).

Each ``Case`` is one source of its own (the source name is the case name), so the crawl's
per-source counters say exactly what became of it:

* a ``page`` case is an article page, linked from a one-item RSS feed at ``/feed/<name>``;
  the page itself is ``/page/<name>`` (sub-paths ``/page/<name>/...`` belong to the case too,
  e.g. the other end of a redirect loop);
* a ``feed``, ``sitemap``, ``json_api`` or ``listing`` case is the source document itself, at
  ``/src/<name>`` (and its sub-paths).

``expect`` names the per-source event the crawl must count for the case (``stored``,
``dropped/<reason>``, ``errors/<reason>``). Slow and hanging answers wait on the server's stop
event, so stopping the server ends them at once.
``python -m tests.hostileweb.server`` serves it in the foreground and prints its sources file.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PUBLISHED = "Mon, 19 Jan 2026 02:00:00 GMT"
WINDOW = {"since": "2026-01-12T00:00:00+08:00", "until": "2026-01-20T00:00:00+08:00"}
LEAD = "阿里巴巴通義千問團隊今天發布 Qwen 新版本模型，開發者社群反應熱烈。"
PARAGRAPHS = [
    "Qwen 團隊表示，新模型在程式碼與數學推理的基準測試上有明顯進步，並開放權重下載。",
    "多家雲端服務商同日宣布上架該模型，企業用戶可以透過 API 直接呼叫。",
    "分析師指出，開源模型的競爭正在加速，下載量成為衡量影響力的重要指標。",
    "通義千問的更新也包括更長的上下文長度與更好的多語言支援，日文與韓文表現提升。",
]
HUGE_BYTES = 50 * 1024 * 1024
SLOW_LIMIT_SECONDS = 120.0


class Reply:
    """What a case handler may do with its request."""

    def __init__(self, handler: _Handler, rest: str) -> None:
        self.handler = handler
        self.rest = rest  # the path after /page/<name> or /src/<name>
        self.web: HostileWeb = handler.server.web

    def send(
        self,
        body: bytes,
        content_type: str | None = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        handler = self.handler
        handler.send_response(status)
        if content_type is not None:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def html(self, page: bytes | str, content_type: str = "text/html; charset=utf-8", **kwargs: Any) -> None:
        self.send(page.encode("utf-8") if isinstance(page, str) else page, content_type, **kwargs)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(b"", None, status, {"Location": location})

    def raw(self, data: bytes) -> None:
        """Bytes straight onto the socket, no HTTP framing from the server."""
        self.handler.wfile.write(data)
        self.handler.close_connection = True

    def stream(
        self,
        chunks: Iterator[bytes],
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        """An answer without Content-Length, its body written until the client hangs up."""
        handler = self.handler
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        with contextlib.suppress(OSError):
            for chunk in chunks:
                if self.web.stopping.is_set():
                    return
                handler.wfile.write(chunk)

    def trickle(self, prefix: bytes, interval: float) -> None:
        """Headers, then one byte every ``interval`` seconds until the server stops."""

        def drip() -> Iterator[bytes]:
            yield prefix
            waited = 0.0
            while waited < SLOW_LIMIT_SECONDS and not self.web.stopping.wait(interval):
                waited += interval
                yield b" "

        self.stream(drip())

    def hang(self) -> None:
        """Accept the request and never answer (until the server stops)."""
        self.web.stopping.wait(SLOW_LIMIT_SECONDS)
        self.handler.close_connection = True


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # page, feed, sitemap, json_api, listing
    expect: str
    respond: Callable[[Reply], None]
    doc: str
    fields: dict[str, str] | None = None  # json_api: JMESPath fields
    follow: bool = True
    robots_down: bool = False  # served on the second port, whose robots.txt answers 500
    requests_at_most: int | None = None  # requests to the case's paths the crawl may make

    @property
    def path(self) -> str:
        return f"/page/{self.name}" if self.kind == "page" else f"/src/{self.name}"


# -- page builders ---------------------------------------------------------------------------


def article(
    title: str = "Qwen 新模型發布，開源社群熱議", body: str = "", head: str = "", charset: str = "utf-8"
) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in [LEAD, *PARAGRAPHS])
    return (
        f'<!DOCTYPE html><html lang="zh-Hant"><head><meta charset="{charset}"><title>{title}</title>'
        f'<meta property="og:title" content="{title}">{head}</head><body><article><h1>{title}</h1>'
        f"{paragraphs}{body}</article></body></html>"
    )


def figure_page(billions: int) -> str:
    """An article of its own text (not ``article``'s, which the other cases share) naming a figure."""
    paragraphs = (
        f"阿里巴巴今天宣布，未來三年將投入{billions}億元建設雲端算力與AI基礎設施，通義千問系列模型將全面開源。",
        "公司表示，新資料中心將優先支援 Qwen 模型的訓練與推理，開發者可在魔搭社區下載權重。",
        "分析師認為，這筆投資將加劇國內雲端市場的價格競爭，並帶動伺服器與電力設備的需求。",
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    title = "Qwen 算力投資"
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document of (title, link, pubDate) items."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate>"
        "<description>hostile case</description></item>"
        for t, link, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>hostile</title>'
        f"<link>http://example.invalid/</link><description>x</description>{entries}</channel></rss>"
    ).encode()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def zeros_gzip(size: int) -> bytes:
    """A gzip member that inflates to ``size`` zero bytes (a decompression bomb)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def png() -> bytes:
    def block(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + block(b"IHDR", header) + block(b"IDAT", zlib.compress(b"\0\0\0\0")) + block(b"IEND", b"")
    )


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _fifty_mb(reply: Reply) -> None:
    def chunks() -> Iterator[bytes]:
        yield article().encode()[: -len("</article></body></html>")]
        filler = ("<p>" + "Qwen 千問 " * 100 + "</p>").encode()
        for _ in range(HUGE_BYTES // len(filler)):
            yield filler

    reply.stream(chunks())


def _redirect_loop(reply: Reply) -> None:
    reply.redirect("/page/redirect_loop/b" if reply.rest != "/b" else "/page/redirect_loop")


def _redirect_chain(reply: Reply) -> None:
    step = int(reply.rest.strip("/") or 0)
    reply.redirect(f"/page/redirect_chain/{step + 1}")


def _meta_refresh_loop(reply: Reply) -> None:
    target = "/page/meta_refresh_loop/b" if reply.rest != "/b" else "/page/meta_refresh_loop"
    reply.html(f'<html><head><meta http-equiv="refresh" content="0;url={target}"></head><body>Qwen</body></html>')


def _retry_after_garbage(reply: Reply) -> None:
    reply.send(b"busy", "text/plain", 503, {"Retry-After": "soon, maybe"})


def _huge_header(reply: Reply) -> None:
    reply.html(article(), headers={"X-Padding": "a" * 300_000})


def _many_headers(reply: Reply) -> None:
    reply.html(article(), headers={f"X-H{i}": "v" for i in range(5_000)})


def _reset_mid_body(reply: Reply) -> None:
    body = article().encode()
    reply.send(body[:200], length=len(body))
    reply.handler.close_connection = True


def _invalid_status(reply: Reply) -> None:
    reply.raw(b"HTTP/1.1 999 Weird Thing\r\nContent-Length: 5\r\n\r\nhello")


def _not_http(reply: Reply) -> None:
    reply.raw(b"SSH-2.0-OpenSSH_9.2\r\n" + b"\x00\xff" * 100)


def _truncated_gzip(reply: Reply) -> None:
    body = gzipped(article().encode())
    body = body[: len(body) // 2]
    reply.send(body, headers={"Content-Encoding": "gzip"})


def _feed_bad_schemes(reply: Reply) -> None:
    reply.send(
        rss([(f"Qwen via {scheme}", link, PUBLISHED) for scheme, link in BAD_LINKS]),
        "application/rss+xml; charset=utf-8",
    )


def _sitemap_index_bad_children(reply: Reply) -> None:
    if reply.rest == "/ok.xml":
        base = reply.web.base
        reply.send(
            (
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>{base}/page/plain'
                f"</loc><news:news><news:title>Qwen 新模型</news:title><news:publication_date>"
                f"2026-01-19T10:00:00+08:00</news:publication_date></news:news></url></urlset>"
            ).encode(),
            "application/xml",
        )
        return
    children = [link for _, link in BAD_LINKS] + [
        "file:///dev/zero",
        f"{reply.web.base}/src/sitemap_index_bad_children/ok.xml",
    ]
    locs = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    reply.send(
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}'
        "</sitemapindex>".encode(),
        "application/xml",
    )


BAD_LINKS = [
    ("file", "file:///etc/passwd"),
    ("ftp", "ftp://127.0.0.1/pub/qwen.html"),
    ("gopher", "gopher://127.0.0.1:70/1/qwen"),
    ("data", "data:text/html,<title>Qwen</title><p>Qwen injected</p>"),
    ("javascript", "javascript:alert('Qwen')"),
]
XXE = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<rss version="2.0"><channel><title>x</title><item><title>Qwen &xxe;</title>'
    "<link>{base}/page/plain</link><pubDate>" + PUBLISHED + "</pubDate></item></channel></rss>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "Qwen Qwen Qwen Qwen Qwen Qwen Qwen Qwen">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><rss version="2.0"><channel><title>x</title><item><title>&j;</title>'
    "<link>{base}/page/plain</link><pubDate>" + PUBLISHED + "</pubDate></item></channel></rss>"
)


# Issue 20: a cookie flood (300 cookies of 4 KB and 10 over 4 KB, for this case's paths only),
# then a page served only to a request whose Cookie header is at most 8 KB.
COOKIE_FLOOD = [(f"c{i:03d}", "v" * 4000) for i in range(300)] + [(f"big{i}", "v" * 5000) for i in range(10)]
MAX_COOKIE_HEADER = 8192


def _cookie_flood(reply: Reply) -> None:
    if reply.rest == "/next":
        cookie = reply.handler.headers.get("Cookie", "")
        if 0 < len(cookie.encode()) <= MAX_COOKIE_HEADER:
            reply.html(article())
        else:
            reply.send(f"Cookie header of {len(cookie)} bytes".encode(), "text/plain", 431)
        return
    handler = reply.handler
    handler.send_response(302)
    for name, value in COOKIE_FLOOD:
        handler.send_header("Set-Cookie", f"{name}={value}; Path=/page/cookie_flood")
    handler.send_header("Location", "/page/cookie_flood/next")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _page(
    body: Callable[[], str | bytes], content_type: str = "text/html; charset=utf-8", **kwargs: Any
) -> Callable[[Reply], None]:
    return lambda reply: reply.html(body(), content_type, **kwargs)


def _source(
    body: Callable[[Reply], str | bytes], content_type: str, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[Reply], None]:
    def respond(reply: Reply) -> None:
        data = body(reply)
        reply.send(data.encode() if isinstance(data, str) else data, content_type, status, headers)

    return respond


def _status(code: int, headers: dict[str, str] | None = None) -> Callable[[Reply], None]:
    return lambda reply: reply.send(b"no", "text/plain", code, headers)


RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml"
JSON = "application/json"
STORED = "stored"

# -- issue 20: budgets, traps, URL variants ----------------------------------------------------

VARIANT_NOISE = [
    "utm_source=rss",
    "utm_medium=feed&utm_campaign=c{n}",
    "UTM_Content=x{n}",
    "ref=hp{n}",
    "ref_src=tw",
    "fbclid=IwAR{n}",
    "gclid=Cj{n}",
    "spm=a2c.{n}",
    "sessionid={n}",
    "PHPSESSID=s{n}",
    "sid={n}",
    "_={n}",
]


def url_variants(base: str, count: int = 300) -> list[str]:
    """``count`` URLs of one article: tracking, session and cache-buster parameters, either
    parameter order, a fragment, a ``;jsessionid=`` path parameter."""
    urls = []
    for n in range(count):
        params = ["id=7", "lang=zh"][:: 1 if n % 2 else -1]
        params.insert(n % 3, VARIANT_NOISE[n % len(VARIANT_NOISE)].format(n=n))
        path = "/article" + (f";jsessionid={n:08X}" if n % 5 == 0 else "")
        urls.append(f"{base}/src/url_variants{path}?{'&'.join(params)}" + (f"#c{n}" if n % 4 == 0 else ""))
    return urls


def _url_variants(reply: Reply) -> None:
    if reply.rest.startswith("/article"):
        reply.html(article(title="Qwen 同一篇文章的三百個網址"))
        return
    entries = [
        ("Qwen 同一篇文章的三百個網址", url.replace("&", "&amp;"), PUBLISHED) for url in url_variants(reply.web.base)
    ]
    reply.send(rss(entries), RSS)


def sitemap_index(children: list[str]) -> bytes:
    locs = "".join(f"<sitemap><loc>{c.replace('&', '&amp;')}</loc></sitemap>" for c in children)
    return (
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'
    ).encode()


def _sitemap_cycle(reply: Reply) -> None:
    base = f"{reply.web.base}/src/sitemap_cycle"
    reply.send(sitemap_index([base if reply.rest == "/b" else f"{base}/b"]), XML)


def _sitemap_nested(reply: Reply) -> None:
    level = int(reply.rest.strip("/") or 0)
    if level < 20:
        reply.send(sitemap_index([f"{reply.web.base}/src/sitemap_nested/{level + 1}"]), XML)
    else:
        reply.send(b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', XML)


def _sitemap_session(reply: Reply) -> None:
    visit = next(reply.web.visits)
    reply.send(sitemap_index([f"{reply.web.base}/src/sitemap_session/child?sid={visit:x}{visit * 7919:x}"]), XML)


def _sitemap_calendar(reply: Reply) -> None:
    def month(i: int) -> str:
        return f"{reply.web.base}/src/sitemap_calendar/{i // 12}-{i % 12 + 1:02d}.xml"

    if not reply.rest:
        reply.send(sitemap_index([month(2026 * 12)]), XML)
        return
    year, number = (int(part) for part in reply.rest.strip("/").removesuffix(".xml").split("-"))
    index = year * 12 + number - 1
    reply.send(sitemap_index([month(index - 1), month(index + 1)]), XML)


CASES: list[Case] = [
    # --- pages that are fine: the control group ------------------------------------------
    Case("plain", "page", STORED, _page(article), "an ordinary article"),
    # --- oversized and pathological markup -------------------------------------------------
    Case(
        "links_50k",
        "page",
        "headline_only/page_too_large",
        _page(lambda: article(body="".join(f'<a href="/x/{i}">相關連結 {i}</a>' for i in range(50_000)))),
        "50,000 links after the article",
    ),
    Case(
        "nested_divs_100k",
        "page",
        "headline_only/page_too_large",
        _page(lambda: article(body="<div>" * 100_000 + "Qwen" + "</div>" * 100_000)),
        "100,000 nested divs",
    ),
    Case("page_50mb", "page", "errors/too_large", _fifty_mb, "a 50 MB page streamed without Content-Length"),
    Case("title_1mb", "page", "capped/title", _page(lambda: article(title="Qwen " + "長" * 1_000_000)), "a 1 MB title"),
    Case(
        "title_50k",
        "page",
        "capped/title",
        _page(lambda: article(title="Qwen " + "title " * 8_000)),
        "a 50k-character title",
    ),
    Case("title_empty", "page", STORED, _page(lambda: article(title="")), "an empty title"),
    Case(
        "huge_attribute",
        "page",
        STORED,
        _page(lambda: article(head=f'<meta name="x" content="{"q" * 5_000_000}">')),
        "a 5 MB attribute",
    ),
    Case(
        "text_300k",
        "page",
        "capped/text",
        _page(lambda: article(body="".join(f"<p>Qwen 第 {i} 段：{PARAGRAPHS[i % 4]}</p>" for i in range(6_000)))),
        "300k characters of text",
    ),
    Case(
        "author_400",
        "page",
        "capped/author",
        _page(lambda: article(head=f'<meta name="author" content="{"作者" * 200}">')),
        "a 400-character author",
    ),
    Case(
        "site_name_400",
        "page",
        "capped/site_name",
        _page(lambda: article(head=f'<meta property="og:site_name" content="{"站" * 400}">')),
        "a 400-character og:site_name",
    ),
    Case(
        "many_iframes",
        "page",
        STORED,
        _page(lambda: article(body='<iframe src="/x"></iframe>' * 5_000)),
        "5,000 iframes",
    ),
    Case(
        "deep_tables",
        "page",
        STORED,
        _page(lambda: article(body="<table><tr><td>" * 5_000 + "Qwen" + "</td></tr></table>" * 5_000)),
        "5,000 nested tables",
    ),
    # --- dates -----------------------------------------------------------------------------
    Case(
        "year_3000",
        "page",
        STORED,
        _page(lambda: article(head='<meta property="article:published_time" content="3000-01-01T00:00:00Z">')),
        "a publication date in the year 3000",
    ),
    Case(
        "year_1970",
        "page",
        STORED,
        _page(lambda: article(head='<meta property="article:published_time" content="1970-01-01T00:00:00Z">')),
        "a publication date of 1970",
    ),
    Case(
        "jsonld_malformed",
        "page",
        STORED,
        _page(
            lambda: article(
                head='<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": </script>'
            )
        ),
        "malformed JSON-LD",
    ),
    Case(
        "jsonld_deep",
        "page",
        STORED,
        _page(lambda: article(head=f'<script type="application/ld+json">{nested_json(50_000)}</script>')),
        "JSON-LD nested 50,000 deep",
    ),
    Case(
        "jsonld_wrong_types",
        "page",
        STORED,
        _page(
            lambda: article(
                head='<script type="application/ld+json">{"@type": ["NewsArticle"], '
                '"datePublished": {"x": 1}, "headline": 7, "author": [null, 3]}</script>'
            )
        ),
        "JSON-LD fields of the wrong types",
    ),
    # --- encodings and bytes -----------------------------------------------------------------
    Case(
        "utf8_labelled_latin1",
        "page",
        STORED,
        _page(article, "text/html; charset=iso-8859-1"),
        "UTF-8 bytes labelled latin-1",
    ),
    Case(
        "gbk_labelled_utf8",
        "page",
        STORED,
        _page(lambda: article(charset="gbk").replace("通義千問", "通义千问").encode("gbk", "replace")),
        "GBK bytes labelled utf-8",
    ),
    Case(
        "utf16_no_bom",
        "page",
        STORED,
        _page(lambda: article().encode("utf-16-le"), "text/html"),
        "UTF-16 without a BOM or label",
    ),
    Case("bogus_charset", "page", STORED, _page(article, "text/html; charset=x-no-such-charset"), "an unknown charset"),
    Case(
        "stray_bytes",
        "page",
        STORED,
        _page(lambda: article().encode().replace("新版本".encode(), b"\xff\xfe\xfd")),
        "stray invalid bytes in UTF-8",
    ),
    Case("nul_bytes", "page", STORED, _page(lambda: article().replace("。", "\0。")), "NUL characters in the text"),
    Case(
        "control_title",
        "page",
        STORED,
        _page(lambda: article(title="Qwen \u202e\u0007\u001b[31m 發布\u2066")),
        "control and bidi characters in the title",
    ),
    Case(
        "liquid_title",
        "page",
        STORED,
        _page(lambda: article(title="Qwen {{ site.secret }} {% include x %} {%raw%}")),
        "Liquid syntax in the title",
    ),
    Case(
        "yaml_title",
        "page",
        STORED,
        _page(lambda: article(title="Qwen\n---\nlayout: evil\ntitle: 'x\" #")),
        "front-matter breakers in the title",
    ),
    Case(
        "binary_as_html",
        "page",
        "dropped/binary_response",
        _page(lambda: png() * 50, "text/html"),
        "PNG bytes labelled text/html",
    ),
    Case("png", "page", "dropped/binary_response", _page(png, "image/png"), "an image"),
    Case(
        "pdf",
        "page",
        "dropped/binary_response",
        _page(lambda: b"%PDF-1.4\n%\xe2\xe3\n" + b"0" * 1000, "application/pdf"),
        "a PDF",
    ),
    Case(
        "octet_stream",
        "page",
        "dropped/binary_response",
        _page(lambda: b"\x00\x01Qwen" * 100, "application/octet-stream"),
        "application/octet-stream",
    ),
    Case("content_type_garbage", "page", STORED, _page(article, ";;;==; charset==="), "a garbage Content-Type"),
    Case("empty_body", "page", "dropped/empty_page", _page(lambda: b""), "an empty 200"),
    Case("whitespace_body", "page", "dropped/empty_page", _page(lambda: " \n\t " * 1000), "only whitespace"),
    Case(
        "script_only",
        "page",
        "dropped/empty_page",
        _page(lambda: "<html><body><script>document.write('Qwen')</script></body></html>"),
        "text only JavaScript would write",
    ),
    Case(
        "no_html_wrapper",
        "page",
        STORED,
        _page(lambda: "<title>Qwen 新模型</title>" + "".join(f"<p>{p}</p>" for p in [LEAD, *PARAGRAPHS])),
        "no <html> or <head>",
    ),
    Case(
        "off_topic",
        "page",
        "dropped/off_topic",
        _page(lambda: article(title="天氣預報").replace("Qwen", "").replace("通義千問", "")),
        "a page about something else",
    ),
    # --- compression ---------------------------------------------------------------------------
    Case("truncated_gzip", "page", STORED, _truncated_gzip, "a gzip body cut in half"),
    Case(
        "gzip_bomb",
        "page",
        "errors/too_large",
        _page(lambda: zeros_gzip(200 << 20), headers={"Content-Encoding": "gzip"}),
        "gzip inflating to 200 MB",
    ),
    Case(
        "deflate_garbage",
        "page",
        "errors/download",
        _page(lambda: b"\x00garbage" * 100, headers={"Content-Encoding": "deflate"}),
        "Content-Encoding deflate over garbage",
    ),
    Case(
        "unknown_encoding",
        "page",
        STORED,
        _page(article, headers={"Content-Encoding": "x-snappy-framed"}),
        "an unknown Content-Encoding",
    ),
    # --- redirects -----------------------------------------------------------------------------
    Case("redirect_loop", "page", "errors/redirect_loop", _redirect_loop, "a → b → a", requests_at_most=2),
    Case("redirect_chain", "page", "errors/redirect_loop", _redirect_chain, "an endless chain of redirects"),
    Case(
        "redirect_file", "page", "dropped/bad_scheme", lambda r: r.redirect("file:///etc/passwd"), "a redirect to file:"
    ),
    Case(
        "redirect_data",
        "page",
        "dropped/bad_scheme",
        lambda r: r.redirect("data:text/html,<title>Qwen</title>"),
        "a redirect to data:",
    ),
    Case(
        "redirect_ftp", "page", "dropped/bad_scheme", lambda r: r.redirect("ftp://127.0.0.1/qwen"), "a redirect to ftp:"
    ),
    Case(
        "redirect_gopher",
        "page",
        "dropped/bad_scheme",
        lambda r: r.redirect("gopher://127.0.0.1:70/"),
        "a redirect to gopher:",
    ),
    Case(
        "redirect_private",
        "page",
        "dropped/refused_address",
        lambda r: r.redirect("http://127.0.0.2:9/qwen"),
        "a redirect to a non-public address",
    ),
    Case(
        "redirect_metadata",
        "page",
        "dropped/refused_address",
        lambda r: r.redirect("http://169.254.169.254/latest/meta-data/"),
        "a redirect to a cloud metadata address",
    ),
    Case(
        "redirect_mapped",
        "page",
        "dropped/refused_address",
        lambda r: r.redirect("http://[::ffff:127.0.0.2]:9/"),
        "a redirect to an IPv4-mapped loopback address",
    ),
    Case(
        "meta_refresh_file",
        "page",
        STORED,
        _page(
            lambda: (
                '<html><head><meta http-equiv="refresh" content="0;url=file:///etc/passwd"></head><body>Qwen</body></html>'
            )
        ),
        "a meta refresh to file:",
    ),
    Case(
        "meta_refresh_loop",
        "page",
        "errors/redirect_loop",
        _meta_refresh_loop,
        "a meta refresh loop",
        requests_at_most=2,
    ),
    Case(
        "canonical_file",
        "page",
        STORED,
        _page(lambda: article(head='<link rel="canonical" href="file:///etc/passwd">')),
        "a canonical link to file:",
    ),
    # --- HTTP faults ---------------------------------------------------------------------------
    Case("status_500", "page", "errors/http_500", _status(500), "500"),
    Case("status_404", "page", "errors/http_404", _status(404), "404"),
    Case("status_403", "page", "errors/http_403", _status(403), "403"),
    Case("status_410", "page", "errors/http_410", _status(410), "410"),
    Case(
        "retry_after_long",
        "page",
        "errors/http_429",
        _status(429, {"Retry-After": "86400"}),
        "429 asking for a day's wait",
    ),
    Case("retry_after_garbage", "page", "errors/http_503", _retry_after_garbage, "503 with a meaningless Retry-After"),
    Case("huge_header", "page", "errors/download", _huge_header, "a 300 kB header line"),
    Case("many_headers", "page", STORED, _many_headers, "5,000 header lines"),
    Case(
        "slow_trickle",
        "page",
        "errors/timeout",
        lambda r: r.trickle(b"<html><title>Qwen</title>", 0.5),
        "one byte every half second",
    ),
    Case("hang", "page", "errors/timeout", lambda r: r.hang(), "never answers"),
    Case("reset_mid_body", "page", "errors/data_loss", _reset_mid_body, "the connection closes mid-body"),
    Case("invalid_status", "page", "errors/http_999", _invalid_status, "an invalid status line"),
    Case("not_http", "page", "errors/download", _not_http, "a server that does not speak HTTP"),
    # --- source documents ----------------------------------------------------------------------
    Case(
        "feed_malformed",
        "feed",
        "errors/malformed_feed",
        _source(lambda r: b"<rss><channel><item><title>Qwen", RSS),
        "truncated RSS",
    ),
    Case(
        "feed_xxe",
        "feed",
        "entries",
        _source(lambda r: XXE.format(base=r.web.base), RSS),
        "an external entity naming /etc/passwd",
    ),
    Case(
        "feed_billion_laughs",
        "feed",
        "errors/malformed_feed",
        _source(lambda r: LAUGHS.format(base=r.web.base), RSS),
        "exponential entity expansion",
    ),
    Case("feed_empty", "feed", "errors/malformed_feed", _source(lambda r: b"", RSS), "an empty feed"),
    Case(
        "feed_is_html",
        "feed",
        "errors/malformed_feed",
        _source(lambda r: article(), "text/html; charset=utf-8"),
        "HTML where a feed should be",
    ),
    Case(
        "feed_binary", "feed", "errors/malformed_feed", _source(lambda r: png(), RSS), "binary where a feed should be"
    ),
    Case("feed_500", "feed", "errors/http_500", _status(500), "a feed answering 500"),
    Case(
        "feed_redirect_file",
        "feed",
        "dropped/bad_scheme",
        lambda r: r.redirect("file:///etc/passwd"),
        "a feed redirecting to file:",
    ),
    Case("feed_hang", "feed", "errors/timeout", lambda r: r.hang(), "a feed that never answers"),
    Case(
        "feed_bad_schemes",
        "feed",
        "dropped/bad_scheme",
        _feed_bad_schemes,
        "entries linking to file:, ftp:, gopher:, data:, javascript:",
    ),
    Case(
        "feed_huge_title",
        "feed",
        "capped/title",
        _source(lambda r: rss([("Qwen " + "長" * 1_000_000, f"{r.web.base}/x/1", PUBLISHED)]), RSS),
        "a headline-only entry with a 1 MB title",
        follow=False,
    ),
    Case(
        "feed_year_3000",
        "feed",
        STORED,
        _source(lambda r: rss([("Qwen 3000", f"{r.web.base}/x/2", "Wed, 01 Jan 3000 00:00:00 GMT")]), RSS),
        "a headline-only entry dated 3000",
        follow=False,
    ),
    Case(
        "feed_gzip_bomb",
        "feed",
        "errors/too_large",
        _source(lambda r: zeros_gzip(200 << 20), RSS, headers={"Content-Encoding": "gzip"}),
        "a feed inflating to 200 MB",
    ),
    Case(
        "sitemap_index_bad_children",
        "sitemap",
        "dropped/bad_scheme",
        _sitemap_index_bad_children,
        "a sitemap index whose children are file:, ftp:, gopher:, data:, javascript: and /dev/zero",
    ),
    Case(
        "sitemap_xxe",
        "sitemap",
        "fetched",
        _source(lambda r: XXE.replace("rss", "urlset").format(base=r.web.base), XML),
        "a sitemap with an external entity",
    ),
    Case(
        "sitemap_truncated_gzip",
        "sitemap",
        "errors/malformed_feed",
        _source(
            lambda r: gzipped(b'<?xml version="1.0"?><urlset>' + b"<url><loc>x</loc></url>" * 1000)[:300],
            "application/x-gzip",
        ),
        "a truncated .xml.gz",
    ),
    Case(
        "api_not_json",
        "json_api",
        "errors/malformed_feed",
        _source(lambda r: b"<html>not json</html>", JSON),
        "HTML where JSON should be",
        fields={"items": "hits", "url": "url", "title": "title"},
    ),
    Case(
        "api_deep",
        "json_api",
        "errors/malformed_feed",
        _source(lambda r: nested_json(100_000), JSON),
        "JSON nested 100,000 deep",
        fields={"items": "hits", "url": "url", "title": "title"},
    ),
    Case(
        "api_wrong_types",
        "json_api",
        "entries",
        _source(
            lambda r: json.dumps(
                {
                    "hits": [
                        {"url": 7, "title": {"a": 1}},
                        None,
                        "x",
                        {"url": ["y"]},
                        {"url": f"{r.web.base}/page/plain", "title": ["Qwen"], "created": "3000-01-01"},
                    ]
                }
            ),
            JSON,
        ),
        "items of the wrong types",
        fields={"items": "hits", "url": "url", "title": "title", "published": "created"},
    ),
    Case(
        "listing_50k",
        "listing",
        "entries",
        _source(
            lambda r: (
                "<html><body>"
                + "".join(f'<div class="c"><a href="/x/{i % 20}">Qwen {i}</a></div>' for i in range(50_000))
                + "</body></html>"
            ),
            "text/html; charset=utf-8",
        ),
        "a listing of 50,000 cards",
    ),
    # --- issue 20: cookies, robots, addresses
    Case("cookie_flood", "page", STORED, _cookie_flood, "310 Set-Cookie of 4-5 KB, then a page for <= 8 KB of Cookie"),
    Case(
        "robots_5xx",
        "feed",
        "dropped/robots",
        _source(lambda r: rss([("Qwen robots", f"{r.web.base}/x/3", PUBLISHED)]), RSS),
        "a feed on a host whose robots.txt answers 500 (served on the second port)",
        robots_down=True,
    ),
    Case(
        "redirect_trailing_dot",
        "page",
        "dropped/refused_address",
        lambda r: r.redirect("http://127.0.0.2.:9/qwen"),
        "a redirect to a loopback literal with a trailing dot",
    ),
    # --- issue 20: text ------------------------------------------------------------------------
    Case(
        "json_as_html",
        "page",
        "dropped/not_html",
        _page(lambda: json.dumps({"title": "Qwen 新模型發布", "text": LEAD, "tags": ["Qwen"]}, ensure_ascii=False)),
        "JSON served as text/html",
    ),
    Case(
        "api_json_as_html",
        "json_api",
        "headline_only/not_html",
        lambda r: r.html(
            json.dumps({"title": "Qwen", "text": LEAD})
            if r.rest == "/item"
            else json.dumps({"hits": [{"url": f"{r.web.base}/src/api_json_as_html/item", "title": "Qwen 新模型 API"}]})
        ),
        "an API whose answer and item page are JSON served as text/html",
        fields={"items": "hits", "url": "url", "title": "title"},
    ),
    Case(
        "fullwidth_alias",
        "page",
        STORED,
        _page(lambda: article(title="阿里發布Ｑｗｅｎ新模型").replace("Qwen", "Ｑｗｅｎ").replace("通義千問", "阿里")),
        "the model named only as a fullwidth Ｑｗｅｎ",
    ),
    Case("figure_720", "page", STORED, _page(lambda: figure_page(720)), "a page that says 720億"),
    Case("figure_320", "page", STORED, _page(lambda: figure_page(320)), "the same page, saying 320億"),
    # --- issue 20: budgets, traps, URL variants
    Case(
        "url_variants", "feed", STORED, _url_variants, "one article listed under 300 URL variants", requests_at_most=21
    ),
    Case(
        "sitemap_cycle",
        "sitemap",
        "dropped/sitemap_repeat",
        _sitemap_cycle,
        "a sitemap index cycle A → B → A",
        requests_at_most=2,
    ),
    Case(
        "sitemap_nested",
        "sitemap",
        "dropped/sitemap_too_deep",
        _sitemap_nested,
        "a sitemap index nested 20 deep",
        requests_at_most=3,
    ),
    Case(
        "sitemap_session",
        "sitemap",
        "dropped/sitemap_repeat",
        _sitemap_session,
        "a sitemap index child with a new session id on every visit",
        requests_at_most=2,
    ),
    Case(
        "sitemap_calendar",
        "sitemap",
        "dropped/sitemap_too_deep",
        _sitemap_calendar,
        "an endless calendar of monthly sitemap indexes, each naming the month before and after",
        requests_at_most=4,
    ),
]
# Near-duplicates that state different figures: each is an article, neither a copy.
NEVER_COPIES = ("figure_720", "figure_320")
CASES_BY_NAME = {case.name: case for case in CASES}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, web: HostileWeb, robots_status: int = 200) -> None:
        self.web = web
        self.robots_status = robots_status
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        web = self.server.web
        path = urlsplit(self.path).path
        web.log(path)
        if path == "/robots.txt":
            status = self.server.robots_status
            Reply(self, "").send(b"User-agent: *\nAllow: /\n" if status == 200 else b"error", "text/plain", status)
            return
        prefix, _, rest = path.lstrip("/").partition("/")
        name, _, sub = rest.partition("/")
        case = CASES_BY_NAME.get(name)
        if prefix == "feed" and case is not None:
            Reply(self, "").send(rss([(f"Qwen hostile case {name}", f"{web.base}/page/{name}", PUBLISHED)]), RSS)
        elif prefix in ("page", "src") and case is not None:
            case.respond(Reply(self, f"/{sub}" if sub else ""))
        else:
            Reply(self, "").send(b"not found", "text/plain", 404)

    do_HEAD = do_GET


class HostileWeb:
    """The hostile web on two 127.0.0.1 ports. Use as a context manager."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.requests: list[str] = []
        self.visits = itertools.count()  # a new session id per visit (sitemap_session)
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._robots_down = _Server(self, robots_status=500)
        self._threads = [threading.Thread(target=server.serve_forever, name="hostileweb", daemon=True)
                         for server in (self._server, self._robots_down)]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def robots_down_base(self) -> str:
        """The second port: another host for robots.txt, whose robots.txt answers 500."""
        return f"http://127.0.0.1:{self._robots_down.server_address[1]}"

    def log(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def __enter__(self) -> HostileWeb:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for server in (self._server, self._robots_down):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()

    def sources(self) -> dict[str, Any]:
        """A digestcrawl sources file with one source per case."""
        entries = []
        for case in CASES:
            base = self.robots_down_base if case.robots_down else self.base
            url = f"{base}/feed/{case.name}" if case.kind == "page" else f"{base}{case.path}"
            entry: dict[str, Any] = {
                "name": case.name,
                "kind": "feed" if case.kind == "page" else case.kind,
                "category": "news",
                "url": url,
                "locale": "zh-TW",
            }
            if not case.follow:
                entry["follow"] = False
            if case.fields:
                entry["fields"] = case.fields
            if case.kind == "listing":
                entry["selectors"] = {"item": "div.c", "url": "a::attr(href)", "title": "a::text"}
            entries.append(entry)
        return {"sources": entries}

    def write_sources(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump(self.sources(), allow_unicode=True), encoding="utf-8")
        return path


def main() -> None:
    with HostileWeb() as web:
        print(yaml.safe_dump(web.sources(), allow_unicode=True), flush=True)
        print(f"Serving the hostile web at {web.base}/ ({len(CASES)} cases); Ctrl-C stops.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
