"""Alignment's compiled loops held to the Python they replaced.

The seeds' grouping, the checks of reuse, the fitting of passages to the
shared words and each side's term index ran as the Python (and numpy) below
until session 16; :mod:`dedup._kernels` now runs them. These tests keep that
Python as the reference and require the same fragments, the same decisions
and the same offsets, similarities to the last bit, on texts built to give
many seeds, gaps, moved paragraphs, repeats and partial copies.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import align as align_mod
from dedup.align import (
    Alignment,
    AlignParams,
    Side,
    _Aligner,
    _merge_overlapping,
    _resolve_overlaps,
)
from dedup.model import Passage
from dedup.pipeline import side_of
from dedup.text import sorted_member, token_spans, unique
from tests.test_core import WIRE_BANK, WIRE_STORM

Fragment = tuple[int, int, int, int, float, int]


# --- the Python reference (dedup/align.py up to session 15) --------------------------


def _range(aligner: _Aligner, cache: dict, k: int, r0: int, r1: int) -> tuple[np.ndarray, float]:
    found = cache.get((k, r0, r1))
    if found is None:
        side = (aligner.a, aligner.b)[k]
        weights = aligner.weights.unit_weights[k]
        lo, hi = int(side.indptr[r0]), int(side.indptr[r1 + 1])
        v = np.bincount(side.term_of[lo:hi], weights=weights[lo:hi], minlength=len(side.terms))
        found = cache[k, r0, r1] = v, math.sqrt(v @ v)
    return found


def _range_similarity(aligner: _Aligner, cache: dict, i0: int, i1: int, j0: int,
                      j1: int) -> float:
    va, norm_a = _range(aligner, cache, 0, i0, i1)
    vb, norm_b = _range(aligner, cache, 1, j0, j1)
    if norm_a == 0 or norm_b == 0:
        return 0.0
    w = aligner.weights
    return float(va[w.shared_a] @ vb[w.shared_b]) / (norm_a * norm_b)


def _split(group: list[int], rank: list[int], key: list[int], other: list[int],
           max_gap: int) -> list[list[int]]:
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
    rank = [0] * len(key)
    for r, s in enumerate(sorted(range(len(key)), key=lambda s: (key[s], other[s]))):
        rank[s] = r
    return rank


def _cluster(si: list[int], sj: list[int], members: list[int], max_gap: int,
             ranks: tuple[list[int], list[int]]) -> list[list[int]]:
    groups = [members]
    for _ in range(20):
        changed = False
        for rank, key, other in ((ranks[0], si, sj), (ranks[1], sj, si)):
            nxt: list[list[int]] = []
            for g in groups:
                if len(g) == 1:
                    nxt.append(g)
                    continue
                parts = _split(g, rank, key, other, max_gap)
                changed |= len(parts) > 1
                nxt.extend(parts)
            groups = nxt
        if not changed:
            break
    return groups


def _big_enough(aligner: _Aligner, i0: int, i1: int, j0: int, j1: int, n: int) -> bool:
    a, b, p = aligner.a, aligner.b, aligner.params
    a_len = int(a.ends[i1] - a.starts[i0])
    b_len = int(b.ends[j1] - b.starts[j0])
    return n >= p.min_seeds and max(a_len, b_len) >= p.min_passage_chars


def reference_fragments(aligner: _Aligner, max_gap: int) -> list[Fragment]:
    out: list[Fragment] = []
    if len(aligner.si) == 0:
        return out
    cache: dict = {}
    si, sj = aligner.si.tolist(), aligner.sj.tolist()
    ranks = list(range(len(si))), _ranks(sj, si)
    todo = [(list(range(len(si))), max_gap)]
    while todo:
        members, gap = todo.pop()
        for g in _cluster(si, sj, members, gap, ranks):
            gi, gj = [si[k] for k in g], [sj[k] for k in g]
            i0, i1, j0, j1 = min(gi), max(gi), min(gj), max(gj)
            if not _big_enough(aligner, i0, i1, j0, j1, len(g)):
                continue
            sim = _range_similarity(aligner, cache, i0, i1, j0, j1)
            if sim >= aligner.params.min_passage_similarity:
                out.append((i0, i1, j0, j1, sim, len(g)))
            elif gap > 0 and len(g) > 1:
                todo.append((g, gap - 1))
    return out


def _bigram_set(side: Side, s0: int, s1: int) -> np.ndarray:
    lo, hi = int(side.token_bounds[s0]), int(side.token_bounds[s1 + 1]) - 1
    return unique(side.bigrams[lo:max(lo, hi)])


def _bigrams(aligner: _Aligner, i0: int, i1: int, j0: int, j1: int) -> tuple[int, float]:
    ba, bb = _bigram_set(aligner.a, i0, i1), _bigram_set(aligner.b, j0, j1)
    if len(ba) == 0 or len(bb) == 0:
        return 0, 0.0
    shared = int(np.count_nonzero(sorted_member(ba, bb)))
    return shared, shared / min(len(ba), len(bb))


def _quoted_share(side: Side, s0: int, s1: int) -> float:
    if s0 == s1:
        return float(side.quoted[s0])
    return float(side.quoted[s0 : s1 + 1].mean())


def reference_accept(aligner: _Aligner, i0: int, i1: int, j0: int, j1: int, sim: float,
                     n: int) -> bool:
    p = aligner.params
    if not _big_enough(aligner, i0, i1, j0, j1, n):
        return False
    pairs = zip(aligner.si.tolist(), aligner.sj.tolist())
    inside = [(i, j) for i, j in pairs if i0 <= i <= i1 and j0 <= j <= j1]
    chain = min(len({i for i, _ in inside}), len({j for _, j in inside}))
    if chain >= 2:
        return sim >= p.chain_alt_similarity or \
            _bigrams(aligner, i0, i1, j0, j1)[1] >= p.chain_min_overlap
    quoted = max(_quoted_share(aligner.a, i0, i1), _quoted_share(aligner.b, j0, j1))
    if quoted > p.max_quoted or sim < min(p.single_similarity, p.long_single_similarity):
        return False
    shared, overlap = _bigrams(aligner, i0, i1, j0, j1)
    if shared >= p.long_single_shared:
        return sim >= p.long_single_similarity and overlap >= p.long_single_overlap
    return sim >= p.single_similarity and overlap >= p.single_overlap


def reference_passages(aligner: _Aligner, max_gap: int) -> list[Fragment]:
    return _resolve_overlaps([f for f in reference_fragments(aligner, max_gap)
                              if reference_accept(aligner, *f)])


def _equal_run(x: np.ndarray, y: np.ndarray, step: int = 64) -> int:
    m, k = min(len(x), len(y)), 0
    while k < m:
        hi = min(m, k + step)
        differ = (x[k:hi] != y[k:hi]).nonzero()[0]
        if len(differ):
            return k + int(differ[0])
        k = hi
    return m


def _end(side: Side, tokens: tuple[np.ndarray, np.ndarray], t: int) -> int:
    s = int(side.token_bounds.searchsorted(t, side="right")) - 1
    if int(side.token_bounds[s + 1]) - 1 == t:
        return int(side.ends[s])
    return int(tokens[1][t])


def _fit(p: Passage, a: Side, b: Side, tokens_a: tuple[np.ndarray, np.ndarray],
         tokens_b: tuple[np.ndarray, np.ndarray], params: AlignParams) -> Passage:
    i0, i1 = int(a.starts.searchsorted(p.a_start)), int(a.ends.searchsorted(p.a_end))
    j0, j1 = int(b.starts.searchsorted(p.b_start)), int(b.ends.searchsorted(p.b_end))
    ta0, ta1 = int(a.token_bounds[i0]), int(a.token_bounds[i1 + 1])
    tb0, tb1 = int(b.token_bounds[j0]), int(b.token_bounds[j1 + 1])
    ba, bb = a.bigrams[ta0 : max(ta0, ta1 - 1)], b.bigrams[tb0 : max(tb0, tb1 - 1)]
    if len(ba) == 0 or len(bb) == 0:
        return p
    at_a = sorted_member(ba, np.sort(bb)).nonzero()[0]
    if len(at_a) < params.refine_min_shared:
        return p
    at_b = sorted_member(bb, np.sort(ba)).nonzero()[0]
    s_a, e_a = ta0 + int(at_a[0]), ta0 + int(at_a[-1]) + 1
    s_b, e_b = tb0 + int(at_b[0]), tb0 + int(at_b[-1]) + 1
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


def reference_refine(alignment: Alignment, a: Side, b: Side,
                     tokens_a: tuple[np.ndarray, np.ndarray],
                     tokens_b: tuple[np.ndarray, np.ndarray], params: AlignParams) -> Alignment:
    if not alignment.passages:
        return alignment
    fitted = [_fit(p, a, b, tokens_a, tokens_b, params) for p in alignment.passages]
    return replace(alignment, passages=_merge_overlapping(fitted),
                   sentence_passages=alignment.aligned)


# --- texts with many seeds --------------------------------------------------------------

_POOL = [s.strip() + "." for s in (WIRE_STORM + " " + WIRE_BANK).replace("\n", " ").split(". ")
         if s.strip()]
_QUOTES = ['"We will rebuild," the mayor said.', '"It was terrible," a resident said.']


@st.composite
def _text(draw: st.DrawFn) -> str:
    """Sentences of the two wire stories (and quotes), in runs with gaps, some
    trimmed or with a word dropped; paragraphs now and then."""
    parts = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(draw(st.sampled_from(_QUOTES)))
            continue
        s = draw(st.sampled_from(_POOL)).rstrip(".").split()
        if kind == 1 and len(s) > 4:  # a word dropped
            del s[draw(st.integers(0, len(s) - 1))]
        elif kind == 2 and len(s) > 6:  # cut short
            s = s[: draw(st.integers(4, len(s) - 1))]
        parts.append(" ".join(s) + "." + ("\n" if kind == 3 else ""))
    return " ".join(parts)


_PARAMS = st.sampled_from([
    AlignParams(),
    AlignParams(min_passage_chars=0, min_passage_similarity=0.6, chain_alt_similarity=0.9),
    AlignParams(seed_cosine=0.1, seed_dice=0.1, min_seeds=2, max_quoted=0.2,
                long_single_shared=4, chain_min_overlap=0.5),
    AlignParams(seed_cosine=0.2, seed_dice=0.2, min_passage_similarity=0.8, max_gap=1,
                single_similarity=0.4, single_overlap=0.3, refine_trim_overlap=0.3,
                refine_min_shared=1),
])


@settings(max_examples=150, deadline=None)
@given(x=_text(), y=_text(), params=_PARAMS, gap=st.sampled_from([0, 1, 2, 4, 24]))
def test_compiled_passages_are_the_python_ones(x: str, y: str, params: AlignParams,
                                               gap: int) -> None:
    """Grouping, similarities (bit for bit), the checks of reuse and the
    overlaps resolved: the kernels give what the Python gave."""
    a, b = side_of(x), side_of(y)
    aligner = _Aligner(a, b, params)
    assert aligner.passages(gap) == reference_passages(aligner, gap)


@settings(max_examples=100, deadline=None)
@given(x=_text(), params=_PARAMS, gap=st.sampled_from([0, 2, 4]))
def test_compiled_passages_of_a_text_with_itself(x: str, params: AlignParams,
                                                 gap: int) -> None:
    """A text against itself (or a copy with its paragraphs swapped) seeds every
    sentence with its repeats: the longest chains and the most regrouping."""
    y = "\n".join(reversed(x.split("\n")))
    for other in (x, y):
        aligner = _Aligner(side_of(x), side_of(other), params)
        assert aligner.passages(gap) == reference_passages(aligner, gap)


@settings(max_examples=150, deadline=None)
@given(x=_text(), y=_text(), params=_PARAMS, prefix=st.sampled_from(["", "In brief: ", "Mr. "]))
def test_compiled_refinement_is_the_python_one(x: str, y: str, params: AlignParams,
                                               prefix: str) -> None:
    """Offsets fitted to the shared words as the Python fitted them (texts that
    share words past their sentences' ends, and passages built wider than
    the alignment's, so that every branch is taken)."""
    y = prefix + x[len(x) // 3 :] + " " + y
    a, b = side_of(x), side_of(y)
    tokens_a, tokens_b = token_spans(x), token_spans(y)
    al = align_mod.align(a, b, params)
    assert align_mod.refine(al, a, b, tokens_a, tokens_b, params) == \
        reference_refine(al, a, b, tokens_a, tokens_b, params)
    if a.n_sentences and b.n_sentences:  # every sentence pair as one passage
        wide = Alignment(tuple(Passage(int(a.starts[i]), int(a.ends[i]), int(b.starts[j]),
                                       int(b.ends[j]), 0.5)
                               for i in range(a.n_sentences) for j in range(b.n_sentences)),
                         0.5, 0.5, 0.5)
        assert align_mod.refine(wide, a, b, tokens_a, tokens_b, params) == \
            reference_refine(wide, a, b, tokens_a, tokens_b, params)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(0, 40), max_size=60),
       other=st.lists(st.integers(0, 40), max_size=60),
       big=st.sampled_from([0, 1 << 40, (1 << 64) - 64]))
