"""Readers: files and directories become a stream of :class:`dedup.model.Article`.

:func:`read_paths` is the one entry point. Reading runs in three steps, each a
generator feeding the next, so a large corpus streams through in constant
memory and the output order never depends on timing:

1. *read*: walk the paths and parse each file into raw documents (plain text
   ready to use, or HTML still to extract), or :class:`Skipped` entries;
2. *extract*: turn HTML into text with trafilatura, in worker processes when
   asked, keeping the order;
3. *check*: drop empty, oversized and duplicate-id documents, report every
   skip through ``on_skip``, and build the articles.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import unicodedata
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, BinaryIO, NamedTuple

from dedup.errors import ConfigError, InputError
from dedup.io.warc import iter_warc
from dedup.model import Article, Skipped

#: File suffixes read from a directory (compared case-insensitively).
SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".txt",
    ".md",
    ".html",
    ".htm",
    ".json",
    ".jsonl",
    ".jsonl.gz",
    ".warc",
    ".warc.gz",
)

#: Suffix -> format, longest suffixes first.
_FORMATS: tuple[tuple[str, str], ...] = (
    (".jsonl.gz", "jsonl"),
    (".warc.gz", "warc"),
    (".jsonl", "jsonl"),
    (".json", "json"),
    (".html", "html"),
    (".htm", "html"),
    (".warc", "warc"),
    (".txt", "text"),
    (".md", "text"),
)

#: Metadata keys copied from a JSON record when present.
_METADATA_KEYS: tuple[str, ...] = ("title", "url", "published", "source")

_GZIP_MAGIC = b"\x1f\x8b"
#: A NUL byte in this many leading bytes marks a JSONL file as binary.
_SNIFF_BYTES = 8192
#: HTML documents sent to a worker process in one task.
_BATCH_SIZE = 8
#: Most keys listed in a "no 'text' field" message.
_MAX_KEYS_LISTED = 20

_BINARY = "binary file (contains NUL bytes)"
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class _File:
    """A file to read: ``path`` as the user would write it, ``relpath`` for ids."""

    path: str
    relpath: str
    fmt: str


@dataclass(frozen=True)
class _Text:
    """A document whose text is known."""

    id: str
    text: str
    where: str
    path: str
    title: str | None = None
    url: str | None = None
    published: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class _Html:
    """A document whose text must still be extracted from HTML.

    ``url`` and ``published``, when known from outside the page (a WARC
    header), win over what the page's own metadata says.
    """

    id: str
    data: bytes
    where: str
    path: str
    url: str | None = None
    published: str | None = None


class _Extracted(NamedTuple):
    """What trafilatura found in one page (``error`` set if it failed)."""

    text: str | None
    title: str | None
    published: str | None
    url: str | None
    error: str | None = None


_Item = _Text | _Html | Skipped


def read_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int = 1_000_000,
    on_skip: Callable[[Skipped], None] | None = None,
    workers: int = 1,
) -> Iterator[Article]:
    """Read articles from files and directories.

    Directories are searched recursively for files with a suffix in
    :data:`SUPPORTED_SUFFIXES`, in sorted order of their relative path;
    dot-files and dot-directories are ignored. A file named directly is read
    whatever its suffix (an unknown one as plain text) and is not filtered by
    ``include``/``exclude``.

    An article's id is its path relative to the PATH given (``/``-separated;
    the file name for a PATH that is a file), a JSON record's ``id_field``, or
    a WARC record's target URI. Input that cannot be used never stops the run:
    it is reported to ``on_skip`` and reading goes on.

    Args:
        paths: Files and directories. All are checked before anything is read.
        include: fnmatch globs on the relative path or the file name; if given,
            a file found in a directory must match one.
        exclude: fnmatch globs; matching files and directories are skipped
            silently.
        id_field: Key of a JSON record's id.
        text_field: Key of a JSON record's text.
        max_chars: Longer texts are skipped, not truncated.
        on_skip: Called with each :class:`Skipped`, in input order.
        workers: Processes extracting HTML; the output is the same for any value.

    Returns:
        An iterator of articles, in input order.

    Raises:
        InputError: A PATH does not exist.
        ConfigError: ``max_chars`` or ``workers`` is below 1.

    Example:
        Read a directory, collecting what could not be read::

            skipped: list[Skipped] = []
            articles = list(read_paths(["corpus/"], on_skip=skipped.append))
    """
    if max_chars < 1:
        raise ConfigError(f"max_chars must be at least 1, got {max_chars}")
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    roots: list[str] = []
    for path in paths:
        name = os.fspath(path)
        if not os.path.exists(name):
            raise InputError(f"{name}: no such file or directory")
        roots.append(name)
    items = _read_items(roots, tuple(include), tuple(exclude), id_field, text_field)
    return _checked(_extracted(items, workers), max_chars, on_skip)


# --------------------------------------------------------------------------- finding files


def _format_of(name: str) -> str | None:
    lowered = name.lower()
    for suffix, fmt in _FORMATS:
        if lowered.endswith(suffix):
            return fmt
    return None


def _matches(relpath: str, name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(relpath, p) or fnmatchcase(name, p) for p in patterns)


def _join(root: str, relpath: str) -> str:
    return os.path.join(root, *relpath.split("/")) if relpath else root


def _os_reason(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}"


def _is_regular_or_dangling(entry: os.DirEntry[str]) -> bool:
    """True for regular files (and broken links, so that they are reported)."""
    try:
        return stat.S_ISREG(entry.stat().st_mode)
    except OSError:
        return True


def _scan_directory(
    root: str, include: Sequence[str], exclude: Sequence[str]
) -> list[_File | Skipped]:
    """The readable files under ``root``, sorted by relative path, and a skip for
    each sub-directory that cannot be listed. Symlinked directories are not
    followed (no cycles)."""
    found: list[tuple[str, _File | Skipped]] = []
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        full_dir = _join(root, rel_dir)
        try:
            with os.scandir(full_dir) as listing:
                entries = list(listing)
        except OSError as exc:
            found.append((rel_dir, Skipped(full_dir, _os_reason(exc))))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relpath = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if _matches(relpath, entry.name, exclude):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                pending.append(relpath)
                continue
            fmt = _format_of(entry.name)
            if fmt is None or (include and not _matches(relpath, entry.name, include)):
                continue
            if _is_regular_or_dangling(entry):
                found.append((relpath, _File(_join(root, relpath), relpath, fmt)))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


def _open_binary(path: str) -> BinaryIO:
    """Open a file for reading (one place, so tests can simulate failures)."""
    return open(path, "rb")


# --------------------------------------------------------------------------- step 1: read


def _read_items(
    roots: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    id_field: str,
    text_field: str,
) -> Iterator[_Item]:
    for root in roots:
        files: Iterable[_File | Skipped]
        if os.path.isdir(root):
            files = _scan_directory(root, include, exclude)
        else:
            name = os.path.basename(root) or root
            files = [_File(root, name, _format_of(name) or "text")]
        for file in files:
            if isinstance(file, Skipped):
                yield file
            else:
                yield from _read_file(file, id_field, text_field)


def _read_file(file: _File, id_field: str, text_field: str) -> Iterator[_Item]:
    try:
        stream = _open_binary(file.path)
    except OSError as exc:
        yield Skipped(file.path, _os_reason(exc))
        return
    with stream:
        try:
            if file.fmt == "jsonl":
                yield from _read_jsonl(stream, file, id_field, text_field)
            elif file.fmt == "warc":
                yield from _read_warc(stream, file)
            else:
                data = stream.read()
                if file.fmt == "json":
                    yield from _read_json(data, file, id_field, text_field)
                elif file.fmt == "html":
                    yield _read_html(data, file)
                else:
                    yield _read_text(data, file)
        except OSError as exc:
            yield Skipped(file.path, _os_reason(exc))


def _decode(data: bytes) -> tuple[str, str | None]:
    """UTF-8 text without a leading BOM, or ``("", reason)``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    return text.removeprefix("\ufeff"), None


