"""Crawled strings made safe for the digest: nothing a page says can crash or spoof a post.

Applied where the digest's ``StoryArticle`` objects are built (``DigestRepository.articles``),
so the stories, both summarizers, the renderer and the infographic only ever see clean data:
control, bidirectional-override and other invisible format characters are removed; a title is
one line, cut at a word boundary (else a character) past ``TITLE_MAX``; an empty title becomes
the text's lead sentence, else the URL's host, else the source's name; text and snippet are
capped. Markup, Liquid and YAML syntax stay as text: the renderer escapes what it writes.
No settings are read.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

from digestcrawl.digest.model import STORY_TITLE_MAX, StoryArticle

# C0/C1 controls but tab and newlines, lone surrogates, the byte-order mark, and the invisible
# characters that reorder or hide text (U+202E shows "gpj.exe" as "exe.jpg"): bidi embeddings,
# overrides, isolates and marks, zero-width space, word joiner and invisible operators.
UNSAFE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u061c\u200b\u200e\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufff9-\ufffb]")
# Room for a summarizer's own additions (a follow-up note) within the story title schema.
TITLE_MAX = STORY_TITLE_MAX - 40
OUTLET_MAX = 100
SNIPPET_MAX = 2_000
TEXT_MAX = 200_000  # beyond every prompt budget; bounds the grouping and sentence work
LANGUAGE_MAX = 16
LEAD_SENTENCE = re.compile(r".+?(?:[。！？]|[.!?](?=\s|$))|.+")


def one_line(text: str) -> str:
    """No unsafe characters; whitespace runs (newlines too) made one space."""
    return " ".join(UNSAFE.sub("", text).split())


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut at the last space in its second half (a
    word boundary in spaced scripts), else at a character, and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip() + "…"


def lead_sentence(text: str) -> str:
    match = LEAD_SENTENCE.search(one_line(text[:TEXT_MAX]))
    return match[0].strip() if match else ""


def title_for(title: str, text: str, url: str, source: str) -> str:
    """A sane one-line title: the page's, else its lead sentence, else its URL's host."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    for candidate in (one_line(title), lead_sentence(text), one_line(host), one_line(source)):
        if candidate:
            return cut(candidate, TITLE_MAX)
    return "?"  # nothing at all to call it by; still a valid title


def clean_article(article: StoryArticle) -> StoryArticle:
    """The article as the digest may use it (see the module docstring)."""
    text = UNSAFE.sub("", article.text[:TEXT_MAX])
    snippet = UNSAFE.sub("", article.snippet[:SNIPPET_MAX])
    return replace(
        article,
        title=title_for(article.title, text or snippet, article.url, article.source),
        text=text,
        snippet=snippet,
        publisher=cut(one_line(article.publisher), OUTLET_MAX),
        language=one_line(article.language or "")[:LANGUAGE_MAX] or None,
    )
