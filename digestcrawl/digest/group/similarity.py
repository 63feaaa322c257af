"""How likely two articles report the same story: calibrated similarity of their texts and names.

Each article becomes two weighted bags of tokens, from its title and the lead of its text:

- **words**: Snowball stems of its words (``Regierung`` and ``Regierungen``, ``announced`` and
  ``announces`` are one word; the stemmer of the article's language, English for the Latin words
  in Chinese or Japanese text; a German compound also counts as its parts, ``Bundesregierung``
  as ``Regierung`` and ``Bundes``; in Turkish, I is the capital of ı and İ that of i) and CJK
  character bigrams (so zh-Hans and zh-Hant compare after folding, and Chinese needs no
  segmenter), weighted by sublinear term frequency times inverse document frequency;
- **anchors**: what survives translation: names written with a capital or with digits
  (``McConnell``, ``GPT-4``, ``Qwen3``) that are not common words, abbreviations in capitals
  (``CDU``, ``NATO``) unless they spell a very common word (``US``, ``WHO``), numbers and quantities
  (``1億`` and ``100 million`` are one), the canonical names of ``entities.yaml``
  (``淘寶`` and ``Taobao``), and countries in any language (``Polen``, ``Poland`` and ``波蘭``:
  ``digestcrawl.digest.group.countries``), weighed by how common their English name is.
  German writes every noun with a capital: there, a capitalised word is a name only when it is
  no word of the background table and no compound of its words (``Vulkan``, ``Sommerurlaub``
  are nouns; ``Kramp-Karrenbauer`` is a name). In any language a common word with its capital
  inside a sentence is a name when many languages write it alike (``Merkel``, ``Berlin``; the
  background table counts the languages): a German noun or an English sentence start is written
  so in one.

Inverse document frequency comes from a background table of general word frequencies shipped
with the package (``conf/background.tsv.gz``, see ``scripts/build_background.py``): a day of two
articles cannot tell that "the" or "的" is common. On a day with many articles, a token most of
them carry (the watched model's own name) is weighed down further, since it tells no story
from another.

The two cosines go through a logistic model fitted on labelled news pairs (``python -m
benchmarks.stories --fit``), one for articles in one language and one for articles in two
(where little but the anchors can agree): the result is a probability, and two articles are the
same story when it is at least one half. Character bigrams of two Chinese reports of one event
agree less than the words of two English ones (a bigram across a word boundary is noise), so
within one language, two articles compared in CJK bigrams have their own intercept, and only
two articles in letters read their shared names and countries (not numbers: the day's figures
tie other events). Across
languages, two articles in letters (German and English) share cognates and names among their
words, where an article in CJK bigrams shares only its few Latin words with one in letters: the
pair in letters has its own intercept and word slope. For a
headline without text, ``containment`` tells how much of it an article holds.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Protocol

import numpy as np
import snowballstemmer
from scipy import sparse

from digestcrawl.digest.group.countries import countries, english_names, is_spelling
from digestcrawl.text import CJK_CLASS, CJK_RUN, LATIN_WORD, MULTIPLIERS, fold

LEAD_CHARS = 2000  # the lead says what the event is; the tail is background and costs time
TITLE_REPEAT = 1  # title then text, as the labelled pairs the model was fitted on were crawled
DOC_TOKENS = 300  # typical tokens per lead: turns a word's frequency into a document frequency
FLOOR_FREQUENCY = 1e-6  # a word not in the background table is about as rare as a name
COMMON_NAME_FREQUENCY = 1e-5  # a capitalised word this common is a sentence start, not a name
COMMON_ABBREVIATION_FREQUENCY = 1e-3  # an abbreviation this common spells a word ("US", "IT", "WHO")
# A token carried by more than this share of the day's articles (the watched model's own name) tells
# little about which story; a big story alone stays under it.
DAY_COMMON_SHARE = 0.2
DAY_MIN_ARTICLES = 20  # fewer articles than this say too little about what is common today

# Logistic models on the square roots of the cosines (they spread the low end, where stories
# part): p(same) = sigmoid(b0 + b_words·√words + b_anchors·√anchors + b_cjk·[both in CJK]
# + b_letters·[neither in CJK] + b_letters_words·[neither in CJK]·√words), one model for
# articles in one language (b_letters and b_letters_words 0: b_cjk tells the two kinds apart)
# and one for articles in two (where mostly names and numbers agree; b_cjk 0). Fitted by
# `python -m benchmarks.stories --fit` (L2-regularised logistic regression) on the labelled
# development pairs, which also reports the F1 of k-fold cross-fits. Within one language, the
# anchors are read for articles in letters only, and without their numbers: two reports of one
# event share its names though they tell it in other words, where reports of the day's figures
# (24 hours, COVID-19) share numbers; Chinese names are no anchors, and the numbers and countries
# left tie Chinese reports of other events (benchmarks/README.md, B8).
# (b0, b_words, b_anchors, b_cjk, b_letters, b_letters_words)
SAME_LANGUAGE = (-5.42, 11.33, 1.06, 1.34, 0.0, 0.0)
CROSS_LANGUAGE = (-2.61, 1.87, 6.3, 0.0, -1.97, 3.3)
MERGE_PROBABILITY = 0.5
# German writes compounds as one word (Bundesregierung, Klimawandel): its long words also count
# as the words they are made of, parts of at least COMPOUND_PART letters that are common words.
COMPOUNDING = frozenset({"de"})
COMPOUND_MIN = 8
COMPOUND_PART = 5
PART_FREQUENCY = 5e-6
CAPITALISED_NOUNS = frozenset({"de"})  # languages that write every noun with a capital
NAME_LANGUAGES = 3  # a word at least this many of the background's languages write is a name or a loan
QUANTITY_ANCHOR = "#"  # prefix of a quantity anchor: its normalised value
COUNTRY = "%"  # prefix of a country anchor: its ISO 3166 code (digestcrawl.digest.group.countries)
# Snowball stemmers by language (ISO 639-1); any other language's Latin words (those inside
# Chinese or Japanese text: names, English terms) are stemmed as English.
STEMMERS = {"ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
            "en": "english", "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish",
            "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
            "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch", "no": "norwegian",
            "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
            "sv": "swedish", "ta": "tamil", "tr": "turkish"}

# Arabic script's thousands separator, decimal point and percent sign, read as the Latin ones (its
# digits are digits to Python already: '١٢٣٬٤٥٦' is '123,456').
ARABIC_NUMBER_SIGNS = str.maketrans({"\u066c": ",", "\u066b": ".", "\u066a": "%"})
QUANTITY = re.compile(
    r"(?<![\d.,A-Za-z])(\d+(?:[.,]\d+)*)\s*(%|％|萬|万|億|亿|千|百|thousand|millions?|millionen|billions?|milliarden"
    r"|trillion|(?:k|m|bn|b)(?![a-z]))?",
    re.IGNORECASE)
# A name: starts with a capital, or mixes letters and digits (GPT-4o, Qwen3, A100).
_LETTER = rf"[^\W\d_{CJK_CLASS}]"  # a letter, not CJK or kana
NAME = re.compile(rf"(?<![\w])(?:[A-Z](?:{_LETTER}|\d|['’\-])*|{_LETTER}+-?\d(?:{_LETTER}|\d|[\-.])*"
                  rf"|\d+{_LETTER}(?:{_LETTER}|\d|-)*)")
POSSESSIVE = re.compile(r"['’]s$")
# Turkish and Azerbaijani write the capital of ı as I and that of i as İ ("IRAK" is "ırak"; elsewhere
# İ is an i with a dot, which case folding would leave as i and a combining dot that splits the
# word), and a name's case ending after an apostrophe (Söke'de): the ending is no word.
TURKIC = frozenset({"tr", "az"})
APOSTROPHE_ENDING = re.compile(r"(?<=\w)['’][^\W\d_]+")
_DOTLESS_I_CASE = str.maketrans({"I": "ı", "İ": "i"})
_DOTTED_CAPITAL_I = str.maketrans({"İ": "I"})
ABBREVIATION = re.compile(r"[A-ZÄÖÜ]{2,6}")


def background() -> dict[str, float]:
    """Folded token → frequency per running word in general text (the largest over languages)."""
    return _background()[0]


def languages_writing(token: str) -> int:
    """How many of the background's languages write the word (at least once a million words;
    0 or 1 for a word the table gives no count)."""
    return _background()[1].get(token, 0)


@lru_cache(maxsize=1)
def _background() -> tuple[dict[str, float], dict[str, int]]:
    table: dict[str, float] = {}
    shared: dict[str, int] = {}
    data = resources.files("digestcrawl").joinpath("conf/background.tsv.gz").read_bytes()
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        token, frequency, *languages = line.split("\t")
        table[token] = float(frequency)
        if languages:
            shared[token] = int(languages[0])
    return table, shared


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
    """Normalised quantities: '1億' and '100 million' are both '1e+08'; '20%' and '٢٠٪' are '20%'. Bare
    numbers below 10 and plain years are left out: they tie unrelated stories."""
    found = set()
    for number, unit in QUANTITY.findall(text.translate(ARABIC_NUMBER_SIGNS)):
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


class _Stemmer(Protocol):
    def stemWords(self, words: Sequence[str]) -> list[str]: ...  # Snowball's name


@cache
def stemmer(language: str | None) -> _Stemmer:
    """The Snowball stemmer of ``language`` (a family: ``de``, ``zh``); snowballstemmer runs
    PyStemmer's C build of the same algorithms when it is installed."""
    stemmer: _Stemmer = snowballstemmer.stemmer(STEMMERS.get(language or "", "english"))
    return stemmer


