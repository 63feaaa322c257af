"""Pages that are not articles: cookie walls, bot checks and captchas, login walls, error pages.

A crawler meets them in place of the article it asked for, under the article's URL and often
its headline. Stored, they pass for near-duplicates of each other (same wall text on every
outlet) and merge unrelated stories, so they are recognised by their own text and dropped.

The phrases are those such pages really show (Cloudflare, Akamai, PerimeterX, DataDome,
consent managers, paywalls and CMS error templates), in English, German, French, Spanish,
Chinese (both scripts, compared folded) and Japanese. A phrase alone does not condemn a long
article that quotes it: the page must be short, or say two such things, or carry an
error/bot-check title.

A wall whose words are in no list is recognised by being one short text that several hosts of
a crawl serve under headlines it does not hold (``RepeatedWalls``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from digestcrawl.text.chars import CJK_RUN, LATIN_WORD
from digestcrawl.text.relevance import fold

SHORT_PAGE = 700  # characters: a wall or an error page says little besides its phrase
LONG_PAGE = 3000  # beyond this a page is an article that may quote such phrases

PHRASES: dict[str, tuple[str, ...]] = {
    "cookie_wall": (
        "we use cookies", "this website uses cookies", "this site uses cookies", "accept all cookies",
        "manage cookie preferences", "cookie settings", "by continuing to browse", "consent to the use of cookies",
        "we and our partners", "your privacy choices",
        "wir verwenden cookies", "diese website verwendet cookies", "alle akzeptieren", "cookie-einstellungen",
        "nous utilisons des cookies", "ce site utilise des cookies", "accepter et fermer", "tout accepter",
        "utilizamos cookies", "este sitio web utiliza cookies", "aceptar todas",
        "本網站使用cookie", "本网站使用cookie", "我們使用cookie", "我们使用cookie", "接受所有cookie",
        "クッキーを使用", "cookieを使用", "すべてのcookieを受け入れる",
    ),
    "bot_check": (
        "checking your browser before accessing", "verify you are human", "verifying you are human",
        "please verify you are a human", "are you a robot", "i'm not a robot",
        "enable javascript and cookies to continue",
        "press & hold to confirm", "access to this page has been denied", "unusual traffic from your computer",
        "complete the security check", "ddos protection by", "attention required! | cloudflare", "captcha",
        "bitte bestätigen sie, dass sie ein mensch sind", "vérifiez que vous êtes humain",
        "verifica que eres humano",
        "請完成安全驗證", "请完成安全验证", "您的請求過於頻繁", "访问过于频繁", "人機驗證", "人机验证", "我不是機器人",
        "ロボットではありません", "アクセスが集中",
    ),
    "login_wall": (
        "sign in to continue", "log in to continue", "subscribe to continue reading",
        "create a free account to continue",
        "this content is for subscribers only", "you have reached your limit of free articles",
        "already a subscriber? sign in",
        "melden sie sich an, um weiterzulesen", "jetzt abonnieren und weiterlesen",
        "connectez-vous pour continuer", "abonnez-vous pour lire la suite",
        "inicia sesión para continuar", "suscríbete para seguir leyendo",
        "登入後繼續閱讀", "登录后继续阅读", "請先登入", "请先登录", "訂閱後即可閱讀", "会员专享",
        "ログインして続きを読む", "続きを読むには会員登録",
    ),
    "error_page": (
        "page not found", "the page you requested could not be found", "the page you are looking for",
        "this page doesn't exist", "404 not found", "403 forbidden", "500 internal server error",
        "503 service unavailable", "service temporarily unavailable", "this article is no longer available",
        "seite nicht gefunden", "page introuvable", "página no encontrada",
        "找不到網頁", "找不到网页", "頁面不存在", "页面不存在", "您訪問的頁面不存在", "您访问的页面不存在",
        "文章已刪除", "文章已删除",
        "ページが見つかりません", "お探しのページは見つかりませんでした",
    ),
}
TITLE_MAX = 40  # a longer title is a headline that may start with such words ("Error rates fall…")
# Titles that name the page for what it is.
TITLE = re.compile(
    r"^\s*(?:just a moment|attention required|access denied|are you a robot|security check|captcha"
    r"|404|403|500|502|503|page not found|not found|error\b|forbidden|seite nicht gefunden|page introuvable"
    r"|找不到|页面不存在|頁面不存在|安全验证|安全驗證|ページが見つかりません)",
    re.IGNORECASE)
ERROR_TITLE = re.compile(r"\s*(?:40\d|50\d|page not found|not found|error|forbidden|找不到|页面不存在|頁面不存在"
                         r"|seite nicht gefunden|page introuvable|ページが見つかりません)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    # Spaces optional between CJK and Latin ("使用 cookie"), any run of spaces in Latin phrases.
    def pattern(phrase: str) -> str:
        return r"\s*".join(re.escape(part) for part in fold(phrase).split())

    return {kind: re.compile("|".join(pattern(p) for p in phrases)) for kind, phrases in PHRASES.items()}


def boilerplate_kind(title: str, text: str) -> str | None:
    """The kind of non-article page this is (``cookie_wall``, ``bot_check``, ``login_wall``,
    ``error_page``), or None for an article."""
    body = text or ""
    if len(body) > LONG_PAGE:
        return None
    folded = fold(f"{title}\n{body}")
    hits = {kind: len(set(pattern.findall(folded))) for kind, pattern in _patterns().items()}
    kind, found = max(hits.items(), key=lambda item: item[1])
    # A short title that names the page ("Just a moment...", "404 Not Found") settles it.
    titled = len(title) <= TITLE_MAX and TITLE.match(title) is not None
    if found and (titled or len(body) <= SHORT_PAGE or found >= 2):
        return kind
    if titled and len(body) <= SHORT_PAGE:
        return "error_page" if ERROR_TITLE.match(title) else "bot_check"
    return None


# --- the same wall on several hosts ---------------------------------------------------------------
# A consent manager or a bot check that says nothing the phrases know is still one text on every
# outlet that uses it, each time under that outlet's headline. A syndicated article is one text
# on several outlets too, but under its own title, whose words its text holds.

WALL_TEXT_MAX = 1500  # characters: a longer text is an article, however many outlets run it
WALL_HOSTS = 3  # a text on this many hosts under titles it does not hold is a wall (this one and 2 others)
# Share of a title's words an article's own text holds at least. Words: Latin words and CJK
# characters (a headline compresses its lead: 月活破億 for 月活躍用戶突破1億).
TITLE_HELD = 0.5
_LETTERS = re.compile(r"[^\W\d_]+")


def _words(text: str) -> set[str]:
    folded = fold(text)
    characters = {character for run in CJK_RUN.findall(folded) for character in run}
    return characters | {word for word in LATIN_WORD.findall(folded) if len(word) > 1 and not word.isdigit()}


def title_held(title: str, text: str) -> bool:
    """Whether ``text`` holds most of ``title``'s words, as an article holds its headline."""
    words = _words(title)
    return bool(words) and len(words & _words(text)) >= TITLE_HELD * len(words)


