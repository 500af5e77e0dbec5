"""Add, query, prune, export and stats: the scan pipeline against a stored index.

A batch of new articles goes through the same stages as ``dedup scan``
(profile -> candidates -> verify -> cluster) with the index standing in for
the articles seen before:

* **profile**: :func:`dedup.pipeline.profiles_of`, before any lock is taken.
* **candidates**, each generator run over the batch and, through the inverted
  tables, over the stored articles:

  - *LSH*: the passages' band keys looked up in ``band_keys`` (each
    generation asked for the keys its Bloom filter may hold). A bucket with
    at most ``lsh.max_bucket`` stored articles gives all its pairs, a larger
    one links to its first and last stored member (the chain and star of
    :func:`dedup.lsh.candidate_pairs`).
  - *article TF-IDF*: each new article's top ``tfidf.keywords`` terms, weighted
    with document frequencies of the whole index (the ``terms`` table plus the
    batch), against the stored keywords of the old articles; its
    ``tfidf.top_k`` nearest of old and new articles are candidates, and so is
    an old article whose own top k the new one enters (its best cosines are
    kept with it).
  - *passage TF-IDF*: sentence windows as in
    :func:`dedup.tfidf.passage_keys`, with passage frequencies of the whole
    index, against the stored passage keywords; each new passage's
    ``tfidf.passage_top_k`` nearest passages.

* **verify**: stored profiles of the old candidates are loaded (at most
  ``VERIFY_CHUNK_ARTICLES`` at once: the pairs are aligned in runs of stored
  articles) and every pair is aligned with :func:`dedup.align.align` (the
  article whose id sorts first as the first text, as in a scan: see
  :func:`dedup.pipeline.align_pairs`), then scored; ``cosine`` uses the
  document frequencies of the index after the batch.
* **cluster**: a cluster is a component of the graph of matches
  (:mod:`dedup.cluster`), and each stored match keeps its cluster id. New
  matches join the clusters of the stored matches they overlap on the old
  articles they touch; clusters that lost a match (articles replaced or
  removed) are rebuilt from their stored matches. A cluster keeps its id while
  it lives (merged clusters keep the smallest), its likely original is chosen
  by :func:`dedup.cluster.likely_original` as in a scan, and each article is
  reported in the cluster of its best clustered match.

Agreement with ``dedup scan``
=============================
Alignment is a pure function of the two texts, so a pair verified both ways
gets the same ``score``, ``jaccard`` and reuse shares. (Stored passages keep
their sentence bounds: the index keeps no texts, so it cannot fit them to the
shared words as :func:`dedup.align.refine` does for a scan; reuse shares count
whole sentences in both.) The matched pairs can differ only where candidate
generation differs:

* TF-IDF weights use the term statistics of the index *when each article was
  added*, not of the final corpus; stored keyword weights are not re-weighted
  as the index grows, and terms dropped as too frequent
  (``tfidf.passage_max_df``) depend on the index size at the time;
* a new passage looks for its nearest stored passages, but an old passage
  does not look again for its own nearest among the new ones (at article level
  it does, through its stored best cosines);
* LSH buckets over ``lsh.max_bucket``: a scan links a chain and a star over the
  final bucket; the index links all pairs while a bucket is small, then the
  first and last member;
* a story run by ``tfidf.near_copy_group`` articles or more: a scan also looks
  for the nearest articles of its longest copy with the story counted once
  (:func:`dedup.pipeline.near_copy_candidates`), so that a rewrite of a story
  syndicated that widely still meets it; the index does not (yet): its
  keyword statistics count every copy;
* keyword weights are stored quantized to 1/32767;
* the limits of :class:`~dedup.index.store.IndexParams`, which keep the cost
  of a batch from growing with the index: passage keywords found in more than
  ``passage_max_postings`` stored windows are dropped (a scan drops those in
  more than ``tfidf.passage_max_df`` of its windows (at least 100) or more than
  ``tfidf.passage_max_windows``; with the defaults the same limits, the index
  using the value pinned in its file), and article keywords held by more than
  ``doc_max_postings`` stored articles are not looked up.

So the index proposes about what a scan of the same articles would, and
``cosine`` (whole-article TF-IDF, statistics of the moment) may differ a
little. On the test corpora both give the same pairs and clusters; the 300
generated articles of ``benchmarks.index_bench.corpus(300, 0)`` indexed in
10 batches of 30 hold exactly the scan's 309 pairs and 25 clusters, in
their order or shuffled (tested; an earlier version found 82 of 88 pairs and
8 more, weak same-topic pairs at the 0.3 passage cosine threshold). Each pair
is aligned with the smaller id first in both, so the order of the batches
does not matter (alignment is not quite symmetric).

Clusters are the components of the stored matches, exactly: after any
sequence of adds, updates and prunes they are those a scan's clustering would
make of the same matches (ids aside: a cluster keeps its id while it lives).
Both compare the passages on whole sentences, which the index stores.

Batches are atomic: everything after profiling runs in one ``BEGIN
IMMEDIATE`` transaction, so a killed run leaves the index as before it, and a
concurrent run waits, then sees this batch.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from dedup import pipeline
from dedup import tfidf as tfidf_mod
from dedup import wire as wire_mod
from dedup.cluster import joins, likely_original, parse_published
from dedup.config import Config
from dedup.errors import ConfigError
from dedup.index.store import (
    PASSAGE_BITS,
    ClusterRow,
    Index,
    MatchRow,
    NewArticle,
    StoredArticle,
    content_hash,
    encode_arrays,
    encode_profile,
    encode_signature,
    file_bytes,
    settings_in,
)
from dedup.model import Article, Match, Passage, Skipped
from dedup.pipeline import Profile
from dedup.text import unique, unique_pairs
from dedup.wire import WireCredit

#: Seconds to sleep inside the open transaction, just before COMMIT (tests
#: use it to kill a run mid-batch, or to hold the lock).
SLEEP_ENV = "DEDUP_TEST_SLEEP_BEFORE_COMMIT"

_EMPTY_PAIRS = np.zeros((0, 2), dtype=np.int64)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MatchRef:
    """A match seen from one article of the batch.

    Attributes:
        id: The other article.
        score: The match score.
        reuse_a_in_b: Share of this article found in the other.
        reuse_b_in_a: Share of the other article found in this one.
        indexed: The other article was already in the index and is not part
            of this batch.
    """

    id: str
    score: float
    reuse_a_in_b: float
    reuse_b_in_a: float
    indexed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": round(self.score, 4),
                "reuse_a_in_b": round(self.reuse_a_in_b, 4),
                "reuse_b_in_a": round(self.reuse_b_in_a, 4)}


@dataclass(frozen=True)
class ArticleResult:
    """What the index says about one article of a batch.

    Attributes:
        id, url, published: The article.
        status: ``"new"``, ``"updated"`` (its id was indexed with another
            text) or ``"unchanged"`` (same id and text already indexed: its
            stored matches are reported).
        matches: Its matches, best first.
        cluster: Its cluster id, or None.
        source: The likely original of that cluster, or None.
    """

    id: str
    url: str | None
    published: str | None
    status: str
    matches: tuple[MatchRef, ...]
    cluster: int | None
    source: str | None

    @property
    def reuses_indexed(self) -> bool:
        """Whether it matches an article indexed before, outside this batch."""
        return any(m.indexed for m in self.matches)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "published": self.published,
                "status": self.status, "matches": [m.to_dict() for m in self.matches],
                "cluster": self.cluster, "source": self.source}


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :func:`add` or :func:`query`.

    Attributes:
        articles: One result per article, in input order.
        skipped: Inputs that could not be read (passed through from reading).
        stats: Counts (``new``, ``updated``, ``unchanged``, candidates,
            matches) and per-stage ``seconds``.
    """

    articles: tuple[ArticleResult, ...]
    skipped: tuple[Skipped, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def reuses_indexed(self) -> bool:
        """Whether any article of the batch matches one indexed before."""
        return any(a.reuses_indexed for a in self.articles)


# --------------------------------------------------------------------------- public API


def add(index: Index, articles: Sequence[Article], config: Config | None = None, *,
        skipped: Sequence[Skipped] = ()) -> BatchResult:
    """Match a batch against the index and each other, then add it, atomically.

    An article whose id is indexed with the same text is left as it is
    (``unchanged``); with another text, its old version is replaced
    (``updated``).

    Args:
        index: An index opened with the same ``config``.
        articles: The batch (ids unique).
        config: Settings; defaults to ``Config()``.
        skipped: Inputs skipped while reading, carried into the result.

    Returns:
        The :class:`BatchResult`.

    Raises:
        IndexError_: The lock wait expired or the file cannot be written.

    Example:
        >>> with Index.open("crawl.db", create=True) as idx:  # doctest: +SKIP
        ...     result = add(idx, articles)
    """
    return _run(index, articles, config or Config(), write=True, skipped=skipped)


def query(index: Index, articles: Sequence[Article], config: Config | None = None, *,
          skipped: Sequence[Skipped] = ()) -> BatchResult:
    """What :func:`add` would report for a batch, without changing the index.

    An article whose id is indexed with another text is matched as if it
    replaced that version.
    """
    return _run(index, articles, config or Config(), write=False, skipped=skipped)


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``30d``, ``12h`` or ``2w``.

    Raises:
        ConfigError: Not a number followed by h, d or w.

    Example:
        >>> parse_duration("2d")
        172800.0
    """
    m = _DURATION.match(text)
    if not m:
        raise ConfigError(f"invalid duration {text!r}: expected a number followed by "
                          "h, d or w (e.g. 30d)")
    return float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune` removed."""

    removed: int
    remaining: int
    clusters_changed: int


def prune(index: Index, older_than: float, *, now: float | None = None) -> PruneResult:
    """Remove articles published (or, without a date, added) more than
    ``older_than`` seconds before ``now``, with their keys, matches and
    cluster memberships; the clusters they leave are recomputed.

    One transaction: a killed prune removes nothing.
    """
    cutoff = (time.time() if now is None else now) - older_than
    with index.transaction(write=True):
        pks = index.aged_before(cutoff)
        total, _ = index.counts()
        broken, orphans = _lost(index, pks)
        if pks:
            _remove(index, pks, scan=len(pks) * 10 > total)
        clustering = _recluster(index, [], [], [], set(), broken, orphans, set(),
                                *_cluster_bounds(index), write=True)
        if pks or clustering.changed:
            _write_clusters(index, clustering, {})
        _pause_before_commit()
    index.checkpoint()
    return PruneResult(len(pks), total - len(pks), len(clustering.changed))


def export(index: Index) -> Iterator[dict[str, Any]]:
    """Every indexed article with its metadata and cluster, ordered by id."""
    for (aid, title, url, published, source, added, chars, digest, wire, cluster,
         cluster_source) in index.iter_export():
        yield {
            "id": aid, "title": title, "url": url, "published": published, "source": source,
            "added": datetime.fromtimestamp(added, timezone.utc).isoformat(timespec="seconds"),
            "chars": chars, "content_hash": bytes(digest).hex(), "wire": wire,
            "cluster": cluster, "cluster_source": cluster_source,
        }


def stats(index: Index) -> dict[str, Any]:
    """Counts, file size and settings of an index."""
    n, passages = index.counts()
    n_clusters = index.execute("SELECT COUNT(*) FROM clusters").fetchone()[0]
    # an article can be in several clusters; its reported one is articles.cluster
    n_clustered = index.execute(
        "SELECT COUNT(*) FROM articles WHERE cluster IS NOT NULL").fetchone()[0]
    n_matches = index.execute("SELECT COUNT(*) FROM matches").fetchone()[0]
    gens, band_added = index.execute("SELECT COUNT(*), COALESCE(SUM(rows), 0) FROM band_gens"
                                    ).fetchone()
    size = file_bytes(index.path)
    meta = index.meta()
    return {
        "path": str(index.path),
        "schema_version": int(meta.get("schema_version", "0")),
        "articles": n,
        "passages": passages,
        "matches": int(n_matches),
        "clusters": int(n_clusters),
        "clustered_articles": int(n_clustered),
        "band_generations": int(gens),
        "band_rows_added": int(band_added),
        "file_bytes": size,
        "bytes_per_article": round(size / n) if n else None,
        "settings": dict(index.settings),
    }


# --------------------------------------------------------------------------- one batch


@dataclass
class _Found:
    """Candidates of a batch and what must be stored for its articles."""

    batch_pairs: np.ndarray = field(default_factory=lambda: _EMPTY_PAIRS)
    old_pairs: np.ndarray = field(default_factory=lambda: _EMPTY_PAIRS)
    counts: dict[str, int] = field(default_factory=dict)
    doc_posting: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    passage_posting: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    passage_df: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    n_passages: np.ndarray | None = None
    neighbours: list[np.ndarray] = field(default_factory=list)
    old_neighbours: dict[int, np.ndarray] = field(default_factory=dict)
    doc_df: tuple[np.ndarray, np.ndarray] | None = None
    #: Each new article's distinct band keys, and the article (index in the batch) of each.
    band_keys: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class _Clustering:
    """Clusters recomputed around a batch (or a removal).

    Attributes:
        clusters: id -> (members, likely original, reason) of every recomputed cluster.
        new_match_cluster: The cluster of each new match reaching ``min_score``, by (a, b) id.
        stored_match_cluster: ``(cluster, a, b)`` of stored matches whose cluster changes.
        primary: The cluster reported for each article concerned (see :func:`_primary`).
        index_pks: Primary keys of the stored articles concerned, by id.
        removed: Clusters that no longer exist.
        changed: Clusters that gained, lost or merged matches, or were removed.
    """

    clusters: dict[int, tuple[tuple[str, ...], str | None, str | None]] = field(
        default_factory=dict)
    new_match_cluster: dict[tuple[str, str], int] = field(default_factory=dict)
    stored_match_cluster: list[tuple[int | None, int, int]] = field(default_factory=list)
    primary: dict[str, int | None] = field(default_factory=dict)
    index_pks: dict[str, int] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    changed: set[int] = field(default_factory=set)


@pipeline.collection_paused()  # as in a scan: a batch's objects make no cycles
def _run(index: Index, articles: Sequence[Article], config: Config, *, write: bool,
         skipped: Sequence[Skipped]) -> BatchResult:
    seconds: dict[str, float] = {}
    ids = [a.id for a in articles]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[0]
        raise ConfigError(f"duplicate article id {dup!r} in one batch")
    hashes = [content_hash(a.text) for a in articles]

    t = time.perf_counter()
    known = index.find_ids(ids)
    todo = [i for i, a in enumerate(articles) if known.get(a.id, (0, b""))[1] != hashes[i]]
    profiles = dict(zip(todo, pipeline.profiles_of([articles[i].text for i in todo], config)))
    seconds["profile"] = time.perf_counter() - t

    t = time.perf_counter()
    with index.transaction(write=write):
        seconds["lock"] = time.perf_counter() - t
        known = index.find_ids(ids)  # again, under the lock
        status = ["new" if a.id not in known else
                  "unchanged" if known[a.id][1] == hashes[i] else "updated"
                  for i, a in enumerate(articles)]
        work = [i for i, s in enumerate(status) if s != "unchanged"]
        late = [i for i in work if i not in profiles]
        profiles.update(zip(late, pipeline.profiles_of([articles[i].text for i in late],
                                                       config)))
        replaced = [known[articles[i].id][0] for i in work if status[i] == "updated"]
        unchanged_pks = [known[articles[i].id][0] for i, s in enumerate(status)
                         if s == "unchanged"]
        excluded: set[int] = set()
        broken, orphans = _lost(index, replaced)
        if replaced:
            if write:
                _remove(index, replaced, scan=False)
            else:
                excluded = set(replaced)
        stored_refs = _stored_refs(index, unchanged_pks, set(ids))
        new_articles = [articles[i] for i in work]
        new_profiles = [profiles[i] for i in work]

        t = time.perf_counter()
        found = _candidates(index, new_profiles, config, excluded)
        seconds["candidates"] = time.perf_counter() - t

        t = time.perf_counter()
        matches, old_rows_by_pk = _verify(index, new_articles, new_profiles, found, config,
                                          excluded)
        seconds["verify"] = time.perf_counter() - t

        t = time.perf_counter()
        credits = [wire_mod.detect(a.text, a.source, a.url) for a in new_articles]
        matched_ids = {x for m in matches for x in (m.a, m.b)}
        matched_old = {r.pk for r in old_rows_by_pk.values() if r.id in matched_ids}
        clustering = _recluster(index, new_articles, credits, matches, matched_old, broken,
                                orphans, excluded, config.cluster.min_score,
                                config.cluster.min_overlap, write=write)
        seconds["cluster"] = time.perf_counter() - t
        found.counts["cluster_articles"] = len(clustering.primary)

        t = time.perf_counter()
        if write:
            pks = _write(index, new_articles, new_profiles, credits, found, matches, config,
                         clustering.new_match_cluster)
            _write_clusters(index, clustering, dict(zip((a.id for a in new_articles), pks)))
        seconds["write"] = time.perf_counter() - t
        results = _results(articles, status, matches, stored_refs, clustering, index,
                           unchanged_pks, known)
        if write:
            _pause_before_commit()
        t = time.perf_counter()
    if write and work:
        index.checkpoint()
    seconds["commit"] = time.perf_counter() - t

    stats = {
        "articles": len(articles),
        "new": status.count("new"),
        "updated": status.count("updated"),
        "unchanged": status.count("unchanged"),
        "skipped": len(skipped),
        **found.counts,
        "matches": len(matches),
        "reusing_indexed": sum(r.reuses_indexed for r in results),
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
    }
    return BatchResult(tuple(results), tuple(skipped), stats)


def _pause_before_commit() -> None:
    value = os.environ.get(SLEEP_ENV)
    if value:
        print(f"dedup: {SLEEP_ENV}: sleeping {value} s before commit", file=sys.stderr,
              flush=True)
        time.sleep(float(value))


# --------------------------------------------------------------------------- candidates


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    """scikit-learn's smoothed idf: ``ln((1 + n) / (1 + df)) + 1``."""
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def _weighted(counts: sp.csr_matrix, idf_of: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times idf (``idf_of`` aligned with ``counts.data``), rows at unit length."""
    counts = sp.csr_matrix(counts, dtype=np.float64)
    data = (1.0 + np.log(counts.data)) * idf_of
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    return sp.csr_matrix((data / norms[rows], counts.indices, counts.indptr),
                         shape=counts.shape)


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``values`` at the positions of ``keys`` in ``sorted_keys`` (all present)."""
    return values[np.searchsorted(sorted_keys, keys)]


def _batch_df(cols_per_item: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique terms and in how many items each occurs (items' cols unique)."""
    if not cols_per_item:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    allc = np.concatenate(cols_per_item) if cols_per_item else np.zeros(0, dtype=np.int64)
    terms, df = np.unique(allc, return_counts=True)
    return terms.astype(np.int64), df.astype(np.int64)


def _top_per_row(rows: np.ndarray, targets: np.ndarray, vals: np.ndarray,
                 k: int) -> np.ndarray:
    """Indices of each row's k highest values (ties: lower target first)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((targets, -vals, rows))
    r = rows[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
    return order[rank < k]


def _compact(mat: sp.csr_matrix, terms: np.ndarray) -> sp.csr_matrix:
    """Columns renumbered to positions in ``terms`` (which holds all of them)."""
    return sp.csr_matrix((mat.data, np.searchsorted(terms, mat.indices), mat.indptr),
                         shape=(mat.shape[0], len(terms)))


def _candidates(index: Index, profiles: Sequence[Profile], config: Config,
                excluded: set[int]) -> _Found:
    found = _Found()
    n = len(profiles)
    found.neighbours = [np.zeros(0, dtype=np.float32) for _ in range(n)]
    found.n_passages = np.zeros(n, dtype=np.int64)
    if n == 0:
        return found
    n_docs, n_passages = index.counts()
    if excluded:
        gone = index.articles(excluded)
        n_docs -= len(gone)
        n_passages -= sum(r.n_passages for r in gone.values())
    t = time.perf_counter()
    lsh_b, lsh_o = _lsh(index, profiles, config, excluded, found)
    found.counts["ms_lsh"] = int(1000 * (time.perf_counter() - t))
    t = time.perf_counter()
    doc_b, doc_o = _doc_tfidf(index, profiles, config, excluded, n_docs + n, found)
    found.counts["ms_doc"] = int(1000 * (time.perf_counter() - t))
    t = time.perf_counter()
    pas_b, pas_o = _passage_tfidf(index, profiles, config, excluded, n_passages, found)
    found.counts["ms_passage"] = int(1000 * (time.perf_counter() - t))
    found.batch_pairs = _union(lsh_b, doc_b, pas_b)
    found.old_pairs = _union(lsh_o, doc_o, pas_o)
    found.counts |= {
        "candidates_lsh": len(lsh_b) + len(lsh_o),
        "candidates_tfidf": len(doc_b) + len(doc_o),
        "candidates_passages": len(pas_b) + len(pas_o),
        "candidates": len(found.batch_pairs) + len(found.old_pairs),
        "candidates_indexed": len(found.old_pairs),
    }
    return found


def _union(*parts: np.ndarray) -> np.ndarray:
    found = [p for p in parts if len(p)]
    return unique_pairs(np.concatenate(found)) if found else _EMPTY_PAIRS


def _lsh(index: Index, profiles: Sequence[Profile], config: Config,
         excluded: set[int], found: _Found) -> tuple[np.ndarray, np.ndarray]:
    """Pairs sharing a band bucket: within the batch, and (new, stored pk)."""
    batch = pipeline.lsh_candidates(profiles, config)
    per = [unique(p.band_keys.ravel()) for p in profiles]
    keys = np.concatenate(per) if per else np.zeros(0, dtype=np.uint64)
    owners = np.repeat(np.arange(len(profiles)), [len(k) for k in per])
    found.band_keys = (keys, owners)
    if len(keys) == 0:
        return batch, _EMPTY_PAIRS
    bk, ba = index.bucket_members(keys)
    found.counts["rows_band"] = len(bk)
    if excluded and len(ba):
        keep = ~np.isin(ba, np.fromiter(excluded, dtype=np.int64))
        bk, ba = bk[keep], ba[keep]
    if len(bk) == 0:
        return batch, _EMPTY_PAIRS
    order = np.lexsort((ba, bk))
    bk, ba = bk[order], ba[order]
    ukeys, start, size = np.unique(bk, return_index=True, return_counts=True)
    pos = np.searchsorted(ukeys, keys)
    pos[pos == len(ukeys)] = 0
    hit = ukeys[pos] == keys
    h_owner, h_pos = owners[hit], pos[hit]
    h_size = size[h_pos]
    small = h_size <= config.lsh.max_bucket
    # all members of small buckets
    s_owner, s_start, s_size = h_owner[small], start[h_pos[small]], h_size[small]
    rep_owner = np.repeat(s_owner, s_size)
    offset = np.arange(len(rep_owner)) - np.repeat(np.cumsum(s_size) - s_size, s_size)
    members = ba[np.repeat(s_start, s_size) + offset]
    # first and last member of large buckets
    b_owner, b_start, b_size = h_owner[~small], start[h_pos[~small]], h_size[~small]
    pairs = np.concatenate([
        np.stack([rep_owner, members], axis=1),
        np.stack([b_owner, ba[b_start]], axis=1),
        np.stack([b_owner, ba[b_start + b_size - 1]], axis=1),
    ]).astype(np.int64)
    return batch, unique_pairs(pairs) if len(pairs) else _EMPTY_PAIRS


def _doc_tfidf(index: Index, profiles: Sequence[Profile], config: Config, excluded: set[int],
               n_total: int, found: _Found) -> tuple[np.ndarray, np.ndarray]:
    """Article-level keyword neighbours over the batch and the stored articles."""
    params = config.tfidf
    n = len(profiles)
    terms, batch_df = _batch_df([p.doc_cols for p in profiles])
    stored_df, _ = index.term_frequencies(terms)
    df = stored_df + batch_df
    found.doc_df = (terms, batch_df)
    counts = pipeline.doc_matrix(profiles)
    vectors = sp.csr_matrix(_weighted(counts, _idf(_lookup(terms, df, counts.indices),
                                                    n_total)), dtype=np.float32)
    keys = tfidf_mod.keep_top_terms(vectors, params.keywords)
    owner = np.repeat(np.arange(n), np.diff(keys.indptr))
    found.doc_posting = (keys.indices.astype(np.int64), owner, keys.data.copy())
    if params.top_k == 0:
        return _EMPTY_PAIRS, _EMPTY_PAIRS
    key_terms = unique(keys.indices).astype(np.int64)
    lookup_terms = key_terms
    if index.params.doc_max_postings is not None:  # long lists left unread (see IndexParams)
        lookup_terms = key_terms[_lookup(terms, stored_df, key_terms)
                                 <= index.params.doc_max_postings]
    pt, pa, pw = index.doc_postings(lookup_terms)
    found.counts["rows_doc"] = len(pt)
    if excluded and len(pa):
        keep = ~np.isin(pa, np.fromiter(excluded, dtype=np.int64))
        pt, pa, pw = pt[keep], pa[keep], pw[keep]
    old_pks, col = np.unique(pa, return_inverse=True)
    m = len(old_pks)
    k_new = _compact(keys, key_terms)
    k_old = sp.csr_matrix((pw, (col.reshape(-1), np.searchsorted(key_terms, pt))),
                          shape=(m, len(key_terms)), dtype=np.float32)
    sims_old = sp.coo_matrix(k_new @ k_old.T)
    sims_new = sp.coo_matrix(k_new @ k_new.T)
    off_diag = sims_new.row != sims_new.col
    rows = np.concatenate([sims_old.row, sims_new.row[off_diag]]).astype(np.int64)
    targets = np.concatenate([sims_old.col, m + sims_new.col[off_diag]]).astype(np.int64)
    vals = np.concatenate([sims_old.data, sims_new.data[off_diag]]).astype(np.float32)
    ok = vals >= params.min_cosine
    rows, targets, vals = rows[ok], targets[ok], vals[ok]
    sel = _top_per_row(rows, targets, vals, params.top_k)
    # each new article's best cosines, kept for later batches
    sel_rows, sel_vals = rows[sel], vals[sel]
    by_row = np.lexsort((-sel_vals, sel_rows))
    split = np.searchsorted(sel_rows[by_row], np.arange(n + 1)).tolist()
    for i in range(n):
        found.neighbours[i] = sel_vals[by_row[split[i]:split[i + 1]]].astype(np.float32)
    chosen_r, chosen_t = rows[sel], targets[sel]
    new_side = chosen_t >= m
    batch = np.sort(np.stack([chosen_r[new_side], chosen_t[new_side] - m], axis=1), axis=1)
    old = [np.stack([chosen_r[~new_side], old_pks[chosen_t[~new_side]]], axis=1)]
    # the other way round: a new article entering a stored article's top k
    to_old = targets < m
    r_o, t_o, v_o = rows[to_old], targets[to_old], vals[to_old]
    if len(t_o):
        touched = unique(t_o)
        stored = index.neighbours(old_pks[touched].tolist())
        order = np.argsort(t_o, kind="stable")
        r_o, t_o, v_o = r_o[order], t_o[order], v_o[order]
        bounds = np.searchsorted(t_o, touched, side="left").tolist() + [len(t_o)]
        for c, lo, hi in zip(touched.tolist(), bounds[:-1], bounds[1:]):
            pk = int(old_pks[c])
            mine = stored.get(pk, np.zeros(0, dtype=np.float32))
            merged = np.sort(np.concatenate([mine, v_o[lo:hi]]))[::-1]
            kth = merged[params.top_k - 1] if len(merged) >= params.top_k else -np.inf
            enter = v_o[lo:hi] >= kth
            if enter.any():
                old.append(np.stack([r_o[lo:hi][enter], np.full(int(enter.sum()), pk)], axis=1))
                found.old_neighbours[pk] = merged[: params.top_k].astype(np.float32)
    old_pairs = np.concatenate(old).astype(np.int64)
    return (unique_pairs(batch) if len(batch) else _EMPTY_PAIRS,
            unique_pairs(old_pairs) if len(old_pairs) else _EMPTY_PAIRS)


def _passage_tfidf(index: Index, profiles: Sequence[Profile], config: Config,
                   excluded: set[int], stored_passages: int,
                   found: _Found) -> tuple[np.ndarray, np.ndarray]:
    """Passage-level keyword neighbours over the batch and the stored passages."""
    params = config.tfidf
    n = len(profiles)
    sentences, sent_owner = pipeline.sentence_matrix(profiles)
    empty = np.zeros(0, dtype=np.int64)
    found.passage_posting = (empty, empty, empty, np.zeros(0, dtype=np.float32))
    found.passage_df = (empty, empty, empty)
    if sentences.shape[0] == 0:
        return _EMPTY_PAIRS, _EMPTY_PAIRS
    ind, w_owner = tfidf_mod.window_matrix(sent_owner, params.passage_sentences,
                                           params.passage_stride)
    counts = sp.csr_matrix(ind @ sentences)
    counts.sum_duplicates()
    n_win = counts.shape[0]
    window_no = np.arange(n_win) - np.searchsorted(w_owner, w_owner, side="left")
    found.n_passages = np.bincount(w_owner, minlength=n).astype(np.int64)
    # passage frequencies: stored + this batch (windows holding each term)
    win_rows = np.repeat(np.arange(n_win), np.diff(counts.indptr))
    terms, batch_df = np.unique(counts.indices.astype(np.int64), return_counts=True)
    _, stored_df = index.term_frequencies(terms)
    df = stored_df + batch_df
    n_total = stored_passages + n_win
    owner_term = np.unique(w_owner[win_rows] * tfidf_mod.N_FEATURES
                           + counts.indices.astype(np.int64), return_counts=True)
    found.passage_df = (owner_term[0] // tfidf_mod.N_FEATURES,
                        owner_term[0] % tfidf_mod.N_FEATURES, owner_term[1].astype(np.int64))
    col_df = _lookup(terms, df, counts.indices)
    weights = sp.csr_matrix(_weighted(counts, _idf(col_df, n_total)), dtype=np.float32)
    max_df = tfidf_mod.max_keyword_windows(params.passage_max_df, n_total)
    if index.params.passage_max_postings is not None:
        max_df = max(2, min(max_df, index.params.passage_max_postings))
    weights.data[col_df > max_df] = 0
    weights.eliminate_zeros()
    keys = tfidf_mod.keep_top_terms(weights, params.passage_keywords)
    norms = np.sqrt(np.asarray(keys.multiply(keys).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    keys = sp.csr_matrix(sp.diags(1.0 / norms) @ keys, dtype=np.float32)
    key_rows = np.repeat(np.arange(n_win), np.diff(keys.indptr))
    found.passage_posting = (keys.indices.astype(np.int64), w_owner[key_rows].astype(np.int64),
                             window_no[key_rows].astype(np.int64), keys.data.copy())
    if params.passage_top_k == 0 or keys.nnz == 0:
        return _EMPTY_PAIRS, _EMPTY_PAIRS
    key_terms = unique(keys.indices).astype(np.int64)
    pt, pp, pw = index.passage_postings(key_terms)
    found.counts["rows_passage"] = len(pt)
    if excluded and len(pp):
        keep = ~np.isin(pp >> PASSAGE_BITS, np.fromiter(excluded, dtype=np.int64))
        pt, pp, pw = pt[keep], pp[keep], pw[keep]
    old_passages, col = np.unique(pp, return_inverse=True)
    m = len(old_passages)
    old_owner = old_passages >> PASSAGE_BITS
    k_new = _compact(keys, key_terms)
    k_new_t = sp.csr_matrix(k_new.T)
    k_old_t = sp.csr_matrix((pw, (np.searchsorted(key_terms, pt), col.reshape(-1))),
                            shape=(len(key_terms), m), dtype=np.float32)
    rows, targets = _nearest_passages(k_new, k_old_t, k_new_t, w_owner,
                                      params.passage_min_cosine, params.passage_top_k)
    new_side = targets >= m
    batch = np.sort(np.stack([w_owner[rows[new_side]], w_owner[targets[new_side] - m]],
                             axis=1), axis=1)
    old = np.stack([w_owner[rows[~new_side]], old_owner[targets[~new_side]]], axis=1)
    return _union(batch), _union(old)


def _nearest_passages(k_new: sp.csr_matrix, k_old_t: sp.csr_matrix, k_new_t: sp.csr_matrix,
                      w_owner: np.ndarray, min_cosine: float,
                      top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each new window's ``top_k`` nearest stored (target < m) and new windows
    of other articles (target m + window) at ``min_cosine`` or more, by cosine,
    ties to the lower target: (rows, targets). A compiled loop sums each
    product entry as scipy's product would, without building the products
    (at 100k articles indexed, a batch's windows meet millions of stored ones)."""
    from dedup import _kernels

    def i64(a: np.ndarray) -> np.ndarray:
        return a.astype(np.int64, copy=False)

    f32 = np.float32
    # the bar in float32, as numpy compared the float32 cosines with a Python float
    bar = cast(float, f32(min_cosine))
    return _kernels.top_k_old_new(
        i64(k_new.indptr), i64(k_new.indices), k_new.data.astype(f32, copy=False),
        i64(k_old_t.indptr), i64(k_old_t.indices), k_old_t.data.astype(f32, copy=False),
        k_old_t.shape[1], i64(k_new_t.indptr), i64(k_new_t.indices),
        k_new_t.data.astype(f32, copy=False), i64(w_owner), bar, top_k)


# --------------------------------------------------------------------------- verify


#: Stored articles whose profiles a batch's verify holds in memory at once
#: (about 50 KB each): the candidates against more are aligned in runs of this
#: many stored articles, so that a large batch against a large index (5,000
#: articles meeting 52,592 stored ones at 100k indexed: 2.9 GB in one run)
#: does not need memory in proportion. Runs give the same matches.
VERIFY_CHUNK_ARTICLES = 20_000


def _verify(index: Index, articles: Sequence[Article], profiles: Sequence[Profile],
            found: _Found, config: Config,
            excluded: set[int]) -> tuple[list[Match], dict[int, StoredArticle]]:
    """Align the candidate pairs; the verified matches and the old articles' rows."""
    n = len(profiles)
    old_pks = unique(found.old_pairs[:, 1]) if len(found.old_pairs) else \
        np.zeros(0, dtype=np.int64)
    old_pks = np.array([pk for pk in old_pks.tolist() if pk not in excluded], dtype=np.int64)
    rows = index.articles(old_pks.tolist())
    with_profile = index.profiled(old_pks.tolist())
    old_pks = np.array([pk for pk in old_pks.tolist() if pk in with_profile and pk in rows],
                       dtype=np.int64)
    m = len(old_pks)
    new_ids = [a.id for a in articles]
    pairs = [found.batch_pairs + m]
    if len(found.old_pairs):
        live = np.isin(found.old_pairs[:, 1], old_pks)
        op = found.old_pairs[live]
        pairs.append(np.stack([np.searchsorted(old_pks, op[:, 1]), m + op[:, 0]], axis=1))
    all_pairs = np.concatenate(pairs).astype(np.int64) if pairs else _EMPTY_PAIRS
    if len(all_pairs) == 0:
        return [], rows
    all_pairs = unique_pairs(all_pairs)  # sorted: each run of stored articles is one block
    matches = []
    # runs of stored articles lo..hi-1 with the new ones; the pairs within the
    # batch (first index m or more) go with the last run
    starts = list(range(0, m, VERIFY_CHUNK_ARTICLES)) or [0]
    cuts = np.searchsorted(all_pairs[:, 0], starts).tolist() + [len(all_pairs)]
    for lo, hi, start, stop in zip(starts, starts[1:] + [m], cuts[:-1], cuts[1:]):
        block = all_pairs[start:stop]
        if len(block) == 0:
            continue
        chunk_pks = old_pks[lo:hi].tolist()
        stored = index.profiles(chunk_pks)
        combined: list[Profile] = [stored[pk] for pk in chunk_pks] + list(profiles)
        ids = [rows[pk].id for pk in chunk_pks] + new_ids
        # positions in combined: stored lo.. -> 0.., new m.. -> hi - lo..
        shift = np.where(block >= m, block - m + (hi - lo), block - lo)
        alignments, jaccards = pipeline.align_pairs_jaccard(combined, shift, config, ids=ids)
        cosines = _cosines(index, combined, shift, found, n)
        for (i, j), al, jac, cos in zip(shift.tolist(), alignments, jaccards.tolist(),
                                        cosines.tolist()):
            if not al.passages:
                continue
            match = pipeline.build_match(ids[i], ids[j], al, jac, cos)
            if match.score >= config.min_score:
                matches.append(match)
        del stored, combined
    matches.sort(key=lambda mt: (-round(mt.score, 6), mt.a, mt.b))
    return matches, rows


def _cosines(index: Index, profiles: Sequence[Profile], pairs: np.ndarray, found: _Found,
             n_new: int) -> np.ndarray:
    """Whole-article TF-IDF cosines with the document frequencies after the batch."""
    counts = pipeline.doc_matrix(profiles)
    terms = unique(counts.indices).astype(np.int64)
    stored, _ = index.term_frequencies(terms)
    df = stored.copy()
    if found.doc_df is not None and len(found.doc_df[0]):
        bt, bdf = found.doc_df
        pos = np.searchsorted(terms, bt)
        df[pos] += bdf
    n_docs, _ = index.counts()
    vectors = sp.csr_matrix(_weighted(counts, _idf(_lookup(terms, df, counts.indices),
                                                    n_docs + n_new)), dtype=np.float32)
    return tfidf_mod.pair_cosines(vectors, pairs)


# --------------------------------------------------------------------------- clusters


def _recluster(index: Index, articles: Sequence[Article], credits: Sequence[WireCredit | None],
               matches: Sequence[Match], matched_pks: set[int], broken: set[int],
               orphans: set[int], excluded: set[int], min_score: float, min_overlap: float,
               *, write: bool) -> _Clustering:
    """Clusters around the batch, with stable ids.

    A cluster is a set of matches closed under the join of
    :func:`dedup.cluster.joins`, so new matches can only join the clusters of
    the stored matches of the old articles they touch (``matched_pks``), and a
    cluster that only gains matches or merges is one node here: only its
    matches on those articles are compared. Only the clusters that lost a
    match (``broken``: of replaced, removed or, for a query, ``excluded``
    articles) are rebuilt from their stored matches. ``orphans`` are articles
    that lost a match; their reported cluster is recomputed.
    """
    new = [m for m in matches if m.score >= min_score and m.passages]
    live = matched_pks - excluded
    # (the clusters of excluded articles' matches are among the broken ones)
    touched = (index.clusters_of(live) if live else set()) | broken
    stored = [r for r in (index.cluster_matches(touched) if touched else [])
              if r.a not in excluded and r.b not in excluded]
    rows = index.articles({x for r in stored for x in (r.a, r.b)} | live | (orphans - excluded))
    id_of = {pk: r.id for pk, r in rows.items()}

    def label(r: MatchRow) -> tuple[Any, ...]:
        return ("s", r.a, r.b) if r.cluster in broken else ("c", r.cluster)

    parent: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def find(x: tuple[Any, ...]) -> tuple[Any, ...]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # what may join: the new matches, and the stored ones on the articles they
    # touch or in a broken cluster
    compared = [r for r in stored if r.cluster in broken or r.a in live or r.b in live]
    nodes = [("n", k) for k in range(len(new))] + [label(r) for r in compared]
    items = list(new) + [_as_match(id_of[r.a], id_of[r.b], r, passages=True) for r in compared]
    for i, j in joins(items, min_overlap).tolist():
        ri, rj = find(nodes[i]), find(nodes[j])
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    new_of: dict[tuple[Any, ...], list[Match]] = {}
    stored_of: dict[tuple[Any, ...], list[MatchRow]] = {}
    for k, m in enumerate(new):
        new_of.setdefault(find(("n", k)), []).append(m)
    for r in stored:
        stored_of.setdefault(find(label(r)), []).append(r)
    comps = []
    for root in set(new_of) | set(stored_of):
        inner = new_of.get(root, []) + [_as_match(id_of[r.a], id_of[r.b], r)
                                        for r in stored_of.get(root, [])]
        members = tuple(sorted({x for m in inner for x in (m.a, m.b)}))
        comps.append((members, inner, stored_of.get(root, []), bool(new_of.get(root))))
    comps.sort(key=lambda c: (-len(c[0]), c[0], min((m.a, m.b) for m in c[1])))

    # a component keeps the smallest old id that a larger one did not take
    taken: set[int] = set()
    kept: list[int | None] = []
    for _, _, old, _ in comps:
        olds = sorted({r.cluster for r in old if r.cluster is not None} - taken)
        kept.append(olds[0] if olds else None)
        taken.update(olds[:1])
    n_fresh = kept.count(None)
    fresh = iter((index.next_cluster_ids(n_fresh) if write else
                  index.peek_cluster_ids(n_fresh)) if n_fresh else [])
    cids = [c if c is not None else next(fresh) for c in kept]

    wire: dict[str, WireCredit] = {}
    published: dict[str, str | None] = {}
    for art in rows.values():
        published[art.id] = art.published
        if art.wire_agency:
            wire[art.id] = WireCredit(art.wire_agency, art.wire_evidence or "")
    for a, credit in zip(articles, credits):
        published[a.id] = a.published
        if credit is not None:
            wire[a.id] = credit
    out = _Clustering(index_pks={r.id: pk for pk, r in rows.items()})
    for (members, inner, old, has_new), cid in zip(comps, cids):
        out.clusters[cid] = (members,) + likely_original(members, inner, wire, published)
        out.new_match_cluster.update({(m.a, m.b): cid for m in inner[:len(inner) - len(old)]})
        out.stored_match_cluster += [(cid, r.a, r.b) for r in old if r.cluster != cid]
        if has_new or {r.cluster for r in old} != {cid} or cid in broken:
            out.changed.add(cid)
    out.removed = touched - set(out.clusters)
    out.changed |= out.removed
    _primary(index, out, articles, new, {x for c in comps for x in c[0]}, orphans - excluded,
             excluded)
    return out


def _primary(index: Index, out: _Clustering, articles: Sequence[Article], new: Sequence[Match],
             members: set[str], orphans: set[int], excluded: set[int]) -> None:
    """The cluster reported for each article whose clusters may have changed: that
    of its best clustered match (highest score, then the other article's id)."""
    pks = {out.index_pks[x] for x in members if x in out.index_pks} | orphans
    rows = index.matches_of(pks) if pks else []
    ids = index.articles({x for r in rows for x in (r.a, r.b)} - set(out.index_pks.values()))
    id_of = {pk: aid for aid, pk in out.index_pks.items()} | {pk: r.id for pk, r in ids.items()}
    moved = {(a, b): cid for cid, a, b in out.stored_match_cluster}
    best: dict[str, tuple[float, str, int]] = {}

    def offer(x: str, other: str, score: float, cid: int | None) -> None:
        if cid is not None and (x not in best or (-score, other) < best[x][:2]):
            best[x] = (-score, other, cid)

    for r in rows:
        if r.a in excluded or r.b in excluded or r.cluster is None:
            continue
        cid = moved.get((r.a, r.b), r.cluster)
        offer(id_of[r.a], id_of[r.b], r.score, cid)
        offer(id_of[r.b], id_of[r.a], r.score, cid)
    for m in new:
        cid = out.new_match_cluster[(m.a, m.b)]
        offer(m.a, m.b, m.score, cid)
        offer(m.b, m.a, m.score, cid)
    wanted = members | {id_of[pk] for pk in orphans if pk in id_of} | {a.id for a in articles}
    out.primary = {x: best[x][2] if x in best else None for x in sorted(wanted)}


def recluster_all(conn: sqlite3.Connection) -> None:
    """Recompute every cluster of an index from its matches (the schema 3 -> 4
    upgrade: each match reaching ``cluster.min_score`` holds a cluster id).
    Runs inside the caller's write transaction."""
    index = Index(conn, Path(":upgrade:"),
                  settings_in(dict(conn.execute("SELECT key, value FROM meta").fetchall())), 0.0)
    broken = {int(r[0]) for r in conn.execute(
        "SELECT DISTINCT cluster FROM matches WHERE cluster IS NOT NULL")}
    clustering = _recluster(index, [], [], [], set(), broken, set(), set(),
                            *_cluster_bounds(index), write=True)
    _write_clusters(index, clustering, {})


def _cluster_bounds(index: Index) -> tuple[float, float]:
    """The ``cluster.min_score`` and ``cluster.min_overlap`` an index pins (for the
    commands that take no config: prune, the upgrade)."""
    return (float(index.settings.get("cluster.min_score", "0")),
            float(index.settings.get("cluster.min_overlap", "0.5")))


def _passages(text: str) -> tuple[Passage, ...]:
    return tuple(Passage(int(p[0]), int(p[1]), int(p[2]), int(p[3]), float(p[4]))
                 for p in json.loads(text))


def _as_match(a: str, b: str, row: MatchRow, passages: bool = False) -> Match:
    return Match(a=a, b=b, score=row.score, jaccard=row.jaccard, cosine=row.cosine,
                 reuse_a_in_b=row.reuse_a_in_b, reuse_b_in_a=row.reuse_b_in_a,
                 passages=_passages(row.passages) if passages else ())


# --------------------------------------------------------------------------- writes


def _lost(index: Index, pks: Sequence[int]) -> tuple[set[int], set[int]]:
    """The clusters of the matches that removing (or replacing) articles takes
    away, and the other articles of those matches."""
    lost = index.matches_of(pks) if pks else []
    gone = set(pks)
    return ({r.cluster for r in lost if r.cluster is not None},
            {x for r in lost for x in (r.a, r.b)} - gone)


def _remove(index: Index, pks: Sequence[int], *, scan: bool) -> None:
    """Remove articles and all they added (their matches go with them)."""
    profiles = index.profiles(pks)
    postings = index.postings_of(pks)
    keys, owners = [], []
    for pk, p in profiles.items():
        k = unique(p.band_keys.ravel())
        keys.append(k)
        owners.append(np.full(len(k), pk, dtype=np.int64))
    if keys:
        index.remove_band_keys(np.concatenate(keys), np.concatenate(owners), scan)
    doc_t, doc_o, pas_t, pas_o = [], [], [], []
    term_parts, doc_parts, pas_parts = [], [], []
    for pk, post in postings.items():
        doc_t.append(post["doc_terms"])
        doc_o.append(np.full(len(post["doc_terms"]), pk, dtype=np.int64))
        pas_t.append(post["passage_terms"])
        pas_o.append((pk << PASSAGE_BITS) | post["passage_windows"])
        term_parts += [profiles[pk].doc_cols, post["df_terms"]]
        doc_parts += [np.full(len(profiles[pk].doc_cols), -1, dtype=np.int64),
                      np.zeros(len(post["df_terms"]), dtype=np.int64)]
        pas_parts += [np.zeros(len(profiles[pk].doc_cols), dtype=np.int64),
                      -post["df_counts"]]
    cat = _cat_int
    index.remove_postings("doc_postings", cat(doc_t), cat(doc_o),
                          list(pks) if scan else None)
    index.remove_postings("passage_postings", cat(pas_t), cat(pas_o),
                          list(pks) if scan else None)
    if term_parts:
        terms, inv = np.unique(cat(term_parts), return_inverse=True)
        inv = inv.reshape(-1)
        d_docs = np.bincount(inv, weights=cat(doc_parts), minlength=len(terms))
        d_pas = np.bincount(inv, weights=cat(pas_parts), minlength=len(terms))
        index.update_terms(terms, d_docs.astype(np.int64), d_pas.astype(np.int64))
    index.delete_articles(list(pks))


def _cat_int(parts: Sequence[np.ndarray]) -> np.ndarray:
    return (np.concatenate(parts).astype(np.int64) if parts
            else np.zeros(0, dtype=np.int64))


def _write(index: Index, articles: Sequence[Article], profiles: Sequence[Profile],
           credits: Sequence[WireCredit | None], found: _Found, matches: Sequence[Match],
           config: Config, match_cluster: dict[tuple[str, str], int]) -> list[int]:
    """Insert the batch's articles, keys, postings, term counts and matches
    (with their cluster, from ``match_cluster``)."""
    n = len(articles)
    if n == 0:
        return []
    doc_t, doc_o, doc_w = found.doc_posting or (np.zeros(0, np.int64),) * 2 + (
        np.zeros(0, np.float32),)
    pas_t, pas_o, pas_win, pas_w = found.passage_posting or (
        (np.zeros(0, np.int64),) * 3 + (np.zeros(0, np.float32),))
    df_o, df_t, df_c = found.passage_df or (np.zeros(0, np.int64),) * 3
    n_passages = found.n_passages if found.n_passages is not None else np.zeros(n, np.int64)
    if len(pas_win) and int(pas_win.max()) >= 1 << PASSAGE_BITS:
        raise ConfigError(f"an article has {int(pas_win.max()) + 1} passage windows, more "
                          f"than the index holds ({1 << PASSAGE_BITS})")
    doc_split = np.searchsorted(doc_o, np.arange(n + 1))
    pas_order = np.argsort(pas_o, kind="stable")
    pas_split = np.searchsorted(pas_o[pas_order], np.arange(n + 1))
    df_split = np.searchsorted(df_o, np.arange(n + 1))
    rows = []
    for i, (art, prof, credit) in enumerate(zip(articles, profiles, credits)):
        sel = pas_order[pas_split[i]:pas_split[i + 1]]
        postings = encode_arrays({
            "doc_terms": doc_t[doc_split[i]:doc_split[i + 1]],
            "passage_terms": pas_t[sel],
            "passage_windows": pas_win[sel],
            "df_terms": df_t[df_split[i]:df_split[i + 1]],
            "df_counts": df_c[df_split[i]:df_split[i + 1]],
        })
        published_at = parse_published(art.published)
        rows.append(NewArticle(
            id=art.id, title=art.title, url=art.url, published=art.published,
            published_ts=published_at.timestamp() if published_at else None,
            source=art.source, chars=len(art.text), content_hash=content_hash(art.text),
            wire_agency=credit.agency if credit else None,
            wire_evidence=credit.evidence if credit else None,
            n_passages=int(n_passages[i]), neighbours=found.neighbours[i],
            profile=encode_profile(prof),
            signature=encode_signature(prof.signature, config.sketch.seed),
            postings=postings,
        ))
    pks = np.array(index.insert_articles(rows, added=time.time()), dtype=np.int64)
    if found.band_keys is not None:
        keys, owners = found.band_keys
        index.add_band_keys(keys, pks[owners])
    index.add_postings("doc_postings", doc_t, pks[doc_o], doc_w)
    index.add_postings("passage_postings", pas_t, (pks[pas_o] << PASSAGE_BITS) | pas_win, pas_w)
    doc_terms, doc_df = found.doc_df or (np.zeros(0, np.int64),) * 2
    pas_terms, pas_inv = np.unique(df_t, return_inverse=True)
    pas_df = np.bincount(pas_inv.reshape(-1), weights=df_c,
                         minlength=len(pas_terms)).astype(np.int64)
    terms = np.union1d(doc_terms, pas_terms).astype(np.int64)
    d_docs = np.zeros(len(terms), dtype=np.int64)
    d_pas = np.zeros(len(terms), dtype=np.int64)
    d_docs[np.searchsorted(terms, doc_terms)] = doc_df
    d_pas[np.searchsorted(terms, pas_terms)] = pas_df
    index.update_terms(terms, d_docs, d_pas)
    index.set_neighbours(found.old_neighbours)
    id_pk = {a.id: int(pk) for a, pk in zip(articles, pks.tolist())}
    missing = sorted({x for m in matches for x in (m.a, m.b) if x not in id_pk})
    id_pk.update({k: v[0] for k, v in index.find_ids(missing).items()})
    index.insert_matches([
        MatchRow(id_pk[m.a], id_pk[m.b], m.score, m.jaccard, m.cosine, m.reuse_a_in_b,
                 m.reuse_b_in_a, json.dumps([[p.a_start, p.a_end, p.b_start, p.b_end,
                                              round(p.similarity, 4)] for p in m.passages],
                                            separators=(",", ":")),
                 match_cluster.get((m.a, m.b)))
        for m in matches])
    return pks.tolist()


def _write_clusters(index: Index, clustering: _Clustering, new_pks: dict[str, int]) -> None:
    id_pk = clustering.index_pks | new_pks
    rows = [ClusterRow(cid, id_pk.get(source) if source else None, reason, len(members))
            for cid, (members, source, reason) in sorted(clustering.clusters.items())]
    index.set_match_clusters(clustering.stored_match_cluster)
    index.replace_clusters(sorted(clustering.removed), rows,
                           {id_pk[x]: cid for x, cid in clustering.primary.items() if x in id_pk})


# --------------------------------------------------------------------------- results


def _stored_refs(index: Index, pks: Sequence[int],
                 batch_ids: set[str]) -> dict[int, list[MatchRef]]:
    """The stored matches of unchanged articles, seen from each."""
    if not pks:
        return {}
    rows = index.matches_of(pks)
    others = index.articles({x for r in rows for x in (r.a, r.b)})
    out: dict[int, list[MatchRef]] = {pk: [] for pk in pks}
    wanted = set(pks)
    for r in rows:
        for me, other, mine, theirs in ((r.a, r.b, r.reuse_a_in_b, r.reuse_b_in_a),
                                        (r.b, r.a, r.reuse_b_in_a, r.reuse_a_in_b)):
            if me in wanted and other in others:
                oid = others[other].id
                out[me].append(MatchRef(oid, r.score, mine, theirs, oid not in batch_ids))
    return out


def _results(articles: Sequence[Article], status: Sequence[str], matches: Sequence[Match],
             stored_refs: dict[int, list[MatchRef]], clustering: _Clustering, index: Index,
             unchanged_pks: Sequence[int], known: dict[str, tuple[int, bytes]]
             ) -> list[ArticleResult]:
    batch_ids = {a.id for a in articles}
    refs: dict[str, list[MatchRef]] = {a.id: [] for a in articles}
    for m in matches:
        for me, other, mine, theirs in ((m.a, m.b, m.reuse_a_in_b, m.reuse_b_in_a),
                                        (m.b, m.a, m.reuse_b_in_a, m.reuse_a_in_b)):
            if me in refs:
                refs[me].append(MatchRef(other, m.score, mine, theirs, other not in batch_ids))
    stored_rows = index.articles(unchanged_pks)
    stored_clusters = index.clusters({r.cluster for r in stored_rows.values()
                                      if r.cluster is not None})
    sources = index.articles({c.source for c in stored_clusters.values()
                              if c.source is not None})
    out = []
    for art, st in zip(articles, status):
        found_refs = refs[art.id]
        cluster: int | None = clustering.primary.get(art.id)
        source: str | None = None
        if st == "unchanged":
            pk = known[art.id][0]
            seen = {r.id for r in found_refs}
            found_refs = found_refs + [r for r in stored_refs.get(pk, []) if r.id not in seen]
            if art.id not in clustering.primary:
                row = stored_rows.get(pk)
                cluster = row.cluster if row else None
                crow = stored_clusters.get(cluster) if cluster is not None else None
                if crow is not None and crow.source is not None and crow.source in sources:
                    source = sources[crow.source].id
        if cluster is not None and cluster in clustering.clusters:
            source = clustering.clusters[cluster][1]
        found_refs.sort(key=lambda r: (-round(r.score, 6), r.id))
        out.append(ArticleResult(art.id, art.url, art.published, st, tuple(found_refs), cluster,
                                 source))
    return out


__all__ = [
    "SLEEP_ENV",
    "ArticleResult",
    "BatchResult",
    "MatchRef",
    "PruneResult",
    "add",
    "export",
    "parse_duration",
    "prune",
    "query",
    "stats",
]
