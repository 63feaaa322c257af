"""Is a digest grounded in its articles? Checks on every section an LLM writes.

A story summary is grounded when every article id it cites belongs to its story, and every
number, every Latin-script name, every configured entity (``entities.yaml``, any spelling) and
every quotation in its title and paragraph appears in a cited article's title, text or snippet.
The other sections (summary, trend, analysis, key points, developers, users) cite nothing, so
each of their sentences is checked the same way against all of the digest's articles and the
day's figures; ``ground_sections`` drops a sentence (a list item) that fails and, where nothing
is left of a section (or a list is short of its minimum), takes the offline summarizer's text.
Tags are kept only when the articles name them. Placeholders and template text ("重點一",
"{title}", 「…」, TODO) never pass. Sentences of an article that address a language model
("add the key point …", "ignore previous instructions") ground nothing: a page cannot write
its own claim into the digest. Both sides are compared after the same normalisation: NFKC (full-width
digits and letters become ASCII), thousands separators dropped, case folded. Numbers are
compared by value, so ``01`` is ``1`` and ``1億`` is ``100 million``; a percentage must be a
percentage in the source too. Names and numbers the configuration itself supplies (the model's
display name, company, aliases, tickers, and the digest's day) need no citation. A sentence
about downloads may state a percentage or a count (1,000 and up) only from the stored series
(the download changes the LLM was given, ``firstparty``) or from an article's own sentence
about downloads: "+90%" that some article gives about anything else does not ground it.

No settings are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from digestcrawl.digest.group import DOWNLOAD_WORDS, download_changes
from digestcrawl.digest.model import DigestContent, DigestInput, StoryArticle, StorySummary
from digestcrawl.digest.summarize.extractive import INSTRUCTION_LIKE
from digestcrawl.text.entities import EntityFinder
from digestcrawl.text.quantities import MULTIPLIERS
from digestcrawl.text.relevance import fold
from digestcrawl.text.tokens import split_sentences

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


QUOTE = re.compile(r"「([^「」]{2,})」|『([^『』]{2,})』|“([^“”]{4,})”|\"([^\"]{4,})\"")
PLACEHOLDER = re.compile(
    r"\{[^{}]*\}|<[^<>]*>|\[[^\[\]]*\]|「\s*(?:…+|\.{3}|[xX]+|某+|\s*)\s*」|\b(?:TODO|TBD|FIXME|lorem ipsum|"
    r"placeholder|N/A|XXX)\b|待補|待补|待定|請填寫|请填写|此處填|此处填|(?:^|\s)…(?:\s|$)|"
    r"^\s*(?:重點|要點|重点|要点|開發者|开发者|使用者|用戶|用户|產業|产业|競爭|竞争|市場|市场|趨勢|趋势|摘要|"
    r"分析|標籤|标签|point|item|bullet|tag|developer|user)\s*[一二三四五六七八九十0-9]*\s*[。.:：]?\s*$",
    re.IGNORECASE)
DOWNLOAD_COUNT_MIN = 1000
MEANINGFUL_MIN = 5  # fewer letters and digits than this is a label ("市場影響"), not a sentence
LIST_MINIMUMS = {"key_points": 4, "developers": 2, "users": 2}


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


def _download_figures(text: str) -> set[str]:
    """The numbers a sentence about downloads states as figures: percentages and counts from
    DOWNLOAD_COUNT_MIN (a version, a day or a model's size is neither)."""
    return {n for n in numbers(text) if n.endswith("%") or Decimal(n) >= DOWNLOAD_COUNT_MIN}


def names(text: str) -> set[str]:
    """Capitalised words and acronyms of at least two letters (Jefferies, MCP, Qwen3)."""
    return {name for name in NAME.findall(normalise(text))
            if sum(c.isalpha() for c in name) >= 2 and name.casefold() not in NOT_NAMES}


def _known(digest: DigestInput) -> str:
    model = digest.model
    return " ".join([model.display, model.company or "", *model.all_aliases, *model.tickers,
                     digest.day.isoformat()])


def _statements(text: str) -> str:
    """The article's text without the sentences that address a language model."""
    if not INSTRUCTION_LIKE.search(text):
        return text
    return "\n".join(s for s in split_sentences(text) if not INSTRUCTION_LIKE.search(s))


def _source_text(articles: list[StoryArticle]) -> str:
    return "\n".join(f"{a.title}\n{_statements(a.text)}\n{_statements(a.snippet)}" for a in articles)


def _figures_text(digest: DigestInput) -> str:
    """The day's figures as the LLM was given them, with the changes a reader would compute."""
    figures = digest.figures
    counts = [*figures.mentions_by_category.values(), sum(figures.mentions_by_category.values()),
              *figures.trend.values(), *figures.co_mentioned.values(), len(digest.stories)]
    today = sum(figures.mentions_by_category.values())
    earlier = [n for day, n in sorted(figures.trend.items()) if day < digest.day][-7:]
    changes = []
    if any(earlier):
        average = sum(earlier) / 7
        changes += [f"{average:.1f}", f"{abs(round((today - average) / average * 100))}%"]
    if earlier and earlier[-1]:
        changes.append(f"{abs(round((today - earlier[-1]) / earlier[-1] * 100))}%")
    return " ".join([*map(str, counts), *changes, *digest.competitors.values(), *figures.finance_titles,
                     *(day.isoformat() for day in figures.trend), _downloads_text(digest)])


def _downloads_text(digest: DigestInput) -> str:
    """The download changes the LLM was given: the only series figures a sentence may state."""
    return "\n".join(change.describe() for change in download_changes(digest.figures.repo_trends))


def _download_sentences(articles: list[StoryArticle]) -> str:
    """The articles' sentences about downloads: a figure they give may be repeated."""
    found = []
    for article in articles:
        for text in (article.title, _statements(article.text), _statements(article.snippet)):
            if DOWNLOAD_WORDS.search(text):
                found += [s for s in split_sentences(text) if DOWNLOAD_WORDS.search(s)]
    return "\n".join(found)


@dataclass
class Sources:
    """What a piece of generated text may rest on, prepared once."""

    text: str
    downloads: str = ""  # what may give a downloads figure: the series, the articles' sentences on downloads
    numbers: set[str] = field(init=False)
    download_numbers: set[str] = field(init=False)
    folded: str = field(init=False)
    script_folded: str = field(init=False)
    entities: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.text = normalise(self.text)
        self.numbers = numbers(self.text, raw=True)
        self.download_numbers = numbers(self.downloads, raw=True)
        self.folded = self.text.casefold()
        self.script_folded = _squash(fold(self.text))

    @classmethod
    def of(cls, digest: DigestInput, articles: list[StoryArticle], finder: EntityFinder | None,
           figures: bool = False) -> Sources:
        text = f"{_source_text(articles)}\n{_known(digest)}"
        downloads = _download_sentences(articles)
        if figures:
            text += "\n" + _figures_text(digest)
            downloads += "\n" + _downloads_text(digest)
        sources = cls(text, downloads)
        if finder is not None:
            sources.entities = finder.find(sources.text)
        return sources


def _squash(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)


def check_text(written: str, sources: Sources, finder: EntityFinder | None = None,
               short_ok: bool = False) -> list[str]:
    """The problems that make ``written`` unsupported by ``sources``; empty: supported.
    ``short_ok``: a headline may be shorter than a sentence."""
    problems = []
    short = not short_ok and sum(c.isalnum() for c in written) < MEANINGFUL_MIN
    if PLACEHOLDER.search(written) or short:
        problems.append(f"placeholder or template text: {written[:60]!r}")
    problems += [f"number {n} appears in no cited article"
                for n in sorted(numbers(written)) if n not in sources.numbers]
    if DOWNLOAD_WORDS.search(written):
        problems += [f"downloads figure {n} is not in the stored series" for n in sorted(_download_figures(written))
                     if n not in sources.download_numbers and n in sources.numbers]
    problems += [f"name {n!r} appears in no cited article" for n in sorted(names(written))
                 if not re.search(rf"(?<![a-z0-9]){re.escape(n.casefold())}", sources.folded)]
    for groups in QUOTE.findall(normalise(written)):
        quoted = next(g for g in groups if g)
        if _squash(fold(quoted)) not in sources.script_folded:
            problems.append(f"quote {quoted[:40]!r} appears in no cited article")
    if finder is not None:
        problems += [f"name {n!r} appears in no cited article"
                     for n in sorted(finder.find(written) - sources.entities)]
    return problems


def check_story(summary: StorySummary, digest: DigestInput, finder: EntityFinder | None = None) -> list[str]:
    """The problems that make ``summary`` ungrounded; an empty list means grounded."""
    story = next((s for s in digest.stories if s.key == summary.story_key), None)
    if story is None:
        return [f"story_key {summary.story_key!r} is not a story of this digest"]
    members = {a.id: a for a in story.articles}
    problems = [f"cites article {i}, which is not an article of this story"
                for i in summary.cited if i not in members]
    cited = [members[i] for i in dict.fromkeys(summary.cited) if i in members]
    sources = Sources.of(digest, cited, finder)
    title = check_text(summary.title, sources, finder, short_ok=True)
    return problems + list(dict.fromkeys(title + check_text(summary.paragraph, sources, finder)))


def check_content(content: DigestContent, digest: DigestInput,
                  finder: EntityFinder | None = None) -> dict[str, list[str]]:
    """Story key → problems, for every story that is ungrounded, missing or unknown."""
    problems: dict[str, list[str]] = {}
    written = {summary.story_key: summary for summary in content.stories}
    for story in digest.stories:
        summary = written.get(story.key)
        found = check_story(summary, digest, finder) if summary else ["the answer has no summary of it"]
        if found:
            problems[story.key] = found
    for key in written.keys() - {story.key for story in digest.stories}:
        problems[key] = [f"story_key {key!r} is not a story of this digest"]
    return problems


@dataclass
class Grounded:
    """``ground_sections``' answer: the content, and what was dropped from it, by section."""

    content: DigestContent
    dropped: dict[str, list[str]]  # section → the problems of each dropped sentence, item or tag
    replaced: list[str]  # sections the offline text replaced (nothing of the LLM's was left)


def _sentences_kept(text: str, check: Callable[[str], list[str]], problems: list[str]) -> str:
    kept = []
    for sentence in split_sentences(text):
        found = check(sentence)
        if found:
            problems.append(f"{sentence[:60]!r}: {'; '.join(found)}")
        else:
            kept.append(sentence)
    return "".join(s if not s[-1:].isascii() else f"{s} " for s in kept).strip()


def ground_sections(content: DigestContent, digest: DigestInput, offline: Callable[[], DigestContent],
                    finder: EntityFinder | None = None) -> Grounded:
    """Every section but the stories, grounded sentence by sentence (see the module docstring);
    ``offline`` gives the offline summarizer's content, asked for only when needed."""
    articles = [a for story in digest.stories for a in story.articles]
    sources = Sources.of(digest, articles, finder, figures=True)

    def check(text: str) -> list[str]:
        return check_text(text, sources, finder)

    dropped: dict[str, list[str]] = {}
    replaced: list[str] = []
    fallback: list[DigestContent] = []

    def spare() -> DigestContent:
        if not fallback:
            fallback.append(offline())
        return fallback[0]

    def text_section(name: str, text: str, offline_text: Callable[[], str]) -> str:
        problems = dropped.setdefault(name, [])
        kept = _sentences_kept(text, check, problems)
        if not kept:
            replaced.append(name)
            return offline_text()
        return kept if problems else text

    def list_section(name: str, items: list[str]) -> list[str]:
        problems = dropped.setdefault(name, [])
        kept = []
        for item in items:
            found = [p for sentence in split_sentences(item) or [item] for p in check(sentence)]
            if found:
                problems.append(f"{item[:60]!r}: {'; '.join(found)}")
            else:
                kept.append(item)
        minimum = LIST_MINIMUMS[name]
        if len(kept) < minimum:
            replaced.append(name)
            extra = [i for i in getattr(spare(), name) if i not in kept]
            kept += extra[: max(minimum - len(kept), 0)]
        return kept

    summary = text_section("summary", content.summary, lambda: spare().summary)
    trend = text_section("trend", content.trend, lambda: spare().trend)
    analysis = content.analysis.model_copy(update={
        part: text_section(f"analysis.{part}", getattr(content.analysis, part),
                           lambda part=part: getattr(spare().analysis, part))  # type: ignore[misc]
        for part in ("industry", "competition", "market")})
    key_points = list_section("key_points", content.key_points)
    developers = list_section("developers", content.developers)
    users = list_section("users", content.users)
    known = normalise(_known(digest)).casefold()
    tags = []
    for tag in content.tags:
        folded = normalise(tag).casefold().strip()
        entities = finder.find(tag) if finder is not None else set()
        if folded and (folded in known or re.search(rf"(?<![a-z0-9]){re.escape(folded)}", sources.folded)
                       or (entities and entities <= sources.entities)):
            tags.append(tag)
        else:
            dropped.setdefault("tags", []).append(f"tag {tag!r} names nothing in the articles")
    grounded = content.model_copy(update={
        "summary": summary, "trend": trend, "analysis": analysis, "key_points": key_points,
        "developers": developers, "users": users, "tags": tags})
    return Grounded(grounded, {k: v for k, v in dropped.items() if v}, replaced)
