"""The post checker: what a reader would find wrong in a written post, found in the file itself.

``check_post(text)`` reads a post (front matter and Markdown body) and returns one ``Finding``
per fault, of these classes:

- ``foreign``: in a Chinese post, a sentence of its prose (summary, trends, highlights,
  analysis, key points, reader sections, footer) in another language, an English phrase inside
  Chinese prose (``Monthly active users``), or a tag that is no Chinese name where the entity
  table has one (``Alibaba`` for 阿里巴巴). A foreign title quoted with its language mark
  (「…」（英文報導）, or an "other reports" line's title followed by 【英文報導】) and the sources
  list's titles are not prose. Kramdown attribute lists and Liquid tags are markup, not prose
  (the follow-up include reads as its mark).
- ``repeated``: a sentence (or a story's title) said again, or nearly so, anywhere in the body
  (the summary box sums it up; a story's quoted title 「…」 refers to it).
- ``label``: a link labelled with something other than its page's publisher: an address
  (127.0.0.1), a config source name, an aggregator other than the link's host's, a known outlet
  (``templates/outlets.yaml``) on a link to another known outlet's host, or an aggregator's
  redirect URL (Google News') given as a source.
- ``conversion``: in a zh-TW post, a wrong form of the phrase table (``templates/phrases.yaml``:
  髮表, 持續最佳化, 普京, …) or “ ” quotes around Chinese text in its prose.
- ``simplified``: in a zh-TW post, a title or sentence in Simplified script.
- ``undated`` / ``out_of_window``: a linked source the store holds with no date, or dated more
  than ``WINDOW_DAYS`` before the post's day or after it (only with a ``dates`` lookup).
- ``counts``: article counts, or counts of sources (the day's outlets), that differ within the
  post; per-category counts that do not add up to their total. A list item's own count at its
  end (a story's ``（7 個來源）``) is that item's, not the day's. The sources list lists the pages
  the post cites, not the outlets: its length is no count of them.
- ``ai_label``: an "AI 摘要" (the site's summary box, front matter ``ai_summary`` labelled by
  ``summary_label``, "AI 摘要" when there is none) on a post no language model wrote
  (``generator`` not ``llm:…``).

``scrapy digest --check POST...`` runs it (``digestcrawl.commands.digest``). No settings are read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml

from digestcrawl.digest.model import host_of
from digestcrawl.digest.publish.labels import headings
from digestcrawl.digest.publish.script import is_simplified, phrase_table
from digestcrawl.digest.read import aggregator_of, known_outlet, outlet_table, readable_host
from digestcrawl.text import HAN_CLASS, bigrams, split_sentences

WINDOW_DAYS = 7  # a source dated earlier than this before the post's day is not the day's news
NEAR_DUPLICATE = 0.7  # bigram Jaccard at which two sentences say the same thing
REPEAT_MIN = 10  # characters (folded) a sentence needs to count as repeated
LANGS = {"zh-Hant": "zh-TW", "zh-Hans": "zh-CN", "en": "en", "ja": "ja"}
LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)\s]+)\)")
HAN = re.compile(f"[{HAN_CLASS}]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# A run of two or more Latin words with an everyday lowercase word in it: English prose, not a
# name (Claude Code, Qwen3-Coder-Next).
LATIN_RUN = re.compile(r"[A-Za-z][\w'’.-]*(?:\s+[A-Za-z][\w'’.-]*)+")
LOWERCASE_WORD = re.compile(r"(?<![\w-])[a-z]{3,}(?![\w-])")
LANGUAGE_MARKED = re.compile(r"「[^」]*」\s*[（(][^）)]{1,6}(?:報導|报道|記事)[）)]")
# An "other reports" line: the original title, then its language mark (【英文報導】).
MARKED_TITLE = re.compile(r"^[^【】]+【[^】]{1,6}(?:報導|报道|の記事)】")
# What Jekyll reads and the reader never sees as text: kramdown's attribute lists ({: #story-…})
# and Liquid tags; the follow-up include shows its text= (the mark).
IAL = re.compile(r"\{:[^}]*\}\s*")
FOLLOW_UP_INCLUDE = re.compile(r"\{%\s*include\s+follow_up\.html\b[^%]*?\btext=\"([^\"]*)\"[^%]*%\}")
LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}")
INLINE_SOURCES = re.compile(r"[（(](?:來源|来源|Sources?|出典|ソース)[：:][^）)]*[）)]", re.IGNORECASE)
WESTERN_QUOTES = re.compile(rf"[“‘][^“”‘’]*[{HAN_CLASS}][^“”‘’]*[”’]")
ESCAPES = re.compile(r"\\(?=[^\w\s])")
LIST_MARK = re.compile(r"^\s*(?:[-*+]\s+)+")
# Counts: a total with its per-category split, the day's article counts, the sources counted.
SPLIT = re.compile(r"(\d+)\s*(?:則|则|件|articles?)?\s*[（(]((?:[^\d（()）]{1,12}\s*\d+\s*[、,，]?\s*){2,})[）)]")
SPLIT_PART = re.compile(r"([^\d、,，]+?)\s*(\d+)")
CATEGORY_SAID = r"{label}\s*(?:來源|来源|sources carried|系の情報源では)\D{{0,6}}(\d+)"
ARTICLE_COUNT = re.compile(r"(?:彙整|汇整|相關報導|相关报道|関連記事は?|appeared in)\s*(\d+)")
SOURCE_COUNT = re.compile(r"(\d+)\s*(?:篇|個|个)?\s*(?:新聞來源|新闻来源|來源|来源|件のソース)"
                          r"|(\d+)\s+(?:news\s+)?sources")
# A list item's own count at its end (a story's outlets: 標題（7 個來源）), not the day's.
ITEM_COUNT = re.compile(r"[（(]\s*\d+\s*(?:個|个)?\s*(?:來源|来源|sources?|件の情報源)\s*[）)]\s*$")
AI_LABEL = "AI 摘要"
TAIPEI = ZoneInfo("Asia/Taipei")


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based, in the post file
    kind: str
    excerpt: str

    def format(self, path: str) -> str:
        return f"{path}:{self.line}: {self.kind}: {self.excerpt}"


@dataclass
class _Post:
    front: dict  # type: ignore[type-arg]
    front_lines: dict[str, int]  # front matter key → its line
    body: list[tuple[int, str]]  # (line number, text) of the prose: the summary, then the body
    sources: list[tuple[int, str]] = field(default_factory=list)  # the sources list's lines

    @property
    def language(self) -> str:
        return LANGS.get(str(self.front.get("lang", "")), "zh-TW")


def _read(text: str) -> _Post:
    lines = text.splitlines()
    end = next((i for i in range(1, len(lines)) if lines[i] == "---"), 0) if lines[:1] == ["---"] else 0
    front = yaml.safe_load("\n".join(lines[1:end])) if end else {}
    front_lines = {line.split(":", 1)[0]: n + 1 for n, line in enumerate(lines[:end]) if re.match(r"^\w+:", line)}
    post = _Post(front if isinstance(front, dict) else {}, front_lines, [])
    if description := post.front.get("description"):  # the summary, shown above the post
        post.body.append((front_lines.get("description", 1), str(description)))
    words = headings().get(post.language, {})
    sources_heading = f"## {words.get('sources', '')}"
    in_sources = False
    for n, line in enumerate(lines[end + 1 if end else 0:], start=end + 2 if end else 1):
        if line.startswith("## "):
            in_sources = line.strip() == sources_heading
            continue
        if line.strip() == "---":
            in_sources = False  # the footer after the sources list is prose, no listed source
            continue
        if not line.strip():
            continue
        (post.sources if in_sources else post.body).append((n, line))
    return post


def _plain(line: str, keep_labels: bool = False) -> str:
    """A body line as read: links without their targets (or without themselves), no list marks,
    escapes or emphasis."""
    line = LIQUID.sub("", FOLLOW_UP_INCLUDE.sub(lambda m: m[1], IAL.sub("", line)))
    line = LINK.sub(lambda m: m[1] if keep_labels else "", line)
    return html.unescape(ESCAPES.sub("", LIST_MARK.sub("", line))).replace("**", "").strip().strip("*").strip()


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def _excerpt(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def _sentences(post: _Post) -> Iterator[tuple[int, str]]:
    for n, line in post.body:
        text = MARKED_TITLE.sub("", INLINE_SOURCES.sub("", _plain(line)))
        for sentence in split_sentences(text):
            yield n, sentence


def _foreign(post: _Post, entities: Mapping[str, Collection[str]]) -> Iterator[Finding]:
    if not post.language.startswith("zh"):
        return
    for n, sentence in _sentences(post):
        text = LANGUAGE_MARKED.sub("", sentence)
        if len(LATIN_WORD.findall(text)) >= 3 and len(HAN.findall(text)) < 4:
            yield Finding(n, "foreign", _excerpt(sentence))
            continue
        for run in LATIN_RUN.findall(text):
            if LOWERCASE_WORD.search(run) and len(LATIN_WORD.findall(run)) >= 2:
                yield Finding(n, "foreign", _excerpt(run))
                break
    chinese = {spelling.casefold(): name for name, spellings in entities.items()
               for spelling in (name, *spellings) if any(HAN.search(s) for s in spellings)}
    for tag in post.front.get("tags") or ():
        tag = str(tag)
        if HAN.search(tag):
            continue
        if tag.casefold() in chinese or (LOWERCASE_WORD.search(tag) and " " in tag):
            yield Finding(post.front_lines.get("tags", 1), "foreign", f"tag {tag}")


def _repeated(post: _Post) -> Iterator[Finding]:
    # A story named by its quoted title (「…」) is a reference to it, not its fact said again.
    titles = {f"「{story['title']}」" for story in post.front.get("stories") or () if isinstance(story, dict)}
    summary = post.front_lines.get("description")
    seen: list[tuple[str, Mapping[str, int]]] = []
    for n, sentence in _sentences(post):
        if n == summary:
            continue  # the summary box sums up what the body says
        for title in titles:
            sentence = sentence.replace(title, "「」")
        folded = _fold(sentence)
        if len(folded) < REPEAT_MIN:
            continue
        grams = bigrams(sentence)
        for earlier, earlier_grams in seen:
            if folded in earlier or earlier in folded or _jaccard(grams, earlier_grams) >= NEAR_DUPLICATE:
                yield Finding(n, "repeated", _excerpt(sentence))
                break
        seen.append((folded, grams))


def _jaccard(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    union = len(a.keys() | b.keys())
    return len(a.keys() & b.keys()) / union if union else 0.0


def _labels(post: _Post, source_names: Collection[str]) -> Iterator[Finding]:
    via = headings().get(post.language, {}).get("via", "{outlet}")
    via_pattern = re.compile("^" + re.escape(via).replace(r"\{outlet\}", "(.*)").replace(r"\{via\}", ".*") + "$")
    table = outlet_table()
    aggregator_hosts: dict[str, set[str]] = {}
    for host, aggregator in table.aggregators.items():
        aggregator_hosts.setdefault(aggregator.name, set()).add(host)
    outlet_names = set(table.names.values())
    publishers = outlet_names | set(aggregator_hosts)
    for n, line in [*post.body, *post.sources]:
        for match in LINK.finditer(line):
            label, url = ESCAPES.sub("", match[1]), match[2]
            redirecting = aggregator_of(url)
            if redirecting is not None and redirecting.redirects:
                yield Finding(n, "label", f"{redirecting.name} redirect as a source: {_excerpt(url)}")
                continue
            if (n, line) in post.sources:
                continue  # the sources list is labelled with titles
            through = via_pattern.match(label)
            name = (through[1] if through else label).strip()
            host = host_of(url)
            if name and (name == host or name == "localhost") and not readable_host(url):
                yield Finding(n, "label", f"[{name}] is an address: {_excerpt(url)}")
            elif name in source_names and name not in publishers:
                yield Finding(n, "label", f"[{name}] is a config source name: {_excerpt(url)}")
            elif name in aggregator_hosts and not any(host == h or host.endswith("." + h)
                                                      for h in aggregator_hosts[name]):
                yield Finding(n, "label", f"[{name}] on a link to {host}")
            elif name in outlet_names and (known := known_outlet(url)) and known != name:
                yield Finding(n, "label", f"[{name}] on a link to {known} ({host})")


def _conversion(post: _Post) -> Iterator[Finding]:
    if post.language != "zh-TW":
        return
    table = phrase_table()
    rows = [p for p in (*table.converted, *table.names) if p.check]
    for n, line in post.body:
        text = _plain(line)
        for phrase in rows:
            if phrase.wrong in text:
                yield Finding(n, "conversion", f"{phrase.wrong} → {phrase.right}: {_excerpt(text)}")
        for pattern, right in table.reported:
            if wrong := pattern.search(text):
                yield Finding(n, "conversion", f"{wrong[0]} → {right}: {_excerpt(text)}")
        if quoted := WESTERN_QUOTES.search(text):
            yield Finding(n, "conversion", f"“ ” quotes, not 「」: {_excerpt(quoted[0])}")


def _simplified(post: _Post) -> Iterator[Finding]:
    if post.language != "zh-TW":
        return
    for n, sentence in _sentences(post):
        if is_simplified(sentence):
            yield Finding(n, "simplified", _excerpt(sentence))
    for n, line in post.sources:
        title = _plain(line, keep_labels=True)
        if is_simplified(title):
            yield Finding(n, "simplified", _excerpt(title))


Dates = Callable[[list[str]], Mapping[str, datetime | None]]


def _dates(post: _Post, dates: Dates, zone: ZoneInfo) -> Iterator[Finding]:
    day = post.front.get("date")
    if not isinstance(day, date):
        return
    links = [(n, m[2]) for n, line in post.sources for m in LINK.finditer(line)]
    known = dates([url for _, url in links])
    first = day - timedelta(days=WINDOW_DAYS - 1)
    for n, url in links:
        if url not in known:
            continue
        published = known[url]
        if published is None:
            yield Finding(n, "undated", _excerpt(url))
        elif not first <= published.astimezone(zone).date() <= day:
            yield Finding(n, "out_of_window", f"{published.date().isoformat()} {_excerpt(url)}")


def _counts(post: _Post) -> Iterator[Finding]:
    lines = [(post.front_lines.get("tagline", 1), str(post.front.get("tagline", ""))), *post.body]
    labels = headings().get(post.language, {}).get("category", {}).values()
    said = [(label, re.compile(CATEGORY_SAID.format(label=re.escape(label)), re.IGNORECASE)) for label in labels]
    articles: dict[int, int] = {}
    sources: dict[int, int] = {}
    by_category: dict[str, int] = {}
    for n, line in lines:
        text = _plain(line, keep_labels=True)
        for total, parts in SPLIT.findall(text):
            split = {label.strip().casefold(): int(count) for label, count in SPLIT_PART.findall(parts)}
            if sum(split.values()) != int(total):
                yield Finding(n, "counts", f"{total} ≠ {' + '.join(map(str, split.values()))}: {_excerpt(text)}")
            by_category.update(split)
        for label, pattern in said:
            for count in map(int, pattern.findall(text)):
                if by_category.get(label.casefold(), count) != count:
                    yield Finding(n, "counts", f"{label} {count}, elsewhere {by_category[label.casefold()]}: "
                                               f"{_excerpt(text)}")
        for found in ARTICLE_COUNT.findall(text):
            articles.setdefault(int(found), n)
        for count in (int(a or b) for a, b in SOURCE_COUNT.findall(ITEM_COUNT.sub("", text))):
            sources.setdefault(count, n)
    if len(articles) > 1:
        n = max(articles.values())
        yield Finding(n, "counts", "article counts differ: " + ", ".join(map(str, sorted(articles))))
    if len(sources) > 1:
        n = max(sources.values())
        yield Finding(n, "counts", "source counts differ: " + ", ".join(map(str, sorted(sources))))


def _ai_label(post: _Post) -> Iterator[Finding]:
    generator = str(post.front.get("generator", ""))
    if generator.startswith("llm:"):
        return
    # The box's label: summary_label (the skeleton's include reads it), "AI 摘要" on a post
    # written before it (the box's old label).
    if post.front.get("ai_summary") and str(post.front.get("summary_label", AI_LABEL)) == AI_LABEL:
        yield Finding(post.front_lines.get("ai_summary", 1), "ai_label",
                      f"ai_summary is shown as 「{AI_LABEL}」 on a post by {generator or 'no generator'}")
    for n, line in post.body:
        if AI_LABEL in line:
            yield Finding(n, "ai_label", _excerpt(line))


def check_post(text: str, *, source_names: Collection[str] = (),
               entities: Mapping[str, Collection[str]] | None = None,
               dates: Dates | None = None,
               zone: ZoneInfo = TAIPEI) -> list[Finding]:
    """Every finding in the post ``text``, in line order. ``source_names``: sources.yaml's names;
    ``entities``: the entity table (canonical name → spellings); ``dates``: the stored
    published time of each URL it knows (None: stored undated)."""
    post = _read(text)
    findings = [*_foreign(post, entities or {}), *_repeated(post), *_labels(post, source_names),
                *_conversion(post), *_simplified(post), *_counts(post), *_ai_label(post)]
    if dates is not None:
        findings += _dates(post, dates, zone)
    return sorted(findings, key=lambda f: (f.line, f.kind))