def word_tokens(text: str, language: str | None = None) -> tuple[Counter[str], dict[str, float]]:
    """Stems of the Latin words (two letters or more) and CJK character bigrams of the folded
    text, with each token's inverse document frequency. A stem is at least as common as the most
    common of its forms in the text: it takes that form's."""
    folded = fold_words(text, language)
    grams: Counter[str] = Counter()
    for run in CJK_RUN.findall(folded):
        grams.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    idf = {gram: token_idf(gram) for gram in grams}
    words = [w for w in LATIN_WORD.findall(folded) if len(w) > 1 and not w.isdigit()]
    if language in COMPOUNDING:
        words += [part for word in words if len(word) >= COMPOUND_MIN for part in compound_parts(word)]
    for word, root in zip(words, stemmer(language).stemWords(words), strict=True):
        grams[root] += 1
        idf[root] = min(idf.get(root, math.inf), token_idf(word))
    return grams, idf


def fold_words(text: str, language: str | None) -> str:
    """``fold`` with the article's language's capital I (``İstanbul`` is ``istanbul`` everywhere,
    ``ILÇE`` is ``ılçe`` in Turkish)."""
    return fold(text.translate(_DOTLESS_I_CASE if language in TURKIC else _DOTTED_CAPITAL_I))


def compound_parts(word: str) -> list[str]:
    """The head and tail of a German compound (``bundesregierung``: ``bundes``→``bund``,
    ``regierung``), so that it meets the words it is made of: the longest tail that is a word of
    the background table, and the head when it is one too (a linking ``s`` or ``es`` aside)."""
    table = background()
    for cut in range(COMPOUND_PART, len(word) - COMPOUND_PART + 1):
        tail = word[cut:]
        if table.get(tail, 0.0) >= PART_FREQUENCY:
            head = word[:cut]
            heads = [h for h in (head, head.removesuffix("s"), head.removesuffix("es"), head.removesuffix("n"))
                     if len(h) >= COMPOUND_PART and table.get(h, 0.0) >= PART_FREQUENCY]
            if heads:
                return [tail, heads[0]]
    return []


