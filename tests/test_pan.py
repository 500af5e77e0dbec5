"""Tests of the PAN benchmark: measures, XML I/O and the corpus runner."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import pan
from benchmarks.pan import (
    Annotation,
    PanError,
    granularity,
    macro_precision,
    macro_recall,
    micro_recall_precision,
    plagdet,
    score,
)
from dedup.model import Match, Passage

REPO = Path(__file__).resolve().parent.parent


def ann(
    t_off: int,
    t_len: int,
    s_off: int,
    s_len: int,
    susp: str = "suspicious-document00001.txt",
    src: str = "source-document00001.txt",
) -> Annotation:
    return Annotation(susp, t_off, t_len, src, s_off, s_len)


CASE = ann(0, 100, 0, 100)


# --------------------------------------------------------------------------- measures


def test_perfect_detection() -> None:
    s = score([CASE], [CASE])
    assert (s.recall, s.precision, s.granularity, s.plagdet) == (1.0, 1.0, 1.0, 1.0)
    assert (s.micro_recall, s.micro_precision) == (1.0, 1.0)


def test_detection_covering_half_a_case() -> None:
    # The detection covers 50 of 100 chars on each side: recall (50 + 50) / 200 = 0.5.
    # All of its 100 chars lie inside the case: precision 1. F1 = 2*0.5*1/1.5 = 2/3,
    # granularity 1 so plagdet = F1 / log2(2) = 2/3.
    s = score([CASE], [ann(0, 50, 0, 50)])
    assert s.recall == pytest.approx(0.5)
    assert s.precision == pytest.approx(1.0)
    assert s.granularity == pytest.approx(1.0)
    assert s.plagdet == pytest.approx(2 / 3)
    assert (s.micro_recall, s.micro_precision) == pytest.approx((0.5, 1.0))


def test_detection_covering_half_of_one_side_only() -> None:
    # Suspicious side fully covered (100), source side half (50): recall 150 / 200.
    # The detection's 100 + 50 chars are all in the case: precision 1.
    s = score([CASE], [ann(0, 100, 50, 50)])
    assert s.recall == pytest.approx(0.75)
    assert s.precision == pytest.approx(1.0)


def test_case_split_into_two_detections() -> None:
    # Two halves cover the case fully: recall 1, precision 1, but two detections
    # for one case: granularity 2 and plagdet = 1 / log2(3) = 0.6309.
    halves = [ann(0, 50, 0, 50), ann(50, 50, 50, 50)]
    s = score([CASE], halves)
    assert s.recall == pytest.approx(1.0)
    assert s.precision == pytest.approx(1.0)
    assert s.granularity == pytest.approx(2.0)
    assert s.plagdet == pytest.approx(1 / math.log2(3))
    assert s.plagdet == pytest.approx(0.6309298)


def test_detection_without_case() -> None:
    # One exact detection (precision 1) and one far away (precision 0):
    # macro precision (1 + 0) / 2 = 0.5, recall 1, granularity 1,
    # plagdet = 2*1*0.5/1.5 = 2/3. Micro precision: 200 true chars of 400 detected.
    stray = ann(500, 100, 500, 100)
    s = score([CASE], [CASE, stray])
    assert s.recall == pytest.approx(1.0)
    assert s.precision == pytest.approx(0.5)
    assert s.granularity == pytest.approx(1.0)
    assert s.plagdet == pytest.approx(2 / 3)
    assert s.micro_precision == pytest.approx(0.5)


def test_no_detections() -> None:
    # Cases but no detection: recall 0 and precision 0 (official convention for one
    # empty set), granularity 1, plagdet 0.
    s = score([CASE, ann(200, 10, 200, 10)], [])
    assert (s.recall, s.precision, s.granularity, s.plagdet) == (0.0, 0.0, 1.0, 0.0)
    assert (s.micro_recall, s.micro_precision) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("cases", "detections", "expected"),
    [
        ([], [], 1.0),  # nothing to find, nothing found: 1 (official)
        ([], [CASE], 0.0),  # a detection where there is no case: 0
        ([CASE], [], 0.0),  # a case that nobody found: 0
    ],
)
def test_empty_set_conventions(
    cases: list[Annotation], detections: list[Annotation], expected: float
) -> None:
    assert macro_recall(cases, detections) == expected
    assert macro_precision(cases, detections) == expected
    assert micro_recall_precision(cases, detections) == (expected, expected)
    assert granularity(cases, detections) == 1.0
    assert score(cases, detections).plagdet == expected


@pytest.mark.parametrize(
    "detection",
    [
        ann(0, 100, 0, 100, src="source-document00002.txt"),  # same offsets, other source
        ann(0, 100, 0, 100, susp="suspicious-document00002.txt"),  # other suspicious doc
        ann(0, 100, 100, 100),  # overlaps in the suspicious doc only (source 100..200)
        ann(100, 100, 0, 100),  # overlaps in the source doc only
    ],
)
def test_detection_that_does_not_detect_the_case(detection: Annotation) -> None:
    # "r detects s" needs the same pair and overlap on both sides: here neither
    # the case (recall 0) nor the detection (precision 0) is matched.
    s = score([CASE], [detection])
    assert (s.recall, s.precision, s.granularity, s.plagdet) == (0.0, 0.0, 1.0, 0.0)
    assert pan.detects(CASE, detection) is False


def test_mixed_cases_and_detections() -> None:
    # Case A = 0..100/0..100, case B = 100..200/100..200 (same pair).
    # Detection X = 0..200/0..200 detects both; Y = 100..200/100..200 detects B.
    # Recall: A fully covered by X, B by X and Y -> (1 + 1) / 2 = 1.
    # Precision: X's 400 chars all in A or B -> 1; Y inside B -> 1.
    # Granularity: A has 1 detection, B has 2 -> 3 / 2 = 1.5.
    case_b = ann(100, 100, 100, 100)
    x, y = ann(0, 200, 0, 200), case_b
    s = score([CASE, case_b], [x, y])
    assert s.recall == pytest.approx(1.0)
    assert s.precision == pytest.approx(1.0)
    assert s.granularity == pytest.approx(1.5)
    assert s.plagdet == pytest.approx(1 / math.log2(2.5))


def test_precision_averages_over_detections() -> None:
    # Official unit test values: detection 100..200/100..200 misses the case
    # 0..100/0..100 (precision 0); detection 0..200/0..200 has 100 + 100 of its
    # 400 chars in the case (precision 0.5). Mean: 0.25. Recall: the wide
    # detection covers the whole case, so 1.
    assert macro_precision([CASE], [ann(100, 100, 100, 100), ann(0, 200, 0, 200)]) == (
        pytest.approx(0.25)
    )
    assert macro_recall([CASE], [ann(100, 100, 100, 100), ann(0, 200, 0, 200)]) == (
        pytest.approx(1.0)
    )


def test_overlapping_detections_count_characters_once() -> None:
    # Two detections 0..60 and 40..100 (both sides) cover the case once each char:
    # recall (100 + 100) / 200 = 1, granularity 2.
    s = score([CASE], [ann(0, 60, 0, 60), ann(40, 60, 40, 60)])
    assert s.recall == pytest.approx(1.0)
    assert s.granularity == pytest.approx(2.0)


def test_duplicates_count_once() -> None:
    # The official script reads annotations into sets: a repeated detection is one.
    once = score([CASE], [ann(0, 50, 0, 50)])
    twice = score([CASE, CASE], [ann(0, 50, 0, 50), ann(0, 50, 0, 50)])
    assert twice == once
    assert twice.granularity == 1.0


def test_micro_pools_characters() -> None:
    # Case 1 (100 + 100 chars) found on 50 + 50; case 2 (10 + 10) found fully.
    # Micro recall (100 + 20) / (200 + 20) = 120 / 220; macro (0.5 + 1) / 2 = 0.75.
    case2 = ann(500, 10, 500, 10)
    s = score([CASE, case2], [ann(0, 50, 0, 50), case2])
    assert s.micro_recall == pytest.approx(120 / 220)
    assert s.recall == pytest.approx(0.75)
    assert s.micro_precision == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("recall", "precision", "gran", "expected"),
    [
        (1.0, 1.0, 1.0, 1.0),
        (0.5, 1.0, 1.0, 2 / 3),  # F1 = 2*0.5/1.5
        (1.0, 1.0, 2.0, 0.63092975),  # 1 / log2(3)
        (0.25, 0.75, 2.0, 0.23659865),  # F1 = 0.375 / 1.0, / log2(3)
        (0.0, 0.0, 1.0, 0.0),
        (1.0, 0.0, 1.0, 0.0),  # F1 = 0
        (1.0, 1.0, 0.5, 0.0),  # granularity < 1 is out of range
        (-1.0, 1.0, 1.0, 0.0),
    ],
)
def test_plagdet(recall: float, precision: float, gran: float, expected: float) -> None:
    assert plagdet(recall, precision, gran) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 10, 0, 10), "non-negative"),
        ((0, -10, 0, 10), "non-negative"),
        ((0, 0, 5, 0), "at least one character"),
    ],
)
def test_annotation_validation(args: tuple[int, int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ann(*args)


# --------------------------------------------------------------------------- XML


GOLD_XML = """<document  reference="suspicious-document00008.txt">
\t<feature  name="about" authors="DUC2001" title="news" language="en" />
\t<feature  name="md5" value="d01ba6b61168d3fe1a11481772f3b1f8" language="en" />
\t<feature  name="plagiarism" type="artificial" obfuscation="summary" this_language="en"
 this_offset="3822" this_length="593" source_reference="source-document00305.txt"
 source_language="en" source_offset="0" source_length="5861" />
