"""SQLite storage of the persistent index: one file, stdlib ``sqlite3``.

Nothing here decides what matches what (that is :mod:`dedup.index.ops`); this
module keeps the tables, checks that a file can be used with the settings
given, and reads and writes whole batches at a time.

The file
========
WAL journal (readers never wait for a writer), ``synchronous=NORMAL`` (a
killed process loses nothing committed; a power cut may lose the last
batches but never leaves a half batch), ``foreign_keys=ON``, and
``application_id`` set so that another SQLite file is refused. A batch is one
``BEGIN IMMEDIATE`` transaction: a second writer waits for the first (the
connection's busy timeout, ``lock_timeout``), then sees everything it wrote.

Schema (version 5)
==================
``meta(key, value)``
    ``schema_version``, the pinned settings (``setting.*``: what the stored
    signatures, band keys, keyword postings, profiles and clusters depend on,
    see :func:`pinned_settings` and :class:`IndexParams`), the next cluster
    id, when the file was created, and ``articles`` and ``passages``: how many
    articles and passage windows it holds (the N of the TF-IDF weights; kept
    by every insert and delete, so that a batch does not count the whole
    ``articles`` table).
``articles(pk, id, title, url, published, published_ts, source, added, chars,
content_hash, wire_agency, wire_evidence, n_passages, neighbours, cluster)``
    One row per article. ``pk`` is never reused (AUTOINCREMENT), so a stale
    reference can never point at another article. ``content_hash`` is the
    first 16 bytes of the SHA-256 of the text; ``published_ts`` the parsed
    ``published`` (epoch seconds, NULL when absent or unparseable);
    ``neighbours`` the float32 keyword cosines of its best TF-IDF neighbours
    (kept so that a new article can enter an old article's top k).
``profiles(article, profile, signature, postings)``
    The :class:`~dedup.pipeline.Profile` of the article (numpy arrays in a
    compact binary layout, :func:`encode_arrays`), its whole-text MinHash as a
    serialized datasketch ``LeanMinHash``, and what it added to the inverted
    tables and term counts (so that removing it removes exactly that).
``band_keys(gen, key, article)``, ``band_gens(gen, first_article, rows, bloom)``
    The LSH band keys of its passages (uint64 stored as int64), WITHOUT ROWID
    with primary key ``(gen, key, article)``, in *generations*: a batch adds its
    rows to the newest generation up to ``BAND_GENERATION_ROWS`` (4M, about
    9,000 articles), and the articles that do not fit begin the next (an
    article's rows stay in one generation); an article's generation is the
    last whose ``first_article`` is at most its pk. A batch's inserts thus land
    in one bounded stretch of the B-tree: with a single ``(key, article)`` tree,
    the 479 random keys of each new article dirtied most of its pages (about 650
    MB written per batch of 1,000 at 100k articles, growing with the index; see
    benchmarks/CALIBRATION.md). Each generation keeps a Bloom filter of its keys
    (blocked: ``BLOOM_BITS_PER_ROW`` bits per row, ``BLOOM_HASHES`` bits of one
    64-bit word per key); a lookup probes a generation only with the keys its
    filter may hold (no false negatives, under 0.5% false positives), one index
    seek each. ``rows`` counts the rows a generation was given: deleting an
    article leaves it (and its filter bits) as it is.
``doc_postings(term, chunk, data)``, ``passage_postings(term, chunk, data)``
    Inverted tables of each article's and each passage's strongest TF-IDF
    terms. A term's posting list is stored in a few binary chunks (``data``:
    records of an int64 owner and a uint16 weight, see :data:`POSTING`), one
    more per batch that adds to it, merged into one when there are
    ``MAX_CHUNKS``: reading a list costs a few rows however long it is, and a
    batch never rewrites a list it did not read. The owner is an article, or a
    passage ``article << PASSAGE_BITS | window``; the weight is quantized to
    ``WEIGHT_SCALE``.
``terms(term, docs, passages)``
    How many articles and how many passage windows hold each term (the
    document frequencies of the TF-IDF weights).
``matches(a, b, score, jaccard, cosine, reuse_a_in_b, reuse_b_in_a, passages, cluster)``
    Verified pairs, ``a`` the article whose id sorts first (as in a scan
    report); ``passages`` as JSON ``[[a_start, a_end, b_start, b_end, sim], ...]``
    (on whole sentences); ``cluster`` the cluster the match belongs to (NULL
    below ``cluster.min_score``), indexed.
``clusters(id, source, source_reason, size)``
    Clusters (ids stable across batches; see :mod:`dedup.cluster`: a cluster
    is a set of matches, so an article can be in several) and their likely
    original. ``articles.cluster`` is the cluster of the article's best
    clustered match (score, then the other article's id), the one reported
    for it.

``profiles`` and ``matches`` reference ``articles`` with ``ON DELETE CASCADE``.
The three inverted tables carry no foreign key (a cascade would scan them):
an article's own ``postings`` blob says which of their rows to delete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import LeanMinHash

from dedup import lsh as lsh_mod
from dedup import sketch as sketch_mod
from dedup import tfidf as tfidf_mod
from dedup.config import Config
from dedup.errors import ConfigError, IndexError_
from dedup.pipeline import Profile
from dedup.text import unique

_log = logging.getLogger("dedup.index")

#: Version of the table layout; older files are upgraded by ``_MIGRATIONS``.
SCHEMA_VERSION = 5
#: ``PRAGMA application_id`` of an index file ("dDup").
APPLICATION_ID = 0x64447570
#: Keyword weights in [0, 1] are stored as integers in [0, WEIGHT_SCALE].
WEIGHT_SCALE = 32767
#: Low bits of a passage id that hold the window number.
PASSAGE_BITS = 24
#: A term's posting list is kept in at most this many chunks (then merged).
MAX_CHUNKS = 8
#: One posting in a chunk: the owner (article, or passage) and its quantized weight.
POSTING = np.dtype([("owner", "<i8"), ("weight", "<u2")])
#: The inverted tables (see the module docstring).
POSTING_TABLES = ("doc_postings", "passage_postings")
#: Rows a band-key generation holds at most (its filter: 2**22 * 16 bits, 8 MB);
#: only a single article with more rows would exceed it, alone.
BAND_GENERATION_ROWS = 1 << 22
#: Bloom filter of a generation: bits per row (rounded up to a power of two) ...
BLOOM_BITS_PER_ROW = 16
#: ... and bits set per key, all in one 64-bit word (a blocked filter: one
#: memory access per key and generation; false positives about 0.3% when full).
BLOOM_HASHES = 4
#: Odd multipliers of the filter's multiply-shift hashes (fixed: stored filters use
#: them): the first picks the word, the top bits of the second the bits in it.
_BLOOM_MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
#: Smallest filter, in 64-bit words (1 KiB).
_BLOOM_MIN_WORDS = 128
#: A filter's words as stored.
_BLOOM_WORD = np.dtype("<u8")

_MAGIC = b"DDA1"
#: Profile arrays kept in the ``profile`` blob (the signature has its own column).
_PROFILE_FIELDS = tuple(f.name for f in fields(Profile) if f.name not in ("length", "signature"))

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE clusters (
    id INTEGER PRIMARY KEY,
    source INTEGER REFERENCES articles(pk) ON DELETE SET NULL,
    source_reason TEXT,
    size INTEGER NOT NULL
);
CREATE TABLE articles (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT,
    url TEXT,
    published TEXT,
    published_ts REAL,
    source TEXT,
    added REAL NOT NULL,
    chars INTEGER NOT NULL,
    content_hash BLOB NOT NULL,
    wire_agency TEXT,
    wire_evidence TEXT,
    n_passages INTEGER NOT NULL,
    neighbours BLOB NOT NULL,
    cluster INTEGER REFERENCES clusters(id) ON DELETE SET NULL
);
CREATE INDEX articles_cluster ON articles(cluster) WHERE cluster IS NOT NULL;
CREATE INDEX articles_age ON articles(coalesce(published_ts, added));
CREATE INDEX clusters_source ON clusters(source);
CREATE TABLE profiles (
    article INTEGER PRIMARY KEY REFERENCES articles(pk) ON DELETE CASCADE,
    profile BLOB NOT NULL,
    signature BLOB NOT NULL,
    postings BLOB NOT NULL
);
CREATE TABLE band_keys (
    gen INTEGER NOT NULL,
    key INTEGER NOT NULL,
    article INTEGER NOT NULL,
    PRIMARY KEY (gen, key, article)
) WITHOUT ROWID;
CREATE TABLE band_gens (
    gen INTEGER PRIMARY KEY,
    first_article INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    bloom BLOB NOT NULL
);
CREATE TABLE doc_postings (
    term INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (term, chunk)
) WITHOUT ROWID;
CREATE TABLE passage_postings (
    term INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (term, chunk)
) WITHOUT ROWID;
CREATE TABLE terms (
    term INTEGER PRIMARY KEY,
    docs INTEGER NOT NULL,
    passages INTEGER NOT NULL
);
CREATE TABLE matches (
    a INTEGER NOT NULL REFERENCES articles(pk) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES articles(pk) ON DELETE CASCADE,
    score REAL NOT NULL,
    jaccard REAL NOT NULL,
    cosine REAL NOT NULL,
    reuse_a_in_b REAL NOT NULL,
    reuse_b_in_a REAL NOT NULL,
    passages TEXT NOT NULL,
    cluster INTEGER,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX matches_b ON matches(b);
CREATE INDEX matches_cluster ON matches(cluster) WHERE cluster IS NOT NULL;
"""

