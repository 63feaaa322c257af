"""What the template shows, built from a summary and the stored articles: each story's title,
paragraph and outlets, the day's releases, and the sources list in order of first citation."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup

from digestcrawl.digest.firstparty import Release, releases
from digestcrawl.digest.model import DigestInput, Story, StoryArticle, StorySummary
from digestcrawl.digest.publish.labels import headings
from digestcrawl.digest.publish.markdown import escape_markdown, safe_url, shorten
from digestcrawl.digest.publish.script import generated_text, source_text
from digestcrawl.digest.read import one_line
from digestcrawl.languages import Language
from digestcrawl.text import fold, reads_as_chinese, squash_spaces

RELEASES_PER_LINE = 5  # checkpoints, releases or papers named on one line; the rest are counted


@dataclass(frozen=True)
class Link:
    text: str
    url: Markup | None  # None: no http(s) URL, so the name is shown unlinked


@dataclass(frozen=True)
class StoryView:
    title: str
    paragraph: str
    links: list[Link]
    # A story whose only text is its title, or (in a Chinese post) told in another language
    # alone: one line under "other reports", never a highlight, its title never its own body.
    other: bool = False
    language: str = ""  # the mark of an original title in another language (【英文報導】)


def own_text(story: Story, language: Language) -> bool:
    """Whether the story has text beyond its titles, in a Chinese post in Chinese: what a
    highlight's paragraph may say (another language's article counts only through its title)."""
    preferred = language.article_languages
    return any(fold(squash_spaces(a.text or a.snippet)) not in ("", fold(squash_spaces(a.title)))
               and (not language.is_chinese or a.language in preferred) for a in story.articles)


def language_mark(title: str, articles: list[StoryArticle], language: Language) -> str:
    """【英文報導】 after a title a Chinese post shows in another language; else nothing. The
    language is the first the story's articles were tagged with; an untagged Latin title's, English."""
    if not language.is_chinese or reads_as_chinese(title):
        return ""
    words = headings()[language]
    names = words["languages"]
    tags = [(a.language or "").split("-")[0] for a in articles]
    tagged = next((tag for tag in tags if tag in names), "en" if title.isascii() else "other")
    return str(words["foreign_report"].format(language=names.get(tagged, names["other"])))


class Citations:
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


def story_view(summary: StorySummary, story: Story | None, digest: DigestInput,
                citations: Citations) -> StoryView:
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
    other = (story is not None and not own_text(story, digest.language)) or fold(paragraph) == fold(title)
    mark = language_mark(title, story.articles if story else cited, digest.language) if other else ""
    return StoryView(title, "" if other else paragraph, list(links.values()), other, mark)


def release_lines(digest: DigestInput, citations: Citations, zone: ZoneInfo) -> list[Markup]:
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
