"""What the template shows, built from a summary and the stored articles: each story's title,
paragraph and outlets, the day's releases, and the sources list in order of first citation.

On a site with the skeleton's includes, each story is an anchor (``#story-KEY``, the story's
stable key), its follow-up mark links to the earlier story in that day's post, and it links to
its line on the model's storyline page; the includes resolve the links when Jekyll builds, so a
post that does not exist (yet) leaves the mark as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from markupsafe import Markup

from digestcrawl.digest.firstparty import Release, releases
from digestcrawl.digest.model import DigestInput, Story, StoryArticle, StorySummary
from digestcrawl.digest.publish.files import post_paths
from digestcrawl.digest.publish.labels import follow_up_mark, headings
from digestcrawl.digest.publish.markdown import escape_markdown, safe_url, shorten
from digestcrawl.digest.publish.script import generated_text, source_text
from digestcrawl.digest.read import is_redirect, one_line
from digestcrawl.languages import Language
from digestcrawl.text import fold, reads_as_chinese, squash_spaces

NOTHING = Markup("")
RELEASES_PER_LINE = 5  # checkpoints, releases or papers named on one line; the rest are counted


@dataclass(frozen=True)
class Link:
    text: str
    url: Markup | None  # None: no http(s) URL, so the name is shown unlinked


@dataclass(frozen=True)
class StoryView:
    title: str  # without the follow-up mark, which is in ``marks``
    paragraph: str
    links: list[Link]
    key: str | None = None  # the story's stable key (None: the summary names no stored story)
    continues: tuple[str, date] | None = None  # the earlier story's key and day
    anchor: Markup = NOTHING  # before the title, on our site: kramdown's attribute list, the item's id
    marks: Markup = NOTHING  # after the title: the follow-up mark (a link), the storyline link
    # A story whose only text is its title, or (in a Chinese post) told in another language
    # alone: one line under "other reports", never a highlight, its title never its own body.
    other: bool = False
    language: str = ""  # the mark of an original title in another language (【英文報導】)

    @property
    def front_matter(self) -> dict[str, object]:
        """The story as the post's front matter lists it (the storyline page is built from these)."""
        entry: dict[str, object] = {"key": self.key, "title": self.title}
        if self.continues:
            entry["follow_up_of"], entry["follow_up_day"] = self.continues
        return entry


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
        # An aggregator's redirect (Google News') is no source: the outlet is named unlinked.
        url = None if is_redirect(article.url) else safe_url(article.url)
        if url is None:
            return None
        if url not in self.listed:
            title = source_text(article, one_line(article.title), self.language) or article.outlet
            self.listed[url] = Link(shorten(title), Markup(url))
        return Markup(url)


def outlet_label(article: StoryArticle, language: str) -> str:
    """The article's publisher, and the aggregator it came through: 南華早報（經 Reddit）."""
    name = source_text(article, one_line(article.outlet), language)
    if not article.via:
        return name
    return str(headings()[language]["via"].format(outlet=name, via=one_line(article.via)))


def story_view(summary: StorySummary, story: Story | None, digest: DigestInput,
               citations: Citations, site_links: bool = False) -> StoryView:
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
            links[article.outlet] = Link(outlet_label(article, digest.language), url)
    title = generated_text(summary.title, digest.language)
    lead = story.lead if story else next(iter(cited), None)
    if not title and lead is not None:  # a title that was all markup: the lead article's
        title = source_text(lead, one_line(lead.title), digest.language)
    paragraph = generated_text(summary.paragraph, digest.language)
    continues = None
    if story is not None and story.follow_up_of and story.follow_up_day:
        continues = (story.follow_up_of, story.follow_up_day)
    follow_up = follow_up_mark(digest.language, continues[1]) if continues else ""
    if follow_up:
        title = title.removesuffix(follow_up).rstrip()  # the offline summarizer writes the mark as text
    other = (story is not None and not own_text(story, digest.language)) or fold(paragraph) == fold(title)
    language = language_mark(title, story.articles if story else cited, digest.language) if other else ""
    anchor = marks = NOTHING
    if continues:
        marks += _follow_up_mark(follow_up, digest.model_key, *continues, site_links)
    if story is not None and site_links:
        anchor = Markup("{: #story-%s} ") % story.key
        marks += Markup('{%% include storyline_link.html story="%s" %%}') % story.key
    return StoryView(title, "" if other else paragraph, list(links.values()), key=story.key if story else None,
                     continues=continues, anchor=anchor, marks=marks, other=other, language=language)


def _follow_up_mark(mark: str, model_key: str, key: str, day: date, site_links: bool) -> Markup:
    if not site_links:
        return escape_markdown(mark)
    post = post_paths(Path(), model_key, day).post.as_posix()
    # The mark is ours (headings.yaml) and the date ISO: no quote can end the include's argument.
    return Markup('{%% include follow_up.html post="%s" story="%s" text="%s" %%}') % (post, key, mark)


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
