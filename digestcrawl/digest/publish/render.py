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

from digestcrawl.digest.model import DigestInput, SummaryResult
from digestcrawl.digest.publish.context import Citations, release_lines, story_view
from digestcrawl.digest.publish.files import PostPaths, post_paths, write_atomic
from digestcrawl.digest.publish.frontmatter import front_matter
from digestcrawl.digest.publish.labels import footer, post_labels
from digestcrawl.digest.publish.markdown import escape_markdown
from digestcrawl.digest.publish.script import generated_text

MAX_KEY_POINTS = 8
MAX_THOUGHTS = 4  # bullets under 對開發者 / 對一般使用者


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
    listed = release_lines(digest, citations, ZoneInfo(options.timezone))
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
        footer=footer(language, len(sources), result.generator),
    )
    return front_matter(digest, result, options.layout, sources, stories) + body


def write_post(site_dir: Path, digest: DigestInput, result: SummaryResult,
               options: RenderOptions, site_links: bool = False) -> PostPaths:
    """Write (or replace) the day's post atomically; the infographic is drawn by the caller."""
    paths = post_paths(site_dir, digest.model_key, digest.day)
    write_atomic(paths.post, render_post(digest, result, options, site_links).encode("utf-8"))
    return paths
