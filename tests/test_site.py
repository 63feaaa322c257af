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

from digestcrawl.config import load_models
from digestcrawl.digest.publish.site import Site, create_skeleton, jekyll_build, skeleton_files
from digestcrawl.languages import Language
from tests.conftest import FIXTURE_WINDOW, ROOT, scrapy_command
from tests.fixtureweb.server import FixtureWeb

BASEURL = "/digests"
ORIGIN = "https://reader.github.io"
POST_URL = "qwen/daily/2026/01/19/qwen-daily.html"
DAYS = [f"2026-01-{day}" for day in range(15, 20)]  # the fixture web's five days with news
AXE = ROOT / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
MODELS = load_models()


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
    assert config["plugins"] == ["jekyll-feed", "jekyll-seo-tag", "jekyll-archives"]
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
    assert site.ensure_model_pages("qwen", MODELS["qwen"], Language.ZH_TW) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_config.yml"]


def test_model_pages_are_written_once_and_never_over_a_users_page(tmp_path: Path) -> None:
    site = Site(tmp_path)
    page = site.ensure_model_pages("qwen", MODELS["qwen"], Language.ZH_TW)
    assert page == tmp_path / "models" / "qwen.md"
    assert yaml.safe_load(page.read_text("utf-8").split("---\n")[1]) == {
        "layout": "model", "title": "QWEN", "model": "qwen", "permalink": "/qwen/", "local_name": "通義千問",
        "company": "Alibaba", "description": MODELS["qwen"].description["zh-TW"]}
    fronts = {p.name: yaml.safe_load(p.read_text("utf-8").split("---\n")[1]) for p in page.parent.iterdir()}
    assert fronts["qwen-storyline.md"] == {"layout": "storyline", "model": "qwen", "permalink": "/qwen/storyline/",
                                           "title": "QWEN 故事線"}
    assert fronts["qwen-feed.xml"] == {"layout": "atom", "model": "qwen", "title": "QWEN",
                                       "permalink": "/qwen/feed.xml"}
    page.write_text("---\nlayout: model\ntitle: 千問\nmodel: qwen\n---\nmine\n", "utf-8")
    assert Site(tmp_path).ensure_model_pages("qwen", MODELS["qwen"], Language.ZH_TW) == page
    assert page.read_text("utf-8").endswith("mine\n")
    assert Site(tmp_path, skeleton=False).ensure_model_pages("deepseek", MODELS["deepseek"], Language.EN) is not None
    english = yaml.safe_load((page.parent / "deepseek.md").read_text("utf-8").split("---\n")[1])
    assert "local_name" not in english and english["description"].startswith("DeepSeek's")


def test_a_site_from_an_older_skeleton_gets_no_links_or_pages_it_has_no_layout_for(tmp_path: Path) -> None:
    create_skeleton(tmp_path)
    for name in ("_includes/follow_up.html", "_layouts/storyline.html"):
        (tmp_path / name).unlink()
    site = Site(tmp_path)
    assert not site.has_story_links  # a post would include a file the site has not got
    assert site.ensure_model_pages("qwen", MODELS["qwen"], Language.ZH_TW) == tmp_path / "models" / "qwen.md"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["qwen-feed.xml", "qwen.md"]
    assert Site(tmp_path / "new").has_story_links


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
    first_keys: dict[str, list[str]] = field(default_factory=dict)  # each day's story keys, first build
    keys: dict[str, list[str]] = field(default_factory=dict)  # the same after the last day was rebuilt


def _front(site: Path, day: str) -> dict[str, Any]:
    text = (site / "_posts" / f"{day}-qwen-daily.md").read_text("utf-8")
    front: dict[str, Any] = yaml.safe_load(text.split("---\n")[1])
    return front


