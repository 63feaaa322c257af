"""Is a summary grounded in the articles it cites? Checks on an LLM's story summaries.

A story summary is grounded when every article id it cites belongs to its story, and every
number and every Latin-script name in its title and paragraph appears in a cited article's
title, text or snippet. Both sides are compared after the same normalisation: NFKC (full-width
digits and letters become ASCII), thousands separators dropped, case folded. Numbers are
compared by value, so ``01`` is ``1`` and ``1億`` is ``100 million``; a percentage must be a
percentage in the source too. Names and numbers the configuration itself supplies (the model's
display name, company, aliases, tickers, and the digest's day) need no citation.

No settings are read.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from digestcrawl.digest.model import DigestContent, DigestInput, StoryArticle, StorySummary
from digestcrawl.digest.similarity import MULTIPLIERS

THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(%|萬|万|億|亿|千|百|thousand|million|billion|trillion)?",
                    re.IGNORECASE)
NAME = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9]*")
# Capitalised words that name nothing: English sentence starters, months and a few generic
# acronyms a translation adds (an article says 人工智能, the summary says AI).
NOT_NAMES = frozenset((
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "he", "her", "his", "if", "in",
    "into", "it", "its", "of", "on", "or", "our", "she", "so", "that", "the", "their", "there",
    "these", "they", "this", "those", "to", "we", "what", "when", "where", "which", "while",
    "who", "with", "after", "also", "although", "amid", "analysts", "according", "before",
    "despite", "during", "however", "meanwhile", "moreover", "other", "others", "since", "some",
    "such", "than", "then", "thus", "today", "yesterday", "tomorrow", "unlike", "until", "users",
    "yet", "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "ai", "app", "apps", "api", "apis", "ceo", "llm", "llms",
))


def normalise(text: str) -> str:
    """The form both sides are compared in (case is kept: names are found by their capitals)."""
    return THOUSANDS.sub("", unicodedata.normalize("NFKC", text))


def _value(number: str, unit: str | None = None) -> str:
    scale = Decimal(MULTIPLIERS[unit.lower()]) if unit else Decimal(1)
    return format((Decimal(number) * scale).normalize(), "f")


def numbers(text: str, *, raw: bool = False) -> set[str]:
    """Numbers in ``text`` by value ('1億' → '100000000', '3%' → '3%', '01' → '1').

    With ``raw`` each number also counts unscaled, as the source side needs: a source saying
    '3%' grounds a summary's '3', one saying '1億' grounds '1'."""
    found: set[str] = set()
    for number, unit in NUMBER.findall(normalise(text)):
        if unit == "%":
            found.add(_value(number) + "%")
        else:
            found.add(_value(number, unit or None))
        if raw:
            found.add(_value(number))
    return found


def names(text: str) -> set[str]:
    """Capitalised words and acronyms of at least two letters (Jefferies, MCP, Qwen3)."""
    return {name for name in NAME.findall(normalise(text))
            if sum(c.isalpha() for c in name) >= 2 and name.casefold() not in NOT_NAMES}


def _known(digest: DigestInput) -> str:
    model = digest.model
    return " ".join([model.display, model.company or "", *model.all_aliases, *model.tickers,
                     digest.day.isoformat()])


def _source_text(articles: list[StoryArticle]) -> str:
    return "\n".join(f"{a.title}\n{a.text}\n{a.snippet}" for a in articles)


def check_story(summary: StorySummary, digest: DigestInput) -> list[str]:
    """The problems that make ``summary`` ungrounded; an empty list means grounded."""
    story = next((s for s in digest.stories if s.key == summary.story_key), None)
    if story is None:
        return [f"story_key {summary.story_key!r} is not a story of this digest"]
    members = {a.id: a for a in story.articles}
    problems = [f"cites article {i}, which is not an article of this story"
                for i in summary.cited if i not in members]
    cited = [members[i] for i in dict.fromkeys(summary.cited) if i in members]
    source = normalise(f"{_source_text(cited)}\n{_known(digest)}")
    written = f"{summary.title}\n{summary.paragraph}"
    source_numbers = numbers(source, raw=True)
    problems += [f"number {n} appears in no cited article"
                 for n in sorted(numbers(written)) if n not in source_numbers]
    folded = source.casefold()
    problems += [f"name {n!r} appears in no cited article" for n in sorted(names(written))
                 if not re.search(rf"(?<![a-z0-9]){re.escape(n.casefold())}", folded)]
    return problems


def check_content(content: DigestContent, digest: DigestInput) -> dict[str, list[str]]:
    """Story key → problems, for every story that is ungrounded, missing or unknown."""
    problems: dict[str, list[str]] = {}
    written = {summary.story_key: summary for summary in content.stories}
    for story in digest.stories:
        summary = written.get(story.key)
        found = check_story(summary, digest) if summary else ["the answer has no summary of it"]
        if found:
            problems[story.key] = found
    for key in written.keys() - {story.key for story in digest.stories}:
        problems[key] = [f"story_key {key!r} is not a story of this digest"]
    return problems
