"""Speed of the persistent index: adding a batch to an index of growing size.

The index is built in large batches up to each checkpoint size (default 10k /
50k / 100k articles); there the next ``--batch`` articles (default 1,000) are
added as one timed batch, the way the hourly job would add them. For each
checkpoint the table gives the wall time of the batch (profiling included),
its stages, the candidates it found (all, and against stored articles), the
matches, and the file size per article::

    python -m benchmarks.index_bench                       # 100k, the full run
    # the committed results/index_bench.json (checkpoints 10k to 200k):
    python -m benchmarks.index_bench --n 200000 --sizes 10000,50000,100000,200000
    python -m benchmarks.index_bench --n 20000 --sizes 5000,10000,20000
    python -m benchmarks.index_bench --doc-caps none,100,300,1000  # calibration

Two corpora (``--mode``):

``mixed`` (default)
    The first ``--gen-base`` (10k) articles of a seeded
    :mod:`benchmarks.generate` corpus in publication order, then *filler*
    articles up to each checkpoint; the timed batches are the next articles of
    the generated corpus (wire copies, rewrites, negatives of the same
    topics). Filler text is drawn word by word from the word frequencies of the
    PAN 2013 source documents (seeded), so it shares no passage with anything:
    it grows the index (and its term statistics, posting lists and B-trees)
    without adding relatives of the timed batches. This isolates what the
    target is about: the cost of a batch with the index size, at about the
    same number of true candidates.
``generated``
    The generated corpus alone (each pool sentence in one family or negative
    only; above ~35k articles the extra articles are unrelated negatives, see
    :mod:`benchmarks.generate`).

Results go to ``benchmarks/results/index_bench.json`` (``--out``). The index
file is written to a temporary directory unless ``--db`` names one (kept).
The target: a batch of 1,000 in under 30 s at 100k, its time depending on
the candidates it finds, not on the index size. To tell the two apart the
table also gives verify's cost per candidate, the batch's time without
verifying, how many band-key generations it looked up (one per ~9,000
articles, see :mod:`dedup.index.store`) and the LSH lookup's milliseconds,
and the article and passage posting rows it read (both lists capped,
:class:`~dedup.index.store.IndexParams`), and the rows the newest band-key
generation held before the batch (the batch writes into it, so the commit's
cost follows that fill, a sawtooth, not the index size). Each checkpoint
also times ``dedup index query`` of the same batch in a new process, as a
scheduled job would run it (the interpreter's start, imports, the compiled
kernels' loading, reading the JSONL file and writing the report included;
``--no-cli`` skips it). ``--doc-caps`` queries each timed
batch under several article keyword caps before adding it (nothing written),
for the calibration in benchmarks/CALIBRATION.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as `python benchmarks/index_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import DEFAULT_PAN_DIR, generate  # noqa: E402
from dedup.config import Config  # noqa: E402
from dedup.index import Index, IndexParams, add, query  # noqa: E402
from dedup.index.store import file_bytes  # noqa: E402
from dedup.model import Article  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "index_bench.json"


def corpus(n: int, seed: int,
           families: dict[str, tuple[str, ...]] | None = None) -> list[Article]:
    """``n`` generated articles in publication order (ties by id); each
    article's family ids go into ``families`` when given."""
    arts = []
    for g in generate(n, seed=seed):
        arts.append(Article(id=g.id, text=g.text, title=g.title, url=g.url,
                            published=g.published, source=g.source))
        if families is not None and g.families:
            families[g.id] = g.families
    arts.sort(key=lambda a: (a.published or "", a.id))
    return arts


def batch_quality(batch: Sequence[Article], seen: set[str], families: dict[str, tuple[str, ...]],
                  found: set[tuple[str, str]]) -> dict[str, Any]:
    """Recall and precision of one batch's matches against the generator's truth.

    A true pair is two members of one family (as in :mod:`benchmarks.run`)
    with at least one of them in the batch and the other in the batch or
    already indexed (``seen``). ``found`` holds the batch's reported pairs.
    """
    ids = {a.id for a in batch}
    members: dict[str, list[str]] = {}
    for i in sorted(seen | ids):
        for fam in families.get(i, ()):
            members.setdefault(fam, []).append(i)
    true: set[tuple[str, str]] = set()
    for group in members.values():
        for x in group:
            if x in ids:
                true.update((min(x, y), max(x, y)) for y in group if y != x)
    hit = len(true & found)
    return {"true_pairs": len(true), "found_pairs": len(found), "true_found": hit,
            "recall": round(hit / len(true), 4) if true else None,
            "precision": round(hit / len(found), 4) if found else None}


