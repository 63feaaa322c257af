"""Bytes to a clean article: decoding, extraction, dates, relevance, duplicates, walls.
"""

from typing import TYPE_CHECKING

from digestcrawl.lazy import lazy_attributes

# The surface: what the rest of the project imports from the package, each name loaded
# from its module on first use (digestcrawl.lazy).
if TYPE_CHECKING:
    from digestcrawl.text.boilerplate import WALL_TEXT_MAX, RepeatedWalls, Sighting, boilerplate_kind
    from digestcrawl.text.chars import (
        CJK,
        CJK_CLASS,
        CJK_RUN,
        HAN,
        HAN_CLASS,
        LATIN_WORD,
        clean_text,
        opencc_converter,
        reads_as_chinese,
        squash_spaces,
        to_simplified,
    )
    from digestcrawl.text.dates import Dated, best_date, parse_datetime, plausible, url_date
    from digestcrawl.text.dedup import NearDuplicateIndex, NearMatch, fingerprint
    from digestcrawl.text.encoding import decode_html, looks_binary, looks_json
    from digestcrawl.text.entities import EntityFinder
    from digestcrawl.text.extraction import extract_head, extract_page
    from digestcrawl.text.facts import MULTIPLIERS, Facts, differ, stated_facts
    from digestcrawl.text.page import ExtractedPage, PageLimits, oversize
    from digestcrawl.text.relevance import RelevanceMatcher, fold
    from digestcrawl.text.tokens import bigrams, split_sentences

__all__ = [
    "CJK",
    "CJK_CLASS",
    "CJK_RUN",
    "HAN",
    "HAN_CLASS",
    "LATIN_WORD",
    "MULTIPLIERS",
    "WALL_TEXT_MAX",
    "Dated",
    "EntityFinder",
    "ExtractedPage",
    "Facts",
    "NearDuplicateIndex",
    "NearMatch",
    "PageLimits",
    "RelevanceMatcher",
    "RepeatedWalls",
    "Sighting",
    "best_date",
    "bigrams",
    "boilerplate_kind",
    "clean_text",
    "decode_html",
    "differ",
    "extract_head",
    "extract_page",
    "fingerprint",
    "fold",
    "looks_binary",
    "looks_json",
    "opencc_converter",
    "oversize",
    "parse_datetime",
    "plausible",
    "reads_as_chinese",
    "split_sentences",
    "squash_spaces",
    "stated_facts",
    "to_simplified",
    "url_date",
]
__getattr__ = lazy_attributes(__name__)
