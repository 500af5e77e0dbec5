"""Normalization, tokens and sentences, with offsets into the ORIGINAL text.

A token is a maximal run of word characters (``\\w``, plus combining marks)
of the original text; each ideograph of a script written without spaces
(Han, Kana) is a token of its own. Normalization works character by
character: compatibility decomposition, accents (non-spacing marks) removed,
casefolded, recomposed, quotes and dashes unified. Because it is a per-character
map, ``normalize`` is idempotent and a token's normalized form is the
normalization of its original characters.

Everything is computed over numpy arrays of code points, one text at a time,
so that tokenizing 30 MB takes well under a second. Nothing here changes the
text itself: token and sentence spans slice the text as published.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

_WORD_RE = re.compile(r"\w")

# Quotes, apostrophes and dashes that newsrooms use interchangeably.
_UNIFY = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
    }
)

#: Hash of a token: polynomial over normalized code points mod 2**64, then mixed.
_P = np.uint64(0x100000001B3)  # odd, so it has an inverse mod 2**64
_P_INV = np.uint64(pow(int(_P), -1, 1 << 64))


def _char_map_once(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFKC", stripped.casefold()).translate(_UNIFY)


@cache
def _char_map(ch: str) -> str:
    """The normalized form of one character: a fixed point of the map, so that
    normalizing twice changes nothing."""
    out = _char_map_once(ch)
    for _ in range(8):
        again = "".join(_char_map_once(c) for c in out)
        if again == out:
            break
        out = again
    return out


def _is_solo(cp: int) -> bool:
    """Characters of scripts written without spaces: one token each."""
    return (
        0x3040 <= cp <= 0x30FF  # Hiragana, Katakana
        or 0x3400 <= cp <= 0x4DBF  # CJK Extension A
        or 0x4E00 <= cp <= 0x9FFF  # CJK Unified Ideographs
        or 0xF900 <= cp <= 0xFAFF  # CJK Compatibility Ideographs
        or 0x20000 <= cp <= 0x2FFFF  # CJK Extensions B+
    )


@cache
def _char_class(cp: int) -> tuple[bool, bool]:
    """(is a word character, is a token on its own)."""
    ch = chr(cp)
    word = bool(_WORD_RE.match(ch)) or unicodedata.category(ch).startswith("M")
    return word, word and _is_solo(cp)


# ASCII fast path tables.
_ASCII_WORD = np.array([bool(_WORD_RE.match(chr(c))) for c in range(128)], dtype=bool)
_ASCII_LOWER = np.array([ord(chr(c).lower()) for c in range(128)], dtype=np.uint64)
_ASCII_LOWER1 = _ASCII_LOWER + np.uint64(1)


def normalize(text: str) -> str:
    """NFKC-compatible folding: accents removed, casefolded, quotes and dashes
    unified. Idempotent, and applied character by character.

    Example:
        >>> normalize("“Straße” – Café")
        '"strasse" - cafe'
    """
    if text.isascii():
        return text.lower()
    return "".join(c.lower() if c.isascii() else _char_map(c) for c in text)


def _mix64(h: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer, element-wise (wrapping uint64 arithmetic; ``h``
    is overwritten)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


_POW_CACHE: dict[str, np.ndarray] = {}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``P**j`` and ``P**-j`` mod 2**64 for j < n (cached, grown by doubling)."""
    have = _POW_CACHE.get("p")
    if have is None or len(have) < n:
        size = max(n, 2 * (len(have) if have is not None else 4096))
        with np.errstate(over="ignore"):
            _POW_CACHE["p"] = np.cumprod(np.full(size, _P, dtype=np.uint64)) * _P_INV
            _POW_CACHE["q"] = np.cumprod(np.full(size, _P_INV, dtype=np.uint64)) * _P
    return _POW_CACHE["p"], _POW_CACHE["q"]


