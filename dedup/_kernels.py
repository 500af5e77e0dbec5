"""Compiled loops (numba) for the steps where numpy or scipy would make many
small calls or large intermediates: alignment (seeding, grouping
the seeds, the checks of reuse, fitting passages to the shared words), the
Dice screen of candidate pairs, window signatures, keyword pair codes,
sparse row dot products and article neighbours.

Seeding joins two texts on the terms they share: every sentence of one meets
every sentence of the other that holds a shared term, once per term. Done with
numpy, that join is a dozen array calls per pair of texts, each over a few
thousand entries, and the pair's arrays are built, sorted and counted several
times; a plain loop compiled by numba visits each entry pair once, in the same
order, so it gives the same numbers bit for bit (every sum is taken in the order
the numpy version took it: terms ascending within a sentence pair). The other
loops hold to the same rule: each gives what the numpy or scipy code it
replaced gave, to the last bit (tests compare them).

Imported on first use (:func:`dedup.align.load_kernels`), so that commands
that never align do not pay numba's import. The compiled code is cached on
disk (``cache=True``), and a forked worker inherits what its parent loaded.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def seeds(a_terms: np.ndarray, a_indptr: np.ndarray, a_term_of: np.ndarray, a_term_df: np.ndarray,
          a_log_tf: np.ndarray, b_terms: np.ndarray, b_indptr: np.ndarray, b_term_of: np.ndarray,
          b_term_df: np.ndarray, b_log_tf: np.ndarray, b_term_ptr: np.ndarray,
          b_rows_by_term: np.ndarray, b_by_term: np.ndarray, isf: np.ndarray, dice: float,
          cosine: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                  np.ndarray]:
    """Seed sentence pairs of a and b (see :class:`dedup.align._Weights`).

    Returns (i, j, cosine) of the pairs over both bars, ordered by (i, j); for
    each term of a its index in b's terms (or -1); and both sides' unit weights
    per entry (empty when no sentence pair passes the Dice bar: then no pair is
    a seed and the weights are never needed).
    """
    a_to_b = shared_terms(a_terms, b_terms)
    none = np.zeros(0, np.int64)
    hit = dice_rows(a_indptr, a_term_of, a_to_b, b_indptr, b_term_ptr, b_rows_by_term, dice)
    rows = hit.nonzero()[0]
    if len(rows) == 0:
        return none, none, np.zeros(0), a_to_b, np.zeros(0), np.zeros(0)
    # sentence frequency over both texts, per term of each side
    df_a = a_term_df.copy()
    df_b = b_term_df.copy()
    for t in range(len(a_to_b)):
        if a_to_b[t] >= 0:
            df_a[t] += b_term_df[a_to_b[t]]
            df_b[a_to_b[t]] = df_a[t]
    w_a = unit_weights(a_indptr, a_term_of, a_log_tf, df_a, isf)
    w_b = unit_weights(b_indptr, b_term_of, b_log_tf, df_b, isf)
    ii, jj, cos = seed_pairs(rows, a_indptr, a_term_of, w_a, a_to_b, b_indptr, b_term_ptr,
                             b_rows_by_term, b_by_term, w_b, dice, cosine)
    return ii, jj, cos, a_to_b, w_a, w_b


@njit(cache=True, nogil=True)
def shared_terms(a_terms: np.ndarray, b_terms: np.ndarray) -> np.ndarray:
    """For each term of a (sorted, distinct), its index in b's terms, or -1."""
    a_to_b = np.full(len(a_terms), -1, np.int64)
    x = y = 0
    while x < len(a_terms) and y < len(b_terms):
        if a_terms[x] < b_terms[y]:
            x += 1
        elif a_terms[x] > b_terms[y]:
            y += 1
        else:
            a_to_b[x] = y
            x += 1
            y += 1
    return a_to_b


@njit(cache=True, nogil=True)
def unit_weights(indptr: np.ndarray, term_of: np.ndarray, log_tf: np.ndarray,
                 df: np.ndarray, isf: np.ndarray) -> np.ndarray:
    """Weight (1 + log tf) * isf of each entry, each sentence scaled to unit length.

    ``df`` is each term's sentence frequency over both texts, ``isf`` the inverse
    sentence frequency of each frequency. Both factors are at least 1, so a
    sentence with an entry has a positive norm.
    """
    w = np.empty(len(log_tf))
    for s in range(len(indptr) - 1):
        total = 0.0
        for e in range(indptr[s], indptr[s + 1]):
            w[e] = log_tf[e] * isf[df[term_of[e]]]
            total += w[e] * w[e]
        norm = math.sqrt(total)
        for e in range(indptr[s], indptr[s + 1]):
            w[e] = w[e] / norm
    return w


@njit(cache=True, nogil=True)
def join_row(i: int, a_indptr: np.ndarray, a_term_of: np.ndarray, a_to_b: np.ndarray,
             b_term_ptr: np.ndarray, b_rows_by_term: np.ndarray, b_by_term: np.ndarray,
             w_a: np.ndarray | None, w_b: np.ndarray, count: np.ndarray, dot: np.ndarray,
             touched: np.ndarray) -> int:
    """Sentence i of a against every sentence of b holding one of its terms:
    adds to ``count[j]`` the terms they share and, when weights are given
    (``w_a`` not None: numba compiles the two cases apart), to ``dot[j]`` the
    products of their weights, term by term in a's order. The sentences of b
    met are listed in ``touched``; returns how many."""
    n_touched = 0
    for e in range(a_indptr[i], a_indptr[i + 1]):
        t = a_to_b[a_term_of[e]]
        if t < 0:
            continue
        for p in range(b_term_ptr[t], b_term_ptr[t + 1]):
            j = b_rows_by_term[p]
            if count[j] == 0:
                touched[n_touched] = j
                n_touched += 1
            count[j] += 1
            if w_a is not None:
                dot[j] += w_a[e] * w_b[b_by_term[p]]
    return n_touched


@njit(cache=True, nogil=True)
def dice_passes(shared: int, size_a: int, size_b: int, dice: float) -> bool:
    """Whether two sentences of ``size_a`` and ``size_b`` distinct terms, ``shared``
    of them in both, have a Dice coefficient over ``dice`` (the one formula of
    :func:`dice_rows`, :func:`seed_pairs` and :func:`dice_screen`, which must agree)."""
    return 2.0 * shared / (size_a + size_b) > dice


