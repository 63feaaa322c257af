"""The digest's data: what summarizers read (``DigestInput``) and write (``DigestContent``).

Everything a summarizer may say about a day comes from ``DigestInput``: the stories with their
stored articles, and the day's figures. ``DigestContent`` is also the JSON schema the LLM must
answer in; the renderer turns it into the Jekyll post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from digestcrawl.config import ModelConfig
from digestcrawl.digest.sections import Grounding, Section, Slot, sections
from digestcrawl.languages import Language

STORY_TITLE_MAX = 200


def host_of(url: str) -> str:
    """The URL's host, or "" when it has none (or none a parser can read: "http://[::1")."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


@dataclass(frozen=True)
class StoryArticle:
    """One stored article as a story cites it."""

    id: int
    url: str
    title: str
    text: str
    snippet: str
    source: str  # the source config name (udn, hacker_news, …)
    category: str  # news | social | finance | release | paper
    publisher: str  # display name of the outlet
    language: str | None
    published: datetime | None  # published time, else first-seen time; timezone-aware
    score: int  # relevance score for the digest's model
    duplicate_of: str | None = None  # original's URL when this is a syndicated copy
    site_name: str = ""  # the page's og:site_name, when it gave one
    placement: str | None = None  # where the model is first named: title, lead or body (None: not stored)
    hits: int = 0  # how often the model is named in title and text
    feed_url: str = ""  # the feed, listing or API that listed it
    via: str = ""  # the aggregator or community it came through (Hacker News, r/LocalLLaMA), if any

    @property
    def outlet(self) -> str:
        return self.publisher or host_of(self.url) or self.source


@dataclass
class Story:
    """Articles about one event, across sites and languages, best article first."""

    key: str  # stable: derived from the member URLs
    articles: list[StoryArticle]
    rank: float = 0.0
    follow_up_of: str | None = None  # key of an earlier day's story this continues
    follow_up_day: date | None = None

    @property
    def lead(self) -> StoryArticle:
        return self.articles[0]

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(a.outlet for a in self.articles))


@dataclass(frozen=True)
class LooseMember:
    """An article its story holds by a weak link: on average, it is likely the same story as
    the story's other articles by less than the bar (group.stories.MERGE_PROBABILITY) + the band: the merges a
    second opinion (``MergeCheck``) may undo."""

    story_key: str
    article: StoryArticle
    others: tuple[StoryArticle, ...]  # the story's other originals, best held first
    probability: float
    ties: frozenset[str] = frozenset()  # URLs of the story's other loose members likely its story


@dataclass(frozen=True)
class MergeCheck:
    """A second opinion on the loose merges of a day's grouping: ``ask`` is given the stories and
    the members held within ``band`` above the bar, and answers with those that belong elsewhere."""

    band: float
    ask: Callable[[list[Story], list[LooseMember]], list[LooseMember]]


@dataclass(frozen=True)
class RepoTrend:
    """A model repository's downloads over the trend window, from the stored series
    (digestcrawl.items.RepoStats): the first and the last reading in the window."""

    repo: str
    url: str
    source: str
    downloads: int  # the last reading, on or before the digest day
    last_day: date
    previous: int | None  # the first reading in the window, when it is on an earlier day
    first_day: date | None
    likes: int | None
    series: tuple[tuple[date, int], ...]  # every reading in the window, oldest first

    @property
    def change(self) -> float | None:
        """The relative change from the first reading to the last (0.38 for +38%)."""
        if self.previous is None or self.previous <= 0:
            return None
        return (self.downloads - self.previous) / self.previous


@dataclass(frozen=True)
class DayFigures:
    """Data-derived facts the analysis sections may cite."""

    mentions_by_category: dict[str, int]  # news/social/finance → articles today
    trend: dict[date, int]  # the last 7 days (digest day included) → articles per day
    co_mentioned: dict[str, int]  # other watched model key → articles mentioning both
    tickers: tuple[str, ...]  # the model's company tickers
    finance_titles: tuple[str, ...]  # titles of today's finance-source articles
    earlier_entities: frozenset[str] | None = None  # names in the previous days' articles; None: unknown
    repo_trends: tuple[RepoTrend, ...] = ()  # the model's repositories, largest downloads first
    stories: int | None = None  # the day's stories, shown or not; None: those the digest holds
    sources: int | None = None  # the day's distinct outlets; None: those of the digest's stories


@dataclass(frozen=True)
class PostCounts:
    """The one set of numbers a post states (summary, trend, tagline, footer): the day's
    articles, their outlets and stories; ``by_category`` adds up to ``articles``."""

    articles: int
    sources: int
    stories: int
    by_category: dict[str, int]


@dataclass
class LLMSpent:
    """What a digest's LLM calls cost, the one count of it: the calls add to it as they go; the
    merge check's is carried into the summary's, which counts on from it, within one call budget
    and one deadline."""

    llm_calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    malformed: int = 0
    seconds: float = 0.0


