"""Clusters of articles that reuse the same copy, and their likely original.

Clusters are the connected components of the graph of verified matches whose
score reaches ``min_score``. Only matches with aligned passages are edges, so
two stories that merely share a topic (and so a high TF-IDF cosine) never
join; the threshold keeps a single shared sentence from chaining two
families together.

The likely original of a cluster, in order of evidence:
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

from dedup.model import Cluster, Match
from dedup.wire import WireCredit


@dataclass(frozen=True)
class ClusterParams:
    """The ``cluster`` part of the config.

    Attributes:
        min_score: Matches below this score do not join articles in a cluster
            (they are still reported as matches). Chosen on the generated 1k
            corpus (benchmarks/results/quick.md): pair precision 0.85 -> 0.92-0.97
            for recall 0.998 -> 0.995-0.985 between 0.3 and 0.4.
    """

    min_score: float = 0.35


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


def components(ids: Sequence[str], matches: Sequence[Match], min_score: float) -> list[list[str]]:
    """Connected components (of size >= 2) of the match graph, members sorted,
    components ordered by size (largest first), then by first member."""
    index = {aid: i for i, aid in enumerate(ids)}
    edges = [(index[m.a], index[m.b]) for m in matches if m.score >= min_score and m.passages]
    if not edges:
        return []
    rows, cols = zip(*edges)
    graph = sp.coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for aid, label in zip(ids, labels.tolist()):
        groups.setdefault(label, []).append(aid)
    comps = [sorted(g) for g in groups.values() if len(g) >= 2]
    comps.sort(key=lambda g: (-len(g), g[0]))
    return comps


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
    ids: Sequence[str],
    matches: Sequence[Match],
    params: ClusterParams,
    wire: Mapping[str, WireCredit],
    published: Mapping[str, str | None],
) -> tuple[Cluster, ...]:
    """Clusters with their likely original, ids from 1 in a stable order."""
    out = []
    comps = components(ids, matches, params.min_score)
    comp_of = {aid: k for k, members in enumerate(comps) for aid in members}
    inner: list[list[Match]] = [[] for _ in comps]
    for m in matches:
        ka, kb = comp_of.get(m.a), comp_of.get(m.b)
        if ka is not None and ka == kb:
            inner[ka].append(m)
    for k, members in enumerate(comps, start=1):
        source, reason = likely_original(members, inner[k - 1], wire, published)
        out.append(Cluster(id=k, members=tuple(members), source=source, source_reason=reason))
    return tuple(out)
