"""Measure a clustering design that dedup does not use yet: clusters as
components of the graph of *matches*, not of articles.

    python -m benchmarks.edge_clusters CORPUS_DIR...   (generated corpora, with truth.json)

``dedup.cluster`` takes connected components of articles, so one article that
merges two wire stories (a roundup, a "merged" copy of the generator) chains
both stories into one cluster. Here two matches join when they share an
article and their passages on it overlap by at least half of the shorter
span; an article that merges two stories sits in two clusters and the stories
stay apart. The graph only grows as matches are added and its components do
not depend on order, so an index could keep them exactly (with a cluster per
stored match). This script scans each corpus once and prints, for today's
clusters and for these, the adjusted Rand index against the truth's families
and the attribution accuracy (benchmarks/CALIBRATION.md, "Clusters as
components of the match graph").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as a script
    sys.path.insert(0, str(ROOT))

from dedup.model import Match  # noqa: E402

Spans = list[tuple[int, int]]


def covered(spans: Spans) -> int:
    """Characters covered by a list of (start, end) spans."""
    total, end = 0, -1
    for s, e in sorted(spans):
        if e > end:
            total += e - max(s, end)
            end = e
    return total


def overlap(x: Spans, y: Spans) -> int:
    """Characters two span lists share (each list's spans do not overlap)."""
    return sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in x for s2, e2 in y)


def edge_clusters(matches: Sequence[Match], min_score: float = 0.35,
                  share: float = 0.5) -> list[list[str]]:
    """Member lists of the components of the match graph, largest first.

    Matches reaching ``min_score`` are the nodes; two are joined when they share
    an article and their passages on it overlap by ``share`` of the shorter.
    """
    edges = [m for m in matches if m.score >= min_score and m.passages]
    parent = list(range(len(edges)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    at: dict[str, list[tuple[int, Spans]]] = {}
    for k, m in enumerate(edges):
        at.setdefault(m.a, []).append((k, [(p.a_start, p.a_end) for p in m.passages]))
        at.setdefault(m.b, []).append((k, [(p.b_start, p.b_end) for p in m.passages]))
    for spans in at.values():
        for x, (k1, s1) in enumerate(spans):
            for k2, s2 in spans[x + 1:]:
                if find(k1) != find(k2) and \
                        overlap(s1, s2) >= share * min(covered(s1), covered(s2)):
                    parent[find(k1)] = find(k2)
    groups: dict[int, set[str]] = {}
    for k, m in enumerate(edges):
        groups.setdefault(find(k), set()).update((m.a, m.b))
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="generated corpus directories")
    args = parser.parse_args(argv)

    import dedup
    from benchmarks.run import TruthIndex, attribution_accuracy, cluster_ari, load_articles
    from dedup.cluster import likely_original
    from dedup.wire import detect

    for corpus in args.corpora:
        articles = load_articles(corpus)
        truth = TruthIndex(json.loads((corpus / "truth.json").read_text(encoding="utf-8")))
        config = dedup.Config()
        report = dedup.scan(articles, config)
        min_score = config.cluster.min_score
        credits = {a.id: c for a in articles if (c := detect(a.text, a.source, a.url))}
        published = {a.id: a.published for a in articles}
        today = [(list(c.members), c.source) for c in report.clusters]
        proposed = []
        for members in edge_clusters(report.matches, min_score):
            inside = set(members)
            inner = [m for m in report.matches
                     if m.a in inside and m.b in inside and m.score >= min_score]
            proposed.append((members, likely_original(members, inner, credits, published)[0]))
        in_several = sum(1 for a in articles
                         if sum(a.id in set(m) for m, _ in proposed) > 1)
        for name, clusters in (("components of articles (today)", today),
                               ("components of matches", proposed)):
            print(f"{corpus.name}: {name}: {len(clusters)} clusters, "
                  f"ARI {cluster_ari([m for m, _ in clusters], truth):.3f}, "
                  f"attribution {attribution_accuracy(clusters, truth):.3f}")
        print(f"{corpus.name}: articles in more than one cluster: {in_several}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
