"""PAN text-alignment benchmark: the official PAN measures and a corpus runner.

The measures follow the PAN 2013 evaluation script
(``pan-webis-de/pan-code``, ``clef13/text-alignment/pan13-text-alignment-perfmeasures.py``),
which implements Potthast et al., "An Evaluation Framework for Plagiarism
Detection" (COLING 2010). A case or a detection is an :class:`Annotation`: a
character range in a suspicious document and one in a source document. A
detection *detects* a case when both name the same document pair and their
ranges overlap in the suspicious document AND in the source document. The
characters of an annotation are counted on both sides: a case of 100 + 120
characters that is found on 50 + 60 of them has recall 0.5.

As in the official script, cases and detections are sets (duplicates count
once), an empty set of cases with an empty set of detections scores 1, and
either one empty alone scores 0.

The runner walks a corpus of the PAN 2013 layout (``src/``, ``susp/``,
``<level>/pairs``, ``<level>/<susp-stem>-<src-stem>.xml``), runs a detector on
every pair in worker processes, and reports the measures per level and over
all levels together::

    python -m benchmarks.pan CORPUS_DIR [--json] [--out-xml DIR] [--workers N] [--limit N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pickle
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    from dedup.model import Match

if __package__ in (None, ""):  # run as `python benchmarks/pan.py`: make `dedup` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: A detector takes (suspicious text, source text) and returns a match whose
#: passages give ``a_start/a_end`` in the suspicious text and ``b_start/b_end``
#: in the source text; ``None`` means nothing found.
Detector = Callable[[str, str], "Match | None"]

#: The detector the CLI runs unless ``--detector`` names another one.
DEFAULT_DETECTOR = "dedup:compare"

CASE_FEATURE = "plagiarism"
DETECTION_FEATURE = "detected-plagiarism"

#: Largest number of pairs a worker gets at once.
MAX_CHUNK = 64

Span = tuple[int, int, int, int]  # a_start, a_end, b_start, b_end


class PanError(Exception):
    """A corpus, gold file or detector output that cannot be used."""


# --------------------------------------------------------------------------- measures


@dataclass(frozen=True, order=True)
class Annotation:
    """A plagiarism case or detection: ``this_*`` in the suspicious document
    ``this_reference``, ``source_*`` in the source document ``source_reference``.

    Raises:
        ValueError: On a negative offset or length, or when both lengths are 0
            (such an annotation covers no character and cannot be scored).
    """

    this_reference: str
    this_offset: int
    this_length: int
    source_reference: str
    source_offset: int
    source_length: int

    def __post_init__(self) -> None:
        values = (self.this_offset, self.this_length, self.source_offset, self.source_length)
        if min(values) < 0:
            raise ValueError(f"expected non-negative offsets and lengths, got {self}")
        if self.this_length + self.source_length == 0:
            raise ValueError(f"expected at least one character, got {self}")

    @property
    def this_end(self) -> int:
        return self.this_offset + self.this_length

    @property
    def source_end(self) -> int:
        return self.source_offset + self.source_length

    @property
    def pair(self) -> tuple[str, str]:
        return (self.this_reference, self.source_reference)


def detects(case: Annotation, detection: Annotation) -> bool:
    """Whether the two annotations overlap: same document pair, and their
    ranges share a character in the suspicious AND in the source document.
    Symmetric (the official ``is_overlapping``)."""
    return (
        case.pair == detection.pair
        and detection.this_end > case.this_offset
        and detection.this_offset < case.this_end
        and detection.source_end > case.source_offset
        and detection.source_offset < case.source_end
    )


def _union_length(spans: Iterable[tuple[int, int]]) -> int:
    """Characters covered by the half-open ranges, each counted once."""
    total, reach = 0, -1
    for start, end in sorted(spans):
        if end <= reach:
            continue
        start = max(start, reach)
        if end > start:
            total += end - start
        reach = max(reach, end)
    return total


def _covered_chars(case: Annotation, detections: Iterable[Annotation]) -> int:
    """Characters of ``case`` (both sides) covered by the detections that detect it."""
    hits = [det for det in detections if detects(case, det)]
    this_side = _union_length(
        (max(case.this_offset, d.this_offset), min(case.this_end, d.this_end)) for d in hits
    )
    source_side = _union_length(
        (max(case.source_offset, d.source_offset), min(case.source_end, d.source_end)) for d in hits
    )
    return this_side + source_side


def case_recall(case: Annotation, detections: Iterable[Annotation]) -> float:
    """Share of the case's characters (suspicious + source) covered by detections of it."""
    return _covered_chars(case, detections) / (case.this_length + case.source_length)


