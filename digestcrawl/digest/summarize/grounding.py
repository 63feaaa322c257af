"""Is a digest grounded in its articles? Checks on every section an LLM writes.

A story summary is grounded when every article id it cites belongs to its story, and every
number, every Latin-script name, every configured entity (``entities.yaml``, any spelling) and
every quotation in its title and paragraph appears in a cited article's title, text or snippet.
The other sections (summary, trend, analysis, key points, developers, users) cite nothing, so
each of their sentences is checked the same way against all of the digest's articles and the
day's figures; ``ground_sections`` walks the section table (``digest.sections``: each row's
grounding rule), drops a sentence (a list item) that fails and, where nothing is left of a
section (or a list is short of its minimum), takes the offline summarizer's text.
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
from typing import Any

from pydantic import BaseModel

from digestcrawl.digest.firstparty import DOWNLOAD_WORDS, download_changes
from digestcrawl.digest.model import SECTIONS, DigestContent, DigestInput, StoryArticle, StorySummary
from digestcrawl.digest.sections import Grounding, Row
from digestcrawl.digest.summarize.extractive import INSTRUCTION_LIKE
from digestcrawl.text import HAN, MULTIPLIERS, EntityFinder, fold, reads_as_chinese, split_sentences

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
    chinese: bool = False  # the post is Chinese: a sentence in another language grounds nothing

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
        sources = cls(text, downloads, chinese=digest.language.is_chinese)
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
    if sources.chinese and not short_ok and not reads_as_chinese(written):
        problems.append(f"not written in Chinese: {written[:60]!r}")
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
    # A story no article tells in the post's language is shown by its original title alone
    # (publish.context.own_text): its paragraph is never shown, so its language is not checked.
    sources.chinese = sources.chinese and any(a.language in digest.language.article_languages for a in story.articles)
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


class _SectionGrounder:
    """``ground_sections``' walk over the section table, with what it dropped and replaced."""

    def __init__(self, digest: DigestInput, offline: Callable[[], DigestContent],
                 finder: EntityFinder | None) -> None:
        articles = [a for story in digest.stories for a in story.articles]
        self.sources = Sources.of(digest, articles, finder, figures=True)
        self.known = normalise(_known(digest)).casefold()
        self.finder, self.offline = finder, offline
        self.dropped: dict[str, list[str]] = {}
        self.replaced: list[str] = []
        self._spare: DigestContent | None = None

    def spare(self, path: tuple[str, ...]) -> Any:
        """The offline summarizer's value at ``path``, asked for once, when first needed."""
        if self._spare is None:
            self._spare = self.offline()
        value: Any = self._spare
        for key in path:
            value = getattr(value, key)
        return value

    def check(self, text: str) -> list[str]:
        return check_text(text, self.sources, self.finder)

    def model(self, value: BaseModel, rows: tuple[Row, ...], path: tuple[str, ...] = ()) -> dict[str, Any]:
        """The grounded value of each row's field of ``value`` (the stories are check_content's)."""
        return {row.key: self.field(getattr(value, row.key), row, (*path, row.key))
                for row in rows if row.section.grounding is not Grounding.STORIES}

    def field(self, value: Any, row: Row, path: tuple[str, ...]) -> Any:
        name = ".".join(path)
        problems = self.dropped.setdefault(name, [])
        rule = row.section.grounding
        if rule is Grounding.PARTS:
            return value.model_copy(update=self.model(value, row.parts, path))
        if rule is Grounding.SENTENCES:
            kept = _sentences_kept(value, self.check, problems)
            if not kept:
                self.replaced.append(name)
                return self.spare(path)
            return kept if problems else value
        if rule is Grounding.ITEMS:
            return self.items(value, row.section.minimum, path, problems)
        return list(dict.fromkeys(tag for name in value if (tag := self.tag(name, problems))))

    def items(self, items: list[str], minimum: int, path: tuple[str, ...], problems: list[str]) -> list[str]:
        kept = []
        for item in items:
            found = [p for sentence in split_sentences(item) or [item] for p in self.check(sentence)]
            if found:
                problems.append(f"{item[:60]!r}: {'; '.join(found)}")
            else:
                kept.append(item)
        if len(kept) < minimum:
            self.replaced.append(".".join(path))
            kept += [i for i in self.spare(path) if i not in kept][: minimum - len(kept)]
        return kept

    def tag(self, tag: str, problems: list[str]) -> str | None:
        """``tag`` when the articles (or the configuration) name it, else None; in a Chinese post
        a name in another script is the entity's Chinese name (entities.yaml), or left out."""
        folded = normalise(tag).casefold().strip()
        entities = self.finder.entities_named(tag) if self.finder is not None else set()
        named = folded in self.known or re.search(rf"(?<![a-z0-9]){re.escape(folded)}", self.sources.folded)
        if not folded or not (named or (entities and entities <= self.sources.entities)):
            problems.append(f"tag {tag!r} names nothing in the articles")
            return None
        if not self.sources.chinese or HAN.search(tag) or self.finder is None:
            return tag
        chinese = [name for entity in sorted(entities) if (name := self.finder.chinese_name(entity))]
        if len(chinese) == 1:
            return chinese[0]
        problems.append(f"tag {tag!r} has no Chinese name")
        return None


def ground_sections(content: DigestContent, digest: DigestInput, offline: Callable[[], DigestContent],
                    finder: EntityFinder | None = None) -> Grounded:
    """Every section but the stories, grounded by its row's rule (see the module docstring);
    ``offline`` gives the offline summarizer's content, asked for only when needed."""
    walk = _SectionGrounder(digest, offline, finder)
    grounded = content.model_copy(update=walk.model(content, SECTIONS))
    return Grounded(grounded, {k: v for k, v in walk.dropped.items() if v}, walk.replaced)
