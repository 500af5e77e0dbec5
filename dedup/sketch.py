"""Word shingles and MinHash signatures, vectorized, compatible with datasketch.

Shingles are word k-grams of normalized tokens, hashed once with numpy (a
polynomial over the token hashes). Signatures follow datasketch's ``affine32``
scheme exactly: ``MinHash(num_perm, seed, hashfunc=identity)`` fed the 32-bit
shingle values gives the same ``hashvalues`` as :func:`minhash` (a test checks
it), and :func:`to_lean` turns a row into a datasketch ``LeanMinHash``.

Passages are windows of ``window`` shingles every ``stride`` shingles; each
gets its own signature, so a wire passage inside a longer local story is
still found by LSH.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash

from dedup.text import unique

_SCHEME = "affine32"
_M1 = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class SketchParams:
    """How shingles and signatures are made (the ``sketch`` part of the config)."""

    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    window: int = 50
    stride: int = 25


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters (a, b) for the affine32 scheme."""
    mh = MinHash(num_perm=num_perm, seed=seed, scheme=_SCHEME)
    a, b = mh.permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def shingle_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """64-bit hashes of the word k-grams (one per position; a text shorter
    than k tokens gives one shingle of all its tokens, an empty text none)."""
    n = len(token_hashes)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    k_eff = min(k, n)
    m = n - k_eff + 1
    with np.errstate(over="ignore"):
        h = token_hashes[:m].astype(np.uint64, copy=True)
        for j in range(1, k_eff):  # k is small: a loop over offsets, vectorized over shingles
            h *= _M1
            h += token_hashes[j : j + m]
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return h


def shingle_hashes_batch(token_hashes: list[np.ndarray], k: int) -> list[np.ndarray]:
    """:func:`shingle_hashes` of several texts: the k-grams of their token hashes
    laid end to end, less those that cross from one text into the next."""
    sizes = np.array([len(h) for h in token_hashes], dtype=np.int64)
    out = [np.zeros(0, dtype=np.uint64)] * len(token_hashes)
    long_enough = sizes >= k
    for i in np.flatnonzero(~long_enough & (sizes > 0)).tolist():
        out[i] = shingle_hashes(token_hashes[i], k)  # one shingle of all its tokens
    if not long_enough.any():
        return out
    every = shingle_hashes(np.concatenate(token_hashes), k)
    m = np.where(long_enough, sizes - k + 1, 0)
    start = np.cumsum(sizes) - sizes
    keep = np.repeat(start - (np.cumsum(m) - m), m) + np.arange(int(m.sum()))
    cut = np.cumsum(m).tolist()
    kept = every[keep]
    lo = 0
    for i in np.flatnonzero(long_enough).tolist():
        out[i] = kept[lo:cut[i]]
        lo = cut[i]
    return out


def fmix32(h: np.ndarray, copy: bool = True) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before permuting
    (in place when ``copy`` is false and ``h`` is already uint32)."""
    h = h.astype(np.uint32, copy=copy)
    with np.errstate(over="ignore"):
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h


def permuted(shingles: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """The (num_perm, n_shingles) matrix of permuted 32-bit shingle values
    (one row per permutation, so reductions over shingles are contiguous)."""
    a, b = permutations(num_perm, seed)
    hv = fmix32(shingles.astype(np.uint32), copy=False)  # the low 32 bits
    with np.errstate(over="ignore"):
        out = np.outer(a, hv)
        out += b[:, None]
    return out


def minhash(shingles: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signature (uint32, length num_perm) of a set of shingle hashes."""
    if len(shingles) == 0:
        return np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    return permuted(shingles, num_perm, seed).min(axis=1)


def window_starts(n_shingles: int, window: int, stride: int) -> np.ndarray:
    """First shingle of each passage window; the last window ends at the text's end."""
    if n_shingles <= window:
        return np.zeros(1 if n_shingles else 0, dtype=np.int64)
    starts = np.arange(0, n_shingles - window + 1, stride, dtype=np.int64)
    if starts[-1] + window < n_shingles:
        starts = np.append(starts, n_shingles - window)
    return starts


def passage_signatures(
    shingles: np.ndarray, params: SketchParams
) -> tuple[np.ndarray, np.ndarray]:
    """Signatures of the passage windows of one text.

    Returns:
        (signatures, starts): a (n_windows, num_perm) uint32 array and the
        first shingle index of each window.
    """
    signatures, _ = batch_signatures([shingles], params)
    return signatures, window_starts(len(shingles), params.window, params.stride)


