"""The section table (digest.sections) is complete: every section has a heading in every post
language, an offline producer and a slot the post shows; every post language has its words."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from digestcrawl.config import load_entities
from digestcrawl.digest.model import SECTIONS, DigestContent
from digestcrawl.digest.publish.infographic import CJK_FAMILIES
from digestcrawl.digest.publish.labels import headings
from digestcrawl.digest.publish.render import RenderOptions, render_post
from digestcrawl.digest.sections import Row, Slot, sections
from digestcrawl.digest.summarize import ExtractiveSummarizer
from digestcrawl.digest.summarize.extractive import Producers, phrases
from digestcrawl.digest.summarize.prompt import LANGUAGE_RULES, SYSTEM_PROMPTS
from digestcrawl.languages import Language
from digestcrawl.text.entities import EntityFinder
from tests.test_render import make_digest


def every_row(rows: tuple[Row, ...] = SECTIONS) -> list[Row]:
    return [found for row in rows for found in (row, *every_row(row.parts))]


def test_the_table_is_the_schema() -> None:
    assert [row.key for row in SECTIONS] == list(DigestContent.model_fields)
    assert {"summary", "stories", "analysis", "key_points", "developers", "users", "tags"} <= {r.key for r in SECTIONS}


@pytest.mark.parametrize("language", list(Language))
def test_every_section_has_its_heading_in_every_language(language: Language) -> None:
    words = headings()[language]
    wanted = {key for row in every_row() for key in (row.section.heading, row.section.group) if key}
    assert wanted - set(words) == set()


def test_every_section_has_an_offline_producer() -> None:
    missing = [row.key for row in every_row() if not callable(getattr(Producers, row.section.producer, None))]
    assert missing == []


def test_every_language_has_its_words_rules_and_fonts() -> None:
    for table in (headings(), phrases(), LANGUAGE_RULES, SYSTEM_PROMPTS, CJK_FAMILIES):
        assert set(table) == set(Language)
    keys = {language: set(words) for language, words in phrases().items()}
    assert all(found == keys[Language.ZH_TW] for found in keys.values())


def test_a_field_without_its_row_is_refused() -> None:
    class Unlabelled(BaseModel):
        note: str

    with pytest.raises(TypeError, match=r"Unlabelled\.note has no Section row"):
        sections(Unlabelled)


def test_the_prompt_lists_every_section_it_asks_for() -> None:
    prompt = SYSTEM_PROMPTS[Language.ZH_TW]
    assert "developers: two to four items. users: up to four product or availability facts" in prompt
    for row in SECTIONS:
        if row.section.instruction:
            assert f"{row.key}" in prompt and row.section.instruction in prompt


@pytest.mark.parametrize("language", list(Language))
def test_the_post_shows_every_non_empty_section(language: Language) -> None:
    digest = make_digest(language)
    result = ExtractiveSummarizer(EntityFinder(load_entities())).summarize(digest)
    post = render_post(digest, result, RenderOptions())
    words = headings()[language]
    body = [row for row in SECTIONS if row.section.slot is not Slot.FRONT_MATTER]
    for row in body:
        if getattr(result.content, row.key):
            assert f"## {words[row.section.group or row.section.heading]}" in post, row.key
        for part in row.parts:
            assert f"- {words[part.section.heading]}" in post, part.key
        if row.section.slot is Slot.GROUPED and getattr(result.content, row.key):
            assert f"- {words[row.section.heading]}" in post, row.key
    headings_in_order = [line for line in post.splitlines() if line.startswith("## ")]
    expected = list(dict.fromkeys(f"## {words[r.section.group or r.section.heading]}" for r in body))
    assert headings_in_order == [*expected, f"## {words['sources']}"]
