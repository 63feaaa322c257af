"""Duplicate detection: exact text fingerprints and near-duplicates with MinHash/LSH.

Texts are folded first (Simplified script, lower case, no punctuation or spaces), so a zh-Hant
reprint of a zh-Hans story is recognised. Shingles are 3-character runs for CJK text and
3-word runs for Latin text, which keeps short Chinese articles comparable without a segmenter.

A signature is 128 32-bit minima, one per affine permutation of the shingle hashes (each hash
first mixed with the MurmurHash3 finalizer): the "affine32" scheme of datasketch 2.0, seed 1,
which made the signatures already stored. It is computed here, with numpy, because datasketch's
package imports its every index, and so scipy, aiohttp and motor: 47 MB and 0.4 s in the crawl
process for two array expressions and a dictionary of bands (issue 25, B5).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np

from digestcrawl.text.chars import CJK_RANGES, LATIN_WORD
from digestcrawl.text.relevance import fold

SEED = 1  # the permutations of every stored signature
NUM_PERM = 128
SIGN_CHUNK = 4096  # shingles per step of a signature: 2 MB of images at a time
_16, _21, _32, _42 = (np.uint64(n) for n in (16, 21, 32, 42))
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: 2**64 / golden ratio
# Below this many shingles (repeats included) a Jaccard estimate is noise: such texts get the exact check only.
MIN_SHINGLES = 20


def fingerprint(text: str) -> str:
    """Exact-duplicate key: identical after folding script, case, spacing and punctuation."""
    folded = "".join(re.findall(r"\w+", fold(text)))
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()


def shingle_hashes(text: str) -> np.ndarray:
    """32-bit hashes of the text's shingles in order, computed in bulk (no string per shingle).

    A CJK shingle is three consecutive CJK characters, whose code points (< 2**21) pack exactly
    into 63 bits; a Latin shingle is three consecutive words, their CRC-32s combined by shifted
    XOR. A multiply-shift hash takes either to 32 bits; ``sign`` mixes them again with
    the MurmurHash3 finalizer. Repeats are kept: they cannot change a minimum.
    """
    folded = fold(text)
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    cjk = np.zeros(len(codes), dtype=bool)
    for low, high in CJK_RANGES:
        cjk |= (codes >= low) & (codes <= high)
    trigram = cjk[:-2] & cjk[1:-1] & cjk[2:]
    packed = ((codes[:-2] << _42) | (codes[1:-1] << _21) | codes[2:])[trigram]
    words = LATIN_WORD.findall(folded)
    if len(words) >= 3:
        crcs = np.fromiter((zlib.crc32(word.encode()) for word in words), dtype=np.uint64, count=len(words))
        # Word hashes fill 32 bits, so three cannot pack exactly; shifted XOR keeps the order.
        packed = np.concatenate([packed, (crcs[:-2] << _32) ^ (crcs[1:-1] << _16) ^ crcs[2:]])
    return (packed * _MULTIPLIER) >> _32


def permutations(num_perm: int = NUM_PERM, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers (odd, so that each map is a bijection of 32-bit values) and offsets of
    ``num_perm`` affine permutations, drawn as datasketch's affine32 scheme draws them."""
    draw = np.random.RandomState(seed)
    multipliers = draw.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = draw.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return multipliers, offsets


def _mix(hashes: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer: spreads structured hashes before the affine maps."""
    hashes = hashes ^ (hashes >> np.uint32(16))
    hashes = hashes * np.uint32(0x85EBCA6B)
    hashes = hashes ^ (hashes >> np.uint32(13))
    hashes = hashes * np.uint32(0xC2B2AE35)
    return hashes ^ (hashes >> np.uint32(16))


def sign(hashes: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The MinHash signature of 32-bit shingle hashes (at least one): per permutation, the least
    image, taken SIGN_CHUNK shingles at a time (one step's images of all 128 permutations at once
    would be 100 MB for a 200,000-character text)."""
    multipliers, offsets = maps
    mixed = _mix(hashes.astype(np.uint32)).reshape(-1, 1)
    # uint32 arithmetic wraps: mod 2**32
    return np.minimum.reduce([(mixed[start:start + SIGN_CHUNK] * multipliers + offsets).min(axis=0)
                              for start in range(0, len(mixed), SIGN_CHUNK)])


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """The Jaccard similarity two signatures estimate: the share of equal minima."""
    return float(np.count_nonzero(first == second)) / len(first)


@cache  # a search over every split, 17 ms: once per process, not once per index (migrations, the pipeline)
def band_shape(threshold: float, num_perm: int, grid: int = 1001) -> tuple[int, int]:
    """The (bands, rows) split of a signature whose LSH misses least around ``threshold``: the
    area of pairs under it that become candidates plus that of pairs above it that do not, equally
    weighted (datasketch's choice; 25 bands of 5 rows at 0.45 with 128 permutations)."""
    similarities = np.linspace(0.0, 1.0, grid)
    below, above = similarities <= threshold, similarities >= threshold
    best, shape = float("inf"), (1, num_perm)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            candidate = 1 - (1 - similarities ** rows) ** bands
            error = float(np.trapezoid(candidate[below], similarities[below])
                          + np.trapezoid(1 - candidate[above], similarities[above]))
            if error < best:
                best, shape = error, (bands, rows)
    return shape


@dataclass(frozen=True)
class NearMatch:
    key: str
    similarity: float


class NearDuplicateIndex:
    """An in-memory LSH index of article signatures, keyed by canonical URL: a signature is cut
    into bands, and texts that share a band's values are candidates, which the estimate decides."""

    def __init__(self, threshold: float = 0.6, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self._maps = permutations(num_perm)
        # Candidates come from a looser band setting than the threshold.
        bands, self._rows = band_shape(max(0.3, threshold - 0.15), num_perm)
        self._buckets: list[dict[bytes, list[str]]] = [{} for _ in range(bands)]
        self._signatures: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: str) -> bool:
        return key in self._signatures

    def signature(self, text: str) -> np.ndarray | None:
        hashes = shingle_hashes(text)
        if len(hashes) < MIN_SHINGLES:
            return None
        return sign(hashes, self._maps)

    @staticmethod
    def from_bytes(data: bytes) -> np.ndarray:
        return np.frombuffer(data, dtype=np.uint32)

    @staticmethod
    def to_bytes(signature: np.ndarray) -> bytes:
        return signature.astype(np.uint32).tobytes()

    def matches(self, signature: np.ndarray, exclude: str) -> list[NearMatch]:
        """The indexed texts at or above the threshold, most similar first."""
        candidates = {key for band, bucket in zip(self._bands(signature), self._buckets, strict=True)
                      for key in bucket.get(band, ())}
        candidates.discard(exclude)
        found = [NearMatch(key, estimate) for key in candidates
                 if (estimate := similarity(signature, self._signatures[key])) >= self.threshold]
        return sorted(found, key=lambda match: -match.similarity)

    def best_match(self, signature: np.ndarray, exclude: str) -> NearMatch | None:
        found = self.matches(signature, exclude)
        return found[0] if found else None

    def add(self, key: str, signature: np.ndarray) -> None:
        if key not in self._signatures:
            for band, bucket in zip(self._bands(signature), self._buckets, strict=True):
                bucket.setdefault(band, []).append(key)
            self._signatures[key] = signature

    def _bands(self, signature: np.ndarray) -> list[bytes]:
        return [signature[start:start + self._rows].tobytes()
                for start in range(0, self._rows * len(self._buckets), self._rows)]
