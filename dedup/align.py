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
   than ``min_seeds`` seeds, or otherwise not reuse (:meth:`_Aligner.accept`)
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
from dedup.text import run_starts, sorted_member, unique


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

    def bigram_set(self, s0: int, s1: int) -> np.ndarray:
        """Unique bigram hashes inside sentences s0..s1 (inclusive), sorted."""
        lo, hi = int(self.token_bounds[s0]), int(self.token_bounds[s1 + 1]) - 1
        return unique(self.bigrams[lo:max(lo, hi)])

    @property
    def n_sentences(self) -> int:
        return len(self.starts)

    # Python lists of per-sentence values, for the per-fragment checks (a list
    # item is cheaper to read than a numpy scalar)
    @cached_property
    def start_list(self) -> list[int]:
        return self.starts.tolist()  # type: ignore[no-any-return]

    @cached_property
    def end_list(self) -> list[int]:
        return self.ends.tolist()  # type: ignore[no-any-return]

    @cached_property
    def quoted_list(self) -> list[float]:
        return self.quoted.tolist()  # type: ignore[no-any-return]

    def quoted_share(self, s0: int, s1: int) -> float:
        """Mean quoted share of sentences s0..s1 (inclusive)."""
        if s0 == s1:
            return self.quoted_list[s0]
        return float(self.quoted[s0 : s1 + 1].mean())

    # Derived once per side (a side is aligned with many others):
    @cached_property
    def rows(self) -> np.ndarray:
        """Sentence of each term entry."""
        return np.repeat(np.arange(self.n_sentences), np.diff(self.indptr))

    @cached_property
    def _term_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # one stable sort of the entries by term gives all four
        by_term = np.argsort(self.cols, kind="stable")
        col = self.cols[by_term]
        first = run_starts(col)
        term_of = np.empty(len(col), dtype=np.int64)
        term_of[by_term] = first.cumsum() - 1
        term_ptr = np.append(first.nonzero()[0], len(col))
        return col[term_ptr[:-1]], term_of, by_term, term_ptr

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

    @cached_property
    def term_df(self) -> np.ndarray:
        """Number of sentences holding each of :attr:`terms`."""
        return np.diff(self.term_ptr)

    @cached_property
    def rows_by_term(self) -> np.ndarray:
        """Sentence of each entry in :attr:`by_term` order."""
        return self.rows[self.by_term]

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
        self._ranges: tuple[dict[tuple[int, int], tuple[np.ndarray, float]], ...] = ({}, {})
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

    def range_similarity(self, i0: int, i1: int, j0: int, j1: int) -> float:
        """Cosine of the summed sentence vectors of a's sentences i0..i1 and
        b's j0..j1 (inclusive)."""
        va, norm_a = self._range(0, i0, i1)
        vb, norm_b = self._range(1, j0, j1)
        if norm_a == 0 or norm_b == 0:
            return 0.0
        return float(va[self.shared_a] @ vb[self.shared_b]) / (norm_a * norm_b)

    def _range(self, k: int, r0: int, r1: int) -> tuple[np.ndarray, float]:
        """Summed weights of side k's sentences r0..r1 (inclusive) over its
        terms, and their norm; kept, as regrouping seeds with a smaller gap
        (or the summary retry) comes back to the same ranges."""
        found = self._ranges[k].get((r0, r1))
        if found is None:
            side = (self.a, self.b)[k]
            lo, hi = int(side.indptr[r0]), int(side.indptr[r1 + 1])
            v = np.bincount(side.term_of[lo:hi], weights=self.unit_weights[k][lo:hi],
                            minlength=len(side.terms))
            found = self._ranges[k][r0, r1] = v, math.sqrt(v @ v)
        return found


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
    seeds(side, side, AlignParams())
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


def _split(group: list[int], rank: list[int], key: list[int], other: list[int],
           max_gap: int) -> list[list[int]]:
    """Split seed indices ``group`` (ordered by ``key``) where ``key`` jumps by
    more than max_gap + 1, or where ``other`` jumps backwards by more (a moved
    paragraph starts a passage of its own; forward gaps are the other pass's job).

    ``rank`` orders the seeds by (key, other) (seeds are distinct sentence pairs).
    Seeds of one pair are few (tens), so plain lists beat numpy calls here.
    """
    order = sorted(group, key=rank.__getitem__)
    parts: list[list[int]] = []
    current = [order[0]]
    for prev, s in zip(order, order[1:]):
        if key[s] - key[prev] > max_gap + 1 or other[s] - other[prev] < -(max_gap + 1):
            parts.append(current)
            current = [s]
        else:
            current.append(s)
    parts.append(current)
    return parts


