"""Near-duplicate signatures: script variants and light edits match, other stories do not; texts
that state other numbers, dates or names are never copies."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import opencc
import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from digestcrawl.store.articles import ArticleStore
from digestcrawl.text.dedup import (
    MIN_SHINGLES,
    SIGN_CHUNK,
    NearDuplicateIndex,
    _mix,
    band_shape,
    permutations,
    shingle_hashes,
    sign,
    similarity,
)
from digestcrawl.text.facts import differ, stated_facts
from pipelines.dedup import DedupPipeline
from tests.unit.test_components import article, crawler_with, stats

ZH = ("阿里巴巴周一发布通义千问新版本模型，在数学、编程和多语言基准测试中均超过上一代，"
      "并以开源许可提供权重。公司表示，新模型支持更长的上下文窗口，推理成本降低三成。")
EN = ("Alibaba released a new Qwen model on Monday that beats its predecessor on math, coding and "
      "multilingual benchmarks, and published the weights under an open licence. The company said "
      "the model supports a longer context window and costs a third less to run.")


def jaccard(index: NearDuplicateIndex, a: str, b: str) -> float:
    first, second = index.signature(a), index.signature(b)
    assert first is not None and second is not None
    return similarity(first, second)


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


def test_signatures_are_those_already_stored() -> None:
    """Stored signatures were made by datasketch 2.0's MinHash (affine32 scheme, seed 1): the
    index computes the same 128 minima, so earlier crawls' articles stay comparable (these
    digests are what datasketch gave for these texts)."""
    index = NearDuplicateIndex()
    expected = {EN: "53acb4e0e621c95a402abb440d3b0652efd71045cd562e53fb8329bc91ddad6b",
                ZH: "9fab01b5a28b6074e4df58f8dbaa1cb98be86363f022cea5b92b529377ca5381"}
    for text, digest in expected.items():
        signature = index.signature(text)
        assert signature is not None
        assert hashlib.sha256(NearDuplicateIndex.to_bytes(signature)).hexdigest() == digest


def test_a_long_texts_signature_is_taken_in_steps_with_the_same_minima() -> None:
    hashes = np.arange(3 * SIGN_CHUNK + 17, dtype=np.uint64) * np.uint64(2654435761) % np.uint64(2**32)
    maps = permutations()
    multipliers, offsets = maps
    mixed = _mix(hashes.astype(np.uint32)).reshape(-1, 1)
    assert np.array_equal(sign(hashes, maps), (mixed * multipliers + offsets).min(axis=0))


@pytest.mark.parametrize(("threshold", "shape"), [(0.3, (37, 3)), (0.45, (25, 5)), (0.6, (18, 7)), (0.85, (8, 16))])
def test_bands_are_the_least_error_split(threshold: float, shape: tuple[int, int]) -> None:
    """The LSH band split that misses least around the threshold (datasketch's for the same)."""
    assert band_shape(threshold, 128) == shape


def test_a_near_copy_is_found_through_one_shared_band_and_others_are_not() -> None:
    index = NearDuplicateIndex(threshold=0.6)
    other = ("DeepSeek cut its API prices by half on Tuesday and said a new reasoning model would "
             "follow next month, according to a company statement posted on its website and on its app.")
    for key, text in (("en", EN), ("zh", ZH), ("other", other)):
        signature = index.signature(text)
        assert signature is not None
        index.add(key, signature)
    copy = index.signature(EN.replace("Monday", "Tuesday"))
    assert copy is not None
    assert [match.key for match in index.matches(copy, exclude="")] == ["en"]
    assert index.matches(copy, exclude="en") == []
    restored = index.from_bytes(index.to_bytes(copy))
    assert index.best_match(restored, exclude="") == index.best_match(copy, exclude="")


# -- issue 20: two texts that state other numbers, dates or names are never copies ----------------

COPY_PAIRS = [
    # (first, second, they state different facts)
    ("阿里巴巴宣布投入720億元擴建算力，千問App月活躍用戶突破1億。",
     "阿里巴巴宣布投入320億元擴建算力，千問App月活躍用戶突破1億。", True),
    (EN, EN.replace("Monday", "Tuesday"), True),
    (ZH, ZH.replace("周一", "周二"), True),
    ("Alibaba released Qwen3 72B with a 128k context.", "Alibaba released Qwen3 32B with a 128k context.", True),
    ("阿里雲自研的「通義千問」系列", "阿里雲自研的「文心一言」系列", True),
    # One script or the other, fullwidth digits, thousands separators: the same facts.
    (ZH, opencc.OpenCC("s2t").convert(ZH), False),
    ("投入720億元，增長20%，用戶1,000萬", "投入７２０亿元，增长２０％，用户1000万", False),
    # Apache-2.0 and Apache 2.0; a capital that only opens a sentence or a headline.
    ("The weights are under Apache 2.0.", "Weights are under the Apache-2.0 licence. Update: more sizes.", False),
    # Syndication adds a stock code or a byline, or cuts a paragraph: it states more or fewer, not other.
    ("阿里巴巴旗下AI助手「千問」App本月大改版，月活躍用戶已突破1億。",
     "【AI競賽】阿里巴巴（9988）旗下AI助手「千問」App本月大改版，月活躍用戶已突破1億。", False),
    (EN, EN + " Reporting by Jane Doe in Hangzhou.", False),
]


@pytest.mark.parametrize(("first", "second", "different"), COPY_PAIRS)
def test_facts_differ(first: str, second: str, different: bool) -> None:
    assert differ(stated_facts(first), stated_facts(second)) is different
    assert differ(stated_facts(second), stated_facts(first)) is different


TEMPLATE = ("阿里巴巴周一宣布，未來三年將投入{}億元建設雲端算力與AI基礎設施，通義千問系列模型將全面開源，"
            "開發者可在魔搭社區下載權重。公司表示，千問App月活躍用戶已突破一億，春節後開放第三方服務商入駐。")


@deferred_f_from_coro_f
async def test_near_duplicates_stating_other_figures_are_both_articles(tmp_path: Path) -> None:
    """720億 then 320億: both kept as articles (``related``), from this run and from a stored
    original; a syndicated copy that adds a stock code is still a copy."""
    url = f"sqlite:///{tmp_path / 'facts.sqlite3'}"
    settings = {"STORE_URL": url, "DEDUP_NEAR_THRESHOLD": 0.6, "DEDUP_LOOKBACK_DAYS": 7}
    yesterday = DedupPipeline.from_crawler(crawler_with(**settings))
    await yesterday.open_spider()
    stored = await yesterday.process_item(article(url="https://stored.example/1", title="千問開源",
                                                  text=TEMPLATE.format(1000), fetched=datetime.now(UTC)))
    store = ArticleStore.connect(url)
    store.save(stored)
    store.close()

    crawler = crawler_with(**settings)
    pipeline = DedupPipeline.from_crawler(crawler)
    await pipeline.open_spider()
    seen = []
    for page, text in [("https://a.example/1", TEMPLATE.format(720)), ("https://b.example/1", TEMPLATE.format(320)),
                       ("https://c.example/1", "【AI競賽】阿里巴巴（9988）" + TEMPLATE.format(720)[4:])]:
        kept = await pipeline.process_item(article(url=page, title="千問開源", text=text))
        seen.append(kept.duplicate_of)
    assert seen == [None, None, "https://a.example/1"]
    assert stats(crawler) == {"related": 2, "duplicate": 1, "duplicate/near": 1}


@deferred_f_from_coro_f
async def test_a_stored_original_that_cannot_be_read_makes_no_copy(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The store fails between the index's load and a near-duplicate of a stored original: the
    item is kept as an article (nothing it states is lost), with one warning, no exception."""
    url = f"sqlite:///{tmp_path / 'gone.sqlite3'}"
    settings = {"STORE_URL": url, "DEDUP_NEAR_THRESHOLD": 0.6, "DEDUP_LOOKBACK_DAYS": 7}
    yesterday = DedupPipeline.from_crawler(crawler_with(**settings))
    await yesterday.open_spider()
    store = ArticleStore.connect(url)
    store.save(await yesterday.process_item(article(url="https://stored.example/1", title="千問開源",
                                                    text=TEMPLATE.format(720), fetched=datetime.now(UTC))))
    pipeline = DedupPipeline.from_crawler(crawler_with(**settings))
    await pipeline.open_spider()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE articles RENAME TO articles_away")
    store.close()
    kept = await pipeline.process_item(article(url="https://a.example/1", title="千問開源", text=TEMPLATE.format(720)
                                               + "（記者王小明）"))
    assert kept.duplicate_of is None
    assert "Could not read https://stored.example/1" in caplog.text
