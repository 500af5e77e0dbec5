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
3. **Filtering**: passages shorter than ``min_passage_chars``, with fewer
   than ``min_seeds`` seeds, or otherwise not reuse (:func:`dedup._kernels.accept`)
   are dropped, then overlaps among the rest are resolved in favour of the
   more similar passage.
4. **Refinement** (:func:`refine`, where the texts' token offsets are at
   hand): each passage's character offsets are fitted to the words the two
   sides share. A near-verbatim passage is trimmed to its first and last
   shared word bigram; every passage is extended over words that match
   exactly beyond its sentences (a copy that begins or ends mid-sentence).
   Reuse shares and similarities still count whole sentences.

This follows the seed-extend-filter design of the best PAN text-alignment
systems (Sanchez-Perez, Sidorov and Gelbukh, PAN 2014). Term weights
(inverse sentence frequency) come from the two texts alone, so the result for
a pair does not depend on what else was scanned: ``compare`` and ``scan`` agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from dedup.model import Passage, swapped_passages


@dataclass(frozen=True)
class AlignParams:
    """The ``align`` part of the config (defaults calibrated in benchmarks/).

    A passage is kept when its longer side has ``min_passage_chars`` and either
    it chains at least two sentences on both sides with a word-bigram overlap
    of ``chain_min_overlap`` (or similarity ``chain_alt_similarity``), or it is
    a single sentence with similarity ``single_similarity``, bigram overlap
    ``single_overlap`` and at most ``max_quoted`` of it inside quotation marks
    (independent reports quote the same speakers word for word). A single
    sentence sharing ``long_single_shared`` word bigrams or more (a long
    sentence, reworded) needs only ``long_single_similarity`` and
    ``long_single_overlap``.
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
    long_single_shared: int = 12
    long_single_similarity: float = 0.45
    long_single_overlap: float = 0.35
    refine_min_shared: int = 2
    refine_trim_overlap: float = 0.75


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

    @property
    def n_sentences(self) -> int:
        return len(self.starts)

    # Derived once per side (a side is aligned with many others), by one
    # compiled pass (:func:`dedup._kernels.term_index`)
    @cached_property
    def _term_index(self) -> tuple[np.ndarray, ...]:
        return _kernels().term_index(self.indptr, self.cols)  # type: ignore[no-any-return]

    @property
    def terms(self) -> np.ndarray:
        """The distinct terms of the text, sorted."""
        return self._term_index[0]

    @property
    def term_of(self) -> np.ndarray:
        """Index into :attr:`terms` of each entry."""
        return self._term_index[1]

    @property
    def by_term(self) -> np.ndarray:
        """Entries ordered by term, then sentence: term k's are
        ``by_term[term_ptr[k]:term_ptr[k+1]]``."""
        return self._term_index[2]

    @property
    def term_ptr(self) -> np.ndarray:
        """Start of each term's entries in :attr:`by_term` (and one past the end)."""
        return self._term_index[3]

    @property
    def term_df(self) -> np.ndarray:
        """Number of sentences holding each of :attr:`terms`."""
        return self._term_index[4]

    @property
    def rows_by_term(self) -> np.ndarray:
        """Sentence of each entry in :attr:`by_term` order."""
        return self._term_index[5]

    @cached_property
    def log_tf(self) -> np.ndarray:
        """1 + log of each entry's count."""
        return 1.0 + np.log(self.counts.astype(np.float64))


@dataclass(frozen=True)
class Alignment:
    """Passages and coverage of one aligned pair.

    ``sentence_passages`` holds the passages on whole sentences, as aligned,
    once :func:`refine` has fitted ``passages`` to the shared words (None
    before: they are ``passages``). Clusters compare those (see
    :mod:`dedup.cluster`).
    """

    passages: tuple[Passage, ...]
    reuse_a_in_b: float
    reuse_b_in_a: float
    similarity: float
    sentence_passages: tuple[Passage, ...] | None = None

    @property
    def aligned(self) -> tuple[Passage, ...]:
        """The passages on whole sentences."""
        return self.passages if self.sentence_passages is None else self.sentence_passages

    def swapped(self) -> Alignment:
        """The same alignment seen from b's side."""
        return Alignment(swapped_passages(self.passages), self.reuse_b_in_a, self.reuse_a_in_b,
                         self.similarity, None if self.sentence_passages is None
                         else swapped_passages(self.sentence_passages))


