"""Each crawl component on its own, built by ``scrapy.utils.test.get_crawler`` with the project's
settings: a table of inputs → kept or dropped (with the reason) and the stats they leave.

The normalize, relevance and dedup pipelines, the Retry-After middleware, the net guard's two
downloader middlewares and the incremental middleware. Real components throughout; a database is
a SQLite file in tmp_path. The end-to-end crawls (tests/test_crawl.py, …) wire them together.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f

from digestcrawl.crawl.guard.netguard import BadScheme, DownloadGuard, PrivateAddressGuard, RefusedAddress
from digestcrawl.crawl.guard.retryafter import RetryAfterMiddleware
from digestcrawl.crawl.incremental import ENTRY_CHANGED, SkipUnchangedArticles, UnchangedArticle
from digestcrawl.items import Article, RepoStats
from digestcrawl.ops.signals import articles_retracted
from digestcrawl.store.articles import ArticleStore, RowOutcome
from digestcrawl.store.database import Database
from pipelines.dedup import DedupPipeline
from pipelines.normalize import NormalizePipeline
from pipelines.relevance import RelevancePipeline
from spiders.news import NewsSpider
from tests.conftest import spider_crawler

SINCE = datetime(2026, 1, 19, tzinfo=UTC)
UNTIL = datetime(2026, 1, 20, tzinfo=UTC)
KEPT = None  # expected outcome of a row that passes


def crawler_with(**settings: Any) -> Crawler:
    """A crawler from ``get_crawler`` with the project's settings (digestcrawl/settings.py) and
    ``settings`` over them, and a news spider for qwen and gemini over one day."""
    return spider_crawler(NewsSpider, {"EXTRACTION_PROCESSES": 0, **settings}, model="qwen,gemini",
                          since=SINCE.isoformat(), until=UNTIL.isoformat())


def stats(crawler: Crawler) -> dict[str, Any]:
    assert crawler.stats is not None
    return {key.removeprefix("digestcrawl/"): value for key, value in crawler.stats.get_stats().items()
            if key.startswith("digestcrawl/") and "/source/" not in key}


def article(title: str = "Qwen3 released", text: str = "Alibaba released Qwen3 today.", **fields: Any) -> Article:
    return Article(**{"url": "https://news.example/a", "source": "news", "category": "news", "title": title,
                      "text": text, "published": SINCE + timedelta(hours=3), **fields})


READING = RepoStats(repo="Qwen/Qwen3-8B", model="qwen", source="hf", url="https://huggingface.co/Qwen/Qwen3-8B",
                    day=date(2026, 1, 19), downloads=1000)


def outcome(run: Any) -> str | None:
    """None when the item passed; else the drop reason (the DropItem message's first word)."""
    try:
        run()
    except DropItem as drop:
        return str(drop).split(":")[0]
    return KEPT


# -- normalize ------------------------------------------------------------------------------------

NORMALIZE = [
    # item, expected outcome, expected stats
    (article(title="  Qwen3\u200b \n released  ", text="Line  one\u3000 \n\n  line two "), KEPT, {}),
    (article(title="", text=""), "empty_page", {"dropped/empty_page": 1}),
    (article(text="Just a moment... Checking your browser before accessing news.example.", title="Just a moment..."),
     "boilerplate_page", {"dropped/boilerplate_page": 1, "boilerplate/bot_check": 1}),
    (article(published=SINCE - timedelta(seconds=1)), "too_old", {"dropped/too_old": 1}),
    (article(published=UNTIL), "too_new", {"dropped/too_new": 1}),
    # A date cleared, or none at all: kept, and counted undated (no day's news).
    (article(published=datetime(3000, 1, 1, tzinfo=UTC)), KEPT, {"implausible_date/published": 1, "undated": 1}),
    (article(published=None), KEPT, {"undated": 1}),
    (article(title="Qwen " * 100), KEPT, {"capped/title": 1}),
    (READING, KEPT, {}),
    # Any item type: an article as a plain dict goes the same way.
    (dataclasses.asdict(article(title="", text="")), "empty_page", {"dropped/empty_page": 1}),
]


@pytest.mark.parametrize(("item", "expected", "counted"), NORMALIZE)
def test_normalize(item: Any, expected: str | None, counted: dict[str, int]) -> None:
    crawler = crawler_with()
    pipeline = NormalizePipeline.from_crawler(crawler)
    assert outcome(lambda: pipeline.process_item(item)) == expected
    assert stats(crawler) == counted


def test_normalize_cleans_in_place_and_returns_the_same_item() -> None:
    item = article(title="  Qwen3\u200b \n released  ", text="Line  one\u3000 \n\n  line two ",
                   published=datetime(3000, 1, 1, tzinfo=UTC), published_from="meta")
    reading = dataclasses.replace(READING)
    pipeline = NormalizePipeline.from_crawler(crawler_with())
    assert pipeline.process_item(item) is item
    assert (item.title, item.text, item.published, item.published_from) == ("Qwen3 released", "Line one\nline two",
                                                                            None, None)
    assert pipeline.process_item(reading) is reading and reading == READING


def test_control_characters_never_reach_the_database(postgres_url: str) -> None:
    """A JSON API or feed entry is text no HTML parser cleaned: NUL (which PostgreSQL refuses),
    terminal escapes and a lone surrogate go, line breaks stay."""
    item = article(title="Qwen3\x00 released\x1b[0m", text="Line\x00 one\ud800\x0cline\x85two\x07",
                   snippet="Qwen3\x00 \x7f")
    NormalizePipeline.from_crawler(crawler_with()).process_item(item)
    assert (item.title, item.text, item.snippet) == ("Qwen3 released[0m", "Line one\nline\ntwo", "Qwen3")
    store = ArticleStore.connect(postgres_url)
    try:
        assert store.save_batch([item]) == [RowOutcome(stored=True)]
    finally:
        store.close()


# -- relevance ------------------------------------------------------------------------------------

RELEVANCE = [
    (article(title="Qwen3 tops the leaderboard", text="Qwen3 scored first."), KEPT, {"relevant": 1}),
    (article(title="Cloud revenue grows", text="Revenue rose 20% on demand."), "off_topic", {"dropped/off_topic": 1}),
    (article(title="Gemini horoscope", text="Gemini zodiac twins: your astrology for the week."),
     "ambiguous_alias", {"dropped/ambiguous_alias": 1}),
    # The model's own account: kept though it does not name the model.
    (article(title="v0.3.1", text="Bug fixes.", first_party={"qwen": "QwenLM/Qwen3"}), KEPT,
     {"relevant": 1, "first_party": 1}),
    (READING, KEPT, {}),
    (dataclasses.asdict(article(title="Qwen3 tops the leaderboard")), KEPT, {"relevant": 1}),
]


@pytest.mark.parametrize(("item", "expected", "counted"), RELEVANCE)
def test_relevance(item: Any, expected: str | None, counted: dict[str, int]) -> None:
    crawler = crawler_with(RELEVANCE_MIN_SCORE=1)
    pipeline = RelevancePipeline.from_crawler(crawler)
    pipeline.open_spider()
    assert outcome(lambda: pipeline.process_item(item)) == expected
    assert stats(crawler) == counted


def test_relevance_records_models_aliases_and_placement() -> None:
    crawler = crawler_with()
    pipeline = RelevancePipeline.from_crawler(crawler)
    pipeline.open_spider()
    item = pipeline.process_item(article(title="Qwen3 tops the leaderboard",
                                         text="通義千問 leads Google's Gemini AI model. Qwen again."))
    assert {key: sorted(aliases) for key, aliases in item.models.items()} == {"qwen": ["Qwen", "通義千問"],
                                                                              "gemini": ["Gemini"]}
    assert item.placement == {"qwen": "title", "gemini": "lead"}
    assert item.hits["qwen"] == 3 and set(item.score) == {"qwen", "gemini"}


# -- dedup ----------------------------------------------------------------------------------------

STORY = ("Alibaba released Qwen3, a family of open-weight language models, with a mixture-of-experts flagship "
         "that rivals the strongest closed models on coding and mathematics benchmarks, and smaller dense "
         "models for laptops and phones. The weights are on Hugging Face under the Apache 2.0 licence.")
STORED = "https://stored.example/qwen3"
# Each row's item goes through one pipeline in order: url, title, text → outcome, duplicate_of.
DEDUP = [
    ("https://a.example/1", "Qwen3 released", STORY, KEPT, None),
    ("https://a.example/1", "Qwen3 released", STORY, "duplicate_url", None),
    ("https://b.example/1", "Qwen3 released", STORY, KEPT, "https://a.example/1"),  # exact copy
    ("https://c.example/1", "Qwen3 is out", STORY.replace("Apache 2.0", "Apache-2.0") + " Update: more sizes.",
     KEPT, "https://a.example/1"),  # near copy
    ("https://d.example/1", "A stored story", "Stored text about Gemini 3 and its long context window, "
     "written yesterday and read back from the database when the pipeline opened.", KEPT, STORED),
    ("https://e.example/1", "Other news", "Something else entirely happened to DeepSeek on Tuesday.", KEPT, None),
]


@deferred_f_from_coro_f
async def test_dedup_over_a_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dedup.sqlite3'}"
    settings = {"STORE_URL": url, "DEDUP_NEAR_THRESHOLD": 0.6, "DEDUP_LOOKBACK_DAYS": 7}
    # Yesterday's run: its pipeline signs the article, the store keeps it with its signature.
    yesterday = DedupPipeline.from_crawler(crawler_with(**settings))
    await yesterday.open_spider()
    stored = await yesterday.process_item(article(url=STORED, title=DEDUP[4][1], text=DEDUP[4][2],
                                                  fetched=datetime.now(UTC)))
    store = ArticleStore.connect(url)
    store.save(stored)
    store.close()

    crawler = crawler_with(**settings)
    pipeline = DedupPipeline.from_crawler(crawler)
    await pipeline.open_spider()
    seen = []
    for page, title, text, _, _ in DEDUP:
        try:
            kept = await pipeline.process_item(article(url=page, title=title, text=text))
        except DropItem as drop:
            seen.append((str(drop).split(":")[0], None))
        else:
            seen.append((KEPT, kept.duplicate_of))
    assert seen == [(expected, original) for *_, expected, original in DEDUP]
    assert stats(crawler) == {"dropped/duplicate_url": 1, "duplicate": 3, "duplicate/exact": 2, "duplicate/near": 1}
    assert await pipeline.process_item(READING) is READING


@deferred_f_from_coro_f
async def test_dedup_retracts_a_wall_served_by_three_hosts(tmp_path: Path) -> None:
    crawler = crawler_with(STORE_URL=f"sqlite:///{tmp_path / 'walls.sqlite3'}")
    retracted: list[list[str]] = []

    def heard(urls: list[str]) -> None:
        retracted.append(urls)

    crawler.signals.connect(heard, signal=articles_retracted)
    pipeline = DedupPipeline.from_crawler(crawler)
    await pipeline.open_spider()
    wall = "Subscribe to keep reading. Already a subscriber? Sign in."
    outcomes = []
    for host, title in (("one", "Qwen3 released"), ("two", "Gemini 3 ships"), ("three", "DeepSeek V4 is out")):
        try:
            await pipeline.process_item(article(url=f"https://{host}.example/1", title=title, text=wall))
            outcomes.append(KEPT)
        except DropItem as drop:
            outcomes.append(str(drop).split(":")[0])
    assert outcomes == [KEPT, KEPT, "boilerplate_page"]
    assert retracted == [["https://one.example/1", "https://two.example/1"]]
    assert stats(crawler) == {"boilerplate/repeated_wall": 3, "dropped/boilerplate_page": 3}


# -- downloader middlewares ----------------------------------------------------------------------

def response(status: int, headers: dict[str, str] | None = None, url: str = "https://news.example/a") -> Response:
    return Response(url, status=status, headers=headers or {}, request=Request(url))


RETRY_AFTER = [
    # status, Retry-After → a retry request (True) or the response itself, stats
    (200, None, False, {}),
    (503, None, False, {}),  # RetryMiddleware's to retry, at its own pace
    (429, "2", True, {"retry_after/count": 1, "retry_after/reason_count/429 Retry-After": 1}),
    (503, "Wed, 21 Oct 2015 07:28:00 GMT", True, {"retry_after/count": 1,
                                                  "retry_after/reason_count/503 Retry-After": 1}),
    (503, "86400", False, {"retry_after/gave_up": 1}),  # longer than RETRYAFTER_MAX
]


@pytest.mark.parametrize(("status", "header", "retried", "counted"), RETRY_AFTER)
def test_retry_after(status: int, header: str | None, retried: bool, counted: dict[str, int]) -> None:
    crawler = crawler_with(RETRYAFTER_MAX=60, RETRYAFTER_CODES=[429, 503])
    crawler.engine = ExecutionEngine(crawler, lambda _: None)  # its downloader's slots are held
    middleware = RetryAfterMiddleware.from_crawler(crawler)
    answer = response(status, {"Retry-After": header} if header else None)
    assert answer.request is not None
    result = middleware.process_response(answer.request, answer)
    assert isinstance(result, Request) is retried
    if retried:
        assert isinstance(result, Request) and result.meta["retry_times"] == 1 and result.dont_filter
    elif status in (429, 503) and header:
        assert result is answer and answer.request.meta["dont_retry"]  # nor retried by RetryMiddleware
    assert stats(crawler) == counted


GUARD_REQUESTS = [
    # URL → refusal raised (None: passes), stats
    ("http://127.0.0.1:8080/feed.xml", None, {}),  # allowed by NETGUARD_ALLOW
    ("https://news.example/a", None, {}),  # a host name: judged by the resolver when it resolves
    ("http://10.0.0.8/admin", RefusedAddress, {"refused/private_address": 1}),
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", RefusedAddress, {"refused/private_address": 1}),
    ("http://[64:ff9b::a00:1]/", RefusedAddress, {"refused/private_address": 1}),  # NAT64 of 10.0.0.1
    ("ftp://news.example/file", BadScheme, {"refused/bad_scheme": 1}),
]


@pytest.mark.parametrize(("url", "refusal", "counted"), GUARD_REQUESTS)
@deferred_f_from_coro_f
async def test_net_guard_requests(url: str, refusal: type[Exception] | None, counted: dict[str, int]) -> None:
    crawler = crawler_with(NETGUARD_ENABLED=True, NETGUARD_ALLOW=["127.0.0.1/32"])
    guard = PrivateAddressGuard.from_crawler(crawler)
    if refusal is None:
        assert await guard.process_request(Request(url)) is None
    else:
        with pytest.raises(refusal):
            await guard.process_request(Request(url))
    assert stats(crawler) == counted


GUARD_REDIRECTS = [
    # status, Location, request meta → refused (BadScheme) or the response passes
    (302, "/next", {}, False),
    (301, "https://other.example/", {}, False),
    (302, "file:///etc/passwd", {}, True),
    (307, "gopher://news.example/", {}, True),
    (302, "file:///etc/passwd", {"dont_redirect": True}, False),  # not followed: nothing to refuse
    (200, "file:///etc/passwd", {}, False),
]


@pytest.mark.parametrize(("status", "location", "meta", "refused"), GUARD_REDIRECTS)
def test_net_guard_redirects(status: int, location: str, meta: dict[str, Any], refused: bool) -> None:
    crawler = crawler_with(NETGUARD_ENABLED=True)
    guard = DownloadGuard.from_crawler(crawler)
    request = Request("https://news.example/a", meta=meta)
    answer = Response(request.url, status=status, headers={"Location": location}, request=request)
    if refused:
        with pytest.raises(BadScheme):
            guard.process_response(request, answer)
        assert stats(crawler) == {"refused/bad_scheme": 1}
    else:
        assert guard.process_response(request, answer) is answer
        assert stats(crawler) == {}


def test_net_guard_is_off_when_disabled() -> None:
    with pytest.raises(NotConfigured):
        PrivateAddressGuard.from_crawler(crawler_with(NETGUARD_ENABLED=False))
    with pytest.raises(NotConfigured):
        DownloadGuard.from_crawler(crawler_with(NETGUARD_ENABLED=False))


FETCHED_ENTRY = datetime(2026, 1, 19, 8, tzinfo=UTC)
INCREMENTAL = [
    # URL, the feed entry's change time (absent: not an article request) → skipped?
    ("https://news.example/stored", "absent", False),
    ("https://news.example/stored", (FETCHED_ENTRY - timedelta(hours=1)).isoformat(), True),
    ("https://news.example/stored", FETCHED_ENTRY.isoformat(), True),
    ("https://news.example/stored", None, True),  # the entry gives no time: nothing says it changed
    ("https://news.example/stored", (FETCHED_ENTRY + timedelta(hours=1)).isoformat(), False),
    ("https://news.example/stored?utm_source=feed", FETCHED_ENTRY.isoformat(), True),  # canonical URL
    ("https://news.example/new", FETCHED_ENTRY.isoformat(), False),
]


@pytest.mark.parametrize(("url", "changed", "skipped"), INCREMENTAL)
@deferred_f_from_coro_f
async def test_incremental(tmp_path: Path, url: str, changed: str | None, skipped: bool) -> None:
    database = f"sqlite:///{tmp_path / 'incremental.sqlite3'}"
    store = ArticleStore.connect(database)
    store.save(article(url="https://news.example/stored", fetched=FETCHED_ENTRY, entry_changed=FETCHED_ENTRY))
    store.close()
    crawler = crawler_with(STORE_URL=database, INCREMENTAL_ENABLED=True)
    middleware = SkipUnchangedArticles.from_crawler(crawler)
    try:
        request = Request(url, meta={} if changed == "absent" else {ENTRY_CHANGED: changed})
        if skipped:
            with pytest.raises(UnchangedArticle):
                await middleware.process_request(request)
        else:
            assert await middleware.process_request(request) is None
    finally:
        Database.of(crawler).close()
