"""Canonical entity names found in text, whatever language or script they are written in."""

from __future__ import annotations

from digestcrawl.text.chars import HAN, KANA
from digestcrawl.text.relevance import fold, term_pattern


class EntityFinder:
    """Finds canonical entity names in text, whatever language or script they are written in."""

    def __init__(self, entities: dict[str, tuple[str, ...]], concepts: frozenset[str] = frozenset()) -> None:
        self._spellings = entities
        self.concepts = concepts  # topics, not names (Spring Festival): never listed as a new name
        self._patterns = [(name, [term_pattern(s) for s in spellings]) for name, spellings in entities.items()]
        # Folded spellings of entities: such a word is counted as its entity, not again as a name.
        self.spellings = frozenset(fold(s) for name, spellings in entities.items() for s in (name, *spellings))

    def find(self, text: str) -> set[str]:
        folded = fold(text)
        return {name for name, patterns in self._patterns if any(p.search(folded) for p in patterns)}

    def entities_named(self, text: str) -> set[str]:
        """The entities ``text`` names: by a spelling, or by the canonical name itself (a tag
        "Spring Festival" is the entity whose spellings are 春節, Lunar New Year, …)."""
        folded = text.strip().casefold()
        return self.find(text) | {name for name in self._spellings if name.casefold() == folded}

    def spellings_of(self, name: str) -> tuple[str, ...]:
        return self._spellings.get(name, ())

    def chinese_name(self, name: str) -> str | None:
        """The entity's first spelling in Han characters (阿里巴巴 for Alibaba, 春節 for Spring
        Festival), as written in the table; None when the table gives it none (OpenAI)."""
        spellings = self._spellings.get(name, ())
        return next((s for s in spellings if HAN.search(s) and not KANA.search(s)), None)