def _tf_idf(counts: Counter[str], idf: dict[str, float] | None = None) -> dict[str, float]:
    """Sublinear term frequency times inverse document frequency (``token_idf`` unless given)."""
    return {token: (1.0 + math.log(count)) * (idf[token] if idf is not None else token_idf(token))
            for token, count in counts.items()}


@lru_cache(maxsize=100_000)
def _fold_name(name: str) -> str:
    return POSSESSIVE.sub("", fold(name)).strip("-.'’")


def anchor_tokens(text: str, entities: set[str], spellings: frozenset[str] = frozenset(),
                  language: str | None = None) -> Counter[str]:
    """Names, quantities, entities and countries: the tokens that read the same in any language.
    A name that spells an entity or a country counts once, as that entity or country (which the
    other language spells its way)."""
    anchors: Counter[str] = Counter()
    table = background()
    for match in NAME.finditer(text):
        name, token = match.group(), _fold_name(match.group())
        if (len(token) > 1 and token not in spellings and not QUANTITY.fullmatch(token)
                and _is_name(name, token, table, language, _mid_sentence(text, match.start()))
                and not is_spelling(token, language)):
            anchors[token] += 1
    anchors.update(f"{QUANTITY_ANCHOR}{q}" for q in quantities(text))
    anchors.update(f"@{e}" for e in entities)
    anchors.update({f"{COUNTRY}{name}": n for name, n in countries(text, language).items()})
    return anchors


