"""A large local news web, generated on demand and served on 127.0.0.1.

``generate(n)`` makes N article pages over six sites (zh-Hant ×2, zh-Hans, en ×2, ja), each on
its own port (so per-domain politeness and dedup across publishers behave as on the real web):
~70% on-topic originals, ~20% off-topic, ~10% syndicated near-duplicates of an original (a wire
copy on a sibling site: new page chrome, a dateline, one sentence dropped, one added; zh-Hans
stories reprinted in zh-Hant). Pages look like real news pages: navigation, JSON-LD, Open Graph
tags, related-story sidebar, comments, footer, inline script and style (~30–50 KB each).

Every site serves ``/`` (a front page with ``<link rel="alternate">`` to its feed, which
news-please's RSS crawler needs), ``/feed.xml`` (RSS 2.0), ``/sitemap-news.xml`` (a Google News
sitemap), ``/robots.txt`` and the article pages. The server is a threaded stdlib HTTP/1.1
server (keep-alive) answering from memory; it counts requests per kind so every tool's page
count comes from the same place, and ``capacity()`` measures its requests/s alone with a tight
concurrent client in another process, to show it is not the bottleneck.
"""

from __future__ import annotations

import html
import json
import random
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from benchmarks.textgen import BANKS, article

TAIPEI_OFFSET = timedelta(hours=8)
# Every generated article is published inside this window (Taipei days 2026-01-18 and -19).
WINDOW_START = datetime(2026, 1, 17, 16, 0, tzinfo=UTC)
WINDOW_HOURS = 47
SINCE = "2026-01-18T00:00:00+08:00"
UNTIL = "2026-01-20T00:00:00+08:00"


@dataclass(frozen=True)
class Site:
    name: str
    language: str  # a textgen bank: en, zh-Hant, zh-Hans, ja
    locale: str  # digestcrawl's source locale
    publisher: str
    html_lang: str
    kind: str = "feed"  # how digestcrawl reads it: feed or sitemap
    sibling: str = ""  # where its syndicated copies appear


SITES = (
    Site("twnews", "zh-Hant", "zh-TW", "台灣科技日報", "zh-Hant-TW", sibling="hkwire"),
    Site("hkwire", "zh-Hant", "zh-HK", "香港電訊", "zh-Hant-HK", sibling="twnews"),
    Site("cnnews", "zh-Hans", "zh-CN", "科技日报网", "zh-Hans-CN", kind="sitemap", sibling="hkwire"),
    Site("technews", "en", "en", "Tech Ledger", "en", sibling="wirenews"),
    Site("wirenews", "en", "en", "Global Wire", "en", sibling="technews"),
    Site("jpnews", "ja", "ja", "テック新報", "ja", sibling="jpnews"),
)
WEIGHTS = (0.22, 0.12, 0.2, 0.2, 0.1, 0.16)


@dataclass
class Page:
    id: int
    site: Site
    title: str
    paragraphs: list[str]
    published: datetime
    kind: str  # on | off | copy
    original: int | None = None
    body: bytes = b""

    @property
    def path(self) -> str:
        section = "wire" if self.kind == "copy" else "news"
        return f"/{section}/{self.published:%Y/%m/%d}/{self.id:06d}.html"


