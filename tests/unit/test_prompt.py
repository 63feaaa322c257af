"""The LLM prompt's data block: every text once, copies cited by id, compact headers and figures."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from digestcrawl.config import ModelConfig
from digestcrawl.digest.model import DayFigures, DigestInput, Story, StoryArticle
from digestcrawl.digest.summarize.prompt import body, copies, digest_messages, estimate_tokens, fit_stories

DAY = date(2026, 1, 19)
TEXT = "阿里巴巴旗下AI助手千問宣布全面接入淘寶與支付寶。千問App月活躍用戶已突破1億。"
OTHER = "Hugging Face數據顯示，通義千問系列模型下載量領跑。開源社群的採用持續擴大。"


def article(id: int, text: str = TEXT, title: str = "千問全面接入淘寶", publisher: str = "聯合新聞網",
            duplicate_of: str | None = None, published: datetime | None = None) -> StoryArticle:
    return StoryArticle(id=id, url=f"https://news.example/{id}", title=title, text=text, snippet="",
                        source="udn", category="news", publisher=publisher, language="zh-Hant",
                        published=published or datetime(2026, 1, 19, 2, tzinfo=UTC), score=5,
                        duplicate_of=duplicate_of)


def blocks(data: str) -> dict[int, str]:
    """Article id → its part's lines after the delimiter line, up to the next delimiter."""
    return {int(i): block for i, block in
            re.findall(r"^<<<ARTICLE (\d+)>>>\n(.*?)(?=^<<<|\Z)", data, re.DOTALL | re.MULTILINE)}


def test_body_drops_a_leading_repeat_of_the_title() -> None:
    assert body(article(1, f"千問全面接入淘寶\n{TEXT}")) == TEXT
    assert body(article(1, f"  千問全面接入淘寶  {TEXT}")) == TEXT
    assert body(article(1, "千問全面接入淘寶 聯合新聞網")) == ""  # a feed entry: title and outlet
    assert body(article(1, "千問全面接入淘寶")) == ""
    assert body(article(1, "千問全面接入淘寶後，用戶可一句話下單。")) == "千問全面接入淘寶後，用戶可一句話下單。"
    assert body(article(1, TEXT)) == TEXT
    assert body(article(1, "Qwen3 ships today.", title="Qwen")) == "Qwen3 ships today."


def test_copies_refer_to_an_article_in_the_prompt() -> None:
    original, copy = article(1), article(2, TEXT + "延伸閱讀。", duplicate_of="https://news.example/1")
    same_text, orphan = article(3, TEXT, title="另一標題"), article(4, OTHER, duplicate_of="https://elsewhere/9")
    assert copies([original, copy, same_text, orphan]) == {2: 1, 3: 1}
    assert copies([copy, same_text, orphan]) == {}  # the original is not sent: the copy's text is


def test_copy_keeps_its_outlet_and_title_but_not_its_text() -> None:
    story = Story("s1", [article(1), article(2, TEXT.replace("淘寶", "淘宝"), "千问接入淘宝", "新浪",
                                               duplicate_of="https://news.example/1")])
    data, sent = fit_stories([story], DAY, 100_000, 0)
    assert [a.id for a in sent] == [1, 2]
    assert blocks(data) == {1: f"聯合新聞網\n千問全面接入淘寶\n{TEXT}\n",
                            2: "新浪, copy of article 1\n千问接入淘宝"}


def test_a_copy_whose_original_is_left_out_is_sent_with_its_text() -> None:
    copy = article(1, "千問領跑。" + OTHER, "Qwen下載量領跑", "Yahoo", duplicate_of="https://news.example/3")
    stories = [Story("s1", [copy]), Story("s2", [article(2), article(3, OTHER, "千問下載量斷層領跑")])]
    titles = estimate_tokens(fit_stories(stories, DAY, 0, 0)[0])
    data, sent = fit_stories(stories, DAY, titles + 20, 0)
    assert [a.id for a in sent] == [1, 2]  # the lower story's second article is dropped first
    assert blocks(data)[1] == "Yahoo\nQwen下載量領跑\n千問領跑。\n"


