"""The Jekyll post and its infographic, from hand-built digests; the last test runs real Jekyll."""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from matplotlib import font_manager
from scrapy.settings import Settings

from digestcrawl.config import ModelConfig, load_entities
from digestcrawl.digest.model import (
    STORY_TITLE_MAX,
    Analysis,
    DayFigures,
    DigestContent,
    DigestInput,
    Language,
    Story,
    StoryArticle,
    StorySummary,
    SummaryResult,
)
from digestcrawl.digest.publish import (
    RenderOptions,
    StagedFiles,
    create_skeleton,
    files,
    infographic,
    post_paths,
    render_post,
    storyline,
    write_post,
)
from digestcrawl.digest.publish.infographic import CJKFontMissing, cjk_font, draw_infographic
from digestcrawl.digest.publish.markdown import escape_markdown, safe_url
from digestcrawl.digest.read.sanitize import TITLE_MAX, UNSAFE, clean_article, title_for
from digestcrawl.digest.summarize import ExtractiveSummarizer
from digestcrawl.text.entities import EntityFinder
from tests.conftest import project_settings

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 1, 19)
MODEL = ModelConfig(display="QWEN", company="Alibaba", tickers=("BABA", "9988.HK"),
                    aliases={"latin": ("Qwen", "Qianwen"), "zh-Hant": ("通義千問", "千問"),
                             "zh-Hans": ("通义千问", "千问"), "ja": ("クウェン",)})
LONG_TITLE = ("1家抵8家!阿里千問下載量斷層領跑，單月擊敗Meta、OpenAI等全球對手，"
              "開源社群採用持續擴大，Hugging Face 排行榜前十名有七個是千問衍生模型")
JA_TITLE = "アリババ、淘宝網を主力AIアプリに連携－国際版も"
HOSTILE_TITLE = '<script>alert("x")</script> [click](javascript:alert(1)) {{ site.title }}'
SOURCE_LIST_URLS = ["https://news.example/13", "https://news.example/11", "https://mashdigi.example/12",
                    "https://aibase.example/21", "https://bloomberg.example/jp/22",
                    "https://cmnews.example/a%20b%28c%29"]
HEADINGS = {
    "zh-TW": ["本週模型趨勢", "📰 本週新聞焦點", "🔍 深度分析", "📌 重點摘要", "💡 延伸思考",
              "🔗 資料來源"],
    "zh-CN": ["本周模型趋势", "📰 本周新闻焦点", "🔍 深度分析", "📌 重点摘要", "💡 延伸思考",
              "🔗 资料来源"],
    "en": ["Model trend this week", "📰 News highlights", "🔍 In-depth analysis", "📌 Key points",
           "💡 Further thoughts", "🔗 Sources"],
    "ja": ["今週のモデル動向", "📰 今週のニュース", "🔍 深掘り分析", "📌 要点", "💡 さらに考える",
           "🔗 情報源"],
}
LINK = re.compile(r"\[((?:[^\]\\]|\\.)*)\]\(([^)\s]*)\)")


def article(id: int, title: str, url: str, language: str | None = "zh-Hant", publisher: str = "udn",
            category: str = "news") -> StoryArticle:
    return StoryArticle(id=id, url=url, title=title, text=f"{title}。", snippet="", source="src",
                        category=category, publisher=publisher, language=language,
                        published=datetime(2026, 1, 19, 9, tzinfo=ZoneInfo("Asia/Taipei")), score=5)


def make_digest(language: Language = "zh-TW", model: ModelConfig = MODEL,
                model_key: str = "qwen") -> DigestInput:
    stories = [
        Story("s-app", [
            article(11, "千問春節後將開放第三方入駐 國際版年內上線", "https://news.example/11"),
            article(12, "Alibaba's Qianwen integrates with Alipay & Taobao", "https://mashdigi.example/12",
                    "en", "mashdigi"),
            article(13, "千问春节后将开放第三方入驻", "https://news.example/13", "zh-Hans",
                    "Yahoo 财经"),
            # udn again: one link per outlet
            article(14, "千問國際版年內上線", "https://news.example/14"),
        ]),
        Story("s-open", [
            article(21, LONG_TITLE, "https://aibase.example/21", publisher="AIbase"),
            article(22, JA_TITLE, "https://bloomberg.example/jp/22", "ja", "ブルームバーグ"),
            article(23, HOSTILE_TITLE, "javascript:alert(1)", "en", "evil"),
        ]),
        Story("s-fin", [
            article(31, "傑富瑞看好阿里巴巴 AI 整合", "https://cmnews.example/a b(c)",
                    publisher="cmnews", category="finance"),
            article(32, "千問春節後將開放第三方入駐", "https://news.example/11"),  # same URL as 11
        ]),
    ]
    figures = DayFigures(mentions_by_category={"news": 6, "social": 1, "finance": 2},
                         trend={DAY - timedelta(days=i): 7 - i for i in range(7)},
                         co_mentioned={"deepseek": 2}, tickers=model.tickers, finance_titles=())
    return DigestInput(model_key=model_key, model=model, day=DAY, language=language,
                       stories=stories, figures=figures, competitors={"deepseek": "DEEPSEEK"})


def make_result(generator: str = "llm:test-model", **changes: Any) -> SummaryResult:
    content = DigestContent(
        summary="千问App**全面升级**，接入淘宝与支付宝。\n开源下载量领先。",
        trend="千问本周热度上升，阿里发布开源模型。",
        stories=[
            StorySummary(story_key="s-app", title="千问 App 全面升级与生态整合",
                         paragraph="千问春节后将开放第三方入驻，国际版年内上线。", cited=[13, 11]),
            StorySummary(story_key="s-open", title="開源影響力急速擴張",
                         paragraph="AIbase 指出通義千問下載量領跑。", cited=[21]),
            StorySummary(story_key="s-fin", title="資本市場關注", paragraph="傑富瑞看好阿里巴巴。",
                         cited=[31]),
        ],
        analysis=Analysis(industry="數据显示下载量领先。", competition="與 DEEPSEEK 同日被提及。",
                          market="財經來源 2 則。"),
        key_points=["千问国际版年内上线", JA_TITLE, "開源下載量領跑", "財經來源 2 則"],
        developers=["开发者可以通过阿里云调用千问", "留意 API 更新"],
        users=["一般用户可在 App 下单", "注意隱私設定"],
        tags=["千问", "Alibaba", "淘寶", "QWEN"],
    )
    return SummaryResult(content=content.model_copy(update=changes), generator=generator)


