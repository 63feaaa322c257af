"""The post checker finds each fault issue 22 quotes from real posts (one table row each), and
nothing in a post that has none of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digestcrawl.config import load_entities
from digestcrawl.digest.publish import check_post

SOURCES = "## 🔗 資料來源\n- [千問App月活突破1億](https://udn.com/news/story/1)\n"
FOOTER = "\n---\n*本文由 AI 自動生成，彙整自 1 篇新聞來源。*\n"


def post(body: str, *, tags: str = "[QWEN, 千問]", sources: str = SOURCES, generator: str = "llm:test",
         tagline: str = "彙整 1 則 QWEN 相關新聞", extra: str = "") -> str:
    return (f"---\nlayout: post\ntitle: QWEN 每日動態 - 2026-01-19\ntagline: {tagline}\ndate: 2026-01-19\n"
            f"lang: zh-Hant\nmodel: qwen\ntags: {tags}\n{extra}generator: {generator}\n---\n"
            f"## 本週模型趨勢\n{body}\n\n{sources}{FOOTER}")


CLEAN = post("阿里巴巴旗下AI助手千問App月活躍使用者突破1億，春節後將開放第三方服務入駐。")


def kinds(text: str, **options: object) -> list[str]:
    return [f.kind for f in check_post(text, entities=load_entities(), **options)]  # type: ignore[arg-type]


def test_a_post_without_faults_has_no_findings() -> None:
    assert check_post(CLEAN, entities=load_entities(), source_names={"cmnews", "udn"}) == []


@pytest.mark.parametrize(("case", "text", "kind"), [
    # Foreign prose in a zh-Hant post.
    ("english summary", post("千問App接入淘寶。We are evaluating Qianwen (Qwen3-Coder) as a self-hosted "
                             "coding assistant for a team of twelve."), "foreign"),
    ("english story", post("- Ask HN: Is Qianwen good for coding?\n\n  千問App接入淘寶。"), "foreign"),
    ("english tags", post("千問App接入淘寶。", tags="[Alibaba, Open source, Alipay, Amap]"), "foreign"),
    ("english new names", post("前 7 日報導未曾出現的名稱：Google、Monthly active users。"), "foreign"),
    # A title used as its own body; the same fact three times.
    ("title as body", post("- Qwen3-Max 登上開源模型排行榜首位\n\n  Qwen3-Max 登上開源模型排行榜首位（來源：[Qwen]"
                           "(https://qwenlm.github.io/blog/x)）"), "repeated"),
    ("fact repeated", post("千問App月活躍使用者已突破1億，春節後將開放第三方服務。\n\n- 對一般使用者\n"
                           "  - 千問App月活躍使用者已突破1億，春節後將開放第三方服務。"), "repeated"),
    # Wrong attribution.
    ("scmp as reddit", post("千問App接入淘寶。（來源：[Reddit](https://www.scmp.com/tech/article/1)）"), "label"),
    ("qwen blog as hn", post("Qwen3-Max 登頂。（來源：[Hacker News](https://qwenlm.github.io/blog/x)）"), "label"),
    ("another outlet", post("千問App接入淘寶。（來源：[聯合新聞網](https://www.scmp.com/tech/article/1)）"), "label"),
    ("address", post("千問App接入淘寶。（來源：[127.0.0.1](http://127.0.0.1:8000/a)）"), "label"),
    ("config name", post("千問App接入淘寶。（來源：[cmnews](http://127.0.0.1:8000/a)）"), "label"),
    ("google news redirect", post("千問App接入淘寶。", sources="## 🔗 資料來源\n- [千問]"
                                                          "(https://news.google.com/rss/articles/CBMiWVQik3b)\n"),
     "label"),
    # Conversion and wording errors.
    ("发表", post("英國醫生髮表論文。"), "conversion"),
    ("激活", post("總參數80B、啟用3B。"), "conversion"),
    ("优化", post("模型將持續最佳化。"), "conversion"),
    ("马克龙", post("馬克龍與普京會談。"), "conversion"),
    ("泽连斯基", post("澤連斯基會見朔爾茲。"), "conversion"),
    ("耐克", post("耐克推出新品。"), "conversion"),
    ("quotes", post("他說“這是開始”。"), "conversion"),
    ("simplified title", post("千問App接入淘寶。", sources="## 🔗 資料來源\n"
                              "- [千问开源Qwen3-Coder-Next：80B参数只激活3B](https://udn.com/news/story/1)\n"),
     "simplified"),
    ("simplified sentence", post("阿里巴巴发布了新的开源模型。"), "simplified"),
    # Contradictions.
    ("counts differ", post("今日 QWEN 相關報導 15 則（新聞 7、社群 4、財經 4）。", tagline="彙整 12 則 QWEN 相關新聞"),
     "counts"),
    ("split does not add up", post("今日相關報導 8 則（新聞 5、社群 0、財經 0）。", tagline="彙整 8 則 QWEN 相關新聞"),
     "counts"),
    ("category said twice", post("今日相關報導 15 則（新聞 7、社群 4、財經 4）。財經來源今日有 3 則相關報導（BABA）。",
                                  tagline="彙整 15 則 QWEN 相關新聞"), "counts"),
    ("sources said", post("相關報導 1 則，來自 10 個來源。"), "counts"),
    ("ai label", post("千問App接入淘寶。", generator="extractive", extra="ai_summary: 千問App接入淘寶。\n"),
     "ai_label"),
])
def test_each_real_fault_is_found(case: str, text: str, kind: str) -> None:
    assert kind in kinds(text, source_names={"cmnews", "udn"}), case


def test_traditional_text_as_an_outlet_wrote_it_is_no_finding() -> None:
    # 台灣, 數據 and 公布 are an outlet's Traditional words, not mis-conversions.
    assert kinds(post("台灣數據公布，千問App月活躍用戶突破1億。")) == []


def test_undated_and_old_sources_are_found_with_the_stores_dates() -> None:
    sources = ("## 🔗 資料來源\n- [今日](https://udn.com/1)\n- [教科書](https://example.org/book)\n"
               "- [2004 年的文章](https://example.org/2004)\n")
    text = post("千問App接入淘寶。", sources=sources).replace("彙整自 1 篇", "彙整自 3 篇")
    dates = {"https://udn.com/1": datetime(2026, 1, 19, 2, tzinfo=UTC), "https://example.org/book": None,
             "https://example.org/2004": datetime(2004, 5, 1, tzinfo=UTC)}
    found = check_post(text, dates=lambda urls: {u: dates[u] for u in urls if u in dates})
    assert [(f.line, f.kind) for f in found] == [(16, "undated"), (17, "out_of_window")]
    assert found[0].format("post.md").startswith("post.md:16: undated: https://example.org/book")


SITE_STORY = ('- {: #story-f79ad3a23066} 千問春節後將開放第三方入駐{% include follow_up.html '
              'post="_posts/2026-01-18-qwen-daily.md" story="2328b214b071" text="（2026-01-18 事件的後續）" %}'
              '{% include storyline_link.html story="f79ad3a23066" %}\n\n  千問App月活躍使用者已突破1億。')


@pytest.mark.parametrize(("case", "text"), [
    ("site links are markup", post(SITE_STORY)),
    ("a marked title after the site links", post(
        '### 其他報導\n- {: #story-28589f27eb28} Ask HN: Is Qianwen good for coding?'
        '{% include storyline_link.html story="28589f27eb28" %}【英文報導】'
        '（來源：[Hacker News](https://news.ycombinator.com/item?id=1)）')),
    ("the summary box labelled 摘要", post("千問App接入淘寶。", generator="extractive",
                                          extra="ai_summary: 千問App接入淘寶。\nsummary_label: 摘要\n")),
    ("a story's own count", post("- 千問春節後將開放第三方入駐（7 個來源）")),
    ("the summary quotes a highlight", post(SITE_STORY, extra="description: 焦點：「千問春節後將開放第三方入駐」。\n"
                                             "stories:\n- {key: f79ad3a23066, title: 千問春節後將開放第三方入駐}\n")),
])
def test_a_correct_post_is_read_as_its_reader_reads_it(case: str, text: str) -> None:
    assert kinds(text) == [], case


@pytest.mark.parametrize(("case", "text", "kind"), [
    ("AI 摘要 as the label", post("千問App接入淘寶。", generator="extractive",
                                 extra="ai_summary: 千問App接入淘寶。\nsummary_label: AI 摘要\n"), "ai_label"),
    ("an unmarked title after the site links", post(
        '- {: #story-28589f27eb28} Ask HN: Is Qianwen good for coding?{% include storyline_link.html story="a" %}'),
     "foreign"),
    ("the day's sources twice", post("相關報導 1 則，來自 2 個來源。"), "counts"),
    ("a title said again after its site links", post(SITE_STORY + "\n\n## 📌 重點摘要\n- 千問春節後將開放第三方入駐"),
     "repeated"),
])
def test_faults_behind_site_markup_are_still_found(case: str, text: str, kind: str) -> None:
    assert kind in kinds(text), case
