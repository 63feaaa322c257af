"""Chinese text in the output's script (zh-TW: OpenCC ``s2twp``, phrase level; zh-CN: ``t2s``);
Japanese and English text is left as it is."""

from __future__ import annotations

import re

from digestcrawl.digest.model import StoryArticle
from digestcrawl.digest.publish.markdown import plain
from digestcrawl.text import opencc_converter, to_simplified

# Phrase-level for Taiwan (信息 → 資訊, 網絡 → 網路), not character by character.
OPENCC_CONFIGS = {"zh-TW": "s2twp", "zh-CN": "t2s"}
# What OpenCC's phrase tables get wrong, fixed after conversion: 總台 read as a counter, and
# Taiwan IT terms matched across a word boundary (明|显存|在 → 明視訊記憶體在, 各|项目|标 → 各專案標).
OPENCC_FIXES = {"zh-TW": {"電視總檯": "電視總台", "廣播總檯": "廣播總台", "明視訊記憶體在": "明顯存在",
                          "專案標": "項目標"}}
FIX_PATTERNS = {language: re.compile("|".join(map(re.escape, fixes))) for language, fixes in OPENCC_FIXES.items()}
# Words s2twp's phrase table rewrites into a Taiwan term that is wrong in news prose (參數 →
# 引數 "model parameters", 進程 → 程序 "the process of globalisation", 文件 → 檔案 "a policy
# document", 對象 → 物件 "the people served"): converted character by character (s2tw) instead.
# Regexes over the traditional form; the simplified one is matched too (a lookaround names
# both forms: each alternative is only one of them). A lookaround keeps the
# phrases where s2twp is right (程序員 → 程式設計師, 文件夾 → 資料夾, 面向對象 → 物件導向).
OPENCC_KEEP = {"zh-TW": ("參數", "類型", "(?<!面向)對象", "局部", "全局", "進程", "文件(?![夾夹])",
                         "擴展(?!名)", "權限", "實例", "鏡像", "透視圖", "力學性能", "社區衛生",
                         "低級錯誤", "低級趣味", "發布會", "發佈會", "發布", "發佈",
                         "(?<![小用])程序(?![員员])")}
CHARACTER_CONFIGS = {"zh-TW": "s2tw"}  # the converter for kept words


def _keep_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(" + "|".join(dict.fromkeys(form for word in words for form in (word, to_simplified(word))))
                      + ")")


KEEP_PATTERNS = {language: _keep_pattern(words) for language, words in OPENCC_KEEP.items()}
# Japanese segments keep their kanji: OpenCC would turn 国 into 國.
KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff9d]")
SEGMENTS = re.compile(r"(?<=[。！？!?])|(?=[「『“（(])|(?<=[」』”）)])")


def to_script(text: str, language: str) -> str:
    """Chinese text in the output language's script; Japanese segments stay as written."""
    config = OPENCC_CONFIGS.get(language)
    if config is None or not text:
        return text
    phrases, keep = opencc_converter(config).convert, KEEP_PATTERNS.get(language)

    def convert(part: str) -> str:
        if keep is None:
            return phrases(part)
        characters = opencc_converter(CHARACTER_CONFIGS[language]).convert
        # split() with a group: kept words at odd indices.
        return "".join(characters(piece) if i % 2 else phrases(piece) for i, piece in enumerate(keep.split(part)))

    converted = "".join(part if KANA.search(part) else convert(part) for part in SEGMENTS.split(text))
    fixes = OPENCC_FIXES.get(language)
    return FIX_PATTERNS[language].sub(lambda m: fixes[m[0]], converted) if fixes else converted


def source_text(article: StoryArticle, text: str, language: str) -> str:
    """A crawled string as shown: converted only when the article is Chinese."""
    return to_script(text, language) if (article.language or "").startswith("zh") else text


def generated_text(text: str, language: str) -> str:
    return to_script(plain(text), language)
