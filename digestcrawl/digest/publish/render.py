"""Render a digest as a Jekyll post: YAML front matter, then the Markdown body of
``templates/post.md.j2`` with the per-language labels of ``templates/headings.yaml``.

Crawled titles and text are data. The template environment Markdown-escapes every value that is
not ``Markup`` (only our labels, vetted link targets and the lines of the day's releases built from
escaped parts are), links point only at http(s) URLs,
and the front matter is dumped by PyYAML. Chinese text is written in the output's script
(zh-TW: OpenCC ``s2twp``, phrase level; zh-CN: ``t2s``); Japanese and English text is left as it is.

Settings read by ``RenderOptions.from_settings``: DIGEST_LAYOUT (front matter ``layout``,
default ``post``), DIGEST_MAX_STORIES (stories shown, default 5), DIGEST_TIMEZONE (the zone the
digest day belongs to, default Asia/Taipei; validated here. The post's ``date`` is that day,
written date-only, so Jekyll files it under the same day whatever the site's own ``timezone``).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
import yaml
from markupsafe import Markup
from scrapy.settings import BaseSettings

from digestcrawl.digest.group.firstparty import Release, releases
from digestcrawl.digest.model import DigestInput, Story, StoryArticle, StorySummary, SummaryResult
from digestcrawl.digest.read.sanitize import UNSAFE as CONTROL
from digestcrawl.digest.read.sanitize import one_line
from digestcrawl.text.chars import opencc_converter, to_simplified

logger = logging.getLogger(__name__)
MODEL_KEY = re.compile(r"[a-z0-9-]+")
IMAGE_DIR = "assets/img/posts"
POSTS_DIR = "_posts"
# A temp or backup file of StagedFiles: ``.<target>.<pid>.<unique>.tmp|bak``.
STAGED_NAME = re.compile(r"^\..+?\.(?:(?P<pid>\d+)\.)?[^.]+\.(?:tmp|bak)$")
# How long an exiting interpreter waits for a publish in progress to be committed or put back.
PUBLISH_EXIT_WAIT = 4.0
TITLE_LIMIT = 60
MAX_TAGS = 10
MAX_KEY_POINTS = 8
MAX_THOUGHTS = 4  # bullets under 對開發者 / 對一般使用者
RELEASES_PER_LINE = 5  # checkpoints, releases or papers named on one line; the rest are counted
# Phrase-level for Taiwan (信息 → 資訊, 網絡 → 網路), not character by character.
OPENCC_CONFIGS = {"zh-TW": "s2twp", "zh-CN": "t2s"}
# What OpenCC's phrase tables get wrong, fixed after conversion: 總台 read as a counter, and
# Taiwan IT terms matched across a word boundary (明|显存|在 → 明視訊記憶體在, 各|项目|标 → 各專案標).
OPENCC_FIXES = {"zh-TW": {"電視總檯": "電視總台", "廣播總檯": "廣播總台", "明視訊記憶體在": "明顯存在",
                          "專案標": "項目標"}}
FIX_PATTERNS = {language: re.compile("|".join(map(re.escape, fixes))) for language, fixes in OPENCC_FIXES.items()}
# Words s2twp's phrase table rewrites into a Taiwan term that is wrong in news prose (參數 →
# 引數 "model parameters", 進程 → 程序 "the process of globalisation", 文件 → 檔案 "a policy
# document", 對象 → 物件 "the people served"): converted character by character (s2tw) instead.
# Regexes over the traditional form; the simplified one is matched too (a lookaround names
# both forms: each alternative is only one of them). A lookaround keeps the
# phrases where s2twp is right (程序員 → 程式設計師, 文件夾 → 資料夾, 面向對象 → 物件導向).
OPENCC_KEEP = {"zh-TW": ("參數", "類型", "(?<!面向)對象", "局部", "全局", "進程", "文件(?![夾夹])",
                         "擴展(?!名)", "權限", "實例", "鏡像", "透視圖", "力學性能", "社區衛生",
                         "低級錯誤", "低級趣味", "發布會", "發佈會", "發布", "發佈",
                         "(?<![小用])程序(?![員员])")}
CHARACTER_CONFIGS = {"zh-TW": "s2tw"}  # the converter for kept words


def _keep_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(" + "|".join(dict.fromkeys(form for word in words for form in (word, to_simplified(word))))
                      + ")")


KEEP_PATTERNS = {language: _keep_pattern(words) for language, words in OPENCC_KEEP.items()}
# The post's ``lang`` (BCP 47, as <html lang> and og:locale want it) per DIGEST_LANGUAGE.
PAGE_LANGS = {"zh-TW": "zh-Hant", "zh-CN": "zh-Hans", "en": "en", "ja": "ja"}
ALIAS_SCRIPTS: dict[str, tuple[Any, ...]] = {
    "zh-TW": ("latin", "zh-Hant", "zh-Hans"), "zh-CN": ("latin", "zh-Hans", "zh-Hant"),
    "en": ("latin",), "ja": ("latin", "ja"),
}

HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")  # one nesting: (x(1))
MARKDOWN_BLOCK = re.compile(r"(?m)^[ \t]*(?:#{1,6}|>|[-*+]|\d+[.)])[ \t]+")
MARKDOWN_MARKS = re.compile(r"\*\*|__|~~|`+")
# Characters kramdown, Liquid or HTML would read as syntax anywhere in a line. Backslash escapes
# where kramdown has them; entities for HTML, for ~ (not escapable in every kramdown parser) and
# for braces, since Liquid reads the "{%" in "\\{%" before kramdown removes the backslash.
# A dash in a run of dashes too: kramdown would print "--" and "---" as typographic dashes.
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]{}|$\"'~<>&]|-(?=-)|(?<=-)-")
ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;", "{": "&#123;", "}": "&#125;"}
# Only syntax at the start of a line: headers, lists, setext/rules, definition lists.
BLOCK_START = re.compile(r"^(?:[#+=:-]|(\d+)(?=[.)]))")
# Japanese segments keep their kanji: OpenCC would turn 国 into 國.
KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff9d]")
SEGMENTS = re.compile(r"(?<=[。！？!?])|(?=[「『“（(])|(?<=[」』”）)])")


@dataclass(frozen=True)
class RenderOptions:
    layout: str = "post"
    max_stories: int = 5
    timezone: str = "Asia/Taipei"

    def __post_init__(self) -> None:
        if self.max_stories < 1:
            raise ValueError(f"DIGEST_MAX_STORIES must be at least 1, not {self.max_stories}")
        try:
            ZoneInfo(self.timezone)  # an unknown zone fails here, not after a crawl
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"DIGEST_TIMEZONE: unknown time zone {self.timezone!r}") from None

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderOptions:
        return cls(layout=settings.get("DIGEST_LAYOUT"), max_stories=settings.getint("DIGEST_MAX_STORIES"),
                   timezone=settings.get("DIGEST_TIMEZONE"))


@dataclass(frozen=True)
class PostPaths:
    post: Path
    image: Path
    image_url: str  # site-absolute, as the front matter's ``image``


@dataclass(frozen=True)
class Link:
    text: str
    url: Markup | None  # None: no http(s) URL, so the name is shown unlinked


@dataclass(frozen=True)
class StoryView:
    title: str
    paragraph: str
    links: list[Link]


def post_paths(site_dir: Path, model_key: str, day: date) -> PostPaths:
    """Where a day's post and infographic go; only the validated key and the date make a name."""
    if not MODEL_KEY.fullmatch(model_key):
        raise ValueError(f"model key must match [a-z0-9-]+, not {model_key!r}")
    stem = f"{day:%Y-%m-%d}-{model_key}"
    image = f"{IMAGE_DIR}/{stem}-infographic.png"
    return PostPaths(site_dir / POSTS_DIR / f"{stem}-daily.md", site_dir / image, f"/{image}")