def _story_keys(site: Path) -> dict[str, list[str]]:
    return {day: [story["key"] for story in _front(site, day)["stories"]] for day in DAYS}


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
    scrapy("digest", "--model", "qwen", "--date", f"{DAYS[0]}..{DAYS[-1]}", "--site", str(site), LOG_FILE="")
    first_keys = _story_keys(site)
    # What a user publishing to a GitHub Pages project site edits.
    config = site / "_config.yml"
    text = re.sub(r'(?m)^url: ""', f'url: "{ORIGIN}"', config.read_text("utf-8"))
    config.write_text(re.sub(r'(?m)^baseurl: ""', f'baseurl: "{BASEURL}"', text), "utf-8")
    built = scrapy("digest", "--model", "qwen", "--date", "2026-01-19", "--site", str(site), "--build", LOG_FILE="")
    front = _front(site, DAYS[-1])
    www = workdir / "www"
    www.mkdir()
    (www / BASEURL.strip("/")).symlink_to(site / "_site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Published(site, f"http://127.0.0.1:{server.server_address[1]}{BASEURL}/", built.stdout + built.stderr,
                        [source["url"] for source in front["sources"]], first_keys, _story_keys(site))
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
    assert [e.findtext(f"{atom}title") for e in entries] == [f"QWEN 每日動態 - {day}" for day in reversed(DAYS)]
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


def open_page(browser: Any, url: str, viewport: dict[str, int] = DESKTOP, scheme: str = "light") -> Opened:
    page = browser.new_page(viewport=viewport, color_scheme=scheme)
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
        assert page.inner_text("h1") == "QWEN 通義千問"
        assert page.inner_text("main .meta") == "公司：Alibaba"
        assert page.inner_text(".model-description").startswith("阿里巴巴的大型語言模型系列")
        assert page.inner_text(".latest h2") == "QWEN 每日動態 - 2026-01-19"  # the latest post
        assert page.inner_text(".month h3") == "2026-01"
        rows = page.eval_on_selector_all(".archive li", "items => items.map(li => li.innerText)")
        assert [row.split()[0] for row in rows] == list(reversed(DAYS))
        page.click(".archive li:last-child a")
        page.wait_for_load_state()
        assert page.url.endswith("qwen/daily/2026/01/15/qwen-daily.html") and "2026-01-15" in page.inner_text("h1")

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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["", "qwen/", POST_URL, "qwen/storyline/", "tags/qwen/", "search/"],
                         ids=["home", "model", "post", "storyline", "tag", "search"])
def test_axe_finds_no_serious_violation(in_browser: Any, published: Published, path: str, scheme: str) -> None:
    def check(browser: Any) -> None:
        _require(str(AXE) if AXE.is_file() else None, "axe-core (npm)")
        page = open_page(browser, published.base + path, scheme=scheme).page
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == {"light": "rgb(255, 255, 255)", "dark": "rgb(18, 22, 28)"}[scheme]
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == []
        # axe really ran the checks the issue names: contrast, language, alt text, headings.
        passed = {rule["id"] for rule in results["passes"]}
        with_images = {"image-alt", "heading-order"} if path in ("", "qwen/", POST_URL) else set()
        assert {"color-contrast", "html-has-lang", "html-lang-valid", *with_images} <= passed

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
        assert page.url.endswith("/_site/qwen/index.html") and page.inner_text("h1") == "QWEN 通義千問"
        page.click(".archive li:first-child a")
        page.wait_for_load_state()
        assert page.eval_on_selector("figure.infographic img", "i => i.naturalWidth") == 1000
        assert opened.problems == []

    in_browser(check)


# --- Reading across days: storylines, navigation, tags, feeds, search ------------------------


def _post(day: str) -> str:
    return "qwen/daily/{}/qwen-daily.html".format(day.replace("-", "/"))


def test_story_keys_survive_a_rebuild(published: Published) -> None:
    assert all(published.keys[day] for day in DAYS)
    assert published.keys == published.first_keys