def _decode_as(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Text in the declared charset (UTF-8 when none or unknown), or ``("", reason)``."""
    if charset is None or charset.replace("-", "").replace("_", "") in ("utf8", "usascii", "ascii"):
        return _decode(data)
    try:
        return data.decode(charset), None
    except LookupError:
        return _decode(data)
    except UnicodeDecodeError as exc:
        return "", f"not valid {charset} (byte 0x{data[exc.start]:02x} at offset {exc.start})"


def _read_text(data: bytes, file: _File) -> _Item:
    if b"\x00" in data:
        return Skipped(file.path, _BINARY)
    text, reason = _decode(data)
    if reason is not None:
        return Skipped(file.path, reason)
    return _Text(id=file.relpath, text=text, where=file.path, path=file.path)


def _read_html(data: bytes, file: _File) -> _Item:
    if b"\x00" in data:
        return Skipped(file.path, _BINARY)
    if not data.strip():
        return Skipped(file.path, "empty")
    return _Html(id=file.relpath, data=data, where=file.path, path=file.path)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _as_str(value: Any) -> str:
    """A JSON value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _record(
    value: Any,
    *,
    where: str,
    default_id: str,
    path: str,
    id_field: str,
    text_field: str,
) -> _Item:
    """One JSON record as a document, or the reason it is not one."""
    if not isinstance(value, dict):
        return Skipped(where, "record is not a JSON object")
    if text_field not in value:
        keys = sorted(str(key) for key in value)
        listed = ", ".join(keys[:_MAX_KEYS_LISTED]) or "none"
        if len(keys) > _MAX_KEYS_LISTED:
            listed += ", ..."
        return Skipped(where, f"no '{text_field}' field (available keys: {listed})")
    text = value[text_field]
    if not isinstance(text, str):
        return Skipped(where, f"'{text_field}' is not a string")
    raw_id = value.get(id_field)
    article_id = default_id if raw_id is None or raw_id == "" else _as_str(raw_id)
    metadata = {
        key: _as_str(value[key])
        for key in _METADATA_KEYS
        if value.get(key) is not None and value.get(key) != ""
    }
    return _Text(id=article_id, text=text, where=where, path=path, **metadata)


def _read_json(data: bytes, file: _File, id_field: str, text_field: str) -> Iterator[_Item]:
    if b"\x00" in data:
        yield Skipped(file.path, _BINARY)
        return
    text, reason = _decode(data)
    if reason is not None:
        yield Skipped(file.path, reason)
        return
    if not text.strip():
        yield Skipped(file.path, "empty")
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Skipped(
            file.path, f"malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        )
        return
    fields = {"path": file.path, "id_field": id_field, "text_field": text_field}
    if isinstance(value, dict) and isinstance(value.get("articles"), list):
        records = value["articles"]
    elif isinstance(value, list):
        records = value
    elif isinstance(value, dict):
        yield _record(value, where=file.path, default_id=file.relpath, **fields)
        return
    else:
        yield Skipped(
            file.path,
            "expected a JSON object, a list of objects or an object with an 'articles' list"
            f" (got {_json_type(value)})",
        )
        return
    if not records:
        yield Skipped(file.path, "empty")
        return
    for index, record in enumerate(records):
        yield _record(
            record,
            where=f"{file.path}#{index}",
            default_id=f"{file.relpath}#{index}",
            **fields,
        )


def _sniff(stream: BinaryIO, compressed: bool) -> bytes:
    """The first bytes of the (decompressed) content; the stream is rewound.

    Reads in small steps and stops quietly at a gzip error, so a short
    truncated file still gives the lines before the damage."""
    reader: BinaryIO | gzip.GzipFile = (
        gzip.GzipFile(fileobj=stream, mode="rb") if compressed else stream
    )
    head = b""
    try:
        while len(head) < _SNIFF_BYTES:
            chunk = reader.read(1024)
            if not chunk:
                break
            head += chunk
    except _GZIP_ERRORS:
        pass
    stream.seek(0)
    return head


def _read_jsonl(stream: BinaryIO, file: _File, id_field: str, text_field: str) -> Iterator[_Item]:
    compressed = stream.read(2) == _GZIP_MAGIC
    stream.seek(0)
    if b"\x00" in _sniff(stream, compressed):
        yield Skipped(file.path, _BINARY)
        return
    lines: Iterable[bytes] = gzip.GzipFile(fileobj=stream, mode="rb") if compressed else stream
    lineno = 0
    saw_record = False
    try:
        for raw in lines:
            lineno += 1
            where = f"{file.path}:{lineno}"
            text, reason = _decode(raw)
            if reason is not None:
                saw_record = True
                yield Skipped(where, reason)
                continue
            if not text.strip():
                continue
            saw_record = True
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Skipped(where, f"malformed JSON ({exc.msg} at column {exc.colno})")
                continue
            yield _record(
                value,
                where=where,
                default_id=f"{file.relpath}:{lineno}",
                path=file.path,
                id_field=id_field,
                text_field=text_field,
            )
    except _GZIP_ERRORS as exc:
        yield Skipped(f"{file.path}:{lineno + 1}", f"corrupt gzip stream: {exc}")
        return
    if not saw_record:
        yield Skipped(file.path, "empty")


def _read_warc(stream: BinaryIO, file: _File) -> Iterator[_Item]:
    for document in iter_warc(stream, file.path):
        if isinstance(document, Skipped):
            yield document
            continue
        article_id = document.uri or f"{file.relpath}:record {document.number}"
        if document.kind == "html":
            if not document.payload.strip():
                yield Skipped(document.where, "empty")
                continue
            yield _Html(
                id=article_id,
                data=document.payload,
                where=document.where,
                path=file.path,
                url=document.uri,
                published=document.date,
            )
            continue
        text, reason = _decode_as(document.payload, document.charset)
        if reason is not None:
            yield Skipped(document.where, reason)
            continue
        yield _Text(
            id=article_id,
            text=text,
            where=document.where,
            path=file.path,
            url=document.uri,
            published=document.date,
        )


# --------------------------------------------------------------------------- step 2: extract


def _field(document: Any, name: str) -> str | None:
    value = document.get(name) if isinstance(document, dict) else getattr(document, name, None)
    return value if isinstance(value, str) and value.strip() else None


def _extract_html(data: bytes, url: str | None) -> _Extracted:
    """Main text (paragraphs on separate lines, no comments), title, date and
    URL of one page, as ``trafilatura.extract`` and its metadata would give."""
    import trafilatura  # slow to import: only when there is HTML to read

    try:
        document = trafilatura.bare_extraction(
            data, url=url, include_comments=False, with_metadata=True
        )
    except Exception as exc:  # lxml and trafilatura fail in many ways on bad pages
        return _Extracted(None, None, None, None, " ".join(str(exc).split()) or type(exc).__name__)
    if document is None:
        return _Extracted(None, None, None, None)
    text = _field(document, "text")
    if text is not None:
        text = unicodedata.normalize("NFC", text).strip()
    return _Extracted(
        text=text,
        title=_field(document, "title"),
        published=_field(document, "date"),
        url=_field(document, "url"),
    )


def _extract_batch(pages: list[tuple[bytes, str | None]]) -> list[_Extracted]:
    """Worker-process task: extract several pages."""
    return [_extract_html(data, url) for data, url in pages]


def _resolve(doc: _Html, found: _Extracted) -> _Text | Skipped:
    if found.error is not None:
        return Skipped(doc.where, f"cannot parse HTML: {found.error}")
    if not found.text:
        return Skipped(doc.where, "no article text found in HTML")
    return _Text(
        id=doc.id,
        text=found.text,
        where=doc.where,
        path=doc.path,
        title=found.title,
        url=doc.url or found.url,
        published=doc.published or found.published,
    )


@dataclass
class _Batch:
    """HTML documents extracted together in one worker task."""

    docs: list[_Html] = field(default_factory=list)
    future: Future[list[_Extracted]] | None = None


def _extracted(items: Iterator[_Item], workers: int) -> Iterator[_Text | Skipped]:
    """Replace each HTML document by its text (or a skip), keeping the order.

    With several workers, batches of pages go to a process pool while later
    items are read; at most ``2 * workers`` batches are in flight.
    """
    if workers == 1:
        for item in items:
            if isinstance(item, _Html):
                yield _resolve(item, _extract_html(item.data, item.url))
            else:
                yield item
        return

    pool = ProcessPoolExecutor(max_workers=workers)
    window: deque[tuple[_Text | Skipped | _Html, _Batch | None, int]] = deque()
    in_flight: deque[_Batch] = deque()
    current = _Batch()

    def submit(batch: _Batch) -> Future[list[_Extracted]]:
        batch.future = pool.submit(_extract_batch, [(d.data, d.url) for d in batch.docs])
        in_flight.append(batch)
        return batch.future

    def pop_front() -> _Text | Skipped:
        nonlocal current
        item, batch, index = window.popleft()
        if not isinstance(item, _Html):
            return item
        if batch is None:  # not reached: every HTML document is queued with its batch
            return _resolve(item, _extract_html(item.data, item.url))
        future = batch.future
        if future is None:  # the batch still being filled: send it as it is
            future = submit(batch)
            current = _Batch()
        if index == len(batch.docs) - 1:
            in_flight.popleft()
        return _resolve(item, future.result()[index])

    try:
        for item in items:
            if isinstance(item, _Html):
                window.append((item, current, len(current.docs)))
                current.docs.append(item)
                if len(current.docs) >= _BATCH_SIZE:
                    submit(current)
                    current = _Batch()
            else:
                window.append((item, None, 0))
            while window and (
                len(in_flight) > 2 * workers or len(window) > 4 * workers * _BATCH_SIZE
            ):
                yield pop_front()
        while window:
            yield pop_front()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- step 3: check


def _checked(
    items: Iterator[_Text | Skipped],
    max_chars: int,
    on_skip: Callable[[Skipped], None] | None,
) -> Iterator[Article]:
    first_seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, _Text):
            if not item.text.strip():
                item = Skipped(item.where, "empty")
            elif len(item.text) > max_chars:
                item = Skipped(
                    item.where, f"{len(item.text)} characters, over --max-chars {max_chars}"
                )
            elif item.id in first_seen:
                item = Skipped(
                    item.where, f"duplicate id '{item.id}' (first seen in {first_seen[item.id]})"
                )
            else:
                first_seen[item.id] = item.where
                yield Article(
                    id=item.id,
                    text=item.text,
                    title=item.title,
                    url=item.url,
                    published=item.published,
                    source=item.source,
                    path=item.path,
                )
                continue
        if on_skip is not None:
            on_skip(item)
