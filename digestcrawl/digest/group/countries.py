"""Country names in any language, read as one name per country.

"Polen", "Poland", "波兰", "波蘭" and "ポーランド" are one country. A German report and an English
or Chinese one about the same event name its places each in its own language; read as one
token, those names are something the two reports share (``similarity.anchor_tokens``).

The spellings come from two catalogues, so nothing here is a hand-made list: the names that
user interfaces show (Unicode CLDR through Babel: "Russia", "Russland", "俄罗斯", "南韓") and the
ISO 3166 names with their translations (pycountry's gettext catalogues from the iso-codes
project: "Hong Kong" and "香港", where CLDR says "Hong Kong SAR China"). Codes that ISO leaves
to private use (CLDR's pseudo-locales, "Outlying Oceania") are left out; the European Union
and the United Nations, which news names like countries, are in.

A text is searched for the spellings of its own language and the English ones (English names
turn up in every language's news). Spellings in words match as written, capital included: a
country is a proper noun, and French "réunion" is a meeting while "Réunion" is the island; the
German "Island" is not looked for in English text. The longest spelling wins where several
overlap ("Papua New Guinea" is not "Guinea"; "印度尼西亚" is not "印度"). A country is named by its
ISO 3166 alpha-2 code.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import pycountry
from babel import Locale, UnknownLocaleError

from digestcrawl.text import CJK_RUN, fold

# A language family's catalogues (pycountry's, CLDR's) where their names are not the family's.
CATALOGUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "zh": (("zh_CN", "zh_TW", "zh_HK"), ("zh_Hans", "zh_Hant", "zh_Hant_HK")),
}
PRIVATE_USE = re.compile(r"AA|Q[M-Z]|X[A-Z]|ZZ")  # ISO 3166-1 user-assigned codes
UNWRITTEN = re.compile(r"[,()]| - ")  # "Korea, Republic of", "Myanmar (Burma)": not running text
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")  # a word of letters (any script), hyphens inside


@dataclass(frozen=True)
class _Spellings:
    """One language family's spellings → country codes."""

    words: dict[str, str]  # spellings in words (Latin, Arabic, Cyrillic … script)
    cjk: dict[str, str]  # CJK and kana spellings, folded
    # First word (CJK: character) → the lengths of the spellings it starts, longest first: most
    # words and characters of a text start none, and cost one lookup.
    word_starts: dict[str, tuple[int, ...]]
    cjk_starts: dict[str, tuple[int, ...]]
    cjk_first: re.Pattern[str]  # a character that starts a CJK spelling


@cache
def _codes() -> frozenset[str]:
    cldr = {code for code in Locale.parse("en").territories
            if isinstance(code, str) and code.isalpha() and not PRIVATE_USE.fullmatch(code)}
    return frozenset(cldr | {country.alpha_2 for country in pycountry.countries})


def _names(iso_catalogues: tuple[str, ...], cldr_locales: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(spelling, code) from the named catalogues; a missing catalogue gives nothing."""
    codes = _codes()
    for catalogue in iso_catalogues:
        try:  # the English names are the catalogues' keys
            translate = str if catalogue == "en" else gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[catalogue]).gettext
        except OSError:
            continue
        for country in pycountry.countries:
            for name in {country.name, getattr(country, "common_name", country.name)}:
                yield translate(name), country.alpha_2
    for locale in cldr_locales:
        try:
            territories = Locale.parse(locale).territories
        except (UnknownLocaleError, ValueError):
            continue
        yield from ((name, code) for code, name in territories.items() if isinstance(code, str) and code in codes)


def english_names(code: str) -> tuple[str, ...]:
    """A country's English names, folded."""
    return _english_names()[code]


@cache
def _english_names() -> dict[str, tuple[str, ...]]:
    names: dict[str, set[str]] = {}
    for name, code in _names(("en",), ("en",)):
        names.setdefault(code, set()).add(fold(name))
    return {code: tuple(sorted(spellings)) for code, spellings in names.items()}


@cache
def _spellings(language: str | None) -> _Spellings:
    own = CATALOGUES.get(language, ((language,), (language,))) if language else ((), ())
    spelled: dict[str, str] = {}
    for catalogues in (("en",), ("en",)), own:
        for name, code in _names(*catalogues):
            if name and not UNWRITTEN.search(name):
                spelled.setdefault(name, code)
    words = {s: c for s, c in spelled.items() if not CJK_RUN.search(s)}
    cjk = {fold(s): c for s, c in spelled.items() if CJK_RUN.fullmatch(s) and len(s) > 1}
    cjk_starts = _starts(cjk)
    return _Spellings(words, cjk, _starts(s.split() for s in words), cjk_starts,
                      re.compile(f"[{''.join(map(re.escape, cjk_starts))}]" if cjk_starts else "(?!)"))


def _starts(spellings: Iterable[Sequence[str]]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for spelling in spellings:
        lengths.setdefault(spelling[0], set()).add(len(spelling))
    return {first: tuple(sorted(sizes, reverse=True)) for first, sizes in lengths.items()}


def countries(text: str, language: str | None) -> Counter[str]:
    """The countries ``text`` names, by code, with how often."""
    spellings = _spellings(language)
    found: Counter[str] = Counter()
    tokens = WORD.findall(text)
    i = 0
    while i < len(tokens):
        for size in spellings.word_starts.get(tokens[i], ()):
            code = spellings.words.get(" ".join(tokens[i:i + size]))
            if code is not None:
                found[code] += 1
                i += size - 1
                break
        i += 1
    if spellings.cjk:
        # A CJK spelling has no word boundaries: found at any character that starts one.
        folded, end = fold(text), 0
        for start in spellings.cjk_first.finditer(folded):
            i = start.start()
            for size in spellings.cjk_starts[folded[i]] if i >= end else ():
                code = spellings.cjk.get(folded[i:i + size])
                if code is not None:
                    found[code] += 1
                    end = i + size
                    break
    return found


def is_spelling(name: str, language: str | None) -> bool:
    """Whether a folded one-word name spells a country in ``language`` or English: counted as
    the country, not again as a name."""
    return name in _folded_words(language)


@cache
def _folded_words(language: str | None) -> frozenset[str]:
    return frozenset(fold(spelling) for spelling in _spellings(language).words if " " not in spelling)
