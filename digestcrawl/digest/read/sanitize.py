"""Crawled strings made safe for the digest: nothing a page says can crash or spoof a post.

Applied where the digest's ``StoryArticle`` objects are built (``DigestRepository.articles``),
so the stories, both summarizers, the renderer and the infographic only ever see clean data:
control, bidirectional-override and other invisible format characters are removed; a title is
one line, cut at a word boundary (else a character) past ``TITLE_MAX``; an empty title becomes
the text's lead sentence, else the URL's host, else the source's name; text and snippet are
capped. Markup, Liquid and YAML syntax stay as text: the renderer escapes what it writes.
``clean_day`` does this for a day's articles together, and removes page junk too: the text
cleaner (``pagetext``: table residue, copyright, navigation, lines a host repeats on its pages)
and the title cleaner (``titles``: site names learnt per host, generic tags, meaningless titles);
each article's ``publisher`` becomes its page's publisher and ``via`` the aggregator it came
through (``outlets``).
No settings are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from digestcrawl.digest.model import STORY_TITLE_MAX, StoryArticle, host_of
from digestcrawl.digest.read.outlets import outlet_and_via
from digestcrawl.digest.read.pagetext import key, repeated_lines, strip_junk
from digestcrawl.digest.read.titles import clean_title, site_affixes, title_site
from digestcrawl.store import LANGUAGE_MAX
from digestcrawl.text import squash_spaces

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
BOILERPLATE_KEEP = 0.2  # share of a page's text that must be left once its host's lines are dropped
LEAD_SENTENCE = re.compile(r".+?(?:[。！？]|[.!?](?=\s|$))|.+")


def one_line(text: str) -> str:
    """No unsafe characters; whitespace runs (newlines too) made one space."""
    return squash_spaces(UNSAFE.sub("", text))


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
    """The first sentence of the first line (a paragraph: sentences never span two)."""
    first = next((line for line in text[:TEXT_MAX].splitlines() if line.strip()), "")
    match = LEAD_SENTENCE.search(one_line(first))
    return match[0].strip() if match else ""


def title_for(title: str, text: str, url: str, source: str) -> str:
    """A sane one-line title: the page's, else its lead sentence, else its URL's host."""
    host = host_of(url)
    for candidate in (one_line(title), lead_sentence(text), one_line(host), one_line(source)):
        if candidate:
            return cut(candidate, TITLE_MAX)
    return "?"  # nothing at all to call it by; still a valid title


def clean_article(article: StoryArticle, text: str | None = None,
                  affixes: tuple[set[str], set[str]] = (set(), set())) -> StoryArticle:
    """The article as the digest may use it (see the module docstring); ``text``: its text
    already cleaned, ``affixes``: its host's learnt title affixes (``titles.site_affixes``)."""
    if text is None:
        text = strip_junk(UNSAFE.sub("", article.text[:TEXT_MAX]))
    snippet = strip_junk(UNSAFE.sub("", article.snippet[:SNIPPET_MAX]))
    stored_publisher = cut(one_line(article.publisher), OUTLET_MAX)
    site_name = cut(one_line(article.site_name), OUTLET_MAX)
    title = one_line(article.title[:TEXT_MAX])
    headline = clean_title(title, (stored_publisher, site_name), affixes)
    publisher, via = outlet_and_via(article.url, article.feed_url, site_name, stored_publisher,
                                    cut(title_site(title, affixes), OUTLET_MAX))
    return replace(
        article,
        title=title_for(headline, text or snippet, article.url, article.source),
        text=text,
        snippet=snippet,
        publisher=publisher,
        via=via,
        site_name=site_name,
        language=one_line(article.language or "")[:LANGUAGE_MAX] or None,
    )


def clean_day(articles: Sequence[StoryArticle]) -> list[StoryArticle]:
    """A day's articles cleaned together: what a host repeats on its pages (lines of text,
    title prefixes and suffixes) is the site's, not the article's."""
    hosts = [host_of(a.url) for a in articles]
    texts = [strip_junk(UNSAFE.sub("", a.text[:TEXT_MAX])) for a in articles]
    # Syndicated copies would count the article's own lines as the host's.
    repeated = repeated_lines([(host, text) for host, text, a in zip(hosts, texts, articles, strict=True)
                               if not a.duplicate_of])
    affixes = site_affixes((host, one_line(a.title[:TEXT_MAX])) for host, a in zip(hosts, articles, strict=True))
    cleaned = []
    for host, article, text in zip(hosts, articles, texts, strict=True):
        boilerplate = repeated.get(host, frozenset())
        if boilerplate:
            kept = "\n".join(line for line in text.splitlines() if key(line) not in boilerplate)
            # Pages that repeat one another (an article stored under several URLs) share all
            # their lines: a page left with almost nothing keeps its text.
            text = kept if len(kept) >= BOILERPLATE_KEEP * len(text) else text
        cleaned.append(clean_article(article, text, affixes.get(host, (set(), set()))))
    return cleaned