def split_post(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    front = yaml.safe_load(head)
    assert isinstance(front, dict)
    return front, body


def sections(body: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            current = found.setdefault(line[3:], [])
        else:
            current.append(line)
    return found


def source_list(body: str, heading: str = "🔗 資料來源") -> list[tuple[str, str]]:
    lines = [line for line in sections(body)[heading] if line.startswith("- ")]
    links = [LINK.fullmatch(line[2:]) for line in lines]
    assert all(links), lines
    return [(m[1], m[2]) for m in links if m]


def footer(body: str) -> str:
    lines = body.rstrip("\n").splitlines()
    assert lines[-2] == "---"
    return lines[-1]


@pytest.fixture
def post() -> str:
    return render_post(make_digest(), make_result(), RenderOptions())


def test_front_matter_has_exactly_the_required_keys(post: str) -> None:
    front, _ = split_post(post)
    assert list(front) == ["layout", "title", "tagline", "date", "lang", "model", "categories", "tags",
                           "image", "image_narrow", "description", "ai_summary", "summary_label", "sources", "stories",
                           "generator"]
    assert front["layout"] == "post"
    assert front["title"] == "QWEN 每日動態 - 2026-01-19"
    assert front["tagline"] == "彙整 9 則 QWEN 相關報導"  # the day's articles: news 6, social 1, finance 2
    assert front["date"] == DAY
    assert front["model"] == "qwen"
    assert front["categories"] == ["qwen", "daily"]
    assert front["image"] == "/assets/img/posts/2026-01-19-qwen-infographic.png"
    assert front["ai_summary"] == front["description"] == "千問App全面升級，接入淘寶與支付寶。 開源下載量領先。"
    # The body's source list, as data for layouts: every listed link, in the same order.
    assert [source["url"] for source in front["sources"]] == SOURCE_LIST_URLS
    assert front["sources"][0] == {"title": "千問春節後將開放第三方入駐", "url": "https://news.example/13"}
    assert front["generator"] == "llm:test-model"


def test_tags_are_aliases_then_content_tags_deduplicated_and_capped() -> None:
    front, _ = split_post(render_post(make_digest(), make_result(), RenderOptions()))
    # A Chinese post's tags are Chinese names: Latin aliases and "Alibaba" are left out.
    assert front["tags"] == ["QWEN", "通義千問", "千問", "淘寶"]
    many = make_result(tags=[f"標籤{i}" for i in range(10)])
    front, _ = split_post(render_post(make_digest(), many, RenderOptions()))
    assert len(front["tags"]) == 10
    assert front["tags"][:3] == ["QWEN", "通義千問", "千問"]


def test_options_from_settings() -> None:
    settings = Settings({"DIGEST_LAYOUT": "single", "DIGEST_MAX_STORIES": "2",
                         "DIGEST_TIMEZONE": "Asia/Tokyo"})
    options = RenderOptions.from_settings(settings)
    assert options == RenderOptions(layout="single", max_stories=2, timezone="Asia/Tokyo")
    assert RenderOptions.from_settings(Settings(project_settings())) == RenderOptions()
    front, body = split_post(render_post(make_digest(), make_result(), options))
    assert front["layout"] == "single"
    assert [line for line in sections(body)["📰 本週新聞焦點"] if line.startswith("- ")] == [
        "- 千問 App 全面升級與生態整合", "- 開源影響力急速擴張"]
    with pytest.raises(ValueError, match="Mars/Olympus"):
        RenderOptions(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="MAX_STORIES"):
        RenderOptions(max_stories=0)


def test_sections_in_order_and_footer_last(post: str) -> None:
    _, body = split_post(post)
    assert [line[3:] for line in body.splitlines() if line.startswith("## ")] == HEADINGS["zh-TW"]
    assert footer(body) == "*本文由 AI 語言模型根據 9 則報導（7 個來源）撰寫，詳見上方資料來源。*"
    assert body.endswith("。*\n")
    assert "**" not in body


def test_analysis_key_points_and_thoughts(post: str) -> None:
    parts = sections(split_post(post)[1])
    assert [line for line in parts["🔍 深度分析"] if line.startswith("- ")] == [
        "- 對 AI 產業的意義", "- 與競爭對手的比較與技術優勢", "- 潛在市場影響"]
    # Label, blank line, the text indented into the item: a paragraph of its own.
    assert parts["🔍 深度分析"][0:3] == ["- 對 AI 產業的意義", "", "  資料顯示下載量領先。"]
    assert [line for line in parts["📌 重點摘要"] if line] == [
        "- 千問國際版年內上線", f"- {JA_TITLE}", "- 開源下載量領跑", "- 財經來源 2 則"]
    assert [line for line in parts["💡 延伸思考"] if line] == [
        "- 對開發者", "  - 開發者可以通過阿里雲呼叫千問", "  - 留意 API 更新",
        "- 對一般使用者", "  - 一般使用者可在 App 下單", "  - 注意隱私設定"]


def test_each_story_names_every_outlet_inline(post: str) -> None:
    lines = sections(split_post(post)[1])["📰 本週新聞焦點"]
    bullets = [i for i, line in enumerate(lines) if line.startswith("- ")]
    assert [lines[i] for i in bullets] == [
        "- 千問 App 全面升級與生態整合", "- 開源影響力急速擴張", "- 資本市場關注"]
    # Title, blank line, paragraph indented into the item: kramdown keeps them apart.
    assert all(lines[i + 1] == "" and lines[i + 2].startswith("  ") for i in bullets)
    paragraphs = [lines[i + 2][2:] for i in bullets]
    assert paragraphs[0] == (
        "千問春節後將開放第三方入駐，國際版年內上線。（來源：[Yahoo 財經](https://news.example/13)、"
        "[udn](https://news.example/11)、[mashdigi](https://mashdigi.example/12)）")
    # The outlet without an http(s) URL is named, unlinked.
    assert paragraphs[1] == ("AIbase 指出通義千問下載量領跑。（來源：[AIbase](https://aibase.example/21)、"
                             "[ブルームバーグ](https://bloomberg.example/jp/22)、evil）")
    assert paragraphs[2] == ("傑富瑞看好阿里巴巴。（來源：[cmnews](https://cmnews.example/a%20b%28c%29)、"
                             "[udn](https://news.example/11)）")


def test_sources_list_agrees_with_footer_and_tagline(post: str) -> None:
    front, body = split_post(post)
    sources = source_list(body)
    assert [url for _, url in sources] == SOURCE_LIST_URLS  # by first citation, each URL once
    # One count of articles and sources in the tagline, the footer and the summary's figures.
    assert front["tagline"] == "彙整 9 則 QWEN 相關報導"
    assert footer(body) == "*本文由 AI 語言模型根據 9 則報導（7 個來源）撰寫，詳見上方資料來源。*"
    linked = {url for _, url in LINK.findall(body)}
    assert linked == {url for _, url in sources}  # every link in the body is listed


def test_source_titles_shortened_and_converted(post: str) -> None:
    titles = [title for title, _ in source_list(split_post(post)[1])]
    assert titles[0] == "千問春節後將開放第三方入駐"  # zh-Hans source, zh-TW post
    assert titles[2] == "Alibaba\\'s Qianwen integrates with Alipay &amp; Taobao"
    assert titles[3] == LONG_TITLE[:60] + "..."
    assert titles[4] == JA_TITLE  # Japanese is not converted: 淘宝網, 国際 stay


def hostile_digest(model: ModelConfig = MODEL) -> DigestInput:
    """The usual digest plus an http(s) source whose title and outlet are markup."""
    digest = make_digest(model=model)
    digest.stories[1].articles.append(
        article(24, HOSTILE_TITLE, "https://evil.example/x?a=<b>", "en", "<b>evil</b>"))
    return digest


def test_hostile_text_is_escaped_and_bad_links_omitted() -> None:
    hostile = make_result(
        trend="<script>alert(1)</script> {% include x %} [a](javascript:alert(1))",
        stories=[StorySummary(story_key="s-open", title=HOSTILE_TITLE,
                              paragraph="# not a heading\n---", cited=[23, 24, 21])])
    _, body = split_post(render_post(hostile_digest(), hostile, RenderOptions()))
    assert "<script" not in body and "<b>" not in body
    assert "{%" not in body and "{{" not in body
    assert not re.search(r"(?<!\\)\]\((?!https?://)", body)  # every link target is http(s)
    assert sections(body)["本週模型趨勢"][0] == "alert(1) &#123;% include x %&#125; a"
    lines = sections(body)["📰 本週新聞焦點"]
    # A generated title loses its markup...
    assert lines[0] == '- alert(\\"x\\") click &#123;&#123; site.title &#125;&#125;'
    assert lines[1:3] == ["", "  " + ("not a heading \\-\\-\\-（來源：evil、"
                        "[&lt;b&gt;evil&lt;/b&gt;](https://evil.example/x?a=%3Cb%3E)、"
                        "[AIbase](https://aibase.example/21)、[ブルームバーグ](https://bloomberg.example/jp/22)）")]
    sources = source_list(body)
    assert [url for _, url in sources] == ["https://evil.example/x?a=%3Cb%3E", "https://aibase.example/21",
                                           "https://bloomberg.example/jp/22"]
    # ...a crawled title is escaped (and shortened).
    assert sources[0][0] == ('&lt;script&gt;alert(\\"x\\")&lt;/script&gt; '
                             '\\[click\\](javascript:alert(1)) &#123;&#123;...')


@pytest.mark.parametrize(("text", "escaped"), [
    ("plain 文字", "plain 文字"),
    ("*a* _b_ `c`", "\\*a\\* \\_b\\_ \\`c\\`"),
    ("[x](y)", "\\[x\\](y)"),
    ("<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"),
    ("{{ x }} {% y %}", "&#123;&#123; x &#125;&#125; &#123;% y %&#125;"),
    ("# h", "\\# h"),
    ("- item", "\\- item"),
    ("1. item", "1\\. item"),
    ("a | b ~~c~~ $$d$$", "a \\| b &#126;&#126;c&#126;&#126; \\$\\$d\\$\\$"),
    ("a --- b", "a \\-\\-\\- b"),
    ('say "hi"', 'say \\"hi\\"'),
])
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.com/a b(c)", "https://example.com/a%20b%28c%29"),
    ("HTTP://example.com/x?q=1&r=2#f", "http://example.com/x?q=1&r=2#f"),
    ("https://udn.com/新聞/1", "https://udn.com/%E6%96%B0%E8%81%9E/1"),
    ("https://example.com/%E6%96%B0", "https://example.com/%E6%96%B0"),
    ("https://example.com/<script>'\"", "https://example.com/%3Cscript%3E%27%22"),
    ("https://例子.測試/", "https://xn--fsqu00a.xn--g6w251d/"),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    ("java\nscript:alert(1)", None),
    ("data:text/html,<script>", None),
    ("//example.com/x", None),
    ("https:alert(1)", None),
    ("ftp://example.com/x", None),
    ("", None),
])
def test_safe_url(url: str, safe: str | None) -> None:
    assert safe_url(url) == safe


