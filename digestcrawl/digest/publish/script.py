"""Chinese text in the output's script (zh-TW: OpenCC ``s2twp``, phrase level, with the project's
phrase table ``templates/phrases.yaml``; zh-CN: ``t2s``); Japanese and English text is left as it is.

For zh-TW, each sentence is converted only when it is written in Simplified script
(``is_simplified``): a sentence an outlet wrote in Traditional script stays exactly as written
(台灣 is not made 臺灣, 數據 not 資料, 公布 not 公佈). A converted sentence gets Taiwan's 「」 quotes
and the table's fixes; every sentence of the post's own prose gets the table's names (普京 → 普丁).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from zhon import cedict

from digestcrawl.digest.model import StoryArticle
from digestcrawl.digest.publish.markdown import plain
from digestcrawl.text import HAN_CLASS, opencc_converter, to_simplified

# Phrase-level for Taiwan (信息 → 資訊, 網絡 → 網路), not character by character.
OPENCC_CONFIGS = {"zh-TW": "s2twp", "zh-CN": "t2s"}
CHARACTER_CONFIG = "s2tw"  # the converter for kept words (phrases.yaml `keep`)
# Japanese segments keep their kanji: OpenCC would turn 国 into 國.
KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff9d]")
SEGMENTS = re.compile(r"(?<=[。！？!?])|(?=[「『“（(])|(?<=[」』”）)])")
SENTENCES = re.compile(r"(?<=[。！？!?\n])")
QUOTES = str.maketrans({"“": "「", "”": "」", "‘": "『", "’": "』"})
CJK_QUOTES = re.compile(rf"[“‘](?=[^”’]*[{HAN_CLASS}])[^“”‘’]*[”’]")


@dataclass(frozen=True)
class Phrase:
    wrong: str
    right: str
    check: bool = True  # the post checker reports ``wrong`` when it finds it


class PhraseTable:
    """``templates/phrases.yaml``: fixes of converted text, names, and words kept from s2twp."""

    def __init__(self, data: dict[str, list]) -> None:  # type: ignore[type-arg]
        self.converted = tuple(Phrase(**row) for row in data["converted"])
        self.names = tuple(Phrase(**row) for row in data["names"])
        self.reported = tuple((re.compile(row["wrong"]), row["right"]) for row in data["reported"])
        forms = (form for word in data["keep"] for form in (word, to_simplified(word)))
        self.keep = re.compile("(" + "|".join(dict.fromkeys(forms)) + ")")
        self._converted, self._names = _table(self.converted), _table(self.names)

    def fix_converted(self, text: str) -> str:
        return self._converted[0].sub(lambda m: self._converted[1][m[0]], text)

    def fix_names(self, text: str) -> str:
        return self._names[0].sub(lambda m: self._names[1][m[0]], text)


def _table(phrases: tuple[Phrase, ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    table = {p.wrong: p.right for p in phrases}
    # Longest first: 生髮表 before 髮表.
    return re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True)))), table


@lru_cache(maxsize=1)
def phrase_table() -> PhraseTable:
    return PhraseTable(yaml.safe_load(resources.files("templates").joinpath("phrases.yaml").read_text("utf-8")))


# Characters only one script writes (CC-CEDICT): 区 and 发 are Simplified only, 區 and 發
# Traditional only, 里, 台 and 布 both.
SIMPLIFIED_ONLY = frozenset(cedict.simplified) - frozenset(cedict.traditional)
TRADITIONAL_ONLY = frozenset(cedict.traditional) - frozenset(cedict.simplified)


def _script_of(character: str) -> int:
    """+1 for a character only Simplified script writes, -1 for one only Traditional writes, 0
    for one both share or no Han character."""
    return (character in SIMPLIFIED_ONLY) - (character in TRADITIONAL_ONLY)


def _score(text: str) -> int:
    return sum(_script_of(c) for c in text)


def is_simplified(text: str) -> bool:
    """``text`` has more characters that only Simplified script writes than Traditional ones."""
    return _score(text) > 0


def _to_taiwan(sentence: str) -> str:
    table = phrase_table()
    phrases, characters = opencc_converter("s2twp").convert, opencc_converter(CHARACTER_CONFIG).convert

    def convert(part: str) -> str:
        # split() with a group: kept words at odd indices.
        return "".join(characters(piece) if i % 2 else phrases(piece) for i, piece in enumerate(table.keep.split(part)))

    converted = "".join(part if KANA.search(part) else convert(part) for part in SEGMENTS.split(sentence))
    return table.fix_names(table.fix_converted(converted)).translate(QUOTES)


def to_script(text: str, language: str, simplified_source: bool = False) -> str:
    """Chinese text in the output language's script; Japanese segments stay as written, and for
    zh-TW a sentence already in Traditional script too. ``simplified_source``: the text is from
    a page in Simplified script, so a sentence of characters both scripts share (洞庭一叶: 叶 is
    both) is Simplified too."""
    config = OPENCC_CONFIGS.get(language)
    if config is None or not text:
        return text
    if language != "zh-TW":
        return "".join(part if KANA.search(part) else opencc_converter(config).convert(part)
                       for part in SEGMENTS.split(text))
    def simplified(sentence: str) -> bool:
        score = _score(sentence)
        return score > 0 or (score == 0 and simplified_source)

    return "".join(sentence if KANA.search(sentence) else _to_taiwan(sentence) if simplified(sentence)
                   else _stray_simplified(sentence) for sentence in SENTENCES.split(text))


def _stray_simplified(sentence: str) -> str:
    """A Traditional sentence with its stray Simplified characters (社区 in 開源社区) made
    Traditional one by one: nothing else of it changes."""
    characters = opencc_converter(CHARACTER_CONFIG).convert
    return "".join(characters(c) if _script_of(c) > 0 else c for c in sentence)


def source_text(article: StoryArticle, text: str, language: str) -> str:
    """A crawled string as shown: converted unless the article is Japanese (its kanji are
    Japanese), whatever language it was tagged with (a title with a model name in Latin letters
    is tagged English as often as not, and its Simplified words still are converted)."""
    tag = (article.language or "").casefold()
    if tag.startswith("ja"):
        return text
    return to_script(text, language, simplified_source=tag.startswith(("zh-hans", "zh-cn", "zh-sg")))


def generated_text(text: str, language: str) -> str:
    """A sentence of the post's own prose: in the post's script, with Taiwan's names and quotes."""
    converted = to_script(plain(text), language)
    if language != "zh-TW":
        return converted
    return CJK_QUOTES.sub(lambda m: m[0].translate(QUOTES), phrase_table().fix_names(converted))
