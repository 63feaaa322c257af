"""Does a text talk about a watched model? Alias matching across scripts, with a score.

Text and aliases are both folded (NFKC, Simplified Chinese by OpenCC, lower case) before
matching, so 通義千問 in a zh-Hant page and 通义千问 in a zh-Hans page are the same hit, and so are
a fullwidth Ｑｗｅｎ and Qwen. Latin aliases match on word boundaries (``Qwen3`` is Qwen,
``Geminids`` is not Gemini). An ambiguous alias (the animal, the zodiac sign, a first name)
counts only when the AI context words outnumber the everyday ones, a product name built on it
("Gemini 3 Pro", "2.5 Flash", "Claude Opus") counting as AI context. A match records where the
model is first named (title, the lead of the text, or further down) and how often. An item from
a model's own source that does not name it is still that model's, placed ``owner``
(``RelevanceMatcher.owned``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from digestcrawl.text.chars import compat_alnum, to_simplified

if TYPE_CHECKING:  # the configuration (pydantic, YAML) stays out of the extraction workers, which need fold
    from digestcrawl.config import ModelConfig

TITLE_WEIGHT = 3
# The placement of a model on an item from its own source (its Hugging Face organisation,
# GitHub repository or official blog) that does not name it: a release titled "v0.3.1".
OWNER_PLACEMENT = "owner"
BODY_HIT_CAP = 5
LEAD_CHARS = 400  # the lead: the opening of the main text, where a story names its subject
# Right after an ambiguous alias, a version ("Gemini 3", "Gemini 2.5 Flash") names the product.
VERSION = r"[\s\-_]*\d(?:\.\d{1,2})?(?![\d%])"
FAMILY_GAP = r"[^\n。！？!?]{0,15}?"  # "gemini … pro": a family word a few characters on


@lru_cache(maxsize=16)  # a page's text is folded by several passes (relevance, walls, dedup): once
def fold(text: str) -> str:
    """The form texts are compared in: NFKC (fullwidth Ｑｗｅｎ is Qwen, ① is 1), Simplified
    script, case-folded. Only for comparing: stored text keeps the characters it was written in."""
    if not text.isascii() and compat_alnum().search(text):  # most texts have nothing NFKC would change
        text = unicodedata.normalize("NFKC", text)
    return to_simplified(text).casefold()


def term_pattern(term: str) -> re.Pattern[str]:
    folded = fold(term)
    if re.search(r"[^\x00-\x7f]", folded):
        # CJK and kana have no word boundaries: a plain substring match.
        return re.compile(re.escape(folded))
    first, *rest = (re.escape(part) for part in folded.split())
    # Not inside a longer Latin word; a trailing digit is a version (Qwen3, Llama4). The check
    # of the character before sits after the first word, so every pattern starts with a literal
    # and the regex engine can skip to where it may match.
    body = rf"{first}(?<![a-z0-9]{first})" + "".join(rf"[\s\-_]*{part}" for part in rest)
    return re.compile(rf"{body}(?![a-z])")


def any_term(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for several terms (longest first), so a text is scanned once, not per term."""
    if not terms:
        return re.compile(r"(?!)")  # matches nothing
    patterns = sorted((term_pattern(term).pattern for term in terms), key=len, reverse=True)
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


@dataclass(frozen=True)
class Match:
    model: str
    aliases: tuple[str, ...]
    score: int
    in_title: bool
    placement: str = "body"  # where the first mention is: title, lead (opening of the text) or body
    hits: int = 0  # mentions in title and text, all aliases


@dataclass(frozen=True)
class Verdict:
    matches: dict[str, Match]
    # Models whose only hits were ambiguous aliases used in their everyday sense.
    ambiguous: tuple[str, ...]

    @property
    def drop_reason(self) -> str | None:
        if self.matches:
            return None
        return "ambiguous_alias" if self.ambiguous else "off_topic"


