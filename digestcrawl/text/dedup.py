"""Duplicate detection: exact text fingerprints and near-duplicates with MinHash/LSH.

Texts are folded first (Simplified script, lower case, no punctuation or spaces), so a zh-Hant
reprint of a zh-Hans story is recognised. Shingles are 3-character runs for CJK text and
3-word runs for Latin text, which keeps short Chinese articles comparable without a segmenter.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from digestcrawl.text.chars import CJK_RANGES, LATIN_WORD
from digestcrawl.text.relevance import fold

SCHEME = "affine32"
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
    XOR. A multiply-shift hash takes either to 32 bits; MinHash's affine32 scheme mixes them
    again with the MurmurHash3 finalizer. Repeats are kept: they cannot change a minimum.
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
        hashes = shingle_hashes(text)
        if len(hashes) < MIN_SHINGLES:
            return None
        minhash = MinHash(num_perm=self.num_perm, permutations=self._permutations, scheme=SCHEME, hashfunc=int)
        minhash.update_batch(hashes.tolist())
        return minhash

    def from_bytes(self, data: bytes) -> MinHash:
        return MinHash(hashvalues=np.frombuffer(data, dtype=np.uint32), permutations=self._permutations,
                       scheme=SCHEME)

    @staticmethod
    def to_bytes(minhash: MinHash) -> bytes:
        return bytes(minhash.hashvalues.astype(np.uint32).tobytes())

    def matches(self, minhash: MinHash, exclude: str) -> list[NearMatch]:
        """The indexed texts at or above the threshold, most similar first."""
        found = []
        for key in self._lsh.query(minhash):
            if key == exclude:
                continue
            similarity = float(np.count_nonzero(minhash.hashvalues == self._signatures[key])) / self.num_perm
            if similarity >= self.threshold:
                found.append(NearMatch(key, similarity))
        return sorted(found, key=lambda match: -match.similarity)

    def best_match(self, minhash: MinHash, exclude: str) -> NearMatch | None:
        found = self.matches(minhash, exclude)
        return found[0] if found else None

    def add(self, key: str, minhash: MinHash) -> None:
        if key not in self._signatures:
            self._lsh.insert(key, minhash)
            self._signatures[key] = minhash.hashvalues
