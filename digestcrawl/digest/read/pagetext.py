"""Page junk out of an article's text before anything is summarized from it.

Extraction keeps what a page's layout put around the article: table markup (``| 首頁 |  | 分享 |``),
Markdown marks, copyright and licensing notices, navigation bars, breadcrumbs, share, download and
scan prompts, contact blocks, bylines and datelines (新浪科技訊 1月19日上午訊息，), and the same
sidebar on every page of a site. ``strip_junk`` removes them from one text, line by line
and, in a table row, cell by cell; ``repeated_lines`` finds the lines a host repeats on several
of the day's pages (a line on at least ``REPEATED_ON`` other pages of the same host is the
site's, not the article's). ``is_junk`` judges one line or sentence, for the summarizers'
sentence filters too. Word lists cover zh-Hant, zh-Hans, English and Japanese.
No settings are read.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from digestcrawl.text import CJK, squash_spaces

REPEATED_ON = 2  # other pages of the same host that make a line boilerplate
SHORT = 40  # a line this short with a junk word is junk; a longer one is prose that names it
META_SHORT = 80

TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
MARKDOWN_LEAD = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+(?=\S))")
MARKDOWN_MARKS = re.compile(r"\*\*|__|`+|\\(?=[|*_#\[\]()`>-])")
COPYRIGHT = re.compile(
    r"copyright|all rights reserved|©|\(c\)\s*\d{4}|版權所有|版权所有|著作權所有|著作权所有|"
    r"不得轉載|不得转载|禁止轉載|禁止转载|未經授權|未经授权|無斷転載|無断転載|転載を禁|"
    r"本站所有文章|本網站所有|本网站所有", re.IGNORECASE)
NAVIGATION_WORDS = (
    # zh-Hant / zh-Hans
    "首頁", "首页", "主頁", "主页", "回首頁", "返回首页", "分享", "轉寄", "转发", "列印", "打印",
    "推薦", "推荐", "收藏", "訂閱", "订阅", "登入", "登录", "註冊", "注册", "回到頂端", "返回顶部",
    "上一篇", "下一篇", "上一頁", "上一页", "下一頁", "下一页", "相關新聞", "相关新闻", "延伸閱讀",
    "延伸阅读", "熱門", "热门", "發表評論", "发表评论", "查看評論", "查看评论", "我來說兩句",
    "我来说两句", "字體", "字体", "關閉", "关闭", "返回目錄", "返回目录", "返目录", "更多", "網友評論",
    "网友评论", "當前位置", "当前位置", "您的位置", "目前位置", "所在位置", "今日推薦", "今 日 推 荐",
    "點閱", "瀏覽次數", "浏览次数", "加入書籤", "加入收藏", "友善列印", "看更多", "閱讀全文", "阅读全文",
    "廣告", "广告", "贊助", "赞助", "留言板", "日志更新", "最新評論", "最新评论", "公告", "链接",
    # en
    "home", "share", "tweet", "facebook", "twitter", "linkedin", "whatsapp", "line", "print",
    "email", "subscribe", "sign in", "log in", "login", "register", "related", "read more",
    "advertisement", "sponsored", "comments", "previous", "next", "menu", "search", "back to top",
    # ja
    "ホーム", "トップ", "シェア", "共有", "ツイート", "印刷", "関連記事", "ログイン", "続きを読む",
    "広告", "前の記事", "次の記事", "メニュー", "コメント",
)
NAVIGATION = re.compile("|".join(sorted(
    (re.escape(w) if not w.isascii() else rf"\b{re.escape(w)}\b" for w in NAVIGATION_WORDS),
    key=len, reverse=True)), re.IGNORECASE)
META = re.compile(
    r"^\s*(?:作者|來源|来源|記者|记者|發布日期|发布日期|發佈時間|发布时间|發布時間|更新時間|更新时间|"
    r"時間|时间|日期|責任編輯|责任编辑|編輯|编辑|出處|出处|by|source|posted|updated|published|"
    r"written by|photo|image|圖片|图片|攝影|摄影|文／|文/)\s*[:：/／]", re.IGNORECASE)
META_ANYWHERE = re.compile(r"來源[:：]|来源[:：]|責任編輯|责任编辑|發表評論|发表评论|\d{1,2}:\d{2}\s*更新")
BREADCRUMB = re.compile(
    r"(?:當前位置|当前位置|您的位置|目前位置|所在位置|現在位置|现在位置|位置)\s*[:：]?\s*"
    r"[^\s>»›→|]+(?:\s*(?:->|>|»|›|→|\||｜)\s*[^\s>»›→|]+)+")
SEPARATORS = re.compile(r"\s*(?:\\?\||｜|│|»|›|→|->|>|·|•|/|\s[-–—]+\s|-{2,})\s*")
SENTENCE_MARK = re.compile(r"[。！？；，,]|[.!?](?=\s|$)")
# A dateline before a lead: 新浪科技訊 1月19日上午訊息，/ 北京时间1月19日消息，/ 中新網北京1月19日電 /
# （記者王小明／台北報導）/ 【記者…報導】/ 本報訊 — taken off the line, the lead kept. An attribution
# (據路透社報導，…) is the sentence's and stays.
DATELINE = re.compile(
    r"^\s*(?:"
    r"[（(【\[]\s*(?:記者|记者|編譯|编译|中央社|綜合報導|综合报道)[^）)】\]]{0,40}[）)】\]]\s*"
    r"|(?:[^\s，,。：:]{1,16}?(?:訊|讯|電|电|報導|报道|消息)\s*|[^\s，,。：:\d]{1,10}?)?"
    r"(?:(?:北京|台北|臺北|香港|上海|深圳|杭州|東京|东京|紐約|纽约)?時間|(?:北京|台北|臺北)?时间)?\s*"
    r"(?:\d{4}年)?\d{1,2}月\d{1,2}日\s*(?:[上下]午|早間|早间|晚間|晚间|凌晨|中午|晚上)?\s*"
    r"(?:訊息|讯息|消息|電|电|訊|讯|報導|报道)(?![稱称指])\s*(?:[（(][^）)]{0,30}[）)])?\s*[，,：:]?\s*"
    r"|(?:本報|本报|本刊|本網|本网)(?:訊|讯)\s*(?:[（(][^）)]{0,30}[）)])?\s*[，,：:]?\s*"
    r")+")
# Copyright and licensing notices, whatever their length: 任何單位或個人…著作權歸屬於…; not news
# about rights (法院判決侵權成立), which names no owner of the page's rights.
LICENSING = re.compile(
    r"(?:著作權|著作权|版權|版权)(?:歸|归|屬|属)|(?:轉載|转载)(?:請|请|須|须|需|務必|务必)|請勿轉載|请勿转载|"
    r"免責聲明|免责声明|未經(?:本站|本網|本社|本報|授權)|未经(?:本站|本网|本社|本报|授权)")
# Contact blocks and prompts to share, download or scan: short lines that end no sentence (a
# sentence of news may name a phone number or a download, and ends with its 。).
CONTACT = re.compile(
    r"(?:電話|电话|傳真|传真|聯絡|联络|聯繫|联系|客服|熱線|热线|郵箱|邮箱|信箱|地址|郵編|邮编|"
    r"\btel\b|\bfax\b|e-?mail)\s*[:：]|\(?0\d{1,3}\)?[-\s]?\d{3,4}[-\s]?\d{4}\b", re.IGNORECASE)
PROMPTS = re.compile(
    r"掃描|扫描|掃碼|扫码|二維碼|二维码|QR ?code|長按|长按|下載(?:APP|App|客戶端|應用)|"
    r"下载(?:APP|App|客户端|应用)|點擊下載|点击下载|分享到|分享至|一鍵分享|一键分享|關注(?:我們|公眾號)|"
    r"关注(?:我们|公众号)|加入(?:LINE|Line)|追蹤(?:我們|粉專)|訂閱(?:我們|電子報)|订阅(?:我们|电子报)", re.IGNORECASE)
SENTENCE_END = re.compile(r"[。！？!?]\s*[」』”’）)]?$")
PROMPT_SHORT = 80
# A short line wholly in brackets is a credit or a mark, not the article's: （三校社會學論壇·中國網）, （完）, （-）.
BRACKETED = re.compile(r"^[（(【\[][^（()）【】\[\]。！？]{0,30}[）)】\]]$")
BRACKET_BUTTONS = re.compile(r"【[^】]{1,8}】")
LINK_LABEL = re.compile(r"\S\[[^\]\s]{1,12}\]")


def _tokens(line: str) -> list[str]:
    """The items of a would-be menu: split at separators, and at spaces between CJK words."""
    parts = [p for p in SEPARATORS.split(line) if p.strip()]
    if CJK.search(line):
        parts = [w for p in parts for w in p.split()]
    return parts


def is_navigation(line: str) -> bool:
    """A menu, breadcrumb or button bar: many short items and no sentence, or a short line
    made of navigation words."""
    stripped = line.strip()
    if not stripped:
        return True
    if BRACKET_BUTTONS.sub("", stripped).strip() == "" and "【" in stripped:
        return True  # 【推薦】【打印】【關閉】
    if len(LINK_LABEL.findall(stripped)) >= 3:
        return True  # a blogroll: 洞庭一葉[個人主頁] 漢網[漢民族服飾] 湖湘文化論壇[紅網] …
    if len(re.findall(r"->|>|»|›|→", stripped)) >= 2 and len(stripped) <= 2 * SHORT \
            and not SENTENCE_MARK.search(stripped):
        return True  # a breadcrumb: 首頁 > 科技 > AI
    tokens = _tokens(stripped)
    words = sum(len(t.split()) for t in tokens)
    if len(tokens) >= 4 and not SENTENCE_MARK.search(stripped):
        short = sum(1 for t in tokens if len(t) <= 10 or len(t.split()) <= 3)
        if short >= 0.8 * len(tokens):
            return True
    if len(stripped) <= SHORT:
        rest = NAVIGATION.sub("", stripped)
        if rest != stripped and len(re.sub(r"[\W\d_]+", "", rest)) <= max(4, len(stripped) // 3):
            return True
    return words <= 3 and len(stripped) <= 12 and bool(NAVIGATION.search(stripped))


def is_junk(line: str) -> bool:
    """Not the article's: copyright, navigation, share buttons, a byline or dateline."""
    stripped = line.strip()
    if not stripped or TABLE_RULE.match(stripped):
        return True
    if COPYRIGHT.search(stripped) and len(stripped) <= 3 * SHORT:
        return True
    if LICENSING.search(stripped) and len(stripped) <= 10 * SHORT:
        return True
    if (len(stripped) <= PROMPT_SHORT and not SENTENCE_END.search(stripped)
            and (CONTACT.search(stripped) or PROMPTS.search(stripped))):
        return True
    if BRACKETED.match(stripped):
        return True
    if len(stripped) <= META_SHORT and (META.match(stripped) or META_ANYWHERE.search(stripped)):
        return True
    return is_navigation(stripped)


