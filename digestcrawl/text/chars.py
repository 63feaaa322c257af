"""Character classes and whitespace helpers every text step shares: which code points are kana,
Han or CJK, and how runs of whitespace are folded.

Kana is U+3040–U+30FF (hiragana, katakana, their marks); Han is CJK Unified Ideographs with
Extension A, and the compatibility ideographs. Both as code point ranges (for numpy masks) and as
compiled patterns.

Chinese script conversion: one OpenCC converter per configuration in the process
(:func:`opencc_converter`), Simplified script for comparing by :func:`to_simplified`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

KANA_RANGE = (0x3040, 0x30FF)
HAN_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF))
CJK_RANGES = (KANA_RANGE, *HAN_RANGES)


def char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """The inside of a regex character class (no brackets) matching ``ranges``."""
    return "".join(f"{chr(low)}-{chr(high)}" for low, high in ranges)


KANA_CLASS = char_class((KANA_RANGE,))
HAN_CLASS = char_class(HAN_RANGES)
CJK_CLASS = char_class(CJK_RANGES)
KANA = re.compile(f"[{KANA_CLASS}]")
HAN = re.compile(f"[{HAN_CLASS}]")
CJK = re.compile(f"[{CJK_CLASS}]")
CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
# Letters and digits that NFKC maps to plain ones: in the BMP (fullwidth, halfwidth, circled,
# squared, superscript, ligatures; found by their decomposition's compatibility tag), and the
# block of styled letters and digits (𝐐𝐰𝐞𝐧), whole: a range beyond the BMP in a character class
# costs the search its bitmap, so it is one range, not its 80 pieces.
MATH_ALPHANUMERICS = (0x1D400, 0x1D7FF)


@lru_cache(maxsize=1)
def compat_alnum() -> re.Pattern[str]:
    """A letter or digit that NFKC changes, found in microseconds (NFKC itself costs about 0.1 µs
    a character on CJK text). Built once (10 ms), from the Unicode database of this Python."""
    ranges: list[tuple[int, int]] = []
    for code in range(0xA0, 0x10000):
        char = chr(code)
        if unicodedata.decomposition(char).startswith("<") and unicodedata.category(char)[0] in "LN":
            ranges.append((ranges.pop()[0], code) if ranges and ranges[-1][1] == code - 1 else (code, code))
    return re.compile(f"[{char_class((*ranges, MATH_ALPHANUMERICS))}]")


# A word of a script written with spaces: letters and digits, CJK excluded.
LATIN_WORD = re.compile(rf"[^\W{CJK_CLASS}]+")
# Zero-width spaces and joiners, direction marks, word joiner, BOM, soft hyphen; and what no
# database or post should hold: control characters (PostgreSQL refuses NUL) but those Python
# reads as whitespace or line breaks (tab, \n, \r, VT, FF, \x1c-\x1e, NEL: the folding below
# handles them), and lone surrogates (JSON "\ud800" decodes to one; UTF-8 cannot encode it).
INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
# Whitespace inside a line: spaces, tabs, the ideographic space, no-break space.
LINE_SPACE = re.compile(r"[ \t\u3000\xa0]+")


def squash_spaces(text: str) -> str:
    """Every run of whitespace (line breaks included) as one space; none at either end."""
    return " ".join(text.split())


def squash_line_spaces(text: str) -> str:
    """Each line's runs of spaces as one space, lines trimmed, empty lines dropped."""
    lines = (LINE_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def clean_text(text: str, keep_paragraphs: bool = False) -> str:
    """NFC, without invisible and control characters, whitespace folded: into one line, or per line with
    ``keep_paragraphs`` (an article's text keeps its paragraphs)."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return squash_line_spaces(text) if keep_paragraphs else squash_spaces(text)


@lru_cache(maxsize=4)
def opencc_converter(config: str) -> opencc.OpenCC:
    """The process's OpenCC converter for ``config`` ("t2s", "s2twp", ...): each loads its tables."""
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """``text`` in Simplified script (OpenCC ``t2s``)."""
    return opencc_converter("t2s").convert(text)


# Latin-script words in lower case: what an English (or other Latin-script) sentence is made of,
# where the names and figures a Chinese sentence quotes (Qwen3-Coder, 80B, Hugging Face) are not.
PROSE_WORD = re.compile(r"(?<![\w'’-])[a-z]{2,}(?![\w-])")


def reads_as_chinese(text: str) -> bool:
    """Whether ``text`` is Chinese prose: Han characters at least as many as lower-case Latin
    words (so 「Qwen3-Coder-Next 總參數 80B、啟用 3B」 is: the names and figures a Chinese sentence
    quotes do not make it foreign) and no more kana than a Chinese text quotes (a Japanese
    sentence is not)."""
    han = len(HAN.findall(text))
    return han >= 2 and han >= len(PROSE_WORD.findall(text)) and len(KANA.findall(text)) * 10 <= han