#: The alignment of a pair with no reused passage.
EMPTY_ALIGNMENT = _EMPTY = Alignment((), 0.0, 0.0, 0.0)


class _Weights:
    """tf-isf weights of both sides' sentences over the union of their terms.

    The inverse sentence frequency comes from the sentences of the two texts
    alone. Dot products only need the terms both sides share; norms use every
    term. Each side keeps its weights in its own term space
    (:attr:`Side.terms`); ``a_to_b`` maps a's terms to b's.

    Seeds come from compiled loops (:mod:`dedup._kernels`) over the join of
    the two sides' entries on shared terms: each sentence of a meets each
    sentence of b holding one of its terms, once per shared term. The Dice
    coefficient is screened first (it needs no weights), so a pair with no
    sentence pair over the Dice bar, the most common case among candidates,
    never computes weights; the cosine is then computed only for the
    sentences of a that passed it.
    """

    def __init__(self, a: Side, b: Side, params: AlignParams) -> None:
        self.a, self.b = a, b
        if len(a.cols) == 0 or len(b.cols) == 0:
            z = np.zeros(0, dtype=np.int64)
            self.si = self.sj = self.shared_a = self.shared_b = z
            self.scos = np.zeros(0)
            self.unit_weights = (self.scos, self.scos)
            return
        (self.si, self.sj, self.scos, a_to_b, w_a, w_b) = _kernels().seeds(
            a.terms, a.indptr, a.term_of, a.term_df, a.log_tf,
            b.terms, b.indptr, b.term_of, b.term_df, b.log_tf, b.term_ptr, b.rows_by_term,
            b.by_term, _isf(a.n_sentences + b.n_sentences), params.seed_dice, params.seed_cosine)
        self.shared_a = (a_to_b >= 0).nonzero()[0]
        self.shared_b = a_to_b[self.shared_a]
        self.unit_weights = (w_a, w_b)  # empty when there are no seeds


_KERNELS: Any = None


def _kernels() -> Any:
    """:mod:`dedup._kernels`, imported (and numba with it) on first use."""
    global _KERNELS
    if _KERNELS is None:
        from dedup import _kernels as k

        _KERNELS = k
    return _KERNELS


#: Which of :func:`load_kernels`'s sets this process has loaded.
_LOADED: set[str] = set()


def kernels_loaded() -> bool:
    """Whether :func:`load_kernels` (all of them) has run in this process."""
    return "all" in _LOADED


def load_kernels(*, signatures: bool = False) -> None:
    """Compile the kernels in this process (or load them from numba's cache) by
    calling each once with the argument types its callers pass, so that
    processes forked after it inherit them instead of each loading its own.

    ``signatures``: instead, just the window signatures' loop, which only the
    profile workers of a large scan use (see
    :data:`dedup.pipeline.COMPILED_MIN_TEXTS`)."""
    one = np.ones(1, dtype=np.int64)
    u32 = np.zeros(1, dtype=np.uint32)
    if signatures:
        if "signatures" not in _LOADED:  # dedup.sketch.batch_signatures
            _kernels().window_minhash(u32, one - 1, one - 1, one - 1, u32, u32)
            _LOADED.add("signatures")
        return
    if "all" in _LOADED:
        return
    # seeding one sentence against itself, screening it (dedup.pipeline.dice_screen)
    pair = np.array([0, 1], dtype=np.int64)
    _kernels().dice_screen(pair, np.zeros(1, dtype=np.int32), pair, one - 1, one - 1, 0.5,
                           np.full(1, -1, dtype=np.int32))
    side = Side(length=1, starts=one - 1, ends=one, indptr=np.array([0, 1]),
                cols=np.zeros(1, dtype=np.int32), counts=np.ones(1, dtype=np.float32),
                token_bounds=np.array([0, 1]), bigrams=np.zeros(0, dtype=np.uint64),
                quoted=np.zeros(1))
    _Aligner(side, side, AlignParams()).passages(0)  # seeds, fragments, accept
    refine(Alignment((Passage(0, 1, 0, 1, 1.0),), 1.0, 1.0, 1.0), side, side, (one - 1, one),
           (one - 1, one), AlignParams())
    # the sparse rows' dot products (dedup.tfidf.row_dots: window and article
    # cosines), the shingles' intersections (dedup.pipeline.jaccard), the
    # articles' nearest neighbours (dedup.tfidf.top_k_block), the keywords'
    # largest weights (dedup.tfidf.candidate_window_pairs) and the windows'
    # nearest (dedup.tfidf.top_passage_pairs)
    ptr, col = np.array([0, 1], dtype=np.int32), np.zeros(1, dtype=np.int32)
    for dtype in (np.float32, np.float64):
        _kernels().row_dots(ptr, col, np.ones(1, dtype=dtype), one - 1, one - 1)
    _kernels().intersection_size(u32, u32)
    f32 = np.ones(1, dtype=np.float32)
    _kernels().top_k_rows(ptr, col, f32, ptr, col, f32, 0, 1, 1, np.float32(0.1), 1)
    _kernels().column_max(col, f32, 1)
    _kernels().top_neighbours(one - 1, one, np.ones(1), 2, 1)
    _LOADED.add("all")


