"""Clusters as components of the match graph against components of articles.

    python -m benchmarks.edge_clusters CORPUS_DIR... [--min-overlap 0.3,0.5,0.7]

Generated corpora only (they carry ``truth.json``). Until session 9 dedup took
connected components of *articles*, so one article that merges two wire
stories (a roundup, a ``merged`` copy of the generator) chained both stories
into one cluster. Since then a cluster is a component of the graph of
*matches* (:mod:`dedup.cluster`): two matches join when they share an article
and their passages on it overlap by ``cluster.min_overlap`` of the shorter.
This script scans each corpus once per ``--min-overlap`` value and prints, for
the old design (recomputed here from the same matches) and for dedup's
clusters, the adjusted Rand index against the truth's families, the
attribution accuracy and how many articles sit in more than one cluster
(benchmarks/CALIBRATION.md, "Clusters as components of the match graph").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as a script
    sys.path.insert(0, str(ROOT))

from dedup.model import Match  # noqa: E402


def article_components(matches: Sequence[Match], min_score: float = 0.35) -> list[list[str]]:
    """The clusters of dedup before session 9: connected components of the
    articles joined by matches with passages reaching ``min_score``, largest first."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in matches:
        if m.score >= min_score and m.passages:
            ra, rb = find(m.a), find(m.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="generated corpus directories")
    parser.add_argument("--min-overlap", default="0.5",
                        help="comma-separated values of cluster.min_overlap to scan with")
    args = parser.parse_args(argv)

    import dedup
    from benchmarks.run import TruthIndex, attribution_accuracy, cluster_ari, load_articles
    from dedup.cluster import likely_original
    from dedup.wire import detect

    for corpus in args.corpora:
        articles = load_articles(corpus)
        truth = TruthIndex(json.loads((corpus / "truth.json").read_text(encoding="utf-8")))
        credits = {a.id: c for a in articles if (c := detect(a.text, a.source, a.url))}
        published = {a.id: a.published for a in articles}
        for k, value in enumerate(float(v) for v in args.min_overlap.split(",")):
            config = dedup.Config()
            config = replace(config, cluster=replace(config.cluster, min_overlap=value))
            report = dedup.scan(articles, config)
            min_score = config.cluster.min_score
            rows = [(f"min_overlap {value}", [(list(c.members), c.source)
                                              for c in report.clusters])]
            if k == 0:
                old = []
                for members in article_components(report.matches, min_score):
                    inside = set(members)
                    inner = [m for m in report.matches
                             if m.a in inside and m.b in inside and m.score >= min_score]
                    old.append((members, likely_original(members, inner, credits,
                                                         published)[0]))
                rows.insert(0, ("components of articles (before)", old))
            for name, clusters in rows:
                several = sum(1 for a in articles
                              if sum(a.id in set(m) for m, _ in clusters) > 1)
                print(f"{corpus.name}: {name}: {len(clusters)} clusters, "
                      f"ARI {cluster_ari([m for m, _ in clusters], truth):.3f}, "
                      f"attribution {attribution_accuracy(clusters, truth):.3f}, "
                      f"articles in more than one cluster {several}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
