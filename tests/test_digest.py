"""The digest from a real crawl of the fixture web: `scrapy crawl` ×3, then `scrapy digest`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from digestcrawl.config import load_entities
from digestcrawl.digest.extractive import ExtractiveSummarizer, split_sentences
from digestcrawl.digest.repository import DigestRepository
from digestcrawl.digest.stories import EntityFinder, group_stories
from digestcrawl.storage import DigestRow, StoryArticleRow, StoryRow, make_engine
from tests.conftest import FIXTURE_WINDOW, ROOT
from tests.fixtureweb.server import FixtureWeb

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
    for name, value in {"DATABASE_URL": database_url, "DIGESTCRAWL_SOURCES_FILE": str(sources),
                        "NETGUARD_ALLOW": "127.0.0.1", "DIGEST_SITE_DIR": str(workdir / "site"),
                        "REPORT_DIR": str(workdir / "reports"), "SPOOL_DIR": str(workdir / "spool"),
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
    assert listed.stdout.split() == ["finance", "news", "social"]
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
    sources = [line for line in body.split("## 🔗 資料來源")[1].splitlines() if line.startswith("- [")]
    assert f"彙整 {len(sources)} 則" in meta["tagline"]
    assert f"{len(sources)} 篇" in body.rstrip().splitlines()[-1]
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
    assert len(set(keys)) == len(keys), "unrelated stories merged"


def _url(web: FixtureWeb, member: str) -> str:
    if "://" in member:
        return member.removesuffix("?oc=5")
    return web.url(*member.split("/", 1))


def _day_stories(crawled: Crawled) -> tuple[list, DigestRepository]:  # type: ignore[type-arg]
    engine = make_engine(crawled.database_url)
    repository = DigestRepository(engine, ZoneInfo("Asia/Taipei"))
    return group_stories(repository.articles("qwen", DAY), EntityFinder(load_entities())), repository


def test_extractive_summary_is_verbatim_from_cited_articles(crawled: Crawled) -> None:
    stories, repository = _day_stories(crawled)
    from digestcrawl.config import load_models
    from digestcrawl.digest.model import DigestInput

    models = load_models()
    articles = [a for s in stories for a in s.articles]
    digest = DigestInput(model_key="qwen", model=models["qwen"], day=DAY, language="zh-TW", stories=stories[:5],
                         figures=repository.figures("qwen", DAY, articles, models["qwen"].tickers, ["llama"]))
    result = ExtractiveSummarizer(EntityFinder(load_entities())).summarize(digest)
    assert 4 <= len(result.content.key_points) <= 8
    for summary in result.content.stories:
        cited = [digest.article(i) for i in summary.cited]
        assert all(cited)
        for sentence in split_sentences(summary.paragraph):
            assert any(sentence in (a.text or a.snippet) for a in cited if a), sentence


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
