"""`python -m benchmarks.stories` scores any pairs file and ends on its F1 line."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from benchmarks import stories

LAUNCH = "千問App接入淘寶、支付寶、飛豬與高德，月活躍用戶突破1億，春節後開放第三方服務入駐，國際版預計年內上線。"
LAUNCH_HANS = "千问App打通淘宝、支付宝、飞猪和高德，月活跃用户突破1亿，春节后开放第三方服务入驻，国际版预计年内上线。"
WEATHER = "中央氣象署發布低溫特報，明晨北部與宜蘭最低氣溫降至8度，山區可能降雪，民眾外出請注意保暖。"
EARNINGS = "Nvidia reported fourth-quarter data-centre revenue of $18.4 billion, up 112%, as demand for chips held."


def test_scores_a_pairs_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"lang1": "zh", "lang2": "zh", "text1": LAUNCH, "text2": LAUNCH_HANS, "same": True, "translated": False},
            {"lang1": "zh", "lang2": "zh", "text1": LAUNCH, "text2": WEATHER, "same": False, "translated": False},
            {"lang1": "en", "lang2": "zh", "text1": EARNINGS, "text2": WEATHER, "same": False, "translated": True}]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    assert stories.main(["--pairs", str(pairs)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"F1 \d\.\d{3}", lines[-1])
    assert lines[-1] == "F1 1.000"
    names = {line.split("  ")[0].strip() for line in lines[1:-1]}
    assert {"all", "original languages", "chinese (translated)", "cross-language", "zh-zh", "en-zh"} <= names


def test_fit_reports_the_models_and_their_cross_fitted_f1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    earnings_zh = "輝達公布第四季財報，資料中心營收年增112%，達到184億美元，需求強勁。"
    rows = [{"lang1": "zh", "lang2": "zh", "text1": LAUNCH, "text2": other, "same": same, "translated": False}
            for other, same in [(LAUNCH_HANS, True), (WEATHER, False)] * 5]
    rows += [{"lang1": "en", "lang2": "zh", "text1": EARNINGS, "text2": other, "same": same, "translated": False}
             for other, same in [(earnings_zh, True), (WEATHER, False)] * 5]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    assert stories.main(["--pairs", str(pairs), "--fit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    same, cross = (ast.literal_eval(line.split(" = ")[1]) for line in lines[:2])
    assert len(same) == len(cross) == 6 and same[2] == same[4] == same[5] == cross[3] == 0.0  # held at zero
    assert same[1] > 0 and cross[1] + cross[2] > 0  # more alike, more likely one story
    row = re.compile(r"\s+(.+?)\s+F1 (\d\.\d{3})  (\d\.\d{3})-(\d\.\d{3})")
    folds = {m[1]: [float(x) for x in m.groups()[1:]] for m in map(row.fullmatch, lines) if m}
    # No empty subset; then each language pair.
    assert set(folds) == {"all", "original languages", "cross-language", "en-zh", "zh-zh"}
    assert folds["all"] == [1.0, 1.0, 1.0]  # separable pairs: every held-out fold right
    pairs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:10]), "utf-8")
    assert stories.main(["--pairs", str(pairs), "--fit"]) == 0  # no cross-language pairs: no model for them
    assert "CROSS_LANGUAGE = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)" in capsys.readouterr().out


def test_a_generated_day_keeps_every_article() -> None:
    result = stories.speed(120, stories.EntityFinder(stories.load_entities()))
    assert result["every_article_once"] and result["articles"] == 120