_POSTINGS_DDL = """CREATE TABLE {table} (
    term INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (term, chunk)
) WITHOUT ROWID"""


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Version 1 kept one row per posting (``doc_keywords``,
    ``passage_keywords``); version 2 keeps each term's list in binary chunks."""
    chunk = 1
    for old, new, owner in (("doc_keywords", "doc_postings", "article"),
                            ("passage_keywords", "passage_postings", "passage")):
        conn.execute(_POSTINGS_DDL.format(table=new))
        cur = conn.execute(f"SELECT term, {owner}, weight FROM {old} ORDER BY term, {owner}")
        while rows := cur.fetchmany(500_000):
            found = np.array(rows, dtype=np.int64)
            uniq, starts = np.unique(found[:, 0], return_index=True)
            bounds = np.append(starts, len(found))
            out = []
            for t, lo, hi in zip(uniq.tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
                rec = np.empty(hi - lo, dtype=POSTING)
                rec["owner"], rec["weight"] = found[lo:hi, 1], found[lo:hi, 2]
                out.append((t, chunk, rec.tobytes()))
            conn.executemany(f"INSERT INTO {new} VALUES (?, ?, ?)", out)
            chunk += 1
        conn.execute(f"DROP TABLE {old}")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_chunk', ?)", (str(chunk),))


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    """Version 2 kept band keys in one ``(key, article)`` tree; version 3 in
    generations. The old rows become generation 0 (its filter built from
    them); new batches start generation 1."""
    conn.execute("ALTER TABLE band_keys RENAME TO band_keys_v2")
    for statement in _SCHEMA.split(";"):
        if "CREATE TABLE band_" in statement:
            conn.execute(statement)
    conn.execute("INSERT INTO band_keys SELECT 0, key, article FROM band_keys_v2 "
                 "ORDER BY key, article")
    conn.execute("DROP TABLE band_keys_v2")
    keys = _column(conn, "SELECT key FROM band_keys WHERE gen = 0")
    if len(keys):
        conn.execute("INSERT INTO band_gens VALUES (0, 0, ?, ?)",
                     (len(keys), bloom_of(keys, len(keys)).tobytes()))


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    """Version 3 kept a cluster per article (components of articles); version 4
    one per match (components of matches, :mod:`dedup.cluster`). Each match
    reaching ``cluster.min_score`` starts in its articles' old cluster, then
    every cluster is recomputed (:func:`dedup.index.ops.recluster_all`)."""
    from dedup.index.ops import recluster_all  # ops builds on this module

    conn.execute("ALTER TABLE matches ADD COLUMN cluster INTEGER")
    conn.execute("CREATE INDEX matches_cluster ON matches(cluster) WHERE cluster IS NOT NULL")
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    overlap = str(Config().cluster.min_overlap)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('setting.cluster.min_overlap', ?)",
                 (overlap,))
    conn.execute("UPDATE matches SET cluster = (SELECT cluster FROM articles WHERE pk = a) "
                 "WHERE score >= ?", (float(meta.get("setting.cluster.min_score", "0")),))
    recluster_all(conn)


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    """Version 4 counted the articles and passage windows from the
    ``articles`` table at every batch; version 5 keeps the counts in ``meta``."""
    n, p = _counted(conn)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                     [("articles", str(n)), ("passages", str(p))])


def _counted(conn: sqlite3.Connection, pks: Sequence[int] | None = None) -> tuple[int, int]:
    """(articles, passage windows) counted in the ``articles`` table: all of
    them, or those of ``pks``."""
    sql = "SELECT COUNT(*), COALESCE(SUM(n_passages), 0) FROM articles"
    n, p = (conn.execute(sql).fetchone() if pks is None else
            conn.execute(sql + " WHERE pk IN (SELECT value FROM json_each(?))",
                         (_ints(pks),)).fetchone())
    return int(n), int(p)


#: schema version -> the step that brings a file of that version to the next.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}