def wall_key(text: str, host: str) -> str | None:
    """What one wall's text is on every host: its letters, folded, without digits (ray ids,
    dates) and without the words of the host's own name ("example.com uses cookies"). None for a
    text too long, or too empty, to be a wall."""
    if len(text) > WALL_TEXT_MAX:
        return None
    own = set(_LETTERS.findall(host.lower()))
    letters = "".join(word for word in _LETTERS.findall(fold(text)) if word not in own)
    return hashlib.sha1(letters.encode("utf-8")).hexdigest() if letters else None


@dataclass(frozen=True)
class Sighting:
    """A page that served a possible wall."""

    url: str
    source: str
    host: str
    title: str  # folded


class RepeatedWalls:
    """The crawl's short texts served under titles they do not hold, by text: once one is seen
    on ``hosts`` hosts under more than one title, it is a wall, and so is every later page with
    it. Only such texts are kept, so memory stays small; the cost is one hash per short page."""

    def __init__(self, hosts: int = WALL_HOSTS) -> None:
        self.hosts = hosts
        self._seen: dict[str, list[Sighting]] = {}
        self._walls: set[str] = set()

    def see(self, url: str, source: str, title: str, text: str) -> list[Sighting]:
        """The pages now known to serve a wall: this one, with the earlier ones the first time
        their text is recognised; empty when the page is no wall as far as the crawl has shown."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        key = wall_key(text, host)
        if key is None:
            return []
        sighting = Sighting(url, source, host, fold(title).strip())
        if key in self._walls:
            return [sighting]
        if title_held(title, text):
            return []
        seen = self._seen.setdefault(key, [])
        seen.append(sighting)
        if len({s.host for s in seen}) < self.hosts or len({s.title for s in seen}) < 2:
            return []
        self._walls.add(key)
        return self._seen.pop(key)
