"""A post a Taiwanese reader keeps reading (issue 22): one language, each fact once, one set of
numbers and honest labels. The table rows are the cases the issue quotes from real posts."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from digestcrawl.config import load_concepts, load_entities, load_models
from digestcrawl.digest.model import Analysis, DayFigures, DigestContent, DigestInput, Story, StoryArticle
from digestcrawl.digest.publish import RenderOptions, render_post
from digestcrawl.digest.read import co_mentions
from digestcrawl.digest.summarize import ExtractiveSummarizer
from digestcrawl.digest.summarize.grounding import ground_sections
from digestcrawl.digest.summarize.once import each_fact_once
from digestcrawl.text import EntityFinder, reads_as_chinese, split_sentences

DAY = date(2026, 1, 19)
FINDER = EntityFinder(load_entities())
MODELS = load_models()
USERS_100M = "阿里方面19日透露，千問App月活躍使用者已突破1億，春節過後將開放第三方服務商入駐。"
APP_TEXT = ("阿里巴巴旗下AI助手千問App本月完成大改版，陸續接入淘寶、支付寶、飛豬與高德地圖等集團服務。"
            f"{USERS_100M}使用者只要一句語音指令，就能完成點餐與付款。")
FIN_TEXT = (f"{USERS_100M}外資券商傑富瑞看好阿里巴巴將千問整合到電商與支付，帶動雲端成長動能。"
            "阿里巴巴開源社群的採用持續擴大。")
ASK_HN = "Ask HN: Is Qianwen good for coding?"
ASK_HN_TEXT = ("We are evaluating Qianwen (Qwen3-Coder) as a self-hosted coding assistant for a team of "
               "twelve. Is anyone running it with long context in production?")
LEADERBOARD = "Qwen3-Max tops open-model leaderboard"


def article(id: int, title: str, text: str, language: str | None = "zh-Hant", publisher: str = "聯合新聞網",
            category: str = "news") -> StoryArticle:
    return StoryArticle(id=id, url=f"https://news{id}.example/a", title=title, text=text, snippet="",
                        source="src", category=category, publisher=publisher, language=language,
                        published=datetime(2026, 1, 19, 10, tzinfo=ZoneInfo("Asia/Taipei")), score=5)


def demo_like_day(language: str = "zh-TW") -> DigestInput:
    """The demo day's shape: a Chinese story told by three outlets, an English-only discussion,
    a first-party blog post whose only text is its title."""
    stories = [
        Story("s-app", [article(1, "千問App重磅升級：打通淘寶支付寶飛豬高德 月活突破1億", APP_TEXT),
                        article(2, "阿里巴巴千問App月活破億 大行看好", FIN_TEXT, publisher="Yahoo財經",
                                category="finance"),
                        article(3, "Alibaba's Qwen app passes 100M monthly users",
                                "Alibaba said the Qwen app passed 100 million monthly users.", "en", "SCMP")]),
        Story("s-hn", [article(4, ASK_HN, ASK_HN_TEXT, None, "Hacker News", "social")]),
        Story("s-blog", [article(5, LEADERBOARD, LEADERBOARD, "en", "Qwen")]),
    ]
    figures = DayFigures(mentions_by_category={"news": 2, "finance": 1, "social": 1, "release": 1},
                         trend={DAY: 5}, co_mentioned={}, tickers=("BABA", "9988.HK"),
                         finance_titles=("阿里巴巴千問App月活破億 大行看好",), stories=4, sources=6)
    return DigestInput(model_key="qwen", model=MODELS["qwen"], day=DAY, language=language, stories=stories,
                       figures=figures)


def offline_post(digest: DigestInput) -> tuple[DigestContent, str]:
    result = ExtractiveSummarizer(FINDER).summarize(digest)
    return result.content, render_post(digest, result, RenderOptions())


def prose(content: DigestContent) -> list[str]:
    """Every sentence of the post's prose but the stories' titles."""
    texts = [content.summary, content.trend, *(story.paragraph for story in content.stories),
             content.analysis.industry, content.analysis.competition, content.analysis.market,
             *content.key_points, *content.developers, *content.users]
    return [sentence for text in texts for sentence in split_sentences(text)]


@pytest.mark.parametrize(("text", "chinese"), [
    ("We are evaluating Qianwen (Qwen3-Coder) as a self-hosted coding assistant…", False),
    (ASK_HN, False),
    ("Spring Festival", False),
    ("Monthly active users", False),
    ("Alibaba's 千问 app hits 100 million users", False),
    ("千問アプリの月間利用者が1億人を突破した。", False),  # Japanese
    ("Qwen3-Coder-Next 總參數80B、啟用3B。", True),  # names and figures in a Chinese sentence
    ("Qwen3-Coder-30B-A3B-Instruct 下載量 7 日 +38%（Hugging Face）。", True),
    ("千問App月活躍使用者已突破1億。", True),
])
def test_what_reads_as_chinese(text: str, chinese: bool) -> None:
    assert reads_as_chinese(text) is chinese


def test_a_zh_tw_post_says_nothing_in_another_language() -> None:
    content, post = offline_post(demo_like_day())
    foreign = [sentence for sentence in prose(content) if not reads_as_chinese(sentence)]
    # The English-only story's paragraph is its title, never shown (it is an "other report").
    assert foreign in ([], [ASK_HN, LEADERBOARD], [LEADERBOARD, ASK_HN]) or all(
        s in (ASK_HN, LEADERBOARD) for s in foreign)
    body = post.split("\n---\n", 1)[1]
    assert "We are evaluating" not in post and "self-hosted" not in post
    # Tags are Chinese names from the entity table: not "Alibaba, Open source, Alipay, Amap".
    tags = re.search(r"^tags: \[(.*)\]$", post, re.M)[1].split(", ")  # type: ignore[index]
    assert "阿里巴巴" in tags and not {"Alibaba", "Open source", "Alipay", "Amap", "Qianwen"} & set(tags)
    # An article in another language contributes its original title, marked with its language.
    assert f"- {ASK_HN}【英文報導】（來源：" in body
    assert "Monthly active users" not in body and "Spring Festival" not in body


def test_a_title_only_story_is_one_line_under_other_reports() -> None:
    _, post = offline_post(demo_like_day())
    body = post.split("\n---\n", 1)[1].split("## 🔗")[0]
    others = body.split("### 其他報導\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert any(line.startswith(f"- {LEADERBOARD}【英文報導】（來源：") for line in others)
    # Never a highlight, and never its own body: the title appears once in the body.
    assert body.count(LEADERBOARD) == 1
    assert f"{LEADERBOARD}（來源：" not in body


def test_each_fact_is_said_once_across_the_post() -> None:
    content, post = offline_post(demo_like_day())
    body = post.split("\n---\n", 1)[1].split("## 🔗")[0]
    # The 1億 monthly-users sentence: once (in its highlight), not again in the analysis or the
    # users' notes.
    assert body.count("千問App月活躍使用者已突破1億") == 1
    assert not set(content.developers) & set(content.users)


def test_each_fact_once_keeps_the_section_that_serves_it_best() -> None:
    sentence = "千問App月活躍使用者突破1億，多間券商隨即發表報告。"
    content = DigestContent(
        summary="摘要。", trend="今日報導增加。", stories=[{"story_key": "k", "title": "千問", "paragraph": sentence,
                                                         "cited": [1]}],
        analysis=Analysis(industry=f"產業意義重大。{sentence}", competition="", market=sentence),
        key_points=["一則重點在此。", "二則重點在此。", "三則重點在此。", "四則重點在此。"],
        developers=["開發者可下載模型權重。", "開發者可呼叫 API。"],
        users=[f"{sentence}（聯合新聞網）", "使用者可用語音點餐。", "使用者可訂票。"])
    once = each_fact_once(content)
    assert once.stories[0].paragraph == sentence
    assert once.analysis.industry == "產業意義重大。" and once.users == ["使用者可用語音點餐。", "使用者可訂票。"]
    assert once.analysis.market == ""  # a section that only repeats is left out
    titled = content.model_copy(update={"trend": "千問。", "analysis": Analysis(
        industry="報導最多的「千問」來源包括聯合新聞網。", competition="", market="")})
    assert each_fact_once(titled).trend == ""  # a story's title said again as a sentence
    assert each_fact_once(titled).analysis.industry == "報導最多的「千問」來源包括聯合新聞網。"  # a reference


def test_one_set_of_numbers_with_categories_that_add_up() -> None:
    content, post = offline_post(demo_like_day())
    # 5 articles (news 2, social 1, finance 1, official release 1), 6 sources, 4 stories, everywhere.
    assert content.trend.startswith("今日 QWEN 相關報導 5 則（新聞 2、社群 1、財經 1、官方發布 1）")
    assert content.summary.startswith("2026-01-19 QWEN 相關報導 5 則，來自 6 個來源，歸納為 4 則事件。")
    assert "tagline: 彙整 5 則 QWEN 相關報導" in post
    assert post.rstrip().endswith("*本文由程式從 5 則報導（6 個來源）擷取原文句子彙整，未經 AI 語言模型改寫。*")
    assert "generator: extractive" in post.split("\n---\n", 1)[0]  # named in the front matter only
    assert "summary_label: 摘要" in post and "AI 摘要" not in post
    assert "財經來源今日有 1 則相關報導" in content.analysis.market


def test_a_comparison_names_the_other_models_the_sources_name() -> None:
    verge = article(6, "Alibaba's new Qwen coding model takes aim at Claude Code",
                    "Anthropic's Claude Code and Meta's Llama models are the rivals of the new AI model.", "en")
    others = {key: model for key, model in MODELS.items() if key != "qwen"}
    named = co_mentions([verge], others, {})
    assert {"claude", "llama"} <= set(named)
    digest = demo_like_day()
    digest.figures = DayFigures(**{**digest.figures.__dict__, "co_mentioned": named})
    digest.competitors = {key: model.display for key, model in others.items()}
    content, _ = offline_post(digest)
    assert "CLAUDE" in content.analysis.competition and "LLAMA" in content.analysis.competition
    # No watched model named: the comparison is left out, never a false "none".
    content, post = offline_post(demo_like_day())
    assert content.analysis.competition == "" and "與競爭對手的比較" not in post
    assert "未同時提及" not in post


def test_the_llm_path_replaces_a_foreign_sentence_like_an_ungrounded_one() -> None:
    digest = demo_like_day()
    offline = ExtractiveSummarizer(FINDER).summarize(digest).content
    written = offline.model_copy(update={
        "summary": "千問App月活躍使用者已突破1億。We are evaluating Qianwen as a coding assistant.",
        "users": ["使用者只要一句語音指令，就能完成點餐與付款。", "Users can order takeout with one voice command.",
                  "春節過後將開放第三方服務商入駐。"],
        "tags": ["Alibaba", "Open source", "Spring Festival", "千問"]})
    grounded = ground_sections(written, digest, lambda: offline, FINDER)
    assert grounded.content.summary == "千問App月活躍使用者已突破1億。"
    assert "Users can order" not in " ".join(grounded.content.users)
    assert any("not written in Chinese" in problem for problem in grounded.dropped["users"])
    # A name in another script is the entity's Chinese name, or left out.
    assert grounded.content.tags == ["阿里巴巴", "開源", "春節", "千問"]


@pytest.mark.parametrize(("generator", "replaced", "label"), [
    ("llm:qwen-max", [], "AI 摘要"),
    ("llm:qwen-max", ["summary"], "摘要"),  # the offline summary took the LLM's place
    ("extractive", [], "摘要"),
])
def test_ai_summary_only_over_what_a_language_model_wrote(generator: str, replaced: list[str], label: str) -> None:
    digest = demo_like_day()
    result = ExtractiveSummarizer(FINDER).summarize(digest)
    result.generator, result.replaced_sections = generator, replaced
    post = render_post(digest, result, RenderOptions())
    assert f"summary_label: {label}\n" in post


def test_a_market_view_grouped_into_another_story_is_said_once() -> None:
    """Jefferies' view, grouped with the app story it comments on, is said (in the highlight or
    the market analysis), once: the market analysis gives a finance sentence no highlight gives."""
    content, post = offline_post(demo_like_day())
    body = post.split("\n---\n", 1)[1].split("## 🔗")[0]
    assert body.count("外資券商傑富瑞看好阿里巴巴將千問整合到電商與支付") == 1
    market = split_sentences(content.analysis.market)
    assert market[0] == "財經來源今日有 1 則相關報導（BABA, 9988.HK）。"
    assert not set(market[1:]) & set(split_sentences(content.stories[0].paragraph))


def test_new_names_are_names_in_their_taiwan_spelling() -> None:
    """The week's new names hold no topic (月活, "Monthly active users" before) and a name that
    one folding joins (傑富瑞, 杰富瑞) takes the table's first spelling, not the mainland one."""
    digest = demo_like_day()
    digest = dataclasses.replace(digest, figures=dataclasses.replace(digest.figures, earlier_entities=frozenset()))
    finder = EntityFinder(load_entities(), load_concepts())
    industry = ExtractiveSummarizer(finder).summarize(digest).content.analysis.industry
    line = next(sentence for sentence in split_sentences(industry) if "未曾出現的名稱" in sentence)
    assert "傑富瑞" in line and "杰富瑞" not in line
    assert not {"月活", "月活躍", "春節", "開源"} & set(re.split(r"[：、。]", line))
    assert "Monthly active users" in load_concepts() and "Jefferies" not in load_concepts()
