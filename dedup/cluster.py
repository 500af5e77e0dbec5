"""Clusters of articles that reuse the same copy, and their likely original.

A cluster is a component of the graph of *matches*, not of articles. The
verified matches whose score reaches ``min_score`` are its nodes; two of them
are joined when they share an article and their passages on it overlap by at
least ``min_overlap`` of the shorter (the two pairs reuse the same copy of
that article). So an article that merges two wire stories (a roundup, a
story built from two dispatches) sits in two clusters, and the two stories
stay apart instead of chaining into one. Only matches with aligned passages
are nodes, so two stories that merely share a topic (a high TF-IDF cosine)
never join; the score threshold keeps a single shared sentence from chaining
two families together.

The joins depend only on the two matches concerned, so the components do not
depend on the order in which matches are found: the index keeps them exactly
as a scan of the same articles would make them (a cluster id per stored match).
Both measure the overlap on the passages as aligned, whole sentences (a scan's
reported passages are then fitted to the shared words, see
:func:`dedup.align.refine`; the index keeps no texts to do so).

The likely original of a cluster, in order of evidence (from its members and
the cluster's own matches):
1. a wire credit or dateline (Reuters, AP, AFP, PA, Bloomberg) in the text
   or metadata (when several members carry one, the next rules decide among them);
2. the earliest ``published`` date;
3. the most central member: the one whose text is most found in the others
   and that holds most of theirs (product of the two mean shares), so that
   neither a trimmed copy nor a copy wrapped in local paragraphs wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from dedup.model import Cluster, Match, Passage
from dedup.text import unique
from dedup.wire import WireCredit

#: Pairs of passage sides compared at once when looking for joins (bounds memory).
_JOIN_BLOCK = 2_000_000


@dataclass(frozen=True)
class ClusterParams:
    """The ``cluster`` part of the config.

    Attributes:
        min_score: Matches below this score do not join articles in a cluster
            (they are still reported as matches). Chosen on the generated 1k
            corpus (benchmarks/results/quick.md): pair precision 0.85 -> 0.92-0.97
            for recall 0.998 -> 0.995-0.985 between 0.3 and 0.4.
        min_overlap: Two matches that share an article join when their
            passages on it overlap by this share of the shorter side's
            passages (benchmarks/CALIBRATION.md, "Clusters as components of
            the match graph").
    """

    min_score: float = 0.35
    min_overlap: float = 0.5


def parse_published(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 2822 date as an aware datetime (UTC when no zone), or None."""
    if not value:
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def joins(matches: Sequence[Match], min_overlap: float,
          spans: Sequence[Sequence[Passage]] | None = None) -> np.ndarray:
    """Pairs ``(k1, k2)``, ``k1 < k2``, sorted, of matches that share an article on
    which their passages overlap by at least ``min_overlap`` of the shorter side.

    ``spans[k]`` are the passages of ``matches[k]`` to compare (oriented like the
    match), by default its own. One match's passages must not overlap each other
    on a side (aligned passages do not). Every pair of passage sides on one
    article is compared, in blocks of about ``_JOIN_BLOCK``: the work grows with
    the square of an article's number of matches, not with the corpus. When the
    joined pairs grow past ``_JOIN_BLOCK`` (an article in thousands of matches)
    they are reduced to a spanning forest: the pairs then connect the same
    components, but are not all of them.

    Example:
        >>> p, q = Passage(0, 100, 0, 100, 1.0), Passage(500, 600, 0, 100, 1.0)
        >>> joins([Match("x", "y", 1, 1, 1, 1, 1, (p,)), Match("x", "z", 1, 1, 1, 1, 1, (p,)),
        ...        Match("y", "w", 1, 1, 1, 1, 1, (q,))], 0.5).tolist()
        [[0, 1]]
    """
    codes: dict[str, int] = {}
    art: list[int] = []
    owner: list[int] = []
    start: list[int] = []
    end: list[int] = []
    for k, m in enumerate(matches):
        ca, cb = codes.setdefault(m.a, len(codes)), codes.setdefault(m.b, len(codes))
        for p in (spans[k] if spans is not None else m.passages):
            art += (ca, cb)
            owner += (k, k)
            start += (p.a_start, p.b_start)
            end += (p.a_end, p.b_end)
    none = np.zeros((0, 2), dtype=np.int64)
    if not art:
        return none
    a_, o_ = np.array(art, dtype=np.int64), np.array(owner, dtype=np.int64)
    order = np.lexsort((o_, a_))
    a_, o_ = a_[order], o_[order]
    s_, e_ = np.array(start, dtype=np.int64)[order], np.array(end, dtype=np.int64)[order]
    n = len(a_)
    # characters each match covers on each of its articles (its passages there do not overlap)
    side_start = np.flatnonzero(np.r_[True, (a_[1:] != a_[:-1]) | (o_[1:] != o_[:-1])])
    side_cov = np.add.reduceat(e_ - s_, side_start)
    cov = np.repeat(side_cov, np.diff(np.r_[side_start, n]))
    # each entry is compared with the entries after it on the same article
    group_start = np.flatnonzero(np.r_[True, a_[1:] != a_[:-1]])
    group_end = np.r_[group_start[1:], n]
    after = np.repeat(group_end, np.diff(np.r_[group_start, n])) - np.arange(n) - 1
    csum = np.cumsum(after)
    side_end = np.r_[side_start[1:], n]
    n_matches = len(matches)
    joined: list[np.ndarray] = []
    held = 0
    lo = 0
    while lo < n:
        base = int(csum[lo - 1]) if lo else 0
        hi = max(lo + 1, int(np.searchsorted(csum, base + _JOIN_BLOCK, side="right")))
        # never split one match's passages on one article between blocks: the
        # overlaps of two matches are then all summed in one block
        hi = int(side_end[np.searchsorted(side_start, hi - 1, side="right") - 1])
        cnt = after[lo:hi]
        left = np.repeat(np.arange(lo, hi), cnt)
        firsts = np.cumsum(cnt) - cnt
        right = left + 1 + (np.arange(len(left)) - np.repeat(firsts, cnt))
        ov = np.minimum(e_[left], e_[right]) - np.maximum(s_[left], s_[right])
        keep = (ov > 0) & (o_[left] != o_[right])
        left, right = left[keep], right[keep]
        lo = hi
        if len(left) == 0:
            continue
        # two matches share at most one article, so the pair of matches is the key
        key = o_[left] * n_matches + o_[right]
        by_key = np.argsort(key, kind="stable")
        key = key[by_key]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        total = np.add.reduceat(ov[keep][by_key], first)
        need = min_overlap * np.minimum(cov[left], cov[right])[by_key][first]
        joined.append(key[first][total >= need])
        held += len(joined[-1])
        if held > _JOIN_BLOCK:  # many joins (an article in thousands of matches)
            joined = [_forest(np.concatenate(joined), n_matches)]
            held = len(joined[0])
    if not joined:
        return none
    keys = np.sort(np.concatenate(joined))
    return np.stack([keys // n_matches, keys % n_matches], axis=1)


def _forest(keys: np.ndarray, m: int) -> np.ndarray:
    """Pair keys (``k1 * m + k2``) reduced to a spanning forest of the same components."""
    ends = np.concatenate([keys // m, keys % m])
    nodes = unique(ends)
    at = np.searchsorted(nodes, ends).reshape(2, -1)
    graph = sp.coo_matrix((np.ones(len(keys)), (at[0], at[1])), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    _, root = np.unique(labels, return_index=True)  # the first node of each component
    child = np.flatnonzero(root[labels] != np.arange(len(nodes)))
    a, b = nodes[root[labels[child]]], nodes[child]
    return np.minimum(a, b) * m + np.maximum(a, b)


@dataclass(frozen=True)
class Component:
    """One cluster before its source is named.

    Attributes:
        members: Article ids, sorted.
        matches: Indices of its matches in the list given to :func:`components`, sorted.
    """

    members: tuple[str, ...]
    matches: tuple[int, ...]


def components(matches: Sequence[Match], min_score: float, min_overlap: float,
               spans: Sequence[Sequence[Passage]] | None = None) -> list[Component]:
    """Components of the match graph (see the module docstring), largest first,
    then by members; ``spans`` as for :func:`joins`.

    Example:
        >>> p = Passage(0, 100, 0, 100, 1.0)
        >>> ms = [Match("a", "b", 0.9, 1, 1, 1, 1, (p,)), Match("b", "c", 0.1, 1, 1, 1, 1, (p,))]
        >>> [c.members for c in components(ms, 0.35, 0.5)]
        [('a', 'b')]
    """
    nodes = [k for k, m in enumerate(matches) if m.score >= min_score
             and (spans[k] if spans is not None else m.passages)]
    if not nodes:
        return []
    pairs = joins([matches[k] for k in nodes], min_overlap,
                  [spans[k] for k in nodes] if spans is not None else None)
    graph = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                          shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for k, label in zip(nodes, labels.tolist()):
        groups.setdefault(label, []).append(k)
    out = [Component(tuple(sorted({x for k in g for x in (matches[k].a, matches[k].b)})),
                     tuple(g)) for g in groups.values()]
    out.sort(key=lambda c: (-len(c.members), c.members,
                            min((matches[k].a, matches[k].b) for k in c.matches)))
    return out


def likely_original(
    members: Sequence[str],
    matches: Sequence[Match],
    wire: Mapping[str, WireCredit],
    published: Mapping[str, str | None],
) -> tuple[str | None, str | None]:
    """The likely original of a cluster and the reason, or (None, None)."""
    candidates = sorted(members)
    reasons: list[str] = []
    credited = [m for m in candidates if m in wire]
    if credited:
        if len(credited) == 1:
            c = wire[credited[0]]
            return credited[0], f"wire credit: {c.agency} ({c.evidence})"
        agencies = sorted({wire[m].agency for m in credited})
        reasons.append(f"wire credit ({', '.join(agencies)}) on {len(credited)} members")
        candidates = credited
    dates = {m: d for m in candidates if (d := parse_published(published.get(m))) is not None}
    if dates:
        first = min(dates.values())
        earliest = sorted(m for m, d in dates.items() if d == first)
        if len(earliest) == 1:
            reasons.append(f"earliest published ({published[earliest[0]]})")
            return earliest[0], "; ".join(reasons)
        candidates = earliest
    member_set = set(candidates)
    found_in: dict[str, list[float]] = {m: [] for m in members}
    holds: dict[str, list[float]] = {m: [] for m in members}
    for match in matches:
        if match.a in found_in and match.b in found_in:
            found_in[match.a].append(match.reuse_a_in_b)
            found_in[match.b].append(match.reuse_b_in_a)
            holds[match.a].append(match.reuse_b_in_a)
            holds[match.b].append(match.reuse_a_in_b)
    central = {
        m: float(np.mean(found_in[m]) * np.mean(holds[m])) if found_in[m] else 0.0
        for m in member_set
    }
    best = max(sorted(member_set), key=lambda m: central[m])
    if central[best] <= 0:
        return None, None
    runner_up = sorted((v for k, v in central.items() if k != best), reverse=True)
    if runner_up and abs(runner_up[0] - central[best]) < 1e-9:
        reasons.append("tied on centrality; first by id")
    reasons.append(
        f"most central: {np.mean(found_in[best]):.0%} of its text is found in the others, "
        f"{np.mean(holds[best]):.0%} of theirs in it"
    )
    return best, "; ".join(reasons)


def cluster(
    matches: Sequence[Match],
    params: ClusterParams,
    wire: Mapping[str, WireCredit],
    published: Mapping[str, str | None],
    spans: Sequence[Sequence[Passage]] | None = None,
) -> tuple[tuple[Cluster, ...], dict[tuple[str, str], int]]:
    """Clusters with their likely original, ids from 1 in a stable order, and
    the cluster of each clustered match by ``(a, b)``; ``spans`` as for :func:`joins`."""
    out = []
    of_match: dict[tuple[str, str], int] = {}
    for k, comp in enumerate(components(matches, params.min_score, params.min_overlap, spans),
                             start=1):
        inner = [matches[i] for i in comp.matches]
        source, reason = likely_original(comp.members, inner, wire, published)
        out.append(Cluster(id=k, members=comp.members, source=source, source_reason=reason))
        of_match.update({(m.a, m.b): k for m in inner})
    return tuple(out), of_match