def doc_cap_trials(index: Index, measured: Sequence[Article], config: Config,
                   caps: Sequence[int | None], seen: set[str],
                   families: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Query the batch (nothing written) under each ``doc_max_postings`` value:
    what a cap on the article keyword lists costs in recall and saves in rows
    read (the cap only limits lookups, so one index serves every value)."""
    kept = index.params
    out = []
    try:
        for cap in caps:
            index.params = dataclasses.replace(kept, doc_max_postings=cap)
            t = time.perf_counter()
            q = query(index, measured, config)
            seconds = time.perf_counter() - t
            found = {(min(r.id, m.id), max(r.id, m.id)) for r in q.articles for m in r.matches}
            out.append({"doc_max_postings": cap, "seconds": round(seconds, 2),
                        "quality": batch_quality(measured, seen, families, found),
                        **{k: q.stats.get(k, 0) for k in
                           ("rows_doc", "ms_doc", "candidates_tfidf", "candidates")}})
            print(f"    doc_max_postings={cap}: {out[-1]}", file=sys.stderr)
    finally:
        index.params = kept
    return out


def filler(n: int, seed: int, pan_dir: Path = DEFAULT_PAN_DIR) -> Iterator[Article]:
    """``n`` articles of words drawn independently from the PAN source documents'
    word frequencies: realistic term statistics, no shared passages."""
    counts: Counter[str] = Counter()
    for path in sorted((pan_dir / "src").glob("*.txt")):
        counts.update(re.findall(r"[A-Za-z][a-z]+", path.read_text(encoding="utf-8",
                                                                    errors="replace")))
    words = sorted(counts)
    vocab = np.array(words, dtype=object)
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    cdf = np.cumsum(freq / freq.sum())
    rng = np.random.default_rng([seed, 7])
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for k in range(n):
        n_words = int(rng.integers(380, 620))
        drawn = vocab[np.minimum(np.searchsorted(cdf, rng.random(n_words)), len(vocab) - 1)]
        cuts = np.cumsum(rng.integers(8, 28, size=n_words // 8 + 2))
        cuts = cuts[cuts < n_words].tolist()
        sentences = [" ".join(part) for part in np.split(drawn, cuts) if len(part)]
        sentences = [x[0].upper() + x[1:] + "." for x in sentences]
        paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        when = start + timedelta(seconds=int(rng.integers(0, 730 * 86400)))
        yield Article(id=f"filler-{k:07d}", text="\n\n".join(paragraphs),
                      published=when.isoformat(), source="filler.example")


def cli_query(db: Path, batch: Sequence[Article], workers: int | None) -> float:
    """Wall seconds of ``dedup index query`` of ``batch`` (as a JSONL file) in
    a new process, as a scheduled job would run it: the interpreter's start,
    the imports, loading the compiled kernels, reading the file, opening the
    index and writing the report included. Nothing is written to the index."""
    with tempfile.TemporaryDirectory(prefix="index_bench_cli_") as tmp:
        path, out = Path(tmp) / "batch.jsonl", Path(tmp) / "report.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for a in batch:
                f.write(json.dumps({"id": a.id, "text": a.text, "title": a.title,
                                    "url": a.url, "published": a.published,
                                    "source": a.source}) + "\n")
        cmd = [sys.executable, "-c", "from dedup.cli.main import app; app()", "index", "query",
               "--db", str(db), str(path), "-o", str(out)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"dedup index query failed ({done.returncode}): "
                               f"{done.stderr.strip()[-500:]}")
        lines = out.read_text(encoding="utf-8").splitlines()
        if len(lines) != len(batch):
            raise RuntimeError(f"dedup index query reported {len(lines)} of {len(batch)} articles")
    return round(seconds, 2)


def _checkpoints(n: int, sizes: Sequence[int]) -> list[int]:
    points = sorted({s for s in sizes if 0 < s <= n})
    if not points or points[-1] != n:
        points.append(n)
    return points


def run(n: int, sizes: Sequence[int], batch: int, build_batch: int, seed: int,
        db: Path, workers: int | None, with_query: bool, mode: str = "mixed",
        gen_base: int = 10_000, params: IndexParams | None = None,
        doc_caps: Sequence[int | None] = (), with_cli: bool = True) -> dict[str, Any]:
    """Build the index to each checkpoint and time one batch there."""
    points = _checkpoints(n, sizes)
    t = time.perf_counter()
    families: dict[str, tuple[str, ...]] = {}
    if mode == "generated":
        articles = corpus(n + batch * len(points), seed, families)
        timed = None
    else:
        base = min(gen_base, n)
        generated = corpus(base + batch * len(points), seed, families)
        fill = filler(max(0, n - base), seed)
        articles = generated[:base]
        timed = iter(generated[base:])
    gen_seconds = time.perf_counter() - t
    print(f"generated {len(articles):,} articles in {gen_seconds:.1f} s", file=sys.stderr)
    config = Config(workers=workers)
    rows: list[dict[str, Any]] = []
    build: list[dict[str, Any]] = []
    pos = 0  # next article of the stream
    indexed = 0
    seen: set[str] = set()  # generated articles indexed so far
    params = params or IndexParams()
    with Index.open(db, config, create=True, params=params) as index:
        for point in points:
            while indexed < point:
                size = min(build_batch, point - indexed)
                part = articles[pos : pos + size]
                if timed is not None and len(part) < size:
                    part = part + [next(fill) for _ in range(size - len(part))]
                t = time.perf_counter()
                result = add(index, part, config)
                seconds = time.perf_counter() - t
                seen.update(a.id for a in part if a.id in families)
                pos += size
                indexed += size
                build.append({"articles": size, "index_before": indexed - size,
                              "seconds": round(seconds, 2),
                              "candidates": result.stats.get("candidates", 0),
                              "stages": result.stats["seconds"],
                              "ms_lsh": result.stats.get("ms_lsh", 0),
                              "rows_passage": result.stats.get("rows_passage", 0),
                              "rows_doc": result.stats.get("rows_doc", 0)})
                print(f"  built {indexed:,} ({size:,} in {seconds:.1f} s)", file=sys.stderr)
            if timed is None:
                measured = articles[pos : pos + batch]
            else:
                measured = [next(timed) for _ in range(batch)]
            row: dict[str, Any] = {"index_size": indexed, "batch": len(measured)}
            if doc_caps:
                row["doc_caps"] = doc_cap_trials(index, measured, config, doc_caps, seen,
                                                 families)
            if with_query:
                t = time.perf_counter()
                q = query(index, measured, config)
                row["query_seconds"] = round(time.perf_counter() - t, 2)
                row["query_candidates"] = q.stats.get("candidates", 0)
            if with_cli:
                row["cli_query_seconds"] = cli_query(db, measured, workers)
            newest = index.execute("SELECT rows FROM band_gens ORDER BY gen DESC LIMIT 1"
                                   ).fetchone()
            row["newest_generation_rows"] = int(newest[0]) if newest else 0
            t = time.perf_counter()
            result = add(index, measured, config)
            row["seconds"] = round(time.perf_counter() - t, 2)
            found = {(min(r.id, m.id), max(r.id, m.id)) for r in result.articles
                     for m in r.matches}
            row["quality"] = batch_quality(measured, seen, families, found)
            seen.update(a.id for a in measured if a.id in families)
            if timed is None:
                pos += len(measured)
            indexed += len(measured)
            index.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size_bytes = file_bytes(index.path)
            gens = index.execute("SELECT COUNT(*) FROM band_gens").fetchone()[0]
            row.update({
                "band_generations": int(gens),
                "stages": result.stats["seconds"],
                "candidates": result.stats.get("candidates", 0),
                "candidates_indexed": result.stats.get("candidates_indexed", 0),
                "stats": {k: v for k, v in result.stats.items() if k != "seconds"},
                "matches": result.stats["matches"],
                "reusing_indexed": result.stats["reusing_indexed"],
                "file_bytes": size_bytes,
                "bytes_per_article": round(size_bytes / indexed),
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            })
            rows.append(row)
            print(f"  index {row['index_size']:,}: batch of {row['batch']:,} in "
                  f"{row['seconds']:.1f} s, {row['candidates']:,} candidates", file=sys.stderr)
    return {
        "benchmark": "index_bench",
        "mode": mode,
        "gen_base": gen_base if mode == "mixed" else None,
        "n": n,
        "batch": batch,
        "build_batch": build_batch,
        "seed": seed,
        "workers": workers or os.cpu_count(),
        "params": params.settings(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "generate_seconds": round(gen_seconds, 1),
        "build_seconds": round(sum(b["seconds"] for b in build), 1),
        "checkpoints": rows,
        "build": build,
    }


def table(result: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    head = (f"{'index size':>10}  {'batch':>6}  {'seconds':>8}  {'profile':>7}  "
            f"{'cand.':>6}  {'verify':>6}  {'write':>6}  {'candidates':>10}  {'vs index':>8}  "
            f"{'verify ms/cand.':>15}  {'s w/o verify':>12}  {'gens':>4}  {'lsh ms':>6}  "
            f"{'doc rows':>8}  {'pass. rows':>10}  {'newest gen':>10}  {'commit':>6}  "
            f"{'cli query':>9}  "
            f"{'matches':>7}  {'recall':>6}  {'prec.':>6}  {'bytes/article':>13}")
    lines = [head, "-" * len(head)]
    for r in result["checkpoints"]:
        s = r["stages"]
        st = r.get("stats", {})
        q = r.get("quality", {})
        rec, prec = (f"{x:.3f}" if x is not None else "-"
                     for x in (q.get("recall"), q.get("precision")))
        lines.append(
            f"{r['index_size']:>10,}  {r['batch']:>6,}  {r['seconds']:>8.2f}  "
            f"{s.get('profile', 0):>7.2f}  {s.get('candidates', 0):>6.2f}  "
            f"{s.get('verify', 0):>6.2f}  {s.get('write', 0):>6.2f}  {r['candidates']:>10,}  "
            f"{r['candidates_indexed']:>8,}  "
            f"{1000 * s.get('verify', 0) / max(r['candidates'], 1):>15.3f}  "
            f"{r['seconds'] - s.get('verify', 0):>12.2f}  {r.get('band_generations', '-'):>4}  "
            f"{st.get('ms_lsh', 0):>6,}  {st.get('rows_doc', 0):>8,}  "
            f"{st.get('rows_passage', 0):>10,}  {r.get('newest_generation_rows', 0):>10,}  "
            f"{s.get('commit', 0):>6.2f}  {r.get('cli_query_seconds', 0):>9.2f}  "
            f"{r['matches']:>7,}  "
            f"{rec:>6}  {prec:>6}  "
            f"{r['bytes_per_article']:>13,}")
    return "\n".join(lines)


def _cap(text: str) -> int | None:
    """A posting cap from the command line: an integer, or 'none' for no cap."""
    text = text.strip().lower()
    return None if text == "none" else int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.index_bench",
                                 description="Time index add at several index sizes.")
    ap.add_argument("--n", type=int, default=100_000, help="largest index size (100000)")
    ap.add_argument("--sizes", default="10000,50000,100000",
                    help="checkpoint sizes, comma-separated (those above --n are dropped)")
    ap.add_argument("--batch", type=int, default=1000, help="articles per timed batch")
    ap.add_argument("--build-batch", type=int, default=5000,
                    help="articles per batch while building the base index")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mode", choices=("mixed", "generated"), default="mixed")
    ap.add_argument("--gen-base", type=int, default=10_000,
                    help="generated articles in the base index (mode mixed)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--db", type=Path, default=None, help="index file to build (kept)")
    ap.add_argument("--query", action="store_true", help="also time a query of each batch")
    ap.add_argument("--no-cli", action="store_true",
                    help="do not time 'dedup index query' of each batch in a new process")
    ap.add_argument("--passage-max-postings", default=None,
                    help="IndexParams.passage_max_postings of the new index "
                         "(an integer or 'none'; default: IndexParams' default)")
    ap.add_argument("--doc-caps", default="",
                    help="comma-separated doc_max_postings values ('none' allowed) to query "
                         "each timed batch with before adding it (calibration of the cap)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    doc_caps = [_cap(c) for c in args.doc_caps.split(",") if c.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    params = IndexParams()
    if args.passage_max_postings is not None:
        params = dataclasses.replace(params, passage_max_postings=_cap(args.passage_max_postings))
    tmp = None
    if args.db is None:
        tmp = tempfile.mkdtemp(prefix="index_bench_")
        db = Path(tmp) / "bench.db"
    else:
        db = args.db
        if db.exists():
            print(f"error: {db} exists; give a new file", file=sys.stderr)
            return 2
    try:
        result = run(args.n, sizes, args.batch, args.build_batch, args.seed, db,
                     args.workers, args.query, args.mode, args.gen_base, params, doc_caps,
                     with_cli=not args.no_cli)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
