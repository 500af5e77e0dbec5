"""Sentence-level alignment of two texts into reused passages.

For one pair of articles it finds where text is reused and how much:

1. **Seeds**: sentence pairs whose tf-isf cosine and Dice coefficient (on
   stemmed, stop-word-free terms) both pass a threshold. Exact copies,
   light edits and rewordings all give seeds; sentences sharing a quote
   alone rarely pass both.
2. **Extension**: seeds are grouped into passages by their position in
   both texts, alternately (a gap of at most ``max_gap`` sentences on each
   side), so a paragraph moved elsewhere becomes a passage of its own rather
   than breaking the alignment. A group whose whole-passage similarity falls
   below ``min_passage_similarity`` is split with a smaller gap.
3. **Filtering**: overlaps are resolved in favour of the more similar
   passage, and passages shorter than ``min_passage_chars`` or with fewer
   than ``min_seeds`` seeds are dropped.

This follows the seed-extend-filter design of the best PAN text-alignment
systems (Sanchez-Perez, Sidorov and Gelbukh, PAN 2014). Term weights
(inverse sentence frequency) come from the two texts alone, so the result for
a pair does not depend on what else was scanned: ``compare`` and ``scan`` agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dedup.model import Passage

#: Above this many sentence pairs, seeds come from sparse products.
_DENSE_LIMIT = 40_000


@dataclass(frozen=True)
class AlignParams:
    """The ``align`` part of the config (defaults calibrated in benchmarks/).

    A passage is kept when its longer side has ``min_passage_chars`` and either
    it chains at least two sentences on both sides with a word-bigram overlap
    of ``chain_min_overlap`` (or similarity ``chain_alt_similarity``), or it is
    a single sentence with similarity ``single_similarity``, bigram overlap
    ``single_overlap`` and at most ``max_quoted`` of it inside quotation marks
    (independent reports quote the same speakers word for word).
    """

    seed_cosine: float = 0.33
    seed_dice: float = 0.33
    max_gap: int = 4
    min_passage_similarity: float = 0.34
    min_passage_chars: int = 100
    min_seeds: int = 1
    summary_gap: int = 24
    summary_ratio: float = 0.5
    chain_min_overlap: float = 0.15
    chain_alt_similarity: float = 0.5
    single_similarity: float = 0.6
    single_overlap: float = 0.6
    max_quoted: float = 0.5


@dataclass(frozen=True)
class Side:
    """What alignment needs of one text.

    Attributes:
        length: Number of characters of the text.
        starts, ends: Character spans of its sentences.
        indptr, cols, counts: Term counts per sentence, in CSR layout
            (sentence k has terms ``cols[indptr[k]:indptr[k+1]]``).
        token_bounds: Sentence k has tokens ``token_bounds[k]:token_bounds[k+1]``.
        bigrams: Hash of each word bigram (token t and t+1), uint64.
        quoted: Share of each sentence's characters inside quotation marks.
    """

    length: int
    starts: np.ndarray
    ends: np.ndarray
    indptr: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    token_bounds: np.ndarray
    bigrams: np.ndarray
    quoted: np.ndarray

    def bigram_set(self, s0: int, s1: int) -> np.ndarray:
        """Unique bigram hashes inside sentences s0..s1 (inclusive)."""
        lo, hi = int(self.token_bounds[s0]), int(self.token_bounds[s1 + 1]) - 1
        return np.unique(self.bigrams[lo:max(lo, hi)])

    @property
    def n_sentences(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class Alignment:
    """Passages and coverage of one aligned pair."""

    passages: tuple[Passage, ...]
    reuse_a_in_b: float
    reuse_b_in_a: float
    similarity: float


_EMPTY = Alignment((), 0.0, 0.0, 0.0)


class _Weights:
    """tf-isf weights of both sides' sentences over the union of their terms.

    The inverse sentence frequency comes from the sentences of the two texts
    alone. Dot products only need the terms both sides share, so those are
    kept as small dense matrices; norms use every term.
    """

    def __init__(self, a: Side, b: Side) -> None:
        na, nb = a.n_sentences, b.n_sentences
        cols = np.concatenate([a.cols, b.cols])
        uniq, inv = np.unique(cols, return_inverse=True)
        inv = inv.reshape(-1)
        rows = np.concatenate([
            np.repeat(np.arange(na), np.diff(a.indptr)),
            na + np.repeat(np.arange(nb), np.diff(b.indptr)),
        ])
        df = np.bincount(inv, minlength=len(uniq)).astype(np.float64)
        isf = np.log((na + nb) / df) + 1.0
        tf = np.concatenate([a.counts, b.counts]).astype(np.float64)
        w = (1.0 + np.log(tf)) * isf[inv]
        norms = np.sqrt(np.bincount(rows, weights=w * w, minlength=na + nb))
        norms[norms == 0] = 1.0
        w = w / norms[rows]
        n_terms = np.bincount(rows, minlength=na + nb).astype(np.float64)
        in_a = np.zeros(len(uniq), dtype=bool)
        in_b = np.zeros(len(uniq), dtype=bool)
        split = len(a.cols)
        in_a[inv[:split]] = True
        in_b[inv[split:]] = True
        shared = in_a & in_b
        shared_id = np.cumsum(shared) - 1
        n_shared = int(shared.sum())
        self.na, self.nb = na, nb
        self.n_terms_a, self.n_terms_b = n_terms[:na], n_terms[na:]
        self.n_cols = len(uniq)
        self.rows, self.inv, self.w = rows, inv, w
        sel = shared[inv]
        sa, sb = sel[:split], sel[split:]
        ra, ca, va = rows[:split][sa], shared_id[inv[:split][sa]], w[:split][sa]
        rb, cb, vb = rows[split:][sb] - na, shared_id[inv[split:][sb]], w[split:][sb]
        if na * nb <= _DENSE_LIMIT:
            self.mat_a: np.ndarray | sp.csr_matrix = np.zeros((na, n_shared))
            self.mat_b: np.ndarray | sp.csr_matrix = np.zeros((nb, n_shared))
            self.mat_a[ra, ca] = va
            self.mat_b[rb, cb] = vb
        else:  # long texts: sparse products over the shared terms only
            self.mat_a = sp.csr_matrix((va, (ra, ca)), shape=(na, n_shared))
            self.mat_b = sp.csr_matrix((vb, (rb, cb)), shape=(nb, n_shared))
        self.n_shared = n_shared

    def seeds(self, params: AlignParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.n_shared == 0:
            z = np.zeros(0, dtype=np.int64)
            return z, z, np.zeros(0)
        a, b = self.mat_a, self.mat_b
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            cos = a @ b.T
            inter = (a > 0).astype(np.float64) @ (b > 0).astype(np.float64).T
            ii, jj = np.nonzero(cos > params.seed_cosine)
            cos_v, inter_v = cos[ii, jj], inter[ii, jj]
        else:
            prod = sp.coo_matrix(sp.csr_matrix(a) @ sp.csr_matrix(b).T)
            keep = prod.data > params.seed_cosine
            ii, jj, cos_v = prod.row[keep], prod.col[keep], prod.data[keep]
            bin_a = sp.csr_matrix(a, copy=True)
            bin_a.data[:] = 1.0
            bin_b = sp.csr_matrix(b, copy=True)
            bin_b.data[:] = 1.0
            inter_m = sp.csr_matrix(bin_a @ bin_b.T)
            inter_v = np.asarray(inter_m[ii, jj]).ravel()
        denom = self.n_terms_a[ii] + self.n_terms_b[jj]
        dice = 2.0 * inter_v / np.maximum(denom, 1.0)
        ok = dice > params.seed_dice
        order = np.lexsort((jj[ok], ii[ok]))
        return (ii[ok][order].astype(np.int64), jj[ok][order].astype(np.int64),
                cos_v[ok][order])

    def range_vector(self, side: str, r0: int, r1: int) -> np.ndarray:
        """Summed weights of sentences r0..r1 (inclusive) of one side, dense."""
        offset = 0 if side == "a" else self.na
        # rows are non-decreasing: the range is one slice of the entries
        lo = int(np.searchsorted(self.rows, offset + r0, side="left"))
        hi = int(np.searchsorted(self.rows, offset + r1, side="right"))
        return np.bincount(self.inv[lo:hi], weights=self.w[lo:hi], minlength=self.n_cols)


def seeds(a: Side, b: Side, params: AlignParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed sentence pairs.

    Returns:
        (i, j, cosine): sentence indices in a and b, and their cosine.
    """
    if len(a.cols) == 0 or len(b.cols) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    return _Weights(a, b).seeds(params)


