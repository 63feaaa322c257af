"""The offline summarizer: sentences picked from the stored articles, figures from the database.

Each story's paragraph is two or three sentences taken verbatim from its articles: the most
central ones across its sources (LexRank over TF-IDF, ``lexrank``), without repeats (MMR), in
the output language when the story has articles in it, in the order they were written. The
other sections say only what the data says, and say it briefly: the trend from counts and
their change (previous 7 days, previous day), the largest repositories' download changes from
the stored series (``firstparty.download_changes``) and the names and figures several stories share;
the analysis from what changed since the previous days (follow-ups, new stories, names not
seen before), the other watched models mentioned and the finance sources' news; one key point
per story (its most central sentence); developers' and users' notes from the articles'
sentences on technical or product matters. Phrases come from ``templates/extractive.yaml``;
nothing is invented. The renderer converts the result to the output script (zh-TW: OpenCC
``s2twp``, phrase level).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from digestcrawl.digest.firstparty import download_changes
from digestcrawl.digest.model import (
    SECTIONS,
    STORY_TITLE_MAX,
    Analysis,
    DigestContent,
    DigestInput,
    Story,
    StoryArticle,
    StorySummary,
    SummaryResult,
)
from digestcrawl.digest.read import cut, is_junk
from digestcrawl.digest.sections import Row, sections
from digestcrawl.digest.summarize.lexrank import centrality, mmr, tfidf
from digestcrawl.digest.summarize.once import each_fact_once
from digestcrawl.languages import Language
from digestcrawl.text import (
    HAN,
    MULTIPLIERS,
    EntityFinder,
    bigrams,
    fingerprint,
    fold,
    reads_as_chinese,
    split_sentences,
    squash_spaces,
)

# Text that addresses a language model or a digest writer is never quoted into a digest.
INSTRUCTION_LIKE = re.compile(
    r"ignore (all |any )?(previous|prior|above|earlier) instructions|disregard (the )?(previous|above)|"
    r"system prompt|(?:language model|assistant|summar(?:y|izer|ise|ize)|digest)s?\b.{0,40}\b(?:must|should)\b|"
    r"\b(?:add|include|write|publish)\b.{0,30}\b(?:key point|tag|summary|digest)|"
    r"忽略(之前|先前|以上|上述)的?(所有)?指令|忽視(之前|先前|以上)的?指令|"
    r"(?:摘要|重點|重点|標籤|标签|文摘)中?(?:必須|必须|請|请|應|应)(?:寫|写|加入|列入|包含)",
    re.IGNORECASE)
SENTENCES_PER_STORY = 3
PARAGRAPH_CHARS = 160  # a third sentence only while the paragraph is shorter than this
SENTENCES_PER_ARTICLE = 40  # the lead of a long text says what the event is
SENTENCES_PER_STORY_MAX = 400  # bounds the similarity matrix of a story of many articles: leads first
MAX_KEY_POINTS = 8
NOTE_NEAR = 0.2  # bigram Jaccard at which a note repeats a key point or another note
NOTE_CANDIDATES = 6  # of each story's most central sentences, those a reader group's note may be
SAME_FACT_NAMES = 3  # names a note shares with a said sentence, and no other, to be its rewording
NEAR_SAME = 0.18  # cosine at which two sentences say the same thing (a reworded syndicated lead)
DEVELOPER_WORDS = re.compile(
    r"開源|开源|API|SDK|GitHub|Hugging ?Face|模型|參數|参数|開發|开发|程式|程序|代碼|代码|推理|訓練|训练|"
    r"benchmark|基準|基准|MCP|Agent|open.?source|developer|model|weights|inference|token", re.IGNORECASE)
# What only developers act on: a user's note is a product or availability fact, not these.
CODE_WORDS = re.compile(r"Hugging ?Face|GitHub|API|SDK|開源|开源|權重|权重|參數|参数|benchmark|weights", re.IGNORECASE)
USER_WORDS = re.compile(
    r"App|用戶|用户|使用者|上線|上线|推出|功能|下載|下载|價格|价格|免費|免费|訂閱|订阅|服務|服务|支付|"
    r"users?|launch|available|price|free|subscription|app\b|アプリ|利用者", re.IGNORECASE)
WORDS = re.compile(r"[^\W\d_]")  # letters and Han characters: "（-）" has none
PERCENT_BASE_MIN = 5  # a change from a smaller average is given as counts, not a percentage
# Quantities worth repeating in a trend line: with a unit (1億, 3%, 100 million), not bare.
QUANTITY = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|％|萬|万|億|亿|million|billion|trillion)", re.IGNORECASE)


@lru_cache(maxsize=1)
def phrases() -> dict[str, dict[str, str]]:
    text = resources.files("templates").joinpath("extractive.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(text)
    return data


def usable(sentence: str, headlines: frozenset[str] | set[str] = frozenset()) -> bool:
    """A real sentence of the article: not a headline, caption, link or page junk, and nothing
    that talks to a language model."""
    size = len(sentence)
    # ；ends a clause, not a sentence: "…的管理機制；" alone is a fragment.
    ends = sentence.rstrip("」』）)\"'”’").endswith(("。", "！", "？", ".", "!", "?"))
    # A line with no end mark is a subhead, caption or link, one ending in an ellipsis a teaser:
    # never a sentence of a paragraph.
    ends = ends and not sentence.endswith(("...", "…"))
    return ((12 <= size <= 260) and ends and "http" not in sentence and len(WORDS.findall(sentence)) >= 8
            and not INSTRUCTION_LIKE.search(sentence) and not is_junk(sentence)
            and fingerprint(sentence) not in headlines)


@dataclass(frozen=True)
class Sentence:
    article: StoryArticle
    text: str
    order: int  # the article's place in the story
    position: int  # the sentence's place in the article


@dataclass
class _Ranked:
    """A story's sentences, most central first, and the paragraph chosen from them."""

    story: Story
    sentences: list[Sentence]  # most central first
    picked: list[Sentence]  # in reading order

    @property
    def central(self) -> Sentence | None:
        return self.sentences[0] if self.sentences else None


