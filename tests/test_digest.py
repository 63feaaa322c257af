"""The digest from a real crawl of the fixture web: `scrapy crawl` ×3, then `scrapy digest`."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.project import get_project_settings
from sqlalchemy import select

from digestcrawl.config import load_entities
from digestcrawl.digest import DigestBuilder, DigestOutcome
from digestcrawl.digest.group import group_stories
from digestcrawl.digest.model import DayFigures, DigestContent, DigestInput, Story, StorySummary
from digestcrawl.digest.publish import RenderOptions, render_post
from digestcrawl.digest.read import DigestRepository
from digestcrawl.digest.read.sanitize import TITLE_MAX
from digestcrawl.digest.read.titles import SITE_WORDS, segments
from digestcrawl.digest.summarize import ExtractiveSummarizer
from digestcrawl.items import Article, RepoStats
from digestcrawl.store.articles import ArticleStore
from digestcrawl.store.engine import make_engine
from digestcrawl.store.models import ArticleRow, DigestRow, StoryArticleRow, StoryRow
from digestcrawl.text.entities import EntityFinder
from digestcrawl.text.tokens import split_sentences
from spiders.news import NewsSpider
from tests.conftest import FIXTURE_WINDOW, ROOT, run_crawl, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.llmserver import LLMServer, Reply, edited, merge_answer

DAY = date(2026, 1, 19)
EXPECTED = yaml.safe_load((Path(__file__).parent / "fixtureweb" / "expected.yaml").read_text("utf-8"))


@dataclass
class Crawled:
    web: FixtureWeb
    workdir: Path
    database_url: str
    site_dir: Path
    settings: list[str]

    def scrapy(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "scrapy", *args, *self.settings]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def crawled(fixture_web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    workdir = tmp_path_factory.mktemp("digest")
    fixture_web.reset()
    sources = fixture_web.write_sources(workdir / "sources.yaml")
    database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
    settings = []
    for name, value in {"STORE_URL": database_url, "DIGESTCRAWL_SOURCES_FILE": str(sources),
                        "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_SITE_DIR": str(workdir / "site"),
                        "REPORT_DIR": str(workdir / "reports"), "STORE_SPOOL_DIR": str(workdir / "spool"),
                        "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0",
                        "LOG_FILE": str(workdir / "scrapy.log")}.items():
        settings += ["-s", f"{name}={value}"]
    run = Crawled(fixture_web, workdir, database_url, workdir / "site", settings)
    for spider in ("news", "social", "finance"):
        window = [arg for key, value in FIXTURE_WINDOW.items() for arg in ("-a", f"{key}={value}")]
        result = run.scrapy("crawl", spider, "-a", "model=qwen", *window, "-O", str(workdir / f"{spider}.jsonl"))
        assert result.returncode == 0, result.stderr[-3000:]
    yield run


def test_scrapy_list_and_feed_exports(crawled: Crawled) -> None:
    listed = crawled.scrapy("list")
    assert listed.stdout.split() == ["finance", "news", "releases", "social"]
    items = [json.loads(line) for line in (crawled.workdir / "news.jsonl").read_text("utf-8").splitlines()]
    assert items and all(item["models"]["qwen"] for item in items)
    assert all("minhash" not in item for item in items)
    assert all(item["published"] is None or item["published"][-6] in "+-" for item in items)


def test_crawls_close_with_one_post_and_infographic(crawled: Crawled) -> None:
    post = crawled.site_dir / "_posts" / "2026-01-19-qwen-daily.md"
    image = crawled.site_dir / "assets" / "img" / "posts" / "2026-01-19-qwen-infographic.png"
    assert post.is_file() and image.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in (crawled.site_dir / "_posts").iterdir()) == [post.name]
    front, body = post.read_text("utf-8").split("---\n", 2)[1:]
    meta = yaml.safe_load(front)
    assert meta["title"] == "QWEN 每日動態 - 2026-01-19" and meta["model"] == "qwen"
    assert meta["image"] == "/assets/img/posts/2026-01-19-qwen-infographic.png"
    assert meta["generator"] == "extractive"
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert headings == ["## 本週模型趨勢", "## 📰 本週新聞焦點", "## 🔍 深度分析", "## 📌 重點摘要",
                        "## 💡 延伸思考", "## 🔗 資料來源"]
    # One count of the day's articles and sources: the trend's, the summary's, the tagline's and
    # the footer's; the trend's categories add up to it.
    articles, categories = re.search(r"今日 QWEN 相關報導 (\d+) 則（([^）]*)）", body).groups()  # type: ignore[union-attr]
    assert int(articles) == sum(int(n) for n in re.findall(r"\d+", categories))
    sources = re.search(r"來自 (\d+) 個來源", meta["ai_summary"])[1]  # type: ignore[index]
    assert f"彙整 {articles} 則" in meta["tagline"]
    assert f"從 {articles} 則報導（{sources} 個來源）" in body.rstrip().splitlines()[-1]
    assert "QWEN IS DISCONTINUED" not in post.read_text("utf-8")  # the injected sentence
    # The 千問 App story continues the English and Japanese reports of earlier days.
    lead_story = body.split("## 📰 本週新聞焦點")[1].split("\n- ")[1].splitlines()[0]
    assert "千問" in lead_story and "事件的後續" in lead_story


def test_digest_is_traceable_and_regenerates_idempotently(crawled: Crawled) -> None:
    post = crawled.site_dir / "_posts" / "2026-01-19-qwen-daily.md"
    before = post.read_bytes()
    result = crawled.scrapy("digest", "--model", "qwen", "--date", "2026-01-19")
    assert result.returncode == 0, result.stderr[-2000:]
    assert post.read_bytes() == before
    engine = make_engine(crawled.database_url)
    with engine.connect() as conn:
        digests = conn.execute(select(DigestRow.model, DigestRow.day)).all()
        stories = conn.execute(select(StoryRow.id).where(StoryRow.day == DAY)).scalars().all()
        cited = conn.execute(select(StoryArticleRow.article_id).where(StoryArticleRow.cited)).scalars().all()
    engine.dispose()
    assert digests == [("qwen", DAY)]
    assert stories and cited


def test_day_without_relevant_items_writes_no_post(crawled: Crawled) -> None:
    result = crawled.scrapy("digest", "--model", "qwen", "--date", "2026-02-02")
    assert result.returncode == 0
    assert "no relevant items, no post written" in result.stdout
    assert not (crawled.site_dir / "_posts" / "2026-02-02-qwen-daily.md").exists()


@pytest.mark.parametrize("bad", [["--model", "qwen", "--date", "19/01/2026"],
                                 ["--model", "gpt9", "--date", "2026-01-19"]])
def test_digest_command_rejects_bad_arguments(crawled: Crawled, bad: list[str]) -> None:
    result = crawled.scrapy("digest", *bad)
    assert result.returncode != 0 and ("--date" in result.stderr or "--model" in result.stderr)


def test_story_grouping_follows_the_fixture_truth(crawled: Crawled) -> None:
    """The whole crawled week grouped at once: each event's coverage across sites, scripts and
    languages is one story; different events are different stories."""
    engine = make_engine(crawled.database_url)
    repository = DigestRepository(engine, ZoneInfo("Asia/Taipei"))
    week = [a for n in range(8) for a in repository.articles("qwen", date(2026, 1, 12 + n))]
    stories = group_stories(week, EntityFinder(load_entities()))
    engine.dispose()
    story_of = {a.url: s.key for s in stories for a in s.articles}
    keys = []
    for group in EXPECTED["stories"]:
        urls = [_url(crawled.web, member) for member in group["members"]]
        assert not set(urls) - set(story_of), f"{group['name']}: not stored"
        assert len({story_of[u] for u in urls}) == 1, f"{group['name']} is split: {[story_of[u] for u in urls]}"
        keys.append(story_of[urls[0]])
        english = [_url(crawled.web, member) for member in group.get("english", [])]
        if english:  # see expected.yaml: one story of their own, never lost
            assert len({story_of[u] for u in english}) == 1, f"{group['name']}: English coverage is split"
            keys.append(story_of[english[0]])
    assert len(set(keys)) == len(keys), "unrelated stories merged"
    assert sorted(a.id for s in stories for a in s.articles) == sorted(a.id for a in week), "an article lost"


def _url(web: FixtureWeb, member: str) -> str:
    if "://" in member:
        return member.removesuffix("?oc=5")
    return web.url(*member.split("/", 1))


def _day_stories(crawled: Crawled) -> tuple[list, DigestRepository]:  # type: ignore[type-arg]
    engine = make_engine(crawled.database_url)
    repository = DigestRepository(engine, ZoneInfo("Asia/Taipei"))
    return group_stories(repository.articles("qwen", DAY), EntityFinder(load_entities())), repository


def _offline_summary(crawled: Crawled) -> tuple[DigestInput, Any]:
    """The fixture day's top five stories, summarized offline: the input and the result."""
    from digestcrawl.config import load_models

    stories, repository = _day_stories(crawled)
    models = load_models()
    articles = [a for s in stories for a in s.articles]
    digest = DigestInput(model_key="qwen", model=models["qwen"], day=DAY, language="zh-TW", stories=stories[:5],
                         figures=repository.figures("qwen", DAY, articles, models["qwen"].tickers, ["llama"]))
    repository.engine.dispose()
    return digest, ExtractiveSummarizer(EntityFinder(load_entities())).summarize(digest)


