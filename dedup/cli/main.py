"""The ``dedup`` command: parses, calls the pipeline, renders. Nothing else.

Exit codes: 0 done (bad files inside a scan are reported and skipped),
1 with ``--fail-on-match`` when something matched, 2 on a usage or input error.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from dedup import report as render
from dedup.cli.index_cmd import index_app
from dedup.config import Config
from dedup.errors import DedupError
from dedup.model import Skipped
from dedup.pipeline import compare as compare_texts
from dedup.pipeline import scan as run_scan

app = typer.Typer(
    name="dedup",
    help="Find reused wire copy in news articles: which reuse which, how much, where.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_err = Console(stderr=True, highlight=False, soft_wrap=True)


class ScanFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    html = "html"


class CompareFormat(str, Enum):
    table = "table"
    json = "json"


def _fail(message: str) -> typer.Exit:
    _err.print(f"dedup: {message}", markup=False)
    return typer.Exit(code=2)


def _print_skip(skipped: Skipped) -> None:
    _err.print(f"skipped {skipped.message()}", markup=False, style="yellow")


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)  # never leave a half-written report behind


_SET_HELP = ("Change a setting, NAME=VALUE (e.g. align.min_passage_chars=200, "
             "cluster.min_score=0.5); repeatable. The settings and their defaults: "
             "dedup/config.py and benchmarks/CALIBRATION.md.")


@app.command()
def scan(
    paths: list[Path] = typer.Argument(..., help="Files or directories of articles."),
    fmt: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f", help="Output format."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    include: list[str] = typer.Option([], "--include", help="Only files matching this glob."),
    exclude: list[str] = typer.Option([], "--exclude", help="Skip files matching this glob."),
    id_field: str = typer.Option("id", help="JSON/JSONL field holding the article id."),
    text_field: str = typer.Option("text", help="JSON/JSONL field holding the text."),
    min_score: float = typer.Option(0.0, help="Report only matches scoring at least this."),
    workers: int | None = typer.Option(None, help="Processes (default: one per CPU)."),
    max_chars: int = typer.Option(1_000_000, help="Skip articles longer than this."),
    timings: bool = typer.Option(False, help="Add per-stage seconds to JSON/JSONL stats "
                                             "(the output is then no longer byte-stable)."),
    top: int = typer.Option(20, help="Matches shown by the table format."),
    fail_on_match: bool = typer.Option(False, help="Exit 1 when any match is found."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    settings: list[str] = typer.Option([], "--set", help=_SET_HELP, metavar="NAME=VALUE"),
) -> None:
    """Scan articles for reused copy: matches, passages, clusters, likely originals."""
    try:
        config = Config(min_score=min_score, workers=workers,
                        max_chars=max_chars).with_settings(settings)
    except DedupError as exc:
        raise _fail(str(exc)) from None
    show_progress = not quiet and _err.is_terminal
    progress = Progress(TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=_err, transient=True, disable=not show_progress)
    tasks: dict[str, TaskID] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    try:
        with progress:
            result = run_scan([str(p) for p in paths], config, include=include,
                              exclude=exclude, id_field=id_field, text_field=text_field,
                              progress=on_progress, on_skip=_print_skip)
    except DedupError as exc:
        raise _fail(str(exc)) from None
    if fmt is ScanFormat.table:
        if output is None:
            render.render_table(result, Console(highlight=False), top=top)
        else:
            buf = Console(record=True, file=open(output, "w", encoding="utf-8"),  # noqa: SIM115
                          width=160, highlight=False)
            render.render_table(result, buf, top=top)
            buf.file.close()
    elif fmt is ScanFormat.json:
        _write(render.to_json(result, timings=timings), output)
    elif fmt is ScanFormat.jsonl:
        _write(render.to_jsonl(result, timings=timings), output)
    elif fmt is ScanFormat.csv:
        _write(render.to_csv(result), output)
    else:
        from dedup.report.html import render_html

        _write(render_html(result), output)
    if not quiet:
        st = result.stats
        _err.print(f"{st['articles']} articles, {st['matches']} matches, "
                   f"{st['clusters']} clusters, {st['skipped']} skipped", markup=False)
    if fail_on_match and result.matches:
        raise typer.Exit(code=1)


@app.command()
def compare(
    a: Path = typer.Argument(..., help="First article (text file)."),
    b: Path = typer.Argument(..., help="Second article (text file)."),
    fmt: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f"),
    settings: list[str] = typer.Option([], "--set", help=_SET_HELP, metavar="NAME=VALUE"),
) -> None:
    """Align two articles: how much of each is reused in the other, and where."""
    try:
        config = Config().with_settings(settings)
    except DedupError as exc:
        raise _fail(str(exc)) from None
    texts = []
    for path in (a, b):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _fail(f"{path}: no such file or directory") from None
        except UnicodeDecodeError as exc:
            raise _fail(f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at "
                        f"offset {exc.start})") from None
        except OSError as exc:
            raise _fail(f"{path}: cannot read: {exc.strerror}") from None
    match = compare_texts(texts[0], texts[1], config, a_id=str(a), b_id=str(b))
    if fmt is CompareFormat.json:
        import json

        sys.stdout.write(json.dumps(match.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        render.render_compare(match, texts[0], texts[1], Console(highlight=False),
                              name_a=str(a), name_b=str(b))


app.add_typer(index_app, name="index")


def main() -> None:
    """Entry point of the ``dedup`` script."""
    app()


if __name__ == "__main__":
    main()
