"""The published site as a reader sees it: the fixture web crawled, `scrapy digest --site --build`
into the shipped skeleton, the built site served on 127.0.0.1 under a subpath (as on GitHub
Pages) and opened in Chromium through Playwright; axe-core checks accessibility."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from scrapy.utils.project import get_project_settings

from digestcrawl.digest.publish.site import Site, create_skeleton, jekyll_build, skeleton_files
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb

BASEURL = "/digests"
ORIGIN = "https://reader.github.io"
POST_URL = "qwen/daily/2026/01/19/qwen-daily.html"
AXE = ROOT / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def _require(tool: str | None, what: str) -> None:
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not installed; CI must install it (scripts/setup.sh)")
        pytest.skip(f"{what} is not installed")


# --- The skeleton: package data, never over a user's file ----------------------------------


def test_skeleton_has_config_layouts_includes_and_pages() -> None:
    names = {name for name, _ in skeleton_files()}
    assert {"_config.yml", "index.html", "assets/css/digest.css", "_layouts/default.html", "_layouts/home.html",
            "_layouts/post.html", "_layouts/model.html", "_includes/infographic.html",
            "_includes/ai_summary.html", "_includes/sources.html"} <= names
    config = yaml.safe_load(dict(skeleton_files())["_config.yml"].read_text("utf-8"))
    assert config["lang"] == "zh-Hant" and config["timezone"] == "Asia/Taipei" and config["baseurl"] == ""
    assert config["plugins"] == ["jekyll-feed", "jekyll-seo-tag"]
    for name, resource in skeleton_files():  # no CDN, no font or script fetched from elsewhere
        if name.endswith((".html", ".css", ".yml")):
            assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//|@import|url\(", resource.read_text("utf-8")), name


def test_skeleton_keeps_every_file_a_user_has(tmp_path: Path) -> None:
    mine = {"_layouts/post.html": "my post layout", "assets/css/digest.css": "/* mine */"}
    for name, text in mine.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    created = create_skeleton(tmp_path)
    assert (tmp_path / "_config.yml") in created and (tmp_path / "_layouts" / "home.html") in created
    for name, text in mine.items():
        assert (tmp_path / name).read_text() == text
        assert tmp_path / name not in created
    assert create_skeleton(tmp_path) == []  # a second time: nothing left to create


def test_a_site_with_its_own_config_gets_no_skeleton_and_no_model_page(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text("theme: minima\n")
    site = Site(tmp_path)
    assert site.ensure_model_page("qwen", "QWEN") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_config.yml"]


def test_model_pages_are_written_once_and_never_over_a_users_page(tmp_path: Path) -> None:
    site = Site(tmp_path)
    page = site.ensure_model_page("qwen", "QWEN")
    assert page == tmp_path / "models" / "qwen.md"
    assert yaml.safe_load(page.read_text("utf-8").split("---\n")[1]) == {
        "layout": "model", "title": "QWEN", "model": "qwen", "permalink": "/qwen/"}
    page.write_text("---\nlayout: model\ntitle: 千問\nmodel: qwen\n---\nmine\n", "utf-8")
    assert Site(tmp_path).ensure_model_page("qwen", "QWEN") == page
    assert page.read_text("utf-8").endswith("mine\n")
    assert Site(tmp_path, skeleton=False).ensure_model_page("deepseek", "DEEPSEEK") is not None


def test_jekyll_warnings_are_reported(tmp_path: Path) -> None:
    _require(shutil.which("jekyll"), "jekyll")
    create_skeleton(tmp_path)
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_posts" / "2026-01-19-x.md").write_text("---\nlayout: nowhere\ntitle: x\n---\nx\n")
    build = jekyll_build(tmp_path)
    assert build is not None and build.ok
    assert any("Layout 'nowhere'" in line for line in build.warnings), build.output


def test_skeleton_loads_from_the_scrapyd_egg(tmp_path: Path) -> None:
    """Scrapyd runs jobs from a zipped egg: the skeleton is read through importlib.resources."""
    egg = tmp_path / "digestcrawl.egg"
    subprocess.run([str(Path(sys.executable).parent / "scrapyd-deploy"), "--build-egg", str(egg)], cwd=ROOT,
                   check=True, capture_output=True)
    assert "digestcrawl/skeleton/_layouts/post.html" in zipfile.ZipFile(egg).namelist()
    code = ("import sys; from pathlib import Path; import digestcrawl; assert '.egg' in digestcrawl.__file__;"
            "from digestcrawl.digest.publish.site import create_skeleton;"
            "print(len(create_skeleton(Path(sys.argv[1]))))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site")], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(egg)}, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout) == len(list(skeleton_files()))
    assert (tmp_path / "site" / "_layouts" / "model.html").is_file()


# --- The demo-like site, built and served ---------------------------------------------------


@dataclass
class Published:
    site: Path
    base: str  # http://127.0.0.1:PORT/digests/
    build_log: str
    sources: list[str] = field(default_factory=list)  # the post's source URLs


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def published(fixture_web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    _require(shutil.which("jekyll"), "jekyll")
    workdir = tmp_path_factory.mktemp("published")
    fixture_web.reset()
    settings = {"STORE_URL": f"sqlite:///{workdir / 'db.sqlite3'}", "NETGUARD_ALLOW": "127.0.0.1",
                "DIGESTCRAWL_SOURCES_FILE": str(fixture_web.write_sources(workdir / "sources.yaml")),
                "DIGEST_ON_CLOSE": "False", "DIGEST_SUMMARIZER": "extractive",
                "REPORT_DIR": str(workdir / "reports"), "STORE_SPOOL_DIR": str(workdir / "spool"),
                "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "LOG_FILE": str(workdir / "crawl.log")}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def scrapy(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(scrapy_command(*args, settings={**settings, **extra}), cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        return run

    for spider in ("news", "social", "finance"):
        scrapy("crawl", spider, "-a", "model=qwen", *(a for k, v in FIXTURE_WINDOW.items() for a in ("-a", f"{k}={v}")))
    site = workdir / "site"
    scrapy("digest", "--model", "qwen", "--date", "2026-01-18..2026-01-19", "--site", str(site), LOG_FILE="")
    # What a user publishing to a GitHub Pages project site edits.
    config = site / "_config.yml"
    text = re.sub(r'(?m)^url: ""', f'url: "{ORIGIN}"', config.read_text("utf-8"))
    config.write_text(re.sub(r'(?m)^baseurl: ""', f'baseurl: "{BASEURL}"', text), "utf-8")
    built = scrapy("digest", "--model", "qwen", "--date", "2026-01-19", "--site", str(site), "--build", LOG_FILE="")
    front = yaml.safe_load((site / "_posts" / "2026-01-19-qwen-daily.md").read_text("utf-8").split("---\n")[1])
    www = workdir / "www"
    www.mkdir()
    (www / BASEURL.strip("/")).symlink_to(site / "_site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Published(site, f"http://127.0.0.1:{server.server_address[1]}{BASEURL}/", built.stdout + built.stderr,
                        [source["url"] for source in front["sources"]])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_build_reports_no_jekyll_warning(published: Published) -> None:
    assert "Site built:" in published.build_log and "(0 Jekyll warnings)" in published.build_log
    assert "jekyll:" not in published.build_log
    again = jekyll_build(published.site, published.site / "_site_again")
    assert again is not None and again.ok and again.warnings == [], again.output if again else ""
    assert (published.site / "models" / "qwen.md").is_file()


def test_feed_is_atom_with_absolute_links_under_the_baseurl(published: Published) -> None:
    with urllib.request.urlopen(published.base + "feed.xml", timeout=30) as response:
        feed = ElementTree.fromstring(response.read())
    atom = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{atom}entry")
    assert [e.findtext(f"{atom}title") for e in entries] == ["QWEN 每日動態 - 2026-01-19", "QWEN 每日動態 - 2026-01-18"]
    link = entries[0].find(f"{atom}link")
    assert link is not None and link.get("href") == f"{ORIGIN}{BASEURL}/{POST_URL}"


# --- In the browser ------------------------------------------------------------------------


Check = Callable[[Any], None]


@pytest.fixture(scope="module")
def in_browser() -> Callable[[Check], None]:
    """``in_browser(check)`` runs ``check(browser)`` with Chromium launched as the crawls launch it,
    in a thread of its own: Playwright's sync API refuses a thread with a running asyncio loop,
    which the test's thread has (Scrapy's asyncio reactor)."""
    from playwright.sync_api import sync_playwright

    options = get_project_settings().getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    _require(shutil.which(options["executable_path"]), "chromium")

    def run(check: Check) -> None:
        failure: list[BaseException] = []

        def target() -> None:
            try:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(**options)
                    try:
                        check(browser)
                    finally:
                        browser.close()
            except BaseException as error:
                failure.append(error)

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if failure:
            raise failure[0]

    return run


@dataclass
class Opened:
    page: Any
    problems: list[str]  # console errors, page errors, failed loads


def open_page(browser: Any, url: str, viewport: dict[str, int] = DESKTOP) -> Opened:
    page = browser.new_page(viewport=viewport)
    opened = Opened(page, [])
    page.on("console", lambda m: m.type == "error" and opened.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: opened.problems.append(f"failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and opened.problems.append(f"{r.status}: {r.url}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, url
    return opened


def check_page(browser: Any, url: str, shots: Path, name: str) -> Opened:
    """What every page must pass: lang, every image loaded, no console error, screenshots at a
    desktop and a phone width (the page fits the phone: no sideways scrolling)."""
    phone = open_page(browser, url, PHONE)
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.page.screenshot(path=shots / f"{name}-phone.png", full_page=True)
    assert phone.problems == []
    phone.page.close()
    opened = open_page(browser, url)
    page = opened.page
    page.screenshot(path=shots / f"{name}-desktop.png", full_page=True)
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    page.evaluate("Promise.all([...document.images].map(i => i.decode()))")  # lazy ones too
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert sizes and all(width > 0 for _, width in sizes), sizes
    assert opened.problems == []
    return opened


def test_home_lists_the_latest_digest_of_each_model(in_browser: Any, published: Published, tmp_path: Path) -> None:
    def check(browser: Any) -> None:
        page = check_page(browser, published.base, tmp_path, "home").page
        [card] = page.query_selector_all("article.card")
        assert card.get_attribute("data-model") == "qwen"
        assert card.inner_text().startswith("QWEN 每日動態 - 2026-01-19")
        assert card.query_selector("time").get_attribute("datetime").startswith("2026-01-19")
        assert card.query_selector("a.model").inner_text() == "QWEN"
        # The offline digest's summary box: 「摘要」, not 「AI 摘要」 (no language model wrote it).
        assert card.query_selector(".ai-summary").inner_text().startswith("摘要 ")
        assert card.query_selector("img").evaluate("i => i.naturalWidth") > 0
        card.query_selector("h3 a").click()
        page.wait_for_load_state()
        assert page.url == published.base + POST_URL

    in_browser(check)


def test_model_page_archives_every_digest_by_month(in_browser: Any, published: Published, tmp_path: Path) -> None:
    def check(browser: Any) -> None:
        page = check_page(browser, published.base + "qwen/", tmp_path, "model").page
        assert page.inner_text("h1") == "QWEN"
        assert page.inner_text(".month h3") == "2026-01"
        rows = page.eval_on_selector_all(".archive li", "items => items.map(li => li.innerText)")
        assert [row.split()[0] for row in rows] == ["2026-01-19", "2026-01-18"]
        page.click(".archive li:last-child a")
        page.wait_for_load_state()
        assert page.url.endswith("qwen/daily/2026/01/18/qwen-daily.html") and "2026-01-18" in page.inner_text("h1")

    in_browser(check)


def test_post_shows_title_date_model_infographic_and_every_source(in_browser: Any, published: Published,
                                                                   tmp_path: Path) -> None:
    def check(browser: Any) -> None:
        page = check_page(browser, published.base + POST_URL, tmp_path, "post").page
        assert page.inner_text("h1") == "QWEN 每日動態 - 2026-01-19"
        assert page.get_attribute("time.date", "datetime") == "2026-01-19T00:00:00+08:00"
        assert page.inner_text(".post-header a.model") == "QWEN"
        assert page.get_attribute(".post-header a.model", "href") == "../../../../../qwen/index.html"
        assert page.title() == "QWEN 每日動態 - 2026-01-19 | AI 模型每日動態"
        image = page.query_selector("figure.infographic img")
        assert image.evaluate("i => i.naturalWidth") == 1000 and image.get_attribute("alt")
        og_image = page.get_attribute('meta[property="og:image"]', "content")
        assert og_image == f"{ORIGIN}{BASEURL}/assets/img/posts/2026-01-19-qwen-infographic.png"
        links = set(page.eval_on_selector_all(".post-content a", "links => links.map(a => a.href)"))
        assert len(published.sources) >= 5
        assert set(published.sources) <= links, set(published.sources) - links
        headings = page.eval_on_selector_all(".post-content h2", "hs => hs.map(h => h.innerText)")
        assert headings == ["本週模型趨勢", "📰 本週新聞焦點", "🔍 深度分析", "📌 重點摘要", "💡 延伸思考",
                            "🔗 資料來源"]
        # Each story and analysis label is a bold line of its own above its paragraph, not run into it.
        for heading, count in (("📰 本週新聞焦點", None), ("🔍 深度分析", 3)):
            items = page.evaluate(ITEMS, heading)
            assert items and (count is None or len(items) == count), items
            for paragraphs, title, weight in items:
                assert paragraphs == 2 and title and weight >= 600, (heading, paragraphs, title, weight)

    in_browser(check)


ITEMS = """heading => {
  // [paragraphs, first paragraph's text, its font weight] of each item of the list under heading.
  const h2 = [...document.querySelectorAll(".post-content h2")].find(h => h.innerText === heading);
  return [...h2.nextElementSibling.children].map(li => {
    const ps = li.querySelectorAll(":scope > p");
    return [ps.length, ps.length ? ps[0].innerText : "", ps.length ? Number(getComputedStyle(ps[0]).fontWeight) : 0];
  });
}"""


EMOJI_FONTS = ("Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji")
INK = """([text, selector]) => {
  // The glyph drawn alone, in black, in the heading's own font: a colour emoji font paints its
  // own colours (📰 is grey and white); a missing glyph (tofu, the .notdef box) and any
  // monochrome glyph are painted in the fill colour only, black at varying opacity.
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 96;
  const g = canvas.getContext("2d");
  g.font = getComputedStyle(document.querySelector(selector)).font;
  g.fillStyle = "#000";
  g.textBaseline = "top";
  g.fillText(text, 8, 8);
  const d = g.getImageData(0, 0, 96, 96).data;
  let inked = 0, coloured = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    inked++;
    if (d[i + 3] > 128 && Math.max(d[i], d[i + 1], d[i + 2]) > 64) coloured++;
  }
  return [inked, coloured];
}"""


def test_emoji_headings_are_drawn_by_an_emoji_font(in_browser: Any, published: Published) -> None:
    def check(browser: Any) -> None:
        page = open_page(browser, published.base + POST_URL).page
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": ".post-content h2"})["nodeIds"]
        emoji_headings = 0
        for node in nodes:
            # The fonts Chromium actually drew the heading's text with, and how many glyphs each.
            fonts = {f["familyName"]: f["glyphCount"] for f in cdp.send("CSS.getPlatformFontsForNode",
                                                                        {"nodeId": node})["fonts"]}
            text = cdp.send("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
            assert any("CJK" in family for family in fonts), (text, fonts)
            if re.search(r"[\U0001F300-\U0001FAFF]", text):
                emoji_headings += 1
                assert sum(fonts.get(family, 0) for family in EMOJI_FONTS) == 1, (text, fonts)
        assert emoji_headings == 5
        for emoji in ("📰", "🔍", "📌", "💡", "🔗"):
            inked, coloured = page.evaluate(INK, [emoji, ".post-content h2"])
            assert coloured > 50, emoji
        inked, coloured = page.evaluate(INK, ["\U0010fffd", ".post-content h2"])  # no font has it: tofu
        assert inked > 0 and coloured == 0  # the method tells tofu from a glyph

    in_browser(check)


@pytest.mark.parametrize("path", ["", "qwen/", POST_URL], ids=["home", "model", "post"])
def test_axe_finds_no_serious_violation(in_browser: Any, published: Published, path: str) -> None:
    def check(browser: Any) -> None:
        _require(str(AXE) if AXE.is_file() else None, "axe-core (npm)")
        page = open_page(browser, published.base + path).page
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == []
        # axe really ran the checks the issue names: contrast, language, alt text, headings.
        passed = {rule["id"] for rule in results["passes"]}
        assert {"color-contrast", "html-has-lang", "html-lang-valid", "image-alt", "heading-order"} <= passed

    in_browser(check)


def test_built_site_opens_from_disk(in_browser: Any, published: Published) -> None:
    """The path the demo prints works: a file:// page finds its CSS, images and other pages."""
    def check(browser: Any) -> None:
        opened = open_page(browser, (published.site / "_site" / "index.html").as_uri())
        page = opened.page
        assert page.eval_on_selector(".site-header", "h => getComputedStyle(h).backgroundColor") == "rgb(31, 78, 121)"
        assert page.eval_on_selector("article.card img", "i => i.naturalWidth") > 0
        page.click("article.card a.model")
        page.wait_for_load_state()
        assert page.url.endswith("/_site/qwen/index.html") and page.inner_text("h1") == "QWEN"
        page.click(".archive li:first-child a")
        page.wait_for_load_state()
        assert page.eval_on_selector("figure.infographic img", "i => i.naturalWidth") == 1000
        assert opened.problems == []

    in_browser(check)