def story_sentences(story: Story, language: Language) -> list[Sentence]:
    """The story's usable sentences, from its articles in the output language when it has any.

    A Chinese post quotes Chinese sentences only: a story told in another language alone has
    none (the post lists it by its original title, marked with its language)."""
    preferred = language.article_languages
    with_text = [a for a in story.articles if a.text or a.snippet]
    pool = [a for a in with_text if a.language in preferred]
    if not language.is_chinese:
        pool = pool or with_text
    headlines = {fingerprint(a.title) for a in story.articles}
    found: list[Sentence] = []
    seen: set[str] = set()
    for order, article in enumerate(pool):
        sentences = split_sentences(article.text or article.snippet)[:SENTENCES_PER_ARTICLE]
        for position, sentence in enumerate(sentences):
            key = fingerprint(sentence)
            if key not in seen and usable(sentence, headlines) and in_language(sentence, language):
                seen.add(key)
                found.append(Sentence(article, sentence, order, position))
    if len(found) > SENTENCES_PER_STORY_MAX:
        found = sorted(sorted(found, key=lambda s: (s.position, s.order))[:SENTENCES_PER_STORY_MAX],
                       key=lambda s: (s.order, s.position))
    return found


def in_language(text: str, language: Language) -> bool:
    """Whether ``text`` may stand in a post of ``language``: in a Chinese post, Chinese prose only."""
    return reads_as_chinese(text) if language.is_chinese else True


def rank_story(story: Story, language: Language) -> _Ranked:
    sentences = story_sentences(story, language)
    if not sentences:
        return _Ranked(story, [], [])
    vectors = tfidf([s.text for s in sentences])
    headline = Counter[str]()
    for article in story.articles:
        headline.update(bigrams(article.title))
    # The walk restarts at lead sentences and at sentences that share the headlines' words.
    prior = np.array([(1 + sum(min(n, headline[g]) for g, n in bigrams(s.text).items()) ** 0.5)
                      / (1 + s.position) ** 0.5 / (1 + 0.3 * s.order) for s in sentences])
    scores = centrality(vectors, prior)
    by_score = sorted(range(len(sentences)), key=lambda i: (-scores[i], sentences[i].order, sentences[i].position))
    chosen: list[int] = []
    for index in mmr(scores, vectors, SENTENCES_PER_STORY, same=NEAR_SAME):
        if len(chosen) >= 2 and sum(len(sentences[i].text) for i in chosen) >= PARAGRAPH_CHARS:
            break
        chosen.append(index)
    picked = sorted((sentences[i] for i in chosen), key=lambda s: (s.order, s.position))
    return _Ranked(story, [sentences[i] for i in by_score], picked)


