"""Tests for dedup.index: storage, batches against scan, idempotence, updates,
pruning, refusals, bad input, the CLI, a kill mid-batch and two writers at once.

Everything runs on real SQLite files in ``tmp_path``; WARC inputs are written
with warcio; the kill and concurrency tests run the CLI as real processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from benchmarks.generate import DEFAULT_PAN_DIR
from dedup import pipeline
from dedup.cli.index_cmd import index_app
from dedup.config import Config
from dedup.errors import ConfigError, IndexError_
from dedup.index import SLEEP_ENV, Index, IndexParams, add, export, parse_duration, prune, query
from dedup.index import ops as ops_mod
from dedup.index import store as store_mod
from dedup.model import Article, Report

REPO = Path(__file__).resolve().parents[1]
ALASKA = REPO / "benchmarks" / "corpora" / "alaska-summit"
CONFIG = Config(workers=1)

# --------------------------------------------------------------------------- planted corpus

FIRE = [
    "ATHENS (AP) - A wildfire fanned by gale-force winds swept through pine forests north of "
    "Athens on Sunday, forcing the evacuation of nine villages and a children's summer camp.",
    "More than 400 firefighters backed by 12 water-dropping aircraft battled the blaze, which "
    "broke out near the town of Varnavas shortly after noon and spread toward Marathon.",
    "Civil protection minister Vassilis Kikilias said the winds, gusting above 70 kilometres an "
    "hour, made it impossible for helicopters to fly for most of the afternoon.",
    "Residents of Grammatiko loaded cars with documents and pets as thick smoke turned the sky "
    "orange and ash fell on the coastal suburbs of the capital.",
    "The fire service said at least 17 homes had been destroyed and two volunteers were treated "
    "in hospital for burns, but no deaths had been reported by nightfall.",
    "Greece has suffered a run of destructive summer fires in recent years, which scientists "
    "link to hotter and drier conditions across the Mediterranean.",
    "Authorities banned all outdoor work involving machinery that could cause sparks in forested "
    "areas until the end of the week.",
]

FIRE_REWORDED = [
    "Strong gales pushed a forest fire across wooded hills to the north of Athens on Sunday, and "
    "nine villages as well as a summer camp for children had to be evacuated.",
    "Over 400 firefighters, supported by a dozen aircraft dropping water, fought the flames that "
    "started close to Varnavas just after midday and moved in the direction of Marathon.",
    "According to civil protection minister Vassilis Kikilias, gusts of more than 70 kilometres "
    "per hour kept helicopters grounded for much of the afternoon.",
    "In Grammatiko, people packed their documents and pets into cars while heavy smoke coloured "
    "the sky orange and ash landed on seaside suburbs of the capital.",
    "At least 17 houses were burned down and two volunteers needed hospital treatment for burns, "
    "the fire service said, adding that nobody had died by nightfall.",
]

CARS = [
    "TOKYO (Reuters) - Toyota Motor said on Wednesday it would spend 1.2 trillion yen over five "
    "years to build three battery plants in Japan and the United States.",
    "The world's biggest carmaker by sales has been criticised by investors for moving more "
    "slowly than rivals such as Tesla and BYD into fully electric vehicles.",
    "Chief executive Koji Sato told a news conference in Nagoya that the new factories would "
    "produce solid-state batteries that charge in about ten minutes.",
    "Production at the first plant, in Fukuoka prefecture, is due to start in 2027 and will "
    "supply models sold under the Lexus brand, the company said.",
    "Toyota shares rose 3.4 percent after the announcement, outperforming the broader Nikkei "
    "index, which closed slightly lower.",
    "Analysts at Nomura said the investment was large but warned that the technology had yet "
    "to prove itself in mass production.",
    "Reporting by Daniel Leussink; Editing by Kim Coghill",
]

CARS_REWORDED = [
    "Toyota Motor announced on Wednesday a plan to invest 1.2 trillion yen across five years in "
    "three new battery factories located in Japan and the United States.",
    "Investors have faulted the carmaker, the largest in the world by sales, for shifting to "
    "fully electric cars more slowly than competitors like Tesla and BYD.",
    "Speaking to reporters in Nagoya, chief executive Koji Sato said the plants would make "
    "solid-state batteries able to recharge in roughly ten minutes.",
    "The company said the first factory, in Fukuoka prefecture, should begin production in 2027 "
    "and would supply vehicles sold under its Lexus brand.",
    "After the news, Toyota stock gained 3.4 percent, beating the wider Nikkei index, which "
    "ended the day a little lower.",
]

VOTE = [
    "NAIROBI (AFP) - Kenya's parliament on Thursday approved a contested finance bill that "
    "raises taxes on mobile money transfers, fuel and imported cooking oil.",
    "Lawmakers voted 195 to 106 in favour of the measure after a heated debate that stretched "
    "late into the night, with opposition members walking out in protest.",
    "Treasury secretary John Mbadi said the new taxes would raise about 300 billion shillings "
    "and help the government meet its obligations to the International Monetary Fund.",
    "Police fired tear gas at hundreds of young demonstrators who had gathered outside the "
    "parliament buildings chanting slogans against the rising cost of living.",
    "Human rights groups said at least 40 people had been arrested in Nairobi and the port city "
    "of Mombasa during the day of protests.",
    "President William Ruto is expected to sign the bill into law next week despite calls from "
    "church leaders to send it back to parliament for amendments.",
]

VOTE_REWORDED = [
    "A disputed finance bill raising taxes on mobile money, fuel and imported cooking oil was "
    "passed by Kenya's parliament on Thursday.",
    "The measure was approved by 195 votes to 106 following a bitter debate that went on late "
    "into the night, and opposition lawmakers walked out in protest.",
    "According to treasury secretary John Mbadi, the taxes should bring in around 300 billion "
    "shillings and allow the government to honour its commitments to the International "
    "Monetary Fund.",
    "Outside the parliament, police used tear gas against hundreds of young protesters who were "
    "chanting against the soaring cost of living.",
    "Rights organisations reported that no fewer than 40 people were detained in Nairobi and in "
    "the port city of Mombasa over the day of demonstrations.",
]

FIRE_SAME_TOPIC = [
    "Beekeepers in the hills above Marathon say the summer fires have wiped out more than half "
    "of their hives, and many doubt they will be able to start again.",
    "Yannis Papadakis, who has kept bees near Varnavas for thirty years, lost 200 hives in a "
    "single afternoon when the flames jumped a firebreak.",
    "The regional association of honey producers has asked the government in Athens for "
    "emergency loans and for help replanting the thyme and pine that the bees depend on.",
    "Agriculture officials said a compensation scheme would open in the autumn, but farmers "
    "complained that payments after earlier fires had taken years to arrive.",
]

UNRELATED = [
    [
        "Pupils at Hillside Primary School have turned a disused car park into a vegetable "
        "garden, growing beans, squash and strawberries for the school kitchen.",
        "Head teacher Laura Benson said the project had taught children more about science and "
        "patience than any textbook could.",
        "Parents built raised beds over three weekends using timber donated by a local builders' "
        "merchant, and a retired gardener visits every Friday to give advice.",
        "The school now plans to sell surplus produce at the summer fair to pay for a greenhouse.",
    ],
    [
        "A sixteen-year-old from Dundee has won the national junior chess championship after "
        "beating the defending champion in a tense final round in Edinburgh.",
        "Fraser Whyte, who learned the game from his grandmother at the age of seven, finished "
        "with seven points from nine games.",
        "His coach said the teenager spends up to four hours a day studying openings and "
        "endgames while keeping up with his schoolwork.",
        "Whyte will represent Scotland at the European youth championships in Slovakia in "
        "September.",
    ],
    [
        "A family bakery that has served the same street in Leeds for 94 years will close its "
        "doors at the end of the month, its owners announced.",
        "Margaret and Tom Hollis said rising flour and energy prices had made it impossible to "
        "keep the ovens running without doubling the price of a loaf.",
        "Regular customers queued around the block on Saturday morning to buy the bakery's "
        "famous curd tarts one last time.",
        "The building has been sold to a coffee chain, which said it would keep the original shop "
        "front and tiled floor.",
    ],
    [
        "Repairs to the Old Mill Bridge will close the crossing to traffic for six weeks from "
        "Monday, the county highways department said.",
        "Engineers found corrosion in the steel supports during a routine inspection in the "
        "spring and recommended urgent strengthening work.",
        "Buses will be diverted through the town centre, adding about ten minutes to journeys, "
        "and a temporary footbridge will be installed for pedestrians.",
        "The work is expected to cost 2.3 million pounds and will be paid for from the county's "
        "road maintenance budget.",
    ],
]

LOCAL_INTROS = [
    "Families from our town who were holidaying near Athens described scenes of panic on "
    "Sunday as the flames approached their rented villas. Maria Lewis, 42, said her children "
    "watched the fire from the beach while planes scooped up seawater.",
    "Workers at the parts supplier on Harbour Road hope the announcement will bring new orders. "
    "The plant, which employs 230 people, already makes casings for hybrid batteries.",
    "Kenyan students at the city university held a vigil on Thursday evening in support of the "
    "protesters. Organiser Grace Wanjiru said many of them had relatives in Nairobi.",
]


def _story(sentences: Sequence[str]) -> str:
    paras = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    return "\n\n".join(paras)


def planted_corpus() -> list[Article]:
    """Three wire stories, each with a verbatim, a trimmed, a local-intro and a
    reworded copy; a same-topic negative; four unrelated stories. Shuffled."""
    arts: list[Article] = []
    day = "2025-06-0{}T{:02d}:00:00+00:00"
    for k, (name, wire, reworded) in enumerate((("fire", FIRE, FIRE_REWORDED),
                                                  ("cars", CARS, CARS_REWORDED),
                                                  ("vote", VOTE, VOTE_REWORDED))):
        body = wire[:-1] if wire[-1].startswith("Reporting by") else wire
        arts += [
            Article(f"{name}-wire", _story(wire), published=day.format(k + 1, 6)),
            Article(f"{name}-verbatim", _story(wire), published=day.format(k + 1, 8)),
            Article(f"{name}-trimmed", _story(body[:4]), published=day.format(k + 1, 9)),
            Article(f"{name}-local", LOCAL_INTROS[k] + "\n\n" + _story(body),
                    published=day.format(k + 1, 10)),
            Article(f"{name}-reworded", _story(reworded), published=day.format(k + 1, 11)),
        ]
    arts.append(Article("fire-beekeepers", _story(FIRE_SAME_TOPIC),
                        published=day.format(1, 12)))
    arts += [Article(f"other-{k}", _story(s), published=day.format(5, k)) for k, s in
             enumerate(UNRELATED)]
    random.Random(5).shuffle(arts)
    return arts


# --------------------------------------------------------------------------- helpers


def postings(con: sqlite3.Connection, table: str) -> list[tuple[int, int, int]]:
    """(term, owner, quantized weight) of an inverted table, read from its chunks."""
    out = []
    for term, data in con.execute(f"SELECT term, data FROM {table}"):
        rec = np.frombuffer(data, dtype=store_mod.POSTING)
        out += [(term, int(o), int(w)) for o, w in zip(rec["owner"], rec["weight"])]
    return out


def index_state(db: Path) -> dict[str, Any]:
    """Everything an index holds, by article id (primary keys left out)."""
    con = sqlite3.connect(db)
    try:
        ids = dict(con.execute("SELECT pk, id FROM articles"))
        articles = sorted(con.execute(
            "SELECT a.id, a.title, a.url, a.published, a.chars, a.content_hash, a.wire_agency, "
            "a.n_passages, s.id FROM articles a LEFT JOIN clusters c ON c.id = a.cluster "
            "LEFT JOIN articles s ON s.pk = c.source"))
        band = sorted((k, ids[a]) for k, a in con.execute("SELECT key, article FROM band_keys"))
        docs = sorted((t, ids[a], w) for t, a, w in postings(con, "doc_postings"))
        passages = sorted((t, ids[p >> store_mod.PASSAGE_BITS], p & 0xFFFFFF, w)
                          for t, p, w in postings(con, "passage_postings"))
        matches = sorted((ids[a], ids[b], round(s, 9)) for a, b, s in
                         con.execute("SELECT a, b, score FROM matches"))
        clusters = sorted(cluster_members(con).values())
        terms = sorted(con.execute("SELECT term, docs, passages FROM terms"))
        counts = con.execute("SELECT COUNT(*), COALESCE(SUM(n_passages), 0) FROM articles"
                             ).fetchone()
        kept = dict(con.execute("SELECT key, value FROM meta WHERE key IN "
                                "('articles', 'passages')"))
    finally:
        con.close()
    # the counts kept in meta are those of the table, after any adds, updates and prunes
    assert (int(kept["articles"]), int(kept["passages"])) == counts
    return {"articles": articles, "band": band, "docs": docs, "passages": passages,
            "matches": matches, "clusters": clusters, "terms": terms, "counts": counts}


def term_counts(db: Path) -> list[tuple[int, int, int]]:
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("SELECT term, docs, passages FROM terms"))
    finally:
        con.close()


def band_rows(db: Path) -> list[tuple[int, str]]:
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("SELECT b.key, a.id FROM band_keys b "
                                  "JOIN articles a ON a.pk = b.article"))
    finally:
        con.close()


def stored_pairs(db: Path) -> dict[tuple[str, str], float]:
    con = sqlite3.connect(db)
    try:
        return {(a, b): s for a, b, s in con.execute(
            "SELECT x.id, y.id, m.score FROM matches m JOIN articles x ON x.pk = m.a "
            "JOIN articles y ON y.pk = m.b")}
    finally:
        con.close()


def cluster_members(con: sqlite3.Connection) -> dict[int, tuple[str, ...]]:
    """Members of each stored cluster: the articles of its matches."""
    members: dict[int, set[str]] = {}
    for cid, a, b in con.execute(
            "SELECT m.cluster, x.id, y.id FROM matches m JOIN articles x ON x.pk = m.a "
            "JOIN articles y ON y.pk = m.b WHERE m.cluster IS NOT NULL"):
        members.setdefault(cid, set()).update((a, b))
    return {cid: tuple(sorted(m)) for cid, m in members.items()}


def stored_clusters(db: Path) -> set[tuple[tuple[str, ...], str | None]]:
    con = sqlite3.connect(db)
    try:
        members = cluster_members(con)
        source = dict(con.execute("SELECT c.id, s.id FROM clusters c "
                                  "LEFT JOIN articles s ON s.pk = c.source"))
    finally:
        con.close()
    assert set(members) == set(source), "a cluster row without matches, or matches without one"
    return {(m, source[c]) for c, m in members.items()}


def index_in_batches(db: Path, articles: Sequence[Article], n_batches: int) -> None:
    size = -(-len(articles) // n_batches)
    with Index.open(db, CONFIG, create=True) as idx:
        for lo in range(0, len(articles), size):
            add(idx, articles[lo : lo + size], CONFIG)


def assert_agrees_with_scan(db: Path, report: Report) -> None:
    pairs = stored_pairs(db)
    expected = {(m.a, m.b): m.score for m in report.matches}
    assert set(pairs) == set(expected)
    for pair, score in expected.items():
        assert abs(pairs[pair] - score) <= 0.02, pair
    assert stored_clusters(db) == {(c.members, c.source) for c in report.clusters}


# --------------------------------------------------------------------------- storage


def test_profile_and_signature_round_trip() -> None:
    text = " ".join(FIRE) + "\n\n" + " ".join(CARS)
    prof = pipeline.profile(text, CONFIG.sketch, (25, 5))
    back = store_mod.decode_profile(store_mod.encode_profile(prof), prof.signature)
    for name, value in vars(prof).items():
        got = getattr(back, name)
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype, name
            assert np.array_equal(got, value), name
        else:
            assert got == value, name
    blob = store_mod.encode_signature(prof.signature, seed=1)
    assert np.array_equal(store_mod.decode_signature(blob, 128, 1), prof.signature)
    with pytest.raises(IndexError_, match="Expecting minhash with length 64, got 128"):
        store_mod.decode_signature(blob, 64, 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300, unique=True),
       st.lists(st.integers(0, 2**64 - 1), max_size=300, unique=True))
def test_bloom_filter_holds_every_key_it_was_given(held: list[int], others: list[int]) -> None:
    keys = np.array(held, dtype=np.uint64)
    bloom = store_mod.bloom_of(keys, len(keys))
    assert bloom.dtype == np.dtype("<u8") and len(bloom) >= max(128, len(keys) // 4)
    assert store_mod.bloom_test(bloom, keys).all()
    grown = bloom.copy()
    store_mod.bloom_add(grown, np.array(others, dtype=np.uint64))
    assert store_mod.bloom_test(grown, np.array(held + others, dtype=np.uint64)).all()
    assert (grown | bloom == grown).all()  # adding only sets bits


def nearest_passages_reference(k_new: sp.csr_matrix, k_old_t: sp.csr_matrix,
                               k_new_t: sp.csr_matrix, w_owner: np.ndarray, min_cosine: float,
                               top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """How the index ranked each new window's nearest passages until session
    18: scipy's products in blocks of rows, then a sort of (row, -cosine, target)."""
    m, n_win = k_old_t.shape[1], k_new.shape[0]
    rows_out, targets_out = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for lo in range(0, n_win, 3):
        hi = min(n_win, lo + 3)
        block = k_new[lo:hi]
        so = sp.coo_matrix(block @ k_old_t)
        sn = sp.coo_matrix(block @ k_new_t)
        other = w_owner[lo + sn.row] != w_owner[sn.col]
        rows = np.concatenate([so.row, sn.row[other]]).astype(np.int64) + lo
        targets = np.concatenate([so.col, m + sn.col[other]]).astype(np.int64)
        vals = np.concatenate([so.data, sn.data[other]])
        ok = vals >= min_cosine
        rows, targets, vals = rows[ok], targets[ok], vals[ok]
        order = np.lexsort((targets, -vals, rows))
        r = rows[order]
        rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
        sel = order[rank < top_k]
        rows_out.append(rows[sel])
        targets_out.append(targets[sel])
    return np.concatenate(rows_out), np.concatenate(targets_out)


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 12), st.integers(0, 15), st.integers(1, 8), st.integers(1, 6),
       st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.3, 0.6]))