def test_held_finds_what_a_sorted_search_finds(values: list[int], other: list[int],
                                               big: int) -> None:
    """The hash table of :func:`dedup._kernels._held` (repeats, collisions of
    the low bits, values near 2**64) answers as a binary search does."""
    from dedup import _kernels

    v = np.array([big + x for x in values], dtype=np.uint64)
    o = np.array([big + x for x in other], dtype=np.uint64)
    want = sorted_member(v, np.sort(o)).nonzero()[0]
    assert _kernels._held(v, o).tolist() == want.tolist()


@settings(max_examples=150, deadline=None)
@given(x=_text(), y=_text(), params=_PARAMS, data=st.data(),
       long_shared=st.integers(1, 30), max_quoted=st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_compiled_checks_of_reuse_are_the_python_ones(x: str, y: str, params: AlignParams,
                                                      data: st.DataObject, long_shared: int,
                                                      max_quoted: float) -> None:
    """Every check of :func:`dedup._kernels.accept` decides as the Python did,
    on any span of sentences (not only those grouping gives), with similarities
    on and around each bar."""
    from dedup import _kernels

    x = x + ' "' + x[: len(x) // 2] + '"'  # quoted sentences, some quoted in part
    y = y + " " + x[len(x) // 4 :]  # runs of sentences in common: chains of seeds
    params = replace(params, long_single_shared=long_shared, max_quoted=max_quoted,
                     chain_min_overlap=data.draw(st.sampled_from([0.15, 0.5, 1.0])))
    a, b = side_of(x), side_of(y)
    aligner = _Aligner(a, b, params)
    if a.n_sentences == 0 or b.n_sentences == 0:
        return
    bars = sorted({params.chain_alt_similarity, params.single_similarity,
                   params.long_single_similarity, 0.0, 1.0})
    sims = [s + d for s in bars for d in (-1e-12, 0.0, 1e-12)]
    spans, values = [], []
    for _ in range(12):
        i0 = data.draw(st.integers(0, a.n_sentences - 1))
        j0 = data.draw(st.integers(0, b.n_sentences - 1))
        if len(aligner.si) and data.draw(st.booleans()):  # from a seed
            k = data.draw(st.integers(0, len(aligner.si) - 1))
            i0, j0 = int(aligner.si[k]), int(aligner.sj[k])
        i1 = data.draw(st.integers(i0, min(a.n_sentences - 1, i0 + 3)))
        j1 = data.draw(st.integers(j0, min(b.n_sentences - 1, j0 + 3)))
        spans.append((i0, i1, j0, j1, data.draw(st.integers(1, 3))))
        values.append(data.draw(st.sampled_from(sims)))
    got = _kernels.accept(np.array(spans, dtype=np.int64), np.array(values), aligner.si,
                          aligner.sj, a.starts, a.ends, a.quoted, a.token_bounds, a.bigrams,
                          b.starts, b.ends, b.quoted, b.token_bounds, b.bigrams,
                          params.min_seeds, params.min_passage_chars,
                          align_mod._limits(params), params.long_single_shared)
    want = [reference_accept(aligner, i0, i1, j0, j1, sim, n)
            for (i0, i1, j0, j1, n), sim in zip(spans, values)]
    assert got.tolist() == want


def _term_index_numpy(side: Side) -> tuple[np.ndarray, ...]:
    """The term index as numpy computed it (dedup/align.py up to session 15)."""
    from dedup.text import run_starts

    by_term = np.argsort(side.cols, kind="stable")
    col = side.cols[by_term]
    first = run_starts(col)
    term_of = np.empty(len(col), dtype=np.int64)
    term_of[by_term] = first.cumsum() - 1
    term_ptr = np.append(first.nonzero()[0], len(col))
    rows = np.repeat(np.arange(side.n_sentences), np.diff(side.indptr))
    return (col[term_ptr[:-1]], term_of, by_term, term_ptr, np.diff(term_ptr),
            rows[by_term])


@settings(max_examples=100, deadline=None)
@given(x=_text())
def test_compiled_term_index_is_numpys(x: str) -> None:
    """Terms, entries by term (a stable order: by sentence within a term),
    frequencies and rows: the same values and dtypes."""
    side = side_of(x + " " + x[: len(x) // 2])  # repeated terms across sentences
    got = side._term_index
    want = _term_index_numpy(side)
    assert [g.dtype for g in got] == [w.dtype for w in want]
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(0, 30), max_size=200),
       big=st.sampled_from([0, 1 << 40, (1 << 64) - 64]))
def test_merge_sorts_sort_as_numpy_does(values: list[int], big: int) -> None:
    """The kernels' own sorts (runs by insertion, merged bottom up; many
    repeats, lengths across the run size and its powers of two): numpy's order,
    and for the indices numpy's stable order."""
    from dedup import _kernels

    u = np.array([big + x for x in values], dtype=np.uint64)
    i = np.array(values, dtype=np.int32)
    assert _kernels._sorted(u).tolist() == np.sort(u).tolist()
    assert _kernels._sorted(i.astype(np.int64)).tolist() == sorted(values)
    assert _kernels._argsort_stable(i).tolist() == np.argsort(i, kind="stable").tolist()
