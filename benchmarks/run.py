"""Seeded benchmark of dedup against baselines on generated corpora with known truth.

``python -m benchmarks run [--sizes 1k,10k] [--quick] [--out benchmarks/results]``

For each corpus size a corpus is generated (``benchmarks.generate.write_corpus``,
seeded) into a temporary directory, then every *system* is run on it in its own
subprocess (``python -m benchmarks measure ...``) so that wall time and peak RSS
are measured separately:

* ``dedup`` - ``dedup.scan`` over ``dedup.Article`` records read from
  ``articles.jsonl`` (ids and metadata as in the truth), default ``Config()``;
* ``tokenize`` - reading plus ``dedup.text.tokenize`` of every text (lower bound);
* ``datasketch`` / ``datasketch_bulk`` / ``tfidf`` - see :mod:`benchmarks.baselines`
  (``tfidf`` only up to ``--tfidf-max`` articles, default 10k).

Each subprocess reports wall seconds (reading the JSONL included; importing the
system's libraries excluded, timed apart as ``import_seconds``), CPU seconds,
and its peak RSS: the larger of its own and that of its largest worker process
(dedup forks workers; forked pages are shared, so this is a per-process peak,
not a sum). Quality is computed in the parent against ``truth.json``:

* pair precision / recall / F1, overall and per edit kind. True pairs are every
  pair of members of a family (original-copy and copy-copy). A true pair is
  attributed to the edit kind of its copy (a copy-copy pair to both copies'
  kinds); a false pair to the kind of every copy in it. So per-kind recall is
  "pairs involving a copy of this kind found", per-kind precision is "of the
  reported pairs involving a copy of this kind, the share that are true". False
  pairs touching negatives are also counted per negative kind;
* cluster adjusted Rand index (``sklearn.metrics.adjusted_rand_score``) over all
  articles, each unclustered article its own label (an article of two families,
  a ``merged`` copy, takes its first family's label). For baselines the
  clusters are the connected components of their pairs;
* source attribution accuracy: the share of families whose original sits in a
  dedup cluster that names it as the source.

Results go to ``<out>/<name>.json``, ``<out>/<name>.md`` and ``<out>/<name>-*.png``.
With ``--quick`` (1k only) the run fails (exit 1) when dedup's overall pair
precision or recall falls below the floor in ``benchmarks/floor.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FLOOR_PATH",
    "SYSTEMS",
    "PairScore",
    "TruthIndex",
    "attribution_accuracy",
    "check_floor",
    "cluster_ari",
    "components",
    "load_articles",
    "load_records",
    "machine_info",
    "main",
    "measure",
    "pair_scores",
    "parse_size",
    "score_sweep",
]

#: Systems in the order they are run and reported.
SYSTEMS: tuple[str, ...] = ("dedup", "tokenize", "datasketch", "datasketch_bulk", "tfidf")
#: The committed quality floor checked by ``--quick``.
FLOOR_PATH = Path(__file__).resolve().parent / "floor.json"
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
OVERALL = "overall"


# --------------------------------------------------------------------------------------------
# Truth and quality metrics
# --------------------------------------------------------------------------------------------


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class TruthIndex:
    """The truth of a generated corpus, indexed for pair and cluster scoring.

    Args:
        truth: The ``truth.json`` dict (``families`` with ``original``,
            ``members`` and ``kinds``; ``negatives`` with ``id`` and ``kind``).

    Attributes:
        ids: Every article id, sorted.
        true_pairs: Each true pair ``(a, b)``, ``a < b``, mapped to the edit
            kinds it is attributed to.
        kinds_of: Each article's labels: its edit kinds as a copy, ``original``,
            or its negative kind.
        family_of: The first family each family member belongs to.
        families: ``(family id, original id, members)`` per family.
        edit_kinds: The edit kinds, in the truth's order.
        negative_kinds: The negative kinds, in the truth's order.
    """

    def __init__(self, truth: Mapping[str, Any]) -> None:
        self.true_pairs: dict[tuple[str, str], set[str]] = {}
        self.kinds_of: dict[str, set[str]] = defaultdict(set)
        self.family_of: dict[str, str] = {}
        self.families: list[tuple[str, str, tuple[str, ...]]] = []
        for fam in truth["families"]:
            original, members, kinds = fam["original"], list(fam["members"]), fam["kinds"]
            self.families.append((fam["family"], original, tuple(members)))
            for m in members:
                self.kinds_of[m].add("original" if m == original else kinds[m])
                self.family_of.setdefault(m, fam["family"])
            for x, a in enumerate(members):
                for b in members[x + 1 :]:
                    copy_kinds = {kinds[m] for m in (a, b) if m != original}
                    self.true_pairs.setdefault(_pair(a, b), set()).update(copy_kinds)
        for neg in truth.get("negatives", []):
            self.kinds_of[neg["id"]].add(neg["kind"])
        self.ids: list[str] = sorted(self.kinds_of)
        self.edit_kinds: list[str] = list(truth.get("edit_kinds") or sorted(
            {k for ks in self.true_pairs.values() for k in ks}))
        self.negative_kinds: list[str] = list(truth.get("negative_kinds") or [])

    def pair_kinds(self, a: str, b: str) -> set[str]:
        """The kinds a pair is attributed to (see the module docstring)."""
        key = _pair(a, b)
        if key in self.true_pairs:
            return set(self.true_pairs[key])
        return self.kinds_of.get(a, set()) | self.kinds_of.get(b, set())


@dataclass(frozen=True)
class PairScore:
    """Pair precision and recall of one kind (or overall).

    Attributes:
        true: True pairs attributed to the kind.
        found: Of those, the reported ones.
        reported: Reported pairs attributed to the kind.
        correct: Of those, the true ones.
    """

    true: int
    found: int
    reported: int
    correct: int

    @property
    def recall(self) -> float | None:
        """``found / true`` (None without true pairs)."""
        return self.found / self.true if self.true else None

    @property
    def precision(self) -> float | None:
        """``correct / reported`` (None without reported pairs)."""
        return self.correct / self.reported if self.reported else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (None if either is undefined)."""
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Counts and rates, rounded."""
        out: dict[str, Any] = asdict(self)
        for name in ("precision", "recall", "f1"):
            value = getattr(self, name)
            out[name] = None if value is None else round(value, 4)
        return out


def pair_scores(pairs: Iterable[tuple[str, str]], truth: TruthIndex) -> dict[str, PairScore]:
    """Pair precision / recall per kind and overall.

    Args:
        pairs: Reported article id pairs (either order; duplicates ignored).
        truth: The indexed truth.

    Returns:
        ``PairScore`` per edit kind, per negative kind (false pairs touching it,
        no true pairs) and under ``"overall"``.

    Example:
        >>> t = TruthIndex({"families": [{"family": "f1", "original": "a",
        ...     "members": ["a", "b"], "kinds": {"a": "original", "b": "verbatim"}}],
        ...     "negatives": [{"id": "c", "kind": "unrelated"}]})
        >>> pair_scores([("b", "a"), ("a", "c")], t)["overall"].precision
        0.5
    """
    reported = {_pair(a, b) for a, b in pairs if a != b}
    true: dict[str, int] = defaultdict(int)
    found: dict[str, int] = defaultdict(int)
    n_reported: dict[str, int] = defaultdict(int)
    correct: dict[str, int] = defaultdict(int)
    for key, kinds in truth.true_pairs.items():
        hit = key in reported
        for k in (*kinds, OVERALL):
            true[k] += 1
            found[k] += hit
    for a, b in reported:
        is_true = (a, b) in truth.true_pairs
        for k in (*truth.pair_kinds(a, b), OVERALL):
            n_reported[k] += 1
            correct[k] += is_true
    order = [*truth.edit_kinds, *truth.negative_kinds]
    order += sorted(set(n_reported) - set(order) - {OVERALL, "original"})
    return {
        k: PairScore(true[k], found[k], n_reported[k], correct[k]) for k in (*order, OVERALL)
    }


#: Match score cut-offs of the dedup score sweep.
SWEEP: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def score_sweep(
    pairs: Sequence[tuple[str, str]], scores: Sequence[float], truth: TruthIndex,
    cutoffs: Sequence[float] = SWEEP,
) -> dict[float, PairScore]:
    """Overall pair precision / recall keeping only pairs scoring at least each cut-off.

    Args:
        pairs: Reported pairs.
        scores: The score of each pair, in the same order.
        truth: The indexed truth.
        cutoffs: Minimum scores to try.

    Returns:
        The overall ``PairScore`` per cut-off.

    Raises:
        ValueError: If ``pairs`` and ``scores`` differ in length.
    """
    if len(pairs) != len(scores):
        raise ValueError(f"expected one score per pair, got {len(scores)} scores for "
                         f"{len(pairs)} pairs")
    return {t: pair_scores([p for p, s in zip(pairs, scores) if s >= t], truth)[OVERALL]
            for t in cutoffs}


def components(ids: Sequence[str], pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected components (of two or more articles) of a pair graph.

    Args:
        ids: All article ids.
        pairs: Edges.

    Returns:
        Components as sorted id lists, sorted by their first id.
    """
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        groups[find(i)].append(i)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def cluster_ari(
    clusters: Iterable[Sequence[str]], truth: TruthIndex, *, joined: bool = False
) -> float:
    """Adjusted Rand index of predicted clusters against the truth's families.

    Args:
        clusters: Predicted clusters (member id lists); an article in several
            keeps the first; articles in none are singletons.
        truth: The indexed truth (its ``ids`` are the articles scored).
        joined: Score against families joined through shared (``merged``)
            members - the best any partition into connected components can do -
            instead of each article's first family.

    Returns:
        ``sklearn.metrics.adjusted_rand_score`` of the two labelings.
    """
    from sklearn.metrics import adjusted_rand_score

    predicted: dict[str, str] = {}
    for k, members in enumerate(clusters):
        for m in members:
            predicted.setdefault(m, f"c{k}")
    if joined:
        groups = components(truth.ids, truth.true_pairs)
        expected = {m: f"g{k}" for k, g in enumerate(groups) for m in g}
    else:
        expected = dict(truth.family_of)
    labels_true = [expected.get(i, f"s:{i}") for i in truth.ids]
    labels_pred = [predicted.get(i, f"s:{i}") for i in truth.ids]
    return float(adjusted_rand_score(labels_true, labels_pred))


