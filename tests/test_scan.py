"""End to end: dedup.scan and the CLI on the bundled example and planted corpora."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dedup
from dedup.cli.main import app
from dedup.model import Article

from .conftest import ALASKA, BANK_FAMILY, STORM_FAMILY

runner = CliRunner()


def test_alaska_summit_one_cluster_of_the_reuters_story_and_its_rewrite() -> None:
    report = dedup.scan([ALASKA], dedup.Config(workers=1))
    assert [c.members for c in report.clusters] == [
        ("001_941e012609fbccd2.txt", "004_ae504191b61293c9.txt")]
    assert (report.matches[0].a, report.matches[0].b) == (
        "001_941e012609fbccd2.txt", "004_ae504191b61293c9.txt")
    cluster = report.clusters[0]
    assert cluster.source == "001_941e012609fbccd2.txt"
    assert cluster.source_reason is not None and "Reuters" in cluster.source_reason
    assert report.wire == {"001_941e012609fbccd2.txt": "Reuters"}


def _syndicated(n_copies: int) -> list[Article]:
    """The alaska-summit Reuters story (001) run by ``n_copies`` outlets, each
    trimming it from the bottom, with its rewrite (004) and the three
    independent reports of the event."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(ALASKA.glob("*.txt"))}
    paras = [p for p in texts.pop("001_941e012609fbccd2.txt").split("\n") if p.strip()]
    half = len(paras) // 2
    copies = [Article(f"copy{k:03d}", "\n".join(paras[: half + k % (len(paras) - half + 1)]))
              for k in range(n_copies)]
    return copies + [Article(name, text) for name, text in texts.items()]


def test_rewrite_of_a_story_run_by_many_outlets_joins_their_cluster() -> None:
    articles = _syndicated(40)
    report = dedup.scan(articles, dedup.Config(workers=1))
    story = [c for c in report.clusters if "copy000" in c.members]
    assert len(story) == 1
    assert story[0].members == tuple(sorted(
        [f"copy{k:03d}" for k in range(40)] + ["004_ae504191b61293c9.txt"]))
    assert report.stats["candidates_near_copies"] > 0
    # without the pass over the story counted once, the rewrite meets no copy:
    # the story's words are in over 100 passage windows and 40 of 44 articles
    off = dedup.scan(articles, dedup.Config(workers=1).with_settings(["tfidf.near_copy_group=0"]))
    assert not any("004_ae504191b61293c9.txt" in (m.a, m.b) for m in off.matches)
    assert off.stats["candidates_near_copies"] == 0


def test_near_copy_hosts_do_not_depend_on_the_order_of_the_articles() -> None:
    from dedup import pipeline

    articles = _syndicated(12)
    config = dedup.Config(workers=1)
    found = []
    for order in (articles, articles[::-1]):
        profiles = pipeline.profiles_of([a.text for a in order], config)
        ids = [a.id for a in order]
        kept = pipeline.near_copy_hosts(profiles, ids, pipeline.lsh_candidates(profiles, config),
                                        10)
        assert kept is not None
        keep, hosts = kept
        # the host is the longest copy (the whole story), then the smallest id
        longest = max(len(a.text) for a in articles if a.id.startswith("copy"))
        assert all(len(order[h].text) == longest for h in hosts.tolist())
        found.append((sorted(ids[k] for k in keep.tolist()), [ids[h] for h in hosts.tolist()]))
    assert found[0] == found[1]
    assert len(found[0][0]) == 12 + 4 - 11  # the copies but one dropped
    assert pipeline.near_copy_hosts(profiles, ids, pipeline.lsh_candidates(profiles, config),
                                    13) is None


def test_planted_families_cluster_exactly(planted_articles: list[Article]) -> None:
    dated = [
        Article(a.id, a.text, published="2024-06-04T09:00:00Z" if a.id.startswith("wire/")
                else "2024-06-04T12:00:00Z")
        for a in planted_articles
    ]
    report = dedup.scan(dated, dedup.Config(workers=1))
    assert [c.members for c in report.clusters] == [STORM_FAMILY, BANK_FAMILY]
    assert [c.source for c in report.clusters] == ["wire/storm.txt", "wire/bank.txt"]
    pairs = {(m.a, m.b) for m in report.matches}
    for other in ("other/library.txt", "other/keys_families.txt"):
        assert not any(other in p for p in pairs)
    reworded = next(m for m in report.matches
                    if (m.a, m.b) == ("copies/reworded.txt", "wire/storm.txt"))
    assert reworded.reuse_a_in_b > 0.9 and reworded.jaccard < 0.3
    for m in report.matches:
        ta, tb = report.article(m.a).text, report.article(m.b).text
        for p in m.passages:
            assert ta[p.a_start:p.a_end] and tb[p.b_start:p.b_end]


