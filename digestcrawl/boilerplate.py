"""Pages that are not articles: cookie walls, bot checks and captchas, login walls, error pages.

A crawler meets them in place of the article it asked for, under the article's URL and often
its headline. Stored, they pass for near-duplicates of each other (same wall text on every
outlet) and merge unrelated stories, so they are recognised by their own text and dropped.

The phrases are those such pages really show (Cloudflare, Akamai, PerimeterX, DataDome,
consent managers, paywalls and CMS error templates), in English, German, French, Spanish,
Chinese (both scripts, compared folded) and Japanese. A phrase alone does not condemn a long
article that quotes it: the page must be short, or say two such things, or carry an
error/bot-check title.
"""

from __future__ import annotations

import re
from functools import lru_cache

from digestcrawl.relevance import fold

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