def test_zh_cn_output_is_simplified() -> None:
    post = render_post(make_digest("zh-CN"), make_result(), RenderOptions())
    front, body = split_post(post)
    assert front["title"] == "QWEN 每日动态 - 2026-01-19"
    assert front["tagline"] == "汇整 9 则 QWEN 相关报道"
    assert [line[3:] for line in body.splitlines() if line.startswith("## ")] == HEADINGS["zh-CN"]
    assert "- 资本市场关注" in body and "千问春节后将开放第三方入驻" in body
    titles = [title for title, _ in source_list(body, "🔗 资料来源")]
    assert titles[1] == "千问春节后将开放第三方入驻 国际版年内上线"
    assert f"- {JA_TITLE}" in body  # Japanese stays Japanese
    assert footer(body) == "*本文由 AI 语言模型根据 9 则报道（7 个来源）撰写，详见上方资料来源。*"


@pytest.mark.parametrize(("language", "title", "first_point", "sources_label"), [
    ("en", "QWEN Daily - 2026-01-19", "- 千问国际版年内上线", " (Sources: "),
    ("ja", "QWEN デイリー動向 - 2026-01-19", "- 千问国际版年内上线", "（出典："),
])
def test_en_and_ja_headings_without_conversion(language: Language, title: str, first_point: str,
                                              sources_label: str) -> None:
    front, body = split_post(render_post(make_digest(language), make_result(), RenderOptions()))
    assert front["title"] == title
    assert [line[3:] for line in body.splitlines() if line.startswith("## ")] == HEADINGS[language]
    parts = sections(body)
    assert parts[HEADINGS[language][3]][0] == first_point  # no script conversion outside zh-*
    assert sources_label in parts[HEADINGS[language][1]][2]
    first_source, _ = source_list(body, HEADINGS[language][5])[0]
    assert first_source == "千问春节后将开放第三方入驻"