def joined(sentences: list[str]) -> str:
    """Sentences as one paragraph: a space after a Latin-script one only."""
    return "".join(f"{s} " if s[-1:].isascii() else s for s in sentences).strip()


class ExtractiveSummarizer:
    def __init__(self, finder: EntityFinder) -> None:
        self.finder = finder

    def summarize(self, digest: DigestInput) -> SummaryResult:
        ranked = [rank_story(story, digest.language) for story in digest.stories]
        producers = Producers(digest, phrases()[digest.language], ranked, self.finder)
        content = each_fact_once(DigestContent(**produce(producers, SECTIONS)))
        return SummaryResult(content=content, generator="extractive")


def produce(producers: Producers, rows: tuple[Row, ...]) -> dict[str, Any]:
    """Each section's offline text, by its row's producer."""
    return {row.key: getattr(producers, row.section.producer)() for row in rows}


def story_title(story: Story, language: Language) -> str:
    """The story's headline in the post's language; a story told only in another language keeps
    its original title."""
    preferred = language.article_languages
    return next((a.title for a in story.articles if a.title and a.language in preferred),
                story.lead.title) or story.key


def story_summary(ranked: _Ranked, digest: DigestInput) -> StorySummary:
    story = ranked.story
    cited = list(dict.fromkeys(s.article.id for s in ranked.picked)) or [story.lead.id]
    title = story_title(story, digest.language)
    # The schema wants a paragraph: a story with no sentence of its own repeats its title, and
    # the post lists it under "other reports", never as a highlight (publish.context).
    paragraph = joined([s.text for s in ranked.picked]) or title
    note = ""
    if story.follow_up_day is not None:
        note = phrases()[digest.language]["follow_up"].format(day=story.follow_up_day.isoformat())
    # Articles come cleaned and capped (digest.sanitize); the cap here keeps the schema's
    # promise for any caller.
    title = cut(title, STORY_TITLE_MAX - len(note)) + note
    return StorySummary(story_key=story.key, title=title, paragraph=paragraph, cited=cited)


def _near(grams: set[str], other: set[str]) -> bool:
    """Whether two sentences' bigrams say the same thing (NOTE_NEAR Jaccard)."""
    return len(grams & other) > NOTE_NEAR * len(grams | other)


def _quantity_key(surface: str) -> str:
    match = re.match(r"(\d+(?:[.,]\d+)*)\s*(\D+)", surface)
    try:
        value, unit = float(match[1].replace(",", "")), match[2].strip().lower()  # type: ignore[index]
    except (TypeError, ValueError):  # no number, or one such as 3.5.3.5
        return surface
    if unit in ("%", "％"):
        return f"{value:g}%"
    return f"{value * MULTIPLIERS.get(unit, 1):.3e}"