class StagedFiles:
    """Files written beside their targets first, then put in place together.

    ``add`` writes a temp file in the target's directory (a failure there, a full disk or an
    unwritable directory, changes nothing); ``publish`` renames them over their targets in the
    order added, keeping a hard link to each file it replaces, and puts the earlier ones back
    if a later rename fails; ``restore`` puts every replaced file back (a database commit that
    failed after publishing). Leaving the ``with`` block removes what is left of temps and
    backups. Temp and backup names start with a dot (Jekyll ignores what a crash leaves) and
    carry the writer's pid: the next digest removes those of dead writers
    (:func:`remove_stale_staged`).

    From ``publish`` to the end of the ``with`` block the process-wide publish lock is held, and
    an exiting interpreter takes it (up to PUBLISH_EXIT_WAIT seconds): a forced stop that kills
    a digest's daemon thread (``digestcrawl.ops.threads``) never leaves a post half replaced.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temp, target)
        self._replaced: list[tuple[Path | None, Path]] = []  # (backup, target); None: was new
        self._publishing = False

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for temp, _ in self._staged:
            temp.unlink(missing_ok=True)
        for backup, _ in self._replaced:
            if backup is not None:
                backup.unlink(missing_ok=True)
        self._staged, self._replaced = [], []
        if self._publishing:
            self._publishing = False
            _PUBLISHING.release()

    def add(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.chmod(0o644)  # mkstemp's 0600 would hide the file from the web server
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._staged.append((temp, path))

    def publish(self) -> None:
        if not self._publishing:
            _PUBLISHING.acquire()
            self._publishing = True
        try:
            while self._staged:
                temp, path = self._staged[0]
                backup = _backup(path)
                try:
                    temp.replace(path)
                except BaseException:
                    if backup is not None:
                        backup.unlink(missing_ok=True)
                    raise
                self._staged.pop(0)
                self._replaced.append((backup, path))
        except BaseException:
            self.restore()
            raise

    def restore(self) -> None:
        while self._replaced:
            backup, path = self._replaced.pop()
            try:
                if backup is None:
                    path.unlink(missing_ok=True)
                else:
                    backup.replace(path)
            except OSError as error:  # the others are still put back
                logger.error("Could not restore %s: %s", path, error)


def _backup(path: Path) -> Path | None:
    """A second name for the file at ``path`` (None when there is none), so it survives a rename
    over it."""
    if not path.is_file():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.{next(_BACKUPS)}.bak")
    try:
        os.link(path, backup)
    except OSError:  # a filesystem without hard links
        shutil.copy2(path, backup)
    return backup


_BACKUPS = itertools.count()
_PUBLISHING = threading.Lock()
# Never released: the daemon thread of a killed digest starts no publish after this one.
atexit.register(_PUBLISHING.acquire, timeout=PUBLISH_EXIT_WAIT)


def remove_stale_staged(site_dir: Path) -> None:
    """Remove the temp and backup files that killed digests left in the site's post and image
    folders (those of a live process are its digest in progress)."""
    removed = []
    for directory in (site_dir / POSTS_DIR, site_dir / IMAGE_DIR):
        for path in directory.glob(".*") if directory.is_dir() else ():
            match = STAGED_NAME.match(path.name)
            if match is None or (match["pid"] is not None and _alive(int(match["pid"]))):
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        logger.info("Removed %d file(s) a stopped digest left: %s", len(removed),
                    ", ".join(str(path) for path in removed))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: readers (a Jekyll build) see the old file or the new one."""
    with StagedFiles() as files:
        files.add(path, data)
        files.publish()