def test_extractive_summary_is_verbatim_from_cited_articles(crawled: Crawled) -> None:
    digest, result = _offline_summary(crawled)
    assert 4 <= len(result.content.key_points) <= 8
    for summary in result.content.stories:
        cited = [digest.article(i) for i in summary.cited]
        assert all(cited)
        # A story of one headline-only post (Qwen3-Max's leaderboard, no longer merged into the
        # Qwen3-Coder story on the word "Qwen3" alone) is summarised by its headline: verbatim too.
        for sentence in split_sentences(summary.paragraph):
            assert any(sentence in f"{a.title}\n{a.text or a.snippet}" for a in cited if a), sentence


def test_llm_digest_through_the_command_and_its_cache(crawled: Crawled) -> None:
    """`scrapy digest` with an API key writes an LLM digest through the real openai client;
    an unchanged re-run is answered from the database cache with no HTTP call."""
    from tests.llmserver import LLMServer

    with LLMServer() as server:
        llm = ["-s", f"LLM_BASE_URL={server.base_url}", "-s", "LLM_API_KEY=test-key", "-s", "LLM_MODEL=local-test"]
        first = crawled.scrapy("digest", "--model", "qwen", "--date", "2026-01-19", *llm)
        assert first.returncode == 0, first.stderr[-2000:]
        calls = server.calls
        assert 1 <= calls <= 5 + 2  # at most stories + 2
        post = (crawled.site_dir / "_posts" / "2026-01-19-qwen-daily.md").read_text("utf-8")
        assert "generator: llm:local-test" in post
        again = crawled.scrapy("digest", "--model", "qwen", "--date", "2026-01-19", *llm)
        assert again.returncode == 0 and server.calls == calls


# --- Readability: the whole offline post, as a reader sees it ---------------------------------

JUNK_WORDS = re.compile(r"copyright|all rights reserved|版權所有|版权所有|©|首頁 |首页 |當前位置|当前位置|您的位置|"
                        r"發表評論|发表评论|我來說兩句|我来说两句|分享到|回到頂端|返回顶部", re.IGNORECASE)


def assert_readable(post: str, digest: DigestInput, stories: list[Any]) -> None:
    """No table residue, copyright or navigation line anywhere in the post; no site suffix in
    a title; every highlight's sentences are in the main text of one of the sources it cites."""
    _, body = post.removeprefix("---\n").split("\n---\n", 1)
    for line in body.splitlines():
        assert "|" not in line, f"table residue: {line[:120]}"
        assert not JUNK_WORDS.search(line), f"page junk: {line[:120]}"
    outlets = {o for story in digest.stories for o in story.outlets}
    for summary in stories:
        parts = segments(summary.title.split("（")[0])
        assert len(parts) == 1 or not (SITE_WORDS.search(parts[-1]) or parts[-1] in outlets), summary.title
        cited = [digest.article(i) for i in summary.cited]
        # A headline-only source (a feed entry, a post) is summarised by its headline; a copy
        # reads as its original's text (the repository fills it in).
        texts = [f"{a.title}\n{a.text}" for a in cited if a]
        for sentence in split_sentences(summary.paragraph):
            assert any(sentence in text for text in texts), (summary.story_key, sentence)


