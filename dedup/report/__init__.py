"""Renderers: a Report (or a Match) to text. Article text is untrusted: the
terminal renderers build rich ``Text`` objects (never markup from data), the
HTML renderer escapes everything."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dedup.model import Match, Report

FORMATS = ("table", "json", "jsonl", "csv", "html")
CSV_FIELDS = ("a", "b", "score", "jaccard", "cosine", "reuse_a_in_b", "reuse_b_in_a",
              "passages", "cluster")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False, separators=(",", ":"))


def to_json(report: Report, timings: bool = False) -> str:
    """The whole report as one JSON document (indented, stable key order)."""
    return json.dumps(report.to_dict(timings=timings), ensure_ascii=False, indent=2) + "\n"


def to_jsonl(report: Report, timings: bool = False) -> str:
    """One JSON object per line, each with a ``type``: article, match, cluster,
    skipped, then one stats line."""
    data = report.to_dict(timings=timings)
    lines = [_dumps({"type": "article", **a}) for a in data["articles"]]
    lines += [_dumps({"type": "match", **m}) for m in data["matches"]]
    lines += [_dumps({"type": "cluster", **c}) for c in data["clusters"]]
    lines += [_dumps({"type": "skipped", **s}) for s in data["skipped"]]
    lines.append(_dumps({"type": "stats", **data["stats"]}))
    return "\n".join(lines) + "\n"


def to_csv(report: Report) -> str:
    """The matches, one row each, with the cluster they belong to (if any);
    passages as a JSON list in one column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for m in report.matches:
        d = m.to_dict()
        cid = report.match_cluster.get((m.a, m.b))
        writer.writerow([d["a"], d["b"], d["score"], d["jaccard"], d["cosine"],
                         d["reuse_a_in_b"], d["reuse_b_in_a"], _dumps(d["passages"]),
                         "" if cid is None else cid])
    return out.getvalue()


def render_table(report: Report, console: Console, top: int = 20) -> None:
    """Clusters and the top matches as rich tables."""
    st = report.stats
    console.print(Text(
        f"{st.get('articles', 0)} articles, {st.get('matches', 0)} matches, "
        f"{st.get('clusters', 0)} clusters, {st.get('skipped', 0)} skipped", style="bold"))
    if report.clusters:
        table = Table(title="Clusters", show_lines=False)
        for col in ("id", "members", "likely original", "why"):
            table.add_column(col, overflow="fold")
        for c in report.clusters:
            table.add_row(str(c.id), Text("\n".join(c.members)), Text(c.source or "-"),
                          Text(c.source_reason or "-"))
        console.print(table)
    else:
        console.print(Text("No clusters."))
    if report.matches:
        table = Table(title=f"Top matches ({min(top, len(report.matches))} of "
                            f"{len(report.matches)})")
        for col in ("a", "b", "score", "a in b", "b in a", "cosine", "passages"):
            table.add_column(col, overflow="fold")
        for m in report.matches[:top]:
            table.add_row(Text(m.a), Text(m.b), f"{m.score:.3f}", f"{m.reuse_a_in_b:.0%}",
                          f"{m.reuse_b_in_a:.0%}", f"{m.cosine:.3f}", str(len(m.passages)))
        console.print(table)
    seconds = st.get("seconds")
    if seconds:
        console.print(Text("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()),
                           style="dim"))


def _marked(words_text: str, other: set[str]) -> Text:
    """The passage with the words not found in the other passage underlined."""
    from dedup.text import TOKEN_SPLIT

    out = Text()
    for piece in TOKEN_SPLIT.split(words_text):
        if piece and piece.casefold() not in other and any(ch.isalnum() for ch in piece):
            out.append(piece, style="bold yellow underline")
        else:
            out.append(piece)
    return out


def render_compare(match: Match, text_a: str, text_b: str, console: Console,
                   name_a: str = "A", name_b: str = "B") -> None:
    """Both directions' reuse and the passages side by side, differing words marked."""
    from dedup.text import TOKEN_SPLIT

    console.print(Text(
        f"{name_a} in {name_b}: {match.reuse_a_in_b:.0%}   {name_b} in {name_a}: "
        f"{match.reuse_b_in_a:.0%}   score {match.score:.3f}   cosine {match.cosine:.3f}   "
        f"jaccard {match.jaccard:.3f}   passages {len(match.passages)}", style="bold"))
    if not match.passages:
        console.print(Text("No reused passage found."))
        return
    table = Table(show_lines=True)
    table.add_column("#")
    table.add_column(Text(name_a), overflow="fold", ratio=1)
    table.add_column(Text(name_b), overflow="fold", ratio=1)
    table.add_column("sim")
    for k, p in enumerate(match.passages, start=1):
        pa, pb = text_a[p.a_start:p.a_end], text_b[p.b_start:p.b_end]
        wa = {w.casefold() for w in TOKEN_SPLIT.split(pa)}
        wb = {w.casefold() for w in TOKEN_SPLIT.split(pb)}
        head_a = Text(f"[{p.a_start}:{p.a_end}]\n", style="dim")
        head_b = Text(f"[{p.b_start}:{p.b_end}]\n", style="dim")
        table.add_row(str(k), head_a + _marked(pa, wb), head_b + _marked(pb, wa),
                      f"{p.similarity:.2f}")
    console.print(table)