def _ranks(key: list[int], other: list[int]) -> list[int]:
    """Rank of each seed ordered by (key, other)."""
    rank = [0] * len(key)
    for r, s in enumerate(sorted(range(len(key)), key=lambda s: (key[s], other[s]))):
        rank[s] = r
    return rank


def _cluster(si: list[int], sj: list[int], members: list[int], max_gap: int,
             ranks: tuple[list[int], list[int]]) -> list[list[int]]:
    """Group seeds alternately by their a and b positions until stable.

    ``ranks`` are :func:`_ranks` of (si, sj) and (sj, si).
    """
    groups = [members]
    for _ in range(20):
        changed = False
        for rank, key, other in ((ranks[0], si, sj), (ranks[1], sj, si)):
            nxt: list[list[int]] = []
            for g in groups:
                if len(g) == 1:  # a single seed stays whole
                    nxt.append(g)
                    continue
                parts = _split(g, rank, key, other, max_gap)
                changed |= len(parts) > 1
                nxt.extend(parts)
            groups = nxt
        if not changed:
            break
    return groups


class _Aligner:
    def __init__(self, a: Side, b: Side, params: AlignParams) -> None:
        self.a, self.b, self.params = a, b, params
        self.weights = _Weights(a, b, params)
        self.si, self.sj, self.scos = self.weights.si, self.weights.sj, self.weights.scos
        self.seed_pairs = list(zip(self.si.tolist(), self.sj.tolist()))

    def fragments(self, max_gap: int) -> list[tuple[int, int, int, int, float, int]]:
        """(i0, i1, j0, j1, similarity, n_seeds) for each validated group.

        A group too short (or with too few seeds) for :meth:`accept` is left
        out before its similarity is computed: its parts would be shorter still.
        """
        out: list[tuple[int, int, int, int, float, int]] = []
        if len(self.si) == 0:
            return out
        si, sj = self.si.tolist(), self.sj.tolist()
        ranks = list(range(len(si))), _ranks(sj, si)  # seeds come ordered by (i, j)
        todo = [(list(range(len(si))), max_gap)]
        while todo:
            members, gap = todo.pop()
            for g in _cluster(si, sj, members, gap, ranks):
                gi, gj = [si[k] for k in g], [sj[k] for k in g]
                i0, i1, j0, j1 = min(gi), max(gi), min(gj), max(gj)
                if not self._big_enough(i0, i1, j0, j1, len(g)):
                    continue
                sim = self.weights.range_similarity(i0, i1, j0, j1)
                if sim >= self.params.min_passage_similarity:
                    out.append((i0, i1, j0, j1, sim, len(g)))
                elif gap > 0 and len(g) > 1:
                    todo.append((g, gap - 1))
        return out

    def passages(self, max_gap: int) -> list[tuple[int, int, int, int, float, int]]:
        # overlaps are resolved among the fragments that count as reuse: one that
        # would be rejected (a short moved sentence whose span nests inside a long
        # copied block) must not push out one that counts
        return _resolve_overlaps([f for f in self.fragments(max_gap) if self.accept(*f)])

    def _big_enough(self, i0: int, i1: int, j0: int, j1: int, n: int) -> bool:
        """Whether a group of ``n`` seeds over sentences i0..i1 and j0..j1 has
        the seeds and the length (its longer side) that reuse needs."""
        a_len = self.a.end_list[i1] - self.a.start_list[i0]
        b_len = self.b.end_list[j1] - self.b.start_list[j0]
        return n >= self.params.min_seeds and max(a_len, b_len) >= self.params.min_passage_chars

    def accept(self, i0: int, i1: int, j0: int, j1: int, sim: float, n: int) -> bool:
        """Whether a fragment is reuse rather than a shared topic or quote.

        The bigram overlap, the costly part, is only computed when the other
        criteria leave the answer open.
        """
        p = self.params
        if not self._big_enough(i0, i1, j0, j1, n):
            return False
        # seeds of one pair are few (tens), so plain lists beat numpy calls here
        inside = [(i, j) for i, j in self.seed_pairs if i0 <= i <= i1 and j0 <= j <= j1]
        chain = min(len({i for i, _ in inside}), len({j for _, j in inside}))
        if chain >= 2:
            return sim >= p.chain_alt_similarity or \
                self._bigrams(i0, i1, j0, j1)[1] >= p.chain_min_overlap
        quoted = max(self.a.quoted_share(i0, i1), self.b.quoted_share(j0, j1))
        if quoted > p.max_quoted or sim < min(p.single_similarity, p.long_single_similarity):
            return False
        shared, overlap = self._bigrams(i0, i1, j0, j1)
        if shared >= p.long_single_shared:
            return sim >= p.long_single_similarity and overlap >= p.long_single_overlap
        return sim >= p.single_similarity and overlap >= p.single_overlap

    def _bigrams(self, i0: int, i1: int, j0: int, j1: int) -> tuple[int, float]:
        """Distinct word bigrams the two spans share, and their share of the
        side with fewer."""
        ba, bb = self.a.bigram_set(i0, i1), self.b.bigram_set(j0, j1)
        if len(ba) == 0 or len(bb) == 0:
            return 0, 0.0
        shared = int(np.count_nonzero(sorted_member(ba, bb)))
        return shared, shared / min(len(ba), len(bb))


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
    fitted = [_fit(p, a, b, tokens_a, tokens_b, params) for p in alignment.passages]
    return replace(alignment, passages=_merge_overlapping(fitted),
                   sentence_passages=alignment.aligned)


