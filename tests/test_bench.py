"""Tests of the benchmark harness's metrics on hand-made truth and results.

No corpus is generated and nothing is timed: these check that pair precision /
recall per edit kind, the adjusted Rand index, source attribution, the floor
check and the command line's argument handling compute what they claim.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.baselines import datasketch_bulk, shingles, tfidf_all_pairs
from benchmarks.run import (
    OVERALL,
    PairScore,
    TruthIndex,
    attribution_accuracy,
    check_floor,
    cluster_ari,
    components,
    main,
    pair_scores,
    parse_size,
    render_markdown,
    score_sweep,
)

# Family f1: original o1, copies v (verbatim), t (trimmed), m (merged).
# Family f2: original o2, copies p (paraphrase), m (merged, also in f1).
# Negatives: u (unrelated), s (same_topic of f1).
TRUTH: dict[str, Any] = {
    "edit_kinds": ["verbatim", "trimmed", "merged", "paraphrase"],
    "negative_kinds": ["unrelated", "same_topic"],
    "families": [
        {"family": "f1", "original": "o1", "members": ["o1", "v", "t", "m"],
         "kinds": {"o1": "original", "v": "verbatim", "t": "trimmed", "m": "merged"}},
        {"family": "f2", "original": "o2", "members": ["o2", "p", "m"],
         "kinds": {"o2": "original", "p": "paraphrase", "m": "merged"}},
    ],
    "negatives": [{"id": "u", "kind": "unrelated"},
                  {"id": "s", "kind": "same_topic", "family": "f1"}],
}


@pytest.fixture
def truth() -> TruthIndex:
    return TruthIndex(TRUTH)


def test_truth_pairs_and_kinds(truth: TruthIndex) -> None:
    # f1: C(4,2)=6 pairs, f2: C(3,2)=3 pairs, none shared.
    assert len(truth.true_pairs) == 9
    assert truth.true_pairs[("o1", "v")] == {"verbatim"}
    assert truth.true_pairs[("t", "v")] == {"trimmed", "verbatim"}  # copy-copy: both kinds
    assert truth.true_pairs[("m", "p")] == {"merged", "paraphrase"}
    assert truth.family_of["m"] == "f1"
    assert truth.ids == sorted(["o1", "v", "t", "m", "o2", "p", "u", "s"])


def test_pair_scores_perfect(truth: TruthIndex) -> None:
    scores = pair_scores(list(truth.true_pairs), truth)
    assert scores[OVERALL] == PairScore(true=9, found=9, reported=9, correct=9)
    for kind in TRUTH["edit_kinds"]:
        assert scores[kind].recall == 1.0
        assert scores[kind].precision == 1.0
        assert scores[kind].f1 == 1.0
    assert scores["unrelated"].reported == 0
    assert scores["unrelated"].recall is None


def test_pair_scores_per_kind(truth: TruthIndex) -> None:
    reported = [
        ("v", "o1"),  # true, verbatim (reversed order, duplicate below)
        ("o1", "v"),
        ("t", "v"),  # true, trimmed + verbatim
        ("o2", "p"),  # true, paraphrase
        ("s", "o1"),  # false: same_topic negative vs original
        ("s", "t"),  # false: trimmed copy vs same_topic negative
        ("u", "u"),  # self pair, ignored
    ]
    scores = pair_scores(reported, truth)
    overall = scores[OVERALL]
    assert (overall.true, overall.found, overall.reported, overall.correct) == (9, 3, 5, 3)
    assert overall.precision == pytest.approx(3 / 5)
    assert overall.recall == pytest.approx(3 / 9)
    assert overall.f1 == pytest.approx(2 * 0.6 * (1 / 3) / (0.6 + 1 / 3))
    # verbatim true pairs: o1-v, t-v, m-v, v? -> o1-v, v-t, v-m = 3; found o1-v, t-v.
    assert (scores["verbatim"].true, scores["verbatim"].found) == (3, 2)
    assert scores["verbatim"].precision == 1.0
    # trimmed: true o1-t, t-v, t-m = 3, found t-v; reported t-v (true), s-t (false).
    assert (scores["trimmed"].true, scores["trimmed"].found) == (3, 1)
    assert scores["trimmed"].precision == pytest.approx(0.5)
    # merged: o1-m, v-m, t-m, o2-m, p-m = 5 true pairs, none found or reported.
    assert (scores["merged"].true, scores["merged"].found, scores["merged"].reported) == (5, 0, 0)
    assert scores["merged"].precision is None
    assert scores["merged"].f1 is None
    assert (scores["paraphrase"].true, scores["paraphrase"].found) == (2, 1)
    assert scores["same_topic"].reported == 2
    assert scores["same_topic"].correct == 0
    assert scores["unrelated"].reported == 0


def test_pair_score_to_dict_rounds() -> None:
    d = PairScore(true=3, found=1, reported=0, correct=0).to_dict()
    assert d == {"true": 3, "found": 1, "reported": 0, "correct": 0,
                 "precision": None, "recall": 0.3333, "f1": None}


def test_score_sweep(truth: TruthIndex) -> None:
    pairs = [("o1", "v"), ("s", "o1"), ("o2", "p")]
    sweep = score_sweep(pairs, [0.9, 0.2, 0.5], truth, cutoffs=(0.0, 0.3, 0.6, 0.95))
    assert [(s.reported, s.correct) for s in sweep.values()] == [(3, 2), (2, 2), (1, 1),
                                                                 (0, 0)]
    assert sweep[0.3].precision == 1.0
    assert sweep[0.3].recall == pytest.approx(2 / 9)
    with pytest.raises(ValueError, match="one score per pair"):
        score_sweep(pairs, [0.5], truth)


def test_components() -> None:
    ids = ["a", "b", "c", "d", "e"]
    assert components(ids, [("b", "a"), ("c", "b"), ("d", "e")]) == [["a", "b", "c"],
                                                                     ["d", "e"]]
    assert components(ids, []) == []


def test_ari_against_sklearn(truth: TruthIndex) -> None:
    from sklearn.metrics import adjusted_rand_score

    families = [["o1", "v", "t", "m"], ["o2", "p"]]
    assert cluster_ari(families, truth) == pytest.approx(1.0)
    # Nothing clustered: every article a singleton.
    assert cluster_ari([], truth) == pytest.approx(0.0)
    # One big cluster of the families, the negatives apart.
    big = [["o1", "v", "t", "m", "o2", "p"]]
    ids = truth.ids
    labels_true = [{"o1": 1, "v": 1, "t": 1, "m": 1, "o2": 2, "p": 2}.get(i, i) for i in ids]
    labels_pred = [1 if i in big[0] else i for i in ids]
    expected = adjusted_rand_score([str(x) for x in labels_true], [str(x) for x in labels_pred])
    assert cluster_ari(big, truth) == pytest.approx(expected)
    assert expected < 1.0
    # Joined through the merged copy, the two families are one group.
    assert cluster_ari(big, truth, joined=True) == pytest.approx(1.0)


def test_ari_first_cluster_wins(truth: TruthIndex) -> None:
    # "m" listed in two clusters counts in the first.
    assert cluster_ari([["o1", "v", "t", "m"], ["o2", "p", "m"]], truth) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("clusters", "expected"),
    [
        ([(["o1", "v", "t", "m"], "o1"), (["o2", "p"], "o2")], 1.0),
        ([(["o1", "v", "t", "m"], "v"), (["o2", "p"], "o2")], 0.5),
        ([(["o1", "v", "t", "m", "o2", "p"], "o1")], 0.5),  # one cluster, one source
        ([(["o1", "v"], None)], 0.0),
        ([], 0.0),
    ],
)
def test_attribution_accuracy(
    truth: TruthIndex, clusters: list[tuple[list[str], str | None]], expected: float
) -> None:
    assert attribution_accuracy(clusters, truth) == pytest.approx(expected)


def test_attribution_without_families() -> None:
    assert attribution_accuracy([], TruthIndex({"families": [], "negatives": []})) is None


def _results(precision: float | None, recall: float | None) -> dict[str, Any]:
    overall = {"precision": precision, "recall": recall}
    return {"sizes": [{"n": 1000, "label": "1k", "systems": {
        "dedup": {"quality": {"pairs": {OVERALL: overall}}}}}]}


@pytest.mark.parametrize(
    ("precision", "recall", "failing"),
    [(0.9, 0.9, []), (0.7, 0.9, ["precision"]), (0.9, None, ["recall"]),
     (0.1, 0.1, ["precision", "recall"])],
)
def test_check_floor(precision: float, recall: float | None, failing: list[str]) -> None:
    floor = {"n": 1000, "dedup": {"precision": 0.8, "recall": 0.8}}
    failures = check_floor(_results(precision, recall), floor)
    assert [f.split()[2] for f in failures] == failing


def test_check_floor_of_clusters() -> None:
    floor = {"n": 1000, "dedup_clusters": {"ari": 0.85, "attribution": 0.9}}
    results = _results(0.9, 0.9)
    results["sizes"][0]["systems"]["dedup"]["quality"].update(ari=0.47, attribution=0.95)
    assert check_floor(results, floor) == ["dedup cluster ari 0.47 < floor 0.85 (1k articles)"]


def test_check_floor_reports_errors_and_ignores_other_sizes() -> None:
    floor = {"n": 1000, "dedup": {"precision": 0.8}}
    errored = {"sizes": [{"n": 1000, "label": "1k", "systems": {"dedup": {"error": "boom"}}}]}
    assert check_floor(errored, floor) == ["dedup failed on 1k: boom"]
    other = {"sizes": [{"n": 10_000, "label": "10k", "systems": {"dedup": {"error": "x"}}}]}
    assert check_floor(other, floor) == []


def test_committed_floor_is_sane() -> None:
    floor = json.loads((Path(__file__).resolve().parents[1] / "benchmarks/floor.json")
                       .read_text(encoding="utf-8"))
    assert floor["n"] == 1000
    assert set(floor["dedup"]) == {"precision", "recall"}
    assert set(floor["dedup_clusters"]) == {"ari", "attribution"}
    assert all(0.0 < v <= 1.0 for part in ("dedup", "dedup_clusters")
               for v in floor[part].values())


@pytest.mark.parametrize(("text", "n"), [("1k", 1000), ("10K", 10_000), ("2.5k", 2500),
                                         ("500", 500), ("1m", 1_000_000)])
def test_parse_size(text: str, n: int) -> None:
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "k", "ten", "-1k", "0"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a"):
        parse_size(text)


def test_main_rejects_unknown_system(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--systems", "dedup,nope", "--out", "unused"]) == 2
    assert "unknown systems ['nope']" in capsys.readouterr().err


def test_shingles() -> None:
    assert shingles("The cat sat. On the MAT!", n=3) == {
        b"the cat sat", b"cat sat on", b"sat on the", b"on the mat"}
    assert shingles("two words", n=5) == {b"two words"}
    assert shingles("   ", n=5) == set()


def test_baselines_find_a_copy() -> None:
    base = " ".join(f"word{k} alpha beta gamma delta" for k in range(60))
    other = " ".join(f"thing{k} epsilon zeta eta theta" for k in range(60))
    texts = [base, other, base + " extra tail words here"]
    assert datasketch_bulk(texts) == [(0, 2)]
    assert tfidf_all_pairs(texts) == [(0, 2)]


def test_render_markdown_handles_errors_and_skips() -> None:
    results = {
        "name": "t", "started": "now", "seed": 0, "wall_seconds": 1.0,
        "machine": {"platform": "p", "python": "3", "cpu_count": 2, "ram_gb": 1.0,
                    "versions": {}},
        "sizes": [{"n": 10, "label": "10", "jsonl_mb": 0.1, "families": 0, "true_pairs": 0,
                   "systems": {"dedup": {"error": "boom"}, "tfidf": {"skipped": "n > 5"}}}],
    }
    text = render_markdown(results)
    assert "| dedup | error: boom |" in text
    assert "| tfidf | n > 5 |" in text


def test_clusters_of_articles_chain_two_stories_of_a_merged_article() -> None:
    # the design dedup.cluster replaced, kept by the script for comparison
    from benchmarks.edge_clusters import article_components
    from dedup.model import Match, Passage

    def match(a: str, b: str, spans: list[tuple[int, int, int, int]], score: float = 0.8
              ) -> Match:
        return Match(a=a, b=b, score=score, jaccard=0.5, cosine=0.5, reuse_a_in_b=0.5,
                     reuse_b_in_a=0.5, passages=tuple(Passage(*s, 0.9) for s in spans))

    matches = [
        match("f1", "m", [(0, 600, 0, 600)]),         # m's first part is story 1
        match("f2", "m", [(0, 400, 610, 1000)]),      # its second part story 2
        match("f1", "f1-copy", [(0, 1000, 0, 1000)]),
        match("f2", "x", [(0, 400, 0, 400)], score=0.2),  # under min_score: no edge
    ]
    assert article_components(matches) == [["f1", "f1-copy", "f2", "m"]]


def test_a_baseline_is_timed_without_importing_dedup(tmp_path: Path) -> None:
    """The baselines read the corpus as plain records: importing dedup (and
    scikit-learn with it, 0.4 s) would count in their time. Run in a fresh
    interpreter, as the harness runs each system."""
    import subprocess
    import sys

    texts = ["The storm hit the coast on Monday, cutting power to thousands of homes."] * 3
    with (tmp_path / "articles.jsonl").open("w", encoding="utf-8") as fh:
        for k, text in enumerate(texts):
            fh.write(json.dumps({"id": f"a{k}", "text": text}) + "\n")
    code = ("import json, sys; from pathlib import Path; from benchmarks import run; "
            f"r = run.measure('datasketch', Path({str(tmp_path)!r})); "
            "print(json.dumps([r['articles'], r['pairs'], 'dedup' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    articles, pairs, imported = json.loads(out.stdout.splitlines()[-1])
    assert (articles, imported) == (3, False)
    assert sorted(map(sorted, pairs)) == [["a0", "a1"], ["a0", "a2"], ["a1", "a2"]]


@pytest.mark.slow
def test_index_benchmark_times_a_batch_in_process_and_as_a_new_process(tmp_path: Path) -> None:
    """The index benchmark at a tiny size: each checkpoint has the batch's
    stages, the fill of the band-key generation it wrote to (the commit's
    cost follows it), and the wall time of 'dedup index query' in a new
    process (the scheduled job's cost, start and imports included)."""
    from benchmarks import generate as gen
    from benchmarks import index_bench

    if not (gen.DEFAULT_PAN_DIR / "src").is_dir():
        pytest.skip("the PAN 2013 training corpus is not available")
    out = tmp_path / "index_bench.json"
    assert index_bench.main(["--n", "300", "--sizes", "150,300", "--build-batch", "150",
                             "--batch", "40", "--gen-base", "150", "--workers", "1",
                             "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    rows = result["checkpoints"]
    assert [(r["index_size"], r["batch"]) for r in rows] == [(150, 40), (300, 40)]
    assert [b["index_before"] for b in result["build"]] == [0, 190]
    for r in rows:
        assert set(r["stages"]) >= {"profile", "candidates", "verify", "write", "commit"}
        assert 0 < r["newest_generation_rows"] <= 4_194_304
        assert r["cli_query_seconds"] > 0 and r["quality"]["true_pairs"] > 0