def _column(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> np.ndarray:
    """One int64 column of a query, as uint64 (band keys keep their bits)."""
    cur = conn.execute(sql, params)
    parts = []
    while rows := cur.fetchmany(1_000_000):
        parts.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
    return (np.concatenate(parts) if parts else np.zeros(0, np.int64)).view(np.uint64)


def _bloom_words(hashed: np.ndarray, n_words: int) -> np.ndarray:
    """The word in a filter of ``n_words`` (a power of two) of each key, from
    the key's first hash (``key * _BLOOM_MULTIPLIERS[0]``)."""
    shift = np.uint64(65 - n_words.bit_length())
    return (hashed >> shift).astype(np.intp)


def _bloom_masks(keys: np.ndarray) -> np.ndarray:
    """The bits of each uint64 key within its word: ``BLOOM_HASHES`` 6-bit
    fields from the top of a second multiply-shift hash."""
    h = keys * _BLOOM_MULTIPLIERS[1]
    mask = np.zeros(len(keys), dtype=np.uint64)
    for i in range(1, BLOOM_HASHES + 1):
        mask |= np.left_shift(np.uint64(1), (h >> np.uint64(64 - 6 * i)) & np.uint64(63))
    return mask


def bloom_of(keys: np.ndarray, rows: int) -> np.ndarray:
    """A blocked Bloom filter (uint64 words) for ``rows`` rows holding ``keys``."""
    n_words = max(_BLOOM_MIN_WORDS, 1 << max(0, (rows * BLOOM_BITS_PER_ROW - 1) // 64)
                  .bit_length())
    bloom = np.zeros(n_words, dtype=_BLOOM_WORD)
    bloom_add(bloom, keys)
    return bloom


def bloom_add(bloom: np.ndarray, keys: np.ndarray) -> None:
    """Set the bits of ``keys`` in a filter (in place), a million keys at a time."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    for lo in range(0, len(keys), 1 << 20):
        part = keys[lo : lo + (1 << 20)]
        np.bitwise_or.at(bloom, _bloom_words(part * _BLOOM_MULTIPLIERS[0], len(bloom)),
                         _bloom_masks(part))


def bloom_test(bloom: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which keys the filter may hold (False: certainly not)."""
    return BloomProbe(keys).test(bloom)


class BloomProbe:
    """Keys hashed once, to be tested against several filters (one per
    generation): the per-filter work is one shift and one gather."""

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        self.hashed = keys * _BLOOM_MULTIPLIERS[0]
        self.mask = _bloom_masks(keys)

    def test(self, bloom: np.ndarray) -> np.ndarray:
        """Which keys ``bloom`` may hold (False: certainly not)."""
        words = _bloom_words(self.hashed, len(bloom))
        return (bloom[words] & self.mask) == self.mask


@dataclass(frozen=True)
class IndexParams:
    """Limits on the posting lists a batch reads.

    Passage keywords are the rare terms of each sentence window; a scan drops
    terms found in more than ``tfidf.passage_max_df`` (1%) of its windows. In
    an index that relative limit grows with the index, and so did the cost of
    a batch: the posting lists of its keywords grew linearly (14M posting rows
    read for a batch of 1,000 at 100k articles, 34 s). The absolute
    ``passage_max_postings`` (default 1,000: the scan's own limit at 100,000
    windows, about 10,000 news articles) bounds every list a batch reads:
    3.0M rows at 50k, 3.6M at 100k, and the batch took 27 s at 100k (10.8 s
    since band keys are kept in generations and article lookups capped), with
    the same recall of its true pairs (0.998) as without the cap
    (``benchmarks/index_bench.py``; the calibration of the value is in
    benchmarks/CALIBRATION.md). Both values are kept in the file (pinned):
    stored passage keywords depend on the first. An index built before this
    default keeps the limits it was built with.

    Attributes:
        passage_max_postings: A term found in more stored passage windows than
            this is not a passage keyword (besides ``tfidf.passage_max_df``,
            the scan's relative limit; the smaller wins). None: no limit.
        doc_max_postings: Article keywords found in more stored articles than
            this are not looked up (default 100: about as many articles as
            the 1,000 passage windows of ``passage_max_postings``). Without
            it the article keyword lists a batch reads grew linearly with the
            index (0.27M rows at 10k articles, 1.80M at 100k); with it they
            stay level (0.16M / 0.34M / 0.25M at 10k / 50k / 100k), at the
            same recall of the batches' true pairs and a higher precision
            (benchmarks/CALIBRATION.md, "Article keyword cap"). A cap only
            limits lookups, nothing stored depends on it. None: no limit.
    """

    passage_max_postings: int | None = 1000
    doc_max_postings: int | None = 100

    def __post_init__(self) -> None:
        for name in ("passage_max_postings", "doc_max_postings"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 2):
                raise ConfigError(f"index.{name} must be None or an integer of at least 2, "
                                  f"got {value!r}")

    def settings(self) -> dict[str, str]:
        """The values as pinned settings."""
        return {f"index.{k}": "none" if v is None else str(v)
                for k, v in (("passage_max_postings", self.passage_max_postings),
                             ("doc_max_postings", self.doc_max_postings))}

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> IndexParams:
        """The values stored in an index (no limit for those absent)."""
        def value(name: str) -> int | None:
            text = settings.get(f"index.{name}", "none")
            return None if text == "none" else int(text)

        return cls(passage_max_postings=value("passage_max_postings"),
                   doc_max_postings=value("doc_max_postings"))


def pinned_settings(config: Config) -> dict[str, str]:
    """The settings an index is built with and must keep: stored signatures,
    band keys, term columns and keyword postings depend on them.

    Example:
        >>> pinned_settings(Config())["sketch.num_perm"]
        '128'
    """
    sketch, tfidf = config.sketch, config.tfidf
    bands, rows = lsh_mod.band_params(config.lsh.threshold, sketch.num_perm)
    values: dict[str, Any] = {
        "sketch.num_perm": sketch.num_perm,
        "sketch.seed": sketch.seed,
        "sketch.shingle_size": sketch.shingle_size,
        "sketch.window": sketch.window,
        "sketch.stride": sketch.stride,
        "lsh.bands": bands,
        "lsh.rows": rows,
        "tfidf.n_features": tfidf_mod.N_FEATURES,
        "tfidf.keywords": tfidf.keywords,
        "tfidf.passage_sentences": tfidf.passage_sentences,
        "tfidf.passage_stride": tfidf.passage_stride,
        "tfidf.passage_keywords": tfidf.passage_keywords,
        # stored clusters are the components of the matches reaching it
        "cluster.min_score": config.cluster.min_score,
        "cluster.min_overlap": config.cluster.min_overlap,
        # what a stored profile holds: a profile of another shape cannot be aligned
        "profile.fields": ",".join(_PROFILE_FIELDS),
    }
    return {k: str(v) for k, v in values.items()}


def with_pinned(config: Config, settings: dict[str, str]) -> Config:
    """``config`` with the values of an index's pinned ``settings`` (those that are
    settings of a :class:`~dedup.config.Config`; ``lsh.bands`` and the like are
    derived, and checked on open): an index keeps the settings it was built with
    when the defaults change.

    Example:
        >>> with_pinned(Config(), {"tfidf.passage_sentences": "3", "lsh.bands": "16"}
        ...             ).tfidf.passage_sentences
        3
    """
    known = []
    for name, value in sorted(settings.items()):
        try:
            config.with_settings([f"{name}={value}"])
        except ConfigError:
            continue
        known.append(f"{name}={value}")
    return config.with_settings(known)


def settings_in(meta: dict[str, str]) -> dict[str, str]:
    """The pinned settings held in an index's ``meta`` values (``setting.*``)."""
    return {k[len("setting."):]: v for k, v in meta.items() if k.startswith("setting.")}


# --------------------------------------------------------------------------- array codec


def _narrow(arr: np.ndarray) -> np.ndarray:
    """The same values in the smallest dtype that holds them exactly."""
    if arr.size == 0:
        return arr
    if arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        for dt in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32):
            info = np.iinfo(dt)
            if info.min <= lo and hi <= info.max:
                return arr.astype(dt)
        return arr
    if (arr.dtype.kind == "f" and np.all(arr == np.round(arr)) and arr.min() >= 0
            and arr.max() <= 65535):
        return arr.astype(np.uint8 if arr.max() <= 255 else np.uint16)
    return arr


def encode_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """A compact binary form of named numpy arrays (each stored in the smallest
    dtype holding its values; :func:`decode_arrays` restores the dtypes)."""
    parts = [_MAGIC, struct.pack("<H", len(arrays))]
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        small = _narrow(arr)
        key = name.encode()
        orig, stored = arr.dtype.str.encode(), small.dtype.str.encode()
        parts.append(struct.pack("<BBBB", len(key), len(orig), len(stored), arr.ndim))
        parts += [key, orig, stored, struct.pack(f"<{arr.ndim}Q", *arr.shape)]
        parts.append(small.astype(small.dtype.newbyteorder("<"), copy=False).tobytes())
    return b"".join(parts)


def decode_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays written by :func:`encode_arrays`.

    Raises:
        IndexError_: The data is not in that format.
    """
    if data[:4] != _MAGIC:
        raise IndexError_(f"corrupt stored arrays: expected magic {_MAGIC!r}, "
                          f"got {bytes(data[:4])!r}")
    (count,) = _U16.unpack_from(data, 4)
    pos, out = 6, {}
    view = memoryview(data)
    for _ in range(count):
        n_key, n_orig, n_stored, ndim = _HEAD.unpack_from(data, pos)
        pos += 4
        end = pos + n_key + n_orig + n_stored
        # the names and dtype codes of a layout repeat from blob to blob: parsed once
        name, orig, stored = _head_strings(bytes(view[pos:end]), n_key, n_orig)
        pos = end
        if ndim == 1:
            (size,) = _U64.unpack_from(data, pos)
            shape: tuple[int, ...] = (size,)
        else:
            shape = struct.unpack_from(f"<{ndim}Q", data, pos)
            size = math.prod(shape)
        pos += 8 * ndim
        arr = np.frombuffer(data, dtype=stored, count=size, offset=pos)
        pos += size * stored.itemsize
        arr = arr.astype(orig)  # a writable copy in the original dtype
        out[name] = arr if ndim == 1 else arr.reshape(shape)
    return out


_U64 = struct.Struct("<Q")


@lru_cache(maxsize=256)
def _head_strings(head: bytes, n_key: int, n_orig: int
                  ) -> tuple[str, np.dtype[Any], np.dtype[Any]]:
    return (head[:n_key].decode(), _dtype(head[n_key : n_key + n_orig]),
            _dtype(head[n_key + n_orig :]))


_U16 = struct.Struct("<H")
_HEAD = struct.Struct("<BBBB")


@lru_cache(maxsize=64)
def _dtype(code: bytes) -> np.dtype[Any]:
    return np.dtype(code.decode())


def encode_profile(profile: Profile) -> bytes:
    """The stored form of a profile, all but its signature (stored apart, see
    :func:`encode_signature`)."""
    arrays = {name: getattr(profile, name) for name in _PROFILE_FIELDS}
    arrays["length"] = np.array([profile.length], dtype=np.int64)
    return encode_arrays(arrays)


def decode_profile(data: bytes, signature: np.ndarray) -> Profile:
    """The profile written by :func:`encode_profile`, with its signature."""
    arrays = decode_arrays(data)
    length = int(arrays.pop("length")[0])
    return Profile(length=length, signature=signature, **arrays)


def encode_signature(signature: np.ndarray, seed: int) -> bytes:
    """A whole-text signature as a serialized datasketch ``LeanMinHash``."""
    lean = sketch_mod.to_lean(signature, seed)
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    return bytes(buf)


def decode_signature(data: bytes, num_perm: int, seed: int) -> np.ndarray:
    """The signature of a stored ``LeanMinHash`` (refused if of another shape or seed)."""
    lean = LeanMinHash.deserialize(data)
    try:
        return sketch_mod.from_lean(lean, num_perm, seed)
    except ValueError as exc:
        raise IndexError_(f"stored signature does not fit the index: {exc}") from exc


def content_hash(text: str) -> bytes:
    """The first 16 bytes of the SHA-256 of a text (to tell unchanged articles)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:16]


