"""``dedup index ...``: a persistent index that checks each new batch against all seen.

Mounted by ``dedup/cli/main.py`` as ``app.add_typer(index_app, name="index")``.
The commands only parse, call :mod:`dedup.index` and render; errors become one
line on stderr and exit code 2.

Exit codes: 0 done; 1 with ``--fail-on-match`` when an article reuses one
indexed before; 2 on a usage or input error (missing path, unusable index,
lock wait expired).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from dedup.config import Config
from dedup.errors import DedupError, InputError
from dedup.index import Index, add, export, parse_duration, prune, query, stats
from dedup.index.ops import BatchResult
from dedup.index.store import with_pinned
from dedup.model import Skipped
from dedup.pipeline import collect

index_app = typer.Typer(
    name="index",
    help="A persistent index: check each new batch of articles against everything seen.",
    no_args_is_help=True,
    add_completion=False,
)

_DB_HELP = "The index file (SQLite)."

Db = Annotated[Path, typer.Option("--db", help=_DB_HELP, show_default=False)]
Paths = Annotated[list[Path], typer.Argument(help="Files or directories to read (any format "
                                                  "'dedup scan' reads, WARC included).",
                                             show_default=False)]
Output = Annotated[Path | None, typer.Option("--output", "-o",
                                             help="Write the report here instead of stdout.")]
MaxChars = Annotated[int, typer.Option("--max-chars",
                                       help="Skip articles longer than this (as bad input).")]
IdField = Annotated[str, typer.Option("--id-field", help="Id key of JSON/JSONL records.")]
TextField = Annotated[str, typer.Option("--text-field", help="Text key of JSON/JSONL records.")]
Include = Annotated[list[str] | None, typer.Option(
    "--include", help="Glob of files to read inside directories (repeatable).")]
Exclude = Annotated[list[str] | None, typer.Option(
    "--exclude", help="Glob of files and directories to leave out (repeatable).")]
LockTimeout = Annotated[float, typer.Option(
    "--lock-timeout", help="Seconds to wait while another process writes the index.")]
Workers = Annotated[int | None, typer.Option(
    "--workers", help="Processes for per-article work (default: one per CPU).")]
Settings = Annotated[list[str] | None, typer.Option(
    "--set", metavar="NAME=VALUE",
    help="Change a setting, NAME=VALUE (e.g. align.min_passage_chars=200); repeatable. "
         "Settings the index pins (sketch, LSH, TF-IDF keywords, clusters) must be those "
         "it was built with.")]


class ExportFormat(str, Enum):
    """Formats of ``index export``."""

    jsonl = "jsonl"


class StatsFormat(str, Enum):
    """Formats of ``index stats``."""

    text = "text"
    json = "json"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file written whole (a temporary file renamed at the end)."""
    if path is None:
        yield typer.get_text_stream("stdout")
        return
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_lines(path: Path | None, records: Iterable[dict[str, Any]]) -> None:
    try:
        with _output(path) as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise _fail(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _batch(paths: list[Path], db: Path, output: Path | None, max_chars: int, id_field: str,
           text_field: str, include: list[str] | None, exclude: list[str] | None,
           lock_timeout: float, workers: int | None, settings: list[str] | None,
           write: bool) -> BatchResult:
    """Read the batch, match it (and with ``write`` add it), write the report."""
    verb = "add" if write else "query"
    try:
        config = Config(workers=workers, max_chars=max_chars)
        if db.is_file():
            # an index keeps the settings it was built with; --set may only repeat them
            with Index.open(db, lock_timeout=lock_timeout) as existing:
                config = with_pinned(config, existing.settings)
        config = config.with_settings(settings or [])
        for path in paths:
            if not path.exists():
                raise InputError(f"{path}: no such file or directory")
        with Index.open(db, config, create=write, lock_timeout=lock_timeout) as index:
            articles, skipped = collect(
                paths, include=include or (), exclude=exclude or (), id_field=id_field,
                text_field=text_field, max_chars=max_chars, on_skip=_report_skip,
                workers=workers or max(1, os.cpu_count() or 1))
            run = add if write else query
            result = run(index, articles, config, skipped=skipped)
    except DedupError as exc:
        raise _fail(str(exc)) from exc
    _write_lines(output, (r.to_dict() for r in result.articles))
    s = result.stats
    counts = (f"{s['new']} new, {s['updated']} updated, {s['unchanged']} unchanged" if write
              else f"{s['new']} new, {s['updated']} changed, {s['unchanged']} already indexed")
    typer.echo(f"index {verb}: {s['articles']} articles ({counts}); {s['reusing_indexed']} "
               f"reuse indexed articles; {len(result.skipped)} skipped", err=True)
    return result


def _report_skip(skip: Skipped) -> None:
    typer.echo(skip.message(), err=True)


@index_app.command("add")
def add_command(
    paths: Paths,
    db: Db,
    output: Output = None,
    fail_on_match: Annotated[bool, typer.Option(
        "--fail-on-match", help="Exit with 1 when an article reuses one indexed before.")] = False,
    max_chars: MaxChars = 1_000_000,
    id_field: IdField = "id",
    text_field: TextField = "text",
    include: Include = None,
    exclude: Exclude = None,
    lock_timeout: LockTimeout = 600.0,
    workers: Workers = None,
    settings: Settings = None,
) -> None:
    """Match new articles against the index and each other, then add them.

    Writes one JSON line per article: id, url, published, status (new,
    updated, unchanged), matches (id, score, reuse_a_in_b = share of this
    article found in the other, reuse_b_in_a), cluster and its likely original
    (source). The batch is added whole or not at all; an article indexed
    before with the same text is left unchanged, with another text replaced.
    """
    result = _batch(paths, db, output, max_chars, id_field, text_field, include, exclude,
                    lock_timeout, workers, settings, write=True)
    if fail_on_match and result.reuses_indexed:
        raise typer.Exit(1)


@index_app.command("query")
def query_command(
    paths: Paths,
    db: Db,
    output: Output = None,
    fail_on_match: Annotated[bool, typer.Option(
        "--fail-on-match", help="Exit with 1 when an article reuses an indexed one.")] = False,
    max_chars: MaxChars = 1_000_000,
    id_field: IdField = "id",
    text_field: TextField = "text",
    include: Include = None,
    exclude: Exclude = None,
    lock_timeout: LockTimeout = 600.0,
    workers: Workers = None,
    settings: Settings = None,
) -> None:
    """The report of 'index add' without adding anything."""
    result = _batch(paths, db, output, max_chars, id_field, text_field, include, exclude,
                    lock_timeout, workers, settings, write=False)
    if fail_on_match and result.reuses_indexed:
        raise typer.Exit(1)


@index_app.command("stats")
def stats_command(
    db: Db,
    output_format: Annotated[StatsFormat, typer.Option("--format", help="text or json.")] =
    StatsFormat.text,
) -> None:
    """Articles, clusters, file size, bytes per article, schema version."""
    try:
        with Index.open(db) as index:
            info = stats(index)
    except DedupError as exc:
        raise _fail(str(exc)) from exc
    if output_format is StatsFormat.json:
        typer.echo(json.dumps(info, indent=1))
        return
    per = info["bytes_per_article"]
    lines = [
        f"index:              {info['path']}",
        f"schema version:     {info['schema_version']}",
        f"articles:           {info['articles']:,}",
        f"passages:           {info['passages']:,}",
        f"band keys added:    {info['band_rows_added']:,} in {info['band_generations']:,} "
        "generation(s)",
        f"matches:            {info['matches']:,}",
        f"clusters:           {info['clusters']:,} ({info['clustered_articles']:,} articles)",
        f"file size:          {info['file_bytes']:,} bytes",
        f"bytes per article:  {per:,}" if per is not None else "bytes per article:  -",
    ]
    lines += [f"setting {k}: {v}" for k, v in sorted(info["settings"].items())]
    typer.echo("\n".join(lines))


@index_app.command("prune")
def prune_command(
    db: Db,
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Age limit: a number with h, d or w (e.g. 30d). Articles "
        "published (or, without a date, added) before it are removed.", show_default=False)],
    lock_timeout: LockTimeout = 600.0,
) -> None:
    """Remove old articles, with their keys, matches and cluster memberships."""
    try:
        seconds = parse_duration(older_than)
        with Index.open(db, lock_timeout=lock_timeout) as index:
            now = time.time()
            result = prune(index, seconds, now=now)
    except DedupError as exc:
        raise _fail(str(exc)) from exc
    cutoff = datetime.fromtimestamp(now - seconds, timezone.utc).isoformat(timespec="seconds")
    typer.echo(f"pruned {result.removed} articles older than {older_than.strip()} "
               f"(before {cutoff}); {result.remaining} remain; "
               f"{result.clusters_changed} clusters changed")


@index_app.command("export")
def export_command(
    db: Db,
    output_format: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] =
    ExportFormat.jsonl,
    output: Output = None,
) -> None:
    """Every article with its metadata and cluster, one JSON line each, ordered by id."""
    try:
        with Index.open(db) as index:
            _write_lines(output, export(index))
    except DedupError as exc:
        raise _fail(str(exc)) from exc
