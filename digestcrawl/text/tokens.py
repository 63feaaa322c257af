"""A text cut into the units it is compared in: sentences, and folded bigrams and words."""

from __future__ import annotations

import re
from collections import Counter

from digestcrawl.text.chars import CJK_CLASS, CJK_RUN, LATIN_WORD
from digestcrawl.text.relevance import fold

# 。！？； end a sentence (with any closing quote after them); .!? only before a space and a
# new sentence, so 3.5, U.S.-made and example.com stay whole.
SENTENCE_END = re.compile(r"(?<=[。！？；][」』”’）)])|(?<=[。！？；])(?![」』”’）)])"
                          rf"|(?<=[.!?])\s+(?=[A-Z0-9\"'“({CJK_CLASS}])|\n+")


def split_sentences(text: str) -> list[str]:
    """CJK-aware: 。！？； end a sentence with no space after them; .!? need one, and a new
    sentence after it (never inside a number such as 3.5)."""
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


def bigrams(text: str) -> Counter[str]:
    """Folded CJK character bigrams and Latin words of three letters or more."""
    folded = fold(text)
    grams: Counter[str] = Counter()
    for run in CJK_RUN.findall(folded):
        grams.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    grams.update(w for w in LATIN_WORD.findall(folded) if len(w) > 2)
    return grams