class ModelMatcher:
    def __init__(self, key: str, model: ModelConfig) -> None:
        self.key = key
        # One pattern per folded form (通義千問 and 通义千问 are one alias), longest first: a
        # longer alias's hits are blanked out so 千問 inside 通義千問 is not counted twice.
        unique = {fold(alias): alias for alias in reversed(model.all_aliases)}
        self._aliases = [(unique[key], term_pattern(key)) for key in sorted(unique, key=len, reverse=True)]
        # One scan for the aliases' leading words as plain substrings answers "no alias at all",
        # the usual case for most models on most pages (literals let the regex engine skip ahead).
        self._any_alias = re.compile("|".join(sorted({re.escape(key.split()[0]) for key in unique}, key=len,
                                                     reverse=True)))
        self._ambiguous = frozenset(model.ambiguous)
        self._require = any_term(model.context.require)
        self._exclude = any_term(model.context.exclude)
        self._product = self._product_pattern(model)

    @staticmethod
    def _product_pattern(model: ModelConfig) -> re.Pattern[str]:
        """An ambiguous alias followed by a version or, a few characters on, a family word."""
        if not model.ambiguous:
            return re.compile(r"(?!)")
        aliases = "|".join(term_pattern(alias).pattern for alias in model.ambiguous)
        after = VERSION
        if model.context.family:
            after += f"|{FAMILY_GAP}(?:{any_term(model.context.family).pattern})"
        return re.compile(f"(?:{aliases})(?:{after})")

    def match(self, folded_title: str, folded_body: str) -> Match | bool | None:
        """A Match; None when no alias occurs; False when only ambiguous aliases occur and the
        context says they mean something else."""
        if not (self._any_alias.search(folded_title) or self._any_alias.search(folded_body)):
            return None
        original_title, original_body = folded_title, folded_body
        lead, rest = folded_body[:LEAD_CHARS], folded_body[LEAD_CHARS:]
        found: list[str] = []
        score = hits = 0
        places: set[str] = set()
        for alias, pattern in self._aliases:
            folded_title, title_hits = pattern.subn(" ", folded_title)
            lead, lead_hits = pattern.subn(" ", lead)
            rest, rest_hits = pattern.subn(" ", rest)
            if title_hits or lead_hits or rest_hits:
                found.append(alias)
                score += TITLE_WEIGHT * (title_hits > 0) + min(lead_hits + rest_hits, BODY_HIT_CAP)
                hits += title_hits + lead_hits + rest_hits
                places |= {place for place, n in (("title", title_hits), ("lead", lead_hits), ("body", rest_hits)) if n}
        if not found:
            return None
        if self._ambiguous.issuperset(found) and not self._about_ai(original_title, original_body):
            return False
        placement = next(place for place in ("title", "lead", "body") if place in places)
        return Match(self.key, tuple(found), score, "title" in places, placement, hits)

    def _about_ai(self, folded_title: str, folded_body: str) -> bool:
        text = f"{folded_title}\n{folded_body}"
        context = len(self._require.findall(text)) + len(self._product.findall(text))
        return context > len(self._exclude.findall(text))


class RelevanceMatcher:
    """Matches a text against several models at once."""

    def __init__(self, models: dict[str, ModelConfig], min_score: int = 1) -> None:
        self._matchers = [ModelMatcher(key, model) for key, model in models.items()]
        self.keys = frozenset(models)
        self.min_score = min_score

    def judge(self, title: str, body: str) -> Verdict:
        folded_title, folded_body = fold(title), fold(body)
        matches: dict[str, Match] = {}
        ambiguous: list[str] = []
        for matcher in self._matchers:
            result = matcher.match(folded_title, folded_body)
            if result is False:
                ambiguous.append(matcher.key)
            elif isinstance(result, Match) and result.score >= self.min_score:
                matches[matcher.key] = result
        return Verdict(matches, tuple(ambiguous))

    def owned(self, verdict: Verdict, first_party: dict[str, str]) -> Verdict:
        """``verdict`` with a match for each watched model whose own source the item comes from
        (model → its account) and that the text does not name: scored as a title mention,
        placed ``owner``, the account as its alias."""
        owned = {key: Match(key, (account,), TITLE_WEIGHT, False, OWNER_PLACEMENT)
                 for key, account in first_party.items() if key in self.keys and key not in verdict.matches}
        if not owned:
            return verdict
        return Verdict({**verdict.matches, **owned},
                       tuple(key for key in verdict.ambiguous if key not in owned))
