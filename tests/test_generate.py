"""Tests of the benchmark corpus generator (benchmarks/generate.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from benchmarks import generate as gen
from benchmarks.generate import (
    EDIT_KINDS,
    NEGATIVE_KINDS,
    CorpusGenerator,
    GeneratedArticle,
    accidental_overlap,
    content_words,
    ngram_containment,
    split_paragraphs,
    split_sentences,
    strip_credit,
    strip_dateline,
    word_ngrams,
    write_corpus,
)

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (gen.DEFAULT_PAN_DIR / "05-summary-obfuscation" / "pairs").is_file(),
    reason="the PAN 2013 training corpus is not available",
)

Corpus = tuple[dict[str, GeneratedArticle], dict]


@pytest.fixture(scope="module")
def corpus400() -> Corpus:
    """A 400-article corpus, rendered once for the module."""
    g = CorpusGenerator(400, seed=7)
    articles = {a.id: a for a in g.articles()}
    return articles, g.truth()


def _copies(corpus: Corpus, kind: str, generated_only: bool = True) -> Iterator[tuple]:
    """(original article, copy article, family record) for every copy of ``kind``."""
    articles, truth = corpus
    for fam in truth["families"]:
        if generated_only and fam["origin"] != "generated":
            continue
        for member, k in fam["kinds"].items():
            if k == kind:
                yield articles[fam["original"]], articles[member], fam


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _is_subsequence(small: list, big: list) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


# ------------------------------------------------------------------------------ text helpers


def test_split_sentences_handles_abbreviations() -> None:
    text = 'Mr. Smith went to Washington. He said: "It is done." The U.S. Army agreed! Why?'
    assert split_sentences(text) == [
        "Mr. Smith went to Washington.",
        'He said: "It is done."',
        "The U.S. Army agreed!",
        "Why?",
    ]


def test_strip_credit_removes_dateline_and_credit_line() -> None:
    body = "First paragraph here.\n\nSecond paragraph."
    assert strip_credit("WASHINGTON (AP) \u2014 " + body) == body
    assert strip_credit("LONDON (Reuters) - " + body) == body
    reuters = body + "\n\nReporting by Jane Doe; Editing by John Roe (Reuters)"
    assert strip_credit(reuters) == body
    assert strip_credit(body + "\n\nReuters") == body
    assert strip_credit(body) == body
    assert strip_dateline("NEW YORK (AFP) - Text.") == "Text."


def test_accidental_overlap_counts_shared_ngrams() -> None:
    a = "one two three four five six seven eight nine ten"
    b = "zero one two three four five six seven eight"
    c = "completely different words that share nothing with the others at all"
    rep = accidental_overlap([a, b, c], n=8)
    assert rep.pairs == 3
    assert rep.pairs_sharing == 1
    assert rep.shared_ngrams == 1
    assert rep.max_share == pytest.approx(1 / 2)
    assert accidental_overlap([a, c]).pairs_sharing == 0


# ------------------------------------------------------------------------------ determinism


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_files_other_seed_differs(tmp_path: Path) -> None:
    write_corpus(tmp_path / "a", 120, seed=3)
    write_corpus(tmp_path / "b", 120, seed=3)
    write_corpus(tmp_path / "c", 120, seed=4)
    a, b, c = (_tree_bytes(tmp_path / x) for x in "abc")
    assert len(a) == 120 + 2
    assert a == b
    assert a["articles.jsonl"] != c["articles.jsonl"]
    assert a["truth.json"] != c["truth.json"]


def test_written_files_agree_with_each_other(tmp_path: Path) -> None:
    truth = write_corpus(tmp_path, 80, seed=1)
    records = [json.loads(line) for line in (tmp_path / "articles.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert len(records) == 80
    for r in records:
        assert set(r) == {"id", "text", "title", "published", "source", "url"}
        assert (tmp_path / "articles" / f"{r['id']}.txt").read_text(encoding="utf-8") == r["text"]
    on_disk = json.loads((tmp_path / "truth.json").read_text())
    assert on_disk == json.loads(json.dumps(truth))
    assert on_disk["seed"] == 1
    assert on_disk["version"] == gen.GENERATOR_VERSION


def test_write_corpus_refuses_to_mix_corpora(tmp_path: Path) -> None:
    write_corpus(tmp_path, 30, seed=0)
    with pytest.raises(FileExistsError):
        write_corpus(tmp_path, 30, seed=1)
    write_corpus(tmp_path, 20, seed=1, overwrite=True)
    assert len(list((tmp_path / "articles").glob("*.txt"))) == 20


def test_generate_streams_in_id_order() -> None:
    stream = gen.generate(60, seed=2)
    assert iter(stream) is stream
    first = next(stream)
    rest = list(stream)
    ids = [first.id, *(a.id for a in rest)]
    assert len(ids) == 60 and ids == sorted(ids) and len(set(ids)) == 60


# ------------------------------------------------------------------------------ truth


def test_truth_is_consistent(corpus400: Corpus) -> None:
    articles, truth = corpus400
    ids = set(articles)
    members: set[str] = set()
    for fam in truth["families"]:
        assert set(fam["members"]) <= ids
        assert fam["original"] in fam["members"]
        assert set(fam["kinds"]) == set(fam["members"])
        assert fam["kinds"][fam["original"]] == "original"
        assert list(fam["kinds"].values()).count("original") == 1
        assert 2 <= len(fam["members"]) <= 8
        published = {m: articles[m].published for m in fam["members"]}
        first = published[fam["original"]]
        assert all(p > first for m, p in published.items() if m != fam["original"])
        for m, kind in fam["kinds"].items():
            assert kind == "original" or kind in EDIT_KINDS
            assert fam["family"] in articles[m].families
        members |= set(fam["members"])
    negatives = {n["id"]: n for n in truth["negatives"]}
    assert not members & set(negatives)
    assert members | set(negatives) == ids
    fam_ids = {f["family"] for f in truth["families"]}
    for n in negatives.values():
        assert n["kind"] in NEGATIVE_KINDS
        assert articles[n["id"]].kind == n["kind"]
        if n["kind"] == "same_topic":
            assert n["family"] in fam_ids
    share = len(members) / len(ids)
    assert 0.35 <= share <= 0.45


def test_every_edit_kind_appears_about_equally(corpus400: Corpus) -> None:
    articles, _ = corpus400
    counts = Counter(a.kind for a in articles.values() if a.role == "copy")
    assert set(counts) == set(EDIT_KINDS)
    mean = sum(counts.values()) / len(EDIT_KINDS)
    assert all(0.6 * mean <= c <= 1.4 * mean for c in counts.values()), counts
    negs = Counter(a.kind for a in articles.values() if a.role == "negative")
    assert set(negs) == set(NEGATIVE_KINDS)


def test_merged_articles_are_in_two_families(corpus400: Corpus) -> None:
    articles, truth = corpus400
    merged = [a for a in articles.values() if a.kind == "merged"]
    assert merged
    for art in merged:
        fams = [f for f in truth["families"] if art.id in f["members"]]
        assert len(fams) == 2
        assert all(f["kinds"][art.id] == "merged" for f in fams)
        for fam in fams:
            assert articles[art.id].published > articles[fam["original"]].published
            lead = split_paragraphs(strip_credit(articles[fam["original"]].text))[0]
            assert lead in art.text


def test_metadata_is_well_formed(corpus400: Corpus) -> None:
    articles, _ = corpus400
    for art in articles.values():
        when = datetime.fromisoformat(art.published.replace("Z", "+00:00"))
        assert when.tzinfo is not None
        assert art.title and art.source and art.url.startswith("https://")
        assert art.text == art.text.strip() and "\n\n\n" not in art.text
    urls = [a.url for a in articles.values()]
    assert len(set(urls)) == len(urls)
    mean_len = sum(len(a.text) for a in articles.values()) / len(articles)
    assert 2500 <= mean_len <= 3500


def test_the_example_corpus_is_embedded(corpus400: Corpus) -> None:
    articles, truth = corpus400
    (fam,) = [f for f in truth["families"] if f["origin"] == "example"]
    original = articles[fam["original"]]
    assert original.source == "Reuters"
    (copy_id,) = [m for m, k in fam["kinds"].items() if k == "paraphrase"]
    assert ngram_containment(strip_credit(original.text), articles[copy_id].text) < 0.1
    same = [n for n in truth["negatives"] if n.get("family") == fam["family"]]
    assert len(same) == 3


def test_without_families_everything_is_unrelated() -> None:
    arts = list(gen.generate(40, seed=0, family_share=0.0, example_dir=None))
    assert len(arts) == 40
    assert {a.kind for a in arts} == {"unrelated"}
    assert list(gen.generate(0)) == []


# ------------------------------------------------------------------------------ edit kinds


def test_verbatim_copies_equal_the_original_body(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "verbatim"))
    assert pairs
    for orig, copy, _ in pairs:
        assert strip_credit(copy.text) == strip_credit(orig.text)


def test_trimmed_copies_are_prefixes(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "trimmed"))
    assert pairs
    for orig, copy, _ in pairs:
        body, cut = strip_credit(orig.text), strip_credit(copy.text)
        assert body.startswith(cut)
        assert 0.35 <= len(cut) / len(body) <= 0.85


def _is_credit_line(paragraph: str) -> bool:
    return strip_credit("x\n\n" + paragraph) == "x"


@pytest.mark.parametrize("kind", ["local_intro", "local_outro"])
def test_local_paragraphs_wrap_the_intact_body(corpus400: Corpus, kind: str) -> None:
    pairs = list(_copies(corpus400, kind))
    assert pairs
    for orig, copy, _ in pairs:
        body = strip_credit(orig.text)
        assert body in copy.text
        before, _, after = copy.text.partition(body)
        if kind == "local_intro":
            added = strip_dateline(before.rstrip()).strip()
        else:
            assert strip_dateline(before) == ""  # nothing but a dateline precedes the body
            added = "\n\n".join(p for p in split_paragraphs(after) if not _is_credit_line(p))
        assert len(added) >= 40
        assert ngram_containment(added, orig.text, 5) == 0.0


def test_boilerplate_adds_lines_around_the_paragraphs(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "boilerplate"))
    assert pairs
    for orig, copy, _ in pairs:
        body_paras = split_paragraphs(strip_credit(orig.text))
        copy_paras = [strip_dateline(p) for p in split_paragraphs(copy.text)]
        assert _is_subsequence(body_paras, copy_paras)
        assert len(copy_paras) >= len(body_paras) + 3
        assert copy_paras[0] == copy.title
        assert any(p.startswith(("Share", "\u00a9")) for p in copy_paras[-3:])


def test_sentences_dropped_keeps_the_rest_in_order(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "sentences_dropped"))
    assert pairs
    for orig, copy, _ in pairs:
        body, kept = strip_credit(orig.text), strip_credit(copy.text)
        assert _is_subsequence(_words(kept), _words(body))
        assert len(kept) < 0.9 * len(body)
        assert not body.startswith(kept)  # not just a bottom cut
        assert split_sentences(kept)[0] == split_sentences(body)[0]


def test_paragraphs_moved_permutes_paragraphs(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "paragraphs_moved"))
    assert pairs
    for orig, copy, _ in pairs:
        a = split_paragraphs(strip_credit(orig.text))
        b = split_paragraphs(strip_credit(copy.text))
        assert Counter(a) == Counter(b)
        assert a != b
        assert a[0] == b[0]


def test_copy_edits_change_a_few_words(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "copy_edits"))
    assert pairs
    for orig, copy, _ in pairs:
        body, edited = strip_credit(orig.text), strip_credit(copy.text)
        assert body != edited
        assert len(split_paragraphs(body)) == len(split_paragraphs(edited))
        assert 0.6 <= ngram_containment(body, edited, 5) < 1.0
        assert abs(len(_words(body)) - len(_words(edited))) <= 0.05 * len(_words(body)) + 5


def test_copy_edit_tables_are_applied() -> None:
    import random

    lex = gen._load_pool(gen.DEFAULT_PAN_DIR.resolve(), None, 5, 3).lex
    sentences = ["The color of the center changed on Tuesday, 5 officials said at 40 percent."]
    seen = set()
    for seed in range(20):
        out = gen._copy_edit_sentences(sentences, random.Random(seed), lex)[0]
        seen.add(out)
        assert "Tuesday" not in out
        assert ("colour" in out and "centre" in out) or "color" in out
    assert any("five" in s for s in seen)
    assert any("per cent" in s or "%" in s for s in seen)


def test_paraphrase_rewords_but_keeps_content(corpus400: Corpus) -> None:
    pairs = list(_copies(corpus400, "paraphrase"))
    assert pairs
    for orig, copy, _ in pairs:
        body, para = strip_credit(orig.text), strip_credit(copy.text)
        assert ngram_containment(body, para, 5) < 0.5
        kept = len(content_words(body) & content_words(para)) / len(content_words(body))
        assert kept >= 0.6
        # same facts in the same order: the lead's content words open the rewrite
        lead = content_words(split_sentences(body)[0])
        assert len(lead & content_words(" ".join(split_sentences(para)[:2]))) >= len(lead) // 2


def test_copies_are_published_later_by_other_outlets(corpus400: Corpus) -> None:
    articles, truth = corpus400
    agencies = {"Associated Press", "Reuters", "AFP", "PA Media"}
    for fam in truth["families"]:
        assert articles[fam["original"]].source in agencies
        for m in fam["members"]:
            if m != fam["original"]:
                assert articles[m].source not in agencies


# ------------------------------------------------------------------------------ negatives


def test_negatives_share_no_8grams(corpus400: Corpus) -> None:
    articles, truth = corpus400
    unrelated = [articles[n["id"]] for n in truth["negatives"] if n["kind"] == "unrelated"]
    rep = accidental_overlap(unrelated)
    assert rep.pairs > 10_000
    assert rep.share_of_pairs <= 0.0005 and rep.max_share <= 0.01, rep
    # wire-derived articles of different families do not share passages either
    wire = [articles[f["original"]] for f in truth["families"]]
    wire += [articles[n["id"]] for n in truth["negatives"] if n["kind"] == "same_topic"]
    rep = accidental_overlap(wire)
    assert rep.share_of_pairs <= 0.0005 and rep.max_share <= 0.01, rep


def test_same_topic_negatives_share_topic_not_text(corpus400: Corpus) -> None:
    articles, truth = corpus400
    fams = {f["family"]: f for f in truth["families"]}
    same = [n for n in truth["negatives"] if n["kind"] == "same_topic"]
    assert same
    topical = 0
    for n in same:
        fam = fams[n["family"]]
        assert n["topic"] == fam["topic"] == articles[n["id"]].topic
        for m in fam["members"]:
            assert not word_ngrams(articles[n["id"]].text, 8) & word_ngrams(articles[m].text, 8)
        original = articles[fam["original"]].text
        shared = content_words(articles[n["id"]].text) & content_words(original)
        topical += len(shared) >= 15
    assert topical >= 0.8 * len(same)


def test_exhausted_pools_are_recombined_and_perturbed() -> None:
    # a pool of 8 web pages and 12 wire stories, so nearly everything is reused text
    g = CorpusGenerator(
        150, seed=5, wire_limit=12, web_limit=8, same_topic_share=0.5, example_dir=None
    )
    arts = list(g.articles())
    pool = g.truth()["pool"]
    assert pool["web_epochs"] >= 3 and pool["recombined_wire_stories"] >= 30
    unrelated = [a for a in arts if a.kind == "unrelated"]
    perturbed = [a for a in unrelated if a.perturbed]
    assert len(perturbed) >= 0.4 * len(unrelated)
    # with so small a pool the replacement vocabulary is small too, so coincidences are
    # likelier than in a real corpus; still, pairs share next to nothing
    rep = accidental_overlap(unrelated)
    assert rep.share_of_pairs <= 0.01 and rep.max_share <= 0.02, rep
    wire = [a for a in arts if a.role == "original" or a.kind == "same_topic"]
    rep = accidental_overlap(wire)
    assert rep.share_of_pairs <= 0.01 and rep.max_share <= 0.02, rep
    # a perturbed article shares no 8-gram with the clean pool text it was built from
    clean: set[tuple[str, ...]] = set()
    for ids in g.pool.web_doc_sents:
        clean |= word_ngrams(" ".join(g.pool.sentences[int(i)] for i in ids), 8)
    for art in perturbed:
        assert not word_ngrams(art.text, 8) & clean


# ------------------------------------------------------------------------------ CLI


def test_cli_main_writes_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gen.main([str(tmp_path), "--n", "50", "--seed", "9"]) == 0
    assert "wrote 50 articles" in capsys.readouterr().err
    assert len(list((tmp_path / "articles").glob("*.txt"))) == 50
    assert json.loads((tmp_path / "truth.json").read_text())["seed"] == 9
    assert gen.main([str(tmp_path), "--n", "50"]) == 2  # refuses to overwrite


@pytest.mark.slow
def test_cli_module_entry_point(tmp_path: Path) -> None:
    out = tmp_path / "c"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", str(out), "--n", "30", "--seed", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len((out / "articles.jsonl").read_text().splitlines()) == 30
