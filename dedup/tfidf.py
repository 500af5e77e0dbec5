"""Term features and the TF-IDF cosine pass (scikit-learn, sparse).

Terms are stemmed (Snowball, through PyStemmer), stop words removed, and
hashed into ``n_features`` columns (like scikit-learn's ``HashingVectorizer``),
so no vocabulary has to be kept or shipped and the persistent index can score
new articles against old ones from document frequencies alone.
scikit-learn's ``TfidfTransformer`` turns counts into weights.

Article candidates come from a chunked sparse product restricted to each
article's strongest terms (its ``keywords`` highest TF-IDF weights): never a
dense n x n matrix. Passage candidates (a million windows at 100k articles)
come from a join on pairs of shared keywords instead of a product: every
window pair that can reach the cosine threshold shares two keywords, or one
keyword heavy enough on both sides, and only those pairs get an exact cosine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import Stemmer
from sklearn import preprocessing
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

from dedup.text import (
    Tokens,
    distinct_sorted,
    normalize,
    run_starts,
    runs,
    sorted_member,
    token_hash,
    unique_pairs,
)

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
        keyword_max_articles: Article keywords held by more than this many
            articles stay in the keyword vectors but are left out of the
            neighbours' products (cosines over the rarer keywords only), as
            ``passage_max_windows`` for passages: at 100k generated articles
            the products held 9,200 similarities per article, most of them
            through such keywords (benchmarks/CALIBRATION.md).
        passage_sentences, passage_stride: Passage windows (in sentences).
        passage_top_k: Nearest passages (of other articles) kept per passage.
        passage_min_cosine: Passage candidates below this cosine are dropped.
        passage_keywords: Terms per passage used to find candidates.
        passage_max_df: Terms found in more than this share of passages (and in
            more than :data:`MIN_KEYWORD_WINDOWS`) are not used to find
            candidates (they would cost a quadratic number of products and
            tell little).
        passage_max_windows: Keywords found in more than this many passages
            stay in the passage vectors but are left out of the products
            (cosines over the rarer keywords only). The relative limit alone
            grows with the corpus, and the products with its square: at 100k
            articles (a million windows) it let terms in 10,000 windows
            through. 1,000 is the relative limit at 100,000 windows.
        near_copy_group: A story run by this many articles or more (near-copies:
            each article's shingles mostly found in the longest of them) is
            also counted once: article keyword vectors are computed again over
            the corpus with only the longest copy of each such group, and that
            copy is paired with its nearest articles (and each article with its
            nearest such copies, :func:`host_pairs`). The copies' own frequency
            puts the story's words over the keyword limits above, so a rewrite
            of it would meet none of them. 0: no second pass.
    """

    top_k: int = 5
    min_cosine: float = 0.1
    keywords: int = 40
    keyword_max_articles: int = 300
    passage_sentences: int = 2
    passage_stride: int = 2
    passage_top_k: int = 5
    passage_min_cosine: float = 0.26
    passage_keywords: int = 12
    passage_max_df: float = 0.01
    passage_max_windows: int = 2000
    near_copy_group: int = 10


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
        return self.features_batch([text], [toks])[0]

    def features_batch(self, texts: Sequence[str], toks: Sequence[Tokens]) -> list[np.ndarray]:
        """:meth:`features` of several texts, their tokens looked up at once."""
        sizes = np.array([len(t) for t in toks], dtype=np.int64)
        if sizes.sum() == 0:
            return [np.zeros(0, dtype=np.int64) for _ in toks]
        hashes = np.concatenate([t.hashes for t in toks])
        uniq, inv = _distinct_inverse(hashes)
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
                # the text and position of each new token's first occurrence
                first = _first_positions(inv, todo, len(uniq))
                ends = np.cumsum(sizes)
                owner = np.searchsorted(ends, first, side="right")
                local = first - (ends - sizes)[owner]
                words = [normalize(texts[o][toks[o].starts[t] : toks[o].ends[t]])
                         for o, t in zip(owner.tolist(), local.tolist())]
                for i, stem in zip(todo, self._stemmer.stemWords(words)):
                    digest = hashlib.blake2b(stem.encode("utf-8", "surrogatepass"),
                                             digest_size=8)
                    col = int.from_bytes(digest.digest(), "little") % N_FEATURES
                    pending[int(uniq[i])] = col
                    cols[i] = col
                if len(pending) > 4096 + len(self._known_h) // 4:
                    self._merge()
        cols[sorted_member(uniq, _STOP_HASHES)] = -1
        return np.split(cols[inv], np.cumsum(sizes)[:-1])


