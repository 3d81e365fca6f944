"""Scoring shared by every search index: query words, relative-score fusion
of a keyword and a vector ranking, and unit-length vectors. Adapters use these
so that each backend ranks the same way."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graph.ports import IndexHit

FloatMatrix = npt.NDArray[np.float32]
Ranking = list[tuple[str, float]]
"""(memory id, raw score) pairs, best first."""

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
"""English words too common to rank by; dropped from keyword queries (as Weaviate's
and Lucene's English analysers do) unless the query holds nothing else. Matching
them would make BM25 score nearly every document."""


def relative_scores(ranking: Ranking) -> dict[str, float]:
    """Min-max scale a ranking to 0..1 (best = 1); a single candidate or
    all-equal scores scale to 1."""
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    if high - low <= 0:
        return {memory_id: 1.0 for memory_id, _ in ranking}
    return {memory_id: (score - low) / (high - low) for memory_id, score in ranking}


def fuse(keyword: Ranking, vector: Ranking, alpha: float, limit: int) -> list[IndexHit]:
    """Relative-score fusion: ``alpha * vector + (1 - alpha) * keyword`` over
    the scaled rankings, a memory missing from a ranking getting 0 from it;
    sorted by fused score, then id."""
    keyword_scaled, vector_scaled = relative_scores(keyword), relative_scores(vector)
    keyword_raw, vector_raw = dict(keyword), dict(vector)
    hits = [
        IndexHit(
            memory_id=memory_id,
            score=alpha * vector_scaled.get(memory_id, 0.0)
            + (1.0 - alpha) * keyword_scaled.get(memory_id, 0.0),
            keyword_score=keyword_raw.get(memory_id),
            vector_score=vector_raw.get(memory_id),
        )
        for memory_id in keyword_raw.keys() | vector_raw.keys()
    ]
    hits.sort(key=lambda hit: (-hit.score, hit.memory_id))
    return hits[:limit]


def unit_rows(vectors: npt.ArrayLike, dimensions: int) -> FloatMatrix:
    """``vectors`` as a (rows, dimensions) float32 matrix of unit rows
    (all-zero rows stay zero)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != dimensions:
        raise ValueError(f"Expected vectors of {dimensions} dimensions, got shape {matrix.shape}.")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)
