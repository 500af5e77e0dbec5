"""One frozen, nested configuration, validated once.

Each stage receives only its own part (``config.sketch`` to the sketcher,
``config.align`` to the aligner, ...). Defaults are the values chosen by the
calibration in ``benchmarks/`` (see benchmarks/CALIBRATION.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from dedup.align import AlignParams
from dedup.cluster import ClusterParams
from dedup.errors import ConfigError
from dedup.lsh import LSHParams
from dedup.sketch import SketchParams
from dedup.tfidf import TfidfParams


def _in_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (lo <= value <= hi):
        raise ConfigError(f"{name} must be in [{lo}, {hi}], got {value!r}")


@dataclass(frozen=True)
class Config:
    """All settings of a scan.

    Attributes:
        sketch, lsh, tfidf, align, cluster: Each stage's own settings.
        min_score: Matches scoring below this are not reported.
        workers: Processes for per-article work (None: one per CPU; 1: none).
        max_chars: Articles longer than this are skipped as bad input.
    """

    sketch: SketchParams = field(default_factory=SketchParams)
    lsh: LSHParams = field(default_factory=LSHParams)
    tfidf: TfidfParams = field(default_factory=TfidfParams)
    align: AlignParams = field(default_factory=AlignParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    min_score: float = 0.0
    workers: int | None = None
    max_chars: int = 1_000_000

    def __post_init__(self) -> None:
        s, lsh, t, a = self.sketch, self.lsh, self.tfidf, self.align
        _in_range("sketch.shingle_size", s.shingle_size, 1, 32)
        _in_range("sketch.num_perm", s.num_perm, 16, 1024)
        _in_range("sketch.window", s.window, 4, 100_000)
        _in_range("sketch.stride", s.stride, 1, s.window)
        _in_range("lsh.threshold", lsh.threshold, 0.01, 1.0)
        _in_range("lsh.max_bucket", lsh.max_bucket, 2, 1_000_000)
        _in_range("tfidf.top_k", t.top_k, 0, 10_000)
        _in_range("tfidf.min_cosine", t.min_cosine, 0.0, 1.0)
        _in_range("tfidf.keywords", t.keywords, 1, 100_000)
        _in_range("tfidf.keyword_max_articles", t.keyword_max_articles, 2, 10**12)
        _in_range("tfidf.passage_max_windows", t.passage_max_windows, 2, 10**12)
        if t.near_copy_group == 1 or t.near_copy_group < 0:
            raise ConfigError("tfidf.near_copy_group must be 0 (no second pass) or at "
                              f"least 2, got {t.near_copy_group!r}")
        _in_range("align.seed_cosine", a.seed_cosine, 0.0, 1.0)
        _in_range("align.seed_dice", a.seed_dice, 0.0, 1.0)
        _in_range("align.max_gap", a.max_gap, 0, 1000)
        _in_range("align.min_passage_similarity", a.min_passage_similarity, 0.0, 1.0)
        _in_range("align.min_passage_chars", a.min_passage_chars, 0, 10_000_000)
        _in_range("align.min_seeds", a.min_seeds, 1, 10_000)
        _in_range("cluster.min_score", self.cluster.min_score, 0.0, 1.0)
        _in_range("cluster.min_overlap", self.cluster.min_overlap, 0.0, 1.0)
        _in_range("min_score", self.min_score, 0.0, 1.0)
        if self.workers is not None:
            _in_range("workers", self.workers, 1, 512)
        _in_range("max_chars", self.max_chars, 1, 2**40)

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with dotted-name overrides, e.g. ``{"align.max_gap": 3}``."""
        parts: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in overrides.items():
            if "." in key:
                part, name = key.split(".", 1)
                parts.setdefault(part, {})[name] = value
            else:
                top[key] = value
        known = {f.name for f in fields(self)}
        for name in list(parts) + list(top):
            if name not in known:
                raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
        new_parts = {}
        for part, values in parts.items():
            current = getattr(self, part)
            if not hasattr(current, "__dataclass_fields__"):  # a plain value, not a group
                raise ConfigError(f"unknown setting {part}.{next(iter(values))}; "
                                  f"{part} is a single setting")
            valid = {f.name for f in fields(current)}
            for name in values:
                if name not in valid:
                    raise ConfigError(
                        f"unknown setting {part}.{name}; known: {', '.join(sorted(valid))}"
                    )
            new_parts[part] = replace(current, **values)
        return replace(self, **new_parts, **top)

    def with_settings(self, settings: Sequence[str]) -> Config:
        """A copy with ``NAME=VALUE`` settings as given on the command line
        (``--set``), each value read as the declared type of that setting.

        Example:
            >>> Config().with_settings(["align.max_gap=3", "cluster.min_score=0.5"]).align.max_gap
            3
        """
        overrides: dict[str, Any] = {}
        for item in settings:
            name, sep, raw = item.partition("=")
            name, raw = name.strip(), raw.strip()
            if not sep or not name:
                raise ConfigError(f"setting {item!r}: expected NAME=VALUE, e.g. align.max_gap=3")
            part, _, attr = name.rpartition(".")
            holder = getattr(self, part, None) if part else self
            declared = ({f.name: f.type for f in fields(holder)}
                        if is_dataclass(holder) else {})
            if attr not in declared:
                self.with_overrides(**{name: raw})  # raises: unknown setting, and the known ones
                raise ConfigError(f"unknown setting {name!r}")  # not reached
            current = getattr(holder, attr)
            if is_dataclass(current):
                raise ConfigError(f"setting {name!r} is a group; set one of its settings, "
                                  f"e.g. {name}.{fields(current)[0].name}=...")
            overrides[name] = _parse_setting(name, raw, str(declared[attr]))
        return self.with_overrides(**overrides)


def _parse_setting(name: str, raw: str, declared: str) -> Any:
    """``raw`` as a value of the declared type (``"int"``, ``"float | None"``, ...)."""
    kinds = [k.strip() for k in str(declared).split("|")]
    optional = "None" in kinds
    base = next((k for k in kinds if k in ("bool", "int", "float", "str")), "str")
    words = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "text"}
    try:
        if optional and raw.lower() == "none":
            return None
        if base == "bool":
            return {"true": True, "1": True, "yes": True,
                    "false": False, "0": False, "no": False}[raw.lower()]
        if base == "int":
            return int(raw)
        if base == "float":
            return float(raw)
        return raw
    except (KeyError, ValueError):
        kind = words[base] + (" or none" if optional else "")
        raise ConfigError(f"setting {name}={raw!r}: expected {kind}") from None