@dataclass
class LocalWeb:
    pages: list[Page]
    ports: dict[str, int] = field(default_factory=dict)
    files: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- serving ---------------------------------------------------------------------------

    def __enter__(self) -> LocalWeb:
        for site in SITES:
            server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(site.name))
            server.daemon_threads = True
            self.ports[site.name] = server.server_address[1]
            self._servers.append(server)
        self._render()
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()

    def base(self, site: str) -> str:
        return f"http://127.0.0.1:{self.ports[site]}"

    def url(self, page: Page) -> str:
        return self.base(page.site.name) + page.path

    def reset_counts(self) -> Counter[str]:
        with self._lock:
            counts = Counter(self.requests)
            self.requests.clear()
        return counts

    def _handler(self, site: str) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: crawlers reuse connections
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                found = web.files.get((site, path))
                kind = ("article" if path.endswith(".html") and path != "/index.html"
                        else "feed" if path.endswith(".xml") else "other")
                with web._lock:
                    web.requests[kind if found else "missing"] += 1
                body, ctype = found or (b"not found", "text/plain")
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    # --- content ---------------------------------------------------------------------------

    def _render(self) -> None:
        by_site: dict[str, list[Page]] = {site.name: [] for site in SITES}
        for page in self.pages:
            by_site[page.site.name].append(page)
        rng = random.Random(5)
        for page in self.pages:
            related = rng.sample(by_site[page.site.name], min(20, len(by_site[page.site.name])))
            page.body = render_page(page, self.url(page), self.base(page.site.name), related).encode("utf-8")
            self.files[(page.site.name, page.path)] = (page.body, "text/html; charset=utf-8")
        for site in SITES:
            base, pages = self.base(site.name), by_site[site.name]
            newest = sorted(pages, key=lambda p: p.published, reverse=True)
            self.files[(site.name, "/")] = (render_front(site, base, newest[:30]).encode(), "text/html; charset=utf-8")
            self.files[(site.name, "/feed.xml")] = (render_rss(site, base, newest).encode(),
                                                    "application/rss+xml; charset=utf-8")
            self.files[(site.name, "/sitemap-news.xml")] = (render_sitemap(site, base, newest).encode(),
                                                            "application/xml; charset=utf-8")
            robots = f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap-news.xml\n"
            self.files[(site.name, "/robots.txt")] = (robots.encode(), "text/plain")

    def feed_urls(self) -> list[str]:
        return [f"{self.base(site.name)}/feed.xml" for site in SITES]

    def article_urls(self) -> list[str]:
        return [self.url(page) for page in self.pages]

    def write_sources(self, path: Path) -> Path:
        """A digestcrawl sources.yaml: one news source per site (its feed, or its news sitemap)."""
        lines = ["sources:"]
        for site in SITES:
            url = f"{self.base(site.name)}/{'sitemap-news.xml' if site.kind == 'sitemap' else 'feed.xml'}"
            lines += [f"  - name: {site.name}", f"    publisher: \"{site.publisher}\"", f"    kind: {site.kind}",
                      "    category: news", f"    url: \"{url}\"", f"    locale: {site.locale}"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def summary(self) -> dict[str, int]:
        kinds = Counter(page.kind for page in self.pages)
        return {"pages": len(self.pages), "on_topic": kinds["on"], "off_topic": kinds["off"],
                "syndicated_copies": kinds["copy"], "sites": len(SITES),
                "mean_page_kb": round(sum(len(p.body) for p in self.pages) / max(1, len(self.pages)) / 1024)}


def generate(n: int, seed: int = 42) -> LocalWeb:
    """N article pages: ~10% syndicated copies, ~20% off-topic, the rest on-topic originals."""
    rng = random.Random(seed)
    pages: list[Page] = []
    originals: list[Page] = []
    for i in range(n):
        roll = rng.random()
        published = WINDOW_START + timedelta(minutes=rng.randrange(WINDOW_HOURS * 60))
        if roll < 0.10 and originals:
            source = rng.choice(originals)
            pages.append(syndicate(source, i, rng, published))
            continue
        site = rng.choices(SITES, WEIGHTS)[0]
        on_topic = roll >= 0.30
        title, paragraphs = article(rng, site.language, on_topic)
        page = Page(i, site, title, paragraphs, published, "on" if on_topic else "off")
        pages.append(page)
        if on_topic:
            originals.append(page)
    return LocalWeb(pages)


def syndicate(source: Page, page_id: int, rng: random.Random, published: datetime) -> Page:
    """A wire copy: same story on the sibling site, lightly edited."""
    site = next(s for s in SITES if s.name == source.site.sibling)
    paragraphs = list(source.paragraphs)
    title = source.title
    if source.site.language == "zh-Hans" and site.language == "zh-Hant":
        import opencc  # a digestcrawl dependency

        convert = opencc.OpenCC("s2t").convert
        paragraphs, title = [convert(p) for p in paragraphs], convert(title)
    bank = BANKS[source.site.language]
    dateline = {"en": "(Global Wire) - ", "ja": "【共同】", "zh-Hans": "【中央社】", "zh-Hant": "【中央社】"}
    paragraphs[0] = dateline[source.site.language] + paragraphs[0]
    if len(paragraphs) > 4:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    closing = {"en": "This story was syndicated from a partner publication.",
               "zh-Hant": "本文經授權轉載。", "zh-Hans": "本文经授权转载。", "ja": "この記事は提携先から転載しました。"}
    paragraphs.append(closing[source.site.language] + bank.joiner)
    return Page(page_id, site, title, paragraphs, max(published, source.published), "copy", original=source.id)


# --- templates ------------------------------------------------------------------------------

NAV = ("Home", "World", "Business", "Technology", "AI", "Markets", "Science", "Health", "Opinion", "Video",
       "Podcasts", "Sports", "Culture", "Travel", "Weather", "Newsletters")
SCRIPT = ("window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
          "gtag('js',new Date());gtag('config','G-XXXX');" * 40)
STYLE = ("body{font-family:system-ui,sans-serif;margin:0}.nav a{padding:4px 8px}.sidebar{width:300px}"
         ".article p{line-height:1.7}.footer{background:#222;color:#eee}" * 10)


def _iso(moment: datetime) -> str:
    return (moment + TAIPEI_OFFSET).replace(tzinfo=None).isoformat() + "+08:00"


def render_page(page: Page, url: str, base: str, related: list[Page]) -> str:
    e = html.escape
    site = page.site
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": page.title,
          "datePublished": _iso(page.published), "dateModified": _iso(page.published + timedelta(minutes=20)),
          "author": {"@type": "Person", "name": f"{site.publisher} staff"},
          "publisher": {"@type": "Organization", "name": site.publisher}, "mainEntityOfPage": url}
    nav = "".join(f'<li><a href="{base}/section/{i}">{e(label)}</a></li>' for i, label in enumerate(NAV * 3))
    side = "".join(f'<li><a href="{base}{r.path}">{e(r.title)}</a></li>' for r in related)
    body = "".join(f"<p>{e(p)}</p>" for p in page.paragraphs)
    grid = "".join(
        f'<div class="card"><a href="{base}{r.path}"><img src="{base}/img/{r.id}.jpg" alt="" loading="lazy">'
        f'<h3>{e(r.title)}</h3></a><p class="teaser">{e(r.paragraphs[0][:160])}</p>'
        f'<span class="time">{_iso(r.published)[:16]}</span></div>' for r in related)
    comments = "".join(
        f'<div class="comment"><span class="user">reader{n}</span><p>{e(related[n % len(related)].title)}'
        f" — interesting, thanks for the report.</p></div>" for n in range(4)) if related else ""
    footer = "".join(f'<a href="{base}/about/{i}">{e(label)} {i}</a> ' for i, label in enumerate(NAV * 2))
    return f"""<!DOCTYPE html>
<html lang="{site.html_lang}"><head><meta charset="utf-8">
<title>{e(page.title)} | {e(site.publisher)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{e(page.paragraphs[0][:150])}">
<meta property="og:title" content="{e(page.title)}"><meta property="og:type" content="article">
<meta property="og:url" content="{url}"><meta property="og:site_name" content="{e(site.publisher)}">
<meta property="article:published_time" content="{_iso(page.published)}">
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" title="{e(site.publisher)}" href="{base}/feed.xml">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
<style>{STYLE}</style><script>{SCRIPT}</script>
</head><body>
<header class="masthead"><a class="logo" href="{base}/">{e(site.publisher)}</a>
<nav class="nav"><ul>{nav}</ul></nav><form class="search"><input name="q"><button>Search</button></form></header>
<div class="ad-slot" id="ad-top">Advertisement</div>
<main><article class="article">
<h1>{e(page.title)}</h1>
<div class="byline">{e(site.publisher)} staff ·
<time datetime="{_iso(page.published)}">{_iso(page.published)[:16]}</time></div>
<div class="share"><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">Copy link</a></div>
<div class="article-body">{body}</div>
<div class="tags"><a href="{base}/tag/ai">AI</a> <a href="{base}/tag/tech">Tech</a></div>
</article>
<section class="comments"><h2>Comments</h2>{comments}</section></main>
<aside class="sidebar"><h2>Related</h2><ul>{side}</ul><div class="ad-slot">Advertisement</div></aside>
<section class="more-stories"><h2>More stories</h2>{grid}</section>
<footer class="footer">{footer}<p>© 2026 {e(site.publisher)}. All rights reserved.</p></footer>
<script>{SCRIPT}</script>
</body></html>"""


