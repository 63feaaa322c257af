"""Non-article pages recognised by their text: a table of real-looking walls and articles."""

from __future__ import annotations

import pytest

from digestcrawl.text.boilerplate import RepeatedWalls, boilerplate_kind, title_held, wall_key

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


# The same wall on several hosts: one short text under headlines it does not hold

CONSENT = ("Before you continue: we and 143 vendors store and access information on your device, such as "
           "unique identifiers, to measure content performance and develop services. You can change your "
           "choice at any time in the privacy centre. Agree. Manage options.")
WIRE = ("阿里巴巴旗下千問App月活躍用戶突破1億，春節後開放第三方服務入駐，國際版預計年內上線。"
        "千問已接入淘寶、支付寶、飛豬與高德地圖。")


def test_one_text_on_three_hosts_under_unrelated_titles_is_a_wall() -> None:
    walls = RepeatedWalls()
    assert walls.see("https://a.example/1", "a", "千問月活破億", CONSENT) == []
    assert walls.see("https://b.example/2", "b", "Qwen3 tops the leaderboard", CONSENT.replace("143", "87")) == []
    third = walls.see("https://c.example/3", "c", "Alibaba opens Qwen to third parties", CONSENT)
    assert [(s.url, s.source) for s in third] == [
        ("https://a.example/1", "a"), ("https://b.example/2", "b"), ("https://c.example/3", "c")]
    # From then on, every page with that text is the wall, on any host and under any title.
    assert [s.url for s in walls.see("https://a.example/4", "a", "千問", CONSENT)] == ["https://a.example/4"]


def test_a_syndicated_short_article_is_no_wall() -> None:
    """Its text holds its title on every host, even a headline that compresses it."""
    walls = RepeatedWalls()
    titles = ["千問App月活躍用戶突破1億", "千問月活破億 春節後開放第三方", "阿里千問App 國際版年內上線",
              "千問接入淘寶支付寶"]
    for host, title in zip("abcd", titles, strict=True):
        assert walls.see(f"https://{host}.example/x", host, title, WIRE) == []


def test_a_wall_needs_three_hosts_and_more_than_one_title() -> None:
    walls = RepeatedWalls()
    assert walls.see("https://a.example/1", "a", "one", CONSENT) == []
    assert walls.see("https://a.example/2", "a", "two", CONSENT) == []
    assert walls.see("https://b.example/3", "b", "three", CONSENT) == []  # two hosts only
    same = RepeatedWalls()
    assert all(same.see(f"https://{h}.example/1", h, "Notice", CONSENT) == [] for h in "abc")  # one title
    assert RepeatedWalls().see("https://a.example/1", "a", "t", CONSENT * 10) == []  # too long to be a wall


def test_the_wall_key_leaves_out_digits_and_the_hosts_own_name() -> None:
    assert wall_key("example.com uses 12 cookies", "www.example.com") == wall_key("other.org uses 7 cookies",
                                                                                 "other.org")
    assert wall_key("we use cookies", "a.example") != wall_key("we use trackers", "a.example")
    assert wall_key("2026-01-19", "a.example") is None  # nothing but digits
    assert title_held("千問App月活躍用戶突破1億", WIRE) and not title_held("Qwen3 tops the leaderboard", CONSENT)


def test_a_chinese_consent_page_under_chinese_headlines_is_a_wall() -> None:
    consent = ("在您繼續瀏覽之前：我們與143家供應商會在您的裝置上儲存及存取資訊，例如唯一識別碼，"
               "以衡量內容成效並開發服務。您可隨時在隱私中心變更選擇。同意。管理選項。")
    walls = RepeatedWalls()
    titles = ["阿里千問下載量斷層領跑", "千問App月活破億 春節後開放第三方", "DeepSeek發布新模型 價格減半"]
    found = [walls.see(f"https://{host}.example/1", host, title, consent)
             for host, title in zip("abc", titles, strict=True)]
    assert [len(f) for f in found] == [0, 0, 3]
