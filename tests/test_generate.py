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


# Lines that may repeat across families: an outlet's boilerplate template (byline, date,
# "Related:"/"READ MORE:" teasers with made-up headlines, share/newsletter/copyright lines)
# in ``boilerplate`` copies. Datelines and wire credit lines are dropped from every article.
_BOILERPLATE_LINE = re.compile(
    r"(?:By [^\n]{3,80}|Staff and wire reports|[^\n]{2,60} staff|Published \w+ \d+, \d{4}"
    r"|Advertisement|(?:Related|READ MORE): [^\n]*|Share [^\n]*|Sign up for our newsletter"
    r"|Get the daily briefing|\u00a9 \d{4} [^\n]*)"
)


def _reused_text(art: GeneratedArticle) -> str:
    """The text of an article without what may legitimately repeat across families."""
    paras = [strip_dateline(p) for p in split_paragraphs(art.text) if not _is_credit_line(p)]
    if art.kind == "boilerplate":
        paras = [p for p in paras[1:] if not _BOILERPLATE_LINE.fullmatch(p)]  # [0]: headline
    return "\n\n".join(paras)


def _cross_family_shingles(articles: list[GeneratedArticle], n: int = 8) -> list[tuple]:
    """Pairs of articles that no family joins (negatives join nothing) sharing a passage.

    A pair shares a passage when it shares a word ``n``-gram inside one sentence, or
    two or more ``n``-grams in all. A single shared ``n``-gram across a sentence end is
    a coincidence of two common phrases in unrelated real text ("... may be able to
    help. A friend of mine ..."), not reuse. The five real alaska-summit reports are
    not compared among themselves: they are independent reports quoting the same
    statements.

    Returns:
        (id, id, shared n-grams) per offending pair.
    """
    owners: dict[int, list[int]] = {}  # shingle hash -> articles holding it
    inside: set[int] = set()  # shingles found inside one sentence somewhere
    grams: dict[int, str] = {}
    for i, art in enumerate(articles):
        words: list[str] = []
        sent_of: list[int] = []
        for k, sent in enumerate(split_sentences(_reused_text(art).replace("\n\n", " "))):
            w = _words(sent)
            words += w
            sent_of += [k] * len(w)
        seen: set[int] = set()
        for j in range(len(words) - n + 1):
            gram = " ".join(words[j : j + n])
            h = hash(gram)
            if sent_of[j] == sent_of[j + n - 1]:
                inside.add(h)
            if h not in seen:
                seen.add(h)
                owners.setdefault(h, []).append(i)
                grams.setdefault(h, gram)
    shared: dict[tuple[int, int], list[int]] = {}
    for h, holders in owners.items():
        for x, i in enumerate(holders):
            for j in holders[x + 1 :]:
                a, b = articles[i], articles[j]
                if set(a.families) & set(b.families):
                    continue
                if a.topic == b.topic == "alaska-summit" and "copy" not in (a.role, b.role):
                    continue
                shared.setdefault((i, j), []).append(h)
    return [
        (articles[i].id, articles[j].id, [grams[h] for h in hs])
        for (i, j), hs in shared.items()
        if len(hs) >= 2 or hs[0] in inside
    ]


@pytest.fixture(scope="module")
def corpus2000() -> list[GeneratedArticle]:
    return list(gen.generate(2000, seed=11))


def test_no_passage_is_shared_across_families(corpus2000: list[GeneratedArticle]) -> None:
    arts = corpus2000
    assert sum(a.role == "negative" for a in arts) >= 1000
    assert any(a.fresh for a in arts)  # small topic groups run out of wire slots already
    clashes = _cross_family_shingles(arts)
    assert not clashes, clashes[:5]


def test_shared_shingle_check_finds_planted_reuse(corpus2000: list[GeneratedArticle]) -> None:
    # the check is not vacuous: relabel one copy as a negative and it is caught
    copy = next(a for a in corpus2000 if a.kind == "verbatim")
    fake = GeneratedArticle(**{**copy.__dict__, "role": "negative", "families": ()})
    clashes = _cross_family_shingles([*corpus2000, fake])
    assert clashes and all(fake.id in c[:2] for c in clashes)
    assert max(len(c[2]) for c in clashes) >= 100


def test_exhausted_pools_give_fresh_text_and_fewer_families() -> None:
    # a pool of 4 web pages and 12 wire stories: more families than the pool has text for
    g = CorpusGenerator(
        300, seed=5, wire_limit=12, web_limit=4, same_topic_share=0.5, example_dir=None
    )
    arts = list(g.articles())
    truth = g.truth()
    pool = truth["pool"]
    assert pool["web_families"] >= 1 and pool["families_dropped"] >= 1
    assert pool["web_sentences_left"] == 0 and pool["fresh_stories"] >= 50
    assert len(arts) == 300
    fams = truth["families"]
    assert pool["wire_families"] + pool["web_families"] == len(fams)
    members = sum(len(f["members"]) for f in fams)
    assert members < 0.4 * 300  # the pool could not hold 40% of the corpus in families
    # every pool sentence appears in the articles of at most one family or negative
    sentences = {g.pool.sentences[int(i)] for s in g.stories for i in s.ids}
    holders: dict[str, set[tuple[str, ...]]] = {}
    for art in arts:
        key = art.families or (art.id,)
        for sent in split_sentences(_reused_text(art)):
            if sent in sentences:
                holders.setdefault(sent, set()).add(key)
    assert holders
    for sent, keys in holders.items():
        groups = [set(k) for k in keys]
        assert all(a & b for i, a in enumerate(groups) for b in groups[i + 1 :]), (sent, keys)
    assert not _cross_family_shingles(arts)
    # fresh text shares no 8-gram with the pool (so with no family) and no sentence at all
    clean: set[tuple[str, ...]] = set()
    for s in g.pool.sentences:
        clean |= word_ngrams(s, 8)
    fresh = [a for a in arts if a.fresh and a.role == "negative"]
    assert len(fresh) >= 50
    for art in fresh:
        assert not word_ngrams(art.text, 8) & clean
    same = [a for a in fresh if a.kind == "same_topic"]
    assert same
    unrelated = [a for a in fresh if a.kind == "unrelated"]
    assert accidental_overlap(unrelated).pairs_sharing == 0


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