@pytest.mark.parametrize("enabled", [True, False])
def test_a_scan_runs_no_garbage_collection_and_leaves_it_as_it_was(
    planted_articles: list[Article], enabled: bool
) -> None:
    """The scan's objects make no cycles: collection is paused while it runs
    (each full collection walked all of them) and restored after."""
    import gc
    import sys

    collections: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        frame = sys._getframe(1)
        while frame is not None and phase == "start":
            if frame.f_code.co_name == "scan_articles":  # inside the pipeline
                collections.append(info["generation"])
                break
            frame = frame.f_back  # type: ignore[assignment]

    was, thresholds, config = gc.isenabled(), gc.get_threshold(), dedup.Config(workers=1)
    gc.collect()
    gc.callbacks.append(note)
    try:
        (gc.enable if enabled else gc.disable)()
        gc.set_threshold(1, 1, 1)  # a collection at every chance
        report = dedup.scan(planted_articles, config)
        enabled_after = gc.isenabled()
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(note)
        (gc.enable if was else gc.disable)()
    assert collections == [] and enabled_after is enabled and len(report.clusters) == 2


def test_scan_passages_are_those_of_compare(planted_articles: list[Article]) -> None:
    # both refine passages to the shared words, so they report the same offsets
    report = dedup.scan(planted_articles, dedup.Config(workers=1))
    assert report.matches
    for m in report.matches:
        alone = dedup.compare(report.article(m.a).text, report.article(m.b).text)
        assert m.passages == alone.passages
        assert (m.reuse_a_in_b, m.reuse_b_in_a) == (alone.reuse_a_in_b, alone.reuse_b_in_a)


def test_token_offsets_kept_do_not_change_the_output(
    planted_articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedup import pipeline

    full = dedup.scan(planted_articles, dedup.Config(workers=1)).to_dict()
    monkeypatch.setattr(pipeline, "_OFFSETS_KEPT", 1)
    assert dedup.scan(planted_articles, dedup.Config(workers=1)).to_dict() == full


def test_same_input_same_bytes_and_workers_do_not_matter(planted_dir: Path) -> None:
    one = dedup.scan([planted_dir], dedup.Config(workers=1))
    two = dedup.scan([planted_dir], dedup.Config(workers=2))
    assert json.dumps(one.to_dict()) == json.dumps(two.to_dict())
    out1 = runner.invoke(app, ["scan", str(planted_dir), "-f", "json", "-q"])
    out2 = runner.invoke(app, ["scan", str(planted_dir), "-f", "json", "-q"])
    assert out1.exit_code == 0 and out1.stdout == out2.stdout


def test_ids_are_relative_posix_paths(planted_dir: Path) -> None:
    report = dedup.scan([planted_dir], dedup.Config(workers=1))
    assert [a.id for a in report.articles][:2] == ["copies/bank_copy.txt", "copies/local.txt"]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "html", "table"])
def test_cli_formats(planted_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["scan", str(planted_dir), "--format", fmt, "-o", str(out),
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    body = out.read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(body)
        assert set(data) == {"articles", "matches", "clusters", "skipped", "stats"}
        assert list(data["matches"][0]) == ["a", "b", "score", "jaccard", "cosine",
                                            "reuse_a_in_b", "reuse_b_in_a", "cluster",
                                            "passages"]
        assert data["matches"][0]["cluster"] == 1
        assert data["clusters"][0]["members"] == list(STORM_FAMILY)
        assert "seconds" not in data["stats"]
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in body.splitlines()]
        assert [r["type"] for r in rows].count("article") == 10
        assert rows[-1]["type"] == "stats"
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body)))
        assert rows[0]["a"] and float(rows[0]["score"]) > 0.9 and rows[0]["cluster"] == "1"
    elif fmt == "html":
        assert body.startswith("<!DOCTYPE html>") and "<mark" in body
    else:
        assert "Clusters" in body and "wire/storm.txt" in body


def test_timings_flag_adds_seconds(planted_dir: Path) -> None:
    result = runner.invoke(app, ["scan", str(planted_dir), "-f", "json", "-q", "--timings"])
    assert set(json.loads(result.stdout)["stats"]["seconds"]) >= {"read", "profile", "verify"}


def test_missing_path_is_exit_2_with_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scan", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"dedup: {tmp_path / 'nope'}: no such file or directory"


