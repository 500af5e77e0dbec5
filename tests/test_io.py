"""Tests for dedup.io: every format, the id rules, filters, order, and every skip reason."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Generator, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import trafilatura
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dedup.errors import ConfigError, InputError
from dedup.io import SUPPORTED_SUFFIXES, read_paths, readers
from dedup.model import Article, Skipped

# --------------------------------------------------------------------------- helpers


def read(
    paths: Sequence[str | os.PathLike[str]], **options: Any
) -> tuple[list[Article], list[Skipped]]:
    """All articles and all skips of one call."""
    skipped: list[Skipped] = []
    articles = list(read_paths(paths, on_skip=skipped.append, **options))
    return articles, skipped


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def jsonl(*records: Any) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def page(
    title: str,
    paragraphs: Sequence[str],
    *,
    date: str | None = None,
    url: str | None = None,
    comment: str | None = None,
) -> str:
    """A news page with navigation and (optionally) a comment section around the article."""
    head = f"<title>{title}</title>"
    if date:
        head += f'<meta name="date" content="{date}">'
    if url:
        head += f'<link rel="canonical" href="{url}">'
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    comments = f'<div class="comments"><p>{comment}</p></div>' if comment else ""
    return (
        f"<html><head>{head}</head><body><nav><a href='/'>Home</a> | <a href='/news'>News</a>"
        f"</nav><article>{body}</article>{comments}</body></html>"
    )


STORM = (
    "The storm made landfall early on Tuesday, bringing heavy winds and rain to the region.",
    "Officials said thousands of homes lost power and schools were closed for the day.",
)
FLOOD = (
    "Rivers rose above their banks overnight after three days of continuous rainfall upstream.",
    "Emergency crews evacuated several villages and opened shelters in the town hall.",
)


def http_response(
    writer: WARCWriter,
    uri: str,
    body: bytes,
    *,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    date: str = "2024-05-01T12:00:00Z",
) -> None:
    headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        uri,
        "response",
        payload=BytesIO(body),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)


def resource(
    writer: WARCWriter, uri: str, body: bytes, content_type: str, date: str
) -> None:
    record = writer.create_warc_record(
        uri,
        "resource",
        payload=BytesIO(body),
        warc_content_type=content_type,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)


def request(writer: WARCWriter, uri: str) -> None:
    headers = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.com")], is_http_request=True)
    record = writer.create_warc_record(
        uri, "request", payload=BytesIO(b""), http_headers=headers
    )
    writer.write_record(record)


def crawl_warc(compress: bool) -> bytes:
    """warcinfo, request, a good HTML page, an image, a 404 page, a plain-text
    resource and a second HTML page: three documents."""
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    writer.write_record(writer.create_warcinfo_record("crawl.warc", {"software": "tests"}))
    request(writer, "https://news.example/storm")
    http_response(
        writer,
        "https://news.example/storm",
        page("Storm hits coast", STORM, date="2024-03-05").encode(),
        date="2024-05-01T12:00:00Z",
    )
    http_response(
        writer,
        "https://news.example/logo.png",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        content_type="image/png",
    )
    http_response(
        writer,
        "https://news.example/missing",
        page("Not found", FLOOD).encode(),
        status="404 Not Found",
    )
    resource(
        writer,
        "urn:text:wire-1",
        "Caf\u00e9 owners reopened after the flood.".encode("latin-1"),
        "text/plain; charset=iso-8859-1",
        "2024-05-02T08:00:00Z",
    )
    http_response(
        writer,
        "https://news.example/flood",
        page("Flood warning", FLOOD).encode(),
        content_type="application/xhtml+xml",
        date="2024-05-03T09:30:00Z",
    )
    return buffer.getvalue()


STORM_TEXT = "\n".join(STORM)
FLOOD_TEXT = "\n".join(FLOOD)


# --------------------------------------------------------------------------- paths and ids


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == (
        ".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".jsonl.gz", ".warc", ".warc.gz",
    )


def test_text_and_markdown(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "First line.\r\nSecond line.\n")
    write(tmp_path / "b.md", b"\xef\xbb\xbf# Heading\n\nBody \xc3\xa9t\xc3\xa9.\n")
    articles, skipped = read([tmp_path])
    assert articles == [
        Article(id="a.txt", text="First line.\r\nSecond line.\n", path=str(tmp_path / "a.txt")),
        Article(id="b.md", text="# Heading\n\nBody \u00e9t\u00e9.\n", path=str(tmp_path / "b.md")),
    ]
    assert skipped == []


def test_directory_order_ids_and_ignored_files(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for name in ("b.txt", "a/z.txt", "a.txt", "a/b/c.md", "C.TXT", "Upper.Md", "z/y.txt"):
        write(root / name, f"text of {name}")
    write(root / ".hidden.txt", "hidden")
    write(root / ".git" / "x.txt", "in a dot-directory")
    write(root / "notes.rst", "unsupported suffix")
    write(root / "data.csv", "a,b")
    articles, skipped = read([root])
    assert [a.id for a in articles] == [
        "C.TXT", "Upper.Md", "a.txt", "a/b/c.md", "a/z.txt", "b.txt", "z/y.txt",
    ]
    assert [a.text for a in articles][3] == "text of a/b/c.md"
    assert articles[3].path == str(root / "a" / "b" / "c.md")
    assert skipped == []


def test_order_is_the_same_whatever_the_creation_order(tmp_path: Path) -> None:
    names = ["m.txt", "b/a.txt", "a.txt", "b.txt", "aa.txt"]
    write_first, write_second = tmp_path / "one", tmp_path / "two"
    for name in names:
        write(write_first / name, name)
    for name in reversed(names):
        write(write_second / name, name)
    first = [a.id for a in read([write_first])[0]]
    second = [a.id for a in read([write_second])[0]]
    assert first == second == ["a.txt", "aa.txt", "b.txt", "b/a.txt", "m.txt"]


def test_file_path_id_is_its_name_and_unknown_suffix_is_text(tmp_path: Path) -> None:
    story = write(tmp_path / "deep" / "dir" / "story.txt", "A story.")
    notes = write(tmp_path / "NOTES", "Plain notes without a suffix.")
    log = write(tmp_path / "wire.log", "Wire log text.")
    articles, skipped = read([story, notes, str(log)])
    assert [(a.id, a.text, a.path) for a in articles] == [
        ("story.txt", "A story.", str(story)),
        ("NOTES", "Plain notes without a suffix.", str(notes)),
        ("wire.log", "Wire log text.", str(log)),
    ]
    assert skipped == []


def test_paths_are_read_in_the_order_given(tmp_path: Path) -> None:
    write(tmp_path / "x" / "1.txt", "one")
    write(tmp_path / "y" / "2.txt", "two")
    articles, _ = read([tmp_path / "y", tmp_path / "x"])
    assert [a.id for a in articles] == ["2.txt", "1.txt"]


def test_missing_path_raises_before_anything_is_read(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "fine")
    missing = tmp_path / "nope"
    seen: list[Skipped] = []
    with pytest.raises(InputError, match=re.escape(f"{missing}: no such file or directory")):
        read_paths([good, missing], on_skip=seen.append)
    assert seen == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_chars": 0}, "max_chars must be at least 1, got 0"),
        ({"workers": 0}, "workers must be at least 1, got 0"),
    ],
)
def test_bad_options(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_paths([tmp_path], **options)


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ((), (), ["a.txt", "drafts/d.txt", "feed.jsonl", "sub/b.md"]),
        (("*.txt",), (), ["a.txt", "drafts/d.txt"]),
        (("sub/*",), (), ["sub/b.md"]),
        (("b.md", "a.txt"), (), ["a.txt", "sub/b.md"]),
        ((), ("drafts",), ["a.txt", "feed.jsonl", "sub/b.md"]),
        ((), ("*.jsonl", "sub"), ["a.txt", "drafts/d.txt"]),
        (("*.txt",), ("drafts/*",), ["a.txt"]),
        (("*.rst",), (), []),
    ],
)
def test_include_and_exclude(
    tmp_path: Path, include: tuple[str, ...], exclude: tuple[str, ...], expected: list[str]
) -> None:
    write(tmp_path / "a.txt", "a")
    write(tmp_path / "sub" / "b.md", "b")
    write(tmp_path / "drafts" / "d.txt", "d")
    write(tmp_path / "feed.jsonl", jsonl({"id": "feed.jsonl", "text": "f"}))
    write(tmp_path / "notes.rst", "not supported, even when included")
    articles, skipped = read([tmp_path], include=include, exclude=exclude)
    assert [a.id for a in articles] == expected
    assert skipped == []


def test_filters_do_not_apply_to_a_file_named_directly(tmp_path: Path) -> None:
    story = write(tmp_path / "story.md", "named directly")
    articles, _ = read([story], include=("*.txt",), exclude=("*.md",))
    assert [a.id for a in articles] == ["story.md"]


# --------------------------------------------------------------------------- JSON and JSONL


def test_jsonl_ids_metadata_and_blank_lines(tmp_path: Path) -> None:
    feed = write(
        tmp_path / "feed.jsonl",
        json.dumps({"id": 7, "text": "Seven.", "title": "T7", "url": "https://x/7",
                    "published": "2024-01-07", "source": "AP", "extra": "ignored"})
        + "\n\n   \n"
        + json.dumps({"text": "No id.", "published": 20240108})
        + "\n"
        + json.dumps({"id": "", "text": "Empty id.", "title": ""})
        + "\n",
    )
    articles, skipped = read([tmp_path])
    path = str(feed)
    assert articles == [
        Article(id="7", text="Seven.", title="T7", url="https://x/7", published="2024-01-07",
                source="AP", path=path),
        Article(id="feed.jsonl:4", text="No id.", published="20240108", path=path),
        Article(id="feed.jsonl:5", text="Empty id.", path=path),
    ]
    assert skipped == []


def test_jsonl_custom_fields(tmp_path: Path) -> None:
    write(tmp_path / "f.jsonl", jsonl({"guid": "g1", "body": "Body one."}, {"body": "Body two."}))
    articles, skipped = read([tmp_path], id_field="guid", text_field="body")
    assert [(a.id, a.text) for a in articles] == [("g1", "Body one."), ("f.jsonl:2", "Body two.")]
    assert skipped == []


def test_jsonl_gz(tmp_path: Path) -> None:
    data = jsonl({"id": "a", "text": "Alpha."}, {"text": "Beta.", "source": "Reuters"})
    write(tmp_path / "feed.jsonl.gz", gzip.compress(data.encode()))
    # Compression is told by the content, not the name.
    write(tmp_path / "plain.jsonl.gz", jsonl({"text": "Not compressed."}))
    articles, skipped = read([tmp_path])
    assert [(a.id, a.text, a.source) for a in articles] == [
        ("a", "Alpha.", None),
        ("feed.jsonl.gz:2", "Beta.", "Reuters"),
        ("plain.jsonl.gz:1", "Not compressed.", None),
    ]
    assert skipped == []


def test_json_shapes(tmp_path: Path) -> None:
    write(tmp_path / "a_single.json", json.dumps({"text": "Single.", "title": "One"}))
    write(tmp_path / "b_single_id.json", json.dumps({"id": "s-2", "text": "Single with id."}))
    write(tmp_path / "c_list.json", json.dumps([{"text": "First."}, {"id": 9, "text": "Second."}]))
    write(
        tmp_path / "d_wrapped.json",
        "\ufeff" + json.dumps({"feed": "x", "articles": [{"text": "Wrapped.", "url": "u"}]}),
    )
    articles, skipped = read([tmp_path])
    assert [(a.id, a.text, a.title, a.url) for a in articles] == [
        ("a_single.json", "Single.", "One", None),
        ("s-2", "Single with id.", None, None),
        ("c_list.json#0", "First.", None, None),
        ("9", "Second.", None, None),
        ("d_wrapped.json#0", "Wrapped.", None, "u"),
    ]
    assert skipped == []


# --------------------------------------------------------------------------- HTML


def test_html_text_and_metadata(tmp_path: Path) -> None:
    html = page(
        "Storm hits coast", STORM, date="2024-03-05", url="https://news.example/storm",
        comment="Great article, thanks!",
    )
    write(tmp_path / "storm.html", html)
    write(tmp_path / "flood.HTM", page("Flood warning", FLOOD))
    articles, skipped = read([tmp_path])
    assert skipped == []
    storm, flood = articles[1], articles[0]
    assert storm == Article(
        id="storm.html",
        text=STORM_TEXT,
        title="Storm hits coast",
        url="https://news.example/storm",
        published="2024-03-05",
        path=str(tmp_path / "storm.html"),
    )
    assert storm.text == trafilatura.extract(html, include_comments=False)
    assert (flood.id, flood.text, flood.title, flood.url) == (
        "flood.HTM", FLOOD_TEXT, "Flood warning", None,
    )


def test_html_extractor_failure_is_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("parser gave up\n  on this page")

    write(tmp_path / "a.html", page("Storm", STORM))
    write(tmp_path / "b.txt", "Still read.")
    monkeypatch.setattr(trafilatura, "bare_extraction", broken)
    articles, skipped = read([tmp_path])
    assert [a.id for a in articles] == ["b.txt"]
    assert skipped == [
        Skipped(str(tmp_path / "a.html"), "cannot parse HTML: parser gave up on this page")
    ]


def test_html_in_another_encoding(tmp_path: Path) -> None:
    paragraphs = [
        "Le caf\u00e9 du coin a rouvert ses portes apr\u00e8s trois mois de travaux"
        " d'\u00e9t\u00e9.",
        "Les habitu\u00e9s sont revenus d\u00e8s l'ouverture, \u00e0 sept heures du matin.",
    ]
    html = page("Caf\u00e9", paragraphs).replace("<head>", '<head><meta charset="iso-8859-1">')
    write(tmp_path / "cafe.html", html.encode("latin-1"))
    articles, skipped = read([tmp_path])
    assert skipped == []
    assert [(a.text, a.title) for a in articles] == [("\n".join(paragraphs), "Caf\u00e9")]


# --------------------------------------------------------------------------- WARC


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc", "mislabelled.warc"])
def test_warc_documents(tmp_path: Path, name: str) -> None:
    compress = name != "crawl.warc"
    warc = write(tmp_path / name, crawl_warc(compress))
    articles, skipped = read([tmp_path])
    assert skipped == []
    assert articles == [
        Article(
            id="https://news.example/storm",
            text=STORM_TEXT,
            title="Storm hits coast",
            url="https://news.example/storm",
            published="2024-05-01T12:00:00Z",
            path=str(warc),
        ),
        Article(
            id="urn:text:wire-1",
            text="Caf\u00e9 owners reopened after the flood.",
            url="urn:text:wire-1",
            published="2024-05-02T08:00:00Z",
            path=str(warc),
        ),
        Article(
            id="https://news.example/flood",
            text=FLOOD_TEXT,
            title="Flood warning",
            url="https://news.example/flood",
            published="2024-05-03T09:30:00Z",
            path=str(warc),
        ),
    ]


def test_warc_html_resource_without_uri_gets_record_id(tmp_path: Path) -> None:
    buffer = BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    record = writer.create_warc_record(
        "", "resource", payload=BytesIO(page("Storm", STORM).encode()),
        warc_content_type="text/html",
    )
    record.rec_headers.remove_header("WARC-Target-URI")
    writer.write_record(record)
    write(tmp_path / "r.warc", buffer.getvalue())
    articles, skipped = read([tmp_path])
    assert skipped == []
    assert [(a.id, a.text, a.url) for a in articles] == [("r.warc:record 1", STORM_TEXT, None)]


def _last_content_length(data: bytes) -> int:
    return int(re.findall(rb"Content-Length: (\d+)", data)[-1])


def test_warc_truncated_in_a_record(tmp_path: Path) -> None:
    data = crawl_warc(compress=False)
    length = _last_content_length(data)
    # The file ends with the block, then "\r\n\r\n": cut 50 bytes off the block.
    warc = write(tmp_path / "cut.warc", data[: len(data) - 4 - 50])
    articles, skipped = read([tmp_path])
    assert [a.id for a in articles] == ["https://news.example/storm", "urn:text:wire-1"]
    assert skipped == [
        Skipped(
            f"{warc}:record 7 (https://news.example/flood)",
            f"broken WARC record: truncated ({length - 50} of {length} bytes)",
        )
    ]


@pytest.mark.parametrize(
    ("cut_after", "where", "reason"),
    [
        (b"WARC/1.0\r\nWARC-Da", "record 7", "broken WARC record: malformed or truncated header"),
        (b"WARC-Target-U", "record 7", "broken WARC record: malformed or truncated header"),
        (b"Content-Len", "record 7", "broken WARC record: malformed or truncated header"),
        (
            b"HTTP/1",
            "record 7 (https://news.example/flood)",
            "broken WARC record: truncated (6 of 383 bytes)",
        ),
    ],
)
def test_warc_truncated_in_a_header(
    tmp_path: Path, cut_after: bytes, where: str, reason: str
) -> None:
    data = crawl_warc(compress=False)
    assert _last_content_length(data) == 383
    last = data.rindex(b"WARC/1.0\r\n")
    warc = write(tmp_path / "cut.warc", data[: data.index(cut_after, last) + len(cut_after)])
    articles, skipped = read([tmp_path])
    assert [a.id for a in articles] == ["https://news.example/storm", "urn:text:wire-1"]
    assert skipped == [Skipped(f"{warc}:{where}", reason)]


def test_warc_gz_truncated(tmp_path: Path) -> None:
    data = crawl_warc(compress=True)
    warc = write(tmp_path / "cut.warc.gz", data[:-60])
    articles, skipped = read([tmp_path])
    assert [a.id for a in articles] == ["https://news.example/storm", "urn:text:wire-1"]
    assert skipped == [
        Skipped(
            f"{warc}:record 7 (https://news.example/flood)",
            "corrupt gzip stream: Compressed file ended before the end-of-stream marker"
            " was reached",
        )
    ]


def test_warc_not_an_archive(tmp_path: Path) -> None:
    warc = write(tmp_path / "junk.warc", "this is not\na warc file\n")
    articles, skipped = read([tmp_path])
    assert articles == []
    assert skipped == [
        Skipped(
            f"{warc}:record 1",
            "broken WARC record: Unknown archive format, first line: ['this', 'is', 'not']",
        )
    ]


# --------------------------------------------------------------------------- skips


def _permission_denied(path: str) -> Any:
    raise PermissionError(13, "Permission denied", path)


def test_every_skip_reason_and_the_good_files_around_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "corpus"
    p = root.joinpath
    write(p("a00_good.txt"), "Good text before the bad ones.")
    write(p("a01_utf8.txt"), b"hello world \xff and more")
    write(p("a02_binary.txt"), b"PK\x03\x04\x00\x00binary")
    write(p("a03_empty.txt"), b"")
    write(p("a04_blank.md"), "  \n\t\n")
    write(p("a05_locked.txt"), "cannot be opened")
    os.symlink(p("does-not-exist.txt"), p("a06_dangling.txt"))
    write(
        p("a07_feed.jsonl"),
        "not json\n"
        + "[1, 2]\n"
        + json.dumps({"id": "x", "body": "b"}) + "\n"
        + json.dumps({"id": "y", "text": 42}) + "\n"
        + json.dumps({"id": "z", "text": " \n "}) + "\n"
        + json.dumps({"id": "x", "text": "First x."}) + "\n"
        + json.dumps({"id": "long", "text": "x" * 41}) + "\n",
    )
    write(p("a08_bad_line.jsonl"), b'{"text": "caf\xe9"}\n')
    write(p("a09_dup.jsonl"), jsonl({"id": "x", "text": "Second x."}))
    write(p("a10_empty.jsonl"), "\n\n")
    write(p("a11_binary.jsonl"), b'{"text": "a"}\n\x00\x01\x02\n')
    zipped_records = ({"id": f"gz{i}", "text": f"Zipped {i}."} for i in range(200))
    gz = gzip.compress(jsonl(*zipped_records).encode())
    write(p("a12_cut.jsonl.gz"), gz[: len(gz) // 2])
    write(p("a13_not_gzip.jsonl.gz"), b"\x1f\x8bthis is no gzip stream")
    write(p("a14_malformed.json"), '[\n  {"text": "a"}\n  {"text": "b"}\n]')
    write(p("a15_scalar.json"), "42")
    write(p("a16_empty_list.json"), "[]")
    write(p("a17_list.json"), json.dumps(["just a string", {"text": "Listed."}]))
    write(p("a18_nothing.html"), "<html><head><title>Title</title></head><body></body></html>")
    write(p("a19_blank.html"), "\n\n")
    write(p("a20_binary.htm"), b"<html>\x00</html>")
    write(p("a21_empty.warc"), b"")
    write(p("z99_good.md"), "Good text after the bad ones.")

    real_open = readers._open_binary

    def fake_open(path: str) -> Any:
        if path.endswith("a05_locked.txt"):
            _permission_denied(path)
        return real_open(path)

    monkeypatch.setattr(readers, "_open_binary", fake_open)
    articles, skipped = read([root], max_chars=40)

    ids = [a.id for a in articles]
    assert ids[:2] == ["a00_good.txt", "x"]
    assert ids[-2:] == ["a17_list.json#1", "z99_good.md"]
    zipped = ids[2:-2]
    assert zipped and zipped == [f"gz{i}" for i in range(len(zipped))]
    assert articles[1].text == "First x."
    assert articles[-1].text == "Good text after the bad ones."

    where = {s.where.removeprefix(str(root) + os.sep): s.reason for s in skipped}
    assert where == {
        "a01_utf8.txt": "not valid UTF-8 (byte 0xff at offset 12)",
        "a02_binary.txt": "binary file (contains NUL bytes)",
        "a03_empty.txt": "empty",
        "a04_blank.md": "empty",
        "a05_locked.txt": "cannot read: Permission denied",
        "a06_dangling.txt": "cannot read: No such file or directory",
        "a07_feed.jsonl:1": "malformed JSON (Expecting value at column 1)",
        "a07_feed.jsonl:2": "record is not a JSON object",
        "a07_feed.jsonl:3": "no 'text' field (available keys: body, id)",
        "a07_feed.jsonl:4": "'text' is not a string",
        "a07_feed.jsonl:5": "empty",
        "a07_feed.jsonl:7": "41 characters, over --max-chars 40",
        "a08_bad_line.jsonl:1": "not valid UTF-8 (byte 0xe9 at offset 13)",
        "a09_dup.jsonl:1": f"duplicate id 'x' (first seen in {p('a07_feed.jsonl')}:6)",
        "a10_empty.jsonl": "empty",
        "a11_binary.jsonl": "binary file (contains NUL bytes)",
        f"a12_cut.jsonl.gz:{len(zipped) + 1}": "corrupt gzip stream: Compressed file ended"
        " before the end-of-stream marker was reached",
        "a13_not_gzip.jsonl.gz:1": "corrupt gzip stream: Unknown compression method",
        "a14_malformed.json": "malformed JSON (Expecting ',' delimiter at line 3 column 3)",
        "a15_scalar.json": "expected a JSON object, a list of objects or an object with an"
        " 'articles' list (got number)",
        "a16_empty_list.json": "empty",
        "a17_list.json#0": "record is not a JSON object",
        "a18_nothing.html": "no article text found in HTML",
        "a19_blank.html": "empty",
        "a20_binary.htm": "binary file (contains NUL bytes)",
        "a21_empty.warc": "empty",
    }
    # Skips are reported in input order, each once.
    assert len(skipped) == len(where)
    assert [s.where for s in skipped] == sorted(s.where for s in skipped)



def test_unlistable_directory_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a.txt", "A.")
    write(tmp_path / "locked" / "b.txt", "B.")
    write(tmp_path / "z.txt", "Z.")
    real_scandir = os.scandir

    def fake_scandir(path: str) -> Any:
        if path.endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(readers.os, "scandir", fake_scandir)
    articles, skipped = read([tmp_path])
    assert [a.id for a in articles] == ["a.txt", "z.txt"]
    assert skipped == [Skipped(str(tmp_path / "locked"), "cannot read: Permission denied")]


def test_duplicate_ids_across_paths(tmp_path: Path) -> None:
    story = write(tmp_path / "story.txt", "Same file twice.")
    write(tmp_path / "other" / "story.txt", "Same name, other directory.")
    articles, skipped = read([story, tmp_path / "other", story])
    assert [a.text for a in articles] == ["Same file twice."]
    assert skipped == [
        Skipped(
            str(tmp_path / "other" / "story.txt"),
            f"duplicate id 'story.txt' (first seen in {story})",
        ),
        Skipped(str(story), f"duplicate id 'story.txt' (first seen in {story})"),
    ]


def test_a_skipped_record_does_not_claim_its_id(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", jsonl({"id": "k", "text": "   "}, {"id": "k", "text": "Real."}))
    articles, skipped = read([tmp_path])
    assert [(a.id, a.text) for a in articles] == [("k", "Real.")]
    assert skipped == [Skipped(f"{tmp_path / 'a.jsonl'}:1", "empty")]


def test_text_at_max_chars_is_kept(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x" * 10)
    write(tmp_path / "b.txt", "x" * 11)
    articles, skipped = read([tmp_path], max_chars=10)
    assert [a.id for a in articles] == ["a.txt"]
    assert skipped == [Skipped(str(tmp_path / "b.txt"), "11 characters, over --max-chars 10")]


# --------------------------------------------------------------------------- workers


def _mixed_corpus(root: Path) -> None:
    """HTML pages (more than one batch) among text, JSONL, WARC and bad files."""
    for i in range(23):
        if i % 5 == 0:
            write(root / f"p{i:02d}.html", "<html><body></body></html>")
        else:
            paragraphs = [f"Story number {i}: {STORM[0]}", f"Update {i}: {FLOOD[i % 2]}"]
            html = page(f"Story {i}", paragraphs, date=f"2024-02-{i + 1:02d}")
            write(root / f"p{i:02d}.html", html)
        if i % 4 == 0:
            write(root / f"p{i:02d}_note.txt", f"Note {i}.")
        if i % 7 == 0:
            write(root / f"p{i:02d}_bad.txt", b"\xfe\xff")
    write(root / "q_feed.jsonl", jsonl({"id": "p03.html", "text": "Clashes with a page id."}))
    write(root / "r_crawl.warc.gz", crawl_warc(compress=True))


def test_workers_give_the_same_output(tmp_path: Path) -> None:
    _mixed_corpus(tmp_path)
    one = read([tmp_path], workers=1)
    two = read([tmp_path], workers=2)
    assert two == one
    articles, skipped = one
    assert len(articles) == 18 + 6 + 3
    assert [a.id for a in articles][:3] == ["p00_note.txt", "p01.html", "p02.html"]
    assert (articles[1].title, articles[1].published) == ("Story 1", "2024-02-02")
    assert len(skipped) == 5 + 4 + 1
    assert skipped[:2] == [
        Skipped(str(tmp_path / "p00.html"), "no article text found in HTML"),
        Skipped(str(tmp_path / "p00_bad.txt"), "not valid UTF-8 (byte 0xfe at offset 0)"),
    ]
    assert skipped[-1] == Skipped(
        f"{tmp_path / 'q_feed.jsonl'}:1",
        f"duplicate id 'p03.html' (first seen in {tmp_path / 'p03.html'})",
    )


def test_stopping_early_with_workers(tmp_path: Path) -> None:
    _mixed_corpus(tmp_path)
    stream = read_paths([tmp_path], workers=2)
    assert isinstance(stream, Generator)
    first = [next(stream) for _ in range(3)]
    stream.close()  # shuts the pool down, cancelling the batches not started
    assert [a.id for a in first] == ["p00_note.txt", "p01.html", "p02.html"]