def _poly_hash(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of each slice ``values[s:e]`` (non-empty), vectorized.

    ``H = sum((v[j] + 1) * P**(e-1-j))`` mod 2**64, computed from one
    cumulative sum of ``(v[j] + 1) * P**-j``, then mixed with the length.
    """
    with np.errstate(over="ignore"):
        return _poly_hash_plus1(values + np.uint64(1), starts, ends)


def _poly_hash_plus1(values1: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """:func:`_poly_hash` of ``values1 - 1`` (``values1`` is overwritten)."""
    n = len(values1)
    pow_p, pow_q = _powers(n)
    with np.errstate(over="ignore"):
        np.multiply(values1, pow_q[:n], out=values1)
        csum = np.empty(n + 1, dtype=np.uint64)
        csum[0] = 0
        np.cumsum(values1, out=csum[1:])
        h = csum[ends] - csum[starts]
        h *= pow_p[ends - 1]
        h += (ends - starts).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return _mix64(h)


def token_hash(token: str) -> int:
    """The 64-bit hash of an already normalized token, as :func:`tokenize` gives it."""
    if not token:
        raise ValueError("token_hash needs a non-empty token")
    cps = np.frombuffer(token.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    h = _poly_hash(cps.astype(np.uint64), np.array([0]), np.array([len(cps)]))
    return int(h[0])


@dataclass(frozen=True)
class Tokens:
    """Tokens of one text.

    Attributes:
        starts, ends: Character offsets of each token in the original text.
        hashes: 64-bit hash of each token's normalized form (uint64).
    """

    starts: np.ndarray
    ends: np.ndarray
    hashes: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_TOKENS = Tokens(_EMPTY_I, _EMPTY_I, np.zeros(0, dtype=np.uint64))


def _ascii_spans(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The code points of an ASCII text and its tokens' starts and ends: no solo
    characters, no expansion, so tokens are the runs of word characters."""
    chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.intp)
    edges = np.zeros(len(chars) + 2, dtype=np.int8)
    edges[1:-1] = _ASCII_WORD[chars]
    step = np.diff(edges)
    return chars, np.flatnonzero(step == 1), np.flatnonzero(step == -1)


def _tokenize_ascii(text: str) -> Tokens:
    """:func:`tokenize` of an ASCII text."""
    chars, starts, ends = _ascii_spans(text)
    if len(starts) == 0:
        return _EMPTY_TOKENS
    return Tokens(starts, ends, _poly_hash_plus1(_ASCII_LOWER1[chars], starts, ends))


