"""How likely two articles report the same story: calibrated similarity of their texts and names.

Each article becomes two weighted bags of tokens, from its title and the lead of its text:

- **words**: Latin words and CJK character bigrams (so zh-Hans and zh-Hant compare after folding,
  and Chinese needs no segmenter), weighted by sublinear term frequency times inverse document
  frequency;
- **anchors**: what survives translation: names written with a capital or with digits
  (``McConnell``, ``GPT-4``, ``Qwen3``) that are not common words, numbers and quantities
  (``1億`` and ``100 million`` are one), and the canonical names of ``entities.yaml``
  (``淘寶`` and ``Taobao``).

Inverse document frequency comes from a background table of general word frequencies shipped
with the package (``conf/background.tsv.gz``, see ``scripts/build_background.py``): a day of two
articles cannot tell that "the" or "的" is common. On a day with many articles, a token most of
them carry (the watched model's own name) is weighed down further, since it tells no story
from another.

The two cosines go through a logistic model fitted on labelled news pairs (``python -m
benchmarks.stories --fit``), one for articles in one language and one for articles in two
(where little but the anchors can agree): the result is a probability, and two articles are the
same story when it is at least one half. For a headline without text, ``containment`` tells
how much of it an article holds.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy import sparse

from digestcrawl.dedup import CJK_RUN, LATIN_WORD
from digestcrawl.relevance import fold

LEAD_CHARS = 2000  # the lead says what the event is; the tail is background and costs time
TITLE_REPEAT = 1  # title then text, as the labelled pairs the model was fitted on were crawled
DOC_TOKENS = 300  # typical tokens per lead: turns a word's frequency into a document frequency
FLOOR_FREQUENCY = 1e-6  # a word not in the background table is about as rare as a name
COMMON_NAME_FREQUENCY = 1e-5  # a capitalised word this common is a sentence start, not a name
# A token carried by more than this share of the day's articles (the watched model's own name) tells
# little about which story; a big story alone stays under it.
DAY_COMMON_SHARE = 0.2
DAY_MIN_ARTICLES = 20  # fewer articles than this say too little about what is common today

# Logistic models on the square roots of the cosines (they spread the low end, where stories
# part): p(same) = sigmoid(b0 + b_words·√words + b_anchors·√anchors), one model for articles in
# one language and one for articles in two (where only names and numbers can agree). Fitted by
# `python -m benchmarks.stories --fit` (L2-regularised logistic regression) on the labelled
# development pairs; fits on random halves of them land within about ±1.5 of these values.
# Within one language the names are among the words already: their own coefficient fits to about
# zero (either sign on halves), and is held at zero, since a shared name is never evidence against.
SAME_LANGUAGE = (-4.5, 12.0, 0.0)  # (b0, b_words, b_anchors)
CROSS_LANGUAGE = (-2.2, 1.8, 4.1)
MERGE_PROBABILITY = 0.5

MULTIPLIERS = {"萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "千": 1e3, "百": 1e2, "thousand": 1e3,
               "million": 1e6, "millionen": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9,
               "milliarden": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}
QUANTITY = re.compile(
    r"(?<![\d.,A-Za-z])(\d+(?:[.,]\d+)*)\s*(%|％|萬|万|億|亿|千|百|thousand|millions?|millionen|billions?|milliarden"
    r"|trillion|(?:k|m|bn|b)(?![a-z]))?",
    re.IGNORECASE)
# A name: starts with a capital, or mixes letters and digits (GPT-4o, Qwen3, A100).
_LETTER = r"[^\W\d_\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"  # a letter, not CJK or kana
NAME = re.compile(rf"(?<![\w])(?:[A-Z](?:{_LETTER}|\d|['’\-])*|{_LETTER}+-?\d(?:{_LETTER}|\d|[\-.])*"
                  rf"|\d+{_LETTER}(?:{_LETTER}|\d|-)*)")
POSSESSIVE = re.compile(r"['’]s$")


@lru_cache(maxsize=1)
def background() -> dict[str, float]:
    """Folded token → frequency per running word in general text (the largest over languages)."""
    table: dict[str, float] = {}
    data = resources.files("digestcrawl").joinpath("conf/background.tsv.gz").read_bytes()
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        token, _, frequency = line.partition("\t")
        table[token] = float(frequency)
    return table


def _frequency(token: str, table: dict[str, float]) -> float:
    if len(token) == 2 and CJK_RUN.fullmatch(token):
        # Also a bigram across a word boundary: as common as its two characters side by side.
        chance = table.get(token[0], 0.0) * table.get(token[1], 0.0)
        return max(FLOOR_FREQUENCY, table.get(token, 0.0), chance)
    if token in table:
        return table[token]
    if token.isdigit():
        # Numbers are as common as their size: 12 is everywhere, 1,234,567 is one story's.
        return 1e-3 / 10 ** min(len(token), 4)
    return FLOOR_FREQUENCY


@lru_cache(maxsize=200_000)
def token_idf(token: str) -> float:
    """Inverse document frequency from the background: -ln P(a lead of DOC_TOKENS contains it)."""
    frequency = _frequency(token, background())
    return -math.log(-math.expm1(-DOC_TOKENS * frequency))


def quantities(text: str) -> set[str]:
    """Normalised quantities: '1億' and '100 million' are both '1e+08'; '20%' is '20%'. Bare
    numbers below 10 and plain years are left out: they tie unrelated stories."""
    found = set()
    for number, unit in QUANTITY.findall(text):
        try:
            value = float(number.replace(",", "")) if number.count(",") != 1 or len(number.split(",")[1]) == 3 \
                else float(number.replace(",", "."))
        except ValueError:
            continue
        if unit in ("%", "％"):
            found.add(f"{value:g}%")
        elif unit:
            found.add(f"{value * MULTIPLIERS[unit.lower()]:.2e}")
        elif value >= 10 and not (1900 <= value <= 2100 and number.isdigit()):
            found.add(f"{value:g}")
    return found


def word_tokens(text: str) -> Counter[str]:
    """Latin words (two letters or more) and CJK character bigrams of the folded text."""
    folded = fold(text)
    grams: Counter[str] = Counter()
    for run in CJK_RUN.findall(folded):
        grams.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    grams.update(w for w in LATIN_WORD.findall(folded) if len(w) > 1 and not w.isdigit())
    return grams


@lru_cache(maxsize=100_000)
def _fold_name(name: str) -> str:
    return POSSESSIVE.sub("", fold(name)).strip("-.'’")


def anchor_tokens(text: str, entities: set[str], spellings: frozenset[str] = frozenset()) -> Counter[str]:
    """Names, quantities and entities: the tokens that read the same in any language. A name
    that spells an entity counts once, as the entity (which the other language spells its way)."""
    anchors: Counter[str] = Counter()
    table = background()
    for name in NAME.findall(text):
        token = _fold_name(name)
        if (len(token) > 1 and token not in spellings and not QUANTITY.fullmatch(token)
                and _frequency(token, table) < COMMON_NAME_FREQUENCY):
            anchors[token] += 1
    anchors.update(f"#{q}" for q in quantities(text))
    anchors.update(f"@{e}" for e in entities)
    return anchors


@dataclass(frozen=True)
class Profile:
    """What similarity needs of one article."""

    words: Counter[str]
    anchors: Counter[str]
    language: str | None


def profile(title: str, text: str, language: str | None, entities: set[str],
            spellings: frozenset[str] = frozenset()) -> Profile:
    lead = "\n".join([title] * TITLE_REPEAT + [text[:LEAD_CHARS]])
    return Profile(word_tokens(lead), anchor_tokens(lead, entities, spellings), _language_family(language))


def _language_family(language: str | None) -> str | None:
    """zh-TW and zh-CN are one language once folded; en-US and en are one."""
    return language.split("-")[0].lower() if language else None


def _weighted(bags: Sequence[Counter[str]], day_weighting: bool) -> sparse.csr_matrix:
    """Rows: (1 + ln tf) · idf vectors, idf from the background and, on a big enough day, the day."""
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for row, bag in enumerate(bags):
        for token, count in bag.items():
            rows.append(row)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
            values.append((1.0 + math.log(count)) * token_idf(token))
    shape = (len(bags), max(1, len(vocabulary)))
    matrix = sparse.csr_matrix((np.asarray(values, dtype=np.float64), (rows, cols)), shape=shape)
    if day_weighting and len(bags) >= DAY_MIN_ARTICLES:
        documents = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1])
        share = documents / len(bags)
        # 1 for tokens rarer than DAY_COMMON_SHARE, falling to 0 for a token every article has.
        factor = np.clip(np.log(1.0 / np.maximum(share, 1e-9)) / math.log(1.0 / DAY_COMMON_SHARE), 0.0, 1.0)
        matrix = sparse.csr_matrix(matrix @ sparse.diags(factor))
    return matrix


def _matrix(bags: Sequence[Counter[str]], day_weighting: bool) -> sparse.csr_matrix:
    """Rows: L2-normalised weighted vectors."""
    matrix = _weighted(bags, day_weighting)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def containment(profiles: Sequence[Profile], day_weighting: bool = True) -> np.ndarray:
    """All pairs: the weighted share of i's words and anchors that j also has. For a headline,
    which a cosine against a whole article undervalues (it is short, the article long)."""
    weighted = _weighted([p.words + p.anchors for p in profiles], day_weighting)
    present = weighted.copy()
    present.data[:] = 1.0
    totals = np.asarray(weighted.sum(axis=1)).ravel()
    totals[totals == 0] = 1.0
    return np.asarray((weighted @ present.T).todense()) / totals[:, None]


def shared_names(profiles: Sequence[Profile]) -> tuple[np.ndarray, np.ndarray]:
    """All pairs: how many entities and quantities two articles share, and their Jaccard."""
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, p in enumerate(profiles):
        for token in p.anchors:
            if token[0] in "@#":
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
    shape = (len(profiles), max(1, len(vocabulary)))
    present = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    shared = np.asarray((present @ present.T).todense())
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    return shared, shared / np.maximum(union, 1.0)


def probability(words: np.ndarray, anchors: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """The logistic model on cosines (any shape); cross is 1.0 where the languages differ."""
    root_words, root_anchors = np.sqrt(np.clip(words, 0.0, 1.0)), np.sqrt(np.clip(anchors, 0.0, 1.0))
    same, other = SAME_LANGUAGE, CROSS_LANGUAGE
    z = np.where(cross > 0, other[0] + other[1] * root_words + other[2] * root_anchors,
                 same[0] + same[1] * root_words + same[2] * root_anchors)
    return 1.0 / (1.0 + np.exp(-z))


def features(profiles: Sequence[Profile], day_weighting: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All-pairs word cosine, anchor cosine and cross-language flag, as dense square arrays."""
    words = _matrix([p.words for p in profiles], day_weighting)
    anchors = _matrix([p.anchors for p in profiles], day_weighting)
    word_cos = np.asarray((words @ words.T).todense())
    anchor_cos = np.asarray((anchors @ anchors.T).todense())
    # Same language, or unknown on either side: compared as one language.
    index: dict[str, int] = {}
    codes = np.asarray([-1 if p.language is None else index.setdefault(p.language, len(index)) for p in profiles])
    known = codes >= 0
    cross = ((codes[:, None] != codes[None, :]) & known[:, None] & known[None, :]).astype(np.float64)
    return word_cos, anchor_cos, cross


def similarity(profiles: Sequence[Profile], day_weighting: bool = True) -> np.ndarray:
    """All-pairs probability that two articles report the same story."""
    return probability(*features(profiles, day_weighting))