@dataclass
class DigestInput:
    model_key: str
    model: ModelConfig
    day: date
    language: Language
    stories: list[Story]
    figures: DayFigures
    competitors: dict[str, str] = field(default_factory=dict)  # key → display name
    # The day's checkpoints, releases and papers (articles of category release/paper), whichever
    # story they are in: the post lists them all (``firstparty``).
    first_party: tuple[StoryArticle, ...] = ()
    spent: LLMSpent = field(default_factory=LLMSpent)

    def __post_init__(self) -> None:
        self.language = Language(self.language)  # a plain "zh-TW" from a caller is the enum's member

    @property
    def counts(self) -> PostCounts:
        figures = self.figures
        by_category = {category: n for category, n in figures.mentions_by_category.items() if n}
        sources = figures.sources
        if sources is None:
            sources = len({outlet for story in self.stories for outlet in story.outlets})
        stories = figures.stories if figures.stories is not None else len(self.stories)
        return PostCounts(sum(by_category.values()), sources, stories, by_category)

    def article(self, article_id: int) -> StoryArticle | None:
        for story in self.stories:
            for article in story.articles:
                if article.id == article_id:
                    return article
        return None


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StorySummary(_Schema):
    story_key: str
    title: str = Field(min_length=1, max_length=STORY_TITLE_MAX)
    paragraph: str = Field(min_length=1)
    cited: list[int] = Field(min_length=1)  # StoryArticle ids the paragraph rests on


class Analysis(_Schema):  # the analysis section's parts (no docstring: it would join the LLM's schema)
    industry: Annotated[str, Section("industry", "", Grounding.SENTENCES, "industry", Slot.PARAGRAPH)]
    competition: Annotated[str, Section("competition", "", Grounding.SENTENCES, "competition", Slot.PARAGRAPH)]
    market: Annotated[str, Section("market", "", Grounding.SENTENCES, "market", Slot.PARAGRAPH)]


# The section table (digest.sections): each field one section, in the post's order.
class DigestContent(_Schema):
    summary: Annotated[str, Section(  # the summary box (ai_summary): plain text
        None, "two to four plain sentences, no Markdown", Grounding.SENTENCES, "summary", Slot.FRONT_MATTER,
        precedence=None)]
    trend: Annotated[str, Section(
        "trend", "one paragraph", Grounding.SENTENCES, "trend", Slot.PARAGRAPH, precedence=4)]
    stories: Annotated[list[StorySummary], Field(min_length=1), Section(  # rule 2 of the prompt says them
        "news", "", Grounding.STORIES, "stories", Slot.STORIES, precedence=0)]
    analysis: Annotated[Analysis, Section(
        "analysis", "industry significance, competitors, market impact", Grounding.PARTS, "analysis",
        Slot.LABELLED, precedence=3)]
    key_points: Annotated[list[str], Field(min_length=4, max_length=8), Section(
        "key_points", "four to eight one-line items", Grounding.ITEMS, "key_points", Slot.LIST,
        minimum=4, maximum=8, precedence=5)]
    developers: Annotated[list[str], Field(min_length=2, max_length=4), Section(
        "developers", "two to four items", Grounding.ITEMS, "developers", Slot.GROUPED, group="thoughts",
        minimum=2, maximum=4, precedence=1)]
    # Product and availability facts: a day without any has none (no counts to fill it).
    users: Annotated[list[str], Field(max_length=4), Section(
        "users", "up to four product or availability facts", Grounding.ITEMS,
        "users", Slot.GROUPED, group="thoughts", maximum=4, precedence=2)]
    tags: Annotated[list[str], Field(default_factory=list, max_length=10), Section(
        None, "at most ten names the articles use", Grounding.NAMES, "tags", Slot.FRONT_MATTER, maximum=10)]


SECTIONS = sections(DigestContent)


class MergeVerdict(_Schema):
    id: int  # the question's id
    same: bool  # the article reports the same event as the story: keep the merge


class MergeVerdicts(_Schema):
    """The LLM's answer to the merge check (``digestcrawl.digest.summarize.prompt.merge_messages``)."""

    verdicts: list[MergeVerdict]


@dataclass
class SummaryResult:
    content: DigestContent
    generator: str  # "extractive" or "llm:<model name>"
    fallback_reason: str | None = None  # why an LLM digest fell back to extractive
    fallback_kind: str | None = None  # the reason's class (timeout, deadline, malformed_body, …)
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    malformed: int = 0  # LLM response bodies that were no chat completion
    ungrounded: int = 0  # generated sentences, list items and tags dropped by the grounding check
    replaced_sections: list[str] = field(default_factory=list)  # sections given the offline text

    @property
    def summary_by_llm(self) -> bool:
        """Whether a language model wrote the summary box (not the offline text in its place)."""
        return self.generator.startswith("llm:") and "summary" not in self.replaced_sections


class Summarizer(Protocol):
    def summarize(self, digest: DigestInput) -> SummaryResult: ...
