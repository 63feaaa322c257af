"""Render a digest as a Jekyll post: YAML front matter (``frontmatter``), then the Markdown body
of ``templates/post.md.j2`` with the per-language labels of ``templates/headings.yaml``.

Crawled titles and text are data. The template environment Markdown-escapes every value that is
not ``Markup`` (only our labels, vetted link targets and the lines of the day's releases built from
escaped parts are, ``context``), links point only at http(s) URLs (``markdown``), and Chinese
text is written in the output's script (``script``).

Settings read by ``RenderOptions.from_settings``: DIGEST_LAYOUT (front matter ``layout``,
default ``post``), DIGEST_MAX_STORIES (stories shown, default 5), DIGEST_TIMEZONE (the zone the
digest day belongs to, default Asia/Taipei; validated here. The post's ``date`` is that day,
written date-only, so Jekyll files it under the same day whatever the site's own ``timezone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from markupsafe import Markup
from scrapy.settings import BaseSettings

from digestcrawl.digest.model import SECTIONS, DigestContent, DigestInput, SummaryResult
from digestcrawl.digest.publish.context import Citations, StoryView, release_lines, story_view
from digestcrawl.digest.publish.files import PostPaths, post_paths, write_atomic
from digestcrawl.digest.publish.frontmatter import front_matter
from digestcrawl.digest.publish.labels import footer, post_labels
from digestcrawl.digest.publish.markdown import escape_markdown
from digestcrawl.digest.publish.script import generated_text
from digestcrawl.digest.sections import Slot
from digestcrawl.languages import Language


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


def _as_markdown(value: object) -> Markup:
    # Escape by default, as HTML autoescaping does: only Markup passes unchanged.
    return value if isinstance(value, Markup) else escape_markdown(str(value))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # A package loader, not a path: in production the templates are inside a zipped egg.
    return jinja2.Environment(loader=jinja2.PackageLoader("templates", ""), autoescape=True,
                              finalize=_as_markdown, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


@dataclass(frozen=True)
class SectionView:
    """A body section as the template's loop shows it: its heading, slot and value."""

    heading: Markup
    slot: str
    value: object


def section_views(content: DigestContent, labels: dict[str, Markup], stories: list[StoryView],
                  leading: dict[str, list[Markup]], language: Language) -> list[SectionView]:
    """The body's sections in the table's order; a group's sections (對開發者, 對一般使用者) as
    one, under the group's heading. ``leading``: lines from data before a section's own."""
    views: list[SectionView] = []

    def text(value: str) -> str:
        return generated_text(value, language)

    for row in SECTIONS:
        section, value = row.section, getattr(content, row.key)
        if section.slot is Slot.FRONT_MATTER or section.heading is None:
            continue
        if section.slot is Slot.STORIES:
            shown: object = {"highlights": [s for s in stories if not s.other],
                             "others": [s for s in stories if s.other]}
        elif section.slot is Slot.PARAGRAPH:
            shown = text(value)
            if not shown:
                continue  # a paragraph that only repeated the post is left out
        elif section.slot is Slot.LABELLED:
            parts = [(labels[part.section.heading or part.key], text(getattr(value, part.key))) for part in row.parts]
            shown = [(label, said) for label, said in parts if said]  # a part with nothing to say is left out
            if not shown:
                continue
        else:
            lead = leading.get(row.key, [])
            lines = [*lead, *[text(item) for item in value][: max(1, (section.maximum or len(value)) - len(lead))]]
            if not lines:
                continue  # a list each fact-once check left empty (a thin day's) is left out
            if section.slot is Slot.LIST:
                shown = lines
            else:
                group = labels[section.group or row.key]
                if not views or views[-1].heading != group:
                    views.append(SectionView(group, Slot.GROUPED, []))
                views[-1].value.append((labels[section.heading], lines))  # type: ignore[attr-defined]
                continue
        views.append(SectionView(labels[section.heading], section.slot, shown))
    return views


def render_post(digest: DigestInput, result: SummaryResult, options: RenderOptions,
                site_links: bool = False) -> str:
    """The whole post: front matter and body. ``site_links``: the site has the skeleton's
    includes, which link a story to its storyline and a follow-up to the earlier story."""
    post_paths(Path(), digest.model_key, digest.day)  # the key is validated before anything else
    language, content = digest.language, result.content
    labels, citations = post_labels(language), Citations(language)
    by_key = {story.key: story for story in digest.stories}
    stories = [story_view(summary, by_key.get(summary.story_key), digest, citations, site_links)
               for summary in content.stories[: options.max_stories]]
    # The day's releases lead 對開發者, from data; the generated lines follow, within its four.
    listed = release_lines(digest, citations, ZoneInfo(options.timezone))
    body = _environment().get_template("post.md.j2").render(
        h=labels,
        sections=section_views(content, labels, stories, {"developers": listed}, language),
        sources=list(citations.listed.values()),
        footer=footer(language, digest.counts, result.generator),
    )
    return front_matter(digest, result, options.layout, list(citations.listed.values()), stories) + body


def write_post(site_dir: Path, digest: DigestInput, result: SummaryResult,
               options: RenderOptions, site_links: bool = False) -> PostPaths:
    """Write (or replace) the day's post atomically; the infographic is drawn by the caller."""
    paths = post_paths(site_dir, digest.model_key, digest.day)
    write_atomic(paths.post, render_post(digest, result, options, site_links).encode("utf-8"))
    return paths
