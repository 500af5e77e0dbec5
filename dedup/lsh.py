"""Candidate pairs from passage signatures by MinHash LSH (banding).

The banding is datasketch's ``MinHashLSH``: the same (bands, rows) chosen by
datasketch for a threshold, the same band ranges, and the same rule that two
signatures are candidates when any band agrees (a test checks the candidates
against ``MinHashLSH.query``). Only the bucket bookkeeping is done here, over
the whole batch at once with numpy (one sort of all band keys) instead of a
dict insert and a query per passage; band keys are plain uint64, so the
persistent index can store them in an indexed SQLite column.

LSH only proposes: every candidate is verified by alignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH

from dedup.text import runs, unique, unique_pairs

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class LSHParams:
    """The ``lsh`` part of the config.

    Attributes:
        threshold: Passage Jaccard similarity at which LSH should fire.
        max_bucket: Buckets with more articles than this (boilerplate, or a
            story syndicated very widely) are linked as a chain plus a star
            instead of all pairs, so their cost stays linear.
    """

    threshold: float = 0.5
    max_bucket: int = 50


@lru_cache(maxsize=16)
def band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) as datasketch's ``MinHashLSH`` chooses them."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def _mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64-style finalizer, in place (``h`` is overwritten and returned)."""
    h ^= h >> np.uint64(30)
    h *= _C2
    h ^= h >> np.uint64(27)
    h *= _C3
    h ^= h >> np.uint64(31)
    return h


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (signature, band): equal keys <=> equal band values
    (up to 64-bit collisions), and keys of different bands never equal.

    Args:
        signatures: (n, num_perm) uint32.
    Returns:
        (n, bands) uint64.
    """
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].reshape(n, bands, rows)
    with np.errstate(over="ignore"):
        h = np.empty((n, bands), dtype=np.uint64)
        h[:] = np.arange(1, bands + 1, dtype=np.uint64) * _C1
        for j in range(rows):
            h ^= sig[:, :, j]
            _mix(h)
            h += np.uint64(j + 1) * _C1
    return _mix(h)


def _pairs_of_runs(owners: np.ndarray, run_starts: np.ndarray, run_sizes: np.ndarray,
                   max_bucket: int) -> np.ndarray:
    """All owner pairs within each run (runs of distinct owners)."""
    chunks: list[np.ndarray] = [np.zeros((0, 2), dtype=np.int64)]
    for size in unique(run_sizes).tolist():
        starts = run_starts[run_sizes == size]
        if size <= max_bucket:
            iu, ju = np.triu_indices(size, 1)
            idx = starts[:, None] + np.arange(size)[None, :]
            chunks.append(np.stack([owners[idx[:, iu]].ravel(),
                                    owners[idx[:, ju]].ravel()], axis=1))
        else:
            # chain (each to the next) and star (each to the first): connected,
            # linear in the bucket size
            for s in starts.tolist():
                members = owners[s : s + size]
                chain = np.stack([members[:-1], members[1:]], axis=1)
                star = np.stack([np.full(size - 1, members[0]), members[1:]], axis=1)
                chunks.append(chain)
                chunks.append(star)
    return np.concatenate(chunks)


def _repeated(flat_keys: np.ndarray) -> np.ndarray:
    """Indices (increasing) of a superset of the keys that occur more than once.

    One plain sort of the keys finds the repeated values; a bit table on their
    low bits then picks their positions (plus a few that merely share the low
    bits), so that the argsort below only sees a fraction of all keys.
    """
    s = np.sort(flat_keys)
    repeated = s[1:][s[1:] == s[:-1]]
    if len(repeated) == 0:
        return np.zeros(0, dtype=np.int64)
    bits = int(min(26, max(16, int(np.ceil(np.log2(16 * len(repeated)))))))
    mask = np.uint64((1 << bits) - 1)
    table = np.zeros(1 << bits, dtype=bool)
    table[(repeated & mask).astype(np.intp)] = True
    return np.flatnonzero(table[(flat_keys & mask).astype(np.intp)])


#: Band keys handled at a time by :func:`candidate_pairs`.
_BAND_ENTRIES = 4_000_000


def candidate_pairs(keys: np.ndarray | Sequence[np.ndarray], owners: np.ndarray,
                    max_bucket: int = 50) -> np.ndarray:
    """Pairs of owners (articles) whose passages share a band bucket.

    Args:
        keys: (n_passages, bands) uint64 band keys, or the articles' own
            (n_windows, bands) arrays in order (gathered a few bands at a time:
            no copy of all the keys at once).
        owners: (n_passages,) article index of each passage, non-decreasing.
        max_bucket: see :class:`LSHParams`.
    Returns:
        (m, 2) int64 array of article pairs ``i < j``, sorted, unique.
    """
    blocks = [keys] if isinstance(keys, np.ndarray) else [k for k in keys if len(k)]
    if not blocks or blocks[0].size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    bands = blocks[0].shape[1]
    # keys of different bands never equal: a few bands at a time bounds the memory
    step = max(1, _BAND_ENTRIES // max(1, len(owners)))
    parts = [_band_pairs(np.concatenate([b[:, lo:lo + step] for b in blocks]), owners,
                         max_bucket)
             for lo in range(0, bands, step)]
    pairs = np.concatenate(parts)
    if len(pairs) == 0:
        return pairs
    # each pair once, as (smaller, larger), without self pairs
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return unique_pairs(np.stack([lo[lo != hi], hi[lo != hi]], axis=1))


def _band_pairs(keys: np.ndarray, owners: np.ndarray, max_bucket: int) -> np.ndarray:
    """Owner pairs (not unique) sharing a bucket of the given bands."""
    flat_keys = np.ascontiguousarray(keys).ravel()
    # keys seen once make no pair: drop (most of) them before the argsort
    sub = _repeated(flat_keys)
    flat_keys = flat_keys[sub]
    flat_owner = owners.astype(np.int64)[sub // keys.shape[1]]
    # owners are non-decreasing along the flat array, so a stable sort by key
    # leaves the owners of each key in order
    order = np.argsort(flat_keys, kind="stable")
    k, o = flat_keys[order], flat_owner[order]
    # one entry per (key, owner)
    keep = np.ones(len(k), dtype=bool)
    keep[1:] = (k[1:] != k[:-1]) | (o[1:] != o[:-1])
    k, o = k[keep], o[keep]
    starts, run_sizes = runs(k)
    multi = run_sizes >= 2
    return _pairs_of_runs(o, starts[multi], run_sizes[multi], max_bucket)