def test_offline_post_of_the_fixture_web_is_readable(crawled: Crawled) -> None:
    digest, result = _offline_summary(crawled)
    assert_readable(render_post(digest, result, RenderOptions()), digest, result.content.stories)
    post = (crawled.site_dir / "_posts" / "2026-01-19-qwen-daily.md").read_text("utf-8")
    assert "對開發者：可追蹤" not in post and "的後續技術細節與官方說明" not in post  # no template filler


# ../shared beside the repository (as benchmarks/quality.py has it), or beside /work/main.
ZH_WEB = next((base / "shared" / "data" / "zh-web-extraction-dev" / "original"
               for base in (ROOT.parent, ROOT.parent.parent)
               if (base / "shared" / "data" / "zh-web-extraction-dev" / "original").is_dir()), ROOT / "missing")


# --- The post checker on the posts the pipeline writes (issue 22) ------------------------------
# Items 2, 4, 5 and 6 (Taiwan usage, attribution, clean text, dated sources) are held here: no
# finding of their classes. The other classes (foreign sentences, repeats, counts, the AI label)
# are the post composition's (items 1, 3 and 7): until it is merged they are found, and the
# strict xfail below says so; when it passes, drop the marker.

HELD = {"label", "conversion", "simplified", "undated", "out_of_window"}
COMPOSITION = ("issue 22 items 1, 3 and 7 (one language, each fact once, one set of numbers, honest labels) "
               "belong to the post composition: its foreign, repeated, counts and ai_label findings remain")


def checked(post: Path, database_url: str, sources_file: str | None = None) -> list[Any]:
    """The checker's findings on a written post, with the store's dates and the sources' names."""
    from digestcrawl.config import load_sources
    from digestcrawl.digest.publish import check_post

    sources, _ = load_sources(sources_file)
    engine = make_engine(database_url)

    def dates(urls: list[str]) -> dict[str, datetime | None]:
        with engine.connect() as conn:
            rows = conn.execute(select(ArticleRow.url, ArticleRow.published_at).where(ArticleRow.url.in_(urls)))
            return {url: published.replace(tzinfo=UTC) if published else None for url, published in rows}

    try:
        return check_post(post.read_text("utf-8"), source_names={s.name for s in sources},
                          entities=load_entities(), dates=dates)
    finally:
        engine.dispose()


@pytest.mark.skipif(not ZH_WEB.is_dir(), reason="no shared zh-web-extraction-dev data")
def test_offline_post_of_real_table_layout_pages_is_readable() -> None:
    """The 23 real pages of zh-web-extraction-dev (table layouts, portals, forums), extracted as a
    crawl extracts them and cleaned as the repository cleans a day, one story each: the post has
    none of their junk (41 of 69 such texts started with `| |` before the cleaner)."""
    from digestcrawl.config import load_models
    from digestcrawl.digest.model import StoryArticle
    from digestcrawl.digest.read import clean_day
    from digestcrawl.text.encoding import decode_html
    from digestcrawl.text.extraction import extract_page

    zone = ZoneInfo("Asia/Taipei")
    raw = []
    for n, page in enumerate(sorted(ZH_WEB.glob("*.html")), start=1):
        html, _ = decode_html(page.read_bytes())
        extracted = extract_page(html, f"https://site{n % 7}.example/{page.stem}", zone)
        assert extracted is not None
        raw.append(StoryArticle(id=n, url=f"https://site{n % 7}.example/{page.stem}", title=extracted.title,
                                text=extracted.text, snippet="", source="web", category="news",
                                publisher=extracted.site_name or "", language="zh-Hans",
                                published=datetime(2026, 1, 19, 9, tzinfo=zone), score=1,
                                site_name=extracted.site_name or ""))
    # The junk is there to remove (fewer since extraction gives layout tables up for their article,
    # and, issue 24, rows of links for readability's reading of the page).
    assert sum(a.text.lstrip().startswith("|") for a in raw) >= 1
    articles = clean_day(raw)
    stories = [Story(f"s{a.id}", [a]) for a in articles]
    figures = DayFigures(mentions_by_category={"news": len(articles)}, trend={DAY: len(articles)},
                         co_mentioned={}, tickers=(), finance_titles=())
    digest = DigestInput(model_key="qwen", model=load_models()["qwen"], day=DAY, language="zh-TW",
                         stories=stories, figures=figures)
    result = ExtractiveSummarizer(EntityFinder(load_entities())).summarize(digest)
    assert_readable(render_post(digest, result, RenderOptions(max_stories=len(stories))), digest,
                    result.content.stories)
    post = render_post(digest, result, RenderOptions(max_stories=len(stories)))
    for junk_title in ("_新浪网", "-搜狐财经", "_商业频道", "_央广网", "_商業頻道", "_新浪網"):
        assert junk_title not in post
    # The site name a title carried names its outlet instead (the pages give no og:site_name).
    assert "[央廣網](https://site2.example/" in post
    assert "資訊" in post or "網路" in post  # mainland vocabulary converted at phrase level


class _PagesAsFeed:
    """The shared real pages on 127.0.0.1, as they come (no charset header), with an RSS feed of
    them dated on the digest day."""

    def __init__(self, folder: Path) -> None:
        pages = sorted(p.name for p in folder.glob("*.html"))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                port = self.server.server_address[1]
                if self.path == "/feed.xml":
                    items = "".join(f"<item><title>page {n}</title><link>http://127.0.0.1:{port}/p/{name}</link>"
                                    "<pubDate>Mon, 19 Jan 2026 02:00:00 GMT</pubDate></item>"
                                    for n, name in enumerate(pages))
                    body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
                    kind = "application/rss+xml"
                elif self.path.startswith("/p/") and self.path[3:] in pages:
                    body, kind = (folder / self.path[3:]).read_bytes(), "text/html"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class RealPagesPost:
    post: Path
    database_url: str
    sources_file: str
    models_file: str