class Producers:
    """The offline producer of each section (``Section.producer`` names the method): sentences
    of the stories and data-derived sentences, in one language.

    Each section has its job and no sentence is said twice: a highlight's paragraph holds its
    story's sentences; the key points name the highlights and the figures several stories share;
    the developers' and users' notes are sentences on their matters that no highlight holds; the
    trend gives the counts. A Chinese post says nothing in another language."""

    def __init__(self, digest: DigestInput, words: dict[str, str], ranked: list[_Ranked],
                 finder: EntityFinder) -> None:
        self.digest, self.words, self.ranked, self.finder = digest, words, ranked, finder
        figures = digest.figures
        self.counts = digest.counts
        self.language = digest.language
        earlier = [n for day, n in sorted(figures.trend.items()) if day < digest.day][-7:]
        self.average = sum(earlier) / 7 if any(earlier) else 0.0
        self.yesterday = earlier[-1] if earlier else 0
        self.names = [self.finder.find("\n".join(f"{a.title}\n{a.text[:800]}" for a in s.articles))
                      for s in digest.stories]
        # The stories with sentences of their own in the post's language: the highlights.
        self.highlights = [r for r in ranked if r.picked]
        self.titles = {r.story.key: story_title(r.story, self.language) for r in ranked}
        self.top = self.highlights[0].story if self.highlights else digest.stories[0]
        self.noted: list[set[str]] = [set(bigrams(s.text)) for r in self.highlights for s in r.picked]
        # The names each said sentence gives: a rewording that names nothing else is the same fact.
        self.named: list[set[str]] = [self.finder.find(s.text) for r in self.highlights for s in r.picked]
        self._spelled = "\n".join(fold(f"{a.title}\n{a.text[:2000]}") for s in digest.stories for a in s.articles
                                   if a.language in self.language.article_languages)

    def _fmt(self, key: str, **values: Any) -> str:
        counts = self.counts
        base = {"display": self.digest.model.display, "day": self.digest.day.isoformat(),
                "articles": counts.articles, "outlets": counts.sources, "stories": counts.stories,
                "categories": self._categories(), "top": self.titles[self.top.key],
                "top_outlets": len(self.top.outlets), "first_party": len(self.digest.first_party),
                **{c: counts.by_category.get(c, 0) for c in ("news", "social", "finance")}}
        return self.words[key].format(**{**base, **values})

    def _categories(self) -> str:
        """The day's articles per category, every category with any: they add up to the total."""
        order = ["news", "social", "finance", "release", "paper"]
        found = sorted(self.counts.by_category.items(),
                       key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))
        return self._list([self.words["category_count"].format(name=self.words.get(f"category_{c}", c), n=n)
                           for c, n in found])

    def _list(self, items: list[str]) -> str:
        return self.words["separator"].join(items)

    def _quote(self, text: str) -> str:
        return self.words["quote"].format(text)

    def _versus(self) -> str:
        if not self.average:
            return self._fmt("versus_none")
        if self.average < PERCENT_BASE_MIN:  # 1 → 21 articles is no "2000%" worth saying
            return self._fmt("versus_few", average=f"{self.average:.1f}")
        change = round((self.counts.articles - self.average) / self.average * 100)
        key = "versus_up" if change > 0 else "versus_down" if change < 0 else "versus_flat"
        return self._fmt(key, average=f"{self.average:.1f}", percent=abs(change))

    def name(self, entity: str) -> str:
        """An entity as the post writes it: in a Chinese post, its spelling the day's Chinese
        articles use most (Google stays Google, Alibaba is 阿里巴巴), else its Chinese name."""
        if not self.language.is_chinese:
            return entity
        # Spellings one folding joins (傑富瑞, 杰富瑞) count alike: the table's first of them wins.
        spellings = self.finder.spellings_of(entity)
        counts = [(self._spelled.count(fold(s)), bool(HAN.search(s)), -rank, s) for rank, s in enumerate(spellings)]
        count, _, _, spelling = max(counts, default=(0, False, 0, entity))
        return spelling if count else self.finder.chinese_name(entity) or entity

    def stories(self) -> list[StorySummary]:
        return [story_summary(r, self.digest) for r in self.ranked]

    def analysis(self) -> Analysis:
        return Analysis(**produce(self, sections(Analysis)))

    def developers(self) -> list[str]:
        return self.notes(DEVELOPER_WORDS, social_first=True, fillers=("point_social", "point_first_party"))

    def users(self) -> list[str]:
        # No counts to fill it: the trend gives them, and a day without product or availability
        # facts has a short users' section, or none.
        return self.notes(USER_WORDS, social_first=False, fillers=(), unless=CODE_WORDS)

    def tags(self) -> list[str]:
        """The model's names, then the day's most cited entities; in a Chinese post, Chinese
        names only (an entity with none is left out)."""
        counts: Counter[str] = Counter()
        for story in self.digest.stories:
            names = set().union(*(self.finder.find(f"{a.title}\n{a.text[:800]}") for a in story.articles))
            counts.update(names)
        ranked = [name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]  # ties: by name
        model = self.digest.model
        if not self.language.is_chinese:
            return list(dict.fromkeys([model.display, *model.all_aliases[:3], *ranked]))[:10]
        chinese = [found for name in ranked if (found := self.finder.chinese_name(name))]
        return list(dict.fromkeys([model.display, *model.aliases_in(self.language.alias_scripts)[:3], *chinese]))[:10]

    def summary(self) -> str:
        lines = [self._fmt("summary")]
        if titles := [self._quote(self.titles[r.story.key]) for r in self.highlights[:2]]:
            lines.append(self._fmt("summary_top", titles=self._list(titles)))
        return joined(lines)

    def shared_names(self) -> list[str]:
        """Names that two or more of the day's stories mention, most stories first."""
        counts = Counter(name for names in self.names for name in names)
        model = {self.digest.model.display.casefold(), *(a.casefold() for a in self.digest.model.all_aliases)}
        return [self.words["count"].format(name=self.name(name), n=n)
                for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                if n >= 2 and name.casefold() not in model][:5]

    def shared_figures(self) -> list[str]:
        """Quantities (with a unit) that two or more articles give, most articles first."""
        surfaces: dict[str, Counter[str]] = {}
        articles: Counter[str] = Counter()
        for story in self.digest.stories:
            for article in story.articles:
                found: dict[str, str] = {}
                for match in QUANTITY.finditer(f"{article.title}\n{article.text[:2000]}"):
                    found.setdefault(_quantity_key(match[0]), squash_spaces(match[0]))
                for key, surface in found.items():
                    surfaces.setdefault(key, Counter())[surface] += 1
                    articles[key] += 1
        ranked = sorted(((n, key) for key, n in articles.items() if n >= 2), key=lambda x: (-x[0], x[1]))
        return [self.words["count"].format(name=surfaces[key].most_common(1)[0][0], n=n) for n, key in ranked[:4]]

    def trend(self) -> str:
        lines = [self._fmt("trend", versus=self._versus())]
        if self.average:
            lines.append(self._fmt("previous_day", previous=self.yesterday))
        if changes := download_changes(self.digest.figures.repo_trends):
            lines.append(self._fmt("downloads", changes=self._list([
                self.words["download"].format(name=c.name, days=c.days, change=c.percent, source=c.source)
                for c in changes])))
        return joined(lines)

    def industry(self) -> str:
        stories = [r.story for r in self.highlights]
        follow = [s for s in stories if s.follow_up_day is not None]
        # Counted, not named: the highlights above name them.
        lines = [self._fmt("follow_ups", count=len(follow))] if follow else []
        if new := [s for s in stories if s.follow_up_day is None]:
            lines.append(self._fmt("new_stories", count=len(new)))
        known = self.digest.figures.earlier_entities
        if known is not None:
            fresh = sorted(set().union(*self.names) - known - self.finder.concepts) if self.names else []
            if fresh:
                lines.append(self._fmt("new_names", names=self._list([self.name(n) for n in fresh[:5]])))
        multi = sum(1 for s in self.digest.stories if len(s.outlets) > 1)
        if multi:
            lines.append(self._fmt("industry", multi=multi, outlets=self._list(self.top.outlets[:5])))
        return joined(lines)

    def competition(self) -> str:
        """The other watched models the day's articles name; nothing when they name none (no
        sentence says "none" of what the reader can see named in the sources)."""
        mentioned = sorted(self.digest.figures.co_mentioned.items(), key=lambda kv: (-kv[1], kv[0]))
        if not mentioned:
            return ""
        names = self._list([self.words["count"].format(name=self.digest.competitors.get(key, key), n=count)
                            for key, count in mentioned])
        return self._fmt("competition", models=names)

    def market(self) -> str:
        tickers = ", ".join(self.digest.figures.tickers) or "-"
        titles = self.digest.figures.finance_titles
        if not titles:
            return self._fmt("market_none", tickers=tickers)
        lines = [self._fmt("market", count=self.counts.by_category.get("finance", len(titles)), tickers=tickers)]
        # The finance sources' own view: a sentence no highlight already gives (Jefferies' reading
        # of a story the highlight tells from the news side).
        said = [self.noted[i] for i in range(sum(len(r.picked) for r in self.highlights))]
        finance = [s for r in self.ranked for s in r.sentences if s.article.category == "finance"
                   and not any(_near(set(bigrams(s.text)), other) for other in said)]
        tickers_named = self.digest.figures.tickers
        moving = [s for s in finance if QUANTITY.search(s.text) or any(t in s.text for t in tickers_named)]
        if moving or finance:
            lines.append((moving or finance)[0].text)
        else:
            lines.append(self._list([self._quote(t) for t in titles[:2] if in_language(t, self.language)]))
        return joined(lines)

    def key_points(self) -> list[str]:
        """One takeaway per highlight: a central sentence of its story that no paragraph or
        note holds (the headline and paragraph are above it), with its outlet; then the names
        and figures several stories share, then further takeaways, to reach four. The day's
        counts are the trend's: a counts line only when nothing else is left."""
        takeaways = [[s for s in r.sentences[:NOTE_CANDIDATES] if s not in r.picked] for r in self.highlights]
        points = [point for sentences in takeaways if (point := self._takeaway(sentences[:1]))][:6]
        if names := self.shared_names():
            points.append(self._fmt("shared_names", names=self._list(names)))
        if numbers := self.shared_figures():
            points.append(self._fmt("shared_figures", figures=self._list(numbers)))
        for sentences in takeaways:
            while len(points) < 4 and (point := self._takeaway(sentences)):
                points.append(point)
        # The schema's four, on a thin day: counts the notes or the trend may give too (the
        # fact-once pass keeps the first saying).
        fillers = [*map(self._fmt, ("point_first_party", "point_social", "point_news", "point_categories")),
                   self._fmt("point_volume", versus=self._versus())]
        for line in fillers:
            if len(points) >= 4:
                break
            if line not in points:
                points.append(line)
        return points[:MAX_KEY_POINTS]

    def _takeaway(self, sentences: list[Sentence]) -> str:
        """The first of ``sentences`` no highlight or note says yet, as a line with its outlet
        (and noted); "" when there is none."""
        for sentence in sentences:
            if self._fresh(sentence):
                return self._fmt("sourced", sentence=sentence.text, outlet=sentence.article.outlet)
        return ""

    def _fresh(self, sentence: Sentence) -> bool:
        """Whether no said sentence holds ``sentence``'s fact (a highlight's, a note's, or a
        rewording naming the same things); if so it is noted as said."""
        grams, names = set(bigrams(sentence.text)), self.finder.find(sentence.text)
        if any(_near(grams, other) for other in self.noted) or (
                len(names) >= SAME_FACT_NAMES and any(names <= other for other in self.named)):
            return False
        self.noted.append(grams)
        self.named.append(names)
        return True

    def notes(self, words: re.Pattern[str], social_first: bool, fillers: tuple[str, ...],
              unless: re.Pattern[str] | None = None) -> list[str]:
        """Up to 4 lines for a reader group: social discussions (for developers), then sentences
        of the day's articles on their matters that neither a highlight nor the other group
        holds; the ``fillers`` (the day's counts of its sources) only to reach two."""
        lines: list[str] = []
        if social_first:
            social = [a for s in self.digest.stories for a in s.articles
                      if a.category == "social" and in_language(a.title, self.language)]
            lines += [self._fmt("social", title=a.title, outlet=a.outlet) for a in social[:2]]
        candidates = [s for r in self.ranked for s in r.sentences[:NOTE_CANDIDATES] if words.search(s.text)
                      and not (unless and unless.search(s.text))]
        for sentence in candidates:
            if len(lines) >= 3:
                break
            if not self._fresh(sentence):
                continue  # a highlight's, or a rewording of one already noted
            lines.append(self._fmt("sourced", sentence=sentence.text, outlet=sentence.article.outlet))
        for line in map(self._fmt, fillers):
            if len(lines) >= 2:
                break
            lines.append(line)
        return list(dict.fromkeys(lines))[:4]
