"""Page titles made into headlines: no site name, no generic tag, never meaningless.

A page's ``<title>`` carries its site: "…_新浪網", "… - 太原晚報", "iThome | …". A title segment
after (or before) a separator is the site's when the host's other titles of the day end (or
start) with it too (``site_affixes``), when it is the page's og:site_name or publisher, or when
it looks like a site or channel name (ends in 網, 頻道, 日報, News, .com, …). Generic bracket tags
(【即時新聞】, [影], (圖)) are dropped; topical ones (【AI競賽】) stay. A title left meaningless ("顯示",
"首頁", "404", only the site's name) is replaced by the article's lead sentence.
Over-long titles are cut by ``sanitize.cut``. No settings are read.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise

from digestcrawl.text import CJK, HAN_CLASS, squash_spaces

SEPARATOR = re.compile(r"\s+[-–—|｜:]\s+|\s*(?:_|｜|\||›|»|<|>|--|－－)\s*|\s+[-–—]\s*|\s*[-–—]\s+"
                       rf"|(?<=[{HAN_CLASS}）)])-(?=[{HAN_CLASS}])")
SITE_WORDS = re.compile(
    r"(?:網|网|網站|网站|頻道|频道|新聞|新闻|新聞網|新闻网|日報|日报|晚報|晚报|時報|时报|週刊|周刊|電子報|"
    r"电子报|雜誌|杂志|論壇|论坛|社區|社区|博客|部落格|官網|官网|門戶|门户|入口網|電視台|电视台|廣播|广播|"
    r"通訊社|通讯社|財經|财经|科技|快訊|快讯|Online|News|Times|Post|Daily|Journal|Herald|Tribune|"
    r"Magazine|Blog|Network|Media|Press|Reuters|Bloomberg|Archiver|Forum|秘書處|秘书处)$"
    r"|\.(?:com|net|org|cn|tw|hk|jp|io|co|gov)(?:\.[a-z]{2})?$", re.IGNORECASE)
# A site name joined by a space only: "土豆不“土” 土豆無“土” 松花江網".
SPACED_SITE = re.compile(rf"\s+([{HAN_CLASS}]{{3,10}})$")
# Only a name that cannot end a headline ends a spaced title as its site (…松花江網, not …半導體科技).
SPACED_SITE_WORDS = re.compile(r"(?:網|网|日報|日报|晚報|晚报|時報|时报|週刊|周刊|雜誌|杂志|論壇|论坛|電視台|电视台)$")
COUNTRY_CODE = re.compile(r"[A-Z]{2}")  # "…_CN_…": a site's country tag
POWERED = re.compile(r"^powered by\b", re.IGNORECASE)
SITE_MAX = 24  # a longer segment is part of the headline, whatever word it ends with
GENERIC_TAG = re.compile(
    r"[【\[［〔(（]\s*(?:即時|即时|即時新聞|即时新闻|快訊|快讯|獨家|独家|最新|焦點|焦点|熱門|热门|影音|影|"
    r"圖|图|組圖|组图|圖輯|图辑|多圖|多图|視頻|视频|影片|附影片|專題|专题|新聞|新闻|直播|更新|廣告|广告|"
    r"AD|PR|Breaking|Update|Updated|Exclusive|Video|Photos?|Live|速報|動画|写真)\s*[】\]］〕)）]",
    re.IGNORECASE)
PAGE_MARK = re.compile(r"\((?:页|頁|page)\s*\d+\)", re.IGNORECASE)
MEANINGLESS = re.compile(
    r"^(?:顯示|显示|首頁|首页|主頁|主页|home|index|untitled|無標題|无标题|無題|新聞|新闻|news|error|"
    r"\d{3}|404 not found|not found|page not found|頁面不存在|页面不存在|找不到網頁|找不到网页|"
    r"access denied|forbidden|just a moment\.*|attention required.*|登入|登录|login|sign in|"
    r"(?:歡迎|欢迎|謝謝您?|谢谢您?)(?:光臨|光临|訪問|访问|來到|来到).*|welcome.*)$", re.IGNORECASE)


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def segments(title: str) -> list[str]:
    return [part.strip() for part in SEPARATOR.split(title) if part.strip()]


def site_affixes(titles: Iterable[tuple[str, str]]) -> dict[str, tuple[set[str], set[str]]]:
    """Host → (first segments, last segments) that two or more of its titles share."""
    firsts: dict[str, Counter[str]] = defaultdict(Counter)
    lasts: dict[str, Counter[str]] = defaultdict(Counter)
    for host, title in dict.fromkeys(titles):
        parts = segments(title)
        if len(parts) > 1:
            firsts[host][_fold(parts[0])] += 1
            lasts[host][_fold(parts[-1])] += 1
    hosts = firsts.keys() | lasts.keys()
    return {host: ({k for k, n in firsts[host].items() if n >= 2},
                   {k for k, n in lasts[host].items() if n >= 2}) for host in hosts}


def _is_site(segment: str, names: set[str], learnt: set[str], stripped: Sequence[str] = ()) -> bool:
    folded = _fold(segment)
    if not folded or POWERED.match(segment) or COUNTRY_CODE.fullmatch(segment.strip()):
        return True
    if folded in learnt or folded in names:
        return True
    if len(segment) > SITE_MAX:
        return False
    if CJK.match(segment) and any(CJK.match(s) and s[:2] == segment[:2] for s in stripped):
        return True  # 新浪房產 after 新浪網: the same site's channel
    return (any(len(n) >= 3 and (n in folded or folded in n) for n in names)
            or bool(SITE_WORDS.search(segment)))


def _strip_site(title: str, names: set[str], firsts: set[str], lasts: set[str]) -> tuple[str, list[str]]:
    """``title`` without site segments at its end, then at its start (never all of it), and the
    segments taken off, outermost first."""
    stripped: list[str] = []
    for _ in range(4):  # "headline - section - site - powered by …"
        matches = list(SEPARATOR.finditer(title))
        if not matches:
            break
        last = matches[-1]
        tail, head = title[last.end():], title[:last.start()]
        if head.strip() and _is_site(tail, names, lasts, stripped):
            title = head
            stripped.append(tail.strip())
            continue
        # A site segment inside a chain of three or more ("…議程_中國經濟學年會秘書處_CN_中國經濟學年會"):
        # it and all after it are the site's.
        inner = next(((m, after) for m, after in pairwise(matches) if _fold(title[m.end():after.start()])
                      and _is_site(title[m.end():after.start()], names, lasts, stripped)), None)
        if inner is not None and title[:inner[0].start()].strip():
            stripped.append(title[inner[0].end():inner[1].start()].strip())
            title = title[:inner[0].start()]
            continue
        first = matches[0]
        lead, rest = title[:first.start()], title[first.end():]
        if rest.strip() and _is_site(lead, names, firsts, stripped):
            title = rest
            stripped.append(lead.strip())
            continue
        break
    spaced = SPACED_SITE.search(title)
    if spaced and SPACED_SITE_WORDS.search(spaced[1]) and CJK.search(title[:spaced.start()]):
        stripped.append(spaced[1])
        title = title[:spaced.start()]
    return title.strip(), stripped


def strip_tags(title: str) -> str:
    return squash_spaces(PAGE_MARK.sub("", GENERIC_TAG.sub(" ", title)))


def meaningless(title: str, names: set[str]) -> bool:
    folded = _fold(title)
    return (not re.search(r"[^\W\d_]", title) or bool(MEANINGLESS.match(title.strip()))
            or (bool(folded) and folded in names) or len(folded) < 2)


def clean_title(title: str, site_names: Sequence[str] = (),
                affixes: tuple[set[str], set[str]] = (set(), set())) -> str:
    """The headline in a page's title; empty when the title says nothing (the caller uses the
    lead sentence then)."""
    names = {_fold(n) for n in site_names if _fold(n)}
    headline = strip_tags(_strip_site(title, names, *affixes)[0])
    return "" if meaningless(headline, names) else headline


def title_site(title: str, affixes: tuple[set[str], set[str]] = (set(), set())) -> str:
    """The site's name a page's title carries ("…_新浪網" → 新浪網), or "": the outermost segment
    taken off that reads as a name (not "Powered by …", not a long phrase)."""
    _, stripped = _strip_site(title, set(), *affixes)
    return next((s for s in stripped if not POWERED.match(s) and len(s) <= SITE_MAX and _fold(s)), "")