@lru_cache(maxsize=1)
def headings() -> dict[str, dict[str, Any]]:
    text = resources.files("templates").joinpath("headings.yaml").read_text("utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def plain(text: str) -> str:
    """Generated text without Markdown or HTML markup, on one line."""
    text = MARKDOWN_BLOCK.sub("", MARKDOWN_LINK.sub(r"\1", CONTROL.sub("", text)))
    while (stripped := HTML_TAG.sub("", text)) != text:  # <<b>script> leaves <script> once
        text = stripped
    return one_line(MARKDOWN_MARKS.sub("", text))


def escape_markdown(text: str) -> Markup:
    """Text that kramdown, Liquid and HTML all read as text."""
    text = MARKDOWN_SPECIAL.sub(lambda m: ENTITIES.get(m[0]) or "\\" + m[0], text)
    return Markup(BLOCK_START.sub(lambda m: f"{m[1]}\\" if m[1] else "\\" + m[0], text))


def safe_url(url: str) -> str | None:
    """An http(s) URL with everything but RFC 3986 delimiters percent-encoded, else None."""
    try:
        parts = urlsplit(url.strip())
        host = parts.netloc if parts.netloc.isascii() else parts.netloc.encode("idna").decode()
    except (ValueError, UnicodeError):
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    safe = "%/:@!$&*+,;=-._~"  # not ( ) ' or space: they would end a Markdown link target
    return urlunsplit((parts.scheme.lower(), quote(host, safe=safe + "[]"), quote(parts.path, safe),
                       quote(parts.query, safe + "?"), quote(parts.fragment, safe + "?")))


def shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "..."


def to_script(text: str, language: str) -> str:
    """Chinese text in the output language's script; Japanese segments stay as written."""
    config = OPENCC_CONFIGS.get(language)
    if config is None or not text:
        return text
    phrases, keep = opencc_converter(config).convert, KEEP_PATTERNS.get(language)

    def convert(part: str) -> str:
        if keep is None:
            return phrases(part)
        characters = opencc_converter(CHARACTER_CONFIGS[language]).convert
        # split() with a group: kept words at odd indices.
        return "".join(characters(piece) if i % 2 else phrases(piece) for i, piece in enumerate(keep.split(part)))

    converted = "".join(part if KANA.search(part) else convert(part) for part in SEGMENTS.split(text))
    fixes = OPENCC_FIXES.get(language)
    return FIX_PATTERNS[language].sub(lambda m: fixes[m[0]], converted) if fixes else converted


def source_text(article: StoryArticle, text: str, language: str) -> str:
    """A crawled string as shown: converted only when the article is Chinese."""
    return to_script(text, language) if (article.language or "").startswith("zh") else text


def generated_text(text: str, language: str) -> str:
    return to_script(plain(text), language)


class _Citations:
    """The sources list: one entry per http(s) URL, in order of first citation."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.listed: dict[str, Link] = {}

    def cite(self, article: StoryArticle) -> Markup | None:
        url = safe_url(article.url)
        if url is None:
            return None
        if url not in self.listed:
            title = source_text(article, one_line(article.title), self.language) or article.outlet
            self.listed[url] = Link(shorten(title), Markup(url))
        return Markup(url)


def _story_view(summary: StorySummary, story: Story | None, digest: DigestInput,
                citations: _Citations) -> StoryView:
    cited = [a for a in map(digest.article, summary.cited) if a is not None]
    for article in cited:
        citations.cite(article)
    links: dict[str, Link] = {}
    # Every outlet of the story is named, cited ones first; an outlet links to its first
    # article that has an http(s) URL.
    for article in dict.fromkeys([*cited, *(story.articles if story else [])]):
        known = links.get(article.outlet)
        if known is not None and known.url is not None:
            continue
        url = citations.cite(article)
        if known is None or url is not None:
            name = source_text(article, one_line(article.outlet), digest.language)
            links[article.outlet] = Link(name, url)
    title = generated_text(summary.title, digest.language)
    lead = story.lead if story else next(iter(cited), None)
    if not title and lead is not None:  # a title that was all markup: the lead article's
        title = source_text(lead, one_line(lead.title), digest.language)
    paragraph = generated_text(summary.paragraph, digest.language)
    return StoryView(title, paragraph, list(links.values()))


def _release_lines(digest: DigestInput, citations: _Citations, zone: ZoneInfo) -> list[Markup]:
    """One line per kind (new checkpoints, releases, papers) naming the day's, each linked and
    dated: built from the stored articles, never from generated text."""
    words = headings()[digest.language]
    shown = (*digest.first_party, *(a for story in digest.stories for a in story.articles))
    by_kind: dict[str, list[Release]] = {}
    for release in releases(list(shown), zone):
        by_kind.setdefault(release.kind, []).append(release)
    lines = []
    for kind, found in by_kind.items():
        items = []
        for release in found[:RELEASES_PER_LINE]:
            label = escape_markdown(shorten(source_text(release.article, one_line(release.label), digest.language)))
            url = citations.cite(release.article)
            day = words["release_day"].format(day=release.day.isoformat()) if release.day else ""
            items.append(f"[{label}]({url}){day}" if url else f"{label}{day}")
        more = len(found) - RELEASES_PER_LINE
        listed = words["separator"].join(items) + (words["first_party_more"].format(n=more) if more > 0 else "")
        lines.append(Markup(words[f"first_party_{kind}"].format(items=listed)))
    return lines


def _tags(digest: DigestInput, result: SummaryResult) -> list[str]:
    tags: dict[str, str] = {}
    aliases = (digest.model.display, *digest.model.aliases_in(ALIAS_SCRIPTS[digest.language]))
    for tag in (*aliases, *result.content.tags):
        text = generated_text(tag, digest.language)
        if text:
            tags.setdefault(text.casefold(), text)
    return list(tags.values())[:MAX_TAGS]


def _front_matter(digest: DigestInput, result: SummaryResult, options: RenderOptions,
                  sources: list[Link]) -> str:
    words, display = headings()[digest.language], digest.model.display
    summary = generated_text(result.content.summary, digest.language)
    # Theme keys (minima, Chirpy, jekyll-seo-tag, jekyll-feed): layout, title, date, lang,
    # categories, tags, image (the og:image), description; the skeleton's layouts read the rest.
    data = {
        "layout": options.layout,
        "title": f"{display} {words['daily']} - {digest.day:%Y-%m-%d}",
        "tagline": words["tagline"].format(n=len(sources), display=display),
        "date": digest.day,
        "lang": PAGE_LANGS[digest.language],
        "model": digest.model_key,
        "categories": [digest.model_key, "daily"],
        "tags": _tags(digest, result),
        "image": post_paths(Path(), digest.model_key, digest.day).image_url,
        "description": summary,
        "ai_summary": summary,
        "sources": [{"title": link.text, "url": str(link.url)} for link in sources if link.url],
        "generator": result.generator,
    }
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None,
                            width=1 << 16)
    return f"---\n{dumped}---\n"


def _labels(language: str) -> dict[str, Markup]:
    words = headings()[language]
    labels = {key: Markup(value) for key, value in words.items() if isinstance(value, str)}
    before, _, after = labels["inline_sources"].partition("{links}")
    return {**labels, "inline_open": Markup(before), "inline_close": Markup(after)}


def _footer(language: str, sources: int, generator: str) -> Markup:
    # Anything but an LLM's digest says in so many words that no LLM wrote it.
    key = "footer_llm" if generator.startswith("llm:") else "footer_extractive"
    return Markup(headings()[language][key].format(n=sources, generator=escape_markdown(generator)))


def _as_markdown(value: object) -> Markup:
    # Escape by default, as HTML autoescaping does: only Markup passes unchanged.
    return value if isinstance(value, Markup) else escape_markdown(str(value))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # A package loader, not a path: in production the templates are inside a zipped egg.
    return jinja2.Environment(loader=jinja2.PackageLoader("templates", ""), autoescape=True,
                              finalize=_as_markdown, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def render_post(digest: DigestInput, result: SummaryResult, options: RenderOptions) -> str:
    """The whole post: front matter and body."""
    post_paths(Path(), digest.model_key, digest.day)  # the key is validated before anything else
    language, content = digest.language, result.content
    labels, citations = _labels(language), _Citations(language)
    by_key = {story.key: story for story in digest.stories}
    stories = [_story_view(summary, by_key.get(summary.story_key), digest, citations)
               for summary in content.stories[: options.max_stories]]
    listed = _release_lines(digest, citations, ZoneInfo(options.timezone))
    sources = list(citations.listed.values())

    def text(value: str) -> str:
        return generated_text(value, language)

    # The releases first, from data; the generated lines after them, within the section's four.
    developers = [text(line) for line in content.developers][: max(1, MAX_THOUGHTS - len(listed))]

    body = _environment().get_template("post.md.j2").render(
        h=labels,
        trend=text(content.trend),
        stories=stories,
        analysis=[(labels["industry"], text(content.analysis.industry)),
                  (labels["competition"], text(content.analysis.competition)),
                  (labels["market"], text(content.analysis.market))],
        key_points=[text(point) for point in content.key_points[:MAX_KEY_POINTS]],
        thoughts=[(labels["developers"], [*listed, *developers]),
                  (labels["users"], [text(line) for line in content.users])],
        sources=sources,
        footer=_footer(language, len(sources), result.generator),
    )
    return _front_matter(digest, result, options, sources) + body


def write_post(site_dir: Path, digest: DigestInput, result: SummaryResult,
               options: RenderOptions) -> PostPaths:
    """Write (or replace) the day's post atomically; the infographic is drawn by the caller."""
    paths = post_paths(site_dir, digest.model_key, digest.day)
    write_atomic(paths.post, render_post(digest, result, options).encode("utf-8"))
    return paths