@njit(cache=True, nogil=True)
def dice_rows(a_indptr: np.ndarray, a_term_of: np.ndarray, a_to_b: np.ndarray,
              b_indptr: np.ndarray, b_term_ptr: np.ndarray, b_rows_by_term: np.ndarray,
              dice: float) -> np.ndarray:
    """Whether each sentence of a has a sentence of b whose Dice coefficient
    over their term sets exceeds ``dice``."""
    nb = len(b_indptr) - 1
    count = np.zeros(nb, np.int64)
    touched = np.empty(nb, np.int64)
    none = np.zeros(0)
    hit = np.zeros(len(a_indptr) - 1, np.bool_)
    for i in range(len(a_indptr) - 1):
        n_touched = join_row(i, a_indptr, a_term_of, a_to_b, b_term_ptr, b_rows_by_term,
                             b_rows_by_term, None, none, count, none, touched)
        size_i = a_indptr[i + 1] - a_indptr[i]
        for k in range(n_touched):
            j = touched[k]
            if dice_passes(count[j], size_i, b_indptr[j + 1] - b_indptr[j], dice):
                hit[i] = True
            count[j] = 0
    return hit


@njit(cache=True, nogil=True)
def seed_pairs(rows: np.ndarray, a_indptr: np.ndarray, a_term_of: np.ndarray, w_a: np.ndarray,
               a_to_b: np.ndarray, b_indptr: np.ndarray, b_term_ptr: np.ndarray,
               b_rows_by_term: np.ndarray, b_by_term: np.ndarray, w_b: np.ndarray,
               dice: float, cosine: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentence pairs (i in ``rows``, any j) over both bars, ordered by (i, j):
    Dice coefficient over ``dice`` and tf-isf cosine over ``cosine``."""
    nb = len(b_indptr) - 1
    count = np.zeros(nb, np.int64)
    dot = np.zeros(nb)
    touched = np.empty(nb, np.int64)
    cap = 64
    out_i = np.empty(cap, np.int64)
    out_j = np.empty(cap, np.int64)
    out_c = np.empty(cap, np.float64)
    m = 0
    for i in rows:
        n_touched = join_row(i, a_indptr, a_term_of, a_to_b, b_term_ptr, b_rows_by_term,
                             b_by_term, w_a, w_b, count, dot, touched)
        size_i = a_indptr[i + 1] - a_indptr[i]
        if m + n_touched > cap:
            while m + n_touched > cap:
                cap *= 2
            out_i = _grown(out_i, m, cap)
            out_j = _grown(out_j, m, cap)
            out_c = _grown(out_c, m, cap)
        for j in _sorted(touched[:n_touched]):
            if dice_passes(count[j], size_i, b_indptr[j + 1] - b_indptr[j], dice) \
                    and dot[j] > cosine:
                out_i[m] = i
                out_j[m] = j
                out_c[m] = dot[j]
                m += 1
            count[j] = 0
            dot[j] = 0.0
    return _prefix(out_i, m), _prefix(out_j, m), _prefix(out_c, m)


@njit(cache=True, nogil=True)
def dice_screen(row_ptr: np.ndarray, cols: np.ndarray, art_rows: np.ndarray, xs: np.ndarray,
                ys: np.ndarray, dice: float, head: np.ndarray) -> np.ndarray:
    """Whether each pair of texts ``(xs[k], ys[k])`` has a sentence pair whose
    Dice coefficient over their term sets exceeds ``dice``: the first test of
    seeding (:func:`dice_rows`), for many pairs in one call. A pair without one
    has no seeds, and most candidate pairs have none.

    The texts are sentences in CSR layout, laid end to end: text x has
    sentences ``art_rows[x]:art_rows[x + 1]``, sentence s the terms
    ``cols[row_ptr[s]:row_ptr[s + 1]]`` (distinct). ``head`` is scratch of one
    entry per term, all -1 (and so again on return). The terms of the second
    text are chained by term through ``head`` (no sort, no term index), and
    each sentence of the first walks the chains of its terms; the counts, and
    so the answer, are those of :func:`dice_rows`.
    """
    n_most = 1  # the most entries and sentences of any second text
    for y in ys:
        n_most = max(n_most, row_ptr[art_rows[y + 1]] - row_ptr[art_rows[y]],
                     art_rows[y + 1] - art_rows[y])
    nxt = np.empty(n_most, np.int32)
    sent_of = np.empty(n_most, np.int32)
    count = np.zeros(n_most, np.int64)
    touched = np.empty(n_most, np.int64)
    out = np.zeros(len(xs), np.bool_)
    for k in range(len(xs)):
        x, y = xs[k], ys[k]
        b0, b1 = art_rows[y], art_rows[y + 1]
        eb0 = row_ptr[b0]
        for s in range(b0, b1):  # chain b's entries by term
            for e in range(row_ptr[s], row_ptr[s + 1]):
                t = cols[e]
                nxt[e - eb0] = head[t]
                head[t] = e - eb0
                sent_of[e - eb0] = s - b0
        hit = False
        for i in range(art_rows[x], art_rows[x + 1]):
            size_i = row_ptr[i + 1] - row_ptr[i]
            n_touched = 0
            for e in range(row_ptr[i], row_ptr[i + 1]):
                p = head[cols[e]]
                while p >= 0:
                    j = sent_of[p]
                    if count[j] == 0:
                        touched[n_touched] = j
                        n_touched += 1
                    count[j] += 1
                    p = nxt[p]
            for q in range(n_touched):
                j = touched[q]
                if dice_passes(count[j], size_i, row_ptr[b0 + j + 1] - row_ptr[b0 + j], dice):
                    hit = True
                count[j] = 0
            if hit:
                break
        out[k] = hit
        for e in range(row_ptr[b0], row_ptr[b1]):  # leave head as it was
            head[cols[e]] = -1
    return out


#: Multiplier of the Fibonacci hashing of keyword pairs.
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def keyword_pair_codes(indptr: np.ndarray, terms: np.ndarray, n_features: int,
                       shift: int) -> np.ndarray:
    """For every two entries of one row (keywords t < u of a window, in the
    row's sorted order), the code ``mix(t * n_features + u) << shift | row``
    of :func:`dedup.tfidf.candidate_window_pairs`, ``mix(v)`` being the top
    ``63 - shift`` bits of ``v * _FIBONACCI`` (mod 2**64); row by row (the
    caller sorts them)."""
    total = 0
    for r in range(len(indptr) - 1):
        k = indptr[r + 1] - indptr[r]
        total += k * (k - 1) // 2
    out = np.empty(total, np.int64)
    down = np.uint64(64 - (63 - shift))
    up = np.uint64(shift)
    width = np.uint64(n_features)
    pos = 0
    for r in range(len(indptr) - 1):
        row = np.uint64(r)
        for p in range(indptr[r], indptr[r + 1]):
            first = np.uint64(terms[p]) * width
            for q in range(p + 1, indptr[r + 1]):
                mixed = ((first + np.uint64(terms[q])) * _FIBONACCI) >> down
                out[pos] = np.int64((mixed << up) | row)
                pos += 1
    return out


@njit(cache=True, nogil=True)
def _run_end(groups: np.ndarray, i: int) -> int:
    """One past the last entry of the run of ``groups[i]`` (``groups`` sorted)."""
    j = i + 1
    while j < len(groups) and groups[j] == groups[i]:
        j += 1
    return j


@njit(cache=True, nogil=True)
def group_pair_codes(groups: np.ndarray, members: np.ndarray, owner: np.ndarray, n: int,
                     weights: np.ndarray, min_product: float) -> np.ndarray:
    """Codes ``min(a, b) * n + max(a, b)`` of every two members ``a``, ``b`` of
    one run of equal ``groups`` (sorted) whose owners differ and, when
    ``weights`` is not empty, whose two weights multiply to ``min_product`` or
    more; unsorted, with repeats (see :func:`dedup.tfidf.candidate_window_pairs`)."""
    total = 0
    i = 0
    while i < len(groups):
        j = _run_end(groups, i)
        total += (j - i) * (j - i - 1) // 2
        i = j
    out = np.empty(total, np.int64)
    weighted = len(weights) > 0
    pos = 0
    i = 0
    while i < len(groups):
        j = _run_end(groups, i)
        for p in range(i, j):
            a = members[p]
            for q in range(p + 1, j):
                b = members[q]
                if owner[a] == owner[b]:
                    continue
                if weighted and weights[p] * weights[q] < min_product:
                    continue
                out[pos] = min(a, b) * n + max(a, b)
                pos += 1
        i = j
    return out[:pos]


@njit(cache=True, nogil=True)
def window_minhash(values: np.ndarray, cuts: np.ndarray, first: np.ndarray, last: np.ndarray,
                   a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash signatures of windows of shingles (see
    :func:`dedup.sketch.batch_signatures`): ``values`` are the shingles' 32-bit
    values after ``fmix32``, cut into blocks at ``cuts`` (block k is
    ``values[cuts[k]:cuts[k + 1]]``, the last to the end); window w spans
    blocks ``first[w]`` to ``last[w]``. A shingle's value under permutation p
    is ``a[p] * v + b[p]`` mod 2**32, as numpy's uint32 arithmetic gives it, so
    the signatures are numpy's bit for bit; here each shingle is read once and
    its 128 values never leave the registers."""
    n_blocks = len(cuts)
    n_perm = len(a)
    block = np.empty((n_blocks, n_perm), np.uint32)
    for k in range(n_blocks):
        hi = cuts[k + 1] if k + 1 < n_blocks else len(values)
        acc = block[k]
        acc[:] = np.uint32(0xFFFFFFFF)
        for s in range(cuts[k], hi):
            v = values[s]
            for p in range(n_perm):
                x = np.uint32(a[p] * v + b[p])
                if x < acc[p]:
                    acc[p] = x
    out = np.empty((len(first), n_perm), np.uint32)
    for w in range(len(first)):
        row = out[w]
        row[:] = block[first[w]]
        for k in range(first[w] + 1, last[w] + 1):
            for p in range(n_perm):
                if block[k, p] < row[p]:
                    row[p] = block[k, p]
    return out


@njit(cache=True, nogil=True)
def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """How many values two sorted arrays of distinct values share."""
    i = j = n = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            n += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return n


@njit(cache=True, nogil=True)
def _pairwise_block(p: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise sum of ``p[lo:lo + n]`` for 1 <= n <= 128: below 8
    values one after the other, else in eight interleaved sums."""
    if n < 8:
        res = p[lo]
        for i in range(lo + 1, lo + n):
            res += p[i]
        return res
    r0, r1, r2, r3 = p[lo], p[lo + 1], p[lo + 2], p[lo + 3]
    r4, r5, r6, r7 = p[lo + 4], p[lo + 5], p[lo + 6], p[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += p[lo + i]
        r1 += p[lo + i + 1]
        r2 += p[lo + i + 2]
        r3 += p[lo + i + 3]
        r4 += p[lo + i + 4]
        r5 += p[lo + i + 5]
        r6 += p[lo + i + 6]
        r7 += p[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += p[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def _pairwise_sum(p: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``p[lo:lo + n]`` (``n`` >= 1), in the same
    order and precision as its add reductions take it: up to 128 values by
    :func:`_pairwise_block`, beyond that the sum of the two halves' (the first
    a multiple of 8), each found the same way. (Without recursion, which
    numba's cache does not take: the halves on a stack.)"""
    if n <= 128:
        return _pairwise_block(p, lo, n)
    todo_lo = np.empty(128, np.int64)  # (lo, n) still to sum; n < 0: add the last two sums
    todo_n = np.empty(128, np.int64)
    sums = np.empty(128, p.dtype)
    todo_lo[0], todo_n[0] = lo, n
    t, s = 1, 0
    while t:
        t -= 1
        at, size = todo_lo[t], todo_n[t]
        if size < 0:
            s -= 1
            sums[s - 1] = sums[s - 1] + sums[s]
        elif size <= 128:
            sums[s] = _pairwise_block(p, at, size)
            s += 1
        else:
            half = size // 2
            half -= half % 8
            todo_lo[t], todo_n[t] = 0, -1  # then add the halves' sums
            todo_lo[t + 1], todo_n[t + 1] = at + half, size - half  # the second half
            todo_lo[t + 2], todo_n[t + 2] = at, half  # the first half, first
            t += 3
    return sums[0]


@njit(cache=True, nogil=True)
def row_dots(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, a: np.ndarray,
             b: np.ndarray) -> np.ndarray:
    """Dot products of rows ``a[k]`` and ``b[k]`` of a CSR matrix with sorted,
    distinct column indices, in its dtype: bit for bit what scipy gives for
    ``m[a].multiply(m[b]).sum(axis=1)`` (the nonzero products of the shared
    columns in column order, summed by ``np.add.reduceat``: the first product
    plus the pairwise sum of the others), without gathering the rows."""
    out = np.zeros(len(a), data.dtype)
    most = 1
    for r in range(len(indptr) - 1):
        most = max(most, indptr[r + 1] - indptr[r])
    buf = np.empty(most, data.dtype)
    for k in range(len(a)):
        p, p_end = indptr[a[k]], indptr[a[k] + 1]
        q, q_end = indptr[b[k]], indptr[b[k] + 1]
        m = 0
        while p < p_end and q < q_end:
            if indices[p] == indices[q]:
                product = data[p] * data[q]
                if product != 0:  # scipy's product keeps no zeros
                    buf[m] = product
                    m += 1
                p += 1
                q += 1
            elif indices[p] < indices[q]:
                p += 1
            else:
                q += 1
        if m == 1:
            out[k] = buf[0]
        elif m > 1:
            out[k] = buf[0] + _pairwise_sum(buf, 1, m - 1)
    return out


@njit(cache=True, nogil=True)
def _row_products(r: int, a_ptr: np.ndarray, a_idx: np.ndarray, a_val: np.ndarray,
                  b_ptr: np.ndarray, b_idx: np.ndarray, b_val: np.ndarray, min_value: float,
                  sums: np.ndarray, seen: np.ndarray, touched: np.ndarray,
                  out_col: np.ndarray, out_val: np.ndarray, diag: int) -> int:
    """Row ``r`` of the product of CSR matrices a and b, as scipy's ``csr_matmat``
    makes it (each column's sum taken in the same order and dtype, the columns
    in its order: the reverse of their first touch), keeping the nonzero
    entries other than column ``diag`` that are not below ``min_value``: written
    to ``out_col``/``out_val``, their count returned. ``sums`` (zeros) and
    ``seen`` (zeros), one entry per column of b, are left as they came;
    ``touched`` is scratch of as many entries."""
    length = 0
    for jj in range(a_ptr[r], a_ptr[r + 1]):
        j = a_idx[jj]
        v = a_val[jj]
        for kk in range(b_ptr[j], b_ptr[j + 1]):
            k = b_idx[kk]
            sums[k] += v * b_val[kk]
            # each column once, at its first touch (no branch to mispredict)
            touched[length] = k
            length += 1 - int(seen[k])
            seen[k] = 1
    c = 0
    for t in range(length - 1, -1, -1):
        k = touched[t]
        s = sums[k]
        if s != 0 and k != diag and not (s < min_value):
            out_col[c] = k
            out_val[c] = s
            c += 1
        seen[k] = 0
        sums[k] = 0
    return c


@njit(cache=True, nogil=True)
def top_k_rows(a_ptr: np.ndarray, a_idx: np.ndarray, a_val: np.ndarray, b_ptr: np.ndarray,
               b_idx: np.ndarray, b_val: np.ndarray, lo: int, hi: int, n_cols: int,
               min_value: float, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of each row's ``top_k`` largest entries of ``(a @ b)[lo:hi]``
    at ``min_value`` (in their dtype) or more, the diagonal left out: the pairs of
    :func:`dedup.tfidf.top_k_block`, as its scipy form found them (the same
    products, ranked by the same keys, ties in the product's order), without
    building the product's hundreds of entries a row."""
    sums = np.zeros(n_cols, a_val.dtype)
    seen = np.zeros(n_cols, np.uint8)
    touched = np.empty(n_cols, np.int64)
    row_col = np.empty(n_cols, np.int64)
    row_val = np.empty(n_cols, a_val.dtype)
    cap = 1024
    c_row = np.empty(cap, np.int64)
    c_col = np.empty(cap, np.int64)
    c_val = np.empty(cap, a_val.dtype)
    m = 0
    for r in range(lo, hi):
        c = _row_products(r, a_ptr, a_idx, a_val, b_ptr, b_idx, b_val, min_value, sums, seen,
                          touched, row_col, row_val, r)
        if m + c > cap:
            while m + c > cap:
                cap *= 2
            c_row = _grown(c_row, m, cap)
            c_col = _grown(c_col, m, cap)
            c_val = _grown(c_val, m, cap)
        for q in range(c):
            c_row[m + q] = r
            c_col[m + q] = row_col[q]
            c_val[m + q] = row_val[q]
        m += c
    out_r = np.empty(m, np.int64)
    out_c = np.empty(m, np.int64)
    if m == 0 or top_k <= 0:
        return out_r[:0], out_c[:0]
    # tfidf._rank_in_rows's key: the row plus 1 - value / (1.000001 x the block's
    # largest), the division in the values' dtype; a stable order by key
    top = c_val[0]
    for e in range(m):
        top = max(top, c_val[e])
    scale = np.empty(1, c_val.dtype)
    scale[0] = np.float64(top) * (1.0 + 1e-6)
    # the negated keys ranked by _offer: the smallest key first, equal keys in
    # entry order (g only grows), as a stable sort by key would give them
    neg_key = np.empty(top_k, np.float64)
    best = np.empty(top_k, np.int64)
    n_out = 0
    e = 0
    while e < m:
        r = c_row[e]
        f = e
        while f < m and c_row[f] == r:
            f += 1
        kept = 0
        for g in range(e, f):
            key = np.float64(r) + (1.0 - np.float64(c_val[g] / scale[0]))
            kept = _offer(neg_key, best, kept, top_k, -key, g)
        for q in range(kept):
            out_r[n_out] = r
            out_c[n_out] = c_col[best[q]]
            n_out += 1
        e = f
    return out_r[:n_out], out_c[:n_out]


@njit(cache=True, nogil=True)
def _offer(best_val: np.ndarray, best_tgt: np.ndarray, kept: int, top_k: int, v: float,
           t: int) -> int:
    """Put (value v, target t) among a row's best so far (value descending,
    target ascending), ``kept`` of them; the new count."""
    if kept == top_k and not (v > best_val[kept - 1]
                              or (v == best_val[kept - 1] and t < best_tgt[kept - 1])):
        return kept
    pos = kept if kept < top_k else top_k - 1
    while pos > 0 and (v > best_val[pos - 1] or (v == best_val[pos - 1] and t < best_tgt[pos - 1])):
        best_val[pos] = best_val[pos - 1]
        best_tgt[pos] = best_tgt[pos - 1]
        pos -= 1
    best_val[pos] = v
    best_tgt[pos] = t
    return min(kept + 1, top_k)


@njit(cache=True, nogil=True)
def top_k_old_new(a_ptr: np.ndarray, a_idx: np.ndarray, a_val: np.ndarray,
                  o_ptr: np.ndarray, o_idx: np.ndarray, o_val: np.ndarray, n_old: int,
                  n_ptr: np.ndarray, n_idx: np.ndarray, n_val: np.ndarray, owner: np.ndarray,
                  min_value: float, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``top_k`` best targets among the entries of ``a @ o`` (targets
    0..n_old-1) and of ``a @ n`` (targets n_old + column; only columns whose
    ``owner`` differs from the row's) at ``min_value`` or more, by value
    (descending), then target (ascending); the index's nearest stored and new
    passages of each new one (:func:`dedup.index.ops._passage_tfidf`). Each
    product entry is summed as scipy's ``csr_matmat`` sums it; the rows (a's
    rows, in order) and targets are returned, without building either product."""
    n_rows = len(a_ptr) - 1
    n_new = len(owner)
    o_sums = np.zeros(n_old, a_val.dtype)
    o_seen = np.zeros(n_old, np.uint8)
    o_touched = np.empty(n_old, np.int64)
    o_col = np.empty(n_old, np.int64)
    o_vals = np.empty(n_old, a_val.dtype)
    n_sums = np.zeros(n_new, a_val.dtype)
    n_seen = np.zeros(n_new, np.uint8)
    n_touched = np.empty(n_new, np.int64)
    n_col = np.empty(n_new, np.int64)
    n_vals = np.empty(n_new, a_val.dtype)
    best_val = np.empty(max(top_k, 1), a_val.dtype)
    best_tgt = np.empty(max(top_k, 1), np.int64)
    out_r = np.empty(n_rows * max(top_k, 0), np.int64)
    out_t = np.empty(n_rows * max(top_k, 0), np.int64)
    m = 0
    if top_k <= 0:
        return out_r, out_t
    for r in range(n_rows):
        kept = 0
        c = _row_products(r, a_ptr, a_idx, a_val, o_ptr, o_idx, o_val, min_value, o_sums,
                          o_seen, o_touched, o_col, o_vals, -1)
        for q in range(c):
            kept = _offer(best_val, best_tgt, kept, top_k, o_vals[q], o_col[q])
        c = _row_products(r, a_ptr, a_idx, a_val, n_ptr, n_idx, n_val, min_value, n_sums,
                          n_seen, n_touched, n_col, n_vals, -1)
        for q in range(c):
            k = n_col[q]
            if owner[k] != owner[r]:
                kept = _offer(best_val, best_tgt, kept, top_k, n_vals[q], n_old + k)
        for q in range(kept):
            out_r[m] = r
            out_t[m] = best_tgt[q]
            m += 1
    return out_r[:m], out_t[:m]


@njit(cache=True, nogil=True)
def column_max(indices: np.ndarray, data: np.ndarray, n_cols: int) -> np.ndarray:
    """The largest value (float64; 0 where none is larger) of each column of a
    sparse matrix's entries: ``np.maximum.at(zeros, indices, data)``, in one pass."""
    out = np.zeros(n_cols, np.float64)
    for e in range(len(indices)):
        v = np.float64(data[e])
        if v > out[indices[e]]:
            out[indices[e]] = v
    return out


@njit(cache=True, nogil=True)
def top_neighbours(a: np.ndarray, b: np.ndarray, vals: np.ndarray, n_rows: int,
                   top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``top_k`` neighbours among the pairs ``(a[e], b[e])`` with value
    ``vals[e]`` (a pair is a neighbour of both its rows), as
    :func:`dedup.tfidf.top_passage_pairs` ranks them: by ``_rank_in_rows``'s key
    (the row plus 1 - value / (1.000001 x the largest value)), ties to the lower
    column. Rows and columns of the chosen, row by row."""
    m = len(a)
    top = 0.0
    for e in range(m):
        top = max(top, vals[e])
    scale = top * (1.0 + 1e-6)
    start = np.zeros(n_rows + 1, np.int64)
    for e in range(m):
        start[a[e] + 1] += 1
        start[b[e] + 1] += 1
    for r in range(n_rows):
        start[r + 1] += start[r]
    fill = start[:-1].copy()
    col = np.empty(2 * m, np.int64)
    key = np.empty(2 * m, np.float64)
    for e in range(m):
        scaled = vals[e] / scale if top > 0 else vals[e]
        for row, other in ((a[e], b[e]), (b[e], a[e])):
            col[fill[row]] = other
            key[fill[row]] = np.float64(row) + (1.0 - scaled)
            fill[row] += 1
    out_r = np.empty(min(2 * m, n_rows * max(top_k, 0)), np.int64)
    out_c = np.empty(len(out_r), np.int64)
    best = np.empty(max(top_k, 1), np.int64)
    n_out = 0
    for r in range(n_rows):
        kept = 0
        for g in range(start[r], start[r + 1]):
            if top_k <= 0:
                break
            # the place of entry g among those kept, by (key, column)
            pos = kept
            while pos > 0 and (key[g] < key[best[pos - 1]] or (
                    key[g] == key[best[pos - 1]] and col[g] < col[best[pos - 1]])):
                pos -= 1
            if pos >= top_k:
                continue
            for q in range(min(kept, top_k - 1), pos, -1):
                best[q] = best[q - 1]
            best[pos] = g
            kept = min(kept + 1, top_k)
        for q in range(kept):
            out_r[n_out] = r
            out_c[n_out] = col[best[q]]
            n_out += 1
    return out_r[:n_out], out_c[:n_out]


# The loops below sort, copy and grow arrays with plain loops rather than
# ``np.sort``, ``np.argsort``, ``.copy()`` or slice assignment: numba compiles
# those general implementations again for each kernel that uses them, and on
# the first run after installing that took seconds a kernel.


#: Runs the merge sorts below first sort by insertion.
_RUN = 16


@njit(cache=True, nogil=True)
def _sorted(values: np.ndarray) -> np.ndarray:
    """A sorted copy of ``values`` (through :func:`_argsort_stable`)."""
    order = _argsort_stable(values)
    out = np.empty_like(values)
    for k in range(len(values)):
        out[k] = values[order[k]]
    return out


@njit(cache=True, nogil=True)
def _argsort_stable(values: np.ndarray) -> np.ndarray:
    """The indices that sort ``values``, equal values in index order (what
    ``np.argsort(kind="stable")`` gives): runs of :data:`_RUN` sorted by
    insertion, then merged bottom up."""
    n = len(values)
    src = np.empty(n, np.int64)
    for lo in range(0, n, _RUN):
        for k in range(lo, min(lo + _RUN, n)):
            x = values[k]
            i = k
            while i > lo and x < values[src[i - 1]]:
                src[i] = src[i - 1]
                i -= 1
            src[i] = k
    dst = np.empty(n, np.int64)
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if values[src[j]] < values[src[i]]:
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    return src


@njit(cache=True, nogil=True)
def _prefix(values: np.ndarray, n: int) -> np.ndarray:
    """A copy of ``values[:n]``."""
    return _grown(values, n, n)


@njit(cache=True, nogil=True)
def _grown(values: np.ndarray, n: int, size: int) -> np.ndarray:
    """An array of ``size`` whose first ``n`` values are ``values``'."""
    out = np.empty(size, values.dtype)
    for k in range(n):
        out[k] = values[k]
    return out


@njit(cache=True, nogil=True)
def _seed_groups(si: np.ndarray, sj: np.ndarray, members: np.ndarray, max_gap: int,
                 by_rank: tuple[np.ndarray, np.ndarray],
                 rank: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Seeds ``members`` grouped alternately by their positions in a and in b
    until stable (at most 20 rounds): within a group ordered by (i, j), a new
    group starts where i jumps forward by more than ``max_gap + 1`` or j back
    by more; then the same with the sides' roles swapped. ``rank[k]`` is each
    seed's rank by (i, j) for k = 0, by (j, i) for k = 1, ``by_rank[k]`` its
    inverse. Returns the members, group after group, each in the order of the
    last pass, and where each group starts (and one past the end)."""
    n = len(members)
    cur = _prefix(members, n)
    bounds = np.zeros(n + 1, np.int64)
    bounds[1] = n
    n_groups = 1
    nxt = np.empty(n, np.int64)
    nxt_bounds = np.zeros(n + 1, np.int64)
    limit = max_gap + 1
    for _ in range(20):
        changed = False
        for side in range(2):
            key, other = (si, sj) if side == 0 else (sj, si)
            order, place = by_rank[side], rank[side]
            pos = 0
            g_out = 0
            for g in range(n_groups):
                lo, hi = bounds[g], bounds[g + 1]
                if hi - lo == 1:  # a single seed stays whole
                    nxt[pos] = cur[lo]
                    pos += 1
                    g_out += 1
                    nxt_bounds[g_out] = pos
                    continue
                ranks = np.empty(hi - lo, np.int64)  # the group's seeds in rank order
                for q in range(lo, hi):
                    ranks[q - lo] = place[cur[q]]
                ranks = _sorted(ranks)
                prev = order[ranks[0]]
                for r in ranks:
                    s = order[r]
                    if s != prev and (key[s] - key[prev] > limit
                                      or other[s] - other[prev] < -limit):
                        g_out += 1
                        nxt_bounds[g_out] = pos
                        changed = True
                    nxt[pos] = s
                    pos += 1
                    prev = s
                g_out += 1
                nxt_bounds[g_out] = pos
            cur, nxt = nxt, cur
            bounds, nxt_bounds = nxt_bounds, bounds
            n_groups = g_out
        if not changed:
            break
    return cur, _prefix(bounds, n_groups + 1)


@njit(cache=True, nogil=True)
def _range_vector(indptr: np.ndarray, term_of: np.ndarray, weights: np.ndarray, n_terms: int,
                  r0: int, r1: int) -> np.ndarray:
    """Summed weights of sentences r0..r1 (inclusive) per term, in entry order
    (``np.bincount``'s sums)."""
    v = np.zeros(n_terms)
    for e in range(indptr[r0], indptr[r1 + 1]):
        v[term_of[e]] += weights[e]
    return v


@njit(cache=True, nogil=True)
def fragments(si: np.ndarray, sj: np.ndarray, max_gap: int, a_starts: np.ndarray,
              a_ends: np.ndarray, b_starts: np.ndarray, b_ends: np.ndarray, min_seeds: int,
              min_chars: int, min_similarity: float, a_indptr: np.ndarray,
              a_term_of: np.ndarray, w_a: np.ndarray, n_terms_a: int, b_indptr: np.ndarray,
              b_term_of: np.ndarray, w_b: np.ndarray, n_terms_b: int, shared_a: np.ndarray,
              shared_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alignment's step 2 (:mod:`dedup.align`), the validated seed groups:
    seeds (ordered by (i, j)) grouped with ``max_gap`` by :func:`_seed_groups`;
    a group with too few seeds, or whose longer side is shorter than
    ``min_chars``, dropped; the others kept when the cosine of their summed
    sentence vectors reaches ``min_similarity``, else grouped again with a
    gap one smaller (while it is positive), last pushed first out.

    Returns ``(i0, i1, j0, j1, n_seeds)`` per fragment (int64, n x 5) and
    each one's similarity; the vectors' products are numpy's (BLAS) dot
    products, as the Python version took them.
    """
    n = len(si)
    rank_ab = np.arange(n)
    # the seeds by (j, i): counted into place by j (they come ordered by i)
    at = np.zeros(len(b_starts) + 1, np.int64)
    for s in range(n):
        at[sj[s] + 1] += 1
    for j in range(len(b_starts)):
        at[j + 1] += at[j]
    by_ba = np.empty(n, np.int64)
    rank_ba = np.empty(n, np.int64)
    for s in range(n):
        rank_ba[s] = at[sj[s]]
        by_ba[at[sj[s]]] = s
        at[sj[s]] += 1
    by_rank = (rank_ab, by_ba)
    rank = (rank_ab, rank_ba)
    out_i = np.empty((max(n, 1), 5), np.int64)
    out_s = np.empty(max(n, 1))
    n_out = 0
    # groups still to group again, last in first out: their seeds end to end
    # in ``queued`` (a seed is in one queued group at most, so n places do)
    queued = np.arange(n)
    q_lo = np.zeros(max(n, 1), np.int64)
    q_gap = np.zeros(max(n, 1), np.int64)
    q_gap[0] = max_gap
    n_queued = 1 if n else 0
    top = n
    while n_queued:
        n_queued -= 1
        gap = q_gap[n_queued]
        members = np.empty(top - q_lo[n_queued], np.int64)
        for q in range(len(members)):
            members[q] = queued[q_lo[n_queued] + q]
        top = q_lo[n_queued]
        flat, bounds = _seed_groups(si, sj, members, gap, by_rank, rank)
        for g in range(len(bounds) - 1):
            lo, hi = bounds[g], bounds[g + 1]
            i0 = i1 = si[flat[lo]]
            j0 = j1 = sj[flat[lo]]
            for q in range(lo + 1, hi):
                i0 = min(i0, si[flat[q]])
                i1 = max(i1, si[flat[q]])
                j0 = min(j0, sj[flat[q]])
                j1 = max(j1, sj[flat[q]])
            size = hi - lo
            if size < min_seeds or max(a_ends[i1] - a_starts[i0],
                                       b_ends[j1] - b_starts[j0]) < min_chars:
                continue
            va = _range_vector(a_indptr, a_term_of, w_a, n_terms_a, i0, i1)
            vb = _range_vector(b_indptr, b_term_of, w_b, n_terms_b, j0, j1)
            norm_a = math.sqrt(np.dot(va, va))
            norm_b = math.sqrt(np.dot(vb, vb))
            sim = 0.0
            if norm_a != 0 and norm_b != 0:
                sim = np.dot(va[shared_a], vb[shared_b]) / (norm_a * norm_b)
            if sim >= min_similarity:
                if n_out == len(out_s):  # regrouped seeds can give more
                    grown = np.empty((2 * n_out, 5), np.int64)
                    grown_s = np.empty(2 * n_out)
                    for q in range(n_out):
                        for c in range(5):
                            grown[q, c] = out_i[q, c]
                        grown_s[q] = out_s[q]
                    out_i, out_s = grown, grown_s
                out_i[n_out, 0] = i0
                out_i[n_out, 1] = i1
                out_i[n_out, 2] = j0
                out_i[n_out, 3] = j1
                out_i[n_out, 4] = size
                out_s[n_out] = sim
                n_out += 1
            elif gap > 0 and size > 1:
                q_lo[n_queued] = top
                q_gap[n_queued] = gap - 1
                for q in range(size):
                    queued[top + q] = flat[lo + q]
                top += size
                n_queued += 1
    return out_i[:n_out], out_s[:n_out]


@njit(cache=True, nogil=True)
def _span_mean(values: np.ndarray, s0: int, s1: int) -> float:
    """``values[s0:s1 + 1].mean()`` as numpy takes it (the first value plus the
    pairwise sum of the others, over the count)."""
    if s0 == s1:
        return values[s0]
    return (values[s0] + _pairwise_sum(values, s0 + 1, s1 - s0)) / (s1 - s0 + 1)


@njit(cache=True, nogil=True)
def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted."""
    out = _sorted(values)
    m = 0
    for k in range(len(out)):
        if k == 0 or out[k] != out[m - 1]:
            out[m] = out[k]
            m += 1
    return out[:m]


@njit(cache=True, nogil=True)
def _bigram_overlap(a_bounds: np.ndarray, a_bigrams: np.ndarray, i0: int, i1: int,
                    b_bounds: np.ndarray, b_bigrams: np.ndarray, j0: int,
                    j1: int) -> tuple[int, float]:
    """Distinct word bigrams a's sentences i0..i1 and b's j0..j1 share, and
    their share of the side with fewer."""
    lo, hi = a_bounds[i0], a_bounds[i1 + 1] - 1
    ba = _distinct_sorted(a_bigrams[lo:max(lo, hi)])
    lo, hi = b_bounds[j0], b_bounds[j1 + 1] - 1
    bb = _distinct_sorted(b_bigrams[lo:max(lo, hi)])
    if len(ba) == 0 or len(bb) == 0:
        return 0, 0.0
    shared = intersection_size(ba, bb)
    return shared, shared / min(len(ba), len(bb))


@njit(cache=True, nogil=True)
def accept(spans: np.ndarray, sims: np.ndarray, si: np.ndarray, sj: np.ndarray,
           a_starts: np.ndarray, a_ends: np.ndarray, a_quoted: np.ndarray,
           a_bounds: np.ndarray, a_bigrams: np.ndarray, b_starts: np.ndarray,
           b_ends: np.ndarray, b_quoted: np.ndarray, b_bounds: np.ndarray,
           b_bigrams: np.ndarray, min_seeds: int, min_chars: int, limits: np.ndarray,
           long_single_shared: int) -> np.ndarray:
    """Which fragments (rows ``(i0, i1, j0, j1, n_seeds)`` of ``spans``, with
    similarities ``sims``) are reuse rather than a shared topic or quote
    (:class:`dedup.align.AlignParams` says how; the bigram overlap, the
    costly part, is computed only when the other criteria leave it open).
    ``limits`` holds ``chain_alt_similarity, chain_min_overlap, max_quoted,
    single_similarity, single_overlap, long_single_similarity,
    long_single_overlap``; ``si``, ``sj`` are all the pair's seeds, ordered
    by (i, j)."""
    chain_sim, chain_overlap, max_quoted, single_sim, single_overlap, long_sim, long_overlap = (
        limits[0], limits[1], limits[2], limits[3], limits[4], limits[5], limits[6])
    out = np.zeros(len(sims), np.bool_)
    js = np.empty(len(sj), np.int64)
    for f in range(len(sims)):
        i0, i1, j0, j1, n = spans[f, 0], spans[f, 1], spans[f, 2], spans[f, 3], spans[f, 4]
        sim = sims[f]
        if n < min_seeds or max(a_ends[i1] - a_starts[i0], b_ends[j1] - b_starts[j0]) < min_chars:
            continue
        # the sentences of each side that the seeds inside the fragment hold
        n_in = n_i = 0
        last_i = -1
        for s in range(len(si)):
            if i0 <= si[s] <= i1 and j0 <= sj[s] <= j1:
                if si[s] != last_i:
                    n_i += 1
                    last_i = si[s]
                js[n_in] = sj[s]
                n_in += 1
        n_j = len(_distinct_sorted(js[:n_in]))
        if min(n_i, n_j) >= 2:
            out[f] = sim >= chain_sim or _bigram_overlap(
                a_bounds, a_bigrams, i0, i1, b_bounds, b_bigrams, j0, j1)[1] >= chain_overlap
            continue
        quoted = max(_span_mean(a_quoted, i0, i1), _span_mean(b_quoted, j0, j1))
        if quoted > max_quoted or sim < min(single_sim, long_sim):
            continue
        shared, overlap = _bigram_overlap(a_bounds, a_bigrams, i0, i1, b_bounds, b_bigrams,
                                          j0, j1)
        if shared >= long_single_shared:
            out[f] = sim >= long_sim and overlap >= long_overlap
        else:
            out[f] = sim >= single_sim and overlap >= single_overlap
    return out


@njit(cache=True, nogil=True)
def accepted_fragments(si: np.ndarray, sj: np.ndarray, max_gap: int, a_starts: np.ndarray,
                       a_ends: np.ndarray, a_quoted: np.ndarray, a_bounds: np.ndarray,
                       a_bigrams: np.ndarray, a_indptr: np.ndarray, a_term_of: np.ndarray,
                       w_a: np.ndarray, n_terms_a: int, b_starts: np.ndarray,
                       b_ends: np.ndarray, b_quoted: np.ndarray, b_bounds: np.ndarray,
                       b_bigrams: np.ndarray, b_indptr: np.ndarray, b_term_of: np.ndarray,
                       w_b: np.ndarray, n_terms_b: int, shared_a: np.ndarray,
                       shared_b: np.ndarray, min_seeds: int, min_chars: int,
                       min_similarity: float, limits: np.ndarray,
                       long_single_shared: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fragments` and, of those, the ones :func:`accept` keeps, in one
    call (one crossing from Python per pair of texts)."""
    spans, sims = fragments(si, sj, max_gap, a_starts, a_ends, b_starts, b_ends, min_seeds,
                            min_chars, min_similarity, a_indptr, a_term_of, w_a, n_terms_a,
                            b_indptr, b_term_of, w_b, n_terms_b, shared_a, shared_b)
    keep = accept(spans, sims, si, sj, a_starts, a_ends, a_quoted, a_bounds, a_bigrams,
                  b_starts, b_ends, b_quoted, b_bounds, b_bigrams, min_seeds, min_chars,
                  limits, long_single_shared)
    return spans[keep], sims[keep]


@njit(cache=True, nogil=True)
def _first_index(values: np.ndarray, x: int, right: bool) -> int:
    """``np.searchsorted(values, x, side)`` of sorted ``values`` (a loop for the
    reason of the sorts above: ``np.searchsorted`` added 0.45 s to this
    module's first compile, measured)."""
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x or (right and values[mid] == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _held(values: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Positions of the ``values`` that ``other`` holds, ascending (uint64
    hashes: ``other``'s in an open-addressing table, Fibonacci-hashed)."""
    bits = 1
    while (1 << bits) < 2 * len(other):
        bits += 1
    mask = (1 << bits) - 1
    down = np.uint64(64 - bits)
    table = np.zeros(mask + 1, np.uint64)
    used = np.zeros(mask + 1, np.bool_)
    for v in other:
        h = np.int64((v * _FIBONACCI) >> down)
        while used[h] and table[h] != v:
            h = (h + 1) & mask
        used[h] = True
        table[h] = v
    out = np.empty(len(values), np.int64)
    m = 0
    for k in range(len(values)):
        v = values[k]
        h = np.int64((v * _FIBONACCI) >> down)
        while used[h]:
            if table[h] == v:
                out[m] = k
                m += 1
                break
            h = (h + 1) & mask
    return out[:m]


@njit(cache=True, nogil=True)
def _token_end(bounds: np.ndarray, ends: np.ndarray, tok_ends: np.ndarray, t: int) -> int:
    """Where a passage ending with token ``t`` ends: with its sentence's
    closing punctuation when ``t`` ends a sentence (``bounds`` are the
    sentences' first tokens), else right after the token."""
    s = _first_index(bounds, t, True) - 1
    if bounds[s + 1] - 1 == t:
        return ends[s]
    return tok_ends[t]


@njit(cache=True, nogil=True)
def fit_passages(spans: np.ndarray, a_starts: np.ndarray, a_ends: np.ndarray,
                 a_bounds: np.ndarray, a_bigrams: np.ndarray, a_tok_starts: np.ndarray,
                 a_tok_ends: np.ndarray, b_starts: np.ndarray, b_ends: np.ndarray,
                 b_bounds: np.ndarray, b_bigrams: np.ndarray, b_tok_starts: np.ndarray,
                 b_tok_ends: np.ndarray, min_shared: int, trim_overlap: float) -> np.ndarray:
    """Each passage ``(a_start, a_end, b_start, b_end)`` (rows of ``spans``, on
    sentence bounds) fitted to the word bigrams its two sides share
    (alignment's step 4, :func:`dedup.align.refine`): from the first to the
    last shared bigram on each side when at least ``trim_overlap`` of the
    bigrams of the side with fewer are shared, else only ever widened; on
    both, extended over exactly matching words from ends holding the same
    bigram. Unchanged when the sides share fewer than ``min_shared``."""
    out = np.empty_like(spans)
    for f in range(len(spans)):
        for c in range(4):
            out[f, c] = spans[f, c]
    for f in range(len(spans)):
        i0 = _first_index(a_starts, spans[f, 0], False)
        i1 = _first_index(a_ends, spans[f, 1], False)
        j0 = _first_index(b_starts, spans[f, 2], False)
        j1 = _first_index(b_ends, spans[f, 3], False)
        ta0, ta1 = a_bounds[i0], a_bounds[i1 + 1]
        tb0, tb1 = b_bounds[j0], b_bounds[j1 + 1]
        # bigram t joins tokens t and t + 1: those inside the passage
        ba = a_bigrams[ta0:max(ta0, ta1 - 1)]
        bb = b_bigrams[tb0:max(tb0, tb1 - 1)]
        if len(ba) == 0 or len(bb) == 0:
            continue
        at_a = _held(ba, bb)
        if len(at_a) < min_shared:
            continue
        at_b = _held(bb, ba)
        s_a, e_a = ta0 + at_a[0], ta0 + at_a[-1] + 1
        s_b, e_b = tb0 + at_b[0], tb0 + at_b[-1] + 1
        # extend over exactly matching words, from ends that hold the same bigram
        if a_bigrams[s_a] == b_bigrams[s_b]:
            k = 0
            while k < min(s_a, s_b) and a_bigrams[s_a - 1 - k] == b_bigrams[s_b - 1 - k]:
                k += 1
            s_a, s_b = s_a - k, s_b - k
        if a_bigrams[e_a - 1] == b_bigrams[e_b - 1]:
            k = 0
            while (k < min(len(a_bigrams) - e_a, len(b_bigrams) - e_b)
                   and a_bigrams[e_a + k] == b_bigrams[e_b + k]):
                k += 1
            e_a, e_b = e_a + k, e_b + k
        fit = (a_tok_starts[s_a], _token_end(a_bounds, a_ends, a_tok_ends, e_a),
               b_tok_starts[s_b], _token_end(b_bounds, b_ends, b_tok_ends, e_b))
        if len(at_a) / min(len(ba), len(bb)) >= trim_overlap:
            out[f, 0], out[f, 1], out[f, 2], out[f, 3] = fit
        else:
            out[f, 0] = min(spans[f, 0], fit[0])
            out[f, 1] = max(spans[f, 1], fit[1])
            out[f, 2] = min(spans[f, 2], fit[2])
            out[f, 3] = max(spans[f, 3], fit[3])
    return out


@njit(cache=True, nogil=True)
def term_index(indptr: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray, np.ndarray,
                                                               np.ndarray, np.ndarray]:
    """The term index of a text's sentence terms (CSR ``indptr``, ``cols``;
    see :class:`dedup.align.Side`), from one stable sort of the entries by
    term: the distinct terms (sorted), each entry's index among them, the
    entries ordered by term then sentence, where each term's entries start
    in that order (and one past the end), each term's number of sentences,
    and the sentence of each entry in that order."""
    n = len(cols)
    by_term = _argsort_stable(cols)
    term_of = np.empty(n, np.int64)
    starts = np.empty(n + 1, np.int64)
    n_terms = 0
    for k in range(n):
        if k == 0 or cols[by_term[k]] != cols[by_term[k - 1]]:
            starts[n_terms] = k
            n_terms += 1
        term_of[by_term[k]] = n_terms - 1
    starts[n_terms] = n
    term_ptr = _prefix(starts, n_terms + 1)
    terms = np.empty(n_terms, cols.dtype)
    term_df = np.empty(n_terms, np.int64)
    for t in range(n_terms):
        terms[t] = cols[by_term[term_ptr[t]]]
        term_df[t] = term_ptr[t + 1] - term_ptr[t]
    row_of = np.empty(n, np.int64)
    for s in range(len(indptr) - 1):
        for e in range(indptr[s], indptr[s + 1]):
            row_of[e] = s
    rows_by_term = np.empty(n, np.int64)
    for k in range(n):
        rows_by_term[k] = row_of[by_term[k]]
    return terms, term_of, by_term, term_ptr, term_df, rows_by_term