def test_a_follow_up_links_to_the_earlier_story(in_browser: Any, published: Published) -> None:
    def check(browser: Any) -> None:
        opened = open_page(browser, published.base + POST_URL)
        page = opened.page
        link = page.query_selector(".post-content li a.follow-up")
        assert link is not None
        match = re.fullmatch(r"（(2026-01-1[5-8]) 事件的後續）", link.inner_text())
        assert match, link.inner_text()
        key = link.get_attribute("href").rsplit("#story-", 1)[1]
        assert key in published.keys[match[1]]
        link.click()
        page.wait_for_load_state()
        assert page.url == f"{published.base}{_post(match[1])}#story-{key}"
        target = page.query_selector(":target")  # the earlier story's item, in its post
        assert target is not None and target.get_attribute("id") == f"story-{key}"
        assert target.evaluate("e => e.tagName === 'LI' && e.closest('.post-content') !== null")
        assert opened.problems == []

    in_browser(check)


def test_previous_and_next_day_links(in_browser: Any, published: Published) -> None:
    def check(browser: Any) -> None:
        page = open_page(browser, published.base + _post(DAYS[2])).page
        assert page.inner_text("a[rel=prev] .nowrap") == DAYS[1]
        assert page.inner_text("a[rel=next] .nowrap") == DAYS[3]
        page.click("a[rel=next]")
        page.wait_for_load_state()
        assert page.url == published.base + _post(DAYS[3])
        page.click("a[rel=prev]")
        page.wait_for_load_state()
        page.click("a[rel=prev]")
        page.wait_for_load_state()
        assert page.url == published.base + _post(DAYS[1])
        last = open_page(browser, published.base + _post(DAYS[-1])).page
        assert last.query_selector("a[rel=next]") is None and last.query_selector("a[rel=prev]") is not None
        first = open_page(browser, published.base + _post(DAYS[0])).page
        assert first.query_selector("a[rel=prev]") is None and first.query_selector("a[rel=next]") is not None

    in_browser(check)


def test_storyline_page_lists_stories_across_days(in_browser: Any, published: Published, tmp_path: Path) -> None:
    def check(browser: Any) -> None:
        page = check_page_without_images(browser, published.base + "qwen/storyline/", tmp_path, "storyline")
        assert page.inner_text("h1") == "QWEN 故事線"
        days = page.eval_on_selector_all(".storyline > li", "lines => lines.map(l => [...l.querySelectorAll('time')]"
                                                             ".map(t => t.getAttribute('datetime')))")
        stories = {day for line in days for day in line}
        assert stories == set(DAYS)  # every day's stories are on the page
        assert any(len(set(line)) >= 2 for line in days), days  # a story followed over days is one line
        assert all(line == sorted(line) for line in days)
        # From a story in a post to its line, and from the line back to the post.
        post = open_page(browser, published.base + POST_URL).page
        link = post.query_selector(".post-content li a.storyline-link")
        key = link.get_attribute("href").rsplit("#story-", 1)[1]
        link.click()
        post.wait_for_load_state()
        assert post.url == f"{published.base}qwen/storyline/index.html#story-{key}"
        line = post.query_selector(":target").evaluate_handle("e => e.closest('.storyline > li')")
        line.as_element().query_selector("a:last-of-type").click()
        post.wait_for_load_state()
        assert post.url.startswith(published.base + POST_URL + "#story-")
        model = open_page(browser, published.base + "qwen/").page
        model.click("text=故事線")
        model.wait_for_load_state()
        assert model.url == published.base + "qwen/storyline/index.html"

    in_browser(check)


def check_page_without_images(browser: Any, url: str, shots: Path, name: str) -> Any:
    """A page with no image: it fits a phone, and nothing fails to load, at both widths."""
    for viewport in (PHONE, DESKTOP):
        opened = open_page(browser, url, viewport)
        assert opened.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        opened.page.screenshot(path=shots / f"{name}-{viewport['width']}.png", full_page=True)
        assert opened.problems == []
    return opened.page


