"""The day's first-party signals: new checkpoints, releases and papers (stored as articles of
category ``release`` and ``paper``), and the download changes of the model's repositories (the
stored series, ``RepoTrend``).

Whatever the digest says about them comes from here: the renderer lists the releases from these
records (never from generated text), the offline trend and the LLM's figures give the download
changes in the one form ``DownloadChange`` writes, grounding accepts a downloads figure only
when it is one of them, and story grouping asks ``named_in`` whether a report names a release.
No settings are read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, tzinfo
from urllib.parse import urlsplit

from digestcrawl.digest.model import RepoTrend, StoryArticle, host_of
from digestcrawl.text import squash_spaces

FIRST_PARTY = frozenset({"release", "paper"})
KINDS = ("checkpoint", "release", "paper")  # the order the post lists them in
# The series' source names as a reader knows them; any other is shown as it is stored.
SOURCE_NAMES = {"huggingface": "Hugging Face", "hf": "Hugging Face"}
# A version as written: 3.1, v3.1.0, Qwen2.5's 2.5 (never a bare 3: "Qwen3" is a name).
VERSION = re.compile(r"(?<![\d.])v?(\d+(?:\.\d+)+)")
ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?$")
# Sentences about downloads: their figures must come from the series (``grounding``).
DOWNLOAD_WORDS = re.compile(r"下載|下载|downloads?|ダウンロード", re.IGNORECASE)
DOWNLOAD_LINES = 3  # repositories whose change the trend and the LLM's figures give
DOWNLOAD_CANDIDATES = 10  # of the largest repositories: a jump of a tiny one is noise
PAPER_TITLE_MIN = 20  # a shorter title is not specific enough to say a report names the paper


@dataclass(frozen=True)
class Release:
    """One checkpoint, release or paper of the day, from its article."""

    kind: str  # checkpoint | release | paper
    name: str  # repo id ("Qwen/Qwen3-Coder-30B-A3B-Instruct"), "owner/repo", or the paper's title
    version: str  # as written ("v3.1.0"); "" when none
    day: date | None  # the publication day in the digest's zone
    article: StoryArticle

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()


def _path(url: str) -> list[str]:
    try:
        return [part for part in urlsplit(url).path.split("/") if part]
    except ValueError:
        return []


def release_of(article: StoryArticle, zone: tzinfo | None = None) -> Release | None:
    """The release an article of category ``release``/``paper`` is; None for any other article."""
    if article.category not in FIRST_PARTY:
        return None
    day = article.published.astimezone(zone).date() if article.published and zone else (
        article.published.date() if article.published else None)
    path, host = _path(article.url), host_of(article.url)
    if article.category == "paper":
        return Release("paper", article.title, "", day, article)
    if host.endswith("huggingface.co") and len(path) >= 2:
        return Release("checkpoint", f"{path[0]}/{path[1]}", "", day, article)
    words = article.title.split()
    name = f"{path[0]}/{path[1]}" if host.endswith("github.com") and len(path) >= 2 else (
        words[0] if words and "/" in words[0] else article.title)
    tag = path[4] if len(path) >= 5 and path[2:4] == ["releases", "tag"] else ""
    versions = [m.group(0) for m in VERSION.finditer(tag or article.title.removeprefix(name))]
    return Release("release", name, versions[-1] if versions else "", day, article)


def releases(articles: list[StoryArticle], zone: tzinfo | None = None) -> list[Release]:
    """The day's checkpoints, releases and papers, one per URL, in ``KINDS`` order, then by
    name; syndicated copies are left out."""
    found: dict[str, Release] = {}
    for article in articles:
        release = None if article.duplicate_of else release_of(article, zone)
        if release is not None:
            found.setdefault(article.url, release)
    return sorted(found.values(), key=lambda r: (KINDS.index(r.kind), r.name.casefold(), r.version))


def version_key(version: str) -> str:
    """A version without its ``v`` and trailing zero parts past the minor: v3.1.0 → 3.1."""
    parts = version.lstrip("vV").split(".")
    while len(parts) > 2 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def folded(text: str) -> str:
    """The form ``named_in`` reads a text in: NFKC, case-folded, whitespace runs one space."""
    return squash_spaces(unicodedata.normalize("NFKC", text).casefold())


def _names(term: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(folded(term))}(?![a-z0-9])", text) is not None


def named_in(release: Release, text: str) -> bool:
    """Does ``text`` (another article's title and text, ``folded``) name this release? A
    checkpoint by its repository name, a release by its repository name and version (3.1 names
    v3.1.0), a paper by its arXiv id or its whole title."""
    if release.kind == "paper":
        path = _path(release.article.url) if host_of(release.article.url).endswith("arxiv.org") else []
        found = ARXIV_ID.search(path[-1]) if path else None
        title = folded(release.name)
        return bool(found and found[1] in text) or (len(title) >= PAPER_TITLE_MIN and title in text)
    repo = release.name.rsplit("/", 1)[-1]
    if release.kind == "checkpoint":
        return _names(repo, text)
    if not release.version:
        return False  # a repository's name alone is every report on the model
    wanted = version_key(release.version)
    return _names(repo, text) and any(version_key(v) == wanted for v in VERSION.findall(text))


@dataclass(frozen=True)
class DownloadChange:
    """A repository's change in downloads over the trend window, as the digest may state it."""

    repo: str
    source: str  # as a reader knows it: Hugging Face
    previous: int
    downloads: int
    first_day: date
    last_day: date
    change: float  # 0.38 for +38%

    @property
    def name(self) -> str:
        """The repository's name without its owner."""
        return self.repo.rsplit("/", 1)[-1]

    @property
    def days(self) -> int:
        """The days the change spans, both readings' days counted: 7 from the 13th to the 19th."""
        return (self.last_day - self.first_day).days + 1

    @property
    def percent(self) -> str:
        """+38%, -4.5%: whole percents from 10 up, one decimal below."""
        value = self.change * 100
        return f"{value:+.0f}%" if abs(value) >= 10 else f"{value:+.1f}%"

    def describe(self) -> str:
        """The change as data, for the LLM's figures and the grounding check."""
        return (f"{self.repo} ({self.source}): {self.previous} on {self.first_day.isoformat()}, "
                f"{self.downloads} on {self.last_day.isoformat()}, {self.percent} in {self.days} days")


def download_changes(trends: tuple[RepoTrend, ...], limit: int = DOWNLOAD_LINES) -> list[DownloadChange]:
    """The largest repositories' changes, the biggest moves first."""
    changes = [DownloadChange(t.repo, SOURCE_NAMES.get(t.source.casefold(), t.source), t.previous, t.downloads,
                              t.first_day, t.last_day, t.change)
               for t in trends[:DOWNLOAD_CANDIDATES]
               if t.change is not None and t.previous is not None and t.first_day is not None]
    return sorted(changes, key=lambda c: (-abs(c.change), c.repo))[:limit]
