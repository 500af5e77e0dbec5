"""Scan a PAN text-alignment corpus as ONE corpus and measure pair-level reuse
detection, speed and memory, with a plain datasketch pipeline timed beside it.

    python -m benchmarks.scan_pan [CORPUS_DIR] [--json] [--no-baseline] [--workers N]
                                  [--set KEY=VALUE ...]

Reported:
- pair recall per level: a listed pair counts as found when the scan reports a
  match between its two documents (level 05 XMLs without a case are left out);
  for the no-plagiarism level the share of its pairs reported (false positives);
- end-to-end scan seconds and per-stage seconds, peak RSS;
- the sketch stages alone (tokenize, shingle hashes, passage MinHash, LSH band
  keys and buckets) against a plain datasketch loop on the same texts
  (word 5-gram shingle sets in Python, ``MinHash.update`` per shingle,
  ``MinHashLSH`` insert and query over documents), and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as a script
    sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "pan13-train"
_WORD = re.compile(r"\w+")


def load(corpus: Path) -> tuple[list[Any], dict[str, list[tuple[str, str]]]]:
    """Articles (ids ``src/NAME`` and ``susp/NAME``) and the scored pairs per level:
    a level's pairs without a gold case are left out unless the whole level has none
    (:meth:`benchmarks.pan.Level.status`: unannotated 05 pairs are not negatives)."""
    from benchmarks.pan import discover_levels
    from dedup.model import Article

    articles = []
    for sub in ("src", "susp"):
        for path in sorted((corpus / sub).glob("*.txt")):
            articles.append(Article(id=f"{sub}/{path.name}",
                                    text=path.read_text(encoding="utf-8")))
    return articles, {
        level.name: [(f"susp/{p.susp}", f"src/{p.src}") for p in level.pairs
                     if level.status(p) != "unannotated"]
        for level in discover_levels(corpus)
    }


def sketch_stages(texts: list[str]) -> float:
    """Seconds for dedup's own shingling, MinHash and LSH over the texts (one
    process; the texts in batches as the scan's profile stage takes them)."""
    import numpy as np

    from dedup import lsh, sketch, text

    params = sketch.SketchParams()
    bands = lsh.band_params(0.5, params.num_perm)
    t0 = time.perf_counter()
    toks = text.tokenize_batch(texts)
    shingles = sketch.shingle_hashes_batch([t.hashes for t in toks], params.shingle_size)
    sigs, counts = sketch.batch_signatures(shingles, params)
    lsh.candidate_pairs(lsh.band_keys(sigs, *bands), np.repeat(np.arange(len(texts)), counts))
    return time.perf_counter() - t0


def datasketch_plain(texts: list[str]) -> float:
    """Seconds for the plain datasketch pipeline a user would write."""
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    index = MinHashLSH(threshold=0.5, num_perm=128)
    sigs = []
    for k, t in enumerate(texts):
        words = _WORD.findall(t.lower())
        shingles = {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=128)
        for s in shingles:
            m.update(s.encode("utf-8"))
        index.insert(k, m)
        sigs.append(m)
    for m in sigs:
        index.query(m)
    return time.perf_counter() - t0


def run(corpus: Path, workers: int | None, baseline: bool,
        settings: list[str] | None = None) -> dict[str, Any]:
    import dedup

    articles, levels = load(corpus)
    texts = [a.text for a in articles]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    t0 = time.perf_counter()
    report = dedup.scan(articles, dedup.Config(workers=workers).with_settings(settings or []))
    wall = time.perf_counter() - t0
    found = {(m.a, m.b) for m in report.matches}
    per_level = {}
    for name, pairs in levels.items():
        hits = sum(tuple(sorted(p)) in found for p in pairs)
        per_level[name] = {"pairs": len(pairs), "found": hits,
                           "share": round(hits / len(pairs), 4) if pairs else None}
    result: dict[str, Any] = {
        "corpus": str(corpus),
        "settings": settings or [],
        "articles": len(articles),
        "megabytes": round(mb, 1),
        "scan_seconds": round(wall, 2),
        "stage_seconds": report.stats["seconds"],
        "stats": {k: v for k, v in report.stats.items() if k != "seconds"},
        "levels": per_level,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                             + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "cpus": os.cpu_count(),
    }
    ours = sketch_stages(texts)
    result["sketch_seconds_dedup"] = round(ours, 2)
    if baseline:
        plain = datasketch_plain(texts)
        result["sketch_seconds_datasketch_plain"] = round(plain, 2)
        result["sketch_speedup"] = round(plain / ours, 1)
    return result


def table(r: dict[str, Any]) -> str:
    lines = [f"pan13 scanned as one corpus: {r['articles']} articles, {r['megabytes']} MB, "
             f"{r['cpus']} CPUs", "", "| level | pairs | found | share |", "|---|---|---|---|"]
    for name, v in r["levels"].items():
        lines.append(f"| {name} | {v['pairs']} | {v['found']} | {v['share']} |")
    lines += ["", f"scan: {r['scan_seconds']} s end to end; stages: {r['stage_seconds']}",
              f"peak RSS: {r['peak_rss_mb']} MB (parent + largest worker)",
              f"sketch stages (shingle+MinHash+LSH), dedup: {r['sketch_seconds_dedup']} s"]
    if "sketch_seconds_datasketch_plain" in r:
        lines.append(f"plain datasketch loop: {r['sketch_seconds_datasketch_plain']} s "
                     f"-> dedup is {r['sketch_speedup']}x faster")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE", help="a setting, as dedup scan --set takes it")
    args = parser.parse_args(argv)
    if not (args.corpus / "src").is_dir():
        print(f"scan_pan: {args.corpus}: not a PAN corpus (no src/ folder)", file=sys.stderr)
        return 2
    result = run(args.corpus, args.workers, not args.no_baseline, args.settings)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