def _mid_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` follows a word or a comma (a sentence does not start there)."""
    before = text[max(0, start - 3):start].rstrip(" \t")  # a line break starts a sentence
    return bool(before) and (before[-1].isalnum() or before[-1] == ",")


def _is_name(name: str, token: str, table: dict[str, float], language: str | None, mid_sentence: bool) -> bool:
    """Whether a capitalised or versioned word (``name``, folded ``token``) names something. An
    abbreviation is not a sentence start: only a very common one is a word. A word with its capital
    inside a sentence that many languages write is a name (``Merkel``, ``Berlin``: a word of one
    language is not written alike in others). Else a common word with a capital is a sentence
    start; and in a language that capitalises its nouns, a word of the table, or a compound of
    two, is a noun."""
    frequency = _frequency(token, table)
    if ABBREVIATION.fullmatch(name) or frequency >= COMMON_ABBREVIATION_FREQUENCY:
        return frequency < COMMON_ABBREVIATION_FREQUENCY
    if mid_sentence and languages_writing(token) >= NAME_LANGUAGES:
        return True
    if frequency >= COMMON_NAME_FREQUENCY:
        return False
    return language not in CAPITALISED_NOUNS or not name[0].isupper() or (
        token not in table and not compound_parts(token))


def anchor_idf(token: str) -> float:
    """A country weighs what its commonest English name does in the background: Germany tells
    less than Lesotho. Any other anchor: ``token_idf``."""
    return _country_idf(token.removeprefix(COUNTRY)) if token.startswith(COUNTRY) else token_idf(token)


@cache
def _country_idf(code: str) -> float:
    # A name of several words is at most as common as its rarest word.
    return min(max(token_idf(word) for word in name.split()) for name in english_names(code))


@dataclass(frozen=True)
class Profile:
    """What similarity needs of one article: its words and anchors, weighted (tf-idf)."""

    words: dict[str, float]
    anchors: dict[str, float]
    language: str | None
    cjk: bool  # its words are mostly CJK bigrams


def profile(title: str, text: str, language: str | None, entities: set[str],
            spellings: frozenset[str] = frozenset()) -> Profile:
    lead = "\n".join([title] * TITLE_REPEAT + [text[:LEAD_CHARS]])
    family = _language_family(language)
    if family in TURKIC:
        lead = APOSTROPHE_ENDING.sub("", lead)
    counts, idf = word_tokens(lead, family)
    bigrams = sum(n for token, n in counts.items() if CJK_RUN.match(token))
    anchors = anchor_tokens(lead, entities, spellings, family)
    return Profile(_tf_idf(counts, idf), _tf_idf(anchors, {token: anchor_idf(token) for token in anchors}), family,
                   bigrams > counts.total() - bigrams)


def _language_family(language: str | None) -> str | None:
    """zh-TW and zh-CN are one language once folded; en-US and en are one."""
    return language.split("-")[0].lower() if language else None


def _weighted(bags: Sequence[dict[str, float]], day_weighting: bool) -> sparse.csr_matrix:
    """Rows: the bags' tf-idf vectors, weighed down on a big enough day by what the day shares."""
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for row, bag in enumerate(bags):
        for token, weight in bag.items():
            rows.append(row)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
            values.append(weight)
    shape = (len(bags), max(1, len(vocabulary)))
    matrix = sparse.csr_matrix((np.asarray(values, dtype=np.float64), (rows, cols)), shape=shape)
    if day_weighting and len(bags) >= DAY_MIN_ARTICLES:
        documents = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1])
        share = documents / len(bags)
        # 1 for tokens rarer than DAY_COMMON_SHARE, falling to 0 for a token every article has.
        factor = np.clip(np.log(1.0 / np.maximum(share, 1e-9)) / math.log(1.0 / DAY_COMMON_SHARE), 0.0, 1.0)
        matrix = sparse.csr_matrix(matrix @ sparse.diags(factor))
    return matrix


def _matrix(bags: Sequence[dict[str, float]], day_weighting: bool) -> sparse.csr_matrix:
    """Rows: L2-normalised weighted vectors."""
    matrix = _weighted(bags, day_weighting)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _summed(*bags: dict[str, float]) -> dict[str, float]:
    total: dict[str, float] = {}
    for bag in bags:
        for token, weight in bag.items():
            total[token] = total.get(token, 0.0) + weight
    return total


def containment(profiles: Sequence[Profile], day_weighting: bool = True) -> np.ndarray:
    """All pairs: the weighted share of i's words and anchors that j also has. For a headline,
    which a cosine against a whole article undervalues (it is short, the article long)."""
    weighted = _weighted([_summed(p.words, p.anchors) for p in profiles], day_weighting)
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
            if token[0] in f"@{QUANTITY_ANCHOR}":
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
    shape = (len(profiles), max(1, len(vocabulary)))
    present = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    shared = np.asarray((present @ present.T).todense())
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    return shared, shared / np.maximum(union, 1.0)


def probability(words: np.ndarray, anchors: np.ndarray, cross: np.ndarray, cjk: np.ndarray) -> np.ndarray:
    """The logistic model on cosines (any shape); cross is 1.0 where the languages differ, cjk
    how many of the two articles (0, 1 or 2) are compared in CJK bigrams. Within one language the
    anchors count for two articles in letters only."""
    root_words, root_anchors = np.sqrt(np.clip(words, 0.0, 1.0)), np.sqrt(np.clip(anchors, 0.0, 1.0))
    both_cjk, letters = (cjk == 2).astype(np.float64), (cjk == 0).astype(np.float64)
    read_anchors = root_anchors * np.where(cross > 0, 1.0, letters)
    columns = (1.0, root_words, read_anchors, both_cjk, letters, letters * root_words)
    z = np.where(cross > 0, sum(b * x for b, x in zip(CROSS_LANGUAGE, columns, strict=True)),
                 sum(b * x for b, x in zip(SAME_LANGUAGE, columns, strict=True)))
    return 1.0 / (1.0 + np.exp(-z))


def features(profiles: Sequence[Profile], day_weighting: bool = True
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All-pairs word cosine, anchor cosine (across languages of every anchor, within one of the
    anchors but the numbers), cross-language flag and how many of the two are compared in CJK
    bigrams, as dense square arrays."""
    words = _matrix([p.words for p in profiles], day_weighting)
    anchors = _matrix([p.anchors for p in profiles], day_weighting)
    names = _matrix([{token: weight for token, weight in p.anchors.items() if not token.startswith(QUANTITY_ANCHOR)}
                     for p in profiles], day_weighting)
    word_cos = np.asarray((words @ words.T).todense())
    # Same language, or unknown on either side: compared as one language.
    index: dict[str, int] = {}
    codes = np.asarray([-1 if p.language is None else index.setdefault(p.language, len(index)) for p in profiles])
    known = codes >= 0
    cross = ((codes[:, None] != codes[None, :]) & known[:, None] & known[None, :]).astype(np.float64)
    anchor_cos = np.where(cross > 0, np.asarray((anchors @ anchors.T).todense()),
                          np.asarray((names @ names.T).todense()))
    cjk = np.asarray([p.cjk for p in profiles], dtype=np.float64)
    return word_cos, anchor_cos, cross, cjk[:, None] + cjk[None, :]


def similarity(profiles: Sequence[Profile], day_weighting: bool = True) -> np.ndarray:
    """All-pairs probability that two articles report the same story."""
    return probability(*features(profiles, day_weighting))