def _by_pair(annotations: Iterable[Annotation]) -> dict[tuple[str, str], list[Annotation]]:
    index: dict[tuple[str, str], list[Annotation]] = {}
    for ann in annotations:
        index.setdefault(ann.pair, []).append(ann)
    return index


def _unique(annotations: Iterable[Annotation]) -> list[Annotation]:
    return sorted(set(annotations))


def macro_recall(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> float:
    """Mean over the cases of :func:`case_recall` (a case nobody detects counts 0).

    Returns 1.0 when there are neither cases nor detections, 0.0 when only one
    of the two is empty.
    """
    case_set, det_set = _unique(cases), _unique(detections)
    if not case_set and not det_set:
        return 1.0
    if not case_set or not det_set:
        return 0.0
    index = _by_pair(det_set)
    total = math.fsum(case_recall(case, index.get(case.pair, ())) for case in case_set)
    return total / len(case_set)


def macro_precision(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> float:
    """Mean over the detections of the share of their characters covered by cases:
    :func:`macro_recall` with the roles swapped, as in the official script."""
    return macro_recall(detections, cases)


def granularity(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> float:
    """Mean number of detections per detected case; 1.0 when nothing is detected."""
    case_set, det_set = _unique(cases), _unique(detections)
    if not det_set:
        return 1.0
    index = _by_pair(det_set)
    per_case = [sum(detects(case, det) for det in index.get(case.pair, ())) for case in case_set]
    detected = sum(1 for count in per_case if count > 0)
    if detected == 0:
        return 1.0
    return sum(per_case) / detected


def plagdet(recall: float, precision: float, gran: float) -> float:
    """F1 of recall and precision divided by log2(1 + granularity); 0.0 when
    both are 0 or an argument is out of range (the official ``plagdet_score``)."""
    if (recall == 0 and precision == 0) or recall < 0 or precision < 0 or gran < 1:
        return 0.0
    return (2 * recall * precision / (recall + precision)) / math.log2(1 + gran)


def _char_count(annotations: Iterable[Annotation]) -> int:
    """Characters covered per document (suspicious side per suspicious document,
    source side per source document), overlaps counted once."""
    this_spans: dict[str, list[tuple[int, int]]] = {}
    source_spans: dict[str, list[tuple[int, int]]] = {}
    for ann in annotations:
        this_spans.setdefault(ann.this_reference, []).append((ann.this_offset, ann.this_end))
        source_spans.setdefault(ann.source_reference, []).append(
            (ann.source_offset, ann.source_end)
        )
    return sum(_union_length(spans) for spans in this_spans.values()) + sum(
        _union_length(spans) for spans in source_spans.values()
    )


def _clip(case: Annotation, det: Annotation) -> Annotation:
    """The part of ``det`` inside ``case`` (both overlap, so it is not empty)."""
    this_start = max(case.this_offset, det.this_offset)
    source_start = max(case.source_offset, det.source_offset)
    return Annotation(
        case.this_reference,
        this_start,
        min(case.this_end, det.this_end) - this_start,
        case.source_reference,
        source_start,
        min(case.source_end, det.source_end) - source_start,
    )


def micro_recall_precision(
    cases: Iterable[Annotation], detections: Iterable[Annotation]
) -> tuple[float, float]:
    """Micro-averaged (recall, precision): characters of all cases covered by
    detections of them, over all case characters and over all detected
    characters. (1, 1) when both sets are empty, (0, 0) when one is."""
    case_set, det_set = _unique(cases), _unique(detections)
    if not case_set and not det_set:
        return 1.0, 1.0
    if not case_set or not det_set:
        return 0.0, 0.0
    index = _by_pair(det_set)
    true_parts = [
        _clip(case, det)
        for case in case_set
        for det in index.get(case.pair, ())
        if detects(case, det)
    ]
    hit = _char_count(true_parts)
    plagiarized, detected = _char_count(case_set), _char_count(det_set)
    recall = hit / plagiarized if plagiarized else 0.0
    precision = hit / detected if detected else 0.0
    return recall, precision


@dataclass(frozen=True)
class Scores:
    """The character-level PAN measures of one set of cases and detections."""

    recall: float
    precision: float
    granularity: float
    plagdet: float
    micro_recall: float
    micro_precision: float

    def to_dict(self) -> dict[str, float]:
        return {
            "recall": self.recall,
            "precision": self.precision,
            "granularity": self.granularity,
            "plagdet": self.plagdet,
            "micro_recall": self.micro_recall,
            "micro_precision": self.micro_precision,
        }


def score(cases: Iterable[Annotation], detections: Iterable[Annotation]) -> Scores:
    """All measures at once (macro recall and precision feed plagdet, as in PAN)."""
    case_list, det_list = _unique(cases), _unique(detections)
    recall = macro_recall(case_list, det_list)
    precision = macro_precision(case_list, det_list)
    gran = granularity(case_list, det_list)
    micro_r, micro_p = micro_recall_precision(case_list, det_list)
    return Scores(recall, precision, gran, plagdet(recall, precision, gran), micro_r, micro_p)


# --------------------------------------------------------------------------- XML I/O


def read_annotations(path: str | os.PathLike[str], name: str = CASE_FEATURE) -> list[Annotation]:
    """The annotations of one PAN XML file: every ``<feature name=NAME>`` child of
    ``<document reference=...>``, in file order. Features without
    ``this_offset``/``this_length`` are skipped, as the official script does.

    Raises:
        PanError: The file is not well-formed XML, or a feature lacks its
            source attributes or holds a bad number.
    """
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise PanError(f"{os.fspath(path)}: cannot read PAN XML: {exc}") from exc
    reference = root.get("reference")
    if reference is None:
        return []
    out: list[Annotation] = []
    for node in root:
        if node.get("name") != name or "this_offset" not in node.attrib:
            continue
        if "this_length" not in node.attrib:
            continue
        try:
            out.append(
                Annotation(
                    reference,
                    int(node.attrib["this_offset"]),
                    int(node.attrib["this_length"]),
                    node.attrib["source_reference"],
                    int(node.attrib["source_offset"]),
                    int(node.attrib["source_length"]),
                )
            )
        except KeyError as exc:
            raise PanError(
                f"{os.fspath(path)}: feature {name!r} lacks attribute {exc.args[0]!r}"
            ) from exc
        except ValueError as exc:
            raise PanError(f"{os.fspath(path)}: bad feature {name!r}: {exc}") from exc
    return out


def pair_file_name(susp: str, src: str) -> str:
    """``suspicious-document00001.txt``, ``source-document00002.txt`` ->
    ``suspicious-document00001-source-document00002.xml``."""
    return f"{Path(susp).stem}-{Path(src).stem}.xml"


def detections_xml(reference: str, detections: Iterable[Annotation]) -> str:
    """A PAN detection file for the suspicious document ``reference``."""
    lines = [f"<document reference={quoteattr(reference)}>"]
    for det in detections:
        if det.this_reference != reference:
            raise PanError(f"detection of {det.this_reference!r} in the file of {reference!r}")
        lines.append(
            f'<feature name="{DETECTION_FEATURE}"'
            f' this_offset="{det.this_offset}" this_length="{det.this_length}"'
            f" source_reference={quoteattr(det.source_reference)}"
            f' source_offset="{det.source_offset}" source_length="{det.source_length}" />'
        )
    lines.append("</document>")
    return "\n".join(lines) + "\n"


def write_detections(
    directory: str | os.PathLike[str], susp: str, src: str, detections: Iterable[Annotation]
) -> Path:
    """Write the detections of one pair as ``DIRECTORY/<susp-stem>-<src-stem>.xml``
    (written even when empty, as PAN expects one file per pair); returns the path."""
    out = Path(directory) / pair_file_name(susp, src)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(detections_xml(susp, detections), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Pair:
    """One suspicious/source pair of a level, with its gold cases."""

    level: str
    susp: str
    src: str
    cases: tuple[Annotation, ...]


@dataclass(frozen=True)
class Level:
    """A sub-directory with a ``pairs`` file. ``annotated`` is False for a
    no-plagiarism level: none of its gold files holds a case."""

    name: str
    pairs: tuple[Pair, ...]
    annotated: bool

    def status(self, pair: Pair) -> str:
        """``positive``, ``negative`` or ``unannotated`` (left out of scoring)."""
        if pair.cases:
            return "positive"
        return "unannotated" if self.annotated else "negative"


def _read_pairs_file(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise PanError(f"{path}:{number}: expected 'SUSPICIOUS SOURCE', got {line.strip()!r}")
        pairs.append((fields[0], fields[1]))
    return pairs


def load_level(directory: Path) -> Level:
    """Read a level's ``pairs`` file and the gold XML of every pair.

    Raises:
        PanError: A gold file is missing or unreadable, or names other documents.
    """
    pairs = []
    for susp, src in _read_pairs_file(directory / "pairs"):
        gold = directory / pair_file_name(susp, src)
        if not gold.is_file():
            raise PanError(f"{gold}: missing gold file for pair {susp} {src}")
        cases = tuple(read_annotations(gold, CASE_FEATURE))
        for case in cases:
            if case.pair != (susp, src):
                raise PanError(
                    f"{gold}: expected cases of {susp} / {src}, got"
                    f" {case.this_reference} / {case.source_reference}"
                )
        pairs.append(Pair(directory.name, susp, src, cases))
    return Level(directory.name, tuple(pairs), any(p.cases for p in pairs))


def discover_levels(corpus_dir: str | os.PathLike[str]) -> list[Level]:
    """Every sub-directory of the corpus that holds a ``pairs`` file, by name.

    Raises:
        PanError: The corpus has no such directory, or lacks ``src/``/``susp/``.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        raise PanError(f"{root}: expected a corpus directory")
    for side in ("src", "susp"):
        if not (root / side).is_dir():
            raise PanError(f"{root}: expected a {side}/ directory of texts")
    levels = [load_level(d) for d in sorted(root.iterdir()) if (d / "pairs").is_file()]
    if not levels:
        raise PanError(f"{root}: expected sub-directories with a 'pairs' file, found none")
    return levels


# --------------------------------------------------------------------------- detection


def _read_text(path: str) -> str:
    # newline="" keeps "\r\n" as two characters: PAN offsets count decoded characters.
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def _detect_chunk(
    corpus_dir: str, pairs: Sequence[tuple[str, str]], detect: Detector
) -> list[tuple[Span, ...]]:
    """Run the detector on pairs, reading each text once per chunk. Runs in a
    worker; returns plain tuples, cheap to send back."""
    texts: dict[str, str] = {}

    def text(side: str, name: str) -> str:
        path = os.path.join(corpus_dir, side, name)
        if path not in texts:
            texts[path] = _read_text(path)
        return texts[path]

    out: list[tuple[Span, ...]] = []
    for susp, src in pairs:
        susp_text, src_text = text("susp", susp), text("src", src)
        try:
            match = detect(susp_text, src_text)
        except Exception as exc:
            raise PanError(f"detector failed on {susp} {src}: {exc!r}") from exc
        passages = () if match is None else match.passages
        out.append(tuple((p.a_start, p.a_end, p.b_start, p.b_end) for p in passages))
    return out


def _chunks(items: Sequence[tuple[str, str]], workers: int) -> list[list[tuple[str, str]]]:
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (workers * 4))))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def detect_pairs(
    corpus_dir: str | os.PathLike[str],
    pairs: Sequence[tuple[str, str]],
    detect: Detector,
    workers: int = 1,
) -> list[tuple[Span, ...]]:
    """The detector's passages for each (suspicious, source) pair, in order.
    ``workers`` > 1 runs contiguous chunks in a process pool (the detector must
    then be picklable: a module-level function); 1 runs in this process."""
    root = os.fspath(corpus_dir)
    chunks = _chunks(pairs, workers)
    if workers <= 1 or len(chunks) <= 1:
        results = [_detect_chunk(root, chunk, detect) for chunk in chunks]
    else:
        try:  # a detector the pool cannot send would leave it waiting, not failing
            pickle.dumps(detect)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise PanError(f"the detector {detect!r} cannot be sent to worker processes "
                           f"({exc}); make it a module-level function or use --workers 1"
                           ) from exc
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            results = list(pool.map(_detect_chunk, repeat(root), chunks, repeat(detect)))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return [spans for chunk in results for spans in chunk]


def spans_to_detections(susp: str, src: str, spans: Iterable[Span]) -> list[Annotation]:
    """Detections of a pair from passage spans; passages with no character on
    either side are dropped (the official script cannot score them).

    Raises:
        PanError: A passage ends before it starts or starts before 0.
    """
    out = []
    for a_start, a_end, b_start, b_end in spans:
        if a_start < 0 or b_start < 0 or a_end < a_start or b_end < b_start:
            raise PanError(
                f"detector returned a bad passage for {susp} {src}:"
                f" a={a_start}..{a_end}, b={b_start}..{b_end}"
            )
        if a_end == a_start and b_end == b_start:
            continue
        out.append(Annotation(susp, a_start, a_end - a_start, src, b_start, b_end - b_start))
    return out


def resolve_detector(spec: str) -> Detector:
    """``"module:function"`` -> the function (imported now, so a missing
    detector fails before any work).

    Raises:
        PanError: The spec is malformed or the function cannot be imported.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise PanError(f"expected a detector as MODULE:FUNCTION, got {spec!r}")
    try:
        found: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PanError(f"cannot import detector {spec!r}: {exc}") from exc
    if not callable(found):
        raise PanError(f"detector {spec!r} is not callable")
    detector: Detector = found
    return detector


# --------------------------------------------------------------------------- results


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class PairCounts:
    """Pair-level detection: positives are pairs with a gold case, negatives the
    pairs of no-plagiarism levels; a pair is predicted positive when the
    detector returns at least one passage."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: PairCounts) -> PairCounts:
        return PairCounts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP); None when nothing scored was detected."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN); None when there is no positive pair."""
        return _ratio(self.tp, self.tp + self.fn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": self.precision,
            "recall": self.recall,
        }


@dataclass(frozen=True)
class LevelResult:
    """The figures of one level, or of all levels together (``name`` "overall").

    ``pairs`` counts every pair run, ``left_out`` the unannotated ones among
    them; ``cases`` and ``detections`` count the scored (unique) annotations.
    """

    name: str
    pairs: int
    left_out: int
    cases: int
    detections: int
    scores: Scores
    pair_counts: PairCounts

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "pairs": self.pairs,
            "left_out": self.left_out,
            "cases": self.cases,
            "detections": self.detections,
        }
        out.update(self.scores.to_dict())
        out["pair"] = self.pair_counts.to_dict()
        return out


@dataclass(frozen=True)
class BenchResult:
    """A benchmark run: per-level figures, overall figures and wall time."""

    corpus: str
    levels: tuple[LevelResult, ...]
    overall: LevelResult
    seconds: float
    workers: int

    def to_dict(self, timings: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "corpus": self.corpus,
            "workers": self.workers,
            "levels": [level.to_dict() for level in self.levels],
            "overall": self.overall.to_dict(),
        }
        if timings:
            out["seconds"] = round(self.seconds, 3)
        return out


def _level_result(
    name: str,
    pairs: Sequence[tuple[Pair, str, tuple[Span, ...]]],
) -> LevelResult:
    cases: list[Annotation] = []
    detections: list[Annotation] = []
    counts = PairCounts()
    left_out = 0
    for pair, status, spans in pairs:
        if status == "unannotated":
            left_out += 1
            continue
        cases.extend(pair.cases)
        detections.extend(spans_to_detections(pair.susp, pair.src, spans))
        found = len(spans) > 0
        counts = counts + PairCounts(
            tp=int(status == "positive" and found),
            fp=int(status == "negative" and found),
            fn=int(status == "positive" and not found),
            tn=int(status == "negative" and not found),
        )
    case_set, det_set = _unique(cases), _unique(detections)
    return LevelResult(
        name=name,
        pairs=len(pairs),
        left_out=left_out,
        cases=len(case_set),
        detections=len(det_set),
        scores=score(case_set, det_set),
        pair_counts=counts,
    )


def run(
    corpus_dir: str | os.PathLike[str],
    detect: Detector | None = None,
    workers: int | None = None,
    limit: int | None = None,
    out_xml: str | os.PathLike[str] | None = None,
) -> BenchResult:
    """Run a detector over a PAN-layout corpus and score it.

    Args:
        corpus_dir: Holds ``src/``, ``susp/`` and one directory per level.
        detect: ``detect(susp_text, src_text) -> Match``; default ``dedup.compare``.
        workers: Worker processes (default ``os.cpu_count()``); 1 runs here.
        limit: Run only the first N pairs of each level (levels are still
            classified as annotated or not from all of their gold files).
        out_xml: Write the detections in PAN's XML as ``OUT_XML/<level>/<pair>.xml``.

    Returns:
        Per-level and overall figures; overall character-level measures pool
        the scored cases and detections of all levels, as PAN does.

    Raises:
        PanError: On a malformed corpus, a failing detector or a bad passage.
    """
    started = time.perf_counter()
    if detect is None:
        detect = resolve_detector(DEFAULT_DETECTOR)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers < 1:
        raise PanError(f"expected at least 1 worker, got {n_workers}")
    if limit is not None and limit < 0:
        raise PanError(f"expected a non-negative limit, got {limit}")
    root = Path(corpus_dir)
    levels = discover_levels(root)
    selected = [
        (level, list(level.pairs if limit is None else level.pairs[:limit])) for level in levels
    ]
    todo = [(pair.susp, pair.src) for _, pairs in selected for pair in pairs]
    for susp, src in todo:
        for side, name in (("susp", susp), ("src", src)):
            if not (root / side / name).is_file():
                raise PanError(f"{root / side / name}: missing text of pair {susp} {src}")
    spans_iter = iter(detect_pairs(root, todo, detect, n_workers))

    level_results = []
    everything: list[tuple[Pair, str, tuple[Span, ...]]] = []
    for level, pairs in selected:
        rows = [(pair, level.status(pair), next(spans_iter)) for pair in pairs]
        if out_xml is not None:
            for pair, _, spans in rows:
                dets = spans_to_detections(pair.susp, pair.src, spans)
                write_detections(Path(out_xml) / level.name, pair.susp, pair.src, dets)
        level_results.append(_level_result(level.name, rows))
        everything.extend(rows)
    overall = _level_result("overall", everything)
    return BenchResult(
        corpus=os.fspath(corpus_dir),
        levels=tuple(level_results),
        overall=overall,
        seconds=time.perf_counter() - started,
        workers=n_workers,
    )


# --------------------------------------------------------------------------- report

_COLUMNS = (
    "level",
    "pairs",
    "left out",
    "cases",
    "dets",
    "recall",
    "precision",
    "gran",
    "plagdet",
    "pair P",
    "pair R",
)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _row(result: LevelResult) -> list[str]:
    s = result.scores
    return [
        result.name,
        str(result.pairs),
        str(result.left_out),
        str(result.cases),
        str(result.detections),
        _fmt(s.recall),
        _fmt(s.precision),
        _fmt(s.granularity),
        _fmt(s.plagdet),
        _fmt(result.pair_counts.precision),
        _fmt(result.pair_counts.recall),
    ]


def format_table(result: BenchResult) -> str:
    """A markdown table of the figures, with a note on left-out pairs and time."""
    rows = [list(_COLUMNS)] + [_row(r) for r in result.levels] + [_row(result.overall)]
    rows[-1][0] = f"**{rows[-1][0]}**"
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 1) + ":" if i else ":" + "-" * (w + 1) for i, w in enumerate(widths))
        + "|"
    )
    out = [line(rows[0]), rule] + [line(row) for row in rows[1:]]
    counts = result.overall.pair_counts
    out.append("")
    out.append(
        f"Left out of all scoring: {result.overall.left_out} unannotated pairs"
        " (no case in a level whose other pairs have cases)."
    )
    out.append(
        "Character level: PAN macro recall/precision, granularity, plagdet;"
        f" micro recall {result.overall.scores.micro_recall:.4f},"
        f" micro precision {result.overall.scores.micro_precision:.4f} (overall)."
    )
    out.append(
        f"Pair level: TP {counts.tp}, FP {counts.fp}, FN {counts.fn}, TN {counts.tn}"
        " (negatives: pairs of levels without any case)."
    )
    out.append(f"Wall time: {result.seconds:.1f} s with {result.workers} worker(s).")
    return "\n".join(out)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pan",
        description="Score a detector on a PAN text-alignment corpus with the PAN measures.",
    )
    parser.add_argument("corpus", metavar="CORPUS_DIR", help="src/, susp/ and <level>/pairs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out-xml", metavar="DIR", help="write detections as PAN XML here")
    parser.add_argument(
        "--workers", type=int, default=None, metavar="N", help="processes (default: all CPUs)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="first N pairs of each level"
    )
    parser.add_argument(
        "--detector",
        default=DEFAULT_DETECTOR,
        metavar="MODULE:FUNCTION",
        help=f"detector to run (default: {DEFAULT_DETECTOR})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, detect: Detector | None = None) -> int:
    """Command-line entry point; ``detect`` overrides ``--detector``. Returns the
    exit code: 0 on success, 2 on an unusable corpus or detector."""
    args = _parse_args(argv)
    try:
        if not Path(args.corpus).is_dir():
            raise PanError(f"{args.corpus}: expected a corpus directory")
        detector = detect if detect is not None else resolve_detector(args.detector)
        result = run(
            args.corpus,
            detect=detector,
            workers=args.workers,
            limit=args.limit,
            out_xml=args.out_xml,
        )
    except (PanError, OSError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
