"""What a text states that its copies state too: its numbers, dates and names.

Near-duplicate signatures (``digestcrawl.text.dedup``) see two texts that differ in one figure as
the same text: a page that says 720億 and one that says 320億 share nearly every shingle. A copy is
stored as a link to its original and its own text is never shown, so linking them loses a
claim. Two texts whose ``facts`` ``differ`` (each states a number, date or name the other does
not) are never copies; one that only states more or fewer of them may be: syndication adds a
stock code, a byline or a dateline, and cuts paragraphs.

- Numbers, with the unit or scale written after them: ``720億``, ``1,000``, ``20%``, ``3.5
  billion`` (thousands separators dropped; Traditional and Simplified scale characters alike).
  Numeric dates and times are numbers too (``2026年1月19日``, ``10:30``).
- Date words: 周一/星期一/週一, 今天/昨天/明天/前天/后天 (month and weekday names in Latin
  scripts are capitalised: names).
- Names: Latin words with a capital that do not open a sentence (``Alibaba`` inside a sentence,
  ``Qwen`` after Chinese text), and words that mix letters and digits (``Qwen3``, ``4o``);
  CJK script has no capitals, so its names are those set in title or quotation brackets
  (《通義千問》, 「千問」). A capital opening a sentence or a headline is a grammar mark, not a name.

Texts are read in NFKC (a fullwidth ７２０ is 720) and each fact is folded like the texts the
dedup compares (``digestcrawl.text.relevance.fold``), so a zh-Hant reprint of a zh-Hans story
states the same facts.
"""

from __future__ import annotations

import re
import unicodedata

from digestcrawl.text.chars import CJK_CLASS, compat_alnum
from digestcrawl.text.relevance import fold

Facts = frozenset[str]

# Number words and unit letters as multipliers: 1億, 100 million and 100m are one quantity.
MULTIPLIERS = {"萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "千": 1e3, "百": 1e2, "thousand": 1e3,
               "million": 1e6, "millionen": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9,
               "milliarden": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}

_LATIN = rf"[^\W\d_{CJK_CLASS}]"  # a letter of a script written with spaces (not CJK, not kana)
_ALNUM = rf"[^\W_{CJK_CLASS}]"
LATIN_ALNUM = re.compile(_ALNUM)
# Each pattern starts with a character class, which the regex engine scans for at C speed; what
# comes before a match is checked on the few matches.
# A number, with the separators of thousands, decimals and clock times, and the unit or scale
# right after it.
NUMBER = re.compile(r"(\d+(?:[.,:]\d+)*)"
                    r"(?:\s*(%|％|万|萬|亿|億|兆|千|百|(?i:thousand|million|billion|trillion|bn)(?![a-z])))?")
THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
SCALE_FORMS = str.maketrans("萬億％", "万亿%")
# A word with a capital (Latin, Greek, Cyrillic); apostrophes and dots inside it are kept
# (Node.js), hyphens part it (Apache-2.0 states what Apache 2.0 does).
CAPITALISED = re.compile(rf"[A-ZÀ-ÖØ-ÞΑ-ΩА-Я]{_ALNUM}*(?:['’.]{_ALNUM}+)*")
WORD = re.compile(rf"{_ALNUM}+(?:['’.]{_ALNUM}+)*")
# What may stand between a full stop (or a line break) and the word that opens a sentence.
OPENERS = " \t\"'“‘(（「『《"
SENTENCE_ENDS = ".!?。！？\n"
# Chinese date words (month and weekday names in Latin scripts are capitalised: names).
DATE_WORD = re.compile(r"[星礼禮周週今昨明前后後][期拜]?[一二三四五六日天]")
CJK_NAME = re.compile(r"[《〈「『“]([^《》〈〉「」『』“”\n]{1,30})[》〉」』”]")
POSSESSIVE = re.compile(r"['’]s$")


def stated_facts(text: str) -> Facts:
    """The numbers, date words and names ``text`` states, folded."""
    if not text.isascii() and compat_alnum().search(text):  # ７２０ is 720
        text = unicodedata.normalize("NFKC", text)
    found: set[str] = set()
    names: list[str] = []
    for match in NUMBER.finditer(text):
        start, end = match.span()
        if (start and LATIN_ALNUM.match(text, start - 1)) or LATIN_ALNUM.match(text, end):
            names.append(_word_around(text, start))  # Qwen3, A100, 72B, 4o: a name
            continue
        value, scale = match.group(1), (match.group(2) or "").translate(SCALE_FORMS).casefold()
        found.add((value.replace(",", "") if THOUSANDS.fullmatch(value) else value) + scale)
    for match in CAPITALISED.finditer(text):
        start = match.start()
        if start and LATIN_ALNUM.match(text, start - 1):
            continue  # iPhone: inside a word
        if not _opens_sentence(text, start) or any(c.isdigit() for c in match.group()):
            names.append(match.group())
    found.update(POSSESSIVE.sub("", name).casefold() for name in names)
    # Names in brackets and date words may be written in either Chinese script: folded at once.
    cjk = [f"《{name.strip()}》" for name in CJK_NAME.findall(text)] + DATE_WORD.findall(text)
    if cjk:
        found.update(fold("\n".join(cjk)).split("\n"))
    return frozenset(found)


def _word_around(text: str, position: int) -> str:
    start = position
    while start and LATIN_ALNUM.match(text, start - 1):
        start -= 1
    found = WORD.match(text, start)
    return found.group() if found else text[position]


def _opens_sentence(text: str, start: int) -> bool:
    before = text[max(0, start - 4):start].rstrip(OPENERS)
    return (not before and start <= 4) or (before != "" and before[-1] in SENTENCE_ENDS)


def differ(first: Facts, second: Facts) -> bool:
    """Whether two texts state different facts: each states one the other does not (720億 against
    320億, Monday against Tuesday). One that only states more (a stock code, a byline, a
    paragraph the other cut) still reads as the same text."""
    return not (first <= second or second <= first)