#: Shingles whose permuted values one batch of :func:`batch_signatures` holds at
#: once (num_perm x this many uint32: 8 MB at 128 permutations). The matrix is
#: written, added to and reduced in three passes: at 32 MB (1 << 16) it left the
#: processor's cache between them and the signatures took 40% longer
#: (benchmarks/CALIBRATION.md, session 14).
BATCH_SHINGLES = 1 << 14


def batch_signatures(
    shingles: list[np.ndarray], params: SketchParams, compiled: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The passage window signatures of several texts (:func:`passage_signatures`
    of each, one after the other).

    Short texts have few shingles, so one text's signatures take many numpy
    calls for little work; here they are computed over the texts' shingles
    laid end to end (at most :data:`BATCH_SHINGLES` at a time, or one longer
    text alone), with windows that never cross from one text into the next:
    a window's minimum is that of the blocks it spans, blocks breaking at every
    window start and end. ``compiled``: the blocks' and windows' minima by
    :func:`dedup._kernels.window_minhash` (the same signatures in a third of
    the time; numba is imported for it).

    Returns:
        (signatures, counts): the texts' window signatures one after the other,
        (sum of counts, num_perm) uint32, and the number of windows of each text.
    """
    counts = np.zeros(len(shingles), dtype=np.int64)
    parts: list[np.ndarray] = [np.zeros((0, params.num_perm), dtype=np.uint32)]
    lo = 0
    while lo < len(shingles):
        hi, total = lo, 0
        while hi < len(shingles) and (hi == lo or total + len(shingles[hi]) <= BATCH_SHINGLES):
            total += len(shingles[hi])
            hi += 1
        sigs, counts[lo:hi] = _signatures_end_to_end(shingles[lo:hi], params, compiled)
        parts.append(sigs)
        lo = hi
    return np.concatenate(parts), counts


def _signatures_end_to_end(shingles: list[np.ndarray], params: SketchParams,
                           compiled: bool = False) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.array([len(x) for x in shingles], dtype=np.int64)
    ends_of = np.cumsum(sizes)
    starts = [window_starts(int(n), params.window, params.stride) + int(o)
              for n, o in zip(sizes.tolist(), (ends_of - sizes).tolist())]
    counts = np.array([len(x) for x in starts], dtype=np.int64)
    total = int(ends_of[-1]) if len(sizes) else 0
    if total == 0:
        return np.zeros((0, params.num_perm), dtype=np.uint32), counts
    # a text's first window starts where the text does; its last ends where it ends
    first_shingle = np.concatenate(starts)
    last_shingle = np.minimum(first_shingle + params.window, np.repeat(ends_of, counts))
    # min over each window = min of the blocks it spans (blocks break at every
    # window start and end, so at every text boundary too)
    cuts = unique(np.concatenate([first_shingle, last_shingle]))
    cuts = cuts[cuts < total]
    first = np.searchsorted(cuts, first_shingle)
    last = np.searchsorted(cuts, last_shingle) - 1
    if compiled:
        from dedup._kernels import window_minhash

        a, b = permutations(params.num_perm, params.seed)
        values = fmix32(np.concatenate(shingles).astype(np.uint32), copy=False)
        return window_minhash(values, cuts, first, last, a, b), counts
    perm = permuted(np.concatenate(shingles), params.num_perm, params.seed)
    block_min = np.minimum.reduceat(perm, cuts, axis=1).T  # (n_blocks, num_perm)
    out = block_min[first]
    # windows spanning fewer blocks take their last block again (min is idempotent)
    for w in range(1, int((last - first).max()) + 1):
        np.minimum(out, block_min[np.minimum(first + w, last)], out=out)
    return out, counts


def to_lean(signature: np.ndarray, seed: int = 1) -> LeanMinHash:
    """A datasketch ``LeanMinHash`` holding this signature (for storage and
    for datasketch's own ``MinHashLSH``)."""
    return LeanMinHash(seed=seed, hashvalues=signature.astype(np.uint32), scheme=_SCHEME)


def from_lean(lean: LeanMinHash, num_perm: int, seed: int) -> np.ndarray:
    """The signature of a ``LeanMinHash``; refuses one of another shape or seed."""
    if len(lean.hashvalues) != num_perm:
        raise ValueError(f"Expecting minhash with length {num_perm}, got {len(lean.hashvalues)}")
    if lean.seed != seed:
        raise ValueError(f"Expecting minhash with seed {seed}, got {lean.seed}")
    return np.asarray(lean.hashvalues, dtype=np.uint32)