<feature name="plagiarism" obfuscation="none" source_length="698" source_offset="1300"
 source_reference="source-document00305.txt" this_length="698" this_offset="3593" />
</document>
"""


def test_read_gold_xml(tmp_path: Path) -> None:
    path = tmp_path / "suspicious-document00008-source-document00305.xml"
    path.write_text(GOLD_XML, encoding="utf-8")
    susp, src = "suspicious-document00008.txt", "source-document00305.txt"
    assert pan.read_annotations(path) == [
        Annotation(susp, 3822, 593, src, 0, 5861),
        Annotation(susp, 3593, 698, src, 1300, 698),
    ]
    # The detection tag is another name: none of those here.
    assert pan.read_annotations(path, name="detected-plagiarism") == []


def test_read_gold_xml_without_cases(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_text('<document reference="suspicious-document00017.txt">\n</document>\n')
    assert pan.read_annotations(path) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<document reference='x.txt'>", "cannot read PAN XML"),
        (
            "<document reference='x.txt'><feature name='plagiarism' this_offset='1'"
            " this_length='2' source_offset='0' source_length='3'/></document>",
            "lacks attribute 'source_reference'",
        ),
        (
            "<document reference='x.txt'><feature name='plagiarism' this_offset='a'"
            " this_length='2' source_reference='y.txt' source_offset='0' source_length='3'/>"
            "</document>",
            "bad feature",
        ),
    ],
)
def test_read_bad_xml(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PanError, match=message):
        pan.read_annotations(path)


def test_detection_xml_round_trip(tmp_path: Path) -> None:
    susp, src = "suspicious-document00005.txt", "source-document01090.txt"
    detections = [
        Annotation(susp, 3593, 698, src, 1300, 698),
        Annotation(susp, 10, 5, src, 0, 7),
    ]
    path = pan.write_detections(tmp_path / "level", susp, src, detections)
    assert path == tmp_path / "level" / "suspicious-document00005-source-document01090.xml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<document reference="suspicious-document00005.txt">\n')
    assert text.count('<feature name="detected-plagiarism"') == 2
    assert pan.read_annotations(path, name="detected-plagiarism") == detections
    assert pan.read_annotations(path, name="plagiarism") == []


def test_write_no_detections(tmp_path: Path) -> None:
    path = pan.write_detections(tmp_path, "s.txt", "r.txt", [])
    assert path.name == "s-r.xml"
    assert pan.read_annotations(path, name="detected-plagiarism") == []


def test_spans_to_detections() -> None:
    dets = pan.spans_to_detections("s.txt", "r.txt", [(10, 20, 5, 5), (3, 3, 7, 7), (0, 4, 1, 9)])
    # The passage empty on both sides is dropped; one empty side is kept.
    assert dets == [
        Annotation("s.txt", 10, 10, "r.txt", 5, 0),
        Annotation("s.txt", 0, 4, "r.txt", 1, 8),
    ]
    with pytest.raises(PanError, match="bad passage"):
        pan.spans_to_detections("s.txt", "r.txt", [(20, 10, 0, 5)])


# --------------------------------------------------------------------------- runner

TEXT_LENGTH = 1000


def fake_detect(susp_text: str, src_text: str) -> Match | None:
    """Reads the passages to return from the suspicious text's first line:
    ``SPANS a_start a_end b_start b_end; ...`` (``SPANS`` alone: nothing)."""
    header = susp_text.split("\n", 1)[0]
    if header == "NONE":
        return None
    spans = [[int(n) for n in s.split()] for s in header.removeprefix("SPANS").split(";")]
    passages = tuple(Passage(a0, a1, b0, b1, 1.0) for a0, a1, b0, b1 in filter(None, spans))
    return Match("a", "b", 1.0, 1.0, 1.0, 0.0, 0.0, passages)


def failing_detect(susp_text: str, src_text: str) -> Match:
    raise RuntimeError("boom")


def _pad(header: str) -> str:
    return (header + "\n" + "lorem ipsum " * 200)[:TEXT_LENGTH]


def _gold(susp: str, src: str, cases: list[tuple[int, int, int, int]]) -> str:
    lines = [f'<document reference="{susp}">', '<feature name="about" title="t" />']
    for t_off, t_len, s_off, s_len in cases:
        lines.append(
            f'<feature name="plagiarism" obfuscation="none" this_offset="{t_off}"'
            f' this_length="{t_len}" source_reference="{src}" source_offset="{s_off}"'
            f' source_length="{s_len}" />'
        )
    return "\n".join(lines + ["</document>"]) + "\n"


# (level, pair id, detector header, gold cases). Every pair has its own documents.
TINY = [
    ("01-none", "a", "SPANS", []),  # negative, nothing found: TN
    ("01-none", "b", "SPANS 0 100 0 100", []),  # negative, found: FP, a stray detection
    ("02-copy", "c", "SPANS 100 300 0 200", [(100, 200, 0, 200)]),  # exact: TP
    ("02-copy", "d", "SPANS 0 200 0 200; 200 300 200 300", [(0, 400, 0, 400)]),  # split: TP
    ("02-copy", "e", "NONE", [(500, 100, 500, 100)]),  # missed: FN
    ("02-copy", "f", "SPANS 0 50 0 50", []),  # unannotated: left out entirely
]


def _names(pair_id: str) -> tuple[str, str]:
    number = "abcdef".index(pair_id) + 1
    return f"suspicious-document{number:05d}.txt", f"source-document{number:05d}.txt"


@pytest.fixture()
def tiny_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for side in ("src", "susp", "notes"):
        (root / side).mkdir(parents=True)
    pairs: dict[str, list[str]] = {}
    for level, pair_id, header, cases in TINY:
        susp, src = _names(pair_id)
        (root / "susp" / susp).write_text(_pad(header), encoding="utf-8")
        (root / "src" / src).write_text(_pad("source"), encoding="utf-8")
        (root / level).mkdir(exist_ok=True)
        (root / level / pan.pair_file_name(susp, src)).write_text(
            _gold(susp, src, cases), encoding="utf-8"
        )
        pairs.setdefault(level, []).append(f"{susp} {src}")
    for level, lines in pairs.items():
        (root / level / "pairs").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# Hand computation for TINY.
# 02-copy, scored pairs c, d, e (f is left out):
#   case recall c = 1; d = (200+100 + 200+100) / 800 = 0.75; e = 0 -> recall 1.75 / 3
#   precision: c's detection and d's two all lie inside their cases -> 1
#   granularity: c has 1 detection, d has 2, e is not detected -> 3 / 2 = 1.5
#   plagdet = F1 / log2(2.5), F1 = 2 * (7/12) * 1 / (7/12 + 1) = 14 / 19
#   micro: case chars 400 + 800 + 200 = 1400, found 400 + 600 -> recall 1000 / 1400,
#   detected chars 400 + 600 = 1000 all true -> precision 1
#   pairs: TP c, d; FN e -> precision 1, recall 2 / 3
# 01-none: no case, b's detection -> recall 0, precision 0, plagdet 0; FP b, TN a.
# overall: b's detection joins: precision (1 + 1 + 1 + 0) / 4 = 0.75, recall 7/12,
#   F1 = 2 * (7/12) * (3/4) / (16/12) = 21 / 32; micro precision 1000 / 1200;
#   pairs TP 2, FP 1, FN 1, TN 1 -> precision 2/3, recall 2/3.
PLAGDET_02 = (14 / 19) / math.log2(2.5)
PLAGDET_ALL = (21 / 32) / math.log2(2.5)


def _check_tiny(result: pan.BenchResult) -> None:
    none, copy = result.levels
    assert (none.name, copy.name) == ("01-none", "02-copy")

    assert (none.pairs, none.left_out, none.cases, none.detections) == (2, 0, 0, 1)
    assert (none.scores.recall, none.scores.precision, none.scores.plagdet) == (0.0, 0.0, 0.0)
    assert none.pair_counts == pan.PairCounts(tp=0, fp=1, fn=0, tn=1)
    assert none.pair_counts.precision == 0.0
    assert none.pair_counts.recall is None

    assert (copy.pairs, copy.left_out, copy.cases, copy.detections) == (4, 1, 3, 3)
    assert copy.scores.recall == pytest.approx(1.75 / 3)
    assert copy.scores.precision == pytest.approx(1.0)
    assert copy.scores.granularity == pytest.approx(1.5)
    assert copy.scores.plagdet == pytest.approx(PLAGDET_02)
    assert copy.scores.micro_recall == pytest.approx(1000 / 1400)
    assert copy.scores.micro_precision == pytest.approx(1.0)
    assert copy.pair_counts == pan.PairCounts(tp=2, fp=0, fn=1, tn=0)
    assert copy.pair_counts.precision == pytest.approx(1.0)
    assert copy.pair_counts.recall == pytest.approx(2 / 3)

    total = result.overall
    assert (total.pairs, total.left_out, total.cases, total.detections) == (6, 1, 3, 4)
    assert total.scores.recall == pytest.approx(7 / 12)
    assert total.scores.precision == pytest.approx(0.75)
    assert total.scores.granularity == pytest.approx(1.5)
    assert total.scores.plagdet == pytest.approx(PLAGDET_ALL)
    assert total.scores.plagdet == pytest.approx(0.4964338)
    assert total.scores.micro_precision == pytest.approx(1000 / 1200)
    assert total.pair_counts == pan.PairCounts(tp=2, fp=1, fn=1, tn=1)
    assert total.pair_counts.precision == pytest.approx(2 / 3)
    assert total.pair_counts.recall == pytest.approx(2 / 3)


def test_discover_levels(tiny_corpus: Path) -> None:
    levels = pan.discover_levels(tiny_corpus)
    # src/, susp/ and notes/ have no pairs file: not levels.
    assert [level.name for level in levels] == ["01-none", "02-copy"]
    assert [level.annotated for level in levels] == [False, True]
    statuses = [levels[1].status(pair) for pair in levels[1].pairs]
    assert statuses == ["positive", "positive", "positive", "unannotated"]
    assert [levels[0].status(pair) for pair in levels[0].pairs] == ["negative", "negative"]


def test_run_exact_figures(tiny_corpus: Path) -> None:
    _check_tiny(pan.run(tiny_corpus, detect=fake_detect, workers=1))


def test_run_in_worker_processes_is_deterministic(tiny_corpus: Path) -> None:
    one = pan.run(tiny_corpus, detect=fake_detect, workers=1)
    two = pan.run(tiny_corpus, detect=fake_detect, workers=2)
    _check_tiny(two)
    assert two.to_dict(timings=False) == {**one.to_dict(timings=False), "workers": 2}
    assert pan.format_table(two).splitlines()[:5] == pan.format_table(one).splitlines()[:5]


def test_detect_pairs_keeps_order_across_chunks(tiny_corpus: Path) -> None:
    pairs = [_names(p) for _, p, _, _ in TINY] * 10  # 60 pairs: several chunks
    one = pan.detect_pairs(tiny_corpus, pairs, fake_detect, workers=1)
    two = pan.detect_pairs(tiny_corpus, pairs, fake_detect, workers=2)
    assert one == two
    assert one[:6] == [
        (),
        ((0, 100, 0, 100),),
        ((100, 300, 0, 200),),
        ((0, 200, 0, 200), (200, 300, 200, 300)),
        (),
        ((0, 50, 0, 50),),
    ]


def test_detector_that_workers_cannot_receive_is_a_clear_error(tiny_corpus: Path) -> None:
    pairs = [_names(p) for _, p, _, _ in TINY] * 10

    def local(a: str, b: str) -> None:  # a closure cannot be pickled
        return None

    with pytest.raises(pan.PanError, match="cannot be sent to worker processes.*--workers 1"):
        pan.detect_pairs(tiny_corpus, pairs, local, workers=2)
    assert pan.detect_pairs(tiny_corpus, pairs, local, workers=1)[0] == ()


def test_run_limit(tiny_corpus: Path) -> None:
    # First pair of each level: a (TN) and c (exact TP). 02-copy stays an
    # annotated level although its first pair alone would not tell.
    result = pan.run(tiny_corpus, detect=fake_detect, workers=1, limit=1)
    assert [level.pairs for level in result.levels] == [1, 1]
    assert result.overall.pair_counts == pan.PairCounts(tp=1, fp=0, fn=0, tn=1)
    assert result.overall.scores.plagdet == pytest.approx(1.0)


def test_main_table_and_out_xml(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    argv = [str(tiny_corpus), "--workers", "1", "--out-xml", str(out_dir)]
    assert pan.main(argv, detect=fake_detect) == 0
    table = capsys.readouterr().out
    assert "| 02-copy" in table
    assert "Left out of all scoring: 1 unannotated pairs" in table
    assert f"{PLAGDET_ALL:.4f}" in table
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.xml"))
    assert len(written) == 6
    d_susp, d_src = _names("d")
    d_file = out_dir / "02-copy" / pan.pair_file_name(d_susp, d_src)
    assert pan.read_annotations(d_file, name="detected-plagiarism") == [
        Annotation(d_susp, 0, 200, d_src, 0, 200),
        Annotation(d_susp, 200, 100, d_src, 200, 100),
    ]


def test_main_json(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pan.main([str(tiny_corpus), "--json", "--workers", "2"], detect=fake_detect) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["left_out"] == 1
    assert data["overall"]["plagdet"] == pytest.approx(PLAGDET_ALL)
    assert data["levels"][0]["pair"] == {
        "tp": 0, "fp": 1, "fn": 0, "tn": 1, "precision": 0.0, "recall": None,
    }  # fmt: skip
    assert data["seconds"] >= 0


@pytest.mark.slow
@pytest.mark.parametrize("entry", [["-m", "benchmarks.pan"], ["benchmarks/pan.py"]])
def test_cli_subprocess(tiny_corpus: Path, entry: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)])}
    argv = [*entry, str(tiny_corpus), "--json", "--workers", "2"]
    argv += ["--detector", "test_pan:fake_detect"]
    done = subprocess.run(
        [sys.executable, *argv], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["overall"]["plagdet"] == pytest.approx(PLAGDET_ALL)
    assert [level["left_out"] for level in data["levels"]] == [0, 1]


def test_main_errors(tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pan.main([str(tmp_path / "missing")], detect=fake_detect) == 2
    assert "expected a corpus directory" in capsys.readouterr().err

    assert pan.main([str(tiny_corpus), "--detector", "no_such_module:x"]) == 2
    assert "cannot import detector 'no_such_module:x'" in capsys.readouterr().err

    assert pan.main([str(tiny_corpus), "--workers", "1"], detect=failing_detect) == 2
    err = capsys.readouterr().err
    assert "detector failed on suspicious-document00001.txt source-document00001.txt" in err
    assert err.count("\n") == 1


def test_missing_gold_file(tiny_corpus: Path) -> None:
    next((tiny_corpus / "02-copy").glob("*.xml")).unlink()
    with pytest.raises(PanError, match="missing gold file"):
        pan.discover_levels(tiny_corpus)


def test_corpus_without_levels(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "susp").mkdir()
    with pytest.raises(PanError, match="found none"):
        pan.discover_levels(tmp_path)


def test_bad_pairs_line(tiny_corpus: Path) -> None:
    (tiny_corpus / "01-none" / "pairs").write_text("only-one-name.txt\n")
    with pytest.raises(PanError, match=r"pairs:1: expected 'SUSPICIOUS SOURCE'"):
        pan.discover_levels(tiny_corpus)


def test_scan_pan_scores_annotated_pairs_and_negatives(tiny_corpus: Path) -> None:
    from benchmarks import scan_pan

    articles, levels = scan_pan.load(tiny_corpus)
    assert len(articles) == 12
    # f carries only an "about" feature in a level with cases: unannotated, left out
    assert levels == {
        "01-none": [("susp/suspicious-document00001.txt", "src/source-document00001.txt"),
                    ("susp/suspicious-document00002.txt", "src/source-document00002.txt")],
        "02-copy": [("susp/suspicious-document00003.txt", "src/source-document00003.txt"),
                    ("susp/suspicious-document00004.txt", "src/source-document00004.txt"),
                    ("susp/suspicious-document00005.txt", "src/source-document00005.txt")],
    }
