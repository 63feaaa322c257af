"""Group a day's articles into stories, rank them, and spot follow-ups of earlier days' stories.

Two articles are about the same event when the dedup pipeline linked them, when their folded
character bigrams are close (TF-IDF cosine, so zh-Hans and zh-Hant wording compare), or when
they share enough names and quantities: ``淘寶`` and ``Taobao`` are one entity, ``1億`` and
``100 million`` one quantity, which is what ties an English or Japanese report to a Chinese one.
Everything is deterministic: same articles in, same stories out.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from digestcrawl.dedup import CJK_RUN, LATIN_WORD
from digestcrawl.digest.model import Story, StoryArticle
from digestcrawl.relevance import fold, term_pattern

TEXT_CHARS = 800  # the lead of an article says what the event is; the tail is background
COSINE_MERGE = 0.32
ENTITY_MERGE_MIN = 2
ENTITY_MERGE_JACCARD = 0.4
FOLLOW_UP_COSINE = 0.45

MULTIPLIERS = {"萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "千": 1e3, "百": 1e2, "thousand": 1e3,
               "million": 1e6, "billion": 1e9, "trillion": 1e12}
QUANTITY = re.compile(
    r"(\d+(?:[.,]\d+)*)\s*(%|％|萬|万|億|亿|千|百|thousand|million|billion|trillion)?", re.IGNORECASE)


class EntityFinder:
    """Finds canonical entity names in text, whatever language or script they are written in."""

    def __init__(self, entities: dict[str, tuple[str, ...]]) -> None:
        self._patterns = [(name, [term_pattern(s) for s in spellings]) for name, spellings in entities.items()]

    def find(self, text: str) -> set[str]:
        folded = fold(text)
        return {name for name, patterns in self._patterns if any(p.search(folded) for p in patterns)}


def quantities(text: str) -> set[str]:
    """Normalised quantities: '1億' and '100 million' are both '1e+08'; '20%' is '20%'.
    Bare years and small counts are left out: they tie unrelated stories together."""
    found = set()
    for number, unit in QUANTITY.findall(text):
        try:
            value = float(number.replace(",", ""))
        except ValueError:
            continue
        if unit in ("%", "％"):
            found.add(f"{value:g}%")
        elif unit:
            found.add(f"{value * MULTIPLIERS[unit.lower()]:.0e}")
        elif value >= 10 and not (1900 <= value <= 2100 and number.isdigit()):
            found.add(f"{value:g}")
    return found


def bigrams(text: str) -> Counter[str]:
    folded = fold(text)
    grams: Counter[str] = Counter()
    for run in CJK_RUN.findall(folded):
        grams.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    grams.update(w for w in LATIN_WORD.findall(folded) if len(w) > 2)
    return grams


@dataclass
class _Profile:
    grams: Counter[str]
    names: set[str]


def _profile(article: StoryArticle, finder: EntityFinder) -> _Profile:
    lead = f"{article.title}\n{article.title}\n{(article.text or article.snippet)[:TEXT_CHARS]}"
    return _Profile(bigrams(lead), finder.find(lead) | quantities(lead))


def _tfidf(profiles: Sequence[_Profile]) -> list[dict[str, float]]:
    documents = Counter(g for p in profiles for g in p.grams)
    total = len(profiles)
    vectors = []
    for profile in profiles:
        vector = {g: (1 + math.log(n)) * math.log(1 + total / documents[g]) for g, n in profile.grams.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({g: v / norm for g, v in vector.items()})
    return vectors


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(g, 0.0) for g, v in a.items())


def _same_names(a: set[str], b: set[str]) -> bool:
    shared = a & b
    return len(shared) >= ENTITY_MERGE_MIN and len(shared) / len(a | b) >= ENTITY_MERGE_JACCARD


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def story_key(articles: Iterable[StoryArticle]) -> str:
    """Stable while a story grows during the day: named after its first-stored article."""
    first = min(articles, key=lambda a: a.id)
    return hashlib.sha1(first.url.encode()).hexdigest()[:12]


def group_stories(articles: Sequence[StoryArticle], finder: EntityFinder) -> list[Story]:
    """The day's stories, best first."""
    ordered = sorted(articles, key=lambda a: a.id)
    profiles = [_profile(a, finder) for a in ordered]
    vectors = _tfidf(profiles)
    groups = _UnionFind(len(ordered))
    by_url = {a.url: i for i, a in enumerate(ordered)}
    for i, article in enumerate(ordered):
        if article.duplicate_of in by_url:
            groups.union(i, by_url[article.duplicate_of])
        for j in range(i):
            if (cosine(vectors[i], vectors[j]) >= COSINE_MERGE
                    or _same_names(profiles[i].names, profiles[j].names)):
                groups.union(i, j)
    members: dict[int, list[StoryArticle]] = {}
    for i, article in enumerate(ordered):
        members.setdefault(groups.find(i), []).append(article)
    stories = [Story(key=story_key(group), articles=sorted(group, key=_lead_order)) for group in members.values()]
    for story in stories:
        story.rank = rank(story)
    return sorted(stories, key=lambda s: (-s.rank, s.key))


def _lead_order(article: StoryArticle) -> tuple[bool, bool, int, float, int]:
    published = article.published.timestamp() if article.published else math.inf
    no_text = not article.text
    return (article.duplicate_of is not None, no_text, -article.score, published, article.id)


def rank(story: Story) -> float:
    """Distinct outlets first, then reach across news/social/finance, relevance and recency."""
    categories = {a.category for a in story.articles}
    best_score = max(a.score for a in story.articles)
    latest = max((a.published.timestamp() for a in story.articles if a.published), default=0.0)
    return round(2.0 * len(story.outlets) + 1.5 * len(categories) + 0.2 * min(best_score, 10)
                 + (latest % 86400) / 86400 * 0.5, 4)


@dataclass(frozen=True)
class EarlierStory:
    key: str
    day: date
    title: str
    urls: frozenset[str]


def mark_follow_ups(stories: Sequence[Story], earlier: Sequence[EarlierStory]) -> None:
    """A story continues an earlier one when it cites one of its articles or its lead title is
    close to the earlier story's title; the most recent such story wins."""
    if not earlier:
        return
    earlier = sorted(earlier, key=lambda e: (e.day, e.key), reverse=True)
    for story in stories:
        urls = {a.url for a in story.articles} | {a.duplicate_of for a in story.articles if a.duplicate_of}
        title = bigrams(story.lead.title)
        for previous in earlier:
            vectors = _tfidf([_Profile(title, set()), _Profile(bigrams(previous.title), set())])
            if urls & previous.urls or cosine(vectors[0], vectors[1]) >= FOLLOW_UP_COSINE:
                story.follow_up_of, story.follow_up_day = previous.key, previous.day
                break
