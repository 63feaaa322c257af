from __future__ import annotations

import pytest

from digestcrawl.config import load_models
from digestcrawl.text.relevance import RelevanceMatcher, any_term, term_pattern

MODELS = load_models()


@pytest.mark.parametrize(("title", "body", "expected"), [
    ("阿里通義千問升級", "", {"qwen": ["通義千問"]}),
    ("", "阿里巴巴的通义千问模型下载量领先", {"qwen": ["通義千問"]}),  # Simplified text, Traditional alias
    ("Qwen3-Max released", "", {"qwen": ["Qwen"]}),
    ("qwen2.5 coder", "", {"qwen": ["Qwen"]}),
    ("Alibaba's Qianwen app", "", {"qwen": ["Qianwen"]}),
    ("", "Qwenlike is not a word", {}),
    ("阿里巴巴財報", "營收成長", {}),
    ("Meta releases Llama 4", "The open-source model has 2T parameters.", {"llama": ["Llama"]}),
    ("Gemini 3 launches", "Google DeepMind's new model", {"gemini": ["Gemini"]}),
    # Issue 20: compared in NFKC, so fullwidth and compatibility forms are the alias.
    ("阿里發布Ｑｗｅｎ新模型", "", {"qwen": ["Qwen"]}),
    ("", "開源模型ＱＷＥＮ３下載量領先", {"qwen": ["Qwen"]}),
    ("Ｌｌａｍａ　４ released", "", {"llama": ["Llama"]}),
])
def test_models_matched(title: str, body: str, expected: dict[str, list[str]]) -> None:
    verdict = RelevanceMatcher(MODELS).judge(title, body)
    assert {k: list(m.aliases) for k, m in verdict.matches.items()} == expected


@pytest.mark.parametrize(("title", "body", "model"), [
    ("Llama Drama wins the county fair", "The llama, an animal loved on the farm, grew thick wool.", "llama"),
    ("雙子座本週運勢", "Gemini 星座運勢：雙子座本週桃花旺，占星師建議。", "gemini"),
    ("Claude Monet exhibition opens", "The painter's water lilies return; Claude Monet painting show.", "claude"),
])
def test_everyday_sense_is_ambiguous_alias(title: str, body: str, model: str) -> None:
    verdict = RelevanceMatcher({model: MODELS[model]}).judge(title, body)
    assert verdict.matches == {} and verdict.drop_reason == "ambiguous_alias"


def test_title_hits_outscore_body_hits() -> None:
    matcher = RelevanceMatcher({"qwen": MODELS["qwen"]})
    in_title = matcher.judge("Qwen update", "nothing").matches["qwen"]
    in_body = matcher.judge("Update", "Qwen is new").matches["qwen"]
    assert in_title.in_title and not in_body.in_title
    assert in_title.score > in_body.score


def test_off_topic_reason() -> None:
    assert RelevanceMatcher(MODELS).judge("Weather", "Sunny").drop_reason == "off_topic"


@pytest.mark.parametrize(("term", "text", "hits"), [
    ("Qwen", "qwen at the start, qwen3 and qwen-max later", 3),
    ("Qwen", "aqwen and qwenlike are other words", 0),
    ("open source", "open source, open-source and open_source", 3),
    ("open source", "reopen source code", 0),
    ("GPT-4o", "gpt-4o and gpt-4omni", 1),
    ("模型", "新模型和大模型", 2),
])
def test_term_pattern_word_boundaries(term: str, text: str, hits: int) -> None:
    assert len(term_pattern(term).findall(text)) == hits


def test_any_term_counts_each_occurrence_once() -> None:
    pattern = any_term(("model", "language model", "AI"))
    assert pattern.findall("a language model is an ai model") == ["language model", "ai", "model"]
    assert any_term(()).findall("anything") == []


@pytest.mark.parametrize(("title", "body", "model"), [
    # Posts about the product, with no context word: the version or family word says it.
    ("用一下 gemini 3 pro 生成投影片", "效果比想像中好", "gemini"),
    ("Gemini 2.5 Flash is cheap now", "Half the price of last month.", "gemini"),
    ("用一下 gemini … pro", "還不錯", "gemini"),
    ("Claude Opus writes my tests", "Took ten minutes.", "claude"),
    ("Llama 4 Maverick on my laptop", "Runs at 20 tokens/s.", "llama"),
])
def test_product_names_decide_ambiguous_aliases(title: str, body: str, model: str) -> None:
    verdict = RelevanceMatcher({model: MODELS[model]}).judge(title, body)
    assert model in verdict.matches, verdict


@pytest.mark.parametrize(("title", "body", "model"), [
    ("Gemini 3 weekly horoscope", "Gemini, your zodiac week: astrology says rest.", "gemini"),
    ("Gemini 21 May – 20 June", "", "gemini"),
    ("Claude Monet's Water Lilies", "The painter's exhibition opens.", "claude"),
])
def test_everyday_senses_stay_everyday_next_to_numbers(title: str, body: str, model: str) -> None:
    assert RelevanceMatcher({model: MODELS[model]}).judge(title, body).drop_reason == "ambiguous_alias"


@pytest.mark.parametrize(("title", "body", "placement", "hits"), [
    ("Alibaba's Qwen3-Max tops the leaderboard", "Qwen3-Max scored 1st. Qwen again.", "title", 3),
    ("阿里巴巴發表新模型", "通義千問新版本今日上線，千問團隊表示……", "lead", 2),
    ("Cloud revenue grows", "x" * 500 + " Qwen models drove demand.", "body", 1),
])
def test_match_records_where_and_how_often(title: str, body: str, placement: str, hits: int) -> None:
    match = RelevanceMatcher({"qwen": MODELS["qwen"]}).judge(title, body).matches["qwen"]
    assert (match.placement, match.hits) == (placement, hits)
