"""Term features and the TF-IDF cosine pass (scikit-learn, sparse).

Terms are stemmed (Snowball, through PyStemmer), stop words removed, and
hashed into ``n_features`` columns (like scikit-learn's ``HashingVectorizer``),
so no vocabulary has to be kept or shipped and the persistent index can score
new articles against old ones from document frequencies alone.
scikit-learn's ``TfidfTransformer`` turns counts into weights.

Candidates come from a chunked sparse product restricted to each article's
strongest terms (its ``keywords`` highest TF-IDF weights): never a dense
n x n matrix, and the cost stays near linear as the corpus grows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

from dedup.text import Tokens, normalize, token_hash

#: Number of hashed feature columns.
N_FEATURES = 1 << 22

_STOP_HASHES = np.array(
    sorted({token_hash(normalize(w)) for w in ENGLISH_STOP_WORDS}), dtype=np.uint64
)


@dataclass(frozen=True)
class TfidfParams:
    """The ``tfidf`` part of the config.

    Attributes:
        top_k: Nearest neighbours kept per article.
        min_cosine: Candidates below this (keyword) cosine are dropped.
        keywords: Terms per article used to find candidates.
    """

    top_k: int = 10
    min_cosine: float = 0.1
    keywords: int = 40


def sorted_member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Boolean mask: which ``values`` are in ``sorted_set`` (sorted, unique)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_set, values)
    idx[idx == len(sorted_set)] = 0
    return sorted_set[idx] == values


class FeatureMapper:
    """Maps token hashes to stemmed feature columns, caching every token seen.

    A stop word maps to -1. The mapping is a pure function of the token's
    normalized form, so it is the same in every process. Known tokens are
    looked up with one ``searchsorted`` per text; new ones are stemmed in a
    batch and merged into the sorted table now and then.
    """

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._known_h = np.zeros(0, dtype=np.uint64)
        self._known_c = np.zeros(0, dtype=np.int64)
        self._pending: dict[int, int] = {}

    def _merge(self) -> None:
        if not self._pending:
            return
        h = np.fromiter(self._pending.keys(), dtype=np.uint64, count=len(self._pending))
        c = np.fromiter(self._pending.values(), dtype=np.int64, count=len(self._pending))
        allh = np.concatenate([self._known_h, h])
        allc = np.concatenate([self._known_c, c])
        order = np.argsort(allh, kind="stable")
        self._known_h, self._known_c = allh[order], allc[order]
        self._pending = {}

    def features(self, text: str, toks: Tokens) -> np.ndarray:
        """Feature column of each token (int64; -1 for a stop word)."""
        if len(toks) == 0:
            return np.zeros(0, dtype=np.int64)
        uniq, first, inv = np.unique(toks.hashes, return_index=True, return_inverse=True)
        cols = np.full(len(uniq), -2, dtype=np.int64)
        if len(self._known_h):
            idx = np.searchsorted(self._known_h, uniq)
            idx[idx == len(self._known_h)] = 0
            found = self._known_h[idx] == uniq
            cols[found] = self._known_c[idx[found]]
        missing = np.flatnonzero(cols == -2).tolist()
        if missing:
            pending = self._pending
            todo = []
            for i in missing:
                col = pending.get(int(uniq[i]))
                if col is None:
                    todo.append(i)
                else:
                    cols[i] = col
            if todo:
                words = [normalize(text[toks.starts[first[i]] : toks.ends[first[i]]])
                         for i in todo]
                for i, stem in zip(todo, self._stemmer.stemWords(words)):
                    digest = hashlib.blake2b(stem.encode("utf-8", "surrogatepass"),
                                             digest_size=8)
                    col = int.from_bytes(digest.digest(), "little") % N_FEATURES
                    pending[int(uniq[i])] = col
                    cols[i] = col
                if len(pending) > 4096 + len(self._known_h) // 4:
                    self._merge()
        cols[sorted_member(uniq, _STOP_HASHES)] = -1
        return cols[inv.reshape(-1)]


def sentence_terms(
    features: np.ndarray, token_bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of feature columns per sentence (stop words left out), CSR layout.

    Returns:
        (indptr, cols, counts): sentence k has ``cols[indptr[k]:indptr[k+1]]``
        (sorted, unique) with ``counts`` of each.
    """
    n_sent = len(token_bounds) - 1
    rows = np.repeat(np.arange(n_sent, dtype=np.int64), np.diff(token_bounds))
    keep = features >= 0
    rows, feats = rows[keep], features[keep]
    key = rows * N_FEATURES + feats
    uniq, counts = np.unique(key, return_counts=True)
    sent = uniq // N_FEATURES
    indptr = np.searchsorted(sent, np.arange(n_sent + 1)).astype(np.int64)
    return indptr, (uniq % N_FEATURES).astype(np.int64), counts.astype(np.float32)


