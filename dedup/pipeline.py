"""The scan pipeline: read -> profile -> candidates -> verify -> cluster.

Each stage is a function over a batch, timed into ``stats["seconds"]``.
Per-article work (tokens, sentences, features, signatures) and per-pair work
(alignment) run in a process pool; everything else is numpy/scipy over the
whole batch.
"""

from __future__ import annotations

import contextlib
import gc
import math
import mmap
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from dedup import lsh as lsh_mod
from dedup import sketch as sketch_mod
from dedup import tfidf as tfidf_mod
from dedup import wire as wire_mod
from dedup.align import (
    EMPTY_ALIGNMENT,
    Alignment,
    Side,
    TokenSpans,
    align,
    kernels_loaded,
    load_kernels,
    match_score,
    refine,
)
from dedup.cluster import cluster
from dedup.config import Config
from dedup.model import Article, Match, Passage, Report, Skipped
from dedup.text import (
    BATCH_CHARS,
    end_to_end,
    segment_batch,
    token_spans,
    tokenize_batch,
    unique,
    unique_pairs,
)

#: progress(stage, done, total) callback type.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Profile:
    """Everything later stages need of one article (its text is not kept).

    Attributes:
        length: Characters in the text.
        sent_starts, sent_ends: Sentence spans.
        indptr, cols, counts: Term counts per sentence (CSR layout).
        doc_cols, doc_counts: Term columns of the whole article and their counts.
            (Columns are int32: ``N_FEATURES`` fits, and they are the largest
            arrays a big scan keeps per article.)
        shingles: Sorted unique 32-bit shingle hashes (for exact Jaccard).
        signature: MinHash signature of the whole text (num_perm uint32; the
            minimum of its passage signatures).
        band_keys: (n_windows, bands) uint64 LSH band keys of its passages.
        token_bounds, bigrams, quoted: see :class:`dedup.align.Side`.
    """

    length: int
    sent_starts: np.ndarray
    sent_ends: np.ndarray
    indptr: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    doc_cols: np.ndarray
    doc_counts: np.ndarray
    shingles: np.ndarray
    signature: np.ndarray
    band_keys: np.ndarray
    token_bounds: np.ndarray
    bigrams: np.ndarray
    quoted: np.ndarray

    def side(self) -> Side:
        return Side(self.length, self.sent_starts, self.sent_ends, self.indptr, self.cols,
                    self.counts, self.token_bounds, self.bigrams, self.quoted)


@dataclass(frozen=True)
class PassageWindows:
    """Passage keyword vectors (:func:`dedup.tfidf.passage_keys`), the article of
    each, and the window pairs ``(a, b)`` whose cosine may reach the threshold."""

    keys: sp.csr_matrix
    owner: np.ndarray
    a: np.ndarray
    b: np.ndarray


_MAPPER: tfidf_mod.FeatureMapper | None = None


def _mapper() -> tfidf_mod.FeatureMapper:
    global _MAPPER
    if _MAPPER is None:
        _MAPPER = tfidf_mod.FeatureMapper()
    return _MAPPER


def profile(text: str, params: sketch_mod.SketchParams, bands: tuple[int, int]) -> Profile:
    """The profile of one text; ``bands`` is LSH's (bands, rows)."""
    return profile_batch([text], params, bands)[0]


def profile_batch(texts: Sequence[str], params: sketch_mod.SketchParams,
                  bands: tuple[int, int], compiled: bool = False) -> list[Profile]:
    """The profiles of several texts. Short texts make many small numpy calls,
    so what can be is computed over the texts laid end to end, up to
    ``text.BATCH_CHARS`` characters at a time (a longer text alone): tokens,
    feature columns, sentence ends, term counts, passage signatures and band
    keys. ``compiled``: the signatures by numba's loop (the same values, in a
    third of numpy's time, once the kernels are loaded)."""
    out: list[Profile] = []
    lo = 0
    while lo < len(texts):
        hi, size = lo + 1, len(texts[lo])
        while hi < len(texts) and size + len(texts[hi]) <= BATCH_CHARS:
            size += len(texts[hi])
            hi += 1
        out.extend(_profile_group(texts[lo:hi], params, bands, compiled))
        lo = hi
    return out