def _fit(p: Passage, a: Side, b: Side, tokens_a: TokenSpans, tokens_b: TokenSpans,
         params: AlignParams) -> Passage:
    """One passage fitted to the shared words (unchanged when they share too few)."""
    # the passage's sentences (its offsets are sentence starts and ends)
    i0, i1 = int(a.starts.searchsorted(p.a_start)), int(a.ends.searchsorted(p.a_end))
    j0, j1 = int(b.starts.searchsorted(p.b_start)), int(b.ends.searchsorted(p.b_end))
    ta0, ta1 = int(a.token_bounds[i0]), int(a.token_bounds[i1 + 1])
    tb0, tb1 = int(b.token_bounds[j0]), int(b.token_bounds[j1 + 1])
    # bigram t joins tokens t and t + 1: those inside the passage
    ba, bb = a.bigrams[ta0 : max(ta0, ta1 - 1)], b.bigrams[tb0 : max(tb0, tb1 - 1)]
    if len(ba) == 0 or len(bb) == 0:
        return p
    # which of each side's bigrams the other side holds (a sorted copy is enough)
    at_a = sorted_member(ba, np.sort(bb)).nonzero()[0]
    if len(at_a) < params.refine_min_shared:
        return p
    at_b = sorted_member(bb, np.sort(ba)).nonzero()[0]
    # first and last token of the shared bigrams, on each side
    s_a, e_a = ta0 + int(at_a[0]), ta0 + int(at_a[-1]) + 1
    s_b, e_b = tb0 + int(at_b[0]), tb0 + int(at_b[-1]) + 1
    # extend over exactly matching words, from ends that hold the same bigram
    if a.bigrams[s_a] == b.bigrams[s_b]:
        k = _equal_run(a.bigrams[:s_a][::-1], b.bigrams[:s_b][::-1])
        s_a, s_b = s_a - k, s_b - k
    if a.bigrams[e_a - 1] == b.bigrams[e_b - 1]:
        k = _equal_run(a.bigrams[e_a:], b.bigrams[e_b:])
        e_a, e_b = e_a + k, e_b + k
    span = (int(tokens_a[0][s_a]), _end(a, tokens_a, e_a), int(tokens_b[0][s_b]),
            _end(b, tokens_b, e_b))
    if len(at_a) / min(len(ba), len(bb)) >= params.refine_trim_overlap:
        return Passage(*span, p.similarity)
    return Passage(min(p.a_start, span[0]), max(p.a_end, span[1]),
                   min(p.b_start, span[2]), max(p.b_end, span[3]), p.similarity)


def _end(side: Side, tokens: TokenSpans, t: int) -> int:
    """Where a passage ending with token ``t`` ends: with its sentence's closing
    punctuation when ``t`` ends a sentence, else right after the token."""
    s = int(side.token_bounds.searchsorted(t, side="right")) - 1
    if int(side.token_bounds[s + 1]) - 1 == t:
        return int(side.ends[s])
    return int(tokens[1][t])


def _equal_run(x: np.ndarray, y: np.ndarray, step: int = 64) -> int:
    """How many leading elements of ``x`` and ``y`` are equal (compared ``step``
    at a time: a run usually stops within a few words)."""
    m, k = min(len(x), len(y)), 0
    while k < m:
        hi = min(m, k + step)
        differ = (x[k:hi] != y[k:hi]).nonzero()[0]
        if len(differ):
            return k + int(differ[0])
        k = hi
    return m


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
