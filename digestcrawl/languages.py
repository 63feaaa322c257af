"""The languages a post can be written in (DIGEST_LANGUAGE), the one list of them.

Each language says how it reads the crawled text: the ``lang`` of its page, the article
languages (as extraction tags them) it prefers to quote, in order, and the alias scripts of
``models.yaml`` that name a model in it. Everything keyed by a post language (headings,
phrases, prompt rules, fonts) is keyed by this enum, and tests check every member has its entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

# The scripts a model's aliases (models.yaml) and a search query's terms are written in.
Script = Literal["latin", "zh-Hant", "zh-Hans", "ja"]


class Language(StrEnum):
    ZH_TW = "zh-TW"
    ZH_CN = "zh-CN"
    EN = "en"
    JA = "ja"

    @property
    def page_lang(self) -> str:
        """BCP 47, as <html lang> and og:locale want it."""
        return _TRAITS[self].page_lang

    @property
    def article_languages(self) -> tuple[str, ...]:
        """The article languages whose sentences this post quotes, preferred first."""
        return _TRAITS[self].article_languages

    @property
    def alias_scripts(self) -> tuple[Script, ...]:
        """The scripts of the model's aliases a post in this language tags it with (a Chinese
        post's tags are Chinese names)."""
        return _TRAITS[self].alias_scripts

    @property
    def is_chinese(self) -> bool:
        return self.page_lang.startswith("zh")


@dataclass(frozen=True)
class _Traits:
    page_lang: str
    article_languages: tuple[str, ...]
    alias_scripts: tuple[Script, ...]


_TRAITS = {
    Language.ZH_TW: _Traits("zh-Hant", ("zh-Hant", "zh-Hans"), ("zh-Hant", "zh-Hans")),
    Language.ZH_CN: _Traits("zh-Hans", ("zh-Hans", "zh-Hant"), ("zh-Hans", "zh-Hant")),
    Language.EN: _Traits("en", ("en",), ("latin",)),
    Language.JA: _Traits("ja", ("ja",), ("latin", "ja")),
}
