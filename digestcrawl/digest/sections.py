"""The digest's sections, each declared once: a field of ``model.DigestContent`` (or of a
section made of parts, ``model.Analysis``) annotated with its ``Section`` row.

The field gives the section's key and its schema (the pydantic type and limits, also the LLM's
JSON schema); the row gives the rest: its heading in ``templates/headings.yaml`` (every
language), its instruction in the prompt, its grounding rule, the offline producer that writes
it, and its slot in ``templates/post.md.j2``. The prompt (``summarize.prompt``), the grounding
check (``summarize.grounding``), the offline digest (``summarize.extractive``) and the renderer
(``publish.render``) loop over ``sections(DigestContent)``; a new section is a new field with its
row, its producer and, when its slot is new, the template's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Grounding(StrEnum):
    """How ``summarize.grounding`` holds the LLM's text of a section to the articles."""

    STORIES = "stories"  # each summary against the articles it cites (check_content)
    SENTENCES = "sentences"  # each sentence against all articles; none left: the offline text
    ITEMS = "items"  # each item so; fewer than the minimum left: offline items fill it
    NAMES = "names"  # kept only when the articles name it
    PARTS = "parts"  # each part by its own row


class Slot(StrEnum):
    """Where and how the post shows a section."""

    FRONT_MATTER = "front_matter"  # in the front matter (summary box, tags), not the body
    PARAGRAPH = "paragraph"  # a heading, then the paragraph
    STORIES = "stories"  # a heading, then each story's title, paragraph and outlets
    LABELLED = "labelled"  # a heading, then each part as a labelled paragraph
    LIST = "list"  # a heading, then a bulleted list
    GROUPED = "grouped"  # a labelled list under the group's heading, with its neighbours of that group


@dataclass(frozen=True)
class Section:
    """A section's row; its key and schema are the field it annotates."""

    heading: str | None  # its key in headings.yaml; None: shown without a heading of its own
    instruction: str  # what the prompt asks of it ("" when another prompt rule says it)
    grounding: Grounding
    producer: str  # the offline producer's method (summarize.extractive.Producers)
    slot: Slot
    group: str | None = None  # GROUPED: the group's heading key
    minimum: int = 0  # items the section must hold (ITEMS)
    maximum: int | None = None  # items the post shows at most
    # Which section keeps a sentence several would say (summarize.once): the lowest; a section
    # of parts gives its parts its own. None: not held to it (the summary box sums up the post).
    precedence: int | None = 0


@dataclass(frozen=True)
class Row:
    """A section as the loops see it: its key, its row and, for a section of parts, theirs."""

    key: str
    section: Section
    parts: tuple[Row, ...] = ()


def sections(model: type[BaseModel]) -> tuple[Row, ...]:
    """The rows of ``model``'s fields, in the order the post shows them."""
    return tuple(_rows(model))


def _rows(model: type[BaseModel]) -> Iterator[Row]:
    for key, field in model.model_fields.items():
        section = next((m for m in field.metadata if isinstance(m, Section)), None)
        if section is None:
            raise TypeError(f"{model.__name__}.{key} has no Section row")
        parts: tuple[Row, ...] = ()
        if section.grounding is Grounding.PARTS:
            parts = sections(_model_of(field.annotation))
        yield Row(key, section, parts)


def _model_of(annotation: Any) -> type[BaseModel]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    raise TypeError(f"a section of parts must be a model, not {annotation!r}")