def test_extractive_digest_says_no_llm_was_used() -> None:
    front, body = split_post(render_post(make_digest(), make_result("extractive"), RenderOptions()))
    assert front["generator"] == "extractive"
    # The footer speaks to readers; the generator is named in the front matter.
    assert footer(body) == "*本文由程式從 9 則報導（7 個來源）擷取原文句子彙整，未經 AI 語言模型改寫。*"
    assert front["summary_label"] == "摘要"
    en_front, en = split_post(render_post(make_digest("en"), make_result("extractive"), RenderOptions()))
    assert footer(en) == ("*Compiled by software from sentences of 9 articles (7 sources), not rewritten by an "
                          "AI language model.*")
    assert en_front["summary_label"] == "Summary"
    llm_front, _ = split_post(render_post(make_digest(), make_result(), RenderOptions()))
    assert llm_front["summary_label"] == "AI 摘要"


@pytest.mark.parametrize("key", ["Qwen", "../qwen", "qwen/x", "qwen\n", "", "qwen_2", "千問",
                                 "qwen.md"])
def test_model_key_is_validated(key: str, tmp_path: Path) -> None:
    digest = make_digest(model_key=key)
    with pytest.raises(ValueError, match=r"\[a-z0-9-\]"):
        render_post(digest, make_result(), RenderOptions())
    with pytest.raises(ValueError, match=r"\[a-z0-9-\]"):
        write_post(tmp_path, digest, make_result(), RenderOptions())
    assert list(tmp_path.iterdir()) == []


def test_paths_come_from_key_and_date_only(tmp_path: Path) -> None:
    paths = post_paths(tmp_path, "gpt-5", DAY)
    assert paths.post == tmp_path / "_posts" / "2026-01-19-gpt-5-daily.md"
    assert paths.image == tmp_path / "assets" / "img" / "posts" / "2026-01-19-gpt-5-infographic.png"
    assert paths.image_url == "/assets/img/posts/2026-01-19-gpt-5-infographic.png"


def test_rewrite_is_atomic_and_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = make_digest()
    first = write_post(tmp_path, digest, make_result(), RenderOptions())
    content = first.post.read_text("utf-8")
    assert write_post(tmp_path, digest, make_result(), RenderOptions()) == first
    assert first.post.read_text("utf-8") == content
    assert sorted(p.name for p in first.post.parent.iterdir()) == ["2026-01-19-qwen-daily.md"]
    assert first.post.stat().st_mode & 0o777 == 0o644

    changed = make_result(trend="新的趨勢。")
    write_post(tmp_path, digest, changed, RenderOptions())
    assert "新的趨勢。" in first.post.read_text("utf-8")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_post(tmp_path, digest, make_result(), RenderOptions())
    assert "新的趨勢。" in first.post.read_text("utf-8")  # the old post, whole
    assert sorted(p.name for p in first.post.parent.iterdir()) == ["2026-01-19-qwen-daily.md"]