def test_nearest_passages_as_the_sorted_products_found_them(
        n_win: int, n_old: int, n_terms: int, top_k: int, seed: int, min_cosine: float) -> None:
    """The compiled ranking of the index's passage neighbours gives the rows and
    targets, in the order, of the products and sort it replaced (weights on a
    coarse grid, so that ties in cosine are common)."""
    rng = np.random.default_rng(seed)

    def sparse(n_rows: int) -> sp.csr_matrix:
        dense = rng.integers(0, 4, size=(n_rows, n_terms)) * (rng.random((n_rows, n_terms)) < 0.5)
        return sp.csr_matrix(dense.astype(np.float32) / 4)

    k_new = sparse(n_win)
    k_old_t = sp.csr_matrix(sparse(n_old).T) if n_old else sp.csr_matrix((n_terms, 0),
                                                                         dtype=np.float32)
    k_new_t = sp.csr_matrix(k_new.T)
    owner = np.sort(rng.integers(0, max(1, n_win // 2), size=n_win)).astype(np.int64)
    got = ops_mod._nearest_passages(k_new, k_old_t, k_new_t, owner, min_cosine, top_k)
    want = nearest_passages_reference(k_new, k_old_t, k_new_t, owner, min_cosine, top_k)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_bloom_filter_false_positives_are_rare() -> None:
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**63, size=50_000, dtype=np.int64).view(np.uint64) * np.uint64(2)
    bloom = store_mod.bloom_of(keys, len(keys))
    strangers = keys + np.uint64(1)  # odd: none of them was added
    rate = store_mod.bloom_test(bloom, strangers).mean()
    assert 0 < rate < 0.005
    sequential = np.arange(1, 100_001, dtype=np.uint64)  # unmixed keys spread too
    assert store_mod.bloom_test(store_mod.bloom_of(sequential, len(sequential)),
                               sequential + np.uint64(10**9)).mean() < 0.005


def test_band_keys_keep_their_high_bit() -> None:
    keys = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    signed = store_mod.as_signed(keys)
    assert signed.dtype == np.int64
    assert signed.tolist() == [0, 1, -(2**63), -1]
    assert np.array_equal(signed.view(np.uint64), keys)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["<i8", "<u8", "<i4", "<f4", "<f8", "<u2"]),
    st.lists(st.integers(0, 5), min_size=1, max_size=2),
    st.integers(-(2**31), 2**31 - 1)), min_size=1, max_size=5))
