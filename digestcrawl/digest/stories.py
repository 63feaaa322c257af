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
TITLE_COSINE_MERGE = 0.5
HEADLINE_CONTAINMENT = 0.8  # a feed headline's names found in a full article's names
ENTITY_MERGE_MIN = 2
# IDF-weighted Jaccard of names and quantities. Across languages or scripts names are the only
# bridge; within one language the texts themselves compare, so names must agree more.
NAMES_ACROSS_LANGUAGES = 0.25
NAMES_SAME_LANGUAGE = 0.4

MULTIPLIERS = {"萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "千": 1e3, "百": 1e2, "thousand": 1e3,
               "million": 1e6, "billion": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}
QUANTITY = re.compile(
    r"(\d+(?:[.,]\d+)*)\s*(%|％|萬|万|億|亿|千|百|thousand|million|billion|trillion|(?:k|m|bn|b)(?![a-z]))?",
    re.IGNORECASE)


class EntityFinder:
    """Finds canonical entity names in text, whatever language or script they are written in."""

    def __init__(self, entities: dict[str, tuple[str, ...]]) -> None:
        self._patterns = [(name, [term_pattern(s) for s in spellings]) for name, spellings in entities.items()]

    def find(self, text: str) -> set[str]:
        folded = fold(text)
        return {name for name, patterns in self._patterns if any(p.search(folded) for p in patterns)}


def quantities(text: str) -> set[str]:
    """Normalised quantities: '1億' and '100 million' are both '1e+08'; '20%' is '20%'.
    Bare years, days of the month and small counts are left out: they tie unrelated stories."""
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
        elif value >= 100 and not (1900 <= value <= 2100 and number.isdigit()):
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
    headline_only: bool = False
    language: str | None = None


def _profile(article: StoryArticle, finder: EntityFinder) -> _Profile:
    lead = f"{article.title}\n{article.title}\n{(article.text or article.snippet)[:TEXT_CHARS]}"
    return _Profile(bigrams(lead), finder.find(lead) | quantities(lead), headline_only=not article.text,
                    language=article.language)


def _name_weights(profiles: Sequence[_Profile]) -> dict[str, float]:
    """IDF of each name over the articles compared: a name every article has says little."""
    documents = Counter(n for p in profiles for n in p.names)
    return {name: math.log(1 + len(profiles) / count) for name, count in documents.items()}


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


def _same_names(a: _Profile, b: _Profile, weights: dict[str, float]) -> bool:
    shared = a.names & b.names
    if len(shared) < ENTITY_MERGE_MIN:
        return False
    if a.headline_only or b.headline_only:
        # A headline names few things: enough when nearly all of them are in the other article.
        return len(shared) / min(len(a.names), len(b.names)) >= HEADLINE_CONTAINMENT
    overlap = sum(weights[n] for n in shared) / sum(weights[n] for n in a.names | b.names)
    same_language = a.language is not None and a.language == b.language
    return overlap >= (NAMES_SAME_LANGUAGE if same_language else NAMES_ACROSS_LANGUAGES)


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
    """The day's stories, best first.

    Full articles are grouped first. A headline-only item (a search-feed or social entry) then
    joins the one story it matches best: it never links two stories, since a headline that says
    only "1億 users" would otherwise chain unrelated events together.
    """
    ordered = sorted(articles, key=lambda a: a.id)
    profiles = [_profile(a, finder) for a in ordered]
    vectors = _tfidf(profiles)
    titles = _tfidf([_Profile(bigrams(a.title), set()) for a in ordered])
    weights = _name_weights(profiles)
    groups = _UnionFind(len(ordered))
    by_url = {a.url: i for i, a in enumerate(ordered)}

    def related(i: int, j: int) -> float:
        """0 when unrelated, else how strongly (for choosing among candidates)."""
        if ordered[i].duplicate_of == ordered[j].url or ordered[j].duplicate_of == ordered[i].url:
            return 10.0
        body, title = cosine(vectors[i], vectors[j]), cosine(titles[i], titles[j])
        if (body >= COSINE_MERGE or title >= TITLE_COSINE_MERGE
                or _same_names(profiles[i], profiles[j], weights)):
            return 1.0 + body + title
        return 0.0

    full = [i for i, p in enumerate(profiles) if not p.headline_only]
    for n, i in enumerate(full):
        original = ordered[i].duplicate_of
        if original is not None and original in by_url:
            groups.union(i, by_url[original])
        for j in full[:n]:
            if related(i, j):
                groups.union(i, j)
    attached: list[int] = []
    for i in (i for i, p in enumerate(profiles) if p.headline_only):
        scores = [(related(i, j), j) for j in full + attached]
        best, j = max(scores, default=(0.0, i))
        if best:
            groups.union(i, j)
        attached.append(i)
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


def mark_follow_ups(stories: Sequence[Story], earlier: Sequence[tuple[date, Story]], finder: EntityFinder) -> None:
    """A story continues an earlier day's story when any of their articles are related by the
    same rules that group a day (shared text, title, names); the most recent such day wins."""
    if not earlier:
        return
    today = [(story, a) for story in stories for a in story.articles]
    before = sorted(((d, s, a) for d, s in earlier for a in s.articles), key=lambda x: x[0], reverse=True)
    profiles = [_profile(a, finder) for _, a in today] + [_profile(a, finder) for _, _, a in before]
    vectors = _tfidf(profiles)
    weights = _name_weights(profiles)
    for i, (story, article) in enumerate(today):
        if story.follow_up_of is not None:
            continue
        for j, (day, previous, old) in enumerate(before, start=len(today)):
            shared_url = article.duplicate_of == old.url or old.duplicate_of == article.url
            if (shared_url or cosine(vectors[i], vectors[j]) >= COSINE_MERGE
                    or _same_names(profiles[i], profiles[j], weights)):
                story.follow_up_of, story.follow_up_day = previous.key, day
                break