def test_tags_link_to_their_pages(in_browser: Any, published: Published, tmp_path: Path) -> None:
    def check(browser: Any) -> None:
        page = open_page(browser, published.base + POST_URL).page
        page.click(".tags a:text-is('通義千問')")
        page.wait_for_load_state()
        assert page.url == published.base + "tags/%E9%80%9A%E7%BE%A9%E5%8D%83%E5%95%8F/index.html"
        assert page.inner_text("h1") == "標籤：通義千問"
        titles = page.eval_on_selector_all(".archive a", "links => links.map(a => a.innerText)")
        assert titles == [f"QWEN 每日動態 - {day}" for day in reversed(DAYS)]
        page.click(".archive li:first-child a")
        page.wait_for_load_state()
        assert page.url == published.base + POST_URL
        check_page_without_images(browser, published.base + "tags/qwen/", tmp_path, "tag")

    in_browser(check)


def test_each_model_has_its_own_atom_feed(in_browser: Any, published: Published) -> None:
    import feedparser

    with urllib.request.urlopen(published.base + "qwen/feed.xml", timeout=30) as response:
        feed = feedparser.parse(response.read())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10" and feed.feed.title == "QWEN · AI 模型每日動態"
    assert [entry.title for entry in feed.entries] == [f"QWEN 每日動態 - {day}" for day in reversed(DAYS)]
    assert feed.entries[0].link == f"{ORIGIN}{BASEURL}/{POST_URL}"
    assert feed.entries[0].summary and "通義千問" in {tag.term for tag in feed.entries[0].tags}

    def check(browser: Any) -> None:
        page = open_page(browser, published.base + "qwen/").page
        named = page.eval_on_selector_all('head link[rel=alternate][type="application/atom+xml"]',
                                          "links => links.map(l => l.href)")
        assert named == [f"{ORIGIN}{BASEURL}/feed.xml", published.base + "qwen/feed.xml"]  # the site's stays

    in_browser(check)


@pytest.mark.parametrize("query", ["千問", "Qwen"])
def test_search_finds_the_posts_with_a_word(in_browser: Any, published: Published, query: str) -> None:
    assert (published.site / "_site" / "pagefind" / "pagefind-ui.js").is_file()

    def check(browser: Any) -> None:
        opened = open_page(browser, published.base + "search/")
        page = opened.page
        page.fill(".pagefind-ui__search-input", query)
        page.wait_for_selector(".pagefind-ui__result-link")
        found = page.eval_on_selector_all(".pagefind-ui__result-link", "links => links.map(a => a.href)")
        assert found and all(re.search(r"/qwen/daily/2026/01/1[5-9]/qwen-daily\.html", url) for url in found), found
        assert published.base + POST_URL in {url.split("#")[0] for url in found}
        page.fill(".pagefind-ui__search-input", "zqxjkvw")  # in no post
        page.wait_for_selector(".pagefind-ui__message:has-text('zqxjkvw')")
        assert page.query_selector(".pagefind-ui__result-link") is None
        assert opened.problems == []

    in_browser(check)


def test_phone_gets_the_narrow_infographic_with_text_and_unbroken_dates(in_browser: Any, published: Published,
                                                                        tmp_path: Path) -> None:
    def check(browser: Any) -> None:
        page = open_page(browser, published.base + POST_URL, PHONE).page
        page.screenshot(path=tmp_path / "post-phone.png", full_page=True)
        image = page.query_selector("figure.infographic img")
        assert image.evaluate("i => i.currentSrc").endswith("/2026-01-19-qwen-infographic-narrow.svg")
        box = image.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert image.evaluate("i => i.naturalWidth") <= PHONE["width"] + 40  # drawn for the width, not shrunk
        with urllib.request.urlopen(image.evaluate("i => i.currentSrc"), timeout=30) as response:
            svg = ElementTree.fromstring(response.read())
        texts = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
        assert "今日事件的來源數" in texts and "近 7 日提及趨勢" in texts  # labels are text, not paths
        assert not any(text.endswith(("（2", "-")) or "hf_downloads" in text for text in texts), texts
        # The date in a title is never broken: one line box, at the phone's width.
        for selector in ("h1 .nowrap", ".day-nav .nowrap"):
            assert page.eval_on_selector(selector, "s => s.getClientRects().length") == 1
        desktop = open_page(browser, published.base + POST_URL).page
        assert desktop.eval_on_selector("figure.infographic img", "i => i.currentSrc").endswith("-infographic.png")

    in_browser(check)
