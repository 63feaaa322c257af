"""Near-duplicate signatures: script variants and light edits match, other stories do not."""

from __future__ import annotations

import subprocess
import sys

import opencc

from digestcrawl.text.dedup import MIN_SHINGLES, NearDuplicateIndex, shingle_hashes

ZH = ("阿里巴巴周一发布通义千问新版本模型，在数学、编程和多语言基准测试中均超过上一代，"
      "并以开源许可提供权重。公司表示，新模型支持更长的上下文窗口，推理成本降低三成。")
EN = ("Alibaba released a new Qwen model on Monday that beats its predecessor on math, coding and "
      "multilingual benchmarks, and published the weights under an open licence. The company said "
      "the model supports a longer context window and costs a third less to run.")


def jaccard(index: NearDuplicateIndex, a: str, b: str) -> float:
    first, second = index.signature(a), index.signature(b)
    assert first is not None and second is not None
    return float(first.jaccard(second))


def test_script_variant_is_the_same_text() -> None:
    index = NearDuplicateIndex()
    assert jaccard(index, ZH, opencc.OpenCC("s2t").convert(ZH)) > 0.9


def test_light_edits_stay_near_and_other_stories_do_not() -> None:
    index = NearDuplicateIndex()
    assert jaccard(index, EN, EN.replace("Monday", "Tuesday").replace("a third", "30%")) >= 0.6
    assert jaccard(index, ZH, ZH.replace("周一", "周二")) >= 0.6
    other = ("DeepSeek cut its API prices by half on Tuesday and said a new reasoning model would "
             "follow next month, according to a company statement posted on its website.")
    assert jaccard(index, EN, other) < 0.2


def test_word_order_matters_for_latin_shingles() -> None:
    words = EN.split()
    assert sorted(shingle_hashes(EN).tolist()) != sorted(shingle_hashes(" ".join(reversed(words))).tolist())


def test_short_texts_get_no_signature() -> None:
    index = NearDuplicateIndex()
    assert len(shingle_hashes("Qwen 3 is out")) < MIN_SHINGLES
    assert index.signature("Qwen 3 is out") is None
    assert index.signature("") is None


def test_signatures_are_the_same_in_every_process() -> None:
    """Signatures are stored and compared across crawls: no per-process hash seed may leak in."""
    index = NearDuplicateIndex()
    signature = index.signature(EN)
    assert signature is not None
    code = ("from digestcrawl.text.dedup import NearDuplicateIndex as I; import sys; "
            "sys.stdout.write(I.to_bytes(I().signature(sys.argv[1])).hex())")
    other = subprocess.run([sys.executable, "-c", code, EN], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PYTHONPATH": "."})
    assert other.stdout == NearDuplicateIndex.to_bytes(signature).hex()