def _split(group: np.ndarray, key: np.ndarray, other: np.ndarray, max_gap: int) -> list[np.ndarray]:
    """Split seed indices ``group`` (ordered by ``key``) where ``key`` jumps by
    more than max_gap + 1, or where ``other`` jumps backwards by more (a moved
    paragraph starts a passage of its own; forward gaps are the other pass's job)."""
    order = group[np.lexsort((other[group], key[group]))]
    k, o = key[order], other[order]
    cut = np.flatnonzero((np.diff(k) > max_gap + 1) | (np.diff(o) < -(max_gap + 1))) + 1
    return np.split(order, cut)


def _cluster(si: np.ndarray, sj: np.ndarray, members: np.ndarray, max_gap: int) -> list[np.ndarray]:
    """Group seeds alternately by their a and b positions until stable."""
    groups = [members]
    for _ in range(20):
        changed = False
        for key, other in ((si, sj), (sj, si)):
            nxt: list[np.ndarray] = []
            for g in groups:
                parts = _split(g, key, other, max_gap)
                changed |= len(parts) > 1
                nxt.extend(parts)
            groups = nxt
        if not changed:
            break
    return groups


class _Aligner:
    def __init__(self, a: Side, b: Side, params: AlignParams) -> None:
        self.a, self.b, self.params = a, b, params
        self.weights = _Weights(a, b)
        self.si, self.sj, self.scos = self.weights.seeds(params)

    def range_similarity(self, i0: int, i1: int, j0: int, j1: int) -> float:
        """Cosine of the summed sentence vectors of two sentence ranges."""
        va = self.weights.range_vector("a", i0, i1)
        vb = self.weights.range_vector("b", j0, j1)
        na, nb = float(np.linalg.norm(va)), float(np.linalg.norm(vb))
        if na == 0 or nb == 0:
            return 0.0
        return float(va @ vb) / (na * nb)

    def fragments(self, max_gap: int) -> list[tuple[int, int, int, int, float, int]]:
        """(i0, i1, j0, j1, similarity, n_seeds) for each validated group."""
        out: list[tuple[int, int, int, int, float, int]] = []
        if len(self.si) == 0:
            return out
        todo = [(np.arange(len(self.si)), max_gap)]
        while todo:
            members, gap = todo.pop()
            for g in _cluster(self.si, self.sj, members, gap):
                i0, i1 = int(self.si[g].min()), int(self.si[g].max())
                j0, j1 = int(self.sj[g].min()), int(self.sj[g].max())
                sim = self.range_similarity(i0, i1, j0, j1)
                if sim >= self.params.min_passage_similarity:
                    out.append((i0, i1, j0, j1, sim, len(g)))
                elif gap > 0 and len(g) > 1:
                    todo.append((g, gap - 1))
        return out

    def passages(self, max_gap: int) -> list[tuple[int, int, int, int, float, int]]:
        frags = self.fragments(max_gap)
        frags = _resolve_overlaps(frags)
        return [f for f in frags if self.accept(*f)]

    def accept(self, i0: int, i1: int, j0: int, j1: int, sim: float, n: int) -> bool:
        """Whether a fragment is reuse rather than a shared topic or quote."""
        p = self.params
        a_len = int(self.a.ends[i1] - self.a.starts[i0])
        b_len = int(self.b.ends[j1] - self.b.starts[j0])
        if n < p.min_seeds or max(a_len, b_len) < p.min_passage_chars:
            return False
        inside = (self.si >= i0) & (self.si <= i1) & (self.sj >= j0) & (self.sj <= j1)
        chain = min(len(np.unique(self.si[inside])), len(np.unique(self.sj[inside])))
        ba, bb = self.a.bigram_set(i0, i1), self.b.bigram_set(j0, j1)
        overlap = (len(np.intersect1d(ba, bb, assume_unique=True)) / min(len(ba), len(bb))
                   if len(ba) and len(bb) else 0.0)
        if chain >= 2:
            return overlap >= p.chain_min_overlap or sim >= p.chain_alt_similarity
        quoted = max(float(self.a.quoted[i0 : i1 + 1].mean()),
                     float(self.b.quoted[j0 : j1 + 1].mean()))
        return sim >= p.single_similarity and overlap >= p.single_overlap \
            and quoted <= p.max_quoted