def test_arrays_round_trip_in_dtype_and_shape(specs: list[tuple[str, list[int], int]]) -> None:
    rng = np.random.default_rng(abs(specs[0][2]))
    arrays = {}
    for k, (code, shape, scale) in enumerate(specs):
        dt = np.dtype(code)
        if dt.kind == "f":
            values = rng.integers(0, 300, size=shape) * (1.5 if scale % 2 else 1.0)
        else:  # values within +-scale: small ones are stored narrowed
            info = np.iinfo(dt)
            values = rng.integers(max(info.min, -abs(scale)), min(info.max, abs(scale)),
                                  size=shape, dtype=dt, endpoint=True)
        arrays[f"a{k}"] = np.asarray(values, dtype=dt)
    for _ in range(2):  # the second decode reads parsed headers from the cache
        out = store_mod.decode_arrays(store_mod.encode_arrays(arrays))
        assert list(out) == list(arrays)
        for name, arr in arrays.items():
            assert out[name].dtype == arr.dtype and out[name].shape == arr.shape
            assert np.array_equal(out[name], arr)
            assert out[name].flags.writeable


def test_corrupt_arrays_are_refused() -> None:
    with pytest.raises(IndexError_, match="corrupt stored arrays: expected magic"):
        store_mod.decode_arrays(b"XXXX\x00\x00")


def test_new_file_has_wal_foreign_keys_and_meta(tmp_path: Path) -> None:
    db = tmp_path / "crawl.db"
    with Index.open(db, CONFIG, create=True) as idx:
        assert idx.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert idx.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        meta = idx.meta()
    assert meta["schema_version"] == str(store_mod.SCHEMA_VERSION)
    assert meta["setting.sketch.num_perm"] == "128"
    assert meta["setting.tfidf.n_features"] == str(1 << 22)


# --------------------------------------------------------------------------- against scan


@pytest.fixture(scope="module")
def planted() -> list[Article]:
    return planted_corpus()


@pytest.fixture(scope="module")
def planted_report(planted: list[Article]) -> Report:
    return pipeline.scan_articles(planted, CONFIG)


def test_planted_corpus_has_the_planted_families(planted_report: Report) -> None:
    members = {c.members for c in planted_report.clusters}
    for name in ("fire", "cars", "vote"):
        family = tuple(sorted(f"{name}-{kind}" for kind in
                              ("local", "reworded", "trimmed", "verbatim", "wire")))
        assert family in members


def test_planted_reworded_copy_matches_every_copy_of_its_story(planted_report: Report) -> None:
    # in a corpus of 27 articles a passage keyword may be held by several windows
    # (tfidf.MIN_KEYWORD_WINDOWS): with 1% of the windows as the only limit, the
    # terms five copies of a story share were dropped and the reworded copy met
    # only the trimmed one
    pairs = {(m.a, m.b) for m in planted_report.matches}
    for name in ("fire", "cars", "vote"):
        family = sorted(f"{name}-{kind}" for kind in
                        ("local", "reworded", "trimmed", "verbatim", "wire"))
        assert {p for p in pairs if p[0] in family and p[1] in family} == {
            (a, b) for a in family for b in family if a < b}


def test_ten_batches_agree_with_one_scan(tmp_path: Path, planted: list[Article],
                                         planted_report: Report) -> None:
    db = tmp_path / "crawl.db"
    index_in_batches(db, planted, 10)
    assert_agrees_with_scan(db, planted_report)


def test_alaska_summit_one_article_per_batch_agrees_with_scan(tmp_path: Path) -> None:
    report = pipeline.scan([ALASKA], CONFIG)
    assert len(report.articles) == 5
    db = tmp_path / "alaska.db"
    index_in_batches(db, list(report.articles), 5)
    assert_agrees_with_scan(db, report)


def test_report_of_a_batch(tmp_path: Path, planted: list[Article]) -> None:
    db = tmp_path / "crawl.db"
    wire = [a for a in planted if a.id.endswith("-wire") or a.id.startswith("other-")]
    copies = [a for a in planted if a.id in ("fire-trimmed", "cars-local", "vote-verbatim")]
    with Index.open(db, CONFIG, create=True) as idx:
        first = add(idx, wire, CONFIG)
        assert not first.reuses_indexed
        second = add(idx, copies, CONFIG)
    by_id = {r.id: r for r in second.articles}
    trimmed = by_id["fire-trimmed"]
    assert trimmed.status == "new"
    assert [m.id for m in trimmed.matches] == ["fire-wire"]
    ref = trimmed.matches[0]
    assert ref.indexed
    assert ref.reuse_a_in_b == pytest.approx(1.0, abs=0.02)  # all of the trimmed copy
    assert ref.reuse_b_in_a < 0.8  # only part of the wire story
    assert trimmed.source == "fire-wire"
    assert trimmed.cluster is not None
    local = by_id["cars-local"].matches[0]
    assert local.id == "cars-wire" and local.reuse_a_in_b < 0.9 and local.reuse_b_in_a > 0.8
    assert second.reuses_indexed
    assert second.stats["new"] == 3