def test_bad_files_are_reported_and_the_scan_goes_on(planted_dir: Path) -> None:
    (planted_dir / "bad.txt").write_bytes(b"\xff\xfe\x00binary")
    (planted_dir / "empty.txt").write_text("   \n", encoding="utf-8")
    (planted_dir / "feed.jsonl").write_text('{"id": "r1", "text": "fine text here"}\n{oops\n'
                                            '{"id": "r2"}\n', encoding="utf-8")
    result = runner.invoke(app, ["scan", str(planted_dir), "-f", "json"])
    assert result.exit_code == 0
    err = result.stderr.splitlines()
    d = planted_dir
    assert f"skipped {d / 'bad.txt'}: binary file (contains NUL bytes)" in err
    assert f"skipped {d / 'empty.txt'}: empty" in err
    assert any(line.startswith(f"skipped {d / 'feed.jsonl'}:2: malformed JSON") for line in err)
    assert f"skipped {d / 'feed.jsonl'}:3: no 'text' field (available keys: id)" in err
    assert err[-1] == "11 articles, 16 matches, 2 clusters, 4 skipped"
    data = json.loads(result.stdout)
    assert data["stats"]["skipped"] == 4 and data["stats"]["articles"] == 11
    assert data["clusters"][0]["members"] == list(STORM_FAMILY)


def test_fail_on_match_exit_code(planted_dir: Path) -> None:
    assert runner.invoke(app, ["scan", str(planted_dir), "-q", "--fail-on-match"]).exit_code == 1
    lone = planted_dir / "other"
    assert runner.invoke(app, ["scan", str(lone), "-q", "--fail-on-match"]).exit_code == 0


def test_bad_option_value_is_exit_2(planted_dir: Path) -> None:
    result = runner.invoke(app, ["scan", str(planted_dir), "--min-score", "3"])
    assert result.exit_code == 2
    assert "min_score must be in [0.0, 1.0], got 3.0" in result.stderr


def test_set_changes_a_setting_and_refuses_bad_ones() -> None:
    strict = runner.invoke(app, ["scan", str(ALASKA), "-f", "json", "-q",
                                 "--set", "cluster.min_score=0.9", "--set", "workers=1"])
    assert strict.exit_code == 0
    data = json.loads(strict.stdout)
    assert len(data["matches"]) == 1 and data["clusters"] == []
    for setting, message in (
            ("align.nope=1", "dedup: unknown setting align.nope; known: chain_alt_similarity,"),
            ("align.max_gap=x", "dedup: setting align.max_gap='x': expected an integer"),
            ("align.max_gap", "dedup: setting 'align.max_gap': expected NAME=VALUE, "
                              "e.g. align.max_gap=3"),
            ("align=3", "dedup: setting 'align' is a group; set one of its settings, "
                        "e.g. align.seed_cosine=..."),
            ("cluster.min_overlap=2", "dedup: cluster.min_overlap must be in [0.0, 1.0], "
                                      "got 2.0")):
        bad = runner.invoke(app, ["scan", str(ALASKA), "--set", setting])
        assert bad.exit_code == 2, setting
        assert bad.stderr.startswith(message), bad.stderr
    a, b = ALASKA / "001_941e012609fbccd2.txt", ALASKA / "004_ae504191b61293c9.txt"
    none = runner.invoke(app, ["compare", str(a), str(b), "-f", "json",
                               "--set", "align.min_passage_chars=100000"])
    assert none.exit_code == 0 and json.loads(none.stdout)["passages"] == []


def test_compare_command(tmp_path: Path) -> None:
    a, b = ALASKA / "001_941e012609fbccd2.txt", ALASKA / "004_ae504191b61293c9.txt"
    result = runner.invoke(app, ["compare", str(a), str(b), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    ta, tb = a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")
    assert data["passages"] and 0 < data["reuse_a_in_b"] <= 1
    p = data["passages"][0]
    assert "chess game" in ta[p["a_start"]:p["a_end"]]
    assert "chess game" in tb[p["b_start"]:p["b_end"]]
    table = runner.invoke(app, ["compare", str(a), str(b)])
    assert table.exit_code == 0 and "passages 1" in table.stdout
    missing = runner.invoke(app, ["compare", str(a), str(tmp_path / "x.txt")])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"dedup: {tmp_path / 'x.txt'}: no such file or directory"


def test_table_escapes_markup(tmp_path: Path) -> None:
    from .conftest import WIRE_BANK

    (tmp_path / "[red]x.txt").write_text(WIRE_BANK, encoding="utf-8")
    (tmp_path / "copy.txt").write_text(WIRE_BANK, encoding="utf-8")
    result = runner.invoke(app, ["scan", str(tmp_path), "-q"])
    assert result.exit_code == 0
    assert "[red]x.txt" in result.stdout  # shown as text, not taken as markup
