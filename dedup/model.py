"""Data passed between stages: articles in, matches and clusters out.

Everything here is a frozen dataclass so results can be shared between
processes, cached and compared. ``to_dict`` gives the JSON contract of the
report (see ARCHITECTURE.md, "Public surface").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Metadata fields carried from inputs to reports when present.
METADATA_FIELDS: tuple[str, ...] = ("title", "url", "published", "source")


@dataclass(frozen=True)
class Article:
    """One input article.

    Attributes:
        id: Stable identifier (relative path, or the record's id field).
        text: The article text as published; every offset points into it.
        title, url, published, source: Optional metadata carried through.
        path: The file it was read from, for error messages.
    """

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    published: str | None = None
    source: str | None = None
    path: str | None = None

    def metadata(self) -> dict[str, str]:
        """The metadata fields that are set, in a fixed order."""
        out: dict[str, str] = {}
        for name in METADATA_FIELDS:
            value = getattr(self, name)
            if value is not None and value != "":
                out[name] = value
        return out


@dataclass(frozen=True)
class Passage:
    """A reused passage: ``text_a[a_start:a_end]`` is found again as
    ``text_b[b_start:b_end]``, with ``similarity`` in [0, 1]."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "a_start": self.a_start,
            "a_end": self.a_end,
            "b_start": self.b_start,
            "b_end": self.b_end,
            "similarity": round(self.similarity, 4),
        }

    def swapped(self) -> Passage:
        """The same passage seen from b's side."""
        return Passage(self.b_start, self.b_end, self.a_start, self.a_end, self.similarity)


def swapped_passages(passages: tuple[Passage, ...]) -> tuple[Passage, ...]:
    """Passages seen from b's side, sorted by their (new) a offsets."""
    return tuple(sorted((p.swapped() for p in passages), key=lambda p: (p.a_start, p.b_start)))


@dataclass(frozen=True)
class Match:
    """A verified reuse relation between articles ``a`` and ``b``.

    Attributes:
        a, b: Article ids (``a`` < ``b`` in reports from a scan).
        score: The ranking score in [0, 1].
        jaccard: Jaccard similarity of the two articles' shingle sets.
        cosine: TF-IDF cosine of the two whole articles.
        reuse_a_in_b: Share of a's characters covered by passages found in b.
        reuse_b_in_a: Share of b's characters covered by passages found in a.
        passages: Aligned passages, sorted by ``a_start``.
    """

    a: str
    b: str
    score: float
    jaccard: float
    cosine: float
    reuse_a_in_b: float
    reuse_b_in_a: float
    passages: tuple[Passage, ...] = ()

    def to_dict(self, passages: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "a": self.a,
            "b": self.b,
            "score": round(self.score, 4),
            "jaccard": round(self.jaccard, 4),
            "cosine": round(self.cosine, 4),
            "reuse_a_in_b": round(self.reuse_a_in_b, 4),
            "reuse_b_in_a": round(self.reuse_b_in_a, 4),
        }
        if passages:
            out["passages"] = [p.to_dict() for p in self.passages]
        return out

    def swapped(self) -> Match:
        """The same match with a and b exchanged."""
        return Match(
            a=self.b,
            b=self.a,
            score=self.score,
            jaccard=self.jaccard,
            cosine=self.cosine,
            reuse_a_in_b=self.reuse_b_in_a,
            reuse_b_in_a=self.reuse_a_in_b,
            passages=swapped_passages(self.passages),
        )


@dataclass(frozen=True)
class Cluster:
    """Articles that reuse the same copy, with the likely original.

    Attributes:
        id: 1-based, stable for the same input.
        members: Article ids, sorted.
        source: The id of the likely original, or None when nothing tells.
        source_reason: Why that article was chosen (human-readable).
    """

    id: int
    members: tuple[str, ...]
    source: str | None = None
    source_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "members": list(self.members),
            "source": self.source,
            "source_reason": self.source_reason,
        }


@dataclass(frozen=True)
class Skipped:
    """An input that could not be read; ``where`` is a path, or ``path:line``."""

    where: str
    reason: str

    def message(self) -> str:
        return f"{self.where}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class Report:
    """The result of a scan.

    ``articles`` keeps the texts (the HTML report needs them); ``to_dict``
    emits only their metadata. ``stats`` holds counts and, under
    ``"seconds"``, per-stage wall times (``lsh`` runs in a thread beside the
    passage keywords, within ``tfidf``'s time). ``match_cluster`` gives the cluster
    of each clustered match by ``(a, b)`` (an article can be in several
    clusters, a match is in one); the CSV and HTML reports use it.
    """

    articles: tuple[Article, ...]
    matches: tuple[Match, ...]
    clusters: tuple[Cluster, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    skipped: tuple[Skipped, ...] = ()
    wire: dict[str, str] = field(default_factory=dict)
    match_cluster: dict[tuple[str, str], int] = field(default_factory=dict)

    def article(self, article_id: str) -> Article:
        """The article with that id (KeyError if absent)."""
        for art in self.articles:
            if art.id == article_id:
                return art
        raise KeyError(article_id)

    def article_dicts(self) -> list[dict[str, Any]]:
        out = []
        for art in self.articles:
            row: dict[str, Any] = {"id": art.id, "chars": len(art.text)}
            row.update(art.metadata())
            if art.id in self.wire:
                row["wire"] = self.wire[art.id]
            out.append(row)
        return out

    def _match_dict(self, match: Match, passages: bool) -> dict[str, Any]:
        """A match of the report: with its cluster (None: in none), before its passages."""
        out = match.to_dict(passages=False)
        out["cluster"] = self.match_cluster.get((match.a, match.b))
        if passages:
            out["passages"] = [p.to_dict() for p in match.passages]
        return out

    def to_dict(self, timings: bool = False, passages: bool = True) -> dict[str, Any]:
        """The JSON contract. Without ``timings`` the dict is the same, byte for
        byte once serialized, for the same input."""
        stats = {k: v for k, v in self.stats.items() if k != "seconds"}
        if timings and "seconds" in self.stats:
            stats["seconds"] = self.stats["seconds"]
        return {
            "articles": self.article_dicts(),
            "matches": [self._match_dict(m, passages) for m in self.matches],
            "clusters": [c.to_dict() for c in self.clusters],
            "skipped": [s.to_dict() for s in self.skipped],
            "stats": stats,
        }