def test_query_reports_without_changing_anything(tmp_path: Path,
                                                 planted: list[Article]) -> None:
    db = tmp_path / "crawl.db"
    base = [a for a in planted if not a.id.startswith("cars")]
    cars = [a for a in planted if a.id.startswith("cars")]
    index_in_batches(db, base, 1)
    before = index_state(db)
    with Index.open(db, CONFIG) as idx:
        asked = query(idx, cars, CONFIG)
    assert index_state(db) == before
    with Index.open(db, CONFIG) as idx:
        added = add(idx, cars, CONFIG)
    assert [r.to_dict() for r in asked.articles] == [r.to_dict() for r in added.articles]


# ----------------------------------------------------------------- a roundup of two stories


def roundup_corpus() -> list[Article]:
    """Two wire stories with copies, and a roundup that runs the first four
    sentences of each: it belongs to both families, which must stay apart."""
    day = "2025-06-01T{:02d}:00:00+00:00"
    return [
        Article("fire-wire", _story(FIRE), published=day.format(6)),
        Article("fire-verbatim", _story(FIRE), published=day.format(8)),
        Article("fire-local", LOCAL_INTROS[0] + "\n\n" + _story(FIRE), published=day.format(9)),
        Article("cars-wire", _story(CARS), published=day.format(7)),
        Article("cars-verbatim", _story(CARS), published=day.format(10)),
        Article("roundup", "Our morning briefing.\n\n" + _story(FIRE[:4]) + "\n\n"
                + _story(CARS[:4]), published=day.format(11)),
        Article("other-0", _story(UNRELATED[0]), published=day.format(12)),
    ]


ROUNDUP_CLUSTERS = {
    (("fire-local", "fire-verbatim", "fire-wire", "roundup"), "fire-wire"),
    (("cars-verbatim", "cars-wire", "roundup"), "cars-wire"),
}


def test_a_roundup_of_two_stories_sits_in_both_clusters(tmp_path: Path) -> None:
    arts = roundup_corpus()
    report = pipeline.scan_articles(arts, CONFIG)
    assert {(c.members, c.source) for c in report.clusters} == ROUNDUP_CLUSTERS
    assert report.stats["clustered_articles"] == 6
    # each of the roundup's matches belongs to its story's cluster
    cluster_of = {(m["a"], m["b"]): m["cluster"] for m in report.to_dict()["matches"]}
    fire, cars = (next(c.id for c in report.clusters if name in c.members)
                  for name in ("fire-wire", "cars-wire"))
    assert cluster_of[("fire-wire", "roundup")] == fire != cars == cluster_of[("cars-wire",
                                                                                "roundup")]
    # whatever the batches and their order, the index holds the scan's clusters
    for name, order, n_batches in (("one", arts, 1), ("three", arts, 3),
                                   ("reversed", arts[::-1], len(arts))):
        db = tmp_path / f"{name}.db"
        index_in_batches(db, order, n_batches)
        assert_agrees_with_scan(db, report)
    # the roundup is reported in the cluster of its best match
    with Index.open(tmp_path / "one.db", CONFIG) as idx:
        asked = {r.id: r for r in query(idx, arts, CONFIG).articles}
    best = asked["roundup"].matches[0].id
    assert asked["roundup"].source == best.split("-")[0] + "-wire"
    assert asked["other-0"].cluster is None


@pytest.mark.skipif(
    not (DEFAULT_PAN_DIR / "05-summary-obfuscation" / "pairs").is_file(),
    reason="the PAN 2013 training corpus is not available",
)
def test_order_of_articles_and_batches_does_not_matter(tmp_path: Path) -> None:
    # 300 generated articles (merged copies, rewrites, same-topic negatives):
    # shuffled, the scan gives the same matches and clusters, and so does an
    # index built in ten batches of the shuffled articles
    from benchmarks.index_bench import corpus

    arts = corpus(300, 0)
    report = pipeline.scan_articles(arts, CONFIG)
    shuffled = random.Random(1).sample(arts, len(arts))
    again = pipeline.scan_articles(shuffled, CONFIG).to_dict()
    assert again["matches"] == report.to_dict()["matches"]
    assert again["clusters"] == report.to_dict()["clusters"]
    assert sum(1 for a in arts if sum(a.id in c.members for c in report.clusters) > 1) >= 5
    db = tmp_path / "shuffled.db"
    index_in_batches(db, shuffled, 10)
    assert_agrees_with_scan(db, report)


def test_removing_the_roundup_leaves_two_clusters(tmp_path: Path) -> None:
    arts = roundup_corpus()
    db = tmp_path / "crawl.db"
    index_in_batches(db, arts, 2)
    # the roundup's id comes again with another text: it leaves both clusters
    changed = Article("roundup", _story(UNRELATED[1]), published="2025-06-01T11:00:00+00:00")
    with Index.open(db, CONFIG) as idx:
        assert add(idx, [changed], CONFIG).articles[0].cluster is None
    final = [a for a in arts if a.id != "roundup"] + [changed]
    fresh = tmp_path / "fresh.db"
    index_in_batches(fresh, final, 1)
    assert stored_clusters(db) == stored_clusters(fresh) == {
        (("fire-local", "fire-verbatim", "fire-wire"), "fire-wire"),
        (("cars-verbatim", "cars-wire"), "cars-wire")}
    assert index_state(db)["articles"] == index_state(fresh)["articles"]
    # pruning the fire story's copies leaves its wire alone, in no cluster
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE articles SET published_ts = 0 WHERE id LIKE 'fire-%' "
                    "AND id != 'fire-wire'")
    con.close()
    now = datetime(2025, 6, 1, 23, tzinfo=timezone.utc).timestamp()
    with Index.open(db) as idx:
        assert prune(idx, parse_duration("1d"), now=now).removed == 2
    assert stored_clusters(db) == {(("cars-verbatim", "cars-wire"), "cars-wire")}
    with Index.open(db) as idx:
        rows = {r["id"]: r for r in export(idx)}
    assert rows["fire-wire"]["cluster"] is None
    assert rows["cars-verbatim"]["cluster_source"] == "cars-wire"


def test_updates_move_articles_between_clusters_as_a_scan_would(tmp_path: Path) -> None:
    arts = roundup_corpus()
    db = tmp_path / "crawl.db"
    index_in_batches(db, arts, 2)
    # the roundup keeps only the fire story, a fire copy becomes a cars copy, one more cars copy
    changed = [Article("roundup", _story(FIRE[:5]) + "\n\n" + _story(UNRELATED[1])),
               Article("fire-verbatim", _story(CARS)), Article("new-x", _story(CARS[:5]))]
    with Index.open(db, CONFIG) as idx:
        asked = query(idx, changed, CONFIG)
    with Index.open(db, CONFIG) as idx:
        added = add(idx, changed, CONFIG)
    assert [r.to_dict() for r in asked.articles] == [r.to_dict() for r in added.articles]
    final = [a for a in arts if a.id not in ("roundup", "fire-verbatim")] + changed
    report = pipeline.scan_articles(final, CONFIG)
    assert stored_clusters(db) == {(c.members, c.source) for c in report.clusters} == {
        (("fire-local", "fire-wire", "roundup"), "fire-wire"),
        (("cars-verbatim", "cars-wire", "fire-verbatim", "new-x"), "cars-wire")}