def attribution_accuracy(
    clusters: Iterable[tuple[Sequence[str], str | None]], truth: TruthIndex
) -> float | None:
    """Share of families whose original is in a cluster that names it as the source.

    Args:
        clusters: ``(members, source)`` per predicted cluster.
        truth: The indexed truth.

    Returns:
        The share in [0, 1], or None if the truth has no families.
    """
    source_of: dict[str, str | None] = {}
    for members, source in clusters:
        for m in members:
            source_of.setdefault(m, source)
    if not truth.families:
        return None
    right = sum(source_of.get(original) == original for _, original, _ in truth.families)
    return right / len(truth.families)


# --------------------------------------------------------------------------------------------
# Measuring one system (runs in a subprocess)
# --------------------------------------------------------------------------------------------


def load_records(corpus_dir: Path) -> list[dict[str, Any]]:
    """The JSON records of ``corpus_dir/articles.jsonl``, in file order."""
    with (corpus_dir / "articles.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def load_articles(corpus_dir: Path) -> list[Any]:
    """``dedup.Article`` records from ``corpus_dir/articles.jsonl``, in file order."""
    return _articles(load_records(corpus_dir))


def _articles(records: Sequence[dict[str, Any]]) -> list[Any]:
    from dedup import Article

    return [Article(id=r["id"], text=r["text"], title=r.get("title"), url=r.get("url"),
                    published=r.get("published"), source=r.get("source")) for r in records]


def _vm_hwm_mb() -> float | None:
    """``VmHWM`` of this process from ``/proc`` (Linux), in MB, else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _peak_rss_mb() -> dict[str, float]:
    """Peak RSS of this process and of its largest waited-for child, in MB.

    Linux's ``ru_maxrss`` of a process carries over the high-water mark of the
    process it was forked from across ``exec``, so this process's own peak is
    read from ``VmHWM`` (its own address space) where available.
    """
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024 / 1024  # KB on Linux
    hwm = _vm_hwm_mb()
    own = hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return {"peak_rss_mb": round(max(own, kids), 1), "self_rss_mb": round(own, 1),
            "workers_rss_mb": round(kids, 1)}


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        u = resource.getrusage(who)
        total += u.ru_utime + u.ru_stime
    return total


#: The library each system imports, loaded before its clock starts: every
#: system is timed on the corpus, not on the interpreter loading scipy and
#: scikit-learn (1.5 s for ``dedup``, which a 1k corpus would otherwise pay
#: and the baselines mostly not); the import time is reported apart.
_LIBRARIES = {"dedup": "dedup", "tokenize": "dedup.text", "datasketch": "datasketch",
              "datasketch_bulk": "datasketch", "tfidf": "sklearn.feature_extraction.text"}


def measure(system: str, corpus_dir: Path) -> dict[str, Any]:
    """Run one system on a corpus and time it (call in a fresh process).

    Args:
        system: One of :data:`SYSTEMS`.
        corpus_dir: A ``write_corpus`` output directory.

    Returns:
        ``seconds`` (reading included), ``cpu_seconds``, ``stages``, peak RSS,
        ``pairs`` (id pairs) and, for dedup, ``clusters``.

    Raises:
        ValueError: For an unknown system.
    """
    from benchmarks import baselines

    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {', '.join(SYSTEMS)}")
    t = time.perf_counter()
    importlib.import_module(_LIBRARIES[system])
    import_seconds = time.perf_counter() - t
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    records = load_records(corpus_dir)
    # only dedup's own run builds dedup.Article records (importing dedup, for
    # the baselines, would count scikit-learn's import in their time)
    articles = _articles(records) if system == "dedup" else []
    stages: dict[str, float] = {"load": time.perf_counter() - t0}
    ids = [r["id"] for r in records]
    texts = [r["text"] for r in records]
    out: dict[str, Any] = {"system": system, "articles": len(records),
                           "bytes": sum(len(t.encode("utf-8")) for t in texts)}
    index_pairs: list[tuple[int, int]] = []
    t = time.perf_counter()
    if system == "dedup":
        import dedup

        report = dedup.scan(articles, dedup.Config())
        stages.update(report.stats["seconds"])
        out["pairs"] = [[m.a, m.b] for m in report.matches]
        out["scores"] = [round(m.score, 4) for m in report.matches]
        out["clusters"] = [{"members": list(c.members), "source": c.source}
                           for c in report.clusters]
        out["dedup_stats"] = {k: v for k, v in report.stats.items() if k != "seconds"}
    elif system == "tokenize":
        out["tokens"] = baselines.tokenize_all(texts)
        stages["tokenize"] = time.perf_counter() - t
    else:
        fn: Any = {"datasketch": baselines.datasketch_update,
              "datasketch_bulk": baselines.datasketch_bulk,
              "tfidf": baselines.tfidf_all_pairs}[system]
        index_pairs = fn(texts)
        stages["detect"] = time.perf_counter() - t
    out["seconds"] = time.perf_counter() - t0
    out["import_seconds"] = round(import_seconds, 3)
    out["cpu_seconds"] = _cpu_seconds() - cpu0
    if system not in ("dedup", "tokenize"):
        out["pairs"] = [[ids[i], ids[j]] for i, j in index_pairs]
    out["stages"] = {k: round(v, 4) for k, v in stages.items()}
    out.update(_peak_rss_mb())
    return out


# --------------------------------------------------------------------------------------------
# The run: generate, measure in subprocesses, score, write
# --------------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``"1k"`` -> 1000, ``"2.5k"`` -> 2500, ``"1m"`` -> 1000000, ``"500"`` -> 500.

    Raises:
        ValueError: If the text is not a positive size.
    """
    s = text.strip().lower()
    mult = {"k": 1000, "m": 1_000_000}.get(s[-1:], 1)
    try:
        n = int(float(s[:-1] if mult > 1 else s) * mult)
    except ValueError:
        raise ValueError(f"expected a size like 1k, 10k or 500, got {text!r}") from None
    if n <= 0:
        raise ValueError(f"expected a positive size, got {text!r}")
    return n


def size_label(n: int) -> str:
    """1000 -> ``"1k"``, 500 -> ``"500"``."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def machine_info() -> dict[str, Any]:
    """Platform, Python, CPU count and RAM of this machine."""
    ram = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions: dict[str, str] = {}
    for mod in ("dedup", "datasketch", "sklearn", "numpy"):
        try:
            versions[mod] = str(__import__(mod).__version__)
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            continue
    return {"platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "ram_gb": None if ram is None else round(ram, 1),
            "versions": versions}


def _run_child(system: str, corpus_dir: Path, timeout: float) -> dict[str, Any]:
    """``measure`` in a fresh interpreter; an ``error`` entry if it fails."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out_path = Path(tmp.name)
    cmd = [sys.executable, "-m", "benchmarks", "measure", system, str(corpus_dir),
           "--out", str(out_path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=Path(__file__).resolve().parents[1])
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return {"system": system, "error": " | ".join(tail) or f"exit {proc.returncode}"}
        result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
        return result
    except subprocess.TimeoutExpired:
        return {"system": system, "error": f"timed out after {timeout:.0f} s"}
    finally:
        out_path.unlink(missing_ok=True)


def _score(result: dict[str, Any], truth: TruthIndex) -> dict[str, Any]:
    """Quality of one system's result (pairs, clusters) against the truth."""
    if "pairs" not in result:
        return {}
    pairs = [tuple(p) for p in result["pairs"]]
    scores = pair_scores(pairs, truth)  # type: ignore[arg-type]
    if "clusters" in result:
        clusters = [c["members"] for c in result["clusters"]]
        attribution = attribution_accuracy(
            [(c["members"], c["source"]) for c in result["clusters"]], truth)
    else:
        clusters = components(truth.ids, pairs)  # type: ignore[arg-type]
        attribution = None
    sweep = []
    if "scores" in result:
        sweep = [{"min_score": t, **v.to_dict()} for t, v in
                 score_sweep(pairs, result["scores"], truth).items()]  # type: ignore[arg-type]
    return {"pairs": {k: v.to_dict() for k, v in scores.items()},
            "score_sweep": sweep,
            "ari": round(cluster_ari(clusters, truth), 4),
            "ari_joined": round(cluster_ari(clusters, truth, joined=True), 4),
            "attribution": None if attribution is None else round(attribution, 4)}


def run_size(
    n: int, seed: int, systems: Sequence[str], *, tfidf_max: int, timeout: float,
    corpus_cache: Path | None, log: Any, repeat: int = 1,
) -> dict[str, Any]:
    """Generate (or reuse) the corpus of one size and measure every system on it.

    Each system runs ``repeat`` times in fresh processes; the fastest run is kept
    (the machine may be shared, and interference only ever adds time).
    """
    from benchmarks.generate import write_corpus

    with tempfile.TemporaryDirectory(prefix=f"dedup-bench-{size_label(n)}-") as tmp:
        corpus = (corpus_cache / f"n{n}-s{seed}") if corpus_cache else Path(tmp)
        t = time.perf_counter()
        if (corpus / "truth.json").exists():
            truth_dict = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
            log(f"[{size_label(n)}] reusing corpus {corpus}")
        else:
            truth_dict = write_corpus(corpus, n, seed, overwrite=True)
            log(f"[{size_label(n)}] generated {n} articles in {time.perf_counter() - t:.1f} s")
        truth = TruthIndex(truth_dict)
        jsonl_mb = (corpus / "articles.jsonl").stat().st_size / 2**20
        entry: dict[str, Any] = {"n": n, "label": size_label(n), "seed": seed,
                                 "jsonl_mb": round(jsonl_mb, 2),
                                 "true_pairs": len(truth.true_pairs),
                                 "families": len(truth.families), "systems": {}}
        for system in systems:
            if system == "tfidf" and n > tfidf_max:
                entry["systems"][system] = {"system": system, "skipped": f"n > {tfidf_max}"}
                continue
            runs = [_run_child(system, corpus, timeout) for _ in range(max(1, repeat))]
            ok = [r for r in runs if "error" not in r]
            result = min(ok, key=lambda r: r["seconds"]) if ok else runs[0]
            if ok and len(runs) > 1:
                result["all_seconds"] = [round(r["seconds"], 3) for r in ok]
            if "error" not in result:
                secs = result["seconds"]
                result["articles_per_s"] = round(result["articles"] / secs, 1)
                result["mb_per_s"] = round(result["bytes"] / 2**20 / secs, 3)
                result["quality"] = _score(result, truth)
                result["seconds"] = round(secs, 3)
                result["cpu_seconds"] = round(result["cpu_seconds"], 3)
                if "pairs" in result:
                    result["n_pairs"] = len(result.pop("pairs"))
                result.pop("scores", None)
                result.pop("clusters", None)
                overall = result["quality"].get("pairs", {}).get(OVERALL, {})
                log(f"[{size_label(n)}] {system}: {secs:.1f} s, "
                    f"{result['peak_rss_mb']:.0f} MB, P={overall.get('precision')} "
                    f"R={overall.get('recall')}")
            else:
                log(f"[{size_label(n)}] {system}: ERROR {result['error']}")
            entry["systems"][system] = result
        return entry


def check_floor(results: Mapping[str, Any], floor: Mapping[str, Any]) -> list[str]:
    """Failures of dedup's overall pair precision / recall, and of its clusters'
    adjusted Rand index and attribution accuracy, against the floor.

    Args:
        results: A run's results (``sizes`` list).
        floor: ``{"n": 1000, "seed": 0, "dedup": {"precision": p, "recall": r},
            "dedup_clusters": {"ari": a, "attribution": t}}`` (either part optional).

    Returns:
        One message per metric below its floor (empty when all pass).
    """
    failures = []
    for entry in results["sizes"]:
        if entry["n"] != floor.get("n", entry["n"]):
            continue
        sysres = entry["systems"].get("dedup", {})
        if "error" in sysres:
            failures.append(f"dedup failed on {entry['label']}: {sysres['error']}")
            continue
        overall = sysres.get("quality", {}).get("pairs", {}).get(OVERALL, {})
        for metric, minimum in floor.get("dedup", {}).items():
            value = overall.get(metric)
            if value is None or value < minimum:
                failures.append(f"dedup pair {metric} {value} < floor {minimum} "
                                f"({entry['label']} articles)")
        for metric, minimum in floor.get("dedup_clusters", {}).items():
            value = sysres.get("quality", {}).get(metric)
            if value is None or value < minimum:
                failures.append(f"dedup cluster {metric} {value} < floor {minimum} "
                                f"({entry['label']} articles)")
    return failures


# --------------------------------------------------------------------------------------------
# Output: markdown and plots
# --------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_markdown(results: Mapping[str, Any]) -> str:
    """The results as markdown tables."""
    m = results["machine"]
    lines = [f"# dedup benchmark: {results['name']}", "",
             f"Machine: {m['platform']}, Python {m['python']}, {m['cpu_count']} CPUs, "
             f"{m['ram_gb']} GB RAM; {', '.join(f'{k} {v}' for k, v in m['versions'].items())}."
             f" Run {results['started']}, {results['wall_seconds']:.0f} s in all, seed "
             f"{results['seed']}, fastest of {results.get('repeat', 1)} run(s) per system "
             "(the machine may be shared with other jobs).", "",
             "Time is wall time in a fresh process, reading `articles.jsonl` included, "
             "importing the system's libraries not (timed apart: `import s`); dedup "
             f"uses {m['cpu_count']} worker processes, the baselines one. Peak RSS is the "
             "largest single process (dedup's forked workers share pages). Pairs: true = "
             "every pair of family members; datasketch pairs are unverified LSH candidates "
             "(Jaccard threshold 0.5, 128 perms, word 5-grams); tfidf = all-pairs cosine "
             ">= 0.5. ARI is against each article's (first) family, ARI joined against "
             "families joined through their shared `merged` copies; baselines' clusters are "
             "the connected components of their pairs. Attribution: share of families whose "
             "original is in a cluster naming it as the source.", ""]
    for entry in results["sizes"]:
        lines += [f"## {entry['label']} articles ({entry['jsonl_mb']} MB JSONL, "
                  f"{entry['families']} families, {entry['true_pairs']} true pairs)", "",
                  "| system | seconds | import s | CPU s | articles/s | MB/s | peak RSS MB | "
                  "pairs | precision | recall | F1 | ARI | ARI joined | attribution | "
                  "dedup time / this |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        dedup_secs = entry["systems"].get("dedup", {}).get("seconds")
        for name, r in entry["systems"].items():
            if "skipped" in r or "error" in r:
                lines.append(f"| {name} | {r.get('skipped') or 'error: ' + r['error']} |"
                             + " |" * 14)
                continue
            q = r.get("quality", {})
            o = q.get("pairs", {}).get(OVERALL, {})
            ratio = dedup_secs / r["seconds"] if dedup_secs and r["seconds"] else None
            lines.append(
                f"| {name} | {r['seconds']:.2f} | {_fmt(r.get('import_seconds'), 2)} | "
                f"{r['cpu_seconds']:.2f} | "
                f"{r['articles_per_s']:.0f} | {r['mb_per_s']:.2f} | {r['peak_rss_mb']:.0f} | "
                f"{r.get('n_pairs', '-') if q else '-'} | {_fmt(o.get('precision'))} | "
                f"{_fmt(o.get('recall'))} | {_fmt(o.get('f1'))} | {_fmt(q.get('ari'))} | "
                f"{_fmt(q.get('ari_joined'))} | "
                f"{_fmt(q.get('attribution'))} | {_fmt(ratio, 2)} |")
        d = entry["systems"].get("dedup", {})
        if "stages" in d:
            lines += ["", "dedup stages (s; `load` is the harness reading the JSONL, the "
                      "rest `report.stats[\"seconds\"]`): " + ", ".join(
                f"{k} {v:.2f}" for k, v in d["stages"].items()), ""]
        sweep = d.get("quality", {}).get("score_sweep") if "error" not in d else None
        if sweep:
            lines += ["dedup overall pairs if matches scoring below a cut-off were dropped "
                      "(`Match.score`; the scan reports all, `min_score` 0):", "",
                      "| min score | pairs | precision | recall | F1 |",
                      "|---:|---:|---:|---:|---:|"]
            lines += [f"| {row['min_score']:.1f} | {row['reported']} | "
                      f"{_fmt(row['precision'])} | {_fmt(row['recall'])} | {_fmt(row['f1'])} |"
                      for row in sweep]
            lines.append("")
        scored = [(n, r) for n, r in entry["systems"].items() if r.get("quality")]
        if scored:
            kinds = list(scored[0][1]["quality"]["pairs"])
            lines += ["Pair recall / precision per kind (negative kinds: false pairs "
                      "touching them):", "",
                      "| kind | true pairs | " + " | ".join(f"{n} R / P" for n, _ in scored)
                      + " |", "|---|---:|" + "---:|" * len(scored)]
            for k in kinds:
                cells = []
                for _, r in scored:
                    s = r["quality"]["pairs"].get(k, {})
                    if s.get("true"):
                        cells.append(f"{_fmt(s.get('recall'))} / {_fmt(s.get('precision'))}")
                    else:
                        cells.append(f"{s.get('reported', 0)} false")
                true = scored[0][1]["quality"]["pairs"][k]["true"]
                lines.append(f"| {k} | {true} | " + " | ".join(cells) + " |")
            lines.append("")
    if any(entry["n"] > 2000 for entry in results["sizes"]):
        lines += [
            "Above ~35k articles the generator runs out of distinct real stories for "
            "families (about 3,000 at most, each pool sentence used by one family or "
            "negative only); the remaining articles are unrelated negatives, so the family "
            "share falls (16% at 100k). See truth.json's pool statistics.", ""]
    return "\n".join(lines) + "\n"


def render_plots(results: Mapping[str, Any], out_dir: Path, name: str) -> list[str]:
    """Time / memory vs size and per-kind precision / recall plots (PNG, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    sizes = results["sizes"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for system in SYSTEMS:
        pts = [(e["n"], e["systems"][system]) for e in sizes
               if "seconds" in e["systems"].get(system, {})]
        if not pts:
            continue
        xs = [p[0] for p in pts]
        axes[0].plot(xs, [p[1]["seconds"] for p in pts], marker="o", label=system)
        axes[1].plot(xs, [p[1]["peak_rss_mb"] for p in pts], marker="o", label=system)
    for ax, ylabel in zip(axes, ("wall seconds", "peak RSS (MB)")):
        ax.set_xlabel("articles")
        ax.set_ylabel(ylabel)
        if len(sizes) > 1:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"dedup benchmark {name}: time and memory vs corpus size")
    fig.tight_layout()
    path = out_dir / f"{name}-time-memory.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path.name)

    for entry in sizes:
        scored = [(s, r) for s, r in entry["systems"].items() if r.get("quality")]
        if not scored:
            continue
        kinds = [k for k, v in scored[0][1]["quality"]["pairs"].items() if v["true"]]
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
        width = 0.8 / len(scored)
        for s_idx, (system, r) in enumerate(scored):
            pairs = r["quality"]["pairs"]
            xs = [k + s_idx * width for k in range(len(kinds))]
            for ax, metric in zip(axes, ("recall", "precision")):
                ax.bar(xs, [pairs[k][metric] or 0.0 for k in kinds], width, label=system)
        for ax, metric in zip(axes, ("recall", "precision")):
            ax.set_xticks([k + 0.4 - width / 2 for k in range(len(kinds))])
            ax.set_xticklabels(kinds, rotation=45, ha="right", fontsize=8)
            ax.set_title(f"pair {metric} per edit kind ({entry['label']} articles)")
            ax.set_ylim(0, 1.05)
            ax.grid(axis="y", alpha=0.3)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(scored), fontsize=8)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        path = out_dir / f"{name}-quality-{entry['label']}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path.name)
    return written


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    sizes = [1000] if args.quick else [parse_size(s) for s in args.sizes.split(",") if s]
    systems = [s for s in args.systems.split(",") if s] if args.systems else list(SYSTEMS)
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        print(f"error: unknown systems {unknown}; expected {list(SYSTEMS)}", file=sys.stderr)
        return 2
    name = args.name or ("quick" if args.quick
                         else "synthetic-" + "-".join(size_label(n) for n in sizes))
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t0 = time.perf_counter()
    entries = [run_size(n, args.seed, systems, tfidf_max=args.tfidf_max, timeout=args.timeout,
                        corpus_cache=args.corpus_cache, log=log, repeat=args.repeat)
               for n in sizes]
    results: dict[str, Any] = {"name": name, "started": started, "seed": args.seed,
                               "quick": bool(args.quick), "repeat": args.repeat,
                               "wall_seconds": round(time.perf_counter() - t0, 1),
                               "machine": machine_info(), "sizes": entries}
    failures: list[str] = []
    if args.quick and not args.no_floor:
        if not FLOOR_PATH.exists():
            failures.append(f"no floor file at {FLOOR_PATH}")
        else:
            floor = json.loads(FLOOR_PATH.read_text(encoding="utf-8"))
            failures = check_floor(results, floor)
            results["floor"] = floor
        results["floor_failures"] = failures
    (out_dir / f"{name}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out_dir / f"{name}.md").write_text(render_markdown(results), encoding="utf-8")
    plots = render_plots(results, out_dir, name)
    log(f"wrote {out_dir / (name + '.json')}, {name}.md, {', '.join(plots)}")
    for msg in failures:
        print(f"FAIL: {msg}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_measure(args: argparse.Namespace) -> int:
    result = measure(args.system, args.corpus)
    text = json.dumps(result)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks run ...`` / ``python -m benchmarks measure SYSTEM CORPUS``.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0, 1 when ``--quick`` is below the floor, 2 on bad usage.
    """
    ap = argparse.ArgumentParser(prog="python -m benchmarks",
                                 description="Benchmark dedup against baselines.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="generate corpora, measure every system, write results")
    run.add_argument("--sizes", default="1k,10k", help="corpus sizes (default 1k,10k)")
    run.add_argument("--quick", action="store_true",
                     help="1k only; exit 1 if dedup is below benchmarks/floor.json")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    run.add_argument("--name", default=None, help="results file name (default from sizes)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--systems", default=None, help=f"subset of {','.join(SYSTEMS)}")
    run.add_argument("--tfidf-max", type=int, default=10_000,
                     help="largest corpus for the quadratic TF-IDF baseline")
    run.add_argument("--timeout", type=float, default=3600.0, help="seconds per system")
    run.add_argument("--corpus-cache", type=Path, default=None,
                     help="keep/reuse generated corpora here instead of a temp dir")
    run.add_argument("--repeat", type=int, default=1,
                     help="runs per system; the fastest is reported (default 1)")
    run.add_argument("--no-floor", action="store_true", help="skip the floor check")
    run.set_defaults(func=_cmd_run)
    mea = sub.add_parser("measure", help="(internal) run one system on one corpus")
    mea.add_argument("system", choices=SYSTEMS)
    mea.add_argument("corpus", type=Path)
    mea.add_argument("--out", type=Path, default=None)
    mea.set_defaults(func=_cmd_measure)
    args = ap.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