def render_front(site: Site, base: str, pages: list[Page]) -> str:
    e = html.escape
    items = "".join(f'<li><a href="{base}{p.path}">{e(p.title)}</a></li>' for p in pages)
    return (f'<!DOCTYPE html><html lang="{site.html_lang}"><head><meta charset="utf-8"><title>{e(site.publisher)}'
            f'</title><link rel="alternate" type="application/rss+xml" title="{e(site.publisher)}" '
            f'href="{base}/feed.xml"></head><body><h1>{e(site.publisher)}</h1><ul>{items}</ul></body></html>')


def render_rss(site: Site, base: str, pages: list[Page]) -> str:
    e = html.escape
    items = "".join(
        f"<item><title>{e(p.title)}</title><link>{base}{p.path}</link><guid>{base}{p.path}</guid>"
        f"<pubDate>{format_datetime(p.published)}</pubDate><description>{e(p.paragraphs[0][:200])}</description>"
        "</item>" for p in pages)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{e(site.publisher)}</title>'
            f"<link>{base}/</link><description>{e(site.publisher)}</description>{items}</channel></rss>")


def render_sitemap(site: Site, base: str, pages: list[Page]) -> str:
    e = html.escape
    urls = "".join(
        f"<url><loc>{base}{p.path}</loc><news:news><news:publication><news:name>{e(site.publisher)}</news:name>"
        f"<news:language>{site.html_lang[:2]}</news:language></news:publication>"
        f"<news:publication_date>{_iso(p.published)}</news:publication_date><news:title>{e(p.title)}</news:title>"
        "</news:news></url>" for p in pages)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')