def as_signed(keys: np.ndarray) -> np.ndarray:
    """uint64 band keys as the int64 SQLite stores (same bits)."""
    return np.ascontiguousarray(keys, dtype=np.uint64).view(np.int64)


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class StoredArticle:
    """An article row (its profile is read separately)."""

    pk: int
    id: str
    title: str | None
    url: str | None
    published: str | None
    source: str | None
    added: float
    chars: int
    content_hash: bytes
    wire_agency: str | None
    wire_evidence: str | None
    n_passages: int
    cluster: int | None


_ARTICLE_COLUMNS = ("pk, id, title, url, published, source, added, chars, content_hash, "
                    "wire_agency, wire_evidence, n_passages, cluster")
_MATCH_COLUMNS = ("a, b, score, jaccard, cosine, reuse_a_in_b, reuse_b_in_a, passages, "
                  "cluster")


@dataclass(frozen=True)
class NewArticle:
    """What is inserted for one article."""

    id: str
    title: str | None
    url: str | None
    published: str | None
    published_ts: float | None
    source: str | None
    chars: int
    content_hash: bytes
    wire_agency: str | None
    wire_evidence: str | None
    n_passages: int
    neighbours: np.ndarray
    profile: bytes
    signature: bytes
    postings: bytes


@dataclass(frozen=True)
class MatchRow:
    """A stored match between articles ``a`` and ``b`` (primary keys)."""

    a: int
    b: int
    score: float
    jaccard: float
    cosine: float
    reuse_a_in_b: float
    reuse_b_in_a: float
    passages: str
    cluster: int | None = None


@dataclass(frozen=True)
class ClusterRow:
    """A stored cluster."""

    id: int
    source: int | None
    source_reason: str | None
    size: int


def _ints(values: Iterable[int]) -> str:
    """A JSON array of integers, for ``json_each`` (one parameter for any count)."""
    return json.dumps([int(v) for v in values])


# --------------------------------------------------------------------------- the index


