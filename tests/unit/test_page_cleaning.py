"""The text and title cleaners, as tables of real-looking page junk (from the kinds of pages in
../shared/data/zh-web-extraction-dev: table layouts, portals, forums, government sites)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from digestcrawl.config import load_entities, load_models
from digestcrawl.digest.group import group_stories
from digestcrawl.digest.model import DayFigures, DigestInput, StoryArticle
from digestcrawl.digest.publish import RenderOptions, render_post
from digestcrawl.digest.read.pagetext import is_junk, strip_junk
from digestcrawl.digest.read.sanitize import TITLE_MAX, clean_day
from digestcrawl.digest.read.titles import clean_title, site_affixes
from digestcrawl.digest.summarize import ExtractiveSummarizer
from digestcrawl.text.entities import EntityFinder

DAY = date(2026, 1, 19)
ARTICLE = "阿里巴巴旗下AI助手千問宣布，自1月15日起全面接入淘寶、支付寶、飛豬與高德地圖。"


@pytest.mark.parametrize("junk", [
    "| CopyRight@2004-2008 All rights reserved | ",
    "| 首页 |  | 关注中国中心（CCC） |  | 中国民权运动 |  | 公民社会 |  | 真相 |  | 人物 | English | ",
    "|  |  | 首页\\|艺术快讯\\|当代艺术\\|艺术史论\\|艺术设计 | ",
    "|  |  | 搜狐首页 - 新闻 - 体育 - 娱乐 - 财经 - IT - 汽车 - 房产 | ",
    "|  | 您的位置：主页>艺术教育>院校招生资讯>中央美术学院  | ",
    "|  | Copyright © 2000-2006 CL2000.com. All rights reserved. |  | ",
    "| 页面功能 【我来说两句】【我要“揪”错】【推荐】【字体：大 中 小】【打印】 【关闭】 | ",
    "|---|",
    "| 2004-12-10 11:55:08 来源: 网易商业报道 |  | 发表评论 |  | 查看评论 | ",
    "版權所有 © 2026 聯合線上 未經授權不得轉載",
    "分享 | 轉寄 | 列印",
    "首頁 > 科技 > AI",
    "Share this article: Facebook | Twitter | LinkedIn | Email",
    "ホーム > ニュース > テクノロジー",
    "関連記事",
    "（責任編輯：黃帥）",
    "作者：王小明 來源：聯合報",
    "China-Pub Cityscape[mahoiling行记] 洞庭一叶[个人主页] 汉网[汉民族服饰] 湖湘文化论坛[红网] 中国BBS社区100强...",
    # issue 22: licensing notices, contact blocks, share / download / scan prompts.
    "一、任何單位或個人，在任何公開傳播平臺上使用著作權歸屬於江城日報社的作品，須經本社書面授權，並註明出處，"
    "否則本社將依法追究其法律責任。",
    "转载请注明出处，违者必究。",
    "聯繫電話：027-85123456",
    "客服熱線：400-800-1234",
    "E-mail: news@example.com",
    "掃描二維碼下載APP",
    "长按识别二维码，关注公众号",
    "分享到：微信 微博 QQ空間",
    "（三校社會學論壇·中國網社會論壇）",
    "（-）",
    "（完）",
])
def test_junk_lines_are_removed(junk: str) -> None:
    assert strip_junk(f"{junk}\n{ARTICLE}") == ARTICLE


@pytest.mark.parametrize(("raw", "kept"), [
    ("| 我是怎样卷入八九民运的 茉莉 一九八九年四月，我在湖南张家界开会。 | ",
     "我是怎样卷入八九民运的 茉莉 一九八九年四月，我在湖南张家界开会。"),
    ("## 千問全面升級", "千問全面升級"),
    ("**阿里巴巴**宣布[千問](https://x.example)升級。", "阿里巴巴宣布千問升級。"),
    ("|  | 当前位置：首页->军事技术 飞行归因于作用在飞机上的几个力。 |", "飞行归因于作用在飞机上的几个力。"),
    ("外資看好阿里巴巴，分享了對雲端成長的看法，並表示首頁改版後流量增加。",
     "外資看好阿里巴巴，分享了對雲端成長的看法，並表示首頁改版後流量增加。"),  # prose naming the words
    ("The share price rose 3% after the launch, analysts said.",
     "The share price rose 3% after the launch, analysts said."),
    # News that names rights, numbers, scans or downloads is news (issue 22's cleaners, their limits).
    ("法院判決侵權成立，被告須負法律責任。", "法院判決侵權成立，被告須負法律責任。"),
    ("國務院規定，任何單位或個人不得非法收集個人資訊。", "國務院規定，任何單位或個人不得非法收集個人資訊。"),
    ("研究人員用電子顯微鏡掃描樣本。", "研究人員用電子顯微鏡掃描樣本。"),
    ("用戶可下載App使用千問的新功能。", "用戶可下載App使用千問的新功能。"),
])
def test_article_lines_are_kept(raw: str, kept: str) -> None:
    assert strip_junk(raw) == kept


@pytest.mark.parametrize(("raw", "kept"), [
    ("新浪科技訊 1月19日上午訊息，阿里巴巴旗下AI助手千問App迎來更新。", "阿里巴巴旗下AI助手千問App迎來更新。"),
    ("新浪科技讯 1月19日上午消息，阿里巴巴旗下AI助手千问App迎来更新。", "阿里巴巴旗下AI助手千问App迎来更新。"),
    ("北京时间1月19日消息，阿里发布了新模型。", "阿里发布了新模型。"),
    ("（記者王小明／台北報導）台積電今天公布財報。", "台積電今天公布財報。"),
    ("中新網北京1月19日電(記者 張三) 國務院今天召開會議。", "國務院今天召開會議。"),
    ("新华社北京1月19日电 国务院今天召开常务会议。", "国务院今天召开常务会议。"),
    ("本報訊 市政府今天宣布新措施。", "市政府今天宣布新措施。"),
    # A date inside the lead is the article's: kept.
    ("台積電1月19日公布財報，營收成長。", "台積電1月19日公布財報，營收成長。"),
    ("阿里巴巴1月19日消息稱新模型上線。", "阿里巴巴1月19日消息稱新模型上線。"),
])
def test_datelines_are_taken_off_the_lead(raw: str, kept: str) -> None:
    assert strip_junk(raw) == kept


def test_sentences_are_judged_alone() -> None:
    assert is_junk("All rights reserved.")
    assert not is_junk(ARTICLE)


@pytest.mark.parametrize(("title", "names", "headline"), [
    ('简单道理捅破"飞人"神话 耐克鞋的气垫"伤机"_商业频道', (), '简单道理捅破"飞人"神话 耐克鞋的气垫"伤机"'),
    ("拿出10万元投资房产 小两口尝试以钱生钱(图)_新浪房产_新浪网", (), "拿出10万元投资房产 小两口尝试以钱生钱"),
    ("居家养老有“医”靠 安宁疗护有温度 - 太原晚报", (), "居家养老有“医”靠 安宁疗护有温度"),
    ("工商部门初定SKII广告属于虚假宣传-搜狐财经", (), "工商部门初定SKII广告属于虚假宣传"),
    ("中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》_央广网", (),
     "中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》"),
    ("農機專家：為農機行業搭建信息平臺_振興東北", ("振興東北",), "農機專家：為農機行業搭建信息平臺"),
    ("AI 代理上線 | iThome", ("iThome",), "AI 代理上線"),  # og:site_name
    ("千問全面升級 | Qwen", (), "千問全面升級 | Qwen"),  # a name is no site unless the page says so
    ("iThome | AI 代理上線", ("iThome",), "AI 代理上線"),
    ("Qwen tops Hugging Face downloads - The Verge", ("The Verge",), "Qwen tops Hugging Face downloads"),
    ("【即時新聞】傑富瑞看好阿里巴巴AI整合", (), "傑富瑞看好阿里巴巴AI整合"),
    ("【AI競賽】月活躍用戶破1億", (), "【AI競賽】月活躍用戶破1億"),  # a topical tag stays
    ("对比试车—测试昌河北斗星、爱迪尔(图)", (), "对比试车—测试昌河北斗星、爱迪尔"),
    ("社会资本与下岗职工的再就业(页 1) - 学术前沿 - 三校社会学论坛 - powered by Discuz! Archiver", (),
     "社会资本与下岗职工的再就业 - 学术前沿"),
    ("顯示", (), ""),
    ("首頁", (), ""),
    ("404", (), ""),
    ("聯合新聞網", ("聯合新聞網",), ""),  # only the site's name
    ("谢谢您访问〖关注中国中心〗", (), ""),
    ("Qwen 3.5 - a closer look", (), "Qwen 3.5 - a closer look"),
    # issue 22: a site name joined by a space, a site segment inside a chain of `_`.
    ("土豆不“土” 土豆無“土” 松花江網", (), "土豆不“土” 土豆無“土”"),
    ("2019年會議議程_中國經濟學年會秘書處_CN_中國經濟學年會", (), "2019年會議議程"),
    ("台積電 法說會 三大重點", (), "台積電 法說會 三大重點"),
    ("台積電 先進製程 半導體科技", (), "台積電 先進製程 半導體科技"),
])
def test_title_cleaner(title: str, names: tuple[str, ...], headline: str) -> None:
    assert clean_title(title, names) == headline


def test_site_suffix_is_learnt_from_the_hosts_titles() -> None:
    titles = [("news.example", "千問國際版年內上線 ‧ 科技島"), ("news.example", "阿里雲推開發套件 ‧ 科技島"),
              ("other.example", "阿里雲推開發套件 ‧ 科技島")]
    titles = [(host, title.replace(" ‧ ", " - ")) for host, title in titles]
    affixes = site_affixes(titles)
    assert clean_title("千問國際版年內上線 - 科技島", affixes=affixes["news.example"]) == "千問國際版年內上線"
    assert clean_title("千問國際版年內上線 - 科技島", affixes=affixes["other.example"]) == "千問國際版年內上線 - 科技島"


def stored(n: int, title: str, text: str, url: str = "") -> StoryArticle:
    return StoryArticle(id=n, url=url or f"https://news.example/{n}", title=title, text=text, snippet="",
                        source="udn", category="news", publisher="", language="zh-Hant",
                        published=datetime(2026, 1, 19, tzinfo=UTC), score=1)


def test_a_day_is_cleaned_together() -> None:
    sidebar = "熱門排行：台積電法說會登場 美股四大指數收紅"
    day = [stored(n, f"{title} - 科技新報", f"{sidebar}\n{text}") for n, (title, text) in enumerate([
        ("千問App全面升級", ARTICLE), ("阿里雲推多模態套件", "阿里雲推出多模態交互開發套件。"),
        ("傑富瑞看好阿里", "傑富瑞看好阿里巴巴將Qwen整合到電商。")], start=1)]
    day.append(stored(4, "顯示", f"{sidebar}\n{ARTICLE}", "https://other.example/4"))
    cleaned = clean_day(day)
    assert [a.title for a in cleaned[:3]] == ["千問App全面升級", "阿里雲推多模態套件", "傑富瑞看好阿里"]
    assert cleaned[0].text == ARTICLE  # the line all three pages of the host carry is gone
    assert cleaned[3].text.startswith(sidebar)  # another host: one page only, kept
    assert cleaned[3].title == sidebar  # a meaningless title: the lead sentence instead


def test_copies_of_one_article_keep_their_text() -> None:
    """Three URLs of one host with the same article: its lines are the article's, not the site's."""
    day = [stored(n, "千問App全面升級", f"{ARTICLE}\n春節後將開放第三方服務入駐。\n（{n}）") for n in range(1, 4)]
    assert all(a.text.startswith(ARTICLE) for a in clean_day(day))


@pytest.mark.parametrize("title", ["", "\u202e" * 10, "|" * 500, "首頁" * 40_000, "- - - _ _ |", "【】" * 9,
                                   "\x00\n\t", "標題 - " * 10_000])
def test_no_title_breaks_the_cleaner(title: str) -> None:
    [article] = clean_day([stored(1, title, "| 首頁 | 分享 |\n" * 50 + ARTICLE)])
    assert article.title and len(article.title) <= TITLE_MAX and "\n" not in article.title


# Nothing from a page can crash a digest: seeded random pages from a hostile alphabet, cleaned as
# a day, summarized offline and rendered.
HOSTILE_ALPHABET = ("|", "-", "_", "【", "】", "「", "」", "。", ".", " ", "\n", "\t", "\u202e", "\x00", "\ufeff",
                    "首頁", "分享", "©", "All rights reserved", "千問", "Qwen", "1億", "3.5", "%", "{{", "{%",
                    "---", "<script>", "\\", "*", "#", "\ud800", "😀", "ア", "a", "。」", "？", "!", ">", "»")


def hostile(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(HOSTILE_ALPHABET) for _ in range(rng.randint(0, size)))


@pytest.mark.parametrize("seed", range(40))
def test_random_hostile_pages_make_a_post(seed: int) -> None:
    rng = random.Random(seed)
    raw = [StoryArticle(id=n, url=rng.choice([f"https://h{n % 3}.example/{n}", "javascript:x", "", "http://[::1"]),
                        title=hostile(rng, 40), text=hostile(rng, 400), snippet=hostile(rng, 20),
                        source=hostile(rng, 5) or "s", category=rng.choice(["news", "social", "finance"]),
                        publisher=hostile(rng, 8), language=rng.choice([None, "zh-Hant", "en", "ja", hostile(rng, 4)]),
                        published=datetime(2026, 1, 19, tzinfo=UTC), score=1, site_name=hostile(rng, 6))
           for n in range(1, 9)]
    articles = clean_day(raw)
    for article in articles:
        assert article.title and len(article.title) <= TITLE_MAX and "\n" not in article.title
    finder = EntityFinder(load_entities())
    stories = group_stories(articles, finder)
    figures = DayFigures(mentions_by_category={"news": len(articles)}, trend={DAY: len(articles)},
                         co_mentioned={}, tickers=(), finance_titles=tuple(a.title for a in articles[:2]))
    digest = DigestInput(model_key="qwen", model=load_models()["qwen"], day=DAY, language="zh-TW",
                         stories=stories[:5], figures=figures)
    result = ExtractiveSummarizer(finder).summarize(digest)
    post = render_post(digest, result, RenderOptions())
    assert post.startswith("---\n") and "\u202e" not in post and "\x00" not in post
