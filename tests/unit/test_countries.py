"""Country names in any language are one anchor per country, so reports in two languages share them."""

from __future__ import annotations

import numpy as np
import pytest

from digestcrawl.digest.group.countries import countries
from digestcrawl.digest.group.similarity import anchor_idf, anchor_tokens, features, profile


@pytest.mark.parametrize(("text", "language", "expected"), [
    # Real headlines' ways of naming places, in the languages the digest reads.
    ("Nvidia darf H20-Chips wieder nach China liefern, sagt die US-Regierung; Polen und Deutschland prüfen",
     "de", {"CN", "PL", "DE"}),
    ("Alibaba's Qwen app tops charts in Hong Kong and Taiwan as the United States weighs chip curbs",
     "en", {"HK", "TW", "US"}),
    ("美國商務部擬限制輝達晶片出口，南韓與日本廠商觀望", "zh", {"US", "KR", "JP"}),
    ("美国商务部拟限制英伟达芯片出口，韩国与日本厂商观望", "zh", {"US", "KR", "JP"}),
    ("米国とドイツの規制当局、ポーランドで協議", "ja", {"US", "DE", "PL"}),
    ("La Unión Europea y Rusia negocian en Turquía", "es", {"EU", "RU", "TR"}),
    ("Russland und die Türkei", "de", {"RU", "TR"}),
])
def test_names_in_each_language_are_one_code(text: str, language: str, expected: set[str]) -> None:
    assert set(countries(text, language)) == expected


def test_longest_spelling_wins() -> None:
    assert countries("Papua New Guinea and Guinea", "en") == {"PG": 1, "GN": 1}
    assert countries("印度尼西亚与印度", "zh") == {"ID": 1, "IN": 1}


def test_common_words_are_not_countries() -> None:
    assert countries("La réunion du conseil a eu lieu à La Réunion.", "fr") == {"RE": 1}
    assert countries("An island off the coast", "en") == {}  # German "Island" is Iceland
    assert countries("Eine Reise nach Island", "de") == {"IS": 1}


def test_a_country_is_one_anchor_whatever_its_spelling() -> None:
    german = anchor_tokens("Warschau: Polen stoppt den Export", set(), language="de")
    english = anchor_tokens("Warsaw: Poland halts exports", set(), language="en")
    assert german["%PL"] == english["%PL"] == 1
    assert "polen" not in german and "poland" not in english  # not counted again as a name


def test_reports_in_two_languages_share_their_countries() -> None:
    german = profile("", "Polen und Litauen schließen die Grenze zu Belarus.", "de", set())
    english = profile("", "Poland and Lithuania close the border with Belarus.", "en", set())
    chinese = profile("", "波蘭與立陶宛關閉與白俄羅斯的邊境。", "zh-TW", set())
    unrelated = profile("", "Brazil and Argentina sign a trade deal.", "en", set())
    anchors = features([german, english, chinese, unrelated])[1]
    assert anchors[0, 1] > 0.9 and anchors[1, 2] > 0.9
    assert anchors[0, 3] == anchors[2, 3] == 0.0
    assert np.isclose(anchors[0, 2], anchors[0, 1])


def test_a_rarely_named_country_tells_more() -> None:
    assert anchor_idf("%US") < anchor_idf("%DE") < anchor_idf("%LS")