# --- the server's own capacity --------------------------------------------------------------

CLIENT = r"""
import http.client, sys, threading, time
host, port, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(',')
seconds, threads = float(sys.argv[4]), int(sys.argv[5])
done = [0] * threads
def loop(k):
    conn = http.client.HTTPConnection(host, port)
    end = time.perf_counter() + seconds
    i = k
    while time.perf_counter() < end:
        conn.request('GET', paths[i % len(paths)]); conn.getresponse().read(); i += 1; done[k] += 1
start = time.perf_counter()
workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
[w.start() for w in workers]; [w.join() for w in workers]
print(sum(done) / (time.perf_counter() - start))
"""


def capacity(web: LocalWeb, seconds: float = 3.0, clients: int = 2, threads: int = 4) -> float:
    """Requests/s the server answers alone (article pages, keep-alive), driven by ``clients``
    client processes of ``threads`` connections each. A lower bound: the clients may saturate first."""
    site = SITES[0].name
    paths = ",".join(p.path for p in web.pages if p.site.name == site)[:200_000].rsplit(",", 1)[0]
    web.reset_counts()
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, "127.0.0.1", str(web.ports[site]), paths,
                               str(seconds), str(threads)], stdout=subprocess.PIPE, text=True)
             for _ in range(clients)]
    rates = [float(proc.communicate()[0].strip() or 0) for proc in procs]
    web.reset_counts()
    return round(sum(rates), 1)