def doc_vectors(counts: sp.csr_matrix) -> tuple[sp.csr_matrix, TfidfTransformer]:
    """L2-normalized TF-IDF rows (sublinear tf) and the fitted transformer."""
    transformer = TfidfTransformer(sublinear_tf=True, norm="l2", smooth_idf=True)
    weights = transformer.fit_transform(counts)
    return sp.csr_matrix(weights, dtype=np.float32), transformer


def keep_top_terms(mat: sp.csr_matrix, m: int) -> sp.csr_matrix:
    """Each row's m largest entries (ties broken by column), others dropped."""
    mat = sp.csr_matrix(mat)
    indptr, indices, data = mat.indptr, mat.indices, mat.data
    lengths = np.diff(indptr)
    if lengths.max(initial=0) <= m:
        return mat
    row_of = np.repeat(np.arange(mat.shape[0]), lengths)
    # sort within rows by descending weight, then column
    order = np.lexsort((indices, -data, row_of))
    rank = np.arange(len(order)) - np.repeat(indptr[:-1], lengths)
    keep_sorted = rank < m
    kept = np.sort(order[keep_sorted])
    new_lengths = np.minimum(lengths, m)
    new_indptr = np.concatenate([[0], np.cumsum(new_lengths)])
    return sp.csr_matrix((data[kept], indices[kept], new_indptr), shape=mat.shape)


def top_k_pairs(
    vectors: sp.csr_matrix, params: TfidfParams, chunk: int = 2000
) -> np.ndarray:
    """Each article's nearest neighbours by keyword cosine.

    Returns:
        (m, 2) int64 array of pairs ``i < j``, sorted, unique.
    """
    n = vectors.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = keep_top_terms(vectors, params.keywords)
    keys_t = sp.csr_matrix(keys.T)
    found: list[np.ndarray] = [np.zeros((0, 2), dtype=np.int64)]
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        sims = sp.csr_matrix(keys[lo:hi] @ keys_t)
        sims.setdiag(0, k=lo)  # no self pairs (diagonal of this block)
        sims.data[sims.data < params.min_cosine] = 0
        sims.eliminate_zeros()
        lengths = np.diff(sims.indptr)
        rows = np.repeat(np.arange(lo, hi), lengths)
        cols = sims.indices.astype(np.int64)
        vals = sims.data
        # top_k per row: sort by (row, -value, col) and keep the first k of each row
        order = np.lexsort((cols, -vals, rows))
        rank = np.arange(len(order)) - np.repeat(sims.indptr[:-1], lengths)
        sel = order[rank < params.top_k]
        found.append(np.stack([rows[sel], cols[sel]], axis=1))
    pairs = np.sort(np.concatenate(found), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def pair_cosines(vectors: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Exact cosine of the full TF-IDF rows of each pair (rows are unit length)."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.float64)
    prod = vectors[pairs[:, 0]].multiply(vectors[pairs[:, 1]])
    return np.clip(np.asarray(prod.sum(axis=1)).ravel(), 0.0, 1.0)