def token_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``(starts, ends)`` of :func:`tokenize`, without hashing the tokens
    where that can be skipped (an ASCII text)."""
    if text and text.isascii():
        _, starts, ends = _ascii_spans(text)
        return starts, ends
    toks = tokenize(text)
    return toks.starts, toks.ends


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _as_ascii(text: str) -> str | None:
    """``text`` with each non-ASCII character replaced by "?", when none of them
    is a word character (curly quotes, dashes, symbols: news text's usual ones),
    so that the ASCII path gives its tokens; else None. Those characters only
    separate tokens, as "?" does, and offsets count characters either way."""
    if all(not _char_class(ord(c))[0] for c in set(_NON_ASCII.findall(text))):
        return text.encode("ascii", "replace").decode("ascii")
    return None


def tokenize(text: str) -> Tokens:
    """Tokens of ``text`` with offsets and hashes, vectorized over code points."""
    if not text:
        return _EMPTY_TOKENS
    if text.isascii():
        return _tokenize_ascii(text)
    plain = _as_ascii(text)
    if plain is not None:
        return _tokenize_ascii(plain)
    return _tokenize_general(text)


def _tokenize_general(text: str) -> Tokens:
    """:func:`tokenize` of a text that is not ASCII, by its code points."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    n = len(cps)
    low = np.minimum(cps, 127)
    word = _ASCII_WORD[low]
    solo = np.zeros(n, dtype=bool)
    norm_vals = _ASCII_LOWER[low]
    exp_len = None
    hi_pos = np.flatnonzero(cps >= 128)
    uniq, inv = np.unique(cps[hi_pos], return_inverse=True)
    inv = inv.reshape(-1)
    classes = [_char_class(int(u)) for u in uniq.tolist()]
    word[hi_pos] = np.array([c[0] for c in classes], dtype=bool)[inv]
    solo[hi_pos] = np.array([c[1] for c in classes], dtype=bool)[inv]
    mapped = [_char_map(chr(u)) for u in uniq.tolist()]
    u_len = np.array([len(m) for m in mapped], dtype=np.int64)
    if np.all(u_len == 1):
        norm_vals[hi_pos] = np.array([ord(m) for m in mapped], dtype=np.uint64)[inv]
    else:
        lengths = np.ones(n, dtype=np.int64)
        lengths[hi_pos] = u_len[inv]
        exp_len = lengths
        total = int(lengths.sum())
        owner = np.repeat(np.arange(n), lengths)
        pos_in = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        expanded = norm_vals[owner].copy()
        # code points of each non-ASCII character's normalized form
        flat = np.array([ord(c) for m in mapped for c in m] or [0], dtype=np.uint64)
        u_off = np.concatenate([[0], np.cumsum(u_len)[:-1]])
        char_off = np.zeros(n, dtype=np.int64)
        char_off[hi_pos] = u_off[inv]
        is_hi = np.zeros(n, dtype=bool)
        is_hi[hi_pos] = True
        hi_exp = is_hi[owner]
        expanded[hi_exp] = flat[char_off[owner[hi_exp]] + pos_in[hi_exp]]
        norm_vals = expanded
    if solo.any():
        prev_word = np.concatenate([[False], word[:-1]])
        next_word = np.concatenate([word[1:], [False]])
        prev_solo = np.concatenate([[False], solo[:-1]])
        next_solo = np.concatenate([solo[1:], [False]])
        start_mask = word & (~prev_word | solo | prev_solo)
        end_mask = word & (~next_word | solo | next_solo)
        starts = np.flatnonzero(start_mask).astype(np.int64)
        ends = (np.flatnonzero(end_mask) + 1).astype(np.int64)
    else:  # tokens are the runs of word characters
        edges = np.zeros(n + 2, dtype=np.int8)
        edges[1:-1] = word
        step = np.diff(edges)
        starts = np.flatnonzero(step == 1).astype(np.int64)
        ends = np.flatnonzero(step == -1).astype(np.int64)
    if len(starts) == 0:
        return _EMPTY_TOKENS
    if exp_len is None:
        hashes = _poly_hash(norm_vals, starts, ends)
    else:
        pos = np.concatenate([[0], np.cumsum(exp_len)])
        ns, ne = pos[starts], pos[ends]
        keep = ne > ns  # a token of marks only normalizes to nothing
        starts, ends, ns, ne = starts[keep], ends[keep], ns[keep], ne[keep]
        if len(starts) == 0:
            return _EMPTY_TOKENS
        hashes = _poly_hash(norm_vals, ns, ne)
    return Tokens(starts, ends, hashes)


def end_to_end(texts: Sequence[str], which: Sequence[int]) -> tuple[str, np.ndarray]:
    """The texts ``texts[k]`` for k in ``which`` laid end to end, a newline between
    two (so no token, and no run of word characters, crosses from one into the
    next), and where each starts in the result."""
    lengths = np.array([len(texts[k]) + 1 for k in which], dtype=np.int64)
    return "\n".join(texts[k] for k in which), np.cumsum(lengths) - lengths


#: Characters of ASCII text that :func:`tokenize_batch` tokenizes at once.
BATCH_CHARS = 1 << 20


def tokenize_batch(texts: Sequence[str]) -> list[Tokens]:
    """:func:`tokenize` of each text. ASCII texts (and those whose other
    characters are no word characters, in their ASCII form) are laid end to
    end (a newline between two, so no token crosses) and tokenized at once, up to
    :data:`BATCH_CHARS` at a time: a short text alone is mostly call overhead.
    A token's hash does not depend on where it stands, so the tokens are the same.
    """
    out = [_EMPTY_TOKENS] * len(texts)
    group: list[int] = []
    size = 0
    plain = list(texts)  # the ASCII form of each text that has one (see _as_ascii)
    for k, t in enumerate(texts):
        if not t:
            continue
        if not t.isascii():
            as_ascii = _as_ascii(t)
            if as_ascii is None:
                out[k] = _tokenize_general(t)
                continue
            plain[k] = as_ascii
        if group and size + len(t) > BATCH_CHARS:
            _tokenize_ascii_group(plain, group, out)
            group, size = [], 0
        group.append(k)
        size += len(t) + 1
    if group:
        _tokenize_ascii_group(plain, group, out)
    return out


def _tokenize_ascii_group(texts: Sequence[str], group: list[int], out: list[Tokens]) -> None:
    joined, offsets = end_to_end(texts, group)
    chars, starts, ends = _ascii_spans(joined)
    if len(starts) == 0:
        return
    hashes = _poly_hash_plus1(_ASCII_LOWER1[chars], starts, ends)
    cut = np.searchsorted(starts, np.append(offsets, len(chars) + 1)).tolist()
    for n, k in enumerate(group):
        lo, hi = cut[n], cut[n + 1]
        if hi > lo:
            off = int(offsets[n])
            out[k] = Tokens(starts[lo:hi] - off, ends[lo:hi] - off, hashes[lo:hi])


def tokens(text: str) -> list[str]:
    """Normalized token strings of ``text``, in order (for display and tests)."""
    toks = tokenize(text)
    return [normalize(text[s:e]) for s, e in zip(toks.starts.tolist(), toks.ends.tolist())]


# --- sentences -------------------------------------------------------------

#: Sentences shorter than this many tokens are joined to the next one.
MIN_SENTENCE_TOKENS = 4
#: Sentences longer than this many tokens are cut into even pieces.
MAX_SENTENCE_TOKENS = 50

_CLASS_LIMIT = 0x2100
_ENDER, _CLOSER, _SPACE, _WORDISH = 1, 2, 4, 8
_CHAR_CLASSES = np.zeros(_CLASS_LIMIT + 1, dtype=np.uint8)
for _c in ".!?\u2026":
    _CHAR_CLASSES[ord(_c)] |= _ENDER
for _c in "\"')]\u201d\u2019\u00bb":
    _CHAR_CLASSES[ord(_c)] |= _CLOSER
for _c in " \t\n\r\f\v\u00a0\u2028\u2029":
    _CHAR_CLASSES[ord(_c)] |= _SPACE
for _i in range(_CLASS_LIMIT):
    if _WORD_RE.match(chr(_i)):
        _CHAR_CLASSES[_i] |= _WORDISH
_CHAR_CLASSES[_CLASS_LIMIT] = _WORDISH  # anything beyond: treated as a word character
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
# Words after which a period does not end a sentence (before a capital, say).
ABBREVIATIONS = (
    "mr mrs ms dr prof st sr jr gen col lt sgt capt cmdr adm gov sen rep rev "
    "jan feb mar apr jun jul aug sep sept oct nov dec no vs etc inc corp ltd co "
    "u s k e i a p mt ft"
).split()
_ABBREV_HASHES = np.array(sorted(token_hash(a) for a in ABBREVIATIONS), dtype=np.uint64)


@dataclass(frozen=True)
class Sentences:
    """Sentence segmentation of one text.

    Attributes:
        starts, ends: Character spans in the original text, one per sentence.
        token_bounds: ``token_bounds[i]:token_bounds[i+1]`` are the token
            indices of sentence i (length n + 1).
    """

    starts: np.ndarray
    ends: np.ndarray
    token_bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def _char_classes(text: str) -> np.ndarray:
    """The ``_CHAR_CLASSES`` bits of each character of ``text``, plus a 0 after
    the last one."""
    out = np.zeros(len(text) + 1, dtype=np.uint8)
    if text.isascii():
        np.take(_CHAR_CLASSES, np.frombuffer(text.encode("ascii"), dtype=np.uint8),
                out=out[:-1])
    else:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        np.take(_CHAR_CLASSES, np.minimum(cps, _CLASS_LIMIT), out=out[:-1])
    return out


def _boundary_offsets(text: str, toks: Tokens, cls: np.ndarray) -> np.ndarray:
    """Character offsets after which a new sentence begins (``cls``: the
    character classes of ``text`` from :func:`_char_classes`)."""
    cand = np.flatnonzero((cls & _ENDER) != 0)
    # skip closing quotes/brackets after the punctuation (up to two; the 0
    # after the text stops the walk)
    after = cand + 1
    after += (cls[after] & _CLOSER) != 0
    after += (cls[after] & _CLOSER) != 0
    ok = (cls[after] & _SPACE) != 0
    cand, after = cand[ok], after[ok]
    if len(cand) and len(toks):
        # the token right before the punctuation: an abbreviation does not end a
        # sentence unless a line break follows
        idx = np.searchsorted(toks.ends, cand, side="right") - 1
        has_tok = (idx >= 0) & (toks.ends[np.maximum(idx, 0)] == cand)
        abbrev = np.zeros(len(cand), dtype=bool)
        hs = toks.hashes[idx[has_tok]]
        pos = np.minimum(np.searchsorted(_ABBREV_HASHES, hs), len(_ABBREV_HASHES) - 1)
        abbrev[has_tok] = _ABBREV_HASHES[pos] == hs
        newline = np.fromiter((text[i] == "\n" for i in after[abbrev].tolist()), dtype=bool,
                              count=int(abbrev.sum()))
        keep = ~abbrev
        keep[abbrev] = newline
        after = after[keep]
    # ``after`` is increasing: an ender is never a closer, nor a space
    if "\n" in text:
        blank = [m.end() for m in _BLANK_LINE.finditer(text)]
        if blank:
            after = np.sort(np.concatenate([after, np.asarray(blank, dtype=np.int64)]))
    return distinct_sorted(after)


def unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (flattened, sorted, distinct) by one sort.

    numpy 2.3+ answers a plain ``np.unique`` through a hash table, 5-13x
    slower than a sort on many distinct integers (100,000 random uint64:
    18.9 ms against 1.4 ms); band keys, terms and article keys are such arrays.
    """
    return distinct_sorted(np.sort(values, axis=None))


def run_starts(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal values (of a
    sorted array: each distinct value's first place)."""
    first = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return first


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal values of a sorted array starts, and its length."""
    starts = np.flatnonzero(run_starts(values))
    return starts, np.diff(starts, append=len(values))


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of a sorted array (one comparison; no hashing or sort)."""
    return values[run_starts(values)]


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """``np.unique(pairs, axis=0)`` of an (m, 2) array of non-negative integers,
    through one int64 code per row (a plain sort instead of a sort of rows)."""
    if len(pairs) == 0:
        return pairs
    n = int(pairs.max()) + 1
    code = pairs[:, 0].astype(np.int64) * n + pairs[:, 1]
    code.sort()
    code = distinct_sorted(code)
    return np.stack([code // n, code % n], axis=1).astype(pairs.dtype, copy=False)


def sorted_member(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Boolean mask: which ``values`` ``sorted_values`` (sorted; repeats allowed)
    holds, by one binary search each. ndarray methods, not the module functions:
    alignment calls this for every candidate pair, where a wrapper's overhead counts."""
    if len(sorted_values) == 0:
        return np.zeros(len(values), dtype=bool)
    return sorted_values.take(sorted_values.searchsorted(values), mode="clip") == values


def segment(text: str, toks: Tokens | None = None) -> Sentences:
    """Sentences of ``text`` aligned with its tokens.

    Short sentences are joined with the next, long ones cut, so that every
    sentence has between MIN_SENTENCE_TOKENS and MAX_SENTENCE_TOKENS tokens
    (except a short text's only sentence).
    """
    return segment_batch([text], [tokenize(text) if toks is None else toks])[0]


def segment_batch(texts: Sequence[str], toks: Sequence[Tokens]) -> list[Sentences]:
    """:func:`segment` of each text (``toks``: its tokens). The sentence ends are
    found over the texts laid end to end, a newline between two: a boundary that
    the newline adds falls at a text's end, where every text has one anyway.
    Only the joining and cutting of sentences (:func:`_sentence_token_bounds`)
    goes text by text, on Python lists; the spans are found for all texts at once."""
    out = [Sentences(_EMPTY_I, _EMPTY_I, np.zeros(1, dtype=np.int64)) for _ in texts]
    group = [k for k in range(len(texts)) if len(toks[k])]
    if not group:
        return out
    joined, char_off = end_to_end(texts, group)
    n_toks = np.array([len(toks[k]) for k in group], dtype=np.int64)
    tok_off = np.cumsum(n_toks) - n_toks
    every = Tokens(
        np.concatenate([toks[k].starts + o for k, o in zip(group, char_off.tolist())]),
        np.concatenate([toks[k].ends + o for k, o in zip(group, char_off.tolist())]),
        np.concatenate([toks[k].hashes for k in group]),
    )
    cls = _char_classes(joined)
    offsets = _boundary_offsets(joined, every, cls)
    # the first token of each sentence a boundary starts, counted in its text
    cut = np.searchsorted(offsets, char_off).tolist() + [len(offsets)]
    first_tok = np.searchsorted(every.starts, offsets, side="left")
    first_tok -= np.repeat(tok_off, np.diff(cut))
    candidates = first_tok.tolist()
    # each text's sentence token bounds, all of them end to end
    bounds: list[int] = []
    n_sent = []
    for m, n_tok in enumerate(n_toks.tolist()):
        tb = _sentence_token_bounds(candidates[cut[m]:cut[m + 1]], n_tok)
        bounds.extend(tb)
        n_sent.append(len(tb) - 1)
    tb_all = np.array(bounds, dtype=np.int64)
    sizes = np.array(n_sent, dtype=np.int64)
    tb_at = np.cumsum(sizes + 1) - (sizes + 1)  # where each text's bounds start
    # a sentence's first and last token, over the tokens laid end to end
    first = np.delete(tb_all, tb_at + sizes) + np.repeat(tok_off, sizes)
    last = np.delete(tb_all, tb_at) - 1 + np.repeat(tok_off, sizes)
    base = np.repeat(char_off, sizes)
    starts = every.starts[first] - base
    ends = every.ends[last]
    # Extend each sentence over its trailing punctuation, up to the next
    # sentence's first character, so passages read as whole sentences: the
    # first character at or after its end that is not punctuation (a text's
    # end, the newline after it or the end of all, stops the search).
    cls[-1] = _SPACE
    non_punct = np.flatnonzero((cls & (_SPACE | _WORDISH)) != 0)
    first_non_punct = non_punct[np.searchsorted(non_punct, ends)] - base
    next_starts = np.empty_like(starts)
    next_starts[:-1] = starts[1:]
    sent_at = np.cumsum(sizes) - sizes
    next_starts[sent_at + sizes - 1] = [len(texts[k]) for k in group]  # each text's last
    ends = np.minimum(first_non_punct, next_starts)
    at, tb_from = sent_at.tolist(), tb_at.tolist()
    for m, k in enumerate(group):
        lo, n = at[m], n_sent[m]
        out[k] = Sentences(starts[lo:lo + n], ends[lo:lo + n],
                           tb_all[tb_from[m]:tb_from[m] + n + 1])
    return out


def _sentence_token_bounds(candidates: list[int], n_tok: int) -> list[int]:
    """Sentence token bounds (0 first, ``n_tok`` last) from the first tokens of
    the sentences the boundaries start (increasing; 0 and ``n_tok`` among them
    or not): short sentences joined with the next (the last one with the
    previous), long ones cut into even pieces."""
    kept = [0]
    for b in candidates:
        if b - kept[-1] >= MIN_SENTENCE_TOKENS and b < n_tok:
            kept.append(b)
    if len(kept) > 1 and n_tok - kept[-1] < MIN_SENTENCE_TOKENS:
        kept.pop()
    kept.append(n_tok)
    final = [kept[0]]
    for b in kept[1:]:
        length = b - final[-1]
        if length > MAX_SENTENCE_TOKENS:
            pieces = -(-length // MAX_SENTENCE_TOKENS)
            step = length / pieces
            start = final[-1]
            final.extend(start + int(round(k * step)) for k in range(1, pieces))
        final.append(b)
    return final


#: Splits a text into words and the pieces between them (for display).
TOKEN_SPLIT = re.compile(r"(\w+)")