def test_templates_load_from_a_zipped_package(tmp_path: Path) -> None:
    """Scrapyd runs the project from a zipped egg: templates must load as package resources."""
    egg = tmp_path / "project.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        for path in (ROOT / "templates").iterdir():
            if path.suffix in (".py", ".j2", ".yaml"):
                archive.write(path, f"templates/{path.name}")
    script = (
        "import sys, templates\n"
        "assert templates.__file__.startswith(sys.argv[1]), templates.__file__\n"
        "from tests.test_render import make_digest, make_result\n"
        "from digestcrawl.digest.publish.render import RenderOptions, render_post\n"
        "print(render_post(make_digest(), make_result(), RenderOptions()))\n"
    )
    # The egg comes first on the path, so `templates` is imported from it, not from the checkout.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(egg), str(ROOT)])}
    run = subprocess.run([sys.executable, "-c", script, str(egg)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    expected = render_post(make_digest(), make_result(), RenderOptions())
    assert run.stdout.rstrip("\n") == expected.rstrip("\n")


# The infographic


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_infographic_is_a_png_drawn_with_a_cjk_font(tmp_path: Path) -> None:
    font = cjk_font("zh-TW")
    assert font.family.startswith("Noto Sans CJK")
    assert Path(font.path).is_file()
    assert font_manager.findfont(font.family, fallback_to_default=False) == font.path
    assert ord("千") in font.charset and ord("ア") in font.charset

    digest = make_digest()
    result = make_result(stories=[*make_result().content.stories[:2],
                                  StorySummary(story_key="s-fin", title="資本市場 🚀 關注 <b>",
                                               paragraph="x", cited=[31])])
    path = tmp_path / "img" / "chart.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.perf_counter()
        draw_infographic(digest, result, path)
        elapsed = time.perf_counter() - started
    assert [str(w.message) for w in caught] == []  # no "Glyph … missing from font(s)"
    data = path.read_bytes()
    assert png_size(data) == (1000, 750)
    assert len(data) > 20_000  # bars, text and lines, not a blank canvas
    assert b"Software" not in data and b"tIME" not in data
    assert elapsed < 5  # typically ~0.3 s; generous for a shared 2-core machine

    draw_infographic(digest, result, path)  # the same digest draws the same bytes
    assert path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["chart.png"]


def test_infographic_without_cjk_font_fails_clearly(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [e for e in font_manager.fontManager.ttflist if "CJK" not in e.name])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    cjk_font.cache_clear()
    try:
        with pytest.raises(CJKFontMissing, match="fonts-noto-cjk"):
            draw_infographic(make_digest(), make_result(), tmp_path / "chart.png")
    finally:
        cjk_font.cache_clear()
    assert not (tmp_path / "chart.png").exists()


def test_infographic_labels_drop_glyphs_no_font_has() -> None:
    font = cjk_font("zh-TW")
    assert infographic._drawable("千問 🚀 Qwen", font) == "千問 Qwen"
    assert infographic._drawable("長" * 30, font) == "長" * 12 + "…"  # 24 columns, 2 per CJK character


# Real Jekyll


def _jekyll_or_skip() -> str:
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        if os.environ.get("CI"):
            pytest.fail("jekyll is not installed; CI must install it (apt-get install -y jekyll)")
        pytest.skip("jekyll is not installed")
    return jekyll


def test_hostile_posts_build_with_strict_jekyll(tmp_path: Path) -> None:
    jekyll = _jekyll_or_skip()
    site, out = tmp_path / "site", tmp_path / "out"
    create_skeleton(site)  # the site users get: its layouts, includes and plugins
    display = 'QWEN "Max": #1 --- 🚀'
    summary = ('Quotes "like this": #hash\n---\nkey: value\n<script>alert(1)</script> 🚀 '
               "{{ site.title }}")
    hostile = make_result(
        summary=summary,
        trend='--- \n# trend: "quoted" <script>alert(2)</script> 🚀 {% raw %}',
        stories=[StorySummary(story_key="s-open", title=HOSTILE_TITLE + "\nline two: #x",
                              paragraph="---\nParagraph: 'single' \"double\"", cited=[23, 24, 21]),
                 *make_result().content.stories[::2]],
        tags=["a: b", "#tag", "---", "[x]", "🚀", "- dash"])
    zh = hostile_digest(MODEL.model_copy(update={"display": display}))
    en = make_digest("en", model_key="qwen-en")
    paths = [write_post(site, zh, hostile, RenderOptions()),
             write_post(site, en, make_result("extractive"), RenderOptions())]
    draw_infographic(zh, hostile, paths[0].image)

    run = subprocess.run([jekyll, "build", "--strict_front_matter", "--future", "-s", str(site),
                          "-d", str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr

    [page] = [p for p in out.rglob("*.html") if "/qwen/daily/" in p.as_posix()]
    text = page.read_text("utf-8")
    h1 = re.search(r'<h1 class="post-title">(.*?)</h1>', text)
    assert h1 and html.unescape(re.sub(r"<[^>]+>", "", h1[1])) == f"{display} 每日動態 - 2026-01-19"
    described = re.search(r'<aside class="ai-summary"[^>]*>\s*<p><strong[^>]*>[^<]*</strong> (.*?)</p>', text)
    assert described and html.unescape(described[1]) == (
        'Quotes "like this": #hash --- key: value alert(1) 🚀 {{ site.title }}')
    # jekyll-seo-tag's JSON-LD is the only script; the summary inside it cannot end it early.
    [json_ld] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.DOTALL)
    assert "<" not in json_ld and "{{ site.title }}" in json_ld
    assert text.lower().count("<script") == 1
    assert not re.search(r"href=[\"']?\s*javascript:", text, re.IGNORECASE)
    site_title = yaml.safe_load((site / "_config.yml").read_text("utf-8"))["title"]
    assert site_title not in text.split('<div class="post-content">', 1)[1]  # {{ site.title }} stayed text
    content = html.unescape(text.split('<div class="post-content">', 1)[1])
    # Shown as text, quotes intact (not made typographic).
    assert '<script>alert("x")</script> [click](javascript:' in content
    assert "--- trend: \"quoted\" alert(2) 🚀 {% raw %}" in content
    assert "Paragraph: 'single' \"double\"" in content
    for url in ("https://aibase.example/21", "https://news.example/13", "https://cmnews.example/a%20b%28c%29",
                "https://evil.example/x?a=%3Cb%3E"):
        assert f'<a href="{url}">' in text
    assert text.count("<h2") == 6
    image = out / "assets/img/posts/2026-01-19-qwen-infographic.png"
    assert image.read_bytes() == paths[0].image.read_bytes()
    [en_page] = [p for p in out.rglob("*.html") if "/qwen-en/daily/" in p.as_posix()]
    assert "not rewritten by an AI language model" in en_page.read_text("utf-8")
    assert '<html lang="en">' in en_page.read_text("utf-8") and '<html lang="zh-Hant">' in text


# Hostile page strings: whatever a page's title and text are, the post renders and parses

HOSTILE_PIECES = ["", " ", "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u2066", "\u200f",
                  "\ufeff", "\ud800", "\u2028", "\r\n", "\n", "\t", "{{ site.title }}",
                  "{% include x %}", "{%- raw -%}", "---", "\n---\n", "...", "'", '"', ": ",
                  "key: value", "# ", "- ", "> ", "`", "*", "[x](javascript:alert(1))",
                  "<script>alert(1)</script>", "&amp;", "|", "!", "@", "%", "\\", "。", "🚀",
                  "千問升級", "Qwen", "word ", "長"]
HOSTILE_CASES: list[tuple[str, str]] = [
    ("", ""),
    ("", "千問今天發布新版本。第二句。"),
    ("\x00\x01\u202e\u2066\u200b\ufeff", "\x00"),
    ("A" * 1_000_000, ""),
    ("word " * 200_000, "y" * 1_000_000),
    ("長" * 1_000_000, "長。" * 500_000),
    ("{{ site.title }} {% raw %}", "{% endraw %} {{ page.x }}"),
    ("---\ntitle: pwned\nlayout: evil\n---", "---\n---"),
    ('"\': [ { & * ! | > % @ `', "'\"\n- a\n- b"),
    ("\u202egpj.exe", "\u202etxt"),
]


def _hostile_string(rng: random.Random) -> str:
    text = "".join(rng.choice(HOSTILE_PIECES) for _ in range(rng.randint(0, 14)))
    if rng.random() < 0.15:
        text += rng.choice(HOSTILE_PIECES[1:]) * rng.choice([300, 20_000])
    return text


_RANDOM = random.Random(13)  # seeded: the same table every run
HOSTILE_CASES += [(_hostile_string(_RANDOM), _hostile_string(_RANDOM)) for _ in range(40)]


def _sane_line(text: str, rendered: bool = False) -> None:
    assert text and text == text.strip()
    assert not UNSAFE.search(text) and "\n" not in text
    if rendered:  # Liquid syntax stays data until the renderer escapes it
        assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize(("title", "text"), HOSTILE_CASES, ids=[f"case{i}" for i in range(len(HOSTILE_CASES))])
def test_hostile_titles_and_texts_build_a_sane_post(title: str, text: str) -> None:
    """Cleaned as the repository cleans stored articles, then the offline summary and the post:
    nothing raises, the front matter is YAML with our title, every story title is one sane line."""
    urls = ["https://news.example/1", "javascript:alert(1)", "not a url \x00"]
    articles = [clean_article(StoryArticle(
        id=n, url=url, title=title, text=text, snippet=text[:50], source="src", category="news",
        publisher=title[:30], language=text[:20] or None, published=datetime(2026, 1, 19, 9, tzinfo=ZoneInfo("UTC")),
        score=1)) for n, url in enumerate(urls, start=1)]
    for cleaned in articles:
        _sane_line(cleaned.title)
        assert len(cleaned.title) <= TITLE_MAX
    stories = [Story(f"s{n}", [a]) for n, a in enumerate(articles)]
    stories[2].follow_up_day = DAY - timedelta(days=1)
    figures = DayFigures(mentions_by_category={"news": 3}, trend={DAY - timedelta(days=i): 1 for i in range(7)},
                         co_mentioned={}, tickers=(), finance_titles=(articles[0].title,))
    digest = DigestInput(model_key="qwen", model=MODEL, day=DAY, language="zh-TW", stories=stories,
                         figures=figures)
    result = ExtractiveSummarizer(EntityFinder(load_entities())).summarize(digest)
    post = render_post(digest, result, RenderOptions())
    front, body = split_post(post)
    assert front["title"] == "QWEN 每日動態 - 2026-01-19" and front["model"] == "qwen"
    assert list(front) == ["layout", "title", "tagline", "date", "lang", "model", "categories", "tags",
                           "image", "image_narrow", "description", "ai_summary", "summary_label", "sources", "stories",
                           "generator"]
    assert isinstance(front["ai_summary"], str) and not UNSAFE.search(front["ai_summary"])
    assert not UNSAFE.search(post)
    assert [line[3:] for line in body.splitlines() if line.startswith("## ")] == HEADINGS["zh-TW"]
    bullets = [line[2:] for line in sections(body)["📰 本週新聞焦點"] if line.startswith("- ")]
    assert len(bullets) == 3
    for bullet in bullets:
        _sane_line(bullet, rendered=True)
        assert len(bullet) <= 6 * STORY_TITLE_MAX  # an escape is at most 6 characters (&#123;)


@pytest.mark.parametrize(("title", "text", "url", "expected"), [
    ("  千問\n升級\u202e ", "", "https://a.example/", "千問 升級"),
    ("", "千問今天發布新版本。第二句。", "https://a.example/", "千問今天發布新版本。"),
    ("", "Qwen 3.5 is out. More later.", "https://a.example/", "Qwen 3.5 is out."),
    ("\x00\u200b", "", "https://news.example/x", "news.example"),
    ("", "", "javascript:alert(1)", "src"),
    ("word " * 100, "", "https://a.example/", ("word " * 100)[:TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"),
    ("長" * 500, "", "https://a.example/", "長" * (TITLE_MAX - 1) + "…"),
])
def test_title_for(title: str, text: str, url: str, expected: str) -> None:
    assert title_for(title, text, url, "src") == expected
    assert len(expected) <= TITLE_MAX


def test_staged_files_publish_in_order_and_restore(tmp_path: Path) -> None:
    """What DigestBuilder relies on when the database commit fails after the files are in place:
    ``restore`` puts back every replaced file and removes the ones that were new."""
    old, new = tmp_path / "img" / "old.png", tmp_path / "posts" / "new.md"
    old.parent.mkdir()
    old.write_bytes(b"previous")
    with StagedFiles() as files:
        files.add(old, b"next")
        files.add(new, b"post")
        assert old.read_bytes() == b"previous" and not new.exists()  # staged only
        files.publish()
        assert (old.read_bytes(), new.read_bytes()) == (b"next", b"post")
        files.restore()
        assert old.read_bytes() == b"previous" and not new.exists()
    with StagedFiles() as files:
        files.add(old, b"next")
        files.publish()
    assert old.read_bytes() == b"next"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["img", "old.png", "posts"]  # no temp, no backup


@pytest.mark.parametrize(("text", "written"), [
    ("阿里云发布了新的信息网络软件。", "阿里雲發佈了新的資訊網路軟體。"),  # phrase level, Taiwan usage
    # s2twp's IT terms where news prose means the everyday word (found in the zh dev pages):
    ("千亿参数的模型。", "千億參數的模型。"),  # not 引數 (a function's argument)
    ("经济全球化进程的加快。", "經濟全球化進程的加快。"),  # not 程序
    ("从法律程序上说。", "從法律程序上說。"),  # not 程式
    ("会议文件中已经写明。", "會議文件中已經寫明。"),  # not 檔案
    ("服务对象和研究对象。", "服務對象和研究對象。"),  # not 物件
    ("任何类型的墙。", "任何類型的牆。"),  # not 型別
    ("一个局部，全局性胜利。", "一個局部，全局性勝利。"),  # not 區域性, 全域性
    ("新闻发布会上发布《安全报告》。", "新聞發佈會上發佈《安全報告》。"),  # not 釋出
    ("快速扩展，权限，该实例，镜像，透视图。", "快速擴展，權限，該實例，鏡像，透視圖。"),  # not 擴充套件, 許可權…
    ("力学性能、社区卫生服务、低级错误。", "力學性能、社區衛生服務、低級錯誤。"),
    ("程序员用应用程序和小程序打开文件夹，面向对象，扩展名。",  # where s2twp is right, it still is
     "程式設計師用應用程式和小程式開啟資料夾，物件導向，副檔名。"),
    # A Traditional sentence stays as its outlet wrote it: a stray Simplified character is
    # made Traditional, nothing else (no 社區 → 社群, 用戶 → 使用者, 台灣 → 臺灣, 公布 → 公佈).
    ("千問在開源社区的下載量，接入支付寶。", "千問在開源社區的下載量，接入支付寶。"),
    ("台灣數據公布，千問App月活躍用戶突破1億。", "台灣數據公布，千問App月活躍用戶突破1億。"),
    ("据中央广播电视总台报道。", "據中央廣播電視總台報道。"),  # not 總檯 (a counter)
    ("这是个明显存在误导成分的虚假宣传。", "這是個明顯存在誤導成分的虛假宣傳。"),
    ("提出的各项目标任务。", "提出的各項目標任務。"),
    ("千问App月活跃用户突破1亿。", "千問App月活躍使用者突破1億。"),
    # issue 22's conversions: 发表 not 髮表, 激活 (a model's active parameters) not 啟用, 优化
    # not 最佳化, Taiwan's names, 「」 quotes; 激活 elsewhere is s2twp's 啟用.
    ("英国医生发表论文。", "英國醫生發表論文。"),
    ("总参数80B、激活3B。", "總參數80B、激活3B。"),
    ("千问开源Qwen3-Coder-Next：80B参数只激活3B", "千問開源Qwen3-Coder-Next：80B參數只激活3B"),
    ("模型将持续优化。", "模型將持續優化。"),
    ("普京与马克龙、泽连斯基、朔尔茨会谈。", "普丁與馬克宏、澤倫斯基、蕭茲會談。"),
    ("耐克发布新品。", "Nike發佈新品。"),
    ("他说“这是开始”。", "他說「這是開始」。"),
    ("请激活账号。", "請啟用賬號。"),
    ("アリババ、淘宝網を主力AIアプリに連携", "アリババ、淘宝網を主力AIアプリに連携"),  # Japanese stays
])
def test_zh_tw_is_written_with_taiwan_phrases(text: str, written: str) -> None:
    from digestcrawl.digest.publish.script import to_script

    assert to_script(text, "zh-TW") == written


def test_a_title_of_shared_characters_is_converted_when_its_page_is_simplified() -> None:
    from digestcrawl.digest.publish.script import to_script

    # 叶 is written in both scripts: the page's script decides.
    assert to_script("洞庭一叶", "zh-TW", simplified_source=True) == "洞庭一葉"
    assert to_script("洞庭一叶", "zh-TW") == "洞庭一叶"


# The day's checkpoints, releases and papers under 對開發者, from data; the downloads panel

def first_party_digest(language: Language = "zh-TW", checkpoints: int = 1) -> DigestInput:
    digest = make_digest(language)
    models = [article(50 + n, f"Qwen/Qwen3-{n}B", f"https://huggingface.co/Qwen/Qwen3-{n}B", "en", "Hugging Face",
                      "release") for n in range(checkpoints)]
    release = article(41, "QwenLM/Qwen3 v3.1.0 <script>", "https://github.com/QwenLM/Qwen3/releases/tag/v3.1.0",
                      "en", "GitHub", "release")
    paper = article(42, "Qwen3 Technical Report: [x](javascript:alert(1))", "https://arxiv.org/abs/2505.09388",
                    "en", "arXiv", "paper")
    digest.stories[0].articles.append(release)  # in a story shown, and not repeated
    digest.first_party = (release, paper, *models)
    return digest


def developer_lines(body: str, label: str) -> list[str]:
    found = sections(body)
    lines = found[next(h for h in found if "💡" in h)]
    start = lines.index(f"- {label}")
    return [line[4:] for line in lines[start + 1:] if line.startswith("  - ")][:4]


def test_developers_name_the_days_checkpoints_releases_and_papers() -> None:
    front, body = split_post(render_post(first_party_digest(), make_result(), RenderOptions()))
    lines = developer_lines(body, "對開發者")
    assert lines[:3] == [
        "新模型權重：[Qwen/Qwen3-0B](https://huggingface.co/Qwen/Qwen3-0B)（2026-01-19）",
        # A GitHub release is named by its repository and tag, whatever its title adds.
        "新版本：[QwenLM/Qwen3 v3.1.0](https://github.com/QwenLM/Qwen3/releases/tag/v3.1.0)（2026-01-19）",
        "新論文：[Qwen3 Technical Report: \\[x\\](javascript:alert(1))](https://arxiv.org/abs/2505.09388)（2026-01-19）"]
    assert lines[3] == "開發者可以通過阿里雲呼叫千問"  # the generated lines follow, four in all
    assert "留意 API 更新" not in body
    urls = [source["url"] for source in front["sources"]]
    assert {"https://huggingface.co/Qwen/Qwen3-0B", "https://arxiv.org/abs/2505.09388"} <= set(urls)
    assert len(urls) == len(set(urls)) and "9 則報導（8 個來源）" in footer(body)  # the day's counts


@pytest.mark.parametrize(("language", "label", "line"), [
    ("en", "For developers", "New checkpoints: [Qwen/Qwen3-0B](https://huggingface.co/Qwen/Qwen3-0B) (2026-01-19), "),
    ("ja", "開発者にとって", "新しいモデル重み：[Qwen/Qwen3-0B](https://huggingface.co/Qwen/Qwen3-0B)（2026-01-19）、"),
    ("zh-CN", "对开发者", "新模型权重：[Qwen/Qwen3-0B](https://huggingface.co/Qwen/Qwen3-0B)（2026-01-19）、"),
])
def test_release_lines_per_language_name_five_and_count_the_rest(language: Language, label: str, line: str) -> None:
    _, body = split_post(render_post(first_party_digest(language, checkpoints=7), make_result(), RenderOptions()))
    [checkpoints] = [x for x in developer_lines(body, label) if "Qwen3-0B" in x]
    assert checkpoints.startswith(line) and checkpoints.count("](https://huggingface.co/") == 5
    assert checkpoints.endswith({"en": " and 2 more", "ja": " ほか 2 件", "zh-CN": " 等 2 项"}[language])


def test_a_day_without_releases_keeps_the_generated_lines() -> None:
    _, body = split_post(render_post(make_digest(), make_result(), RenderOptions()))
    assert developer_lines(body, "對開發者")[:2] == ["開發者可以通過阿里雲呼叫千問", "留意 API 更新"]


def test_infographic_gains_a_downloads_panel_when_the_series_has_data(tmp_path: Path) -> None:
    from dataclasses import replace

    from digestcrawl.digest.model import RepoTrend

    digest = make_digest()
    series = tuple((DAY - timedelta(days=6 - n), 1000 + 60 * n) for n in range(7))
    trends = tuple(RepoTrend(repo=f"Qwen/Qwen3-{size}B", url=f"https://huggingface.co/Qwen/Qwen3-{size}B",
                             source="huggingface", downloads=series[-1][1] * size, last_day=DAY,
                             previous=series[0][1] * size, first_day=series[0][0], likes=None,
                             series=tuple((day, n * size) for day, n in series)) for size in (8, 4, 2, 1))
    digest.figures = replace(digest.figures, repo_trends=trends)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_infographic(digest, make_result(), tmp_path / "chart.png")
    assert [str(w.message) for w in caught] == []
    data = (tmp_path / "chart.png").read_bytes()
    assert png_size(data) == (1000, 1050)
    draw_infographic(make_digest(), make_result(), tmp_path / "plain.png")
    assert png_size((tmp_path / "plain.png").read_bytes()) == (1000, 750)  # no series: the usual layout


# Story links (on a site with the skeleton's includes) and the storyline they lead to


def test_on_our_site_a_story_is_an_anchor_and_a_follow_up_links_to_the_earlier_story() -> None:
    digest = make_digest()
    digest.stories[1].follow_up_of, digest.stories[1].follow_up_day = "0123456789ab", date(2026, 1, 17)
    summaries = make_result().content.stories
    mark = "（2026-01-17 事件的後續）"
    # The offline summary writes the mark as text; on our site it becomes the link.
    result = make_result(stories=[summaries[0], summaries[1].model_copy(update={"title": summaries[1].title + mark}),
                                  *summaries[2:]])
    front, body = split_post(render_post(digest, result, RenderOptions(), site_links=True))
    bullets = [line for line in sections(body)["📰 本週新聞焦點"] if line.startswith("- ")]
    assert bullets[1] == (
        '- {: #story-s-open} 開源影響力急速擴張'
        '{% include follow_up.html post="_posts/2026-01-17-qwen-daily.md" story="0123456789ab" '
        f'text="{mark}" %}}{{% include storyline_link.html story="s-open" %}}')
    assert bullets[0].startswith("- {: #story-s-app} 千問 App") and "follow_up.html" not in bullets[0]
    assert front["stories"][1] == {"key": "s-open", "title": "開源影響力急速擴張", "follow_up_of": "0123456789ab",
                                   "follow_up_day": date(2026, 1, 17)}
    # Elsewhere (a theme of its own has no such includes): the mark stays text, no Liquid.
    _, plain = split_post(render_post(digest, result, RenderOptions()))
    assert f"- 開源影響力急速擴張{mark}" in plain and "{%" not in plain and "{: #" not in plain


def test_storylines_put_a_story_and_its_follow_ups_on_one_line(tmp_path: Path) -> None:
    def post(day: str, stories: list[dict[str, Any]]) -> None:
        path = tmp_path / "_posts" / f"{day}-qwen-daily.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text("---\n" + yaml.safe_dump({"title": day, "stories": stories}, allow_unicode=True) + "---\nx\n")

    post("2026-01-17", [{"key": "a1", "title": "A"}, {"key": "b1", "title": "B"}])
    post("2026-01-18", [{"key": "a2", "title": "A again", "follow_up_of": "a1", "follow_up_day": date(2026, 1, 17)}])
    post("2026-01-19", [{"key": "a3", "title": "A3", "follow_up_of": "a2", "follow_up_day": date(2026, 1, 18)},
                        {"key": "a4", "title": "A4", "follow_up_of": "a2", "follow_up_day": date(2026, 1, 18)},
                        {"key": "c1", "title": "C", "follow_up_of": "gone", "follow_up_day": date(2026, 1, 10)}])
    (tmp_path / "_posts" / "2026-01-19-qwen-en-daily.md").write_text("---\nstories: [{key: other}]\n---\n")
    path = storyline.write_storyline(tmp_path, "qwen")
    assert path == tmp_path / "_data" / "storylines" / "qwen.json"
    lines = json.loads(path.read_text("utf-8"))
    assert [(line["key"], line["title"], [(d["day"], d["keys"]) for d in line["days"]]) for line in lines] == [
        ("a1", "A4", [("2026-01-17", ["a1"]), ("2026-01-18", ["a2"]), ("2026-01-19", ["a3", "a4"])]),
        ("c1", "C", [("2026-01-19", ["c1"])]),  # its earlier story has no post: a line of its own
        ("b1", "B", [("2026-01-17", ["b1"])]),
    ]
    assert lines[0]["days"][0]["post"] == "_posts/2026-01-17-qwen-daily.md"


# The infographic's labels and the downloads panel


@pytest.mark.parametrize(("text", "columns", "lines", "expected"), [
    ("千問春節後將開放第三方入駐 國際版年內上線（2026-01-18 事件的後續）", 30, 2,
     "千問春節後將開放第三方入駐\n國際版年內上線（2026-01-18 事…"),
    ("Qwen3-Coder 30B-A3B is the first local model that actually runs well", 30, 2,
     "Qwen3-Coder 30B-A3B is\nthe first local model that…"),
    ("Qwen3-Max tops the leaderboard", 30, 2, "Qwen3-Max tops the leaderboard"),
    ("Supercalifragilisticexpialidocious-model-v2.5", 10, 1, "Supercalifragilisticexpialidocious-model-v2.5"),
])
def test_labels_wrap_and_shorten_between_words(text: str, columns: int, lines: int, expected: str) -> None:
    assert infographic.wrap_label(text, columns, lines) == expected  # a word longer than a line stays whole


def test_downloads_with_fewer_than_three_readings_are_figures_with_the_hosts_name() -> None:
    from dataclasses import replace

    from digestcrawl.digest.model import RepoTrend

    digest = make_digest()
    trends = tuple(RepoTrend(repo=f"Qwen/Qwen3-{size}B", url=f"https://huggingface.co/Qwen/Qwen3-{size}B",
                             source="hf_downloads", downloads=1000 * size, last_day=DAY, previous=None,
                             first_day=None, likes=None, series=((DAY, 1000 * size),)) for size in (8, 4))
    digest.figures = replace(digest.figures, repo_trends=trends)
    svg = infographic.infographic_svg(digest, make_result()).decode("utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "近 7 日下載量（Hugging Face）" in texts and not any("hf_downloads" in t for t in texts)
    assert any("Qwen3-8B: 01-19 8,000" in t for t in texts), texts
    assert "<path" in svg and 'id="line2d_' not in svg.split("Hugging Face")[1]  # no line drawn below the title
    assert "今日事件的來源數" in texts  # the narrow drawing's labels are text