def _resolve_overlaps(
    frags: list[tuple[int, int, int, int, float, int]],
) -> list[tuple[int, int, int, int, float, int]]:
    """Keep passages that overlap none kept before, most similar (then longest) first."""
    order = sorted(frags, key=lambda f: (-f[4], -(f[1] - f[0] + f[3] - f[2]), f[0], f[2]))
    kept: list[tuple[int, int, int, int, float, int]] = []
    for f in order:
        if all(f[1] < k[0] or f[0] > k[1] for k in kept) and all(
            f[3] < k[2] or f[2] > k[3] for k in kept
        ):
            kept.append(f)
    return sorted(kept, key=lambda f: (f[0], f[2]))


def _covered(spans: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def align(a: Side, b: Side, params: AlignParams) -> Alignment:
    """Passages of ``a`` reused in ``b`` (and the other way round).

    Example:
        >>> from dedup.pipeline import side_of
        >>> s = "The storm hit the coast on Monday, cutting power to thousands. " * 4
        >>> align(side_of(s), side_of(s), AlignParams()).reuse_a_in_b
        1.0
    """
    if len(a.cols) == 0 or len(b.cols) == 0:
        return _EMPTY
    aligner = _Aligner(a, b, params)
    if len(aligner.si) == 0:
        return _EMPTY
    if len(aligner.si) == 1 and aligner.scos[0] < params.single_similarity - 1e-9:
        # One seed: the only fragment is that sentence pair, its similarity the
        # seed's cosine, and a single sentence needs single_similarity.
        return _EMPTY
    frags = aligner.passages(params.max_gap)
    # A summary (one side much shorter than what it reuses): retry with a
    # wider gap on the seeds and keep it if it covers more.
    if frags and params.summary_gap > params.max_gap:
        a_cov = sum(int(a.ends[f[1]] - a.starts[f[0]]) for f in frags)
        b_cov = sum(int(b.ends[f[3]] - b.starts[f[2]]) for f in frags)
        ratio = min(a_cov, b_cov) / max(a_cov, b_cov)
        if ratio < params.summary_ratio:
            wide = aligner.passages(params.summary_gap)
            if _coverage(wide, a, b) > _coverage(frags, a, b):
                frags = wide
    if not frags:
        return _EMPTY
    passages = tuple(
        Passage(
            int(a.starts[i0]), int(a.ends[i1]), int(b.starts[j0]), int(b.ends[j1]),
            min(1.0, max(0.0, sim)),
        )
        for i0, i1, j0, j1, sim, _ in frags
    )
    return _finish(passages, a.length, b.length)


def _coverage(frags: list[tuple[int, int, int, int, float, int]], a: Side, b: Side) -> int:
    return _covered([(int(a.starts[f[0]]), int(a.ends[f[1]])) for f in frags]) + _covered(
        [(int(b.starts[f[2]]), int(b.ends[f[3]])) for f in frags]
    )


def _finish(passages: tuple[Passage, ...], len_a: int, len_b: int) -> Alignment:
    cov_a = _covered([(p.a_start, p.a_end) for p in passages])
    cov_b = _covered([(p.b_start, p.b_end) for p in passages])
    weight = sum((p.a_end - p.a_start) + (p.b_end - p.b_start) for p in passages)
    sim = (
        sum(p.similarity * ((p.a_end - p.a_start) + (p.b_end - p.b_start)) for p in passages)
        / weight
        if weight
        else 0.0
    )
    return Alignment(
        passages=passages,
        reuse_a_in_b=min(1.0, cov_a / len_a) if len_a else 0.0,
        reuse_b_in_a=min(1.0, cov_b / len_b) if len_b else 0.0,
        similarity=min(1.0, sim),
    )


def match_score(alignment: Alignment) -> float:
    """One number to rank matches: how much of the more-reusing article is
    reused, weighted by how closely. In [0, 1]."""
    reuse = max(alignment.reuse_a_in_b, alignment.reuse_b_in_a)
    return float(min(1.0, math.sqrt(reuse * alignment.similarity)))
