"""Sentence centrality (LexRank) and redundancy removal (MMR) over TF-IDF vectors, in numpy.

Sentences are compared as folded character bigrams (CJK, so zh-Hans and zh-Hant wording
compare) and Latin words; a sentence similar to many others across a story's sources is
central. Written here rather than taken from ``sumy``: its tokenizers do not split CJK and it
pulls in nltk, for what is thirty lines of numpy. No settings are read.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from digestcrawl.text import bigrams

SIMILAR = 0.1  # cosine below which two sentences are not linked
DAMPING = 0.85
ITERATIONS = 60


def tfidf(texts: Sequence[str]) -> np.ndarray:
    """Row-normalised TF-IDF vectors of ``texts`` (one row each)."""
    grams = [bigrams(text) for text in texts]
    documents = Counter(g for counts in grams for g in counts)
    vocabulary = {g: i for i, g in enumerate(documents)}
    matrix = np.zeros((len(texts), max(len(vocabulary), 1)))
    for row, counts in enumerate(grams):
        for gram, n in counts.items():
            matrix[row, vocabulary[gram]] = (1 + math.log(n)) * math.log(1 + len(texts) / documents[gram])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def centrality(vectors: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """LexRank scores (summing to 1): a random walk over sentence similarity that restarts
    according to ``prior`` (lead sentences, headline words)."""
    size = len(vectors)
    if size == 0:
        return np.zeros(0)
    restart = prior / prior.sum() if prior.sum() > 0 else np.full(size, 1 / size)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    similarity[similarity < SIMILAR] = 0.0
    out = similarity.sum(axis=1)
    linked = out > 0
    transition = np.zeros_like(similarity)
    transition[linked] = similarity[linked] / out[linked, None]
    scores = restart.copy()
    for _ in range(ITERATIONS):
        dangling = scores[~linked].sum()  # a sentence like no other hands its weight to the prior
        new = (1 - DAMPING) * restart + DAMPING * (transition.T @ scores + dangling * restart)
        if np.abs(new - scores).sum() < 1e-9:
            return new
        scores = new
    return scores


def mmr(scores: np.ndarray, vectors: np.ndarray, count: int, balance: float = 0.7,
        same: float = 0.5) -> list[int]:
    """Up to ``count`` indices, best first: central but unlike those already picked; a sentence
    at ``same`` cosine or above to a picked one (a syndicated copy, a reworded lead) is never
    picked."""
    picked: list[int] = []
    top = scores.max() if len(scores) else 0.0
    relevance = scores / top if top > 0 else scores
    candidates = list(range(len(scores)))
    while candidates and len(picked) < count:
        overlap = (vectors[candidates] @ vectors[picked].T).max(axis=1) if picked else np.zeros(len(candidates))
        values = balance * relevance[candidates] - (1 - balance) * overlap
        order = int(np.argmax(values))
        if overlap[order] >= same:
            candidates = [c for c, o in zip(candidates, overlap, strict=True) if o < same]
            continue
        picked.append(candidates.pop(order))
    return picked
