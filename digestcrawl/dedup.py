"""Duplicate detection: exact text fingerprints and near-duplicates with MinHash/LSH.

Texts are folded first (Simplified script, lower case, no punctuation or spaces), so a zh-Hant
reprint of a zh-Hans story is recognised. Shingles are 3-character runs for CJK text and
3-word runs for Latin text, which keeps short Chinese articles comparable without a segmenter.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from digestcrawl.relevance import fold

CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[^\W\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+")
SCHEME = "affine32"
# Below this many shingles a Jaccard estimate is noise: such texts get the exact check only.
MIN_SHINGLES = 20


def fingerprint(text: str) -> str:
    """Exact-duplicate key: identical after folding script, case, spacing and punctuation."""
    folded = "".join(re.findall(r"\w+", fold(text)))
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()


def shingles(text: str, size: int = 3) -> set[bytes]:
    folded = fold(text)
    grams: set[bytes] = set()
    for run in CJK_RUN.findall(folded):
        grams.update(run[i:i + size].encode() for i in range(max(1, len(run) - size + 1)))
    words = LATIN_WORD.findall(folded)
    grams.update(" ".join(words[i:i + size]).encode() for i in range(max(0, len(words) - size + 1)))
    return grams


@dataclass(frozen=True)
class NearMatch:
    key: str
    similarity: float


class NearDuplicateIndex:
    """An in-memory LSH index of article signatures, keyed by canonical URL."""

    def __init__(self, threshold: float = 0.6, num_perm: int = 128) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        # Candidates come from a looser LSH band setting; the estimate then decides.
        self._lsh = MinHashLSH(threshold=max(0.3, threshold - 0.15), num_perm=num_perm)
        self._permutations = MinHash(num_perm=num_perm, scheme=SCHEME).permutations
        # Only the hash values are kept (512 bytes each), not MinHash objects.
        self._signatures: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: str) -> bool:
        return key in self._signatures

    def signature(self, text: str) -> MinHash | None:
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            return None
        minhash = MinHash(num_perm=self.num_perm, permutations=self._permutations, scheme=SCHEME)
        minhash.update_batch(grams)
        return minhash

    def from_bytes(self, data: bytes) -> MinHash:
        return MinHash(hashvalues=np.frombuffer(data, dtype=np.uint32), permutations=self._permutations,
                       scheme=SCHEME)

    @staticmethod
    def to_bytes(minhash: MinHash) -> bytes:
        return bytes(minhash.hashvalues.astype(np.uint32).tobytes())

    def best_match(self, minhash: MinHash, exclude: str) -> NearMatch | None:
        best: NearMatch | None = None
        for key in self._lsh.query(minhash):
            if key == exclude:
                continue
            similarity = float(np.count_nonzero(minhash.hashvalues == self._signatures[key])) / self.num_perm
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = NearMatch(key, similarity)
        return best

    def add(self, key: str, minhash: MinHash) -> None:
        if key not in self._signatures:
            self._lsh.insert(key, minhash)
            self._signatures[key] = minhash.hashvalues