def test_header_dates_only_other_days() -> None:
    older = article(2, OTHER, "千問下載量領跑", "Hacker News", published=datetime(2026, 1, 17, 9, tzinfo=UTC))
    data, _ = fit_stories([Story("s1", [article(1), older])], DAY, 100_000, 0)
    assert [block.split("\n")[0] for block in blocks(data).values()] == ["聯合新聞網", "Hacker News, 2026-01-17"]


def test_figures_are_compact_and_headlines_in_the_prompt_cited_by_id() -> None:
    finance = article(5, OTHER, "傑富瑞看好阿里雲成長", "cmnews")
    figures = DayFigures(mentions_by_category={"news": 1, "finance": 1},
                         trend={DAY - timedelta(days=i): i for i in range(7)}, co_mentioned={"deepseek": 2},
                         tickers=("BABA",), finance_titles=("傑富瑞看好阿里雲成長", "阿里股價震盪"))
    digest = DigestInput(model_key="qwen", model=ModelConfig(display="QWEN", aliases={"latin": ("Qwen",)}), day=DAY,
                         language="zh-TW", stories=[Story("s1", [article(1), finance])], figures=figures,
                         competitors={"deepseek": "DeepSeek"})
    task = digest_messages(digest, 100_000)[1]["content"].split("<<<STORY")[0]
    assert "Other watched models, for the comparison: DeepSeek." in task
    assert "Articles per day, 2026-01-13 to 2026-01-19: 6, 5, 4, 3, 2, 1, 0\n" in task
    assert "Articles also on other models: DeepSeek 2\n" in task
    assert "Finance headlines today: the titles of articles 5\n- 阿里股價震盪\n" in task
    assert "Downloads" not in task  # no series: not a token spent on it


def test_figures_give_the_series_download_changes() -> None:
    from dataclasses import replace

    from digestcrawl.digest.model import RepoTrend

    def trend(repo: str, previous: int | None, downloads: int) -> RepoTrend:
        first = DAY - timedelta(days=6)
        return RepoTrend(repo=repo, url=f"https://huggingface.co/{repo}", source="huggingface", downloads=downloads,
                         last_day=DAY, previous=previous, first_day=first if previous else None, likes=None,
                         series=((first, previous),) * bool(previous) + ((DAY, downloads),))

    figures = DayFigures(mentions_by_category={"news": 1}, trend={DAY: 1}, co_mentioned={}, tickers=(),
                         finance_titles=())
    digest = DigestInput(model_key="qwen", model=ModelConfig(display="QWEN", aliases={"latin": ("Qwen",)}), day=DAY,
                         language="zh-TW", stories=[Story("s1", [article(1)])],
                         figures=replace(figures, repo_trends=(trend("Qwen/Qwen3-8B", 50_000, 51_000),
                                                               trend("Qwen/Qwen3-Coder", 1000, 1380),
                                                               trend("Qwen/New", None, 10))))
    task = digest_messages(digest, 100_000)[1]["content"].split("<<<STORY")[0]
    assert task.endswith(
        "Downloads of Qwen/Qwen3-Coder (Hugging Face): 1000 on 2026-01-13, 1380 on 2026-01-19, +38% in 7 days\n"
        "Downloads of Qwen/Qwen3-8B (Hugging Face): 50000 on 2026-01-13, 51000 on 2026-01-19, +2.0% in 7 days\n\n")
    assert "Qwen/New" not in task  # one reading: no change to give


def test_a_feed_entry_repeating_an_article_is_left_out() -> None:
    entry = article(2, "千問全面接入淘寶 聯合新聞網")  # same outlet and title, no text of its own
    other_outlet = article(3, "", publisher="Yahoo")
    lead_entry = article(4, "")
    stories = [Story("s1", [article(1), entry, other_outlet]), Story("s2", [lead_entry])]
    data, sent = fit_stories(stories, DAY, 100_000, 0)
    assert [a.id for a in sent] == [1, 3, 4]  # a story's lead is always sent
    assert set(blocks(data)) == {1, 3, 4}
