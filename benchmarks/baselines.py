"""Baseline near-duplicate detectors the benchmark compares dedup against.

Each baseline takes the article texts and returns the article pairs it reports,
as ``(i, j)`` index pairs with ``i < j``, sorted. They are what a practitioner
would write in an afternoon:

* :func:`datasketch_update` - word 5-gram shingles, one ``MinHash.update`` per
  shingle, ``MinHashLSH`` insert and query at Jaccard threshold 0.5 over whole
  documents (the LSH candidates are the answer; nothing is verified);
* :func:`datasketch_bulk` - the same with ``MinHash.bulk``;
* :func:`tfidf_all_pairs` - scikit-learn TF-IDF vectors and the cosine of every
  pair (a blocked sparse product), pairs at or above a cosine threshold. It is
  quadratic in time, so the harness runs it only on small corpora;
* :func:`tokenize_all` - not a detector: ``dedup.text.tokenize`` over every
  text, the lower bound of any detector that reads its input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = [
    "DEFAULT_COSINE",
    "DEFAULT_NUM_PERM",
    "DEFAULT_THRESHOLD",
    "SHINGLE_WORDS",
    "datasketch_bulk",
    "datasketch_update",
    "shingles",
    "tfidf_all_pairs",
    "tokenize_all",
]

#: Words per shingle.
SHINGLE_WORDS = 5
#: MinHash permutations of the datasketch baselines.
DEFAULT_NUM_PERM = 128
#: Jaccard threshold of the datasketch LSH index.
DEFAULT_THRESHOLD = 0.5
#: Cosine threshold of the TF-IDF baseline.
DEFAULT_COSINE = 0.5

_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = SHINGLE_WORDS) -> set[bytes]:
    """The word ``n``-gram shingles of a text (lower-cased ``\\w+`` tokens).

    A text of fewer than ``n`` words gives one shingle, all its words.

    Args:
        text: An article text.
        n: Words per shingle.

    Returns:
        The distinct shingles, UTF-8 encoded (what ``MinHash.update`` takes).

    Example:
        >>> sorted(shingles("A b c", n=2))
        [b'a b', b'b c']
    """
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[k : k + n]).encode("utf-8") for k in range(len(words) - n + 1)}


def _lsh_pairs(minhashes: Sequence[object], threshold: float, num_perm: int) -> list[
    tuple[int, int]
]:
    """Insert every MinHash into a ``MinHashLSH`` and query each one back."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for i, m in enumerate(minhashes):
        lsh.insert(i, m)
    pairs: set[tuple[int, int]] = set()
    for i, m in enumerate(minhashes):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def datasketch_update(
    texts: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    seed: int = 1,
) -> list[tuple[int, int]]:
    """Plain datasketch: ``MinHash.update`` per shingle, then ``MinHashLSH``.

    Args:
        texts: The article texts.
        threshold: Jaccard threshold of the LSH index.
        num_perm: MinHash permutations.
        seed: MinHash seed.

    Returns:
        Sorted ``(i, j)`` index pairs, ``i < j``, that the index returns.
    """
    from datasketch import MinHash

    minhashes = []
    for text in texts:
        m = MinHash(num_perm=num_perm, seed=seed)
        for s in shingles(text):
            m.update(s)
        minhashes.append(m)
    return _lsh_pairs(minhashes, threshold, num_perm)


def datasketch_bulk(
    texts: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    seed: int = 1,
) -> list[tuple[int, int]]:
    """Datasketch with ``MinHash.bulk`` (vectorized hashing), then ``MinHashLSH``.

    Args:
        texts: The article texts.
        threshold: Jaccard threshold of the LSH index.
        num_perm: MinHash permutations.
        seed: MinHash seed.

    Returns:
        Sorted ``(i, j)`` index pairs, ``i < j``, that the index returns.
    """
    from datasketch import MinHash

    minhashes = MinHash.bulk([list(shingles(t)) for t in texts], num_perm=num_perm, seed=seed)
    return _lsh_pairs(minhashes, threshold, num_perm)


def tfidf_all_pairs(
    texts: Sequence[str], *, threshold: float = DEFAULT_COSINE, block: int = 1000
) -> list[tuple[int, int]]:
    """All-pairs TF-IDF cosine with scikit-learn; pairs at or above ``threshold``.

    Vectors are ``TfidfVectorizer(sublinear_tf=True, stop_words="english")``
    (L2-normalized, so the dot product is the cosine); the product is taken
    ``block`` rows at a time so only a block of the n x n matrix is in memory.

    Args:
        texts: The article texts.
        threshold: Minimum cosine of a reported pair.
        block: Rows per block of the product.

    Returns:
        Sorted ``(i, j)`` index pairs, ``i < j``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 2:
        return []
    vectors = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    transposed = vectors.T.tocsc()
    pairs: list[tuple[int, int]] = []
    for lo in range(0, len(texts), block):
        sims = (vectors[lo : lo + block] @ transposed).toarray()
        rows, cols = np.nonzero(sims >= threshold)
        rows = rows + lo
        keep = cols > rows
        pairs.extend(zip(rows[keep].tolist(), cols[keep].tolist()))
    return sorted(pairs)


def tokenize_all(texts: Sequence[str]) -> int:
    """Tokenize every text with ``dedup.text.tokenize`` (the read-and-tokenize floor).

    Args:
        texts: The article texts.

    Returns:
        The total number of tokens (so the work cannot be optimized away).
    """
    from dedup.text import tokenize

    return sum(len(tokenize(t)) for t in texts)
