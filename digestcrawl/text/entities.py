"""Canonical entity names found in text, whatever language or script they are written in."""

from __future__ import annotations

from digestcrawl.text.relevance import fold, term_pattern


class EntityFinder:
    """Finds canonical entity names in text, whatever language or script they are written in."""

    def __init__(self, entities: dict[str, tuple[str, ...]]) -> None:
        self._patterns = [(name, [term_pattern(s) for s in spellings]) for name, spellings in entities.items()]
        # Folded spellings of entities: such a word is counted as its entity, not again as a name.
        self.spellings = frozenset(fold(s) for name, spellings in entities.items() for s in (name, *spellings))

    def find(self, text: str) -> set[str]:
        folded = fold(text)
        return {name for name, patterns in self._patterns if any(p.search(folded) for p in patterns)}
