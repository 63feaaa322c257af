"""The post's YAML front matter, dumped by PyYAML: the keys Jekyll themes read, and the rest
the skeleton's layouts read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from digestcrawl.digest.model import DigestInput, SummaryResult
from digestcrawl.digest.publish.context import Link, StoryView
from digestcrawl.digest.publish.files import post_paths
from digestcrawl.digest.publish.labels import headings, summary_label
from digestcrawl.digest.publish.script import generated_text
from digestcrawl.text import HAN

MAX_TAGS = 10
# The post's ``lang`` (BCP 47, as <html lang> and og:locale want it) per DIGEST_LANGUAGE.


def _tags(digest: DigestInput, result: SummaryResult) -> list[str]:
    tags: dict[str, str] = {}
    aliases = (digest.model.display, *digest.model.aliases_in(digest.language.alias_scripts))
    for tag in (*aliases, *result.content.tags):
        text = generated_text(tag, digest.language)
        # A Chinese post's tags are Chinese names (the model's display name aside), or left out.
        if text and (not digest.language.is_chinese or tag == digest.model.display or HAN.search(text)):
            tags.setdefault(text.casefold(), text)
    return list(tags.values())[:MAX_TAGS]


def front_matter(digest: DigestInput, result: SummaryResult, layout: str, sources: list[Link],
                 stories: Sequence[StoryView] = ()) -> str:
    words, display = headings()[digest.language], digest.model.display
    paths = post_paths(Path(), digest.model_key, digest.day)
    summary = generated_text(result.content.summary, digest.language)
    # Theme keys (minima, Chirpy, jekyll-seo-tag, jekyll-feed): layout, title, date, lang,
    # categories, tags, image (the og:image), description; the skeleton's layouts read the rest.
    data = {
        "layout": layout,
        "title": f"{display} {words['daily']} - {digest.day:%Y-%m-%d}",
        "tagline": words["tagline"].format(articles=digest.counts.articles, display=display),
        "date": digest.day,
        "lang": digest.language.page_lang,
        "model": digest.model_key,
        "categories": [digest.model_key, "daily"],
        "tags": _tags(digest, result),
        "image": paths.image_url,
        "image_narrow": paths.narrow_image_url,
        "description": summary,
        "ai_summary": summary,
        "summary_label": summary_label(digest.language, result.summary_by_llm),
        "sources": [{"title": link.text, "url": str(link.url)} for link in sources if link.url],
        "stories": [story.front_matter for story in stories if story.key],
        "generator": result.generator,
    }
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None,
                            width=1 << 16)
    return f"---\n{dumped}---\n"