@lru_cache(maxsize=1024)
def _isf(n: int) -> np.ndarray:
    """Inverse sentence frequency 1 + log(n / df) of each df in 1..n (index df; read-only)."""
    isf = np.ones(n + 1)
    isf[1:] += np.log(n / np.arange(1.0, n + 1))
    isf.flags.writeable = False
    return isf


def seeds(a: Side, b: Side, params: AlignParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed sentence pairs.

    Returns:
        (i, j, cosine): sentence indices in a and b, and their cosine.
    """
    w = _Weights(a, b, params)
    return w.si, w.sj, w.scos


@lru_cache(maxsize=16)
def _limits(params: AlignParams) -> np.ndarray:
    """The thresholds of :func:`dedup._kernels.accept`, in its order."""
    return np.array([params.chain_alt_similarity, params.chain_min_overlap, params.max_quoted,
                     params.single_similarity, params.single_overlap,
                     params.long_single_similarity, params.long_single_overlap])


class _Aligner:
    def __init__(self, a: Side, b: Side, params: AlignParams) -> None:
        self.a, self.b, self.params = a, b, params
        self.weights = _Weights(a, b, params)
        self.si, self.sj, self.scos = self.weights.si, self.weights.sj, self.weights.scos

    def passages(self, max_gap: int) -> list[tuple[int, int, int, int, float, int]]:
        """(i0, i1, j0, j1, similarity, n_seeds) of each passage: the seeds
        grouped with ``max_gap`` (:func:`dedup._kernels.fragments`), the groups
        that are reuse (:func:`dedup._kernels.accept`), their overlaps resolved.
        The first two are compiled loops, run in one call; their Python forms are
        kept in ``tests/test_align_kernels.py``, which holds the loops to them."""
        # overlaps are resolved among the fragments that count as reuse: one that
        # would be rejected (a short moved sentence whose span nests inside a long
        # copied block) must not push out one that counts
        if len(self.si) == 0:
            return []
        a, b, p, w = self.a, self.b, self.params, self.weights
        spans, sims = _kernels().accepted_fragments(
            self.si, self.sj, max_gap, a.starts, a.ends, a.quoted, a.token_bounds, a.bigrams,
            a.indptr, a.term_of, w.unit_weights[0], len(a.terms), b.starts, b.ends, b.quoted,
            b.token_bounds, b.bigrams, b.indptr, b.term_of, w.unit_weights[1], len(b.terms),
            w.shared_a, w.shared_b, p.min_seeds, p.min_passage_chars,
            p.min_passage_similarity, _limits(p), p.long_single_shared)
        return _resolve_overlaps([(i0, i1, j0, j1, sim, n) for (i0, i1, j0, j1, n), sim
                                  in zip(spans.tolist(), sims.tolist())])


def _resolve_overlaps(
    frags: list[tuple[int, int, int, int, float, int]],
) -> list[tuple[int, int, int, int, float, int]]:
    """Keep passages that overlap none kept before, most similar (then longest) first."""
    # similarities rounded: a last-bit difference must not decide between equals
    order = sorted(frags, key=lambda f: (-round(f[4], 9), -(f[1] - f[0] + f[3] - f[2]),
                                         f[0], f[2]))
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
        >>> round(align(side_of(s), side_of(s), AlignParams()).reuse_a_in_b, 2)
        1.0
    """
    if len(a.cols) == 0 or len(b.cols) == 0:
        return _EMPTY
    aligner = _Aligner(a, b, params)
    if len(aligner.si) == 0:
        return _EMPTY
    if len(aligner.si) == 1 and aligner.scos[0] < min(
        params.single_similarity, params.long_single_similarity
    ) - 1e-9:
        # One seed: the only fragment is that sentence pair, its similarity the
        # seed's cosine, and a single sentence needs (long_)single_similarity.
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


TokenSpans = tuple[np.ndarray, np.ndarray]
"""Character ``(starts, ends)`` of a text's tokens (:func:`dedup.text.token_spans`)."""


def refine(alignment: Alignment, a: Side, b: Side, tokens_a: TokenSpans, tokens_b: TokenSpans,
           params: AlignParams) -> Alignment:
    """The alignment with each passage fitted to the words the two sides share
    (see the module docstring, step 4); passages that come to overlap on both
    sides are merged. Reuse shares and the similarity are left as they are.

    Example:
        >>> from dedup.pipeline import side_of
        >>> from dedup.text import token_spans
        >>> wire = ("The storm hit the coast on Monday, cutting power to thousands. "
        ...         "Crews worked through the night to clear fallen trees from the roads.")
        >>> x = "In other news, the council met. " + wire
        >>> y = ("Officials said that the storm hit the coast on Monday, cutting power to "
        ...      "thousands. Crews worked through the night to clear fallen trees from the roads")
        >>> sx, sy = side_of(x), side_of(y)
        >>> al = align(sx, sy, AlignParams())
        >>> y[al.passages[0].b_start:al.passages[0].b_end][:30]
        'Officials said that the storm '
        >>> p = refine(al, sx, sy, token_spans(x), token_spans(y), AlignParams())
        >>> y[p.passages[0].b_start:p.passages[0].b_end][:30]
        'the storm hit the coast on Mon'
    """
    if not alignment.passages:
        return alignment
    spans = np.array([(p.a_start, p.a_end, p.b_start, p.b_end) for p in alignment.passages],
                     dtype=np.int64)
    fitted = _kernels().fit_passages(
        spans, a.starts, a.ends, a.token_bounds, a.bigrams, tokens_a[0], tokens_a[1], b.starts,
        b.ends, b.token_bounds, b.bigrams, tokens_b[0], tokens_b[1], params.refine_min_shared,
        params.refine_trim_overlap)
    return replace(alignment, passages=_merge_overlapping(
        [Passage(a0, a1, b0, b1, p.similarity)
         for (a0, a1, b0, b1), p in zip(fitted.tolist(), alignment.passages)]),
        sentence_passages=alignment.aligned)


def _merge_overlapping(passages: list[Passage]) -> tuple[Passage, ...]:
    """Passages that overlap on both sides joined into one (similarity weighted by
    length) until none do, sorted by their offsets."""
    out = sorted(passages, key=lambda q: (q.a_start, q.b_start, q.a_end, q.b_end))
    merged = True
    while merged:
        merged = False
        for x in range(len(out)):
            for y in range(x + 1, len(out)):
                p, q = out[x], out[y]
                if p.a_start < q.a_end and q.a_start < p.a_end and \
                        p.b_start < q.b_end and q.b_start < p.b_end:
                    wp = (p.a_end - p.a_start) + (p.b_end - p.b_start)
                    wq = (q.a_end - q.a_start) + (q.b_end - q.b_start)
                    sim = (p.similarity * wp + q.similarity * wq) / max(1, wp + wq)
                    out[x] = Passage(min(p.a_start, q.a_start), max(p.a_end, q.a_end),
                                     min(p.b_start, q.b_start), max(p.b_end, q.b_end), sim)
                    del out[y]
                    merged = True
                    break
            if merged:
                break
    return tuple(sorted(out, key=lambda q: (q.a_start, q.b_start)))


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
