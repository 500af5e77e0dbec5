"""WARC archives: the documents worth reading, one record at a time.

:func:`iter_warc` walks a ``.warc`` or ``.warc.gz`` archive with warcio and
yields the records that can hold an article: ``response`` records with an HTML
payload and ``resource`` records with a plain-text or HTML payload. Other
records (``warcinfo``, ``request``, ``revisit``, images, ...) are ignored
silently. A damaged archive yields what it had before the damage, then one
:class:`dedup.model.Skipped` saying where and why it stopped.

warcio does not notice a record cut short, nor a header cut off at the end of
the file, on its own: both are checked here against ``Content-Length`` and
against the bytes left unparsed.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeadersParserException

from dedup.model import Skipped

#: Media types whose payload is read as HTML.
HTML_TYPES: tuple[str, ...] = ("text/html", "application/xhtml+xml")

#: Media types whose payload is read as plain text (``resource`` records only).
TEXT_TYPES: tuple[str, ...] = ("text/plain",)

_GZIP_MAGIC = b"\x1f\x8b"
_BAD_HEADER = "broken WARC record: malformed or truncated header"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class WarcDocument:
    """One record holding a document.

    Attributes:
        where: ``PATH:record N`` (1-based, counting every record), followed by
            `` (URI)`` when the record names its target.
        number: N, the 1-based position of the record in the archive.
        uri: ``WARC-Target-URI``, if any.
        date: ``WARC-Date``, if any.
        kind: ``"html"`` or ``"text"``: how to turn the payload into text.
        payload: The HTTP body (``response``) or the record block (``resource``),
            with transfer and content encodings undone.
        charset: The charset named by the Content-Type, if any.
    """

    where: str
    number: int
    uri: str | None
    date: str | None
    kind: Literal["html", "text"]
    payload: bytes
    charset: str | None


class _CorruptGzip(Exception):
    """The gzip layer under the archive failed (raised past warcio untouched)."""


class _CountingReader:
    """A read-only stream that counts what it hands out, so the end of the last
    parsed record can be compared with the end of the data.

    Decompression errors are turned into :class:`_CorruptGzip`: warcio reads an
    ``EOFError`` as a clean end of archive, which would hide a truncated file.
    """

    def __init__(self, stream: BinaryIO | gzip.GzipFile) -> None:
        self._stream = stream
        # read1 hands out what one step decompresses, so the data before a
        # truncation is returned before the error, not lost with it.
        self._read = stream.read1 if isinstance(stream, gzip.GzipFile) else stream.read
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._read(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _CorruptGzip(str(exc)) from exc
        self.position += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        try:
            data = self._stream.readline(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _CorruptGzip(str(exc)) from exc
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        """Nothing to do: the caller owns the underlying file."""


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """``"text/html; charset=UTF-8"`` -> ``("text/html", "utf-8")``."""
    if not content_type:
        return "", None
    parts = content_type.split(";")
    media = parts[0].strip().lower()
    charset = None
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'").lower()
    return media, charset


def _where(display: str, number: int, uri: str | None) -> str:
    where = f"{display}:record {number}"
    return f"{where} ({uri})" if uri else where


def _broken_reason(exc: Exception) -> str:
    if isinstance(exc, ArchiveLoadFailed | StatusAndHeadersParserException):
        message = " ".join(str(exc).split())
        return f"broken WARC record: {message}" if message else "broken WARC record"
    return _BAD_HEADER


def iter_warc(stream: BinaryIO, display: str) -> Iterator[WarcDocument | Skipped]:
    """Yield the documents of a WARC archive, and a skip where it breaks.

    The compression is told by the first bytes, not by the file name, so a
    ``.warc.gz`` that is not compressed (or the reverse) still reads.

    Args:
        stream: The archive, opened in binary mode at offset 0. Not closed here.
        display: The path as the user gave it, for ``where``.

    Yields:
        :class:`WarcDocument` for each ``response`` record with a 2xx status and
        an HTML payload, and each ``resource`` record with a plain-text or HTML
        payload; then, if the archive is damaged, one :class:`Skipped` for the
        first record that could not be read (``corrupt gzip stream: ...`` or
        ``broken WARC record: ...``). Nothing is yielded after it. An empty
        file yields one :class:`Skipped` with the reason ``empty``.
    """
    head = stream.read(2)
    stream.seek(0)
    if not head:
        yield Skipped(display, "empty")
        return
    raw = gzip.GzipFile(fileobj=stream, mode="rb") if head == _GZIP_MAGIC else stream
    counter = _CountingReader(raw)
    archive = ArchiveIterator(counter)
    number = 1  # the record being read, or the next one
    uri: str | None = None  # its target, once known
    try:
        for record in archive:
            uri = record.rec_headers.get_header("WARC-Target-URI") or None
            length = (record.rec_headers.get_header("Content-Length") or "").strip()
            if not length.isdigit():
                yield Skipped(_where(display, number, uri), _BAD_HEADER)
                return
            document = _document(record, display, number, uri)
            while record.raw_stream.read(_CHUNK):
                pass
            left = getattr(record.raw_stream, "limit", 0)
            if left:
                yield Skipped(
                    _where(display, number, uri),
                    f"broken WARC record: truncated ({int(length) - left} of {length} bytes)",
                )
                return
            number, uri = number + 1, None
            if document is not None:
                yield document
    except _CorruptGzip as exc:
        yield Skipped(_where(display, number, uri), f"corrupt gzip stream: {exc}")
        return
    except Exception as exc:  # warcio raises several unrelated types on bad input
        yield Skipped(_where(display, number, uri), _broken_reason(exc))
        return
    parsed_to = getattr(archive, "offset", counter.position)
    if isinstance(parsed_to, int) and parsed_to < counter.position:
        yield Skipped(_where(display, number, None), _BAD_HEADER)


def _document(
    record: ArcWarcRecord, display: str, number: int, uri: str | None
) -> WarcDocument | None:
    """The document a record holds, or None for records that hold none.

    Reads the payload, so the caller must check for truncation afterwards.
    """
    rec_type = record.rec_type
    date = record.rec_headers.get_header("WARC-Date") or None
    kind: Literal["html", "text"]
    if rec_type == "response":
        http = record.http_headers
        if http is None:
            return None
        status = http.get_statuscode() or ""
        if not status.startswith("2"):
            return None
        media, charset = _media_type(http.get_header("Content-Type"))
        if media not in HTML_TYPES:
            return None
        kind = "html"
    elif rec_type == "resource":
        media, charset = _media_type(record.rec_headers.get_header("Content-Type"))
        if media in HTML_TYPES:
            kind = "html"
        elif media in TEXT_TYPES:
            kind = "text"
        else:
            return None
    else:
        return None
    payload = record.content_stream().read()
    return WarcDocument(
        where=_where(display, number, uri),
        number=number,
        uri=uri,
        date=date,
        kind=kind,
        payload=payload,
        charset=charset,
    )