@pytest.fixture(scope="module")
def real_pages_post(tmp_path_factory: pytest.TempPathFactory) -> RealPagesPost:
    """`scrapy crawl` of the real pages through a feed, for a model named by words they use,
    and the digest it writes on close."""
    if not ZH_WEB.is_dir():
        pytest.skip("no shared zh-web-extraction-dev data")
    tmp_path = tmp_path_factory.mktemp("real-pages")
    (tmp_path / "models.yaml").write_text(
        "models:\n  zhweb:\n    display: ZHWEB\n    aliases:\n      zh-Hans: [中国, 记者, 政府]\n"
        "      zh-Hant: [中國, 記者, 政府]\n", "utf-8")
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with _PagesAsFeed(ZH_WEB) as feed:
        # A configured publisher, as sources.yaml gives one: the pages' own names come first.
        (tmp_path / "sources.yaml").write_text(
            f"sources:\n  - name: zhweb\n    publisher: 中文網頁集\n    kind: feed\n    category: news\n"
            f"    url: \"{feed}\"\n    locale: zh-TW\n", "utf-8")
        settings = {"STORE_URL": database_url, "DIGESTCRAWL_SOURCES_FILE": str(tmp_path / "sources.yaml"),
                    "DIGESTCRAWL_MODELS_FILE": str(tmp_path / "models.yaml"), "NETGUARD_ALLOW": "127.0.0.1",
                    "DIGEST_SITE_DIR": str(tmp_path / "site"), "REPORT_DIR": str(tmp_path / "reports"),
                    "STORE_SPOOL_DIR": str(tmp_path / "spool"), "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0"}
        result = subprocess.run(scrapy_command("crawl", "news", "-a", "model=zhweb", "-a", "source=zhweb",
                                               "-a", "since=2026-01-19", "-a", "until=2026-01-20",
                                               settings=settings),
                                cwd=ROOT, capture_output=True, text=True, timeout=300,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    return RealPagesPost(tmp_path / "site" / "_posts" / "2026-01-19-zhweb-daily.md", database_url,
                         str(tmp_path / "sources.yaml"), str(tmp_path / "models.yaml"))


def test_crawl_of_real_pages_served_as_a_feed_makes_a_readable_post(real_pages_post: RealPagesPost) -> None:
    post = real_pages_post.post.read_text("utf-8")
    engine = make_engine(real_pages_post.database_url)
    try:
        with engine.connect() as conn:
            content = conn.execute(select(DigestRow.content)).scalar_one()
        articles = DigestRepository(engine, ZoneInfo("Asia/Taipei")).articles("zhweb", DAY)
    finally:
        engine.dispose()
    assert len(articles) >= 10
    summaries = DigestContent.model_validate(content).stories
    stories = [Story(s.story_key, [a for a in articles if a.id in s.cited]) for s in summaries]
    from digestcrawl.config import load_models

    digest = DigestInput(model_key="zhweb", model=load_models(real_pages_post.models_file)["zhweb"], day=DAY,
                         language="zh-TW", stories=stories,
                         figures=DayFigures(mentions_by_category={}, trend={}, co_mentioned={}, tickers=(),
                                            finance_titles=()))
    assert_readable(post, digest, summaries)


def test_real_pages_post_holds_the_checkers_classes_of_text_names_and_dates(real_pages_post: RealPagesPost) -> None:
    """Pages of 2004–2021 brought by a feed dated on the day: dated by their entries, named by
    their titles' site names or the configured publisher, never 127.0.0.1."""
    found = checked(real_pages_post.post, real_pages_post.database_url, real_pages_post.sources_file)
    assert [f.format("dev-pages") for f in found if f.kind in HELD] == []
    assert "127.0.0.1](" not in real_pages_post.post.read_text("utf-8").replace("](http://127.0.0.1", "")


def test_real_pages_post_has_no_finding_at_all(real_pages_post: RealPagesPost) -> None:
    found = checked(real_pages_post.post, real_pages_post.database_url, real_pages_post.sources_file)
    assert [f.format("dev-pages") for f in found] == []


# --- Digests that must not be lost: hostile pages, LLM faults, failed writes, races ---------
# A small database of hand-made articles (no crawl), the real DigestBuilder, SQLite or the
# private PostgreSQL cluster.

QWEN_TEXT = ("阿里巴巴旗下AI助手千問宣布，自1月15日起全面接入淘寶、支付寶、飛豬與高德地圖。"
             "千問App月活躍用戶已突破1億。春節後將開放第三方服務入駐。")
POST_NAME = "2026-01-19-qwen-daily.md"
IMAGE_NAME = "2026-01-19-qwen-infographic.png"


def stored_article(n: int, title: str, text: str = QWEN_TEXT, source: str = "udn") -> Article:
    return Article(url=f"https://news.example/{n}", source=source, category="news", title=title, text=text,
                   language="zh-Hant", published=datetime(2026, 1, 19, 2, tzinfo=UTC),
                   models={"qwen": ["千問"]}, score={"qwen": 5})


def store(url: str, articles: list[Article]) -> None:
    articles_store = ArticleStore.connect(url)
    try:
        articles_store.save_many(articles)  # a new source's row is made on the way
    finally:
        articles_store.close()


def digest_settings(url: str, site: Path, **extra: object) -> Settings:
    settings = get_project_settings()
    settings.setdict({"STORE_URL": url, "DIGEST_SITE_DIR": str(site), "DIGEST_SUMMARIZER": "extractive",
                      **extra}, priority="cmdline")
    return settings


def builder_for(url: str, site: Path, **extra: object) -> DigestBuilder:
    return DigestBuilder.from_settings(digest_settings(url, site, **extra))


def build_once(url: str, site: Path, **extra: object) -> DigestOutcome:
    builder = builder_for(url, site, **extra)
    try:
        return builder.try_build("qwen", DAY)
    finally:
        builder.close()


def read_post(path: Path) -> tuple[dict[str, Any], str]:
    head, body = path.read_text("utf-8").removeprefix("---\n").split("\n---\n", 1)
    front = yaml.safe_load(head)
    assert isinstance(front, dict)
    return front, body


def digest_rows(url: str) -> tuple[list[Any], list[tuple[str, str]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            digests = conn.execute(select(DigestRow.model, DigestRow.day, DigestRow.written_at,
                                          DigestRow.generator)).all()
            stories = conn.execute(select(StoryRow.key, StoryRow.title).where(StoryRow.day == DAY)
                                   .order_by(StoryRow.position)).all()
    finally:
        engine.dispose()
    return digests, [(key, title) for key, title in stories]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'digest.sqlite3'}"


HOSTILE_PAGES = [
    stored_article(1, ""),
    stored_article(2, "千問" + "長" * 50_000),
    stored_article(3, "word " * 200_000, "y" * 1_000_000),
    stored_article(4, "\u202e\x00\x07{{ site.title }} {% include x %}\n---\ntitle: pwned\n---", QWEN_TEXT + "\x00"),
    stored_article(5, '"\': [ { & * ! | > % @ `', ""),
    stored_article(6, "", "", source="blog"),
]


def test_hostile_pages_make_a_sane_digest(sqlite_url: str, tmp_path: Path) -> None:
    store(sqlite_url, HOSTILE_PAGES)
    outcome = build_once(sqlite_url, tmp_path / "site")
    assert outcome.failed is None and outcome.post is not None, outcome.describe()
    front, body = read_post(outcome.post)
    assert front["title"] == "QWEN 每日動態 - 2026-01-19"
    assert (tmp_path / "site" / "assets" / "img" / "posts" / IMAGE_NAME).read_bytes().startswith(b"\x89PNG")
    # The only Liquid is the skeleton's story links, on our keys and dates; data stays text.
    ours = re.compile(r'\{% include (?:storyline_link\.html|follow_up\.html post="_posts/[0-9a-z-]+\.md") '
                      r'story="[0-9a-f]{12}"(?: text="[^"{}%]*")? %\}')
    assert ours.search(body)
    liquid = ours.sub("", body)
    assert "{{" not in liquid and "{%" not in liquid and "\u202e" not in body and "\x00" not in body
    _, stories = digest_rows(sqlite_url)
    for _, title in stories:
        assert title and len(title) <= TITLE_MAX and "\n" not in title and "\u202e" not in title
    engine = make_engine(sqlite_url)
    titles = [a.title for a in DigestRepository(engine, ZoneInfo("Asia/Taipei")).articles("qwen", DAY)]
    engine.dispose()
    assert titles[0] == "阿里巴巴旗下AI助手千問宣布，自1月15日起全面接入淘寶、支付寶、飛豬與高德地圖。"  # lead sentence
    assert titles[1] == "千問" + "長" * (TITLE_MAX - 3) + "…"
    # Data, escaped when rendered; the title cleaner drops the empty segment after the last "---".
    assert titles[3] == "{{ site.title }} {% include x %} --- title: pwned"
    assert titles[5] == "news.example"  # no title, no text: the URL's host


def test_an_undated_article_is_no_news_of_the_day(sqlite_url: str) -> None:
    """issue 22: a page with no date from page, feed entry or URL (a 2004 article, a textbook
    crawled today) is stored, but in no day's digest; a dated one is."""
    undated = replace(stored_article(2, "藝術史教科書 第三章 文藝復興"), published=None)
    store(sqlite_url, [stored_article(1, "千問春節後將開放第三方入駐"), undated])
    engine = make_engine(sqlite_url)
    try:
        repository = DigestRepository(engine, ZoneInfo("Asia/Taipei"))
        assert [a.url for a in repository.articles("qwen", DAY)] == ["https://news.example/1"]
        # Not the day it was first seen either (the crawl's day, today).
        today = datetime.now(ZoneInfo("Asia/Taipei")).date()
        assert repository.articles("qwen", today) == []
        with engine.connect() as conn:
            assert conn.execute(select(ArticleRow.url).where(ArticleRow.published_at.is_(None))).scalars().all() \
                == ["https://news.example/2"]
    finally:
        engine.dispose()


# LLM faults: the post is written all the same, by the fallback, and says so

@pytest.mark.parametrize(("reply", "kind"), [
    (Reply.raw('{"choices": [{"message": '), "malformed_body"),
    (Reply.raw("Service temporarily unavailable", "text/plain"), "malformed_body"),
    (Reply.raw('{"choices": "nope"}'), "malformed_body"),
    (Reply(hang=True), "deadline"),
], ids=["malformed-json", "text-plain", "wrong-type", "hung"])
def test_llm_fault_writes_the_fallback_post(sqlite_url: str, tmp_path: Path, reply: Reply, kind: str) -> None:
    store(sqlite_url, [stored_article(1, "千問春節後將開放第三方入駐")])
    with LLMServer() as server:
        server.script(*[reply] * 4)
        started = time.monotonic()
        outcome = build_once(sqlite_url, tmp_path / "site", DIGEST_SUMMARIZER="llm", LLM_BASE_URL=server.base_url,
                             LLM_API_KEY="test-key", LLM_TIMEOUT=30, LLM_DEADLINE=1, LLM_MAX_RETRIES=3)
        elapsed = time.monotonic() - started
    assert outcome.failed is None and outcome.post is not None
    assert (outcome.generator, outcome.fallback) == ("extractive", kind)
    assert outcome.malformed == (kind == "malformed_body")
    assert "LLM fallback: " + kind in outcome.describe()
    front, body = read_post(outcome.post)
    assert front["generator"] == "extractive"
    assert "未經 AI 語言模型改寫" in body.rstrip().splitlines()[-1]  # the footer says no LLM wrote it
    assert elapsed < 30  # bounded by LLM_DEADLINE, not by the read timeout


def test_llm_merge_check_splits_a_story_and_counts_in_the_digests_calls(sqlite_url: str, tmp_path: Path) -> None:
    """One text under two outlets' titles is one story offline; with every merge taken as loose
    (LLM_MERGE_BAND 0.5) the LLM is asked, says they are two events, and the post has two stories.
    The check's call is in the digest's count and row; an unchanged re-run asks nothing."""
    store(sqlite_url, [stored_article(1, "千問春節後將開放第三方入駐"),
                       stored_article(2, "千問App月活破億", source="cna")])
    llm = {"DIGEST_SUMMARIZER": "llm", "LLM_API_KEY": "test-key", "LLM_MERGE_BAND": 0.5}
    assert build_once(sqlite_url, tmp_path / "offline").stories == 1
    with LLMServer() as server:
        server.script(Reply(content=lambda body: merge_answer(body, split=lambda title, firm: True)))
        outcome = build_once(sqlite_url, tmp_path / "site", LLM_BASE_URL=server.base_url, **llm)
        calls = server.calls
        again = build_once(sqlite_url, tmp_path / "site", LLM_BASE_URL=server.base_url, **llm)
        rerun_calls = server.calls - calls
    assert outcome.generator.startswith("llm:") and outcome.stories == 2 and outcome.articles == 2
    assert outcome.llm_calls == calls == 2  # the merge check, then the digest
    assert (again.stories, again.llm_calls, rerun_calls) == (2, 0, 0)
    _, stories = digest_rows(sqlite_url)
    assert len(stories) == 2


# A failed write leaves the previous post, image and database rows as they were

@pytest.mark.parametrize("broken", ["images-dir-is-a-file", "image-path-is-a-directory",
                                    "post-path-is-a-directory"])
def test_failed_write_leaves_the_previous_digest(sqlite_url: str, tmp_path: Path, broken: str) -> None:
    site = tmp_path / "site"
    post, image = site / "_posts" / POST_NAME, site / "assets" / "img" / "posts" / IMAGE_NAME
    store(sqlite_url, [stored_article(1, "千問春節後將開放第三方入駐")])
    assert build_once(sqlite_url, site).post == post
    rows_before = digest_rows(sqlite_url)
    image.write_bytes(b"previous image")
    post.write_text("previous post", "utf-8")
    store(sqlite_url, [stored_article(2, "千問國際版年內上線", "千問國際版預計在年內上線，支援多種語言。")])
    if broken == "images-dir-is-a-file":  # staging fails: nothing is touched
        shutil.rmtree(image.parent)
        image.parent.write_text("not a directory", "utf-8")
    elif broken == "image-path-is-a-directory":  # the first rename fails
        image.unlink()
        image.mkdir()
    else:  # the image is put in place first, then the post's rename fails: the image is put back
        post.unlink()
        post.mkdir()

    outcome = build_once(sqlite_url, site)

    assert outcome.post is None and outcome.failed is not None and "Error" in outcome.failed
    assert "FAILED, previous post unchanged" in outcome.describe()
    if broken != "post-path-is-a-directory":
        assert post.read_text("utf-8") == "previous post"
    else:
        assert image.read_bytes() == b"previous image"
    assert digest_rows(sqlite_url) == rows_before  # the transaction was rolled back
    leftovers = [p.name for p in site.rglob(".*")]
    assert leftovers == [], leftovers  # no temp file or backup is left behind


def test_scrapy_digest_exits_non_zero_on_a_failed_digest(sqlite_url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    store(sqlite_url, [stored_article(1, "千問春節後將開放第三方入駐")])
    (site / "assets" / "img" / "posts" / IMAGE_NAME).mkdir(parents=True)
    settings = {"STORE_URL": sqlite_url, "DIGEST_SITE_DIR": str(site), "DIGEST_SUMMARIZER": "extractive"}
    result = subprocess.run(scrapy_command("digest", "--model", "qwen", "--date", "2026-01-18..2026-01-19",
                                           settings=settings),
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1, result.stderr[-3000:]
    assert "no relevant items, no post written: qwen 2026-01-18" in result.stdout  # the other day is still tried
    assert "2026-01-19: FAILED, previous post unchanged: IsADirectoryError" in result.stdout
    assert "1 of 2 digests failed" in result.stderr
    assert not (site / "_posts" / POST_NAME).exists()


# Concurrent writers of one (model, day) take turns

@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_digests_of_one_day_never_collide(database: str, sqlite_url: str, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    url = sqlite_url if database == "sqlite" else request.getfixturevalue("postgres_url")
    store(url, [stored_article(n, title, QWEN_TEXT.replace("1億", f"{n}億"))
                for n, title in enumerate(["千問春節後將開放第三方入駐", "阿里千問下載量斷層領跑",
                                           "傑富瑞看好阿里巴巴AI整合"], start=1)])
    site = tmp_path / "site"
    builders = [builder_for(url, site) for _ in range(2)]
    rounds = 5
    barrier = threading.Barrier(len(builders))
    outcomes: list[DigestOutcome] = []

    def write(builder: DigestBuilder) -> None:
        for _ in range(rounds):
            barrier.wait(timeout=60)  # both start each round together
            outcomes.append(builder.try_build("qwen", DAY))

    threads = [threading.Thread(target=write, args=(builder,)) for builder in builders]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        for builder in builders:
            builder.close()
    assert [o.failed for o in outcomes] == [None] * rounds * len(builders)
    digests, stories = digest_rows(url)
    assert [(model, day) for model, day, *_ in digests] == [("qwen", DAY)]
    assert len(stories) == len({key for key, _ in stories}) >= 1
    front, _ = read_post(site / "_posts" / POST_NAME)
    assert front["title"] == "QWEN 每日動態 - 2026-01-19"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_saves_take_turns(database: str, sqlite_url: str, tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    """The repository's write itself, started at the same instant from two threads: without the
    lock, PostgreSQL's second transaction inserts the same story keys (UniqueViolation)."""
    url = sqlite_url if database == "sqlite" else request.getfixturevalue("postgres_url")
    store(url, [stored_article(1, "千問春節後將開放第三方入駐")])
    builder = builder_for(url, tmp_path / "site")
    try:
        articles = builder.repository.articles("qwen", DAY)
        stories = group_stories(articles, builder.finder)
        figures = builder.repository.figures("qwen", DAY, articles, (), [])
        digest = DigestInput(model_key="qwen", model=builder.models["qwen"], day=DAY, language="zh-TW",
                             stories=stories, figures=figures)
        result = builder.summarizer.summarize(digest)
        repositories = [DigestRepository(make_engine(url), ZoneInfo("Asia/Taipei")) for _ in range(2)]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def save(repository: DigestRepository) -> None:
            for _ in range(10):
                barrier.wait(timeout=60)
                try:
                    repository.save("qwen", DAY, stories, result, "post.md")
                except Exception as error:
                    errors.append(error)

        threads = [threading.Thread(target=save, args=(r,)) for r in repositories]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for repository in repositories:
            repository.engine.dispose()
    finally:
        builder.close()
    assert errors == []
    digests, saved = digest_rows(url)
    assert len(digests) == 1 and [key for key, _ in saved] == [s.key for s in stories]


# In a crawl: a failed or fallen-back digest is counted, and its monitor fails in the run report

@pytest.mark.parametrize("fault", ["llm-text-plain", "unwritable-image"])
@deferred_f_from_coro_f
async def test_crawl_counts_and_reports_digest_faults(fault: str, fixture_web: FixtureWeb, sources_file: Path,
                                                      crawl_settings: dict[str, Any], tmp_path: Path) -> None:
    site = Path(crawl_settings["DIGEST_SITE_DIR"])
    with LLMServer() as server:
        settings = {**crawl_settings, "DIGESTCRAWL_SOURCES_FILE": str(sources_file)}
        if fault == "llm-text-plain":
            server.script(*[Reply.raw("Service temporarily unavailable", "text/plain")] * 3)
            settings.update(DIGEST_SUMMARIZER="llm", LLM_BASE_URL=server.base_url, LLM_API_KEY="test-key")
        else:
            (site / "assets" / "img" / "posts" / IMAGE_NAME).mkdir(parents=True)
        crawler = await run_crawl(NewsSpider, settings, model="qwen", source="udn", **FIXTURE_WINDOW)
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    report = json.loads(Path(stats["digestcrawl/report_file"]).read_text("utf-8"))
    failed_monitors = {f["monitor"] for f in report["monitors"]["failed"]}
    if fault == "llm-text-plain":
        assert stats["digestcrawl/digest/written"] == 1
        assert stats["digestcrawl/digest/fallback"] == stats["digestcrawl/digest/fallback/malformed_body"] == 1
        assert stats["digestcrawl/digest/llm/malformed_body"] == 1
        assert "digestcrawl/digest/failed" not in stats
        assert "generator: extractive" in (site / "_posts" / POST_NAME).read_text("utf-8")
        assert stats["digestcrawl/monitor/failed/digest_fallback"] == 1 and "digest_fallback" in failed_monitors
    else:
        assert stats["digestcrawl/digest/failed"] == 1
        assert "digestcrawl/digest/written" not in stats
        assert not (site / "_posts" / POST_NAME).exists()
        assert stats["digestcrawl/monitor/failed/digest_failed"] == 1 and "digest_failed" in failed_monitors
    assert report["totals"]["digest/failed" if fault != "llm-text-plain" else "digest/fallback"] == 1


def test_two_scrapy_digest_runs_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The reported race: two `scrapy digest` processes for the same day, at once."""
    store(postgres_url, [stored_article(n, title) for n, title in
                         enumerate(["千問春節後將開放第三方入駐", "阿里千問下載量斷層領跑"], start=1)])
    settings = {"STORE_URL": postgres_url, "DIGEST_SITE_DIR": str(tmp_path / "site"),
                "DIGEST_SUMMARIZER": "extractive"}
    command = scrapy_command("digest", "--model", "qwen", "--date", "2026-01-19", settings=settings)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(run.communicate(timeout=300), run.returncode) for run in runs]
    for (_, stderr), code in results:
        assert code == 0, stderr[-3000:]
    digests, stories = digest_rows(postgres_url)
    assert len(digests) == 1 and len(stories) == len({key for key, _ in stories}) >= 1


# First-party signals: a GitHub release, the news about it and a Hugging Face downloads jump,
# stored as a crawl stores them, become one story, a linked release in 對開發者 and a figure in
# the trend; the post still builds with strict Jekyll.

RELEASE_URL = "https://github.com/QwenLM/Qwen3/releases/tag/v3.1.0"
CODER = "Qwen/Qwen3-Coder-30B-A3B-Instruct"
RELEASE_NOTES = ("What's Changed\n- Add a tool calling parser for the new chat template.\n"
                 "- Fix the rope scaling configuration for long-context inference.\n"
                 "- Update the vLLM and SGLang deployment guides.\nFull Changelog: v3.0.2...v3.1.0")
RELEASE_NEWS_EN = ("Alibaba's Qwen team released Qwen3 3.1 on Monday, an update to its open-weight model family. "
                   "The release improves tool calling and long-context inference, the team said on GitHub. "
                   "Tool-calling accuracy rose 90% on the team's own benchmark, and developers can deploy it "
                   "with vLLM and SGLang.")
RELEASE_NEWS_ZH = ("阿里巴巴通義千問團隊週一發布Qwen3 3.1版本，強化工具調用與長上下文推理能力。"
                   "開發者可透過vLLM與SGLang部署新版本，團隊在GitHub公布了更新說明。")


def first_party_day(url: str) -> None:
    """The day in the database: the release, two reports of it, an unrelated story, and the
    Hugging Face series of the Coder checkpoint (1,000 → 1,380 downloads: +38% in 7 days)."""
    published = datetime(2026, 1, 19, 1, tzinfo=UTC)

    def item(link: str, title: str, text: str, publisher: str, category: str, language: str) -> Article:
        return Article(url=link, source=publisher.casefold(), category=category, title=title, text=text,
                       language=language, publisher=publisher, published=published, models={"qwen": ["Qwen3"]},
                       score={"qwen": 5}, placement={"qwen": "title"})

    store(url, [item(RELEASE_URL, "QwenLM/Qwen3 v3.1.0", RELEASE_NOTES, "GitHub", "release", "en"),
                item("https://venturebeat.example/qwen3-3-1", "Alibaba releases Qwen3 3.1 with better tool calling",
                     RELEASE_NEWS_EN, "VentureBeat", "news", "en"),
                item("https://ithome.example/news/1", "阿里發布Qwen3 3.1版 強化工具調用", RELEASE_NEWS_ZH, "iThome",
                     "news", "zh-Hant"),
                item("https://udn.example/news/4", "千問春節後將開放第三方入駐", QWEN_TEXT, "udn", "news", "zh-Hant")])
    articles_store = ArticleStore.connect(url)
    try:
        articles_store.save_repo_stats([
            RepoStats(repo=CODER, model="qwen", source="huggingface", url=f"https://huggingface.co/{CODER}",
                      day=day, downloads=downloads, likes=40)
            for day, downloads in ((date(2026, 1, 13), 1000), (date(2026, 1, 16), 1150), (DAY, 1380))])
    finally:
        articles_store.close()


def story_members(url: str) -> list[set[str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(StoryRow.key, ArticleRow.url).join(StoryArticleRow, StoryArticleRow.story_id
                                == StoryRow.id).join(ArticleRow, ArticleRow.id == StoryArticleRow.article_id)
                                .where(StoryRow.day == DAY)).all()
    finally:
        engine.dispose()
    stories: dict[str, set[str]] = {}
    for key, member in rows:
        stories.setdefault(key, set()).add(member)
    return list(stories.values())


def post_section(body: str, heading: str) -> str:
    return body.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def assert_builds_with_strict_jekyll(site: Path) -> None:
    from digestcrawl.digest.publish import jekyll_build

    if shutil.which("jekyll") is None:
        if os.environ.get("CI"):
            pytest.fail("jekyll is not installed; CI must install it")
        return
    build = jekyll_build(site, site.parent / "_built", "--strict_front_matter")
    assert build is not None and build.ok and not build.warnings, build and build.output


def assert_release_post(outcome: DigestOutcome, url: str) -> str:
    assert outcome.failed is None and outcome.post is not None, outcome.describe()
    assert {RELEASE_URL, "https://venturebeat.example/qwen3-3-1", "https://ithome.example/news/1"} in story_members(url)
    front, body = read_post(outcome.post)
    developers = post_section(body, "💡 延伸思考").split("- 對一般使用者")[0]
    assert f"  - 新版本：[QwenLM/Qwen3 v3.1.0]({RELEASE_URL})（2026-01-19）\n" in developers
    assert RELEASE_URL in [source["url"] for source in front["sources"]]  # listed as a source too
    trend = post_section(body, "本週模型趨勢")
    assert "Qwen3-Coder-30B-A3B-Instruct 下載量 7 日 +38%（Hugging Face）" in trend
    assert "90%" not in trend
    # The readability checks of the fixture day's post: no page junk, every story's sentences
    # in the articles it cites.
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # Its stories: the stored content's lists may be shorter than the LLM's schema asks
            # (each fact once leaves a thin day's sections short).
            summaries = [StorySummary.model_validate(s)
                         for s in conn.execute(select(DigestRow.content)).scalar_one()["stories"]]
        articles = DigestRepository(engine, ZoneInfo("Asia/Taipei")).articles("qwen", DAY)
    finally:
        engine.dispose()
    stories = [Story(s.story_key, [a for a in articles if a.id in s.cited]) for s in summaries]
    from digestcrawl.config import load_models

    assert_readable(outcome.post.read_text("utf-8"),
                    DigestInput(model_key="qwen", model=load_models()["qwen"], day=DAY, language="zh-TW",
                                stories=stories, figures=DayFigures({}, {}, {}, (), ())), summaries)
    image = outcome.post.parent.parent / "assets" / "img" / "posts" / IMAGE_NAME
    width, height = struct.unpack(">II", image.read_bytes()[16:24])
    assert (width, height) == (1000, 1050)  # the downloads panel under the usual three charts
    assert_builds_with_strict_jekyll(outcome.post.parent.parent)
    return body


def test_release_news_and_downloads_jump_make_one_story_offline(sqlite_url: str, tmp_path: Path) -> None:
    first_party_day(sqlite_url)
    outcome = build_once(sqlite_url, tmp_path / "site")
    assert outcome.generator == "extractive"
    assert_release_post(outcome, sqlite_url)


def test_release_news_and_downloads_jump_with_the_llm(sqlite_url: str, tmp_path: Path) -> None:
    """The LLM is given the series' change and may state it; a downloads figure the series does
    not hold is dropped, even one an article gives about something else (90%)."""
    first_party_day(sqlite_url)

    def cite_downloads(answer: dict[str, Any]) -> None:
        answer["trend"] = ("Qwen3-Coder-30B-A3B-Instruct 下載量 7 日 +38%（Hugging Face）。"
                           "Qwen3-Coder-30B-A3B-Instruct 下載量 7 日 +90%（Hugging Face）。")
        answer["developers"] = ["QwenLM/Qwen3 v3.1.0 強化工具調用。", "阿里發布Qwen3 3.1版 強化工具調用。"]

    with LLMServer() as server:
        server.script(Reply(content=edited(cite_downloads)))
        outcome = build_once(sqlite_url, tmp_path / "site", DIGEST_SUMMARIZER="llm", LLM_BASE_URL=server.base_url,
                             LLM_API_KEY="test-key", LLM_MODEL="local-test",
                             LLM_MERGE_CHECK=False)  # one call: the summary, scripted above
        prompt = server.requests[0]["messages"][1]["content"]
    assert outcome.generator == "llm:local-test" and outcome.fallback is None
    assert (f"Downloads of {CODER} (Hugging Face): 1000 on 2026-01-13, 1380 on 2026-01-19, +38% in 7 days"
            in prompt)
    # The +90% sentence, and the scripted answer's six lines with no Chinese (a zh-TW post is Chinese).
    assert outcome.ungrounded == 1 + 6
    body = assert_release_post(outcome, sqlite_url)
    developers = post_section(body, "💡 延伸思考").split("- 對一般使用者")[0]
    # The LLM's own lines say the story's title again: the data's release line says it, once.
    assert "強化工具調用" in post_section(body, "📰 本週新聞焦點") and "強化工具調用" not in developers


def _fixture_posts(crawled: Crawled) -> dict[str, Path]:
    """The fixture day's offline post, and the LLM post of the scripted server, each written into
    a site of its own (the crawl's site is rewritten by other tests)."""
    posts = {kind: crawled.workdir / f"{kind}-site" / "_posts" / POST_NAME for kind in ("offline", "llm")}
    if not posts["offline"].is_file():
        result = crawled.scrapy("digest", "--model", "qwen", "--date", "2026-01-19",
                                "--site", str(posts["offline"].parents[1]))
        assert result.returncode == 0, result.stderr[-2000:]
    if not posts["llm"].is_file():
        with LLMServer() as server:
            result = crawled.scrapy("digest", "--model", "qwen", "--date", "2026-01-19",
                                    "--site", str(posts["llm"].parents[1]), "-s", f"LLM_BASE_URL={server.base_url}",
                                    "-s", "LLM_API_KEY=test-key", "-s", "LLM_MODEL=local-test")
        assert result.returncode == 0, result.stderr[-2000:]
    assert "generator: extractive" in posts["offline"].read_text("utf-8")
    assert "generator: llm:local-test" in posts["llm"].read_text("utf-8")
    return posts


def test_fixture_posts_hold_the_checkers_classes_of_text_names_and_dates(crawled: Crawled) -> None:
    sources_file = str(crawled.workdir / "sources.yaml")
    for kind, post in _fixture_posts(crawled).items():
        found = checked(post, crawled.database_url, sources_file)
        assert [f.format(kind) for f in found if f.kind in HELD] == []


def test_fixture_posts_have_no_finding_at_all(crawled: Crawled) -> None:
    sources_file = str(crawled.workdir / "sources.yaml")
    for kind, post in _fixture_posts(crawled).items():
        assert [f.format(kind) for f in checked(post, crawled.database_url, sources_file)] == []