def _unmark(text: str) -> str:
    text = MARKDOWN_LINK.sub(r"\1", text)
    text = MARKDOWN_LEAD.sub("", text)
    return MARKDOWN_MARKS.sub("", text)


def _clean_line(line: str) -> str:
    """A line without markup and junk cells; empty when nothing of it is the article's."""
    if TABLE_RULE.match(line):
        return ""
    cells = CELL_SPLIT.split(line) if line.count("|") - line.count("\\|") >= 2 else [line]
    kept, junk = [], 0
    for cell in cells:
        cell = DATELINE.sub("", BREADCRUMB.sub("", squash_spaces(_unmark(cell))).strip()).strip()
        if cell and is_junk(cell):
            junk += 1
        elif cell:
            kept.append(cell)
    if kept and not any(SENTENCE_MARK.search(c) for c in kept) and (
            junk >= max(2, len(kept)) or (len(kept) > 1 and is_navigation(" | ".join(kept)))):
        return ""  # a row of short cells among menu items is a menu, whatever each cell says
    return " ".join(kept)


def key(line: str) -> str:
    """The form lines are compared in across pages."""
    return re.sub(r"[\W_]+", "", line).casefold()


def strip_junk(text: str, boilerplate: frozenset[str] = frozenset()) -> str:
    """``text`` without page junk, one paragraph a line; ``boilerplate`` holds the keys
    (``key``) of lines to drop as well."""
    lines = []
    for raw in text.splitlines():
        line = _clean_line(raw)
        if line and key(line) not in boilerplate:
            lines.append(line)
    return "\n".join(lines)


def repeated_lines(texts: Sequence[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Host → the keys of lines found on more than ``REPEATED_ON`` of its pages, from
    (host, text) pairs. A page counts a line once; a page that repeats another page's whole
    text (a syndicated copy) still counts: a site's sidebar is on every one of its pages."""
    pages: dict[str, Counter[str]] = defaultdict(Counter)
    for host, text in dict.fromkeys((host, key(text)[:2000] and text) for host, text in texts):
        pages[host].update({key(line) for line in text.splitlines() if len(key(line)) >= 4})
    return {host: frozenset(k for k, n in counts.items() if n > REPEATED_ON)
            for host, counts in pages.items()}
