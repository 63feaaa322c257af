"""Each fact once: a sentence the post already says is not said again in another section.

Both summarizers' content passes through ``each_fact_once``. The sections claim sentences in the
order of their rows' ``precedence`` (digest.sections): a story's paragraph first, then the
developers' and the users' notes, the analysis, the trend and the key points (the summary box
sums up the post and is not held to it). A
later sentence (list item) near-identical to one said before is dropped: the same CJK bigrams and
words, whatever the attribution in brackets after it, and whichever the script. The stories'
titles are said once their paragraphs are: a sentence of another section that is a title is
dropped. A story's paragraph keeps one sentence, even a repeated one (its title alone is then an
"other report"); any other section is left shorter than its schema's minimum, or empty, rather
than say a fact twice (a thin day has few facts: its sections are short).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from digestcrawl.digest.model import SECTIONS, DigestContent
from digestcrawl.digest.sections import Grounding, Row
from digestcrawl.text import bigrams, split_sentences

SAME = 0.5  # Jaccard of two sentences' bigrams at which they say the same (a reworded lead)
HELD = 0.8  # share of a shorter sentence's bigrams a longer one holds: the one says the other
HELD_MIN = 8  # bigrams a sentence needs for HELD to judge it (a short label is no fact)
# An attribution after a sentence: （聯合新聞網）, (Reuters).
ATTRIBUTION = re.compile(r"\s*[（(][^（）()]{1,40}[）)]\s*$")


def _grams(sentence: str) -> set[str]:
    return set(bigrams(ATTRIBUTION.sub("", sentence)))


def _same(one: set[str], other: set[str]) -> bool:
    shared = len(one & other)
    shorter = min(len(one), len(other))
    return shared >= SAME * len(one | other) or (shorter >= HELD_MIN and shared >= HELD * shorter)


class _Said:
    def __init__(self, titles: list[str]) -> None:
        self.said: list[set[str]] = []
        # A story named by its quoted title refers to it: the quote says no fact again.
        self.references = [f"「{ATTRIBUTION.sub('', title)}」" for title in titles]

    def _grams(self, sentence: str) -> set[str]:
        for reference in self.references:
            sentence = sentence.replace(reference, "")
        return _grams(sentence)

    def repeats(self, sentence: str) -> bool:
        grams = self._grams(sentence)
        return bool(grams) and any(_same(grams, other) for other in self.said)

    def say(self, sentence: str) -> None:
        if grams := self._grams(sentence):
            self.said.append(grams)

    def kept(self, pieces: list[str], minimum: int = 1) -> list[str]:
        """``pieces`` without those said before, but at least ``minimum`` of them (a paragraph
        keeps a sentence, repeating if it must); then said."""
        fresh = [not self.repeats(piece) for piece in pieces]
        short = max(0, minimum - sum(fresh))
        kept = []
        for piece, new in zip(pieces, fresh, strict=True):
            if new or short:
                short -= not new
                kept.append(piece)
        for piece in kept:
            self.say(piece)
        return kept


def _joined(sentences: list[str]) -> str:
    return "".join(f"{s} " if s[-1:].isascii() else s for s in sentences).strip()


def each_fact_once(content: DigestContent) -> DigestContent:
    said = _Said([story.title for story in content.stories])
    update: dict[str, Any] = {}
    claims = sorted(_claims(content, SECTIONS), key=lambda claim: claim[0])
    titles_said = False
    for _, path, value in claims:
        if path[0] != "stories" and not titles_said:
            for story in content.stories:  # the post shows every title: no later section says it again
                said.say(story.title)
            titles_said = True
        if isinstance(value, list):
            new: Any = said.kept(value, minimum=0)
        elif path[0] == "stories":
            new = value.model_copy(update={"paragraph": _joined(said.kept(split_sentences(value.paragraph)))})
        else:
            new = _joined(said.kept(split_sentences(value), minimum=0)) if value else value
        update[".".join(path)] = new
    stories = [update.get(f"stories.{i}", story) for i, story in enumerate(content.stories)]
    analysis = content.analysis.model_copy(update={key.split(".", 1)[1]: value for key, value in update.items()
                                                   if key.startswith("analysis.")})
    plain = {key: value for key, value in update.items() if "." not in key}
    return content.model_copy(update={**plain, "stories": stories, "analysis": analysis})


def _claims(value: BaseModel, rows: tuple[Row, ...], path: tuple[str, ...] = (),
            parent: Row | None = None) -> list[tuple[int, tuple[str, ...], Any]]:
    """(precedence, path, value) of every section's text, stories one by one."""
    found: list[tuple[int, tuple[str, ...], Any]] = []
    for row in rows:
        rank = (parent or row).section.precedence
        field = getattr(value, row.key)
        if row.section.grounding is Grounding.NAMES or rank is None:
            continue  # tags are names, not sentences; the summary box sums up what the body says
        if row.section.grounding is Grounding.PARTS:
            found += _claims(field, row.parts, (*path, row.key), row)
        elif row.section.grounding is Grounding.STORIES:
            found += [(rank, (row.key, str(i)), story) for i, story in enumerate(field)]
        else:
            found.append((rank, (*path, row.key), field))
    return found