def test_version_3_file_is_upgraded_to_clusters_of_matches(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    arts = roundup_corpus()
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for db in (old, new):
        index_in_batches(db, arts, 2)
    downgrade_to_v3(old)
    with sqlite3.connect(old) as con:  # version 3: the roundup chained both stories
        assert con.execute("SELECT COUNT(DISTINCT cluster), COUNT(cluster) FROM articles"
                           ).fetchone() == (1, 6)
    with caplog.at_level("WARNING", logger="dedup.index"), Index.open(old, CONFIG) as idx:
        assert idx.meta()["schema_version"] == "5"
        assert idx.settings["cluster.min_overlap"] == "0.5"
    assert [r.getMessage() for r in caplog.records] == [
        f"{old}: upgrading the index from schema version 3 to 5 (once; it rewrites the tables "
        "that changed)"]
    assert stored_clusters(old) == ROUNDUP_CLUSTERS
    assert index_state(old) == index_state(new)
    with Index.open(old) as idx:
        assert idx.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# --------------------------------------------------------------------------- idempotence, updates


def test_verify_in_runs_of_stored_articles_gives_the_same(
        tmp_path: Path, planted: list[Article], monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch whose candidates meet more stored articles than
    VERIFY_CHUNK_ARTICLES aligns them in runs (bounded memory): the same
    stored matches and clusters, the same report."""
    calls: list[int] = []
    align = pipeline.align_pairs_jaccard

    def counted(profiles: Sequence[pipeline.Profile], pairs: np.ndarray,
                *args: Any, **kwargs: Any) -> Any:
        calls.append(len(profiles))
        return align(profiles, pairs, *args, **kwargs)

    # the batch: the cars story (its copies match each other) and two copies of
    # the fire story (they match stored ones)
    batch = [a for a in planted if a.id.startswith("cars") or a.id in ("fire-local",
                                                                       "fire-reworded")]
    stored = [a for a in planted if a not in batch]
    whole, runs = tmp_path / "whole.db", tmp_path / "runs.db"
    index_in_batches(whole, stored, 2)
    with Index.open(whole, CONFIG) as idx:
        want = [r.to_dict() for r in add(idx, batch, CONFIG).articles]
    monkeypatch.setattr(ops_mod, "VERIFY_CHUNK_ARTICLES", 2)
    monkeypatch.setattr(pipeline, "align_pairs_jaccard", counted)
    index_in_batches(runs, stored, 2)
    calls.clear()
    with Index.open(runs, CONFIG) as idx:
        got = [r.to_dict() for r in add(idx, batch, CONFIG).articles]
    assert len(calls) >= 2 and max(calls) <= 2 + len(batch)  # runs of 2 stored articles
    assert {m["id"] for r in got for m in r["matches"]} >= {"cars-wire", "fire-wire"}
    assert got == want
    assert index_state(runs) == index_state(whole)


def test_adding_the_same_batch_twice_changes_nothing(tmp_path: Path,
                                                     planted: list[Article]) -> None:
    db = tmp_path / "crawl.db"
    with Index.open(db, CONFIG, create=True) as idx:
        first = add(idx, planted[:12], CONFIG)
        state = index_state(db)
        again = add(idx, planted[:12], CONFIG)
    assert index_state(db) == state
    assert {r.status for r in again.articles} == {"unchanged"}
    assert again.stats["unchanged"] == 12
    strip = [{k: v for k, v in r.to_dict().items() if k != "status"} for r in first.articles]
    assert [{k: v for k, v in r.to_dict().items() if k != "status"}
            for r in again.articles] == strip


def test_same_id_new_text_replaces_the_old_version(tmp_path: Path,
                                                   planted: list[Article]) -> None:
    by_id = {a.id: a for a in planted}
    final = [a for a in planted if a.id != "other-0"]
    # 'other-0' first holds a copy of the fire story, then becomes the school garden again
    wrong = Article("other-0", by_id["fire-wire"].text)
    db = tmp_path / "updated.db"
    with Index.open(db, CONFIG, create=True) as idx:
        add(idx, final + [wrong], CONFIG)
        assert ("fire-wire", "other-0") in stored_pairs(db)
        result = add(idx, [by_id["other-0"]], CONFIG)
    assert result.articles[0].status == "updated"
    assert result.articles[0].matches == ()
    fresh = tmp_path / "fresh.db"
    index_in_batches(fresh, final + [by_id["other-0"]], 1)
    assert index_state(db)["articles"] == index_state(fresh)["articles"]
    assert band_rows(db) == band_rows(fresh)
    assert term_counts(db) == term_counts(fresh)
    assert stored_pairs(db).keys() == stored_pairs(fresh).keys()
    assert stored_clusters(db) == stored_clusters(fresh)
    # keyword rows: none left of the old version (index_state maps every row to a live
    # article); other articles' weights date from when they were added, so only the
    # replaced article's own rows are compared
    state, fresh_state = index_state(db), index_state(fresh)
    assert [r[:2] for r in state["docs"] if r[1] == "other-0"] == \
        [r[:2] for r in fresh_state["docs"] if r[1] == "other-0"]
    assert [r[:3] for r in state["passages"] if r[1] == "other-0"] == \
        [r[:3] for r in fresh_state["passages"] if r[1] == "other-0"]


def test_duplicate_ids_in_one_batch_are_refused(tmp_path: Path) -> None:
    with Index.open(tmp_path / "x.db", CONFIG, create=True) as idx, \
            pytest.raises(ConfigError, match="duplicate article id 'a' in one batch"):
        add(idx, [Article("a", "One text here."), Article("a", "Another text.")], CONFIG)


# --------------------------------------------------------------------------- prune


@pytest.mark.parametrize(("text", "seconds"), [("30d", 30 * 86400.0), ("12h", 43200.0),
                                               ("2w", 14 * 86400.0), (" 1.5D ", 129600.0)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "30x", "-1d", "thirty days"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration .*: expected a number followed by"):
        parse_duration(text)


def test_prune_by_published_else_added(tmp_path: Path, planted: list[Article]) -> None:
    now = time.time()
    old = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 40 * 86400))
    recent = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 5 * 86400))
    dated = []
    for a in planted:
        when = old if a.id in ("fire-wire", "fire-verbatim", "other-1") else recent
        dated.append(Article(a.id, a.text, published=when))
    undated = Article("undated", " ".join(UNRELATED[1][::-1]))  # added now: kept
    db = tmp_path / "crawl.db"
    index_in_batches(db, dated + [undated], 2)
    with Index.open(db) as idx:
        result = prune(idx, parse_duration("30d"), now=now)
        assert result.removed == 3
        assert result.remaining == len(dated) - 2
        assert result.clusters_changed >= 1
    kept = [a for a in dated if a.id not in ("fire-wire", "fire-verbatim", "other-1")]
    fresh = tmp_path / "fresh.db"
    index_in_batches(fresh, kept + [undated], 1)
    assert index_state(db)["articles"] == index_state(fresh)["articles"]
    assert band_rows(db) == band_rows(fresh)
    assert term_counts(db) == term_counts(fresh)
    assert stored_pairs(db).keys() == stored_pairs(fresh).keys()
    assert stored_clusters(db) == stored_clusters(fresh)
    with Index.open(db) as idx:
        assert prune(idx, parse_duration("30d"), now=now).removed == 0
        assert idx.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert idx.execute("PRAGMA foreign_key_check").fetchall() == []


# --------------------------------------------------------------------------- refusals


def test_other_settings_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "crawl.db"
    Index.open(db, CONFIG, create=True).close()
    other = CONFIG.with_overrides(**{"sketch.num_perm": 64})
    with pytest.raises(IndexError_, match=r"built with other settings than now: "
                                          r"sketch\.num_perm=128 \(now 64\)"):
        Index.open(db, other)
    with Index.open(db, CONFIG.with_overrides(**{"align.max_gap": 2})) as idx:
        assert idx.params == IndexParams()  # settings that only change verification may change
    with pytest.raises(IndexError_, match=r"index\.passage_max_postings=1000 \(now 500\)"):
        Index.open(db, CONFIG, params=IndexParams(passage_max_postings=500))


def test_index_params_are_kept_in_the_file(tmp_path: Path, planted: list[Article]) -> None:
    db = tmp_path / "crawl.db"
    params = IndexParams(passage_max_postings=3, doc_max_postings=2)
    with Index.open(db, CONFIG, create=True, params=params) as idx:
        add(idx, planted[:10], CONFIG)
    with Index.open(db, CONFIG) as idx:
        assert idx.params == params
        result = add(idx, planted[10:], CONFIG)
    assert result.stats["new"] == len(planted) - 10


@pytest.mark.parametrize("field", ["passage_max_postings", "doc_max_postings"])
def test_index_params_are_validated(field: str) -> None:
    with pytest.raises(ConfigError,
                       match=f"index.{field} must be None or an integer of at least 2, got 1"):
        IndexParams(**{field: 1})


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "crawl.db"
    Index.open(db, CONFIG, create=True).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(IndexError_, match="schema version 99 is newer than this dedup"):
        Index.open(db, CONFIG)


def test_older_schema_without_migration_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "crawl.db"
    Index.open(db, CONFIG, create=True).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(IndexError_, match="schema version 0 is older than 5 and cannot be "
                                          "upgraded; rebuild the index"):
        Index.open(db, CONFIG)


V1_TABLES = {
    "doc_postings": ("doc_keywords", "article"),
    "passage_postings": ("passage_keywords", "passage"),
}


def downgrade_to_v1(db: Path) -> None:
    """Rewrite an index in the version 1 layout: one row per posting."""
    downgrade_to_v2(db)
    con = sqlite3.connect(db)
    with con:
        for new, (old, owner) in V1_TABLES.items():
            con.execute(f"CREATE TABLE {old} (term INTEGER NOT NULL, {owner} INTEGER NOT NULL, "
                        f"weight INTEGER NOT NULL, PRIMARY KEY (term, {owner})) WITHOUT ROWID")
            con.executemany(f"INSERT INTO {old} VALUES (?, ?, ?)", postings(con, new))
            con.execute(f"DROP TABLE {new}")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        con.execute("DELETE FROM meta WHERE key = 'next_chunk'")
    con.close()


def test_version_1_file_is_upgraded(tmp_path: Path, planted: list[Article]) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for db in (old, new):
        index_in_batches(db, planted[:12], 3)
    downgrade_to_v1(old)
    with Index.open(old, CONFIG) as idx:
        assert idx.meta()["schema_version"] == str(store_mod.SCHEMA_VERSION)
    assert index_state(old) == index_state(new)
    for db in (old, new):
        with Index.open(db, CONFIG) as idx:
            add(idx, planted[12:], CONFIG)
    assert index_state(old) == index_state(new)


def downgrade_to_v4(db: Path) -> None:
    """Rewrite an index in the version 4 layout: no article and passage counts in meta."""
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM meta WHERE key IN ('articles', 'passages')")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()


def test_version_4_file_is_upgraded_to_counts_in_meta(
        tmp_path: Path, planted: list[Article], caplog: pytest.LogCaptureFixture) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for db in (old, new):
        index_in_batches(db, planted[:12], 3)
    downgrade_to_v4(old)
    with caplog.at_level("WARNING", logger="dedup.index"), Index.open(old, CONFIG) as idx:
        assert idx.meta()["schema_version"] == "5"
        assert idx.counts() == (12, index_state(new)["counts"][1])
    assert [r.getMessage() for r in caplog.records] == [
        f"{old}: upgrading the index from schema version 4 to 5 (once; it rewrites the tables "
        "that changed)"]
    assert index_state(old) == index_state(new)
    for db in (old, new):  # replace two, add the rest
        with Index.open(db, CONFIG) as idx:
            add(idx, [dataclasses.replace(a, text=a.text + " Updated.") for a in planted[:2]]
                + list(planted[12:]), CONFIG)
    assert index_state(old) == index_state(new)


def downgrade_to_v3(db: Path) -> None:
    """Rewrite an index in the version 3 layout: a cluster per article, the
    components of articles joined by matches reaching the cluster score."""
    downgrade_to_v4(db)
    con = sqlite3.connect(db)
    with con:
        min_score = float(con.execute("SELECT value FROM meta "
                                      "WHERE key = 'setting.cluster.min_score'").fetchone()[0])
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            parent.setdefault(x, x)
            while parent[x] != x:
                x = parent[x]
            return x

        edges = con.execute("SELECT a, b, cluster FROM matches WHERE score >= ?",
                            (min_score,)).fetchall()
        for a, b, _ in edges:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
        # a component keeps the smallest of its matches' cluster ids
        ids: dict[int, int] = {}
        for a, _, cid in edges:
            ids[find(a)] = min(cid, ids.get(find(a), cid))
        sources = dict(con.execute("SELECT id, source FROM clusters"))
        con.execute("UPDATE articles SET cluster = NULL")
        con.execute("DELETE FROM clusters")
        members: dict[int, set[int]] = {}
        for a, b, _ in edges:
            members.setdefault(find(a), set()).update((a, b))
        for root, pks in members.items():
            con.execute("INSERT INTO clusters VALUES (?, ?, 'upgraded', ?)",
                        (ids[root], sources.get(ids[root]), len(pks)))
            con.executemany("UPDATE articles SET cluster = ? WHERE pk = ?",
                            [(ids[root], pk) for pk in pks])
        con.execute("DROP INDEX matches_cluster")
        con.execute("ALTER TABLE matches DROP COLUMN cluster")
        con.execute("DELETE FROM meta WHERE key = 'setting.cluster.min_overlap'")
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()


def downgrade_to_v2(db: Path) -> None:
    """Rewrite an index in the version 2 layout: band keys in one (key, article) tree."""
    downgrade_to_v3(db)
    con = sqlite3.connect(db)
    with con:
        con.execute("CREATE TABLE band_keys_old (key INTEGER NOT NULL, article INTEGER NOT NULL, "
                    "PRIMARY KEY (key, article)) WITHOUT ROWID")
        con.execute("INSERT INTO band_keys_old SELECT key, article FROM band_keys")
        con.execute("DROP TABLE band_keys")
        con.execute("DROP TABLE band_gens")
        con.execute("ALTER TABLE band_keys_old RENAME TO band_keys")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()


def band_generations(db: Path) -> list[tuple[int, int, int]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT g.gen, g.rows, COUNT(b.key) FROM band_gens g "
                           "LEFT JOIN band_keys b ON b.gen = g.gen GROUP BY g.gen "
                           "ORDER BY g.gen").fetchall()
    finally:
        con.close()


def test_band_generation_never_overfills(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # a batch fills the newest generation to its capacity (past it the filter
    # would double) and the articles that do not fit begin the next; a single
    # article over the capacity fills one alone
    monkeypatch.setattr(store_mod, "BAND_GENERATION_ROWS", 1000)
    rng = np.random.default_rng(3)
    with Index.open(tmp_path / "g.db", CONFIG, create=True) as idx:
        pk = 1
        for n in (600, 300, 300, 1500, 100):
            keys = rng.integers(0, 2**63, size=n, dtype=np.int64).view(np.uint64)
            with idx.transaction(write=True):
                idx.add_band_keys(keys, np.full(n, pk, dtype=np.int64))
            pk += 1
        # one batch of three articles: two fill the newest generation, the third
        # begins the next (an article's rows stay together)
        keys = rng.integers(0, 2**63, size=1200, dtype=np.int64).view(np.uint64)
        with idx.transaction(write=True):
            idx.add_band_keys(keys, np.repeat(np.array([8, 6, 7]), 400))
        gens = idx.execute("SELECT gen, first_article, rows, length(bloom) FROM band_gens "
                           "ORDER BY gen").fetchall()
        members = idx.bucket_members(keys)
    assert [(g, first, rows) for g, first, rows, _ in gens] == \
        [(0, 1, 900), (1, 3, 300), (2, 4, 1500), (3, 5, 900), (4, 8, 400)]
    # filters: 16 bits a row rounded up to a power of two words, at least 128
    assert [size // 8 for *_, size in gens] == [256, 128, 512, 256, 128]
    assert sorted(zip(members[0].tolist(), members[1].tolist())) == \
        sorted(zip(keys.tolist(), np.repeat([8, 6, 7], 400).tolist()))
    with sqlite3.connect(tmp_path / "g.db") as con:
        held = dict(con.execute("SELECT article, MIN(gen) FROM band_keys GROUP BY article "
                                "HAVING MIN(gen) = MAX(gen)").fetchall())
    assert held == {1: 0, 2: 0, 3: 1, 4: 2, 5: 3, 6: 3, 7: 3, 8: 4}


def test_version_2_file_is_upgraded_to_band_generations(
        tmp_path: Path, planted: list[Article], caplog: pytest.LogCaptureFixture) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for db in (old, new):
        index_in_batches(db, planted[:12], 3)
    rows = len(band_rows(old))
    downgrade_to_v2(old)
    with caplog.at_level("WARNING", logger="dedup.index"), Index.open(old, CONFIG) as idx:
        assert idx.meta()["schema_version"] == "5"
    assert [r.getMessage() for r in caplog.records] == [
        f"{old}: upgrading the index from schema version 2 to 5 (once; it rewrites the tables "
        "that changed)"]
    assert band_generations(old) == [(0, rows, rows)]
    assert index_state(old) == index_state(new)
    for db in (old, new):
        with Index.open(db, CONFIG) as idx:
            add(idx, planted[12:], CONFIG)
    assert index_state(old) == index_state(new)


def test_band_keys_in_many_generations_find_the_same(tmp_path: Path, planted: list[Article],
                                                     planted_report: Report,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    index_in_batches(one, planted, 10)
    monkeypatch.setattr(store_mod, "BAND_GENERATION_ROWS", 200)
    index_in_batches(many, planted, 10)
    gens = band_generations(many)
    assert len(gens) > 3 and band_generations(one)[0][0] == 0 and len(band_generations(one)) == 1
    assert all(rows == held for _, rows, held in gens)  # nothing removed yet
    assert index_state(many) == index_state(one)
    assert_agrees_with_scan(many, planted_report)
    # an update removes the old text's keys from the generation that holds them
    first = planted[0]
    changed = Article(id=first.id, text=planted[1].text, title=first.title)
    for db in (one, many):
        with Index.open(db, CONFIG) as idx:
            assert add(idx, [changed], CONFIG).stats["updated"] == 1
    assert index_state(many) == index_state(one)
    assert band_rows(many) == band_rows(one)


def test_failed_upgrade_changes_nothing(tmp_path: Path, planted: list[Article],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "old.db"
    index_in_batches(db, planted[:6], 1)
    downgrade_to_v1(db)

    def broken(con: sqlite3.Connection) -> None:
        con.execute("DROP TABLE doc_keywords")
        raise IndexError_("disk on fire")

    monkeypatch.setitem(store_mod._MIGRATIONS, 1, broken)
    with pytest.raises(IndexError_, match="disk on fire"):
        Index.open(db, CONFIG)
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    assert con.execute("SELECT COUNT(*) FROM doc_keywords").fetchone()[0] > 0
    con.close()


@pytest.mark.parametrize(("content", "message"), [
    (b"this is not a database at all" * 100, "not a usable index"),
    (None, "not a dedup index"),
])
def test_files_that_are_not_an_index_are_refused(tmp_path: Path, content: bytes | None,
                                                 message: str) -> None:
    db = tmp_path / "other.db"
    if content is None:
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
    else:
        db.write_bytes(content)
    with pytest.raises(IndexError_, match=message):
        Index.open(db, CONFIG)


def test_missing_index_is_not_created_for_reading(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    with pytest.raises(IndexError_, match="no index there"):
        Index.open(db)
    assert not db.exists()


# --------------------------------------------------------------------------- CLI


runner = CliRunner()


def write_corpus(root: Path, articles: Sequence[Article]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for a in articles:
        (root / f"{a.id}.txt").write_text(a.text, encoding="utf-8")
    return root


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_index_keeps_the_settings_it_was_built_with(tmp_path: Path,
                                                       planted: list[Article]) -> None:
    # an index made under other defaults (here three-sentence passage windows)
    # goes on with them when later commands do not name them
    db = tmp_path / "old.db"
    wires = write_corpus(tmp_path / "wires", [a for a in planted if a.id.endswith("-wire")])
    copies = write_corpus(tmp_path / "copies", [a for a in planted
                                                 if a.id in ("cars-local", "other-2")])
    first = runner.invoke(index_app, ["add", "--db", str(db), str(wires), "--workers", "1",
                                      "--set", "tfidf.passage_sentences=3"])
    assert first.exit_code == 0, first.output
    later = runner.invoke(index_app, ["add", "--db", str(db), str(copies), "--workers", "1"])
    assert later.exit_code == 0, later.output
    found = {r["id"]: [m["id"] for m in r["matches"]] for r in jsonl(later.stdout)}
    assert found == {"cars-local.txt": ["cars-wire.txt"], "other-2.txt": []}
    with Index.open(db) as index:
        assert index.settings["tfidf.passage_sentences"] == "3"
    clash = runner.invoke(index_app, ["query", "--db", str(db), str(copies),
                                      "--set", "tfidf.passage_sentences=2"])
    assert clash.exit_code == 2
    assert "tfidf.passage_sentences=3 (now 2)" in clash.stderr


def test_cli_add_query_stats_export(tmp_path: Path, planted: list[Article]) -> None:
    db = tmp_path / "crawl.db"
    wires = write_corpus(tmp_path / "wires", [a for a in planted if a.id.endswith("-wire")])
    copies = write_corpus(tmp_path / "copies", [a for a in planted
                                                 if a.id in ("cars-local", "other-2")])
    first = runner.invoke(index_app, ["add", "--db", str(db), str(wires), "--workers", "1"])
    assert first.exit_code == 0, first.output
    other = runner.invoke(index_app, ["query", "--db", str(db), str(wires),
                                      "--set", "sketch.num_perm=64"])
    assert other.exit_code == 2
    assert "built with other settings than now: sketch.num_perm=128 (now 64)" in other.stderr
    assert [r["id"] for r in jsonl(first.stdout)] == ["cars-wire.txt", "fire-wire.txt",
                                                      "vote-wire.txt"]
    assert first.stderr == ("index add: 3 articles (3 new, 0 updated, 0 unchanged); "
                            "0 reuse indexed articles; 0 skipped\n")

    asked = runner.invoke(index_app, ["query", "--db", str(db), str(copies), "--fail-on-match",
                                      "--workers", "1"])
    assert asked.exit_code == 1
    rows = {r["id"]: r for r in jsonl(asked.stdout)}
    assert rows["other-2.txt"]["matches"] == []
    assert rows["other-2.txt"]["cluster"] is None
    match = rows["cars-local.txt"]["matches"][0]
    assert set(match) == {"id", "score", "reuse_a_in_b", "reuse_b_in_a"}
    assert match["id"] == "cars-wire.txt"
    assert rows["cars-local.txt"]["source"] == "cars-wire.txt"
    assert set(rows["cars-local.txt"]) == {"id", "url", "published", "status", "matches",
                                             "cluster", "source"}

    out = tmp_path / "report.jsonl"
    added = runner.invoke(index_app, ["add", "--db", str(db), str(copies), "-o", str(out),
                                      "--fail-on-match", "--workers", "1"])
    assert added.exit_code == 1
    assert added.stdout == ""
    assert jsonl(out.read_text()) == jsonl(asked.stdout)

    shown = runner.invoke(index_app, ["stats", "--db", str(db), "--format", "json"])
    assert shown.exit_code == 0
    info = json.loads(shown.stdout)
    assert info["articles"] == 5 and info["clusters"] == 1 and info["schema_version"] == 5
    assert info["bytes_per_article"] == round(info["file_bytes"] / 5)
    assert info["band_generations"] == 1 and info["band_rows_added"] == len(band_rows(db))
    text = runner.invoke(index_app, ["stats", "--db", str(db)])
    assert "articles:           5\n" in text.stdout
    assert "schema version:     5\n" in text.stdout
    assert f"band keys added:    {info['band_rows_added']:,} in 1 generation(s)\n" in text.stdout

    exported = runner.invoke(index_app, ["export", "--db", str(db), "--format", "jsonl"])
    assert exported.exit_code == 0
    records = jsonl(exported.stdout)
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    local = {r["id"]: r for r in records}["cars-local.txt"]
    assert local["cluster"] == 1 and local["cluster_source"] == "cars-wire.txt"
    assert runner.invoke(index_app, ["export", "--db", str(db)]).stdout == exported.stdout


def test_cli_prune(tmp_path: Path) -> None:
    db = tmp_path / "crawl.db"
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "old", "text": _story(FIRE), "published": "2001-01-01"}) + "\n"
        + json.dumps({"id": "new", "text": _story(CARS)}) + "\n", encoding="utf-8")
    assert runner.invoke(index_app, ["add", "--db", str(db), str(src),
                                     "--workers", "1"]).exit_code == 0
    result = runner.invoke(index_app, ["prune", "--db", str(db), "--older-than", "52w"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("pruned 1 articles older than 52w (before ")
    assert result.stdout.endswith("; 1 remain; 0 clusters changed\n")
    bad = runner.invoke(index_app, ["prune", "--db", str(db), "--older-than", "soon"])
    assert bad.exit_code == 2
    assert bad.stderr == ("error: invalid duration 'soon': expected a number followed by "
                          "h, d or w (e.g. 30d)\n")


@pytest.mark.parametrize(("args", "message"), [
    (["add", "--db", "{db}", "{tmp}/missing"], "error: {tmp}/missing: no such file or "
                                               "directory\n"),
    (["query", "--db", "{tmp}/nothing.db", "{tmp}"], "error: {tmp}/nothing.db: no index there "
                                                     "(create one with 'dedup index add')\n"),
    (["stats", "--db", "{tmp}/garbage.db"], "error: {tmp}/garbage.db: not a usable index "
                                            "(file is not a database)\n"),
    (["add", "--db", "{tmp}/nodir/x.db", "{tmp}"], "error: {tmp}/nodir/x.db: directory "
                                                   "{tmp}/nodir does not exist\n"),
])
def test_cli_usage_and_input_errors(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "garbage.db").write_bytes(b"garbage" * 1000)
    fill = {"db": str(tmp_path / "crawl.db"), "tmp": str(tmp_path)}
    result = runner.invoke(index_app, [a.format(**fill) for a in args])
    assert result.exit_code == 2
    assert result.stderr == message.format(**fill)
    assert result.stdout == ""


def test_cli_settings_mismatch_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "crawl.db"
    Index.open(db, CONFIG.with_overrides(**{"sketch.shingle_size": 4}), create=True).close()
    # the file's value is taken when not named; naming another is refused
    assert runner.invoke(index_app, ["query", "--db", str(db), str(ALASKA)]).exit_code == 0
    result = runner.invoke(index_app, ["query", "--db", str(db), str(ALASKA),
                                       "--set", "sketch.shingle_size=5"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "sketch.shingle_size=4 (now 5)" in result.stderr


# --------------------------------------------------------------------------- bad input


def warc_response(writer: WARCWriter, uri: str, html: str, date: str) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                               protocol="HTTP/1.1")
    record = writer.create_warc_record(uri, "response", payload=BytesIO(html.encode()),
                                       http_headers=headers,
                                       warc_headers_dict={"WARC-Date": date})
    writer.write_record(record)


def page(title: str, paragraphs: Sequence[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title></head><body><nav>Home | World</nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>(c) News</footer></body></html>")


def test_bad_inputs_are_skipped_and_the_batch_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "batch"
    root.mkdir()
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    warc_response(writer, "https://news.example/fire", page("Fire", FIRE),
                  "2025-06-01T07:00:00Z")
    warc_response(writer, "https://news.example/cars", page("Cars", CARS),
                  "2025-06-02T07:00:00Z")
    data = buffer.getvalue()
    (root / "good.warc.gz").write_bytes(data)
    # a second archive: one good record, then a record cut short
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    warc_response(writer, "https://news.example/vote", page("Vote", VOTE),
                  "2025-06-03T07:00:00Z")
    warc_response(writer, "https://news.example/broken", page("Broken", UNRELATED[0]),
                  "2025-06-03T08:00:00Z")
    (root / "cut.warc").write_bytes(buffer.getvalue()[:-200])
    (root / "latin1.txt").write_bytes("Caf\xe9 au lait, cr\xe8me br\xfbl\xe9e.".encode("latin-1"))
    (root / "huge.txt").write_text("word " * 500, encoding="utf-8")
    (root / "fine.txt").write_text(_story(UNRELATED[2]), encoding="utf-8")
    db = tmp_path / "crawl.db"
    result = runner.invoke(index_app, ["add", "--db", str(db), str(root), "--max-chars", "2000",
                                       "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[-1] == ("index add: 4 articles (4 new, 0 updated, 0 unchanged); "
                         "0 reuse indexed articles; 3 skipped")
    skips = lines[:-1]
    assert len(skips) == 3
    assert skips[0].startswith(f"{root}/cut.warc:record 2 (https://news.example/broken): "
                               "broken WARC record: truncated")
    assert skips[1] == f"{root}/huge.txt: 2500 characters, over --max-chars 2000"
    assert skips[2] == f"{root}/latin1.txt: not valid UTF-8 (byte 0xe9 at offset 3)"
    rows = {r["id"]: r for r in jsonl(result.stdout)}
    assert set(rows) == {"https://news.example/fire", "https://news.example/cars",
                         "https://news.example/vote", "fine.txt"}
    assert rows["https://news.example/cars"]["url"] == "https://news.example/cars"
    assert rows["https://news.example/cars"]["published"] == "2025-06-02T07:00:00Z"


# --------------------------------------------------------------------------- real processes


def cli_command(tmp_path: Path) -> list[str]:
    """``python -m dedup.cli.main index`` once main mounts the sub-app; until then a
    runner script calling the typer sub-app."""
    main = REPO / "dedup" / "cli" / "main.py"
    if main.exists() and "index_app" in main.read_text(encoding="utf-8") \
            and "__main__" in main.read_text(encoding="utf-8"):
        return [sys.executable, "-m", "dedup.cli.main", "index"]
    script = tmp_path / "run_index.py"
    script.write_text("import sys\nfrom typer.main import get_command\n"
                      "from dedup.cli.index_cmd import index_app\n"
                      "get_command(index_app)(sys.argv[1:], prog_name='dedup index')\n",
                      encoding="utf-8")
    return [sys.executable, str(script)]


def start(cmd: list[str], args: list[str], sleep: float | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop(SLEEP_ENV, None)
    if sleep is not None:
        env[SLEEP_ENV] = str(sleep)
    return subprocess.Popen(cmd + args + ["--workers", "1"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_pause(proc: subprocess.Popen[str]) -> str:
    """Read stderr until the process says it holds the open transaction."""
    assert proc.stderr is not None
    seen = ""
    while True:
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"the process ended before pausing: {seen}")
        seen += line
        if SLEEP_ENV in line:
            return seen


def batches(tmp_path: Path, articles: Sequence[Article], n: int) -> list[Path]:
    size = -(-len(articles) // n)
    return [write_corpus(tmp_path / f"batch{k}", articles[lo : lo + size])
            for k, lo in enumerate(range(0, len(articles), size))]


def ids_in(db: Path) -> set[str]:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        return {r[0] for r in con.execute("SELECT id FROM articles")}
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_mid_batch_then_rerun(tmp_path: Path, planted: list[Article]) -> None:
    cmd = cli_command(tmp_path)
    db = tmp_path / "crawl.db"
    one, two = batches(tmp_path, planted, 2)
    done = start(cmd, ["add", "--db", str(db), str(one)])
    assert done.wait(timeout=120) == 0, done.communicate()
    first_ids = ids_in(db)
    assert len(first_ids) == len(list(one.iterdir()))

    victim = start(cmd, ["add", "--db", str(db), str(two)], sleep=60)
    wait_for_pause(victim)  # inside the open transaction, everything written
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL
    victim.communicate()
    assert ids_in(db) == first_ids  # nothing of the killed batch

    rerun = start(cmd, ["add", "--db", str(db), str(two)])
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert ids_in(db) == first_ids | {p.name for p in two.iterdir()}
    assert {r["status"] for r in jsonl(out)} == {"new"}


@pytest.mark.slow
def test_two_writers_at_once(tmp_path: Path, planted: list[Article]) -> None:
    cmd = cli_command(tmp_path)
    db = tmp_path / "crawl.db"
    wires = [a for a in planted if a.id.endswith("-wire")]
    copies = [a for a in planted if a.id.endswith("-verbatim")]
    first_dir = write_corpus(tmp_path / "wires", wires)
    second_dir = write_corpus(tmp_path / "copies", copies)
    first = start(cmd, ["add", "--db", str(db), str(first_dir)], sleep=2)
    wait_for_pause(first)  # it holds the write lock
    second = start(cmd, ["add", "--db", str(db), str(second_dir), "--fail-on-match"])
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 1, err2  # it waited, then saw the first batch
    assert ids_in(db) == {f"{a.id}.txt" for a in wires + copies}
    rows = {r["id"]: r for r in jsonl(out2)}
    for a in copies:
        wire_id = a.id.replace("-verbatim", "-wire") + ".txt"
        assert [m["id"] for m in rows[f"{a.id}.txt"]["matches"]] == [wire_id]


@pytest.mark.slow
def test_lock_wait_expires_with_a_clear_message(tmp_path: Path,
                                                planted: list[Article]) -> None:
    cmd = cli_command(tmp_path)
    db = tmp_path / "crawl.db"
    one, two = batches(tmp_path, planted[:6], 2)
    holder = start(cmd, ["add", "--db", str(db), str(one)], sleep=20)
    wait_for_pause(holder)
    waiter = start(cmd, ["add", "--db", str(db), str(two), "--lock-timeout", "0.5"])
    out, err = waiter.communicate(timeout=60)
    holder.kill()
    holder.communicate()
    assert waiter.returncode == 2
    assert err == (f"error: {db}: locked by another process; gave up after waiting 0.5 s "
                   "(see --lock-timeout)\n")
    assert out == ""