def _distinct_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of a 1-D array, by one unstable
    ``argsort`` (numpy's vectorized quicksort; the stable sort that ``np.unique``
    needs for its first indices took 2.4x as long on a batch's 170k tokens)."""
    order = np.argsort(values)
    ordered = values[order]
    first = run_starts(ordered)
    inv = np.empty(len(values), dtype=np.int64)
    inv[order] = np.cumsum(first) - 1
    return ordered[first], inv


def _first_positions(inv: np.ndarray, wanted: list[int], n_distinct: int) -> np.ndarray:
    """Where each of the distinct values ``wanted`` (increasing indices into the
    distinct values of which ``inv`` is the inverse) first occurs."""
    is_wanted = np.zeros(n_distinct, dtype=bool)
    is_wanted[wanted] = True
    pos = np.flatnonzero(is_wanted[inv])
    which = inv[pos]
    by = np.argsort(which, kind="stable")  # positions stay increasing within a value
    return pos[by[run_starts(which[by])]]


def sentence_terms(
    features: np.ndarray, token_bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of feature columns per sentence (stop words left out), CSR layout.

    Returns:
        (indptr, cols, counts): sentence k has ``cols[indptr[k]:indptr[k+1]]``
        (sorted, unique; int32, as :data:`N_FEATURES` fits) with ``counts``
        (float32) of each.
    """
    return sentence_terms_batch([features], [token_bounds])[0]


def sentence_terms_batch(
    features: Sequence[np.ndarray], token_bounds: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`sentence_terms` of several texts, their sentences numbered one
    after the other and counted with one sort."""
    if not features:
        return []
    n_sent = np.array([len(tb) - 1 for tb in token_bounds], dtype=np.int64)
    first = np.cumsum(n_sent) - n_sent
    total = int(n_sent.sum())
    rows = np.repeat(np.arange(total, dtype=np.int64),
                     np.concatenate([np.diff(tb) for tb in token_bounds]).astype(np.int64))
    feats = np.concatenate(features)
    keep = feats >= 0
    key = rows[keep] * N_FEATURES + feats[keep]
    key.sort()
    at, lengths = runs(key)
    uniq = key[at]
    counts = lengths.astype(np.float32)
    sent = uniq // N_FEATURES
    cols = (uniq % N_FEATURES).astype(np.int32)
    indptr = np.searchsorted(sent, np.arange(total + 1)).astype(np.int64)
    out = []
    for lo, n in zip(first.tolist(), n_sent.tolist()):
        ptr = indptr[lo : lo + n + 1]
        a, b = int(ptr[0]), int(ptr[-1])
        out.append((ptr - a, cols[a:b], counts[a:b]))
    return out


def doc_vectors(counts: sp.csr_matrix) -> tuple[sp.csr_matrix, TfidfTransformer]:
    """L2-normalized TF-IDF rows (sublinear tf) and the fitted transformer."""
    transformer = TfidfTransformer(sublinear_tf=True, norm="l2", smooth_idf=True)
    weights = transformer.fit_transform(counts)
    return sp.csr_matrix(weights, dtype=np.float32), transformer


def _rank_in_rows(rows: np.ndarray, vals: np.ndarray,
                  top: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Order entries by row, then by descending value (stable: ties keep their
    order), and the rank of each ordered entry within its row.

    ``rows`` must be non-decreasing; ``top`` is the largest value the ranking
    scales by (default ``vals.max()``; give the whole matrix's to rank a block of
    its rows exactly as the whole). Returns (order, rank).
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if top is None:
        top = float(vals.max())
    scaled = vals / (top * (1 + 1e-6)) if top > 0 else vals
    key = rows.astype(np.float64) + (1.0 - scaled.astype(np.float64))
    order = np.argsort(key, kind="stable")
    # each entry's rank: its place less its row's first place (rows stay sorted)
    first = np.repeat(*runs(rows[order]))
    return order, np.arange(len(order)) - first


#: Entries of a matrix :func:`keep_top_terms` ranks at once (its sort keys and
#: orders are a few arrays of this many 8-byte values).
RANK_BLOCK = 4_000_000


def keep_top_terms(mat: sp.csr_matrix, m: int) -> sp.csr_matrix:
    """Each row's m largest entries (ties: lower column first), others dropped.

    Rows are ranked a block of about :data:`RANK_BLOCK` entries at a time (with
    the whole matrix's scale, so exactly as all at once): at 100k articles the
    entries are some 30 million.
    """
    mat = sp.csr_matrix(mat)
    mat.sort_indices()
    lengths = np.diff(mat.indptr)
    if lengths.max(initial=0) <= m:
        return mat
    top = float(mat.data.max())
    kept_parts = []
    row = 0
    n_rows = mat.shape[0]
    while row < n_rows:
        end = int(np.searchsorted(mat.indptr, mat.indptr[row] + RANK_BLOCK, side="right")) - 1
        end = min(n_rows, max(end, row + 1))
        lo, hi = int(mat.indptr[row]), int(mat.indptr[end])
        rows = np.repeat(np.arange(row, end), lengths[row:end])
        order, rank = _rank_in_rows(rows, mat.data[lo:hi], top)
        kept_parts.append(np.sort(order[rank < m]) + lo)
        row = end
    kept = np.concatenate(kept_parts)
    new_lengths = np.minimum(lengths, m)
    new_indptr = np.concatenate([[0], np.cumsum(new_lengths)])
    return sp.csr_matrix((mat.data[kept], mat.indices[kept], new_indptr), shape=mat.shape)


def top_k_block(keys: sp.csr_matrix, keys_t: sp.csr_matrix, lo: int, hi: int,
                params: TfidfParams) -> np.ndarray:
    """Pairs (unsorted) of articles lo..hi-1 and their ``top_k`` nearest
    neighbours by keyword cosine (``keys`` from :func:`keep_top_terms`).

    Each row of ``keys[lo:hi] @ keys_t`` is summed by a compiled loop as scipy's
    product sums it, and only its entries at ``min_cosine`` or more are kept
    (:func:`dedup._kernels.top_k_rows`): at 100k articles a row of the product
    has some 4,000 entries, a few of them that close. Neighbours are ranked by
    cosine (scaled by the block's largest, as :func:`_rank_in_rows` does), ties
    in the product's order.
    """
    from dedup._kernels import top_k_rows

    dtype = np.result_type(keys.dtype, keys_t.dtype)
    rows, cols = top_k_rows(keys.indptr, keys.indices, keys.data.astype(dtype, copy=False),
                            keys_t.indptr, keys_t.indices,
                            keys_t.data.astype(dtype, copy=False), lo, hi, keys_t.shape[1],
                            dtype.type(params.min_cosine), params.top_k)
    return np.stack([rows, cols], axis=1)


def host_pairs(vectors: sp.csr_matrix, hosts: np.ndarray, params: TfidfParams) -> np.ndarray:
    """Each host's ``top_k`` nearest articles and each article's ``top_k``
    nearest hosts by keyword cosine (as :func:`top_k_pairs`, over the products
    with the hosts' columns only).

    Returns:
        (m, 2) int64 array of pairs ``i < j``, sorted, unique.
    """
    if len(hosts) == 0 or vectors.shape[0] < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = keep_top_terms(vectors, params.keywords)
    keys_t = product_columns(keys, params.keyword_max_articles)
    sims = sp.coo_matrix(keys @ keys_t[:, hosts])  # articles x hosts
    rows, cols = sims.row.astype(np.int64), hosts[sims.col]
    ok = (sims.data >= params.min_cosine) & (rows != cols)
    rows, cols, vals = rows[ok], cols[ok], sims.data[ok]
    found = []
    for a, b in ((rows, cols), (cols, rows)):  # by article, then by host
        by = np.lexsort((b, a))
        a, b, v = a[by], b[by], vals[by]
        order, rank = _rank_in_rows(a, v)
        sel = order[rank < params.top_k]
        found.append(np.stack([a[sel], b[sel]], axis=1))
    return sorted_pairs(found)


def top_k_pairs(
    vectors: sp.csr_matrix, params: TfidfParams, chunk: int = 500
) -> np.ndarray:
    """Each article's nearest neighbours by keyword cosine. (The pipeline runs
    the blocks of :func:`top_k_block` in its process pool; this is the
    single-process form.)

    Returns:
        (m, 2) int64 array of pairs ``i < j``, sorted, unique.
    """
    n = vectors.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = keep_top_terms(vectors, params.keywords)
    keys_t = product_columns(keys, params.keyword_max_articles)
    found = [top_k_block(keys, keys_t, lo, min(n, lo + chunk), params)
             for lo in range(0, n, chunk)]
    return sorted_pairs(found)


def product_columns(keys: sp.csr_matrix, max_rows: int) -> sp.csr_matrix:
    """The transpose of ``keys`` (keywords x articles) without the keywords
    held by more than ``max_rows`` articles: ``keys @`` it is the cosine over
    the rarer keywords."""
    keys_t = sp.csr_matrix(keys.T)
    held = np.diff(keys_t.indptr)
    frequent = held > max_rows
    if frequent.any():
        keys_t.data[frequent.repeat(held)] = 0
        keys_t.eliminate_zeros()
    return keys_t


def sorted_pairs(parts: list[np.ndarray]) -> np.ndarray:
    """Unique pairs ``i < j`` (sorted) of the rows of ``parts``, self pairs left out."""
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(parts).astype(np.int64, copy=False), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return unique_pairs(pairs)


def pair_cosines(vectors: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Exact cosine of the full TF-IDF rows of each pair (rows are unit length)."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.float64)
    return np.clip(row_dots(vectors, pairs[:, 0], pairs[:, 1]), 0.0, 1.0)


def window_matrix(sent_owner: np.ndarray, size: int, stride: int) -> tuple[sp.csr_matrix,
                                                                          np.ndarray]:
    """Indicator matrix of sentence windows that stay within one article.

    Returns:
        (windows x sentences indicator, owner of each window).
    """
    n = len(sent_owner)
    if n == 0:
        return sp.csr_matrix((0, 0)), np.zeros(0, dtype=np.int64)
    bounds = np.flatnonzero(np.diff(sent_owner)) + 1
    first = np.concatenate([[0], bounds])
    last = np.concatenate([bounds, [n]])
    lengths = last - first
    # windows per article: starts every `stride`, the last one ending at the article's end
    counts = np.maximum(1, -(-(lengths - size) // stride) + 1)
    counts[lengths <= size] = 1
    w_owner_idx = np.repeat(np.arange(len(first)), counts)
    k = np.arange(len(w_owner_idx)) - np.repeat(np.cumsum(counts) - counts, counts)
    w_start = first[w_owner_idx] + np.minimum(k * stride, np.maximum(lengths[w_owner_idx] - size,
                                                                     0))
    w_len = np.minimum(size, lengths[w_owner_idx])
    rows = np.repeat(np.arange(len(w_start)), w_len)
    cols = np.repeat(w_start, w_len) + (np.arange(len(rows)) - np.repeat(np.cumsum(w_len) - w_len,
                                                                        w_len))
    ind = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                        shape=(len(w_start), n))
    return ind, sent_owner[w_start]


#: A passage keyword may be held by this many windows whatever ``passage_max_df``:
#: in a scan of a few dozen articles the share alone would leave only terms of one or
#: two windows, none that five copies of one story share.
MIN_KEYWORD_WINDOWS = 100


def max_keyword_windows(share: float, n_windows: int) -> int:
    """Most windows a passage keyword may be held by, of ``n_windows`` (``passage_max_df``).

    Example:
        >>> max_keyword_windows(0.01, 150), max_keyword_windows(0.01, 1_000_000)
        (100, 10000)
    """
    return max(MIN_KEYWORD_WINDOWS, int(share * n_windows))


def passage_keys(
    sentences: sp.csr_matrix, sent_owner: np.ndarray, params: TfidfParams,
    chunk: int = 200_000,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Unit-length keyword vectors of passage windows and the article of each.

    Weights are scikit-learn's ``TfidfTransformer(sublinear_tf=True,
    norm="l2")`` over the windows' term counts, computed ``chunk`` windows at
    a time (the counts of a million windows would not otherwise fit beside
    the rest): only the window frequencies are corpus-wide.

    Args:
        sentences: (n_sentences, N_FEATURES) term counts of all sentences.
        sent_owner: Article index of each sentence (non-decreasing).
    """
    ind, owner = window_matrix(sent_owner, params.passage_sentences, params.passage_stride)
    n_win, n_feat = ind.shape[0], sentences.shape[1]
    spans = [(lo, min(n_win, lo + chunk)) for lo in range(0, n_win, chunk)]
    df = np.zeros(n_feat, dtype=np.int64)
    kept = None  # the one chunk's counts (of several, each is made again below)
    for lo, hi in spans:
        product = sp.csr_matrix(ind[lo:hi] @ sentences)
        df += np.bincount(product.indices, minlength=n_feat)
        if len(spans) == 1:
            kept = product
    # TfidfTransformer's idf (smooth_idf) from the corpus-wide frequencies
    idf = np.log((1.0 + n_win) / (1.0 + df)) + 1.0
    max_df = max_keyword_windows(params.passage_max_df, n_win)
    capped = max_df > params.passage_max_windows
    parts = []
    for lo, hi in spans:
        counts = sp.csr_matrix(kept if kept is not None else ind[lo:hi] @ sentences,
                               dtype=np.float64)
        kept = None
        counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
        weights = sp.csr_matrix(preprocessing.normalize(counts, norm="l2", copy=False),
                                dtype=np.float32)
        weights.data[df[weights.indices] > max_df] = 0
        weights.eliminate_zeros()
        keys = keep_top_terms(weights, params.passage_keywords)
        # re-normalize the kept terms so the threshold reads as a cosine
        keys = sp.csr_matrix(preprocessing.normalize(keys, norm="l2"), dtype=np.float32)
        if capped:
            # long posting lists left out of the products, not out of the vectors:
            # cosines over the remaining (rarer) keywords, never overestimated
            keys.data[df[keys.indices] > params.passage_max_windows] = 0
            keys.eliminate_zeros()
        parts.append(keys)
    if not parts:
        return sp.csr_matrix((0, n_feat), dtype=np.float32), owner
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32), owner


#: Sorted (keyword pair, window) codes handled at a time.
_SLICE = 4_000_000


def candidate_window_pairs(keys: sp.csr_matrix, min_cosine: float,
                           owner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Window pairs ``(a, b)``, ``a < b``, sorted and unique, that may reach
    ``min_cosine``: those sharing two keywords or more, and those sharing one
    whose two weights alone reach it (only pairs of different owners, if given).

    Every pair whose cosine reaches ``min_cosine`` is among them (a pair that
    shares one keyword has exactly the product of its two weights), found
    without the sparse product over each keyword's whole posting list: most
    windows that share a keyword share only that one, while a pair of keywords
    is rare. At 100k articles (1.3M windows) that is 22M candidate pairs in
    place of 8 billion products.
    """
    keys = sp.csr_matrix(keys)
    keys.sort_indices()
    n = keys.shape[0]
    z = np.zeros(0, dtype=np.int64)
    if n < 2 or keys.nnz == 0:
        return z, z
    shift = max(1, (n - 1).bit_length())
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(keys.indptr))
    terms = keys.indices.astype(np.int64)
    # 1. keyword pairs (t, u), t < u, of each window (two entries of one row),
    #    hashed into (pair, window) codes; a hash collision only adds
    #    candidates, which the exact cosine removes. Compiled loops (numba,
    #    imported on first use) build the codes and pair each group's windows;
    #    tests hold them to the numpy form they replaced.
    from dedup import _kernels

    code = _kernels.keyword_pair_codes(keys.indptr.astype(np.int64), terms, N_FEATURES, shift)
    code.sort()
    mask = np.int64((1 << shift) - 1)
    owners = owner if owner is not None else np.arange(n)
    found = [z]
    none = np.zeros(0)

    def add(codes: np.ndarray) -> None:
        codes.sort()
        found.append(distinct_sorted(codes))

    # slices of the sorted codes that end at a group boundary bound the memory
    lo = 0
    while lo < len(code):
        hi = min(len(code), lo + _SLICE)
        if hi < len(code):
            last = (code[hi - 1] >> np.int64(shift)) << np.int64(shift)
            hi = int(np.searchsorted(code, last | mask, side="right"))
        part = code[lo:hi]
        add(_kernels.group_pair_codes(part >> np.int64(shift), part & mask, owners, n, none, 0.0))
        lo = hi
    del code
    # 2. one keyword alone: both weights at least min_cosine / the term's largest weight
    top = _kernels.column_max(keys.indices, keys.data, keys.shape[1])
    weight = keys.data.astype(np.float64)
    strong = np.flatnonzero(weight * top[terms] >= min_cosine - 1e-6)
    strong = strong[np.lexsort((rows[strong], terms[strong]))]
    add(_kernels.group_pair_codes(terms[strong], rows[strong], owners, n, weight[strong],
                                  min_cosine - 1e-6))
    pair_code = np.concatenate(found)
    pair_code.sort()
    pair_code = distinct_sorted(pair_code)
    return pair_code // n, pair_code % n


def rows_for_dots(keys: sp.csr_matrix) -> sp.csr_matrix:
    """``keys`` in the form :func:`row_dots` takes: float64 (a product of two
    float32 weights is exact in it), column indices sorted."""
    rows = sp.csr_matrix(keys, dtype=np.float64, copy=True)
    rows.sort_indices()
    return rows


def row_dots(rows: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products of rows ``a[i]`` and ``b[i]`` of ``rows`` (in its dtype).

    The value of scipy's ``rows[a].multiply(rows[b]).sum(axis=1)``, bit for bit:
    for a matrix with sorted, distinct column indices (the usual case; those of
    :func:`rows_for_dots` are), by a compiled loop that merges each pair's
    columns in place (:func:`dedup._kernels.row_dots`, 5x faster on a scan's
    window pairs) instead of gathering both sets of rows first.
    """
    if not rows.has_canonical_format:
        both = rows[a].multiply(rows[b])
        return np.asarray(both.sum(axis=1)).ravel().astype(rows.dtype, copy=False)
    from dedup._kernels import row_dots as dots

    return dots(rows.indptr, rows.indices, rows.data, np.ascontiguousarray(a, dtype=np.int64),
                np.ascontiguousarray(b, dtype=np.int64))


def top_passage_pairs(a: np.ndarray, b: np.ndarray, cosines: np.ndarray, owner: np.ndarray,
                      params: TfidfParams) -> np.ndarray:
    """Article pairs from each window's ``passage_top_k`` nearest windows of other
    articles at cosine ``passage_min_cosine`` or more (ties: lower window first).

    Returns:
        (m, 2) int64 array of article pairs ``i < j``, sorted, unique.
    """
    ok = cosines >= params.passage_min_cosine
    a, b, cosines = a[ok], b[ok], cosines[ok]
    if len(a) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    from dedup import _kernels

    # each window ranks its neighbours, both directions of each pair, as
    # _rank_in_rows would rank them sorted by (window, neighbour): one pass that
    # buckets them by window (_kernels.top_neighbours) instead of two sorts
    rows, cols = _kernels.top_neighbours(a.astype(np.int64, copy=False),
                                         b.astype(np.int64, copy=False),
                                         cosines.astype(np.float64, copy=False), len(owner),
                                         params.passage_top_k)
    pairs = np.sort(np.stack([owner[rows], owner[cols]], axis=1), axis=1)
    return unique_pairs(pairs)


def passage_pairs(
    sentences: sp.csr_matrix, sent_owner: np.ndarray, params: TfidfParams
) -> np.ndarray:
    """Article pairs with passages (sentence windows) of high TF-IDF cosine.

    A rewritten wire passage inside a longer story shares its rare terms with
    the original passage even when few word sequences survive. (The pipeline
    runs the exact cosines of :func:`row_dots` in its process pool; this is
    the single-process form.)

    Returns:
        (m, 2) int64 array of article pairs ``i < j``, sorted, unique.
    """
    if params.passage_top_k == 0 or sentences.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.int64)
    keys, owner = passage_keys(sentences, sent_owner, params)
    a, b = candidate_window_pairs(keys, params.passage_min_cosine, owner)
    return top_passage_pairs(a, b, row_dots(rows_for_dots(keys), a, b), owner, params)
