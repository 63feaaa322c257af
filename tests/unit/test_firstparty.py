"""First-party signals: what a release, checkpoint or paper article is, whether a report names
it, and the download changes the digest may state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from digestcrawl.digest.firstparty import (
    download_changes,
    folded,
    named_in,
    release_of,
    releases,
    version_key,
)
from digestcrawl.digest.model import RepoTrend, StoryArticle

DAY = date(2026, 1, 19)


def item(url: str, title: str, category: str = "release", text: str = "") -> StoryArticle:
    return StoryArticle(id=hash(url) % 1000, url=url, title=title, text=text, snippet="", source="src",
                        category=category, publisher="", language="en",
                        published=datetime(2026, 1, 18, 17, tzinfo=UTC), score=5)


RELEASE = item("https://github.com/QwenLM/Qwen3/releases/tag/v3.1.0", "QwenLM/Qwen3 v3.1.0")
CHECKPOINT = item("https://huggingface.co/Qwen/Qwen3-Coder-30B-A3B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct")
PAPER = item("https://arxiv.org/abs/2505.09388v2", "Qwen3 Technical Report on Thinking and Non-thinking Modes",
             "paper")


def test_what_each_first_party_article_is() -> None:
    zone = ZoneInfo("Asia/Taipei")
    release, checkpoint, paper = (release_of(a, zone) for a in (RELEASE, CHECKPOINT, PAPER))
    assert release and (release.kind, release.name, release.version, release.label) == (
        "release", "QwenLM/Qwen3", "v3.1.0", "QwenLM/Qwen3 v3.1.0")
    assert release.day == DAY  # 17:00 UTC on the 18th is the 19th in Taipei
    assert checkpoint and (checkpoint.kind, checkpoint.label) == ("checkpoint", "Qwen/Qwen3-Coder-30B-A3B-Instruct")
    assert paper and (paper.kind, paper.version) == ("paper", "")
    assert release_of(item("https://news.example/1", "Qwen3 3.1", "news")) is None
    # A release from elsewhere: its name and version from the title.
    other = release_of(item("https://gitee.example/r/1", "QwenLM/Qwen2.5 v2.5.1"))
    assert other and (other.name, other.version) == ("QwenLM/Qwen2.5", "v2.5.1")


def test_releases_are_listed_once_by_kind_and_copies_left_out() -> None:
    copy = StoryArticle(**{**RELEASE.__dict__, "url": "https://mirror.example/x",
                           "duplicate_of": RELEASE.url})
    assert [r.kind for r in releases([PAPER, RELEASE, copy, CHECKPOINT, RELEASE])] == [
        "checkpoint", "release", "paper"]


@pytest.mark.parametrize(("version", "key"), [("v3.1.0", "3.1"), ("3.1", "3.1"), ("V2.5.0.0", "2.5"),
                                              ("3.0.0", "3.0"), ("1.2.3", "1.2.3")])
def test_version_key(version: str, key: str) -> None:
    assert version_key(version) == key


@pytest.mark.parametrize(("article", "text", "named"), [
    (RELEASE, "Alibaba releases Qwen3 3.1 with better tool calling", True),
    (RELEASE, "阿里發布Qwen3 3.1版 強化工具調用", True),
    (RELEASE, "Alibaba releases Qwen3, its new model family", False),  # the repo alone: any report
    (RELEASE, "Qwen3 3.2 is out", False),
    (RELEASE, "Qwen2 3.1 update", False),
    (CHECKPOINT, "The new qwen3-coder-30b-a3b-instruct runs on one GPU", True),
    (CHECKPOINT, "Qwen3-Coder-480B-A35B-Instruct leads the benchmark", False),
    (PAPER, "Details are in the report (arXiv:2505.09388).", True),
    (PAPER, "the Qwen3 technical report on thinking and non-thinking modes says", True),
    (PAPER, "Qwen3 technical report", False),
])
def test_a_report_names_a_release(article: StoryArticle, text: str, named: bool) -> None:
    release = release_of(article)
    assert release is not None
    assert named_in(release, folded(text)) is named


def trend(repo: str, previous: int | None, downloads: int, first: date | None = date(2026, 1, 13)) -> RepoTrend:
    return RepoTrend(repo=repo, url=f"https://huggingface.co/{repo}", source="huggingface", downloads=downloads,
                     last_day=DAY, previous=previous, first_day=first if previous is not None else None,
                     likes=None, series=())


def test_download_changes_give_the_biggest_moves_of_the_largest_repositories() -> None:
    trends = (trend("Qwen/Big", 100_000, 104_500), trend("Qwen/Coder", 1000, 1380), trend("Qwen/New", None, 900),
              trend("Qwen/Down", 2000, 1000, date(2026, 1, 18)))
    changes = download_changes(trends)
    assert [(c.name, c.percent, c.days, c.source) for c in changes] == [
        ("Down", "-50%", 2, "Hugging Face"), ("Coder", "+38%", 7, "Hugging Face"), ("Big", "+4.5%", 7, "Hugging Face")]
    assert changes[1].describe() == ("Qwen/Coder (Hugging Face): 1000 on 2026-01-13, 1380 on 2026-01-19, "
                                     "+38% in 7 days")
    assert download_changes(trends, limit=1)[0].name == "Down"
    assert download_changes(()) == []


def test_unreadable_urls_name_nothing_and_break_nothing() -> None:
    paper = release_of(item("http://[::1", "A paper with a long enough title to count", "paper"))
    release = release_of(item("http://[::1", "QwenLM/Qwen3 v3.1.0"))
    assert paper and release and (release.name, release.version) == ("QwenLM/Qwen3", "v3.1.0")
    assert not named_in(paper, folded("arxiv 2505.09388"))
    assert named_in(paper, folded("see a paper with a long enough title to count."))