def _profile_group(texts: Sequence[str], params: sketch_mod.SketchParams,
                   bands: tuple[int, int], compiled: bool) -> list[Profile]:
    toks = tokenize_batch(texts)
    feats = _mapper().features_batch(texts, toks)
    sents = segment_batch(texts, toks)
    terms = tfidf_mod.sentence_terms_batch(feats, [s.token_bounds for s in sents])
    # an article's term counts are those of one span holding all its tokens
    doc_terms = tfidf_mod.sentence_terms_batch(
        feats, [np.array([0, len(f)], dtype=np.int64) for f in feats])
    hashes = [tk.hashes for tk in toks]
    shingles = sketch_mod.shingle_hashes_batch(hashes, params.shingle_size)
    # word bigrams (a text of one token has none)
    bigrams = sketch_mod.shingle_hashes_batch([h if len(h) > 1 else h[:0] for h in hashes], 2)
    signatures, n_windows = sketch_mod.batch_signatures(shingles, params, compiled)
    keys = lsh_mod.band_keys(signatures, *bands)
    bounds = np.concatenate([[0], np.cumsum(n_windows)])
    # the whole text's signature: the minimum of its windows' (a text without
    # shingles has no window, and the signature of the empty set)
    whole = np.full((len(texts), params.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    has = n_windows > 0
    if has.any():
        whole[has] = np.minimum.reduceat(signatures, bounds[:-1][has], axis=0)
    bounds = bounds.tolist()
    shingle_sets = _shingle_sets(shingles)
    quoted = quoted_shares(texts, [s.starts for s in sents], [s.ends for s in sents])
    out = []
    for k, text in enumerate(texts):
        lo, hi = bounds[k], bounds[k + 1]
        indptr, cols, counts = terms[k]
        _, doc_cols, doc_counts = doc_terms[k]
        out.append(Profile(
            length=len(text),
            sent_starts=sents[k].starts,
            sent_ends=sents[k].ends,
            indptr=indptr,
            cols=cols,
            counts=counts,
            doc_cols=doc_cols,
            doc_counts=doc_counts,
            shingles=shingle_sets[k],
            signature=whole[k],
            band_keys=keys[lo:hi],
            token_bounds=sents[k].token_bounds,
            bigrams=bigrams[k],
            quoted=quoted[k],
        ))
    return out


def _shingle_sets(shingles: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each text's distinct 32-bit shingle values (the low bits of its shingle
    hashes), sorted, from one sort over the texts."""
    owner = np.repeat(np.arange(len(shingles), dtype=np.uint64), [len(x) for x in shingles])
    key = (owner << np.uint64(32)) | (np.concatenate(shingles) & np.uint64(0xFFFFFFFF))
    key = unique(key)
    cut = np.searchsorted(key >> np.uint64(32),
                          np.arange(len(shingles) + 1, dtype=np.uint64)).tolist()
    values = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return [values[cut[k]:cut[k + 1]] for k in range(len(shingles))]


_QUOTE_CHARS = "\"\u201c\u201d\u00ab\u00bb\u201e"
#: Code point -> is a quotation mark (every mark is below 0x2100; anything above is not).
_IS_QUOTE = np.zeros(0x2101, dtype=bool)
_IS_QUOTE[[ord(c) for c in _QUOTE_CHARS]] = True


def quoted_share(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Share of each span's characters inside quotation marks (quotes paired in order)."""
    return quoted_shares([text], [starts], [ends])[0]


def quoted_shares(texts: Sequence[str], starts: Sequence[np.ndarray],
                  ends: Sequence[np.ndarray]) -> list[np.ndarray]:
    """:func:`quoted_share` of several texts; those with a quotation mark are read
    end to end, their marks paired text by text."""
    out = [np.zeros(len(s)) for s in starts]
    quoted = [k for k, t in enumerate(texts)
              if len(starts[k]) and any(c in t for c in _QUOTE_CHARS)]
    if not quoted:
        return out
    joined, offsets = end_to_end(texts, quoted)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    marks = np.flatnonzero(_IS_QUOTE[np.minimum(cps, len(_IS_QUOTE) - 1)])
    # each text's marks pair in order: its 1st opens, 2nd closes, ...; an odd last is left
    owner = np.searchsorted(offsets, marks, side="right") - 1
    first_mark = np.searchsorted(owner, np.arange(len(quoted)))
    rank = np.arange(len(marks)) - first_mark[owner]
    per_text = np.bincount(owner, minlength=len(quoted))
    paired = rank < per_text[owner] - per_text[owner] % 2
    opens, closes = marks[paired & (rank % 2 == 0)], marks[paired & (rank % 2 == 1)]
    delta = np.zeros(len(cps) + 1, dtype=np.int64)
    np.add.at(delta, opens, 1)
    np.add.at(delta, closes + 1, -1)
    inside = np.concatenate([[0], np.cumsum(np.cumsum(delta[:-1]) > 0)])
    for m, k in enumerate(quoted):
        s, e = starts[k] + offsets[m], ends[k] + offsets[m]
        out[k] = (inside[e] - inside[s]) / np.maximum(ends[k] - starts[k], 1)
    return out


def side_of(text: str, config: Config | None = None) -> Side:
    """The alignment side of a text (for ``compare`` and doctests)."""
    config = config or Config()
    return profile(text, config.sketch, _bands(config)).side()


def _bands(config: Config) -> tuple[int, int]:
    return lsh_mod.band_params(config.lsh.threshold, config.sketch.num_perm)


# --- process pool plumbing -------------------------------------------------

_SHARED: dict[str, Any] = {}

#: Below this much work a stage runs in this process (forking costs more).
_POOL_MIN = {"profile": 64, "passages": 400_000, "neighbours": 2000}
#: Work items per task (a neighbours block of 500 rows holds up to 500 x n cosines).
_POOL_STEP = {"passages": 200_000, "neighbours": 500}


def _workers(config: Config) -> int:
    return config.workers or max(1, os.cpu_count() or 1)


def _fork_context() -> Any:
    try:
        return mp.get_context("fork")
    except ValueError:  # no fork on this platform
        return None


def _profile_range(bounds: tuple[int, int]) -> list[Profile]:
    texts, params, bands = _SHARED["texts"], _SHARED["sketch"], _SHARED["bands"]
    return profile_batch(texts[bounds[0]:bounds[1]], params, bands, _SHARED["compiled"])


Credited = tuple[Profile, wire_mod.WireCredit | None]


def _credited_range(bounds: tuple[int, int]) -> list[Credited]:
    """Profiles of a range of ``_SHARED["articles"]``, each with its wire credit."""
    articles: Sequence[Article] = _SHARED["articles"][bounds[0]:bounds[1]]
    return list(zip(_profile_range(bounds),
                    [wire_mod.detect(a.text, a.source, a.url) for a in articles], strict=True))


def _pack_credited(items: Sequence[Credited]) -> tuple[PackedProfiles, list[Any]]:
    return pack_profiles([p for p, _ in items]), [c for _, c in items]


def _unpack_credited(packed: tuple[PackedProfiles, list[Any]]) -> list[Credited]:
    return list(zip(unpack_profiles(packed[0]), packed[1], strict=True))


#: The array fields of a :class:`Profile`.
_PROFILE_ARRAYS = tuple(f.name for f in fields(Profile) if f.name != "length")


class Arena:
    """Memory the pool's workers write their results into and this process reads
    them from in place: an anonymous shared map made before the workers fork,
    handed out in blocks from a counter under a lock. Its pages are taken only
    when written; a block that does not fit is not given (the caller sends its
    results by pickle instead)."""

    ALIGN = 64

    def __init__(self, size: int, ctx: Any) -> None:
        self.buffer = mmap.mmap(-1, max(size, mmap.PAGESIZE))
        self._top = ctx.Value("q", 0)

    def take(self, nbytes: int) -> int | None:
        """The offset of a new block of ``nbytes``, or None when the map is full."""
        with self._top.get_lock():
            lo = int(self._top.value)
            if lo + nbytes > len(self.buffer):
                return None
            self._top.value = lo + -(-nbytes // self.ALIGN) * self.ALIGN
        return lo

    def array(self, offset: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        return np.ndarray(shape, dtype=np.dtype(dtype), buffer=self.buffer, offset=offset)


#: Scans of at least this many texts make their signatures with numba's loop
#: (a third of numpy's time, 26 us less an article) in workers forked after it is
#: loaded; smaller ones with numpy, the kernels loading beside the workers: the
#: third of a second numba takes to start, alone before the fork, made 1k
#: articles' profile stage 0.50 -> 0.55 s, while 10k gained 1.47 -> 1.40 s
#: (benchmarks/CALIBRATION.md, session 15).
COMPILED_MIN_TEXTS = 5_000

#: Below this many characters of text (and :data:`COMPILED_MIN_TEXTS`), the
#: profile stage of a process that has not loaded the kernels yet forks one
#: worker fewer than it has cores: the kernels' loading in this process (a
#: third of a second, alone on its core) is then the longer of the two, and a
#: worker beside it only slows it down. 1k generated articles
#: (3.2M characters): the stage 0.50-0.55 -> 0.39-0.41 s; 2k (6.4M) 0.63-0.71 ->
#: 0.60 s; 3.5k (12M) 0.78-0.82 -> 0.89-0.95 s (benchmarks/CALIBRATION.md,
#: session 17).
SHARE_LOAD_MAX_CHARS = 8_000_000

#: Bytes of arena reserved per character of the texts to profile: profiles take
#: about 5 (a block that does not fit is pickled back instead).
ARENA_BYTES_PER_CHAR = 12


class ArenaSlice(NamedTuple):
    """Where a packed array lies in an :class:`Arena`."""

    offset: int
    dtype: str
    shape: tuple[int, ...]


#: Profiles as a worker sends them: their lengths, and per array field either the
#: field's arrays laid end to end (in place, or where they lie in the arena) with
#: the length of each, or (when their dtypes or shapes differ, as an empty text's
#: may) the arrays themselves.
PackedProfiles = tuple[
    list[int],
    dict[str, tuple[np.ndarray | ArenaSlice, np.ndarray] | list[np.ndarray]],
]


def pack_profiles(profiles: Sequence[Profile]) -> PackedProfiles:
    """``profiles`` in a few large arrays. A worker's results are pickled back
    to the parent: 14 small arrays per article pickle at a few microseconds
    each, and unpickling them was most of a scan's profile stage; a few large
    arrays pickle at memory speed. With an arena shared with the parent
    (``_SHARED["arena"]``), the large arrays are written into it and only where
    they lie is pickled: the parent neither receives nor copies them."""
    packed: dict[str, tuple[np.ndarray | ArenaSlice, np.ndarray] | list[np.ndarray]] = {}
    joined: dict[str, tuple[list[np.ndarray], np.dtype[Any], tuple[int, ...]]] = {}
    for name in _PROFILE_ARRAYS:
        arrays = [getattr(p, name) for p in profiles]
        kind = {(a.dtype, a.shape[1:]) for a in arrays}
        if len(kind) == 1:
            (dtype, rest), = kind
            joined[name] = arrays, dtype, (sum(len(a) for a in arrays), *rest)
        else:
            packed[name] = arrays
    arena: Arena | None = _SHARED.get("arena")
    blocks = {name: -(-dtype.itemsize * int(np.prod(shape)) // Arena.ALIGN) * Arena.ALIGN
              for name, (_, dtype, shape) in joined.items()}
    at = arena.take(sum(blocks.values())) if arena is not None else None
    for name, (arrays, dtype, shape) in joined.items():
        lengths = np.array([len(a) for a in arrays])
        if arena is None or at is None:
            packed[name] = (np.concatenate(arrays), lengths)
            continue
        np.concatenate(arrays, out=arena.array(at, dtype.str, shape))
        packed[name] = (ArenaSlice(at, dtype.str, shape), lengths)
        at += blocks[name]
    return [p.length for p in profiles], packed


def unpack_profiles(packed: PackedProfiles) -> list[Profile]:
    """The profiles of :func:`pack_profiles` (their arrays views of its arrays,
    or of the arena's, equal to the originals in values, dtypes and shapes)."""
    lengths, arrays = packed
    columns: list[list[np.ndarray]] = []
    for name in _PROFILE_ARRAYS:  # in the order of Profile's fields
        value = arrays[name]
        if isinstance(value, tuple):
            whole, sizes = value
            if isinstance(whole, ArenaSlice):
                whole = _SHARED["arena"].array(*whole)
            cut = np.concatenate([[0], np.cumsum(sizes)]).tolist()
            columns.append([whole[lo:hi] for lo, hi in zip(cut, cut[1:])])
        else:
            columns.append(value)
    return [Profile(length, *row) for length, row in zip(lengths, zip(*columns), strict=True)]


def _pack_range(fn: Callable[[tuple[int, int]], list[Any]], pack: Callable[[Any], Any],
                bounds: tuple[int, int]) -> Any:
    return pack(fn(bounds))


def _top_k_range(bounds: tuple[int, int]) -> list[np.ndarray]:
    return [tfidf_mod.top_k_block(_SHARED["keys"], _SHARED["keys_t"], bounds[0], bounds[1],
                                  _SHARED["tfidf"])]


def doc_candidates(vectors: sp.csr_matrix, config: Config) -> np.ndarray:
    """Each article's nearest neighbours by keyword cosine
    (:func:`dedup.tfidf.top_k_pairs`, its blocks over the pool)."""
    return doc_neighbours(doc_keys(vectors, config), config)


#: The keyword vectors of :func:`doc_keys`: (keys, their product columns), or None.
DocKeys = tuple[sp.csr_matrix, sp.csr_matrix] | None


def doc_keys(vectors: sp.csr_matrix | None, config: Config) -> DocKeys:
    """The serial half of :func:`doc_candidates`: each article's keywords and
    the columns its products are taken with (None: no neighbours to find)."""
    params = config.tfidf
    if vectors is None or vectors.shape[0] < 2 or params.top_k == 0:
        return None
    keys = tfidf_mod.keep_top_terms(vectors, params.keywords)
    return keys, tfidf_mod.product_columns(keys, params.keyword_max_articles)


def doc_neighbours(keys: DocKeys, config: Config) -> np.ndarray:
    """The half of :func:`doc_candidates` over the pool: the products' blocks."""
    if keys is None:
        return np.zeros((0, 2), dtype=np.int64)
    load_kernels()  # before the workers fork (loaded once)
    shared = {"keys": keys[0], "keys_t": keys[1], "tfidf": config.tfidf}
    parts = _run_ranges(_top_k_range, keys[0].shape[0], _workers(config), shared, "neighbours",
                        None, _POOL_MIN["neighbours"], step=_POOL_STEP["neighbours"])
    return tfidf_mod.sorted_pairs(parts)


def _cosine_range(bounds: tuple[int, int]) -> list[np.ndarray]:
    lo, hi = bounds
    return [tfidf_mod.row_dots(_SHARED["rows"], _SHARED["a"][lo:hi], _SHARED["b"][lo:hi])]


#: Articles whose token offsets a verify process keeps (about 9 KB each for a news story).
_OFFSETS_KEPT = 4096


def _token_spans(kept: dict[int, TokenSpans], texts: Sequence[str], k: int) -> TokenSpans:
    """Token offsets of article ``k``, from ``kept`` (the last _OFFSETS_KEPT
    articles' that were needed; pairs come sorted, so most repeats are near)."""
    found = kept.get(k)
    if found is None:
        if len(kept) >= _OFFSETS_KEPT:
            del kept[next(iter(kept))]  # the oldest
        found = kept[k] = token_spans(texts[k])
    return found


#: The Dice screen's scratch array (one entry per term, 16 MB), one per thread.
_SCRATCH = threading.local()


def _term_heads() -> np.ndarray:
    heads: np.ndarray | None = getattr(_SCRATCH, "heads", None)
    if heads is None:
        heads = _SCRATCH.heads = np.full(tfidf_mod.N_FEATURES, -1, dtype=np.int32)
    return heads


def dice_screen(profiles: Sequence[Profile], xs: np.ndarray, ys: np.ndarray,
                dice: float,
                stack: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Whether each pair ``(xs[k], ys[k])`` of profiles has a sentence pair over
    the Dice bar of seeding (:func:`dedup._kernels.dice_screen`); a pair without
    one aligns to nothing. ``stack``, when given, is :func:`sentence_stack` of
    all ``profiles`` (else the pairs' profiles are stacked for the call)."""
    if len(xs) == 0:
        return np.zeros(0, dtype=bool)
    from dedup import _kernels  # numba, loaded before the verify pool forks

    if stack is None:
        arts = unique(np.concatenate([xs, ys]))
        stack = sentence_stack([profiles[k] for k in arts.tolist()])
        xs, ys = arts.searchsorted(xs), arts.searchsorted(ys)
    row_ptr, cols, art_rows = stack
    return _kernels.dice_screen(row_ptr, cols, art_rows, xs, ys, dice, _term_heads())


def sentence_stack(profiles: Sequence[Profile]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The profiles' sentence terms laid end to end: the CSR ``indptr`` of all
    their sentences (int64), the term columns, and the first sentence of each
    profile (and one past the last)."""
    n_sent = np.array([len(p.indptr) - 1 for p in profiles], dtype=np.int64)
    n_cols = np.array([len(p.cols) for p in profiles], dtype=np.int64)
    art_rows = np.zeros(len(profiles) + 1, dtype=np.int64)
    np.cumsum(n_sent, out=art_rows[1:])
    indptr = np.zeros(int(art_rows[-1]) + 1, dtype=np.int64)
    if not profiles:
        return indptr, np.zeros(0, dtype=np.int32), art_rows
    np.concatenate([p.indptr[1:] for p in profiles], out=indptr[1:], casting="unsafe")
    indptr[1:] += np.repeat(np.cumsum(n_cols) - n_cols, n_sent)
    return indptr, np.concatenate([p.cols for p in profiles]), art_rows


def _align_range(bounds: tuple[int, int]) -> list[Any]:
    """The alignments of a range of ``_SHARED["pairs"]`` or, with
    ``_SHARED["jaccard"]``, (alignment, Jaccard or NaN) pairs."""
    profiles, pairs, params = _SHARED["profiles"], _SHARED["pairs"], _SHARED["align"]
    texts: Sequence[str] | None = _SHARED.get("texts")
    # an article's side (and the term index it derives) is built once per process,
    # and so are token offsets (16 bytes a token, for refinement) up to _OFFSETS_KEPT
    sides: dict[int, Side] = _SHARED.setdefault("sides", {})
    kept: dict[int, TokenSpans] = _SHARED.setdefault("offsets", {})

    def side(k: int) -> Side:
        if k not in sides:
            sides[k] = profiles[k].side()
        return sides[k]

    part = pairs[bounds[0] : bounds[1]]
    flips = _SHARED.get("flips")
    flip = flips[bounds[0] : bounds[1]] if flips is not None else np.zeros(len(part), bool)
    xs = np.where(flip, part[:, 1], part[:, 0])
    ys = np.where(flip, part[:, 0], part[:, 1])
    # most candidate pairs have no seeds: those are found for the range in one call
    seeded = dice_screen(profiles, xs, ys, params.seed_dice, _SHARED.get("stack")).tolist()
    out = []
    for x, y, flipped, has_seeds in zip(xs.tolist(), ys.tolist(), flip.tolist(), seeded):
        if not has_seeds:
            out.append(EMPTY_ALIGNMENT)
            continue
        al = align(side(x), side(y), params)
        if al.passages and texts is not None:
            al = refine(al, side(x), side(y), _token_spans(kept, texts, x),
                        _token_spans(kept, texts, y), params)
        out.append(al.swapped() if flipped else al)
    if _SHARED.get("jaccard"):
        # the shingles' Jaccard of each pair that aligned (see align_pairs_jaccard)
        return [(al, jaccard(profiles[x].shingles, profiles[y].shingles) if al.passages
                 else math.nan) for x, y, al in zip(xs.tolist(), ys.tolist(), out)]
    return out


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collection off for the block (or the decorated
    function), then as it was. Forked workers inherit the setting.

    A scan's objects (articles, profiles, alignments, matches, clusters) make
    no reference cycles, but their numbers set off collections that walk all
    of them, again and again as they grow: at 10k articles 0.2 s, most of it
    two full collections in the match building and the clustering; at 100k
    1.1-1.3 s of the verify stage (benchmarks/CALIBRATION.md, session 17).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _run_ranges(
    fn: Callable[[tuple[int, int]], list[Any]],
    n: int,
    workers: int,
    shared: dict[str, Any],
    stage: str,
    progress: Progress | None,
    min_parallel: int,
    step: int | None = None,
    codec: tuple[Callable[[list[Any]], Any], Callable[[Any], list[Any]]] | None = None,
    meanwhile: Callable[[], None] | None = None,
    forked: int | None = None,
) -> list[Any]:
    """Apply ``fn`` to index ranges covering 0..n, in order, possibly in forked workers
    that inherit ``shared`` (no pickling of the inputs). A worker's results are
    pickled back to the parent: ``codec`` (pack, unpack), when given, packs
    them before and unpacks them after. ``meanwhile``, when given, is called in
    this process while the workers run (not at all without them). With
    ``workers`` > 1 the stage runs in a pool of ``forked`` workers (default
    ``workers``; fewer leave cores to ``meanwhile``)."""
    _SHARED.clear()
    _SHARED.update(shared)
    out: list[Any] = []
    # One BLAS thread per process: the pool already uses every core, and
    # alignment's many small products only lose time to thread hand-offs.
    limits = threadpool_limits(limits=1)
    try:
        ctx = _fork_context()
        if workers <= 1 or n < min_parallel or ctx is None:
            serial_step = step or max(1, n // 20)
            for lo in range(0, n, serial_step):
                out.extend(fn((lo, min(n, lo + serial_step))))
                if progress:
                    progress(stage, min(n, lo + serial_step), n)
            return out
        forked = forked or workers
        step = step or max(1, min(500, -(-n // (forked * 8))))
        ranges = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
        with ProcessPoolExecutor(max_workers=forked, mp_context=ctx) as pool:
            call = fn if codec is None else partial(_pack_range, fn, codec[0])
            parts = pool.map(call, ranges)  # every range submitted, the workers forked
            if meanwhile is not None:
                meanwhile()
            # The results (a scan's profiles, alignments) make no reference cycles,
            # but their many objects would set off collections that walk all of
            # them again: at 100k articles, a second of the profile stage.
            with collection_paused():
                for part in parts:
                    out.extend(part if codec is None else codec[1](part))
                    if progress:
                        progress(stage, len(out), n)
        return out
    finally:
        _SHARED.clear()
        limits.restore_original_limits()


def profiles_of(
    texts: Sequence[str], config: Config, progress: Progress | None = None
) -> list[Profile]:
    """Profiles of many texts, in order, over a process pool. The compiled
    kernels, which later stages need, load in this process while the workers
    run (numba's import and set-up, a third of a second). For
    :data:`COMPILED_MIN_TEXTS` texts or more the signatures' loop is loaded
    first, so that the workers fork with it and make the signatures with it
    (:func:`profile_batch`)."""
    return _profiles(texts, None, config, progress)


def credited_profiles(
    articles: Sequence[Article], config: Config, progress: Progress | None = None
) -> tuple[list[Profile], dict[str, wire_mod.WireCredit]]:
    """:func:`profiles_of` the articles' texts, and the wire credit of each article
    that has one (:func:`dedup.wire.detect`), by id: found by the same workers
    (their regular expressions hold the GIL: at 100k articles, 1.2 s that kept
    the TF-IDF stage's thread busy after its other work)."""
    items = _profiles([a.text for a in articles], articles, config, progress)
    credits = {a.id: c for a, (_, c) in zip(articles, items, strict=True) if c is not None}
    return [p for p, _ in items], credits


def _profiles(texts: Sequence[str], articles: Sequence[Article] | None, config: Config,
              progress: Progress | None) -> list[Any]:
    """The profiles of ``texts`` or, with ``articles`` (their texts), :data:`Credited` pairs."""
    compiled = len(texts) >= COMPILED_MIN_TEXTS
    if compiled:
        load_kernels(signatures=True)
    workers = _workers(config)
    forked = workers
    if (not compiled and workers > 1 and not kernels_loaded()
            and sum(map(len, texts)) < SHARE_LOAD_MAX_CHARS):
        forked = workers - 1  # a core for the kernels' loading (see SHARE_LOAD_MAX_CHARS)
    shared: dict[str, Any] = {"texts": texts, "sketch": config.sketch, "bands": _bands(config),
                              "articles": articles, "compiled": compiled}
    ctx = _fork_context()
    if ctx is not None and workers > 1 and len(texts) >= _POOL_MIN["profile"]:
        # (no such map to be had, under strict overcommit say: results are pickled)
        with contextlib.suppress(OSError, ValueError):
            shared["arena"] = Arena(ARENA_BYTES_PER_CHAR * sum(map(len, texts)), ctx)
    fn, codec = ((_profile_range, (pack_profiles, unpack_profiles)) if articles is None
                 else (_credited_range, (_pack_credited, _unpack_credited)))
    return _run_ranges(fn, len(texts), workers, shared, "profile", progress,
                       _POOL_MIN["profile"], codec=codec, meanwhile=load_kernels,
                       forked=forked)


def passage_windows(profiles: Sequence[Profile], config: Config) -> PassageWindows | None:
    """The serial half of :func:`passage_candidates`: window keywords and the window
    pairs that may reach ``passage_min_cosine`` (None: no passage stage)."""
    params = config.tfidf
    sentences, owner = sentence_matrix(profiles)
    if params.passage_top_k == 0 or sentences.shape[0] == 0:
        return None
    keys, w_owner = tfidf_mod.passage_keys(sentences, owner, params)
    del sentences
    a, b = tfidf_mod.candidate_window_pairs(keys, params.passage_min_cosine, w_owner)
    return PassageWindows(keys, w_owner, a, b)


def passage_pairs_of(windows: PassageWindows | None, config: Config) -> np.ndarray:
    """Article pairs from :func:`passage_windows` (their exact cosines over the pool)."""
    if windows is None:
        return np.zeros((0, 2), dtype=np.int64)
    load_kernels()  # before the workers fork (loaded once)
    shared = {"rows": tfidf_mod.rows_for_dots(windows.keys), "a": windows.a, "b": windows.b}
    parts = _run_ranges(_cosine_range, len(windows.a), _workers(config), shared, "passages",
                        None, _POOL_MIN["passages"], step=_POOL_STEP["passages"])
    cosines = np.concatenate(parts) if parts else np.zeros(0)
    return tfidf_mod.top_passage_pairs(windows.a, windows.b, cosines, windows.owner,
                                       config.tfidf)


def passage_candidates(profiles: Sequence[Profile], config: Config) -> np.ndarray:
    """Article pairs whose passages are TF-IDF nearest neighbours
    (:func:`dedup.tfidf.passage_pairs`, its exact cosines over the pool)."""
    return passage_pairs_of(passage_windows(profiles, config), config)


def align_pairs(
    profiles: Sequence[Profile], pairs: np.ndarray, config: Config,
    progress: Progress | None = None, texts: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
) -> list[Alignment]:
    """Alignment of each pair (rows of ``pairs`` index ``profiles``), in order;
    with the ``texts`` of the profiles, passages are refined to the shared words
    (:func:`dedup.align.refine`).

    Alignment is not quite symmetric (its seeds are grouped in the order of the
    first text). With the articles' ``ids``, each pair is aligned with the
    article whose id sorts first as the first text, whatever the order of
    ``profiles``, and given back in the pair's order: a scan's matches do not
    depend on the order of its inputs, nor an index's on the order of its batches.
    """
    return _align(profiles, pairs, config, progress, texts, ids, False)


def align_pairs_jaccard(
    profiles: Sequence[Profile], pairs: np.ndarray, config: Config,
    progress: Progress | None = None, texts: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
) -> tuple[list[Alignment], np.ndarray]:
    """:func:`align_pairs`, and the :func:`jaccard` of the shingles of each pair
    that aligned (NaN for the others), found by the same workers instead of
    one by one in this process after them (at 10k articles 11,486 pairs, 0.07 s)."""
    got = _align(profiles, pairs, config, progress, texts, ids, True)
    return [al for al, _ in got], np.array([j for _, j in got], dtype=np.float64)


def _align(profiles: Sequence[Profile], pairs: np.ndarray, config: Config,
           progress: Progress | None, texts: Sequence[str] | None,
           ids: Sequence[str] | None, with_jaccard: bool) -> list[Any]:
    flips = None
    if ids is not None and len(pairs):
        rank = np.empty(len(ids), dtype=np.int64)
        rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
        flips = rank[pairs[:, 0]] > rank[pairs[:, 1]]
    if len(pairs):
        load_kernels()
    # all sentences laid end to end once, not each range's for its Dice screen
    stack = sentence_stack(profiles) if len(pairs) else None
    return _run_ranges(_align_range, len(pairs), _workers(config),
                       {"profiles": profiles, "pairs": pairs, "align": config.align,
                        "texts": texts, "flips": flips, "stack": stack,
                        "jaccard": with_jaccard}, "verify", progress, 100)


# --- stages ----------------------------------------------------------------


def doc_matrix(profiles: Sequence[Profile]) -> sp.csr_matrix:
    """(n_articles, N_FEATURES) term counts."""
    lengths = np.array([len(p.doc_cols) for p in profiles], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    cols = np.concatenate([p.doc_cols for p in profiles]) if profiles else np.zeros(0, np.int64)
    vals = np.concatenate([p.doc_counts for p in profiles]) if profiles else np.zeros(0)
    return sp.csr_matrix((vals, cols, indptr), shape=(len(profiles), tfidf_mod.N_FEATURES))


def sentence_matrix(profiles: Sequence[Profile]) -> tuple[sp.csr_matrix, np.ndarray]:
    """(all sentences, N_FEATURES) term counts and the article of each sentence."""
    indptr, cols, art_rows = sentence_stack(profiles)
    owner = np.repeat(np.arange(len(profiles)), np.diff(art_rows))
    if art_rows[-1] == 0:
        return sp.csr_matrix((0, tfidf_mod.N_FEATURES)), owner
    counts = np.concatenate([p.counts for p in profiles])
    mat = sp.csr_matrix((counts, cols, indptr), shape=(int(art_rows[-1]), tfidf_mod.N_FEATURES))
    return mat, owner


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and the seconds it took."""
    t = time.perf_counter()
    return fn(*args), time.perf_counter() - t


def lsh_candidates(profiles: Sequence[Profile], config: Config) -> np.ndarray:
    """Article pairs sharing a passage bucket (the articles' band keys are read
    a few bands at a time, never copied whole)."""
    keys = [p.band_keys for p in profiles]
    owners = np.repeat(np.arange(len(profiles)), [len(k) for k in keys])
    if len(owners) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    return lsh_mod.candidate_pairs(keys, owners, config.lsh.max_bucket)


#: Share of an article's shingles found in the longest article of its LSH
#: component for the two to count as copies of one story (trimmed copies and
#: copies wrapped in local paragraphs are inside the full story).
NEAR_COPY_CONTAINMENT = 0.8


def near_copy_hosts(profiles: Sequence[Profile], ids: Sequence[str], lsh_pairs: np.ndarray,
                    min_group: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The articles left when every story run by ``min_group`` articles or more
    keeps only its longest copy (its host), and those hosts, by index (sorted);
    None when no story is run that often.

    A story's copies are the members of a component of the LSH candidate graph
    whose shingles are at least :data:`NEAR_COPY_CONTAINMENT` inside the
    component's host, its longest article (then smallest id): what the
    component is does not depend on the order of the articles, nor does its host.
    """
    n = len(profiles)
    if min_group < 2 or len(lsh_pairs) == 0:
        return None
    graph = sp.coo_matrix((np.ones(len(lsh_pairs)), (lsh_pairs[:, 0], lsh_pairs[:, 1])),
                          shape=(n, n))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    by_label = np.argsort(label, kind="stable")  # each component's members together
    start = np.cumsum(sizes) - sizes
    drop = np.zeros(n, dtype=bool)
    hosts = []
    for comp in (sizes >= min_group).nonzero()[0].tolist():
        members = by_label[start[comp] : start[comp] + sizes[comp]].tolist()
        host = min(members, key=lambda k: (-profiles[k].length, ids[k]))
        hs = profiles[host].shingles
        copies = [k for k in members if len(profiles[k].shingles) and len(np.intersect1d(
            profiles[k].shingles, hs, assume_unique=True))
            >= NEAR_COPY_CONTAINMENT * len(profiles[k].shingles)]
        if len(copies) >= min_group:
            drop[copies] = True
            drop[host] = False
            hosts.append(host)
    if not hosts:
        return None
    return (~drop).nonzero()[0], np.array(sorted(hosts), dtype=np.int64)


def near_copy_candidates(profiles: Sequence[Profile], ids: Sequence[str], lsh_pairs: np.ndarray,
                         config: Config) -> np.ndarray:
    """The nearest articles of each story run by many articles (``tfidf.near_copy_group``),
    by keyword cosine with the story counted once (:func:`near_copy_hosts`):
    its copies' own frequency puts the story's words over the keyword limits,
    so that a rewrite of it meets none of them among the article and passage
    neighbours. Each host's nearest articles and each article's nearest hosts
    (:func:`dedup.tfidf.host_pairs`), pairs of indices into ``profiles``; none
    when no story is run that often. The pairs with the host are enough: a
    rewrite's match with it joins the copies' cluster through the passages
    they share on it (:mod:`dedup.cluster`)."""
    found = near_copy_hosts(profiles, ids, lsh_pairs, config.tfidf.near_copy_group)
    if found is None:
        return np.zeros((0, 2), dtype=np.int64)
    keep, hosts = found
    vectors, _ = tfidf_mod.doc_vectors(doc_matrix([profiles[k] for k in keep]))
    pairs = tfidf_mod.host_pairs(vectors, np.searchsorted(keep, hosts), config.tfidf)
    return keep[pairs]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    from dedup._kernels import intersection_size

    inter = intersection_size(a, b)
    return inter / (len(a) + len(b) - inter)


def build_match(a_id: str, b_id: str, alignment: Alignment, jac: float, cos: float) -> Match:
    """A match with ``a`` the smaller id (the alignment swapped if needed)."""
    m = Match(
        a=a_id, b=b_id, score=match_score(alignment), jaccard=float(min(1.0, jac)),
        cosine=float(min(1.0, max(0.0, cos))), reuse_a_in_b=alignment.reuse_a_in_b,
        reuse_b_in_a=alignment.reuse_b_in_a, passages=alignment.passages,
    )
    return m if a_id <= b_id else m.swapped()


def collect(
    inputs: Iterable[str | os.PathLike[str] | Article],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int = 1_000_000,
    on_skip: Callable[[Skipped], None] | None = None,
    workers: int = 1,
) -> tuple[list[Article], list[Skipped]]:
    """Articles from paths and Article objects; bad inputs reported and skipped."""
    from dedup.io import read_paths  # the algorithm modules never import io

    skipped: list[Skipped] = []

    def skip(s: Skipped) -> None:
        skipped.append(s)
        if on_skip:
            on_skip(s)

    articles: list[Article] = []
    seen: dict[str, str] = {}
    paths: list[str | os.PathLike[str]] = []
    given: list[Article] = []
    for item in inputs:
        if isinstance(item, Article):
            given.append(item)
        elif isinstance(item, (str, Path, os.PathLike)):
            paths.append(item)
        else:
            raise TypeError(f"expected a path or an Article, got {type(item).__name__}")
    stream: list[Iterable[Article]] = [given]
    if paths:
        stream.append(read_paths(paths, include=include, exclude=exclude, id_field=id_field,
                                 text_field=text_field, max_chars=max_chars, on_skip=skip,
                                 workers=workers))
    for source in stream:
        for art in source:
            if art.id in seen:
                skip(Skipped(art.path or art.id, f"duplicate id {art.id!r} (first seen in "
                                                 f"{seen[art.id]})"))
                continue
            if not art.text.strip():
                skip(Skipped(art.path or art.id, "empty"))
                continue
            seen[art.id] = art.path or art.id
            articles.append(art)
    return articles, skipped


def scan(
    inputs: Iterable[str | os.PathLike[str] | Article],
    config: Config | None = None,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    id_field: str = "id",
    text_field: str = "text",
    progress: Progress | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
) -> Report:
    """Find reuse among articles: matches, passages, clusters.

    One scan at a time in a process: its stages hand their inputs to forked
    workers through module state, so two threads must not scan at once (run
    scans in processes instead); :func:`compare` keeps no such state.

    Args:
        inputs: Paths (files or directories) and/or :class:`Article` objects.
        config: Settings; defaults to :class:`Config()`.
        include, exclude: Globs on paths inside directories.
        id_field, text_field: Field names of JSON/JSONL records.
        progress: Called as ``progress(stage, done, total)``.
        on_skip: Called for each input skipped as unreadable.

    Returns:
        The :class:`Report`.

    Raises:
        InputError: A path does not exist.

    Example:
        >>> report = scan(["benchmarks/corpora/alaska-summit"])  # doctest: +SKIP
        >>> [c.members for c in report.clusters]  # doctest: +SKIP
    """
    config = config or Config()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    # reading runs with garbage collection as it was: HTML extraction is
    # trafilatura's and lxml's code, whose objects' cycles are not ours to rule out
    articles, skipped = collect(inputs, include=include, exclude=exclude, id_field=id_field,
                                text_field=text_field, max_chars=config.max_chars,
                                on_skip=on_skip, workers=_workers(config))
    seconds["read"] = time.perf_counter() - t0
    return scan_articles(articles, config, skipped=skipped, seconds=seconds, progress=progress)


@collection_paused()
def scan_articles(
    articles: Sequence[Article],
    config: Config,
    *,
    skipped: Sequence[Skipped] = (),
    seconds: dict[str, float] | None = None,
    progress: Progress | None = None,
) -> Report:
    """The pipeline after reading (see :func:`scan`), without garbage
    collection (:func:`collection_paused`)."""
    seconds = dict(seconds or {})
    ids = [a.id for a in articles]
    texts = [a.text for a in articles]

    t = time.perf_counter()
    profiles, credits = credited_profiles(articles, config, progress)
    seconds["profile"] = time.perf_counter() - t

    t = time.perf_counter()
    # The passage keywords and their window pairs are serial work (numpy, scipy
    # and compiled loops, most of it without the GIL); beside them, in a thread,
    # go the serial halves of the other stages: the LSH buckets, then the
    # article vectors and keywords. In that order: the buckets' sort and the
    # window pairs are the two largest transients, and with the buckets first
    # they do not meet (at 100k articles the other order peaked 280 MB higher).
    # (The wire credits' regular expressions, which hold the GIL, were found
    # by the profile workers.) The thread ends before the next process pool
    # forks; the products of both keyword sets are then taken over the pool.
    # "lsh" is the buckets' own time, within "tfidf"'s.
    def beside_work() -> tuple[Any, ...]:
        lsh_pairs, lsh_seconds = _timed(lsh_candidates, profiles, config)
        vectors, _ = (tfidf_mod.doc_vectors(doc_matrix(profiles)) if profiles
                      else (None, None))
        keys = doc_keys(vectors, config)
        return vectors, keys, lsh_pairs, lsh_seconds

    with ThreadPoolExecutor(max_workers=1) as beside:
        job = beside.submit(beside_work)
        windows = passage_windows(profiles, config)
        vectors, keys, lsh_pairs, seconds["lsh"] = job.result()
    tfidf_pairs = doc_neighbours(keys, config)
    del keys
    passage_pairs = passage_pairs_of(windows, config)
    del windows
    near_pairs = near_copy_candidates(profiles, ids, lsh_pairs, config)
    seconds["tfidf"] = time.perf_counter() - t

    found = [p for p in (lsh_pairs, tfidf_pairs, passage_pairs, near_pairs) if len(p)]
    pairs = unique_pairs(np.concatenate(found)) if found \
        else np.zeros((0, 2), dtype=np.int64)

    t = time.perf_counter()
    alignments, jaccards = align_pairs_jaccard(profiles, pairs, config, progress, texts, ids)
    aligned = [k for k, al in enumerate(alignments) if al.passages]
    found_pairs = pairs[aligned]
    found_alignments = [alignments[k] for k in aligned]
    # whole-article cosines only of the pairs that have passages (a quarter of them)
    cosines = (tfidf_mod.pair_cosines(vectors, found_pairs) if vectors is not None
               else np.zeros(len(found_pairs)))
    kept: list[tuple[Match, tuple[Passage, ...]]] = []
    for (i, j), al, jac, cos in zip(found_pairs.tolist(), found_alignments,
                                    jaccards[aligned].tolist(), cosines.tolist()):
        if ids[i] > ids[j]:  # oriented like the match (a the smaller id), spans included
            i, j, al = j, i, al.swapped()
        m = build_match(ids[i], ids[j], al, jac, cos)
        if m.score >= config.min_score:
            # the passages on whole sentences, for clustering
            kept.append((m, al.aligned))
    kept.sort(key=lambda x: (-round(x[0].score, 6), x[0].a, x[0].b))
    matches = [m for m, _ in kept]
    seconds["verify"] = time.perf_counter() - t

    t = time.perf_counter()
    clusters, match_cluster = cluster(matches, config.cluster, credits,
                                      {a.id: a.published for a in articles},
                                      [spans for _, spans in kept])
    seconds["cluster"] = time.perf_counter() - t

    stats: dict[str, Any] = {
        "articles": len(articles),
        "skipped": len(skipped),
        "candidates_lsh": int(len(lsh_pairs)),
        "candidates_tfidf": int(len(tfidf_pairs)),
        "candidates_passages": int(len(passage_pairs)),
        "candidates_near_copies": int(len(near_pairs)),
        "candidates": int(len(pairs)),
        "matches": len(matches),
        "clusters": len(clusters),
        # an article can be in several clusters (see dedup.cluster); counted once
        "clustered_articles": len({x for c in clusters for x in c.members}),
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
    }
    return Report(
        articles=tuple(articles),
        matches=tuple(matches),
        clusters=clusters,
        stats=stats,
        skipped=tuple(skipped),
        wire={k: v.agency for k, v in credits.items()},
        match_cluster=match_cluster,
    )


def compare(text_a: str, text_b: str, config: Config | None = None, *,
            a_id: str = "a", b_id: str = "b") -> Match:
    """Align two texts: both directions' reuse and the passages.

    The match keeps ``a`` as given (not reordered by id). ``cosine`` is the
    TF-IDF cosine with document frequencies from these two texts alone.

    Example:
        >>> story = ("Rain fell on the city all day long, flooding streets and cellars. "
        ...          "The fire brigade pumped out more than forty basements by the evening.")
        >>> m = compare(story, "From our reporter: " + story)
        >>> m.reuse_a_in_b, m.reuse_b_in_a  # shares of whole sentences
        (1.0, 1.0)
        >>> p = m.passages[0]  # fitted to the shared words
        >>> p.b_start, p.b_end - p.b_start == len(story)
        (19, True)

        Passages shorter than ``align.min_passage_chars`` (100) on both sides are
        not reuse, so two identical one-line texts do not match.
    """
    config = config or Config()
    pa = profile(text_a, config.sketch, _bands(config))
    pb = profile(text_b, config.sketch, _bands(config))
    with threadpool_limits(limits=1):
        sa, sb = pa.side(), pb.side()
        al = align(sa, sb, config.align)
        if al.passages:
            al = refine(al, sa, sb, token_spans(text_a), token_spans(text_b), config.align)
    vectors, _ = tfidf_mod.doc_vectors(doc_matrix([pa, pb]))
    cos = float(tfidf_mod.pair_cosines(vectors, np.array([[0, 1]]))[0])
    return Match(
        a=a_id, b=b_id, score=match_score(al), jaccard=jaccard(pa.shingles, pb.shingles),
        cosine=cos, reuse_a_in_b=al.reuse_a_in_b, reuse_b_in_a=al.reuse_b_in_a,
        passages=al.passages,
    )
