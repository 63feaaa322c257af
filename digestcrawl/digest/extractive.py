"""The offline summarizer: sentences picked from the stored articles, figures from the database.

Each story's paragraph is two or three sentences taken verbatim from its articles (lead
sentences that share the most words with the story's headlines, in the output language when
the story has any). The trend and analysis sections are filled from counts, names and titles
in ``DigestInput``, through the per-language phrases in ``templates/extractive.yaml``; nothing
is invented. The renderer converts the result to the output script.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from digestcrawl.dedup import fingerprint
from digestcrawl.digest.model import (
    STORY_TITLE_MAX,
    Analysis,
    DigestContent,
    DigestInput,
    Story,
    StoryArticle,
    StorySummary,
    SummaryResult,
)
from digestcrawl.digest.sanitize import cut
from digestcrawl.digest.stories import EntityFinder, bigrams

SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+(?=[A-Z0-9\"'“(])|\n+")
# Text that addresses a language model is never quoted into a digest.
INSTRUCTION_LIKE = re.compile(
    r"ignore (all |any )?(previous|prior|above|earlier) instructions|disregard (the )?(previous|above)|"
    r"system prompt|忽略(之前|先前|以上|上述)的?(所有)?指令|忽視(之前|先前|以上)的?指令",
    re.IGNORECASE)
LANGUAGES = {"zh-TW": ("zh-Hant", "zh-Hans"), "zh-CN": ("zh-Hans", "zh-Hant"), "en": ("en",), "ja": ("ja",)}
SENTENCES_PER_STORY = 2
LEAD_SENTENCES = 6
NEAR_SAME = 0.35  # bigram Jaccard above which two sentences say the same thing


@lru_cache(maxsize=1)
def phrases() -> dict[str, dict[str, str]]:
    text = resources.files("templates").joinpath("extractive.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def split_sentences(text: str) -> list[str]:
    """CJK-aware: 。！？ end a sentence with no space after them; .!? need one."""
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


def _usable(sentence: str, headlines: set[str]) -> bool:
    """A real sentence of the article: not a headline, caption or link, and nothing that talks
    to a language model."""
    size = len(sentence)
    ends = sentence.rstrip("」』）)\"'”’").endswith(("。", "！", "？", ".", "!", "?"))
    return ((12 <= size <= 260) and (ends or size >= 40) and "http" not in sentence
            and fingerprint(sentence) not in headlines and not INSTRUCTION_LIKE.search(sentence))


class ExtractiveSummarizer:
    def __init__(self, finder: EntityFinder) -> None:
        self.finder = finder

    def summarize(self, digest: DigestInput) -> SummaryResult:
        words = phrases()[digest.language]
        summaries = [self.story_summary(story, digest) for story in digest.stories]
        figures = _Figures(digest, words)
        content = DigestContent(
            summary=figures.summary(),
            trend=figures.trend(),
            stories=summaries,
            analysis=Analysis(industry=figures.industry(), competition=figures.competition(),
                              market=figures.market()),
            key_points=figures.key_points(),
            developers=figures.developers(),
            users=figures.users(),
            tags=self._tags(digest),
        )
        return SummaryResult(content=content, generator="extractive")

    def story_summary(self, story: Story, digest: DigestInput) -> StorySummary:
        preferred = LANGUAGES[digest.language]
        in_language = [a for a in story.articles if a.language in preferred and (a.text or a.snippet)]
        pool = in_language or [a for a in story.articles if a.text or a.snippet] or story.articles[:1]
        headline_words = Counter[str]()
        for article in story.articles:
            headline_words.update(bigrams(article.title))
        headlines = {fingerprint(a.title) for a in story.articles}
        picked = _pick_sentences(pool, headline_words, headlines)
        cited = list(dict.fromkeys(a.id for a, _ in picked)) or [story.lead.id]
        title = next((a.title for a in pool if a.title), story.lead.title) or story.key
        paragraph = "".join(s if _is_cjk(s) else f"{s} " for _, s in picked).strip() or title
        note = ""
        if story.follow_up_day is not None:
            note = phrases()[digest.language]["follow_up"].format(day=story.follow_up_day.isoformat())
        # Articles come cleaned and capped (digest.sanitize); the cap here keeps the schema's
        # promise for any caller.
        title = cut(title, STORY_TITLE_MAX - len(note)) + note
        return StorySummary(story_key=story.key, title=title, paragraph=paragraph, cited=cited)

    def _tags(self, digest: DigestInput) -> list[str]:
        counts: Counter[str] = Counter()
        for story in digest.stories:
            names = set().union(*(self.finder.find(f"{a.title}\n{a.text[:800]}") for a in story.articles))
            counts.update(names)
        aliases = [digest.model.display, *digest.model.all_aliases[:3]]
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # ties: by name, stable
        return list(dict.fromkeys(aliases + [name for name, _ in ranked]))[:10]


def _is_cjk(sentence: str) -> bool:
    return bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]$", sentence.rstrip("。！？」』）)")))


def _pick_sentences(pool: list[StoryArticle], headline: Counter[str],
                    headlines: set[str]) -> list[tuple[StoryArticle, str]]:
    scored: list[tuple[float, int, int, StoryArticle, str]] = []
    for order, article in enumerate(pool):
        sentences = [s for s in split_sentences(article.text or article.snippet) if _usable(s, headlines)]
        for position, sentence in enumerate(sentences[:LEAD_SENTENCES]):
            grams = bigrams(sentence)
            overlap = sum(min(n, headline[g]) for g, n in grams.items()) / (1 + sum(grams.values())) ** 0.5
            scored.append((overlap - 0.15 * position - 0.3 * order, order, position, article, sentence))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    chosen: list[tuple[int, int, StoryArticle, str]] = []
    seen: list[set[str]] = []
    for _, order, position, article, sentence in scored:
        words = set(bigrams(sentence))
        if any(len(words & other) > NEAR_SAME * len(words | other) for other in seen):
            continue  # the same sentence, or a reworded one, from a syndicated copy
        seen.append(words)
        chosen.append((order, position, article, sentence))
        if len(chosen) == SENTENCES_PER_STORY:
            break
    return [(article, sentence) for _, _, article, sentence in sorted(chosen, key=lambda c: (c[0], c[1]))]


class _Figures:
    """The data-derived sentences, in one language."""

    def __init__(self, digest: DigestInput, words: dict[str, str]) -> None:
        self.digest, self.words = digest, words
        figures = digest.figures
        self.articles = sum(figures.mentions_by_category.values())
        self.outlets = len({o for s in digest.stories for o in s.outlets})
        self.top = digest.stories[0]
        earlier = [n for day, n in sorted(figures.trend.items()) if day < digest.day][-7:]
        self.average = sum(earlier) / 7 if any(earlier) else 0.0
        self.by_category = {c: figures.mentions_by_category.get(c, 0) for c in ("news", "social", "finance")}

    def _fmt(self, key: str, **values: Any) -> str:
        base = {"display": self.digest.model.display, "day": self.digest.day.isoformat(),
                "articles": self.articles, "outlets": self.outlets, "stories": len(self.digest.stories),
                "top": self.top.lead.title, "top_outlets": len(self.top.outlets), **self.by_category}
        return self.words[key].format(**{**base, **values})

    def _quote(self, text: str) -> str:
        return self.words["quote"].format(text)

    def _versus(self) -> str:
        if not self.average:
            return self._fmt("versus_none")
        change = round((self.articles - self.average) / self.average * 100)
        key = "versus_up" if change > 0 else "versus_down" if change < 0 else "versus_flat"
        return self._fmt(key, average=f"{self.average:.1f}", percent=abs(change))

    def summary(self) -> str:
        titles = self.words["separator"].join(self._quote(s.lead.title) for s in self.digest.stories[:2])
        return self._fmt("summary", titles=titles)

    def trend(self) -> str:
        return self._fmt("trend", versus=self._versus())

    def industry(self) -> str:
        multi = sum(1 for s in self.digest.stories if len(s.outlets) > 1)
        return self._fmt("industry", multi=multi, outlets=self.words["separator"].join(self.top.outlets))

    def competition(self) -> str:
        mentioned = sorted(self.digest.figures.co_mentioned.items(), key=lambda kv: (-kv[1], kv[0]))
        if not mentioned:
            return self._fmt("competition_none")
        names = self.words["separator"].join(
            f"{self.digest.competitors.get(key, key)} ({count})" for key, count in mentioned)
        return self._fmt("competition", models=names)

    def market(self) -> str:
        tickers = ", ".join(self.digest.figures.tickers) or "-"
        titles = self.digest.figures.finance_titles
        if not titles:
            return self._fmt("market_none", tickers=tickers)
        quoted = self.words["separator"].join(self._quote(t) for t in titles[:3])
        return self._fmt("market", count=len(titles), tickers=tickers, titles=quoted)

    def key_points(self) -> list[str]:
        points = [self._fmt("point_story", title=s.lead.title, outlets=len(s.outlets))
                  for s in self.digest.stories[:6]]
        points.append(self._fmt("point_volume", versus=self._versus()))
        points.append(self._fmt("point_categories"))
        while len(points) < 4:
            points.append(self.trend())
        return points[:8]

    def developers(self) -> list[str]:
        social = [a for s in self.digest.stories for a in s.articles if a.category == "social"]
        lines = [self._fmt("developers_story", title=a.title, outlet=a.outlet) for a in social[:3]]
        for story in self.digest.stories:
            if len(lines) >= 2:
                break
            lines.append(self._fmt("developers_default", title=story.lead.title))
        return _two_to_four(lines, [self._fmt("users_default"), self._fmt("point_categories")])

    def users(self) -> list[str]:
        news = [s.lead for s in self.digest.stories if s.lead.category != "social"]
        lines = [self._fmt("users_story", title=a.title, outlet=a.outlet) for a in news[:3]]
        return _two_to_four(lines, [self._fmt("users_default"), self._fmt("point_categories")])


def _two_to_four(lines: list[str], fillers: list[str]) -> list[str]:
    """2–4 distinct bullets: the data-derived ones first, then the general ones as needed."""
    distinct = list(dict.fromkeys(lines))[:4]
    for filler in fillers:
        if len(distinct) >= 2:
            break
        if filler not in distinct:
            distinct.append(filler)
    return distinct
