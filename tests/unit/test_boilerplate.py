"""Non-article pages recognised by their text: a table of real-looking walls and articles."""

from __future__ import annotations

import pytest

from digestcrawl.boilerplate import boilerplate_kind

ARTICLE = ("Alibaba said on Monday that its Qwen app now integrates Taobao, Alipay and Fliggy, and passed 100 million "
           "monthly active users. ") * 6


@pytest.mark.parametrize(("title", "text", "kind"), [
    ("Just a moment...", "Checking your browser before accessing example.com. This process is automatic.", "bot_check"),
    ("Attention Required! | Cloudflare", "Please complete the security check to access news.example", "bot_check"),
    ("Access to this page has been denied", "Press & Hold to confirm you are a human (and not a bot).", "bot_check"),
    ("阿里千問月活破億", "您的請求過於頻繁，請完成安全驗證後再繼續瀏覽。", "bot_check"),
    ("千问App重磅升级", "访问过于频繁，请完成安全验证", "bot_check"),
    ("Qwen app tops 100 million users", "We use cookies to improve your experience. Accept all cookies or manage "
     "cookie preferences.", "cookie_wall"),
    ("Qwen-App erreicht 100 Millionen Nutzer", "Wir verwenden Cookies und ähnliche Technologien. Alle akzeptieren",
     "cookie_wall"),
    ("Alibaba : l'application Qwen", "Nous utilisons des cookies pour vous offrir la meilleure expérience. "
     "Tout accepter", "cookie_wall"),
    ("アリババ、千問に淘宝を連携", "当サイトではクッキーを使用しています。", "cookie_wall"),
    ("Alibaba's Qwen bets on agents", "Subscribe to continue reading. Already a subscriber? Sign in", "login_wall"),
    ("千問App接入淘寶", "本文為會員專享內容，登入後繼續閱讀。", "login_wall"),
    ("404 Not Found", "", "error_page"),
    ("Page not found", "The page you are looking for has moved or no longer exists.", "error_page"),
    ("找不到網頁", "很抱歉，您訪問的頁面不存在或已被刪除。", "error_page"),
    ("ページが見つかりません", "お探しのページは見つかりませんでした。", "error_page"),
])
def test_walls_and_error_pages_are_recognised(title: str, text: str, kind: str) -> None:
    assert boilerplate_kind(title, text) == kind


@pytest.mark.parametrize(("title", "text"), [
    ("Alibaba's Qwen app passes 100M monthly users", ARTICLE),
    ("Error rates fall as Qwen3 tops coding benchmarks", "Qwen3 made fewer errors than rivals on SWE-bench."),
    ("Why sites keep asking whether you are a robot", ARTICLE + " Many sites now show a captcha."),
    ("404 Media: how AI scrapers hit news sites", ARTICLE),
    ("千問春節後將開放第三方入駐", "阿里巴巴旗下千問App月活躍用戶突破1億，春節後開放第三方服務入駐。"),
    ("Qwen3-Max tops leaderboard", ""),  # a feed headline
])
def test_articles_are_not_boilerplate(title: str, text: str) -> None:
    assert boilerplate_kind(title, text) is None