class Index:
    """An open index file. Use :meth:`open`; close it (or use ``with``).

    Attributes:
        path: The file.
        settings: Its pinned settings (see :func:`pinned_settings`).
        params: Its :class:`IndexParams`.
        schema_version: Its schema version.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, settings: dict[str, str],
                 lock_timeout: float) -> None:
        self._conn = conn
        self.path = path
        self.settings = settings
        self.params = IndexParams.from_settings(settings)
        self.schema_version = SCHEMA_VERSION
        self.lock_timeout = lock_timeout
        self._in_transaction = False

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        config: Config | None = None,
        *,
        create: bool = False,
        lock_timeout: float = 600.0,
        params: IndexParams | None = None,
    ) -> Index:
        """Open (or, with ``create``, make) an index file.

        Args:
            path: The SQLite file.
            config: Settings to check against the pinned ones; None to skip the
                check (for stats, export and prune, which depend on none).
            create: Make the file when it does not exist.
            lock_timeout: Seconds to wait for another process's transaction.
            params: Limits of a new index (default ``IndexParams()``); for an
                existing one, checked against those it was made with.

        Raises:
            IndexError_: No such index (without ``create``), not an SQLite file
                or not a dedup index, a newer or unupgradable schema, settings
                that differ from the pinned ones, or the lock wait expired.
        """
        file = Path(path)
        if file.is_dir():
            raise IndexError_(f"{file}: is a directory, expected an index file")
        if not file.exists():
            if not create:
                raise IndexError_(f"{file}: no index there (create one with 'dedup index add')")
            if not file.parent.is_dir():
                raise IndexError_(f"{file}: directory {file.parent} does not exist")
        if lock_timeout < 0:
            raise IndexError_(f"lock timeout must be at least 0 seconds, got {lock_timeout}")
        try:
            conn = sqlite3.connect(file, timeout=lock_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise IndexError_(f"{file}: cannot open: {exc}") from exc
        try:
            with _translated(file, lock_timeout):
                settings = _prepare(conn, file, config, create, params)
        except BaseException:
            conn.close()
            raise
        return cls(conn, file, settings, lock_timeout)

    def close(self) -> None:
        """Close the connection (a transaction still open is rolled back)."""
        self._conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, write: bool) -> Iterator[None]:
        """One transaction: ``BEGIN IMMEDIATE`` for a writer (waits for other
        writers up to ``lock_timeout``), a deferred read snapshot otherwise.
        Committed on success, rolled back on any exception."""
        with _translated(self.path, self.lock_timeout):
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._in_transaction = False
                self._conn.execute("ROLLBACK")
                raise
            self._in_transaction = False
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement (for stats and checks)."""
        with _translated(self.path, self.lock_timeout):
            return self._conn.execute(sql, params)

    def checkpoint(self) -> None:
        """Fold the WAL into the main file when no reader needs it (best effort)."""
        with suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # ----------------------------------------------------------------- meta

    def meta(self) -> dict[str, str]:
        """All meta values."""
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def next_cluster_ids(self, count: int) -> list[int]:
        """Reserve ``count`` new cluster ids (inside a write transaction)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='next_cluster_id'").fetchone()
        first = int(row[0]) if row else 1
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_cluster_id', ?)",
                           (str(first + count),))
        return list(range(first, first + count))

    def peek_cluster_ids(self, count: int) -> list[int]:
        """The ids :meth:`next_cluster_ids` would give, without reserving them."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='next_cluster_id'").fetchone()
        first = int(row[0]) if row else 1
        return list(range(first, first + count))

    # ----------------------------------------------------------------- reads

    def counts(self) -> tuple[int, int]:
        """(articles, passage windows) in the index (kept in ``meta``)."""
        rows = dict(self._conn.execute(
            "SELECT key, value FROM meta WHERE key IN ('articles', 'passages')").fetchall())
        return int(rows["articles"]), int(rows["passages"])

    def _add_counts(self, articles: int, passages: int) -> None:
        self._conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + (CASE key WHEN 'articles' "
            "THEN ? ELSE ? END) WHERE key IN ('articles', 'passages')", (articles, passages))

    def find_ids(self, ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """``id -> (pk, content_hash)`` for the ids that are in the index."""
        out: dict[str, tuple[int, bytes]] = {}
        for lo in range(0, len(ids), 10_000):
            rows = self._conn.execute(
                "SELECT id, pk, content_hash FROM articles "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(ids[lo : lo + 10_000])),)).fetchall()
            out.update({r[0]: (int(r[1]), bytes(r[2])) for r in rows})
        return out

    def articles(self, pks: Iterable[int]) -> dict[int, StoredArticle]:
        """Article rows by primary key."""
        rows = self._conn.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE pk IN "
            "(SELECT value FROM json_each(?))", (_ints(pks),)).fetchall()
        return {int(r[0]): _stored(r) for r in rows}

    def clusters(self, cluster_ids: Iterable[int]) -> dict[int, ClusterRow]:
        """Cluster rows by id."""
        rows = self._conn.execute(
            "SELECT id, source, source_reason, size FROM clusters WHERE id IN "
            "(SELECT value FROM json_each(?))", (_ints(cluster_ids),)).fetchall()
        return {int(r[0]): ClusterRow(int(r[0]), r[1], r[2], int(r[3])) for r in rows}

    def term_frequencies(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored (articles, passages) counts of each term (0 when unknown)."""
        docs = np.zeros(len(terms), dtype=np.int64)
        passages = np.zeros(len(terms), dtype=np.int64)
        if len(terms) == 0:
            return docs, passages
        rows = self._conn.execute(
            "SELECT term, docs, passages FROM terms WHERE term IN "
            "(SELECT value FROM json_each(?))", (_ints(terms.tolist()),)).fetchall()
        if rows:
            found = np.array(rows, dtype=np.int64)
            idx = np.searchsorted(terms, found[:, 0])
            docs[idx], passages[idx] = found[:, 1], found[:, 2]
        return docs, passages

    def bucket_members(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key, article) rows of the stored band keys among ``keys`` (uint64):
        each generation is asked for the keys its Bloom filter may hold."""
        uniq = unique(np.ascontiguousarray(keys, dtype=np.uint64))
        probe = BloomProbe(uniq)
        found_k, found_a = [], []
        for gen, blob in self._conn.execute("SELECT gen, bloom FROM band_gens ORDER BY gen"):
            maybe = uniq[probe.test(np.frombuffer(blob, dtype=_BLOOM_WORD))]
            if len(maybe):
                k, a = self._pairs("SELECT key, article FROM band_keys WHERE gen = ? AND key IN "
                                   "(SELECT value FROM json_each(?))", as_signed(maybe),
                                   unsigned=True, params=(gen,))
                found_k.append(k)
                found_a.append(a)
        if not found_k:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_k), np.concatenate(found_a)

    def doc_postings(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term, article, weight) of the article keywords among ``terms``."""
        return self._postings("doc_postings", terms)

    def passage_postings(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term, passage, weight) of the passage keywords among ``terms``."""
        return self._postings("passage_postings", terms)

    def neighbours(self, pks: Iterable[int]) -> dict[int, np.ndarray]:
        """The stored neighbour cosines (float32, descending) of some articles."""
        rows = self._conn.execute(
            "SELECT pk, neighbours FROM articles WHERE pk IN (SELECT value FROM json_each(?))",
            (_ints(pks),)).fetchall()
        return {int(pk): np.frombuffer(blob, dtype="<f4").astype(np.float32)
                for pk, blob in rows}

    def profiles(self, pks: Iterable[int]) -> dict[int, Profile]:
        """Stored profiles by primary key."""
        rows = self._conn.execute(
            "SELECT article, profile, signature FROM profiles WHERE article IN "
            "(SELECT value FROM json_each(?))", (_ints(pks),)).fetchall()
        num_perm, seed = int(self.settings["sketch.num_perm"]), int(self.settings["sketch.seed"])
        return {int(pk): decode_profile(blob, decode_signature(sig, num_perm, seed))
                for pk, blob, sig in rows}

    def profiled(self, pks: Iterable[int]) -> set[int]:
        """Those of ``pks`` that have a stored profile (without reading it)."""
        return {int(pk) for (pk,) in self._conn.execute(
            "SELECT article FROM profiles WHERE article IN (SELECT value FROM json_each(?))",
            (_ints(pks),))}

    def postings_of(self, pks: Iterable[int]) -> dict[int, dict[str, np.ndarray]]:
        """What each article added to the inverted tables and term counts."""
        rows = self._conn.execute(
            "SELECT article, postings FROM profiles WHERE article IN "
            "(SELECT value FROM json_each(?))", (_ints(pks),)).fetchall()
        return {int(pk): decode_arrays(blob) for pk, blob in rows}

    def signature(self, pk: int) -> np.ndarray:
        """The whole-text MinHash signature of an article."""
        row = self._conn.execute("SELECT signature FROM profiles WHERE article=?",
                                 (pk,)).fetchone()
        if row is None:
            raise KeyError(pk)
        return decode_signature(row[0], int(self.settings["sketch.num_perm"]),
                                int(self.settings["sketch.seed"]))

    def matches_of(self, pks: Iterable[int]) -> list[MatchRow]:
        """Stored matches with either side among ``pks``."""
        rows = self._conn.execute(
            f"SELECT {_MATCH_COLUMNS} FROM matches WHERE a IN (SELECT value FROM json_each(?1)) "
            f"UNION SELECT {_MATCH_COLUMNS} FROM matches "
            "WHERE b IN (SELECT value FROM json_each(?1))", (_ints(pks),)).fetchall()
        return sorted((MatchRow(*r) for r in rows), key=lambda m: (m.a, m.b))

    def clusters_of(self, pks: Iterable[int]) -> set[int]:
        """The clusters of the stored matches with either side among ``pks``."""
        rows = self._conn.execute(
            "SELECT cluster FROM matches WHERE a IN (SELECT value FROM json_each(?1)) "
            "AND cluster IS NOT NULL UNION SELECT cluster FROM matches "
            "WHERE b IN (SELECT value FROM json_each(?1)) AND cluster IS NOT NULL",
            (_ints(pks),)).fetchall()
        return {int(r[0]) for r in rows}

    def cluster_matches(self, cluster_ids: Iterable[int]) -> list[MatchRow]:
        """Stored matches of some clusters."""
        rows = self._conn.execute(
            f"SELECT {_MATCH_COLUMNS} FROM matches "
            "WHERE cluster IN (SELECT value FROM json_each(?))", (_ints(cluster_ids),)).fetchall()
        return sorted((MatchRow(*r) for r in rows), key=lambda m: (m.a, m.b))

    def aged_before(self, cutoff: float) -> list[int]:
        """Articles published (or, without a date, added) before ``cutoff`` (epoch s)."""
        rows = self._conn.execute(
            "SELECT pk FROM articles WHERE coalesce(published_ts, added) < ? ORDER BY pk",
            (cutoff,)).fetchall()
        return [int(r[0]) for r in rows]

    def iter_export(self) -> Iterator[tuple[Any, ...]]:
        """Articles with their cluster's source id, ordered by id."""
        yield from self._conn.execute(
            "SELECT a.id, a.title, a.url, a.published, a.source, a.added, a.chars, "
            "a.content_hash, a.wire_agency, a.cluster, s.id "
            "FROM articles a LEFT JOIN clusters c ON c.id = a.cluster "
            "LEFT JOIN articles s ON s.pk = c.source ORDER BY a.id")

    # ----------------------------------------------------------------- writes

    def insert_articles(self, rows: Sequence[NewArticle], added: float) -> list[int]:
        """Insert articles and their profiles; their primary keys, in order."""
        pks = []
        for r in rows:
            cur = self._conn.execute(
                "INSERT INTO articles (id, title, url, published, published_ts, source, added, "
                "chars, content_hash, wire_agency, wire_evidence, n_passages, neighbours) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (r.id, r.title, r.url, r.published, r.published_ts, r.source, added, r.chars,
                 r.content_hash, r.wire_agency, r.wire_evidence, r.n_passages,
                 r.neighbours.astype("<f4").tobytes()))
            pk = cur.lastrowid
            if pk is None:  # not reached: an INSERT always sets it
                raise IndexError_(f"no row id for article {r.id!r}")
            self._conn.execute("INSERT INTO profiles VALUES (?, ?, ?, ?)",
                               (pk, r.profile, r.signature, r.postings))
            pks.append(int(pk))
        self._add_counts(len(rows), sum(r.n_passages for r in rows))
        return pks

    def delete_articles(self, pks: Sequence[int]) -> None:
        """Delete article rows (their profiles and matches go with them)."""
        n, p = _counted(self._conn, pks)
        self._add_counts(-n, -p)
        self._conn.execute("DELETE FROM articles WHERE pk IN (SELECT value FROM json_each(?))",
                           (_ints(pks),))

    def add_band_keys(self, keys: np.ndarray, articles: np.ndarray) -> None:
        """Insert (key, article) rows (keys uint64) of new articles (pks above
        every stored one) into the newest generation and its filter, filling
        it to ``BAND_GENERATION_ROWS``; the articles that do not fit begin the
        next (an article's rows are never split)."""
        if len(keys) == 0:
            return
        by_article = np.argsort(articles, kind="stable")
        keys = np.ascontiguousarray(keys, dtype=np.uint64)[by_article]
        articles = np.asarray(articles, dtype=np.int64)[by_article]
        last = self._conn.execute("SELECT gen, first_article, rows, bloom FROM band_gens "
                                  "ORDER BY gen DESC LIMIT 1").fetchone()
        if last is None:
            gen, first, rows = 0, int(articles[0]), 0
            bloom = np.zeros(0, dtype=_BLOOM_WORD)
        else:
            gen, first, rows = last[0], last[1], last[2]
            bloom = np.frombuffer(last[3], dtype=_BLOOM_WORD).copy()
        start = 0
        while start < len(keys):
            end = start + max(0, BAND_GENERATION_ROWS - rows)
            if end < len(keys):  # back to the first row of the article cut at ``end``
                end = int(np.searchsorted(articles, articles[end], side="left"))
            if end <= start and rows == 0:  # one article over the capacity: alone
                end = int(np.searchsorted(articles, articles[start], side="right"))
            if end > start:
                self._add_to_generation(gen, first, rows, bloom, keys[start:end],
                                        articles[start:end])
                start = end
            if start < len(keys):
                gen, first, rows = gen + 1, int(articles[start]), 0
                bloom = np.zeros(0, dtype=_BLOOM_WORD)

    def _add_to_generation(self, gen: int, first: int, rows: int, bloom: np.ndarray,
                           keys: np.ndarray, articles: np.ndarray) -> None:
        """Rows into one generation (which holds ``rows`` with filter ``bloom``)."""
        order = np.lexsort((articles, as_signed(keys)))
        self._conn.executemany(
            "INSERT OR IGNORE INTO band_keys VALUES (?, ?, ?)",
            zip(repeat(gen), as_signed(keys)[order].tolist(), articles[order].tolist()))
        if rows == 0:  # a new generation: its keys are these
            bloom = bloom_of(keys, len(keys))
        elif len(bloom) * 64 < (rows + len(keys)) * BLOOM_BITS_PER_ROW:  # grown out of it
            bloom = bloom_of(_column(self._conn, "SELECT key FROM band_keys WHERE gen = ?",
                                     (gen,)), rows + len(keys))
        else:
            bloom_add(bloom, keys)
        self._conn.execute("INSERT OR REPLACE INTO band_gens VALUES (?, ?, ?, ?)",
                           (gen, first, rows + len(keys), bloom.tobytes()))

    def remove_band_keys(self, keys: np.ndarray, articles: np.ndarray, scan: bool) -> None:
        """Delete (key, article) rows; ``scan`` deletes by article over the whole
        table instead (faster when many articles go at once)."""
        if scan:
            self._conn.execute(
                "DELETE FROM band_keys WHERE article IN (SELECT value FROM json_each(?))",
                (_ints(unique(articles).tolist()),))
            return
        gens = self._conn.execute("SELECT gen, first_article FROM band_gens ORDER BY gen"
                                  ).fetchall()
        if not gens:
            return
        first = np.array([g[1] for g in gens], dtype=np.int64)
        gen_of = np.array([g[0] for g in gens], dtype=np.int64)[
            np.maximum(np.searchsorted(first, articles, side="right") - 1, 0)]
        self._conn.executemany("DELETE FROM band_keys WHERE gen = ? AND key = ? AND article = ?",
                               zip(gen_of.tolist(), as_signed(keys).tolist(),
                                   articles.tolist()))

    def add_postings(self, table: str, terms: np.ndarray, owners: np.ndarray,
                     weights: np.ndarray) -> None:
        """Add postings to ``doc_postings`` or ``passage_postings``: one new chunk
        per term, or, for a term that has ``MAX_CHUNKS - 1`` already, one chunk
        holding all of its list."""
        _check_table(table)
        if len(terms) == 0:
            return
        q = np.clip(np.rint(weights * WEIGHT_SCALE), 1, WEIGHT_SCALE).astype(np.uint16)
        order = np.lexsort((owners, terms))
        terms, owners, q = terms[order], owners[order], q[order]
        uniq, starts = np.unique(terms, return_index=True)
        bounds = np.append(starts, len(terms))
        counts = dict(self._conn.execute(
            f"SELECT term, COUNT(*) FROM {table} WHERE term IN "
            "(SELECT value FROM json_each(?)) GROUP BY term", (_ints(uniq.tolist()),)))
        full = sorted(t for t, c in counts.items() if c >= MAX_CHUNKS - 1)
        old = self._records(table, np.array(full, dtype=np.int64)) if full else {}
        if full:
            self._conn.execute(f"DELETE FROM {table} WHERE term IN "
                               "(SELECT value FROM json_each(?))", (_ints(full),))
        chunk = self._next_chunk()
        rows = []
        for t, lo, hi in zip(uniq.tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
            rec = np.empty(hi - lo, dtype=POSTING)
            rec["owner"], rec["weight"] = owners[lo:hi], q[lo:hi]
            if t in old:
                rec = np.concatenate([old[t], rec])
            rows.append((t, chunk, rec.tobytes()))
        self._conn.executemany(f"INSERT INTO {table} (term, chunk, data) VALUES (?, ?, ?)",
                               rows)

    def remove_postings(self, table: str, terms: np.ndarray, owners: np.ndarray,
                        scan_articles: Sequence[int] | None = None) -> None:
        """Remove the postings (term, owner) given; with ``scan_articles``, every
        posting of those articles, over the whole table (for large removals).
        The lists touched are rewritten as one chunk each."""
        _check_table(table)
        if scan_articles is not None:
            gone = unique(np.asarray(scan_articles, dtype=np.int64))
            shift = PASSAGE_BITS if table == "passage_postings" else 0
            changed: list[tuple[int, int, bytes | None]] = []
            for term, chunk, data in self._conn.execute(f"SELECT term, chunk, data FROM {table}"):
                rec = np.frombuffer(data, dtype=POSTING)
                drop = np.isin(rec["owner"] >> shift, gone)
                if drop.any():
                    kept = rec[~drop]
                    changed.append((term, chunk, kept.tobytes() if len(kept) else None))
            self._conn.executemany(f"DELETE FROM {table} WHERE term = ? AND chunk = ?",
                                   ((t, c) for t, c, d in changed if d is None))
            self._conn.executemany(f"UPDATE {table} SET data = ? WHERE term = ? AND chunk = ?",
                                   ((d, t, c) for t, c, d in changed if d is not None))
            return
        if len(terms) == 0:
            return
        uniq = unique(terms)
        old = self._records(table, uniq)
        self._conn.execute(f"DELETE FROM {table} WHERE term IN (SELECT value FROM json_each(?))",
                           (_ints(uniq.tolist()),))
        order = np.argsort(terms, kind="stable")
        t_sorted, o_sorted = terms[order], owners[order]
        bounds = np.searchsorted(t_sorted, uniq).tolist() + [len(t_sorted)]
        chunk = self._next_chunk()
        rows = []
        for t, lo, hi in zip(uniq.tolist(), bounds[:-1], bounds[1:]):
            if t not in old:
                continue
            kept = old[t][~np.isin(old[t]["owner"], o_sorted[lo:hi])]
            if len(kept):
                rows.append((t, chunk, kept.tobytes()))
        self._conn.executemany(f"INSERT INTO {table} (term, chunk, data) VALUES (?, ?, ?)",
                               rows)

    def all_postings(self, table: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (term, owner, weight) of an inverted table (for checks and export)."""
        _check_table(table)
        return self._postings(table, None)

    def update_terms(self, terms: np.ndarray, docs: np.ndarray, passages: np.ndarray) -> None:
        """Add (possibly negative) counts to the term table; drop terms left at 0."""
        if len(terms) == 0:
            return
        self._conn.executemany(
            "INSERT INTO terms (term, docs, passages) VALUES (?, ?, ?) ON CONFLICT(term) DO "
            "UPDATE SET docs = docs + excluded.docs, passages = passages + excluded.passages",
            zip(terms.tolist(), docs.tolist(), passages.tolist()))
        if (docs < 0).any() or (passages < 0).any():
            self._conn.execute(
                "DELETE FROM terms WHERE term IN (SELECT value FROM json_each(?)) "
                "AND docs <= 0 AND passages <= 0", (_ints(terms[(docs < 0) | (passages < 0)]),))

    def set_neighbours(self, values: dict[int, np.ndarray]) -> None:
        """Replace the stored neighbour cosines of some articles."""
        self._conn.executemany("UPDATE articles SET neighbours = ? WHERE pk = ?",
                               ((v.astype("<f4").tobytes(), pk) for pk, v in values.items()))

    def insert_matches(self, rows: Sequence[MatchRow]) -> None:
        """Insert (or replace) verified matches."""
        self._conn.executemany(
            f"INSERT OR REPLACE INTO matches ({_MATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((m.a, m.b, m.score, m.jaccard, m.cosine, m.reuse_a_in_b, m.reuse_b_in_a,
              m.passages, m.cluster) for m in rows))

    def set_match_clusters(self, rows: Iterable[tuple[int | None, int, int]]) -> None:
        """Set the cluster of stored matches: ``(cluster, a, b)`` rows."""
        self._conn.executemany("UPDATE matches SET cluster = ? WHERE a = ? AND b = ?", rows)

    def replace_clusters(self, removed: Iterable[int], clusters: Sequence[ClusterRow],
                         membership: dict[int, int | None]) -> None:
        """Drop clusters ``removed``, write ``clusters``, and set each listed
        article's cluster (None: in none)."""
        self._conn.execute("DELETE FROM clusters WHERE id IN (SELECT value FROM json_each(?))",
                           (_ints(removed),))
        # an upsert, not INSERT OR REPLACE: a replaced row would set its members'
        # cluster to NULL (ON DELETE SET NULL)
        self._conn.executemany(
            "INSERT INTO clusters (id, source, source_reason, size) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET source = excluded.source, "
            "source_reason = excluded.source_reason, size = excluded.size",
            ((c.id, c.source, c.source_reason, c.size) for c in clusters))
        self._conn.executemany("UPDATE articles SET cluster = ? WHERE pk = ?",
                               ((cid, pk) for pk, cid in membership.items()))

    # ----------------------------------------------------------------- helpers

    def _pairs(self, sql: str, values: np.ndarray, unsigned: bool = False,
               params: tuple[Any, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
        chunks: list[np.ndarray] = []
        uniq = unique(values)
        for lo in range(0, len(uniq), 200_000):
            rows = self._conn.execute(
                sql, (*params, _ints(uniq[lo : lo + 200_000].tolist()))).fetchall()
            if rows:
                chunks.append(np.array(rows, dtype=np.int64))
        found = np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.int64)
        first = found[:, 0].view(np.uint64) if unsigned else found[:, 0]
        return np.ascontiguousarray(first), np.ascontiguousarray(found[:, 1])

    def _postings(self, table: str, terms: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term, owner, weight) of the lists of ``terms`` (all lists for None)."""
        term_col, rec = self._read(table, terms)
        return term_col, rec["owner"].astype(np.int64), \
            rec["weight"].astype(np.float32) / WEIGHT_SCALE

    def _read(self, table: str, terms: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The posting records of some terms' lists and the term of each record."""
        _check_table(table)
        if terms is None:
            batches = [self._conn.execute(f"SELECT term, data FROM {table}").fetchall()]
        else:
            uniq = unique(terms).tolist()
            batches = [self._conn.execute(
                f"SELECT term, data FROM {table} WHERE term IN (SELECT value FROM json_each(?))",
                (_ints(uniq[lo : lo + 50_000]),)).fetchall() for lo in range(0, len(uniq), 50_000)]
        rows = [r for b in batches for r in b]
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=POSTING)
        rec = np.frombuffer(b"".join(r[1] for r in rows), dtype=POSTING)
        lengths = np.fromiter((len(r[1]) // POSTING.itemsize for r in rows), dtype=np.int64,
                              count=len(rows))
        term_col = np.repeat(np.fromiter((r[0] for r in rows), dtype=np.int64,
                                         count=len(rows)), lengths)
        return term_col, rec

    def _records(self, table: str, terms: np.ndarray) -> dict[int, np.ndarray]:
        """Each term's whole posting list (records), by term."""
        term_col, rec = self._read(table, terms)
        if len(term_col) == 0:
            return {}
        order = np.argsort(term_col, kind="stable")
        term_col, rec = term_col[order], rec[order]
        uniq, starts = np.unique(term_col, return_index=True)
        bounds = np.append(starts, len(term_col))
        return {int(t): rec[lo:hi] for t, lo, hi in zip(uniq, bounds[:-1], bounds[1:])}

    def _next_chunk(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'next_chunk'").fetchone()
        chunk = int(row[0]) if row else 1
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_chunk', ?)",
                           (str(chunk + 1),))
        return chunk


def _check_table(table: str) -> None:
    if table not in POSTING_TABLES:  # the name goes into SQL: only the two known ones
        raise ValueError(f"expected one of {POSTING_TABLES}, got {table!r}")


def _stored(r: Sequence[Any]) -> StoredArticle:
    return StoredArticle(int(r[0]), r[1], r[2], r[3], r[4], r[5], float(r[6]), int(r[7]),
                         bytes(r[8]), r[9], r[10], int(r[11]),
                         None if r[12] is None else int(r[12]))


@contextmanager
def _translated(path: Path, lock_timeout: float) -> Iterator[None]:
    """SQLite errors as :class:`IndexError_` with a message naming the file."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise IndexError_(
                f"{path}: locked by another process; gave up after waiting {lock_timeout:g} s "
                "(see --lock-timeout)") from exc
        raise IndexError_(f"{path}: {text}") from exc
    except sqlite3.DatabaseError as exc:
        raise IndexError_(f"{path}: not a usable index ({exc})") from exc


def _prepare(conn: sqlite3.Connection, path: Path, config: Config | None,
             create: bool, params: IndexParams | None) -> dict[str, str]:
    """Set the pragmas, create or upgrade the schema, check the settings."""
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of page cache
    conn.execute("PRAGMA temp_store = MEMORY")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        if not create:
            raise IndexError_(f"{path}: not a dedup index (the database is empty)")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                _create(conn, config or Config(), params or IndexParams())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    else:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID or "meta" not in tables:
            raise IndexError_(f"{path}: not a dedup index (an SQLite file of something else)")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise IndexError_(f"{path}: schema version {version} is newer than this dedup "
                          f"understands ({SCHEMA_VERSION}); upgrade dedup")
    if version < SCHEMA_VERSION:
        _upgrade(conn, path, version)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    settings = settings_in(meta)
    wanted = pinned_settings(config) if config is not None else {}
    if params is not None:
        wanted.update(params.settings())
    if wanted:
        differ = [f"{k}={settings.get(k, '(unset)')} (now {v})" for k, v in wanted.items()
                  if settings.get(k) != v]
        if differ:
            raise IndexError_(
                f"{path}: built with other settings than now: {', '.join(differ)}; "
                "stored signatures and keys would not compare - use the same settings or "
                "a new index")
    return settings


def _create(conn: sqlite3.Connection, config: Config, params: IndexParams) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    rows = [("schema_version", str(SCHEMA_VERSION)), ("next_cluster_id", "1"),
            ("created", f"{time.time():.3f}"), ("articles", "0"), ("passages", "0")]
    pinned = pinned_settings(config) | params.settings()
    rows += [(f"setting.{k}", v) for k, v in pinned.items()]
    conn.executemany("INSERT INTO meta VALUES (?, ?)", rows)


def _upgrade(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Bring a file of an older schema version up to date, or refuse."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = int(dict(conn.execute("SELECT key, value FROM meta").fetchall())
                      .get("schema_version", "0"))
        if current in _MIGRATIONS:
            # one line on stderr (logging's last resort) unless the caller configures logging
            _log.warning("%s: upgrading the index from schema version %d to %d (once; it "
                         "rewrites the tables that changed)", path, current, SCHEMA_VERSION)
        while current < SCHEMA_VERSION:
            steps = _MIGRATIONS.get(current)
            if steps is None:
                raise IndexError_(
                    f"{path}: schema version {current} is older than {SCHEMA_VERSION} and "
                    "cannot be upgraded; rebuild the index from the articles")
            steps(conn)
            current += 1
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                         (str(current),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def file_bytes(path: Path) -> int:
    """Size of the index on disk: the file and its WAL."""
    total = 0
    for suffix in ("", "-wal"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            total += part.stat().st_size
    return total


__all__ = [
    "APPLICATION_ID",
    "MAX_CHUNKS",
    "PASSAGE_BITS",
    "POSTING",
    "POSTING_TABLES",
    "SCHEMA_VERSION",
    "WEIGHT_SCALE",
    "ClusterRow",
    "Index",
    "IndexParams",
    "MatchRow",
    "NewArticle",
    "StoredArticle",
    "as_signed",
    "content_hash",
    "decode_arrays",
    "decode_profile",
    "decode_signature",
    "encode_arrays",
    "encode_profile",
    "encode_signature",
    "file_bytes",
    "pinned_settings",
]
