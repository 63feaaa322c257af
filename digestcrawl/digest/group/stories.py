"""Group a day's articles into stories, rank them, and spot follow-ups of earlier days' stories.

Two articles are one story when the dedup pipeline linked them (a copy and its original), or
when ``similarity`` finds it likely (at least ``MERGE_PROBABILITY``) from their text and the
names and quantities they share: ``淘寶`` and ``Taobao`` are one entity, ``1億`` and ``100
million`` one quantity, which is what ties an English or Japanese report to a Chinese one.
Stories grow by average linkage: two groups join only when their articles are, on average, as
likely the same story as a pair must be, so one loose pair cannot chain two events together.
A title is part of the text compared, never a reason to merge by itself. A release or paper
(a GitHub release, a new Hugging Face repository, an arXiv paper) joins the story whose reports
name it, by repository and version, repository id, arXiv id or title: its notes or abstract
share few words with the news about it. Every article is in exactly one story. Everything is
deterministic: same articles in, same stories out.

Average linkage admits an article whose mean probability with the rest of its story is just
over the bar; ``loose_members`` names such articles for a second opinion (the LLM's merge
check), and ``split_off`` takes out those it rejects, each with its copies.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import date

import numpy as np

from digestcrawl.digest.firstparty import FIRST_PARTY, folded, named_in, release_of
from digestcrawl.digest.group.similarity import MERGE_PROBABILITY, Profile, containment, profile, similarity
from digestcrawl.digest.model import LooseMember, MergeCheck, Story, StoryArticle
from digestcrawl.text import EntityFinder

COPY = 1.0  # a copy and its original: certain
# A headline-only item joins the story one of whose articles holds this weighted share of its
# words and names. Not fitted: the labelled pairs hold no headlines; half is the plain reading.
HEADLINE_CONTAINMENT = 0.35
# Rank bonus by where a story's articles name the model at best (mentions.placement): a title
# mention is worth one and a half outlets, the lead's opening half that; the body nothing. Not
# stored (older rows): nothing either.
# "owner": a release or paper from the model's own account, which need not name it (relevance).
PLACEMENT_WEIGHT = {"title": 3.0, "owner": 3.0, "lead": 1.5, "body": 0.0}


def article_profile(article: StoryArticle, finder: EntityFinder) -> Profile:
    text = article.text or article.snippet
    return profile(article.title, text, article.language, finder.find(f"{article.title}\n{text}"), finder.spellings)


def _scores(articles: Sequence[StoryArticle], finder: EntityFinder) -> np.ndarray:
    """Pairwise probability of one story, with copies linked to their originals for certain.
    A headline-only item's row and column read its containment in the other article instead:
    0 below HEADLINE_CONTAINMENT, else above MERGE_PROBABILITY by how much it is contained."""
    profiles = [article_profile(a, finder) for a in articles]
    scores = similarity(profiles)
    headlines = np.asarray([not a.text for a in articles])
    if headlines.any():
        contained = containment(profiles)
        contained = np.where(contained >= HEADLINE_CONTAINMENT,
                             MERGE_PROBABILITY + (1 - MERGE_PROBABILITY) * contained * 0.99, 0.0)
        contained = np.maximum(contained, contained.T)
        either = headlines[:, None] | headlines[None, :]
        scores = np.where(either, contained, scores)
    index = {a.url: i for i, a in enumerate(articles)}
    for i, article in enumerate(articles):
        j = index.get(article.duplicate_of or "")
        if j is not None:
            scores[i, j] = scores[j, i] = COPY
    return scores


def _average_linkage(scores: np.ndarray, members: Sequence[int]) -> list[list[int]]:
    """Groups of ``members`` whose average pairwise score is at least MERGE_PROBABILITY.

    Pairs are taken from the most to the least likely; two groups join when the mean score
    between all their members reaches the bar. Certain links (copies) always join. The sums of
    scores between groups are kept up to date on each join, so each check costs one lookup.
    """
    chosen = np.asarray(members, dtype=np.int64)
    sums = scores[np.ix_(chosen, chosen)].astype(np.float64)
    rows, cols = np.nonzero(np.triu(sums >= MERGE_PROBABILITY, k=1))
    order = np.lexsort((cols, rows, -sums[rows, cols]))  # most likely first; ties in index order
    certain = (sums[rows, cols] >= COPY)[order].tolist()
    group_of = list(range(len(chosen)))
    groups: dict[int, list[int]] = {i: [i] for i in range(len(chosen))}
    for row, col, is_copy in zip(rows[order].tolist(), cols[order].tolist(), certain, strict=True):
        a, b = group_of[row], group_of[col]
        if a == b:
            continue
        if not is_copy and sums[a, b] < MERGE_PROBABILITY * len(groups[a]) * len(groups[b]):
            continue
        keep, gone = min(a, b), max(a, b)
        sums[keep, :] += sums[gone, :]
        sums[:, keep] += sums[:, gone]
        for i in groups[gone]:
            group_of[i] = keep
        groups[keep] += groups.pop(gone)
    return [[int(chosen[i]) for i in group] for group in groups.values()]


def story_key(articles: Iterable[StoryArticle]) -> str:
    """Stable while a story grows during the day: named after its first-stored article."""
    first = min(articles, key=lambda a: a.id)
    return hashlib.sha1(first.url.encode()).hexdigest()[:12]


def _with_originals_text(articles: Sequence[StoryArticle]) -> list[StoryArticle]:
    """A copy is stored without text (it is its original's): compared with its original's."""
    texts = {a.url: a.text for a in articles if a.text}
    return [replace(a, text=texts[a.duplicate_of]) if not a.text and a.duplicate_of in texts else a
            for a in articles]


def group_stories(articles: Sequence[StoryArticle], finder: EntityFinder, *,
                  earlier: Sequence[tuple[date, Sequence[StoryArticle]]] = (),
                  merge_check: MergeCheck | None = None) -> list[Story]:
    """The day's stories, best first; every article in exactly one of them: the group room's
    one entry.

    Full articles are grouped first. A headline-only item (a search-feed or social entry) then
    joins the one story it matches best, if any: it never links two stories, since a headline
    that says only "1億 users" would otherwise chain unrelated events together. With a
    ``merge_check``, the loose merges it says are another event are split off (``loose_members``,
    ``split_off``). With the ``earlier`` days' articles, a story continuing one of theirs is marked
    a follow-up (``mark_follow_ups``).
    """
    if merge_check is None:
        stories = _grouped(articles, finder)[0]
    else:
        stories, loose = loose_members(articles, finder, merge_check.band)
        stories = split_off(stories, together(merge_check.ask(stories, loose) if loose else []))
    if earlier:
        mark_follow_ups(stories, [(day, story) for day, before in earlier
                                  for story in _grouped(before, finder)[0]], finder)
    return stories


def _grouped(articles: Sequence[StoryArticle], finder: EntityFinder) -> tuple[list[Story], np.ndarray, dict[str, int]]:
    """The stories, the pairwise scores they were grouped on, and each article's row in them."""
    ordered = sorted(articles, key=lambda a: a.id)
    compared = _with_originals_text(ordered)
    scores = _scores(compared, finder)
    first_party = [i for i, a in enumerate(compared) if a.category in FIRST_PARTY]
    full = [i for i, a in enumerate(compared) if a.text and a.category not in FIRST_PARTY]
    groups = _average_linkage(scores, full)
    if first_party:
        groups += _join_first_party(compared, scores, groups, first_party)
    for i in (i for i, a in enumerate(compared) if not a.text and a.category not in FIRST_PARTY):
        # The story of the article that holds the headline best (a copy: its original's).
        best_of = [float(scores[i, group].max()) for group in groups]
        best = int(np.argmax(best_of)) if best_of else -1  # the first of equals: deterministic
        if best >= 0 and best_of[best] >= MERGE_PROBABILITY:
            groups[best].append(i)
        else:
            groups.append([i])
    stories = [_story([ordered[i] for i in group]) for group in groups]
    return sorted(stories, key=lambda s: (-s.rank, s.key)), scores, {a.url: i for i, a in enumerate(ordered)}


def _story(articles: Iterable[StoryArticle]) -> Story:
    members = sorted(articles, key=_lead_order)
    story = Story(key=story_key(members), articles=members)
    story.rank = rank(story)
    return story


def loose_members(articles: Sequence[StoryArticle], finder: EntityFinder,
                  band: float) -> tuple[list[Story], list[LooseMember]]:
    """``group_stories``, and the members of its stories merged on a link within ``band`` above
    the bar: the merges a second opinion may undo.

    Only originals with text are weighed (a copy goes with its original, a headline-only item
    stays where it joined). Each one's mean probability with the story's other originals is its
    hold on the story; of a story whose originals are all loosely held (a pair merged at 0.55),
    the best-held one anchors it and the others are asked about."""
    stories, scores, row = _grouped(articles, finder)
    loose: list[LooseMember] = []
    for story in stories:
        urls = {a.url for a in story.articles}
        originals = [a for a in story.articles if a.text and a.duplicate_of not in urls]
        if len(originals) < 2:
            continue
        rows = [row[a.url] for a in originals]
        linked = scores[np.ix_(rows, rows)]
        hold = (linked.sum(axis=1) - np.diag(linked)) / (len(rows) - 1)
        by_hold = sorted(range(len(originals)), key=lambda i: -hold[i])  # stable: lead order on ties
        # A release or paper joined by the reports naming it, not by its words: not a loose merge.
        weak = [i for i in by_hold[1:]
                if hold[i] < MERGE_PROBABILITY + band and originals[i].category not in FIRST_PARTY]
        for i in weak:
            others = tuple(originals[j] for j in by_hold if j != i)
            ties = frozenset(originals[j].url for j in weak if j != i and linked[i, j] >= MERGE_PROBABILITY)
            loose.append(LooseMember(story.key, originals[i], others, round(float(hold[i]), 3), ties))
    return stories, loose


def together(split: list[LooseMember]) -> list[set[str]]:
    """The URLs of the members split off, in parts that leave together: members likely one
    story with each other (``LooseMember.ties``) make one new story, not one each."""
    urls = {member.article.url for member in split}
    ties = {member.article.url: member.ties & urls for member in split}
    parts: list[set[str]] = []
    placed: set[str] = set()
    for member in split:
        if member.article.url in placed:
            continue
        part, reach = set(), [member.article.url]
        while reach:
            url = reach.pop()
            if url not in part:
                part.add(url)
                reach += ties[url] - part
        placed |= part
        parts.append(part)
    return parts


def split_off(stories: Sequence[Story], parts: Iterable[Collection[str]]) -> list[Story]:
    """The stories with the articles of each part (URLs of one story's members, with their
    copies) made a story of their own; the rest of each story stays together. No article is
    lost or doubled."""
    part_of = {url: index for index, part in enumerate(parts) for url in part}
    if not part_of:
        return list(stories)
    result: list[Story] = []
    for story in stories:
        leaving: dict[int, list[StoryArticle]] = {}
        for article in story.articles:
            if article.url in part_of:
                leaving.setdefault(part_of[article.url], []).append(article)
        if not leaving:
            result.append(story)
            continue
        gone = {a.url for members in leaving.values() for a in members}
        staying = [a for a in story.articles if a.url not in gone and a.duplicate_of not in gone]
        for members in leaving.values():
            urls = {a.url for a in members}
            copies = (a for a in story.articles if a.duplicate_of in urls and a.url not in gone)
            result.append(_story([*members, *copies]))
        if staying:
            result.append(_story(staying))
    return sorted(result, key=lambda s: (-s.rank, s.key))


def _join_first_party(articles: Sequence[StoryArticle], scores: np.ndarray, groups: list[list[int]],
                      members: Sequence[int]) -> list[list[int]]:
    """Releases and papers (``members``) join the stories of the reports about them: each joins
    the story with the most articles that name it (``firstparty.named_in``: a release notes page
    shares few words with the news of that release), else the story it matches best, if any (on
    average, as articles join stories; a release without text, as a headline does); like a
    headline, it never links two stories. The groups of those left are returned."""
    texts = {j: folded(f"{articles[j].title}\n{articles[j].text or articles[j].snippet}")
             for j in (*(j for group in groups for j in group), *members)}
    left = []
    for i in members:
        release = release_of(articles[i])
        assert release is not None  # members are of a first-party category
        named = [sum(named_in(release, texts[j]) for j in group) for group in groups]
        best_of = [float(scores[i, group].mean() if articles[i].text else scores[i, group].max())
                   for group in groups]
        # The first of equals: deterministic.
        best = max(range(len(groups)), key=lambda g: (named[g], best_of[g], -g), default=-1)
        if best >= 0 and (named[best] or best_of[best] >= MERGE_PROBABILITY):
            groups[best].append(i)
        else:
            left.append(i)
    return _average_linkage(scores, left) if left else []


def _lead_order(article: StoryArticle) -> tuple[bool, bool, bool, int, float, int]:
    published = article.published.timestamp() if article.published else math.inf
    no_text = not article.text
    # A report leads a story before the release notes or the paper it is about.
    return (article.duplicate_of is not None, no_text, article.category in FIRST_PARTY, -article.score,
            published, article.id)


def rank(story: Story) -> float:
    """Distinct outlets first, then where the model is named (a story one of whose articles names
    it in the title is about the model; one that names it only deep in the body mentions it in
    passing), reach across news/social/finance, relevance and recency."""
    categories = {a.category for a in story.articles}
    best_score = max(a.score for a in story.articles)
    placement = max(PLACEMENT_WEIGHT.get(a.placement or "", 0.0) for a in story.articles)
    latest = max((a.published.timestamp() for a in story.articles if a.published), default=0.0)
    return round(2.0 * len(story.outlets) + placement + 1.5 * len(categories) + 0.2 * min(best_score, 10)
                 + (latest % 86400) / 86400 * 0.5, 4)


def mark_follow_ups(stories: Sequence[Story], earlier: Sequence[tuple[date, Story]], finder: EntityFinder) -> None:
    """A story continues an earlier day's story when any of their articles are likely the same
    story by the similarity that groups a day, or are copies; the most recent such day wins."""
    if not earlier:
        return
    today = [(story, a) for story in stories for a in story.articles]
    before = sorted(((d, s, a) for d, s in earlier for a in s.articles), key=lambda x: x[0], reverse=True)
    scores = _scores(_with_originals_text([a for _, a in today] + [a for _, _, a in before]), finder)
    for i, (story, _article) in enumerate(today):
        if story.follow_up_of is not None:
            continue
        for j, (day, previous, _old) in enumerate(before, start=len(today)):
            if scores[i, j] >= MERGE_PROBABILITY:
                story.follow_up_of, story.follow_up_day = previous.key, day
                break
