"""Tests for dedup.report.html: escaping, highlights, structure, CSP, browser."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dedup.model import Article, Cluster, Match, Passage, Report, Skipped
from dedup.report.html import render_html

# --------------------------------------------------------------------------
# corpus: a wire story, a trimmed and reordered copy, and a malicious page
# --------------------------------------------------------------------------

P1 = (
    "The city council voted 7-2 on Tuesday to approve a new budget that raises\n"
    "spending on public transit by 12 percent, officials said."
)
P2 = (
    "Opponents argued the plan would strain reserves, while supporters said\n"
    "ridership had recovered faster than expected since the pandemic."
)
P3 = "The mayor is expected to sign the measure next week, a spokeswoman said."

WIRE_TEXT = f"{P1}\n\n{P2}\n\n{P3}\n\n(Reporting by A. Writer; Editing by B. Editor)"
COPY_TEXT = f"LOCAL NEWS — {P3}\n\nOur own reporting follows here.\n\n{P1}\n\n{P2}\n\nAds."

PAYLOAD_SCRIPT = "<script>window.__pwned=1;document.title='PWNED'</script>"
PAYLOAD_IMG = "<img src=x onerror=\"document.title='PWNED'\">"
PAYLOAD_TEXTAREA = "</textarea>"
PAYLOAD_SVG = '"><svg onload=alert(1)>'
PAYLOADS = (PAYLOAD_SCRIPT, PAYLOAD_IMG, PAYLOAD_TEXTAREA, PAYLOAD_SVG)

EVIL_ID = f"evil{PAYLOAD_SCRIPT}"
EVIL_TITLE = f"Breaking {PAYLOAD_IMG} {PAYLOAD_SVG}"
EVIL_URL = "javascript:document.title='PWNED'"
EVIL_TEXT = (
    f"{PAYLOAD_SCRIPT}\n{PAYLOAD_IMG}\n{PAYLOAD_TEXTAREA}\n{PAYLOAD_SVG}\n\n"
    f"{P1}\n\n{P2} {PAYLOAD_SVG}"
)


def span(text: str, part: str) -> tuple[int, int]:
    """Character offsets of ``part`` in ``text`` (must occur)."""
    start = text.index(part)
    return start, start + len(part)


def passage(text_a: str, part_a: str, text_b: str, part_b: str, sim: float = 1.0) -> Passage:
    a_start, a_end = span(text_a, part_a)
    b_start, b_end = span(text_b, part_b)
    return Passage(a_start, a_end, b_start, b_end, sim)


def make_report() -> Report:
    """Cluster 1: wire / copy (reordered) / evil; a loose pair outside it."""
    wire = Article(
        id="wire-1",
        text=WIRE_TEXT,
        title="Council approves transit budget",
        url="https://example.com/story?id=1&ref=wire",
        published="2024-03-05T10:00:00Z",
        source="Wire Service",
    )
    copy = Article(
        id="copy-7",
        text=COPY_TEXT,
        title="Transit budget passes",
        url="http://local.example.org/transit",
        published="2024-03-05T14:30:00Z",
        source="Local Daily",
    )
    evil = Article(id=EVIL_ID, text=EVIL_TEXT, title=EVIL_TITLE, url=EVIL_URL,
                   published="2024-03-06", source=PAYLOAD_SVG)
    lone_a = Article(id="lone-a", text="Alpha beta gamma delta.\nEpsilon zeta.",
                     title="Lone A", url="data:text/html,<b>x</b>")
    lone_b = Article(id="lone-b", text="Intro. Alpha beta gamma delta.", title="Lone B")

    wire_copy = Match(
        a="copy-7", b="wire-1", score=0.91, jaccard=0.62, cosine=0.88,
        reuse_a_in_b=0.81, reuse_b_in_a=0.87,
        passages=(
            passage(COPY_TEXT, P3, WIRE_TEXT, P3, 0.99),
            passage(COPY_TEXT, P1, WIRE_TEXT, P1, 1.0),
            passage(COPY_TEXT, P2, WIRE_TEXT, P2, 0.97),
        ),
    )
    wire_evil = Match(
        a=EVIL_ID, b="wire-1", score=0.7, jaccard=0.5, cosine=0.75,
        reuse_a_in_b=0.6, reuse_b_in_a=0.66,
        passages=(
            passage(EVIL_TEXT, P1, WIRE_TEXT, P1, 1.0),
            # the reused passage itself carries a payload on side a
            passage(EVIL_TEXT, f"{P2} {PAYLOAD_SVG}", WIRE_TEXT, P2, 0.9),
        ),
    )
    loose = Match(
        a="lone-a", b="lone-b", score=0.4, jaccard=0.3, cosine=0.5,
        reuse_a_in_b=0.55, reuse_b_in_a=0.7,
        passages=(passage(lone_a.text, "Alpha beta gamma delta.", lone_b.text,
                          "Alpha beta gamma delta.", 0.95),),
    )
    cluster = Cluster(
        id=1,
        members=tuple(sorted(("copy-7", "wire-1", EVIL_ID))),
        source="wire-1",
        source_reason=f"earliest published; wire credit <b>{PAYLOAD_IMG}</b>",
    )
    return Report(
        articles=(wire, copy, evil, lone_a, lone_b),
        matches=(wire_copy, wire_evil, loose),
        clusters=(cluster,),
        stats={"articles": 5, "matches": 3, "clusters": 1, "skipped": 1,
               "candidates": 7, "note": PAYLOAD_SCRIPT, "seconds": {"read": 0.123}},
        skipped=(Skipped(where=f"feeds/{PAYLOAD_IMG}.jsonl:3", reason=PAYLOAD_SVG),),
        wire={"wire-1": "Reuters", "copy-7": "Reuters", EVIL_ID: PAYLOAD_TEXTAREA},
        match_cluster={(wire_copy.a, wire_copy.b): 1, (wire_evil.a, wire_evil.b): 1},
    )


# --------------------------------------------------------------------------
# helpers: parse the page the way a browser tokenizer would
# --------------------------------------------------------------------------


class Tags(HTMLParser):
    """Collects start tags with attributes and the text of <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def assert_no_injected_elements(parsed: Tags) -> None:
    """No element or event-handler attribute that came from a payload."""
    names = [tag for tag, _ in parsed.tags]
    assert names.count("script") == 1, names.count("script")
    for forbidden in ("img", "svg", "textarea", "iframe", "object", "embed", "link", "base"):
        assert forbidden not in names, forbidden
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "src" not in attrs, (tag, attrs)


def pair_html(page: str, pair_id: str) -> str:
    start = page.index(f'id="{pair_id}"')
    return page[start:page.index("</details>", start)]


def sides(pair: str) -> tuple[str, str]:
    a_at = pair.index('<div class="side side-a"')
    b_at = pair.index('<div class="side side-b"')
    return pair[a_at:b_at], pair[b_at:]


MARK = re.compile(r'<mark class="c(\d+)" data-p="(\d+)"[^>]*>([^<]*)</mark>')


def marks(fragment: str) -> list[tuple[int, str]]:
    """(passage number, inner HTML) of each mark, in document order."""
    found = MARK.findall(fragment)
    for colour, number, _ in found:
        assert int(colour) == (int(number) - 1) % 8
    return [(int(number), inner) for _, number, inner in found]


@pytest.fixture(scope="module")
def report() -> Report:
    return make_report()


@pytest.fixture(scope="module")
def page(report: Report) -> str:
    return render_html(report)


# --------------------------------------------------------------------------
# escaping
# --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_never_raw_and_escaped_form_present(page: str, payload: str) -> None:
    assert payload not in page
    assert html.escape(payload, quote=True) in page


def test_payloads_create_no_elements_or_handlers(page: str) -> None:
    parsed = parse(page)
    assert_no_injected_elements(parsed)
    assert parsed.title == "dedup report"


def test_malicious_id_escaped_in_attributes_too(page: str) -> None:
    # the id reaches data-filter (lower-cased) and headings, always escaped
    assert html.escape(EVIL_ID.lower(), quote=True) in page
    assert 'onerror="' not in page and "<svg onload" not in page
    assert "&lt;svg onload=alert(1)&gt;" in page


@pytest.mark.parametrize(
    "url",
    [
        EVIL_URL,
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<b>x</b>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https:/no-host",
        'https://ok.example/"onmouseover="alert(1)',
    ],
)
def test_non_web_url_is_text_not_link(url: str) -> None:
    art = Article(id="x", text="body", url=url)
    other = Article(id="y", text="body")
    page = render_html(Report(
        articles=(art, other),
        matches=(Match("x", "y", 1, 1, 1, 1, 1, (Passage(0, 4, 0, 4, 1.0),)),),
        clusters=(Cluster(1, ("x", "y"), "x", "first"),),
    ))
    hrefs = [attrs.get("href") for tag, attrs in parse(page).tags if tag == "a"]
    assert hrefs == []
    assert html.escape(url, quote=True) in page


def test_web_urls_are_safe_links(page: str) -> None:
    anchors = [attrs for tag, attrs in parse(page).tags if tag == "a"]
    hrefs = sorted({a["href"] or "" for a in anchors})
    assert hrefs == ["http://local.example.org/transit", "https://example.com/story?id=1&ref=wire"]
    for attrs in anchors:
        assert attrs["rel"] == "noopener noreferrer"
    assert 'href="https://example.com/story?id=1&amp;ref=wire"' in page


def test_lone_surrogates_and_nul_still_encode() -> None:
    text = "bad \udc80 byte and \x00 nul"
    page = render_html(Report(
        articles=(Article("s", text), Article("t", text)),
        matches=(Match("s", "t", 1, 1, 1, 1, 1, (Passage(0, 3, 0, 3, 1.0),)),),
        clusters=(),
    ))
    page.encode("utf-8")
    assert "\x00" not in page
    side_a, _ = sides(pair_html(page, "pair-1"))
    assert marks(side_a) == [(1, "bad")]
    assert " \ufffd byte and \ufffd nul</div>" in side_a


# --------------------------------------------------------------------------
# highlights and structure
# --------------------------------------------------------------------------


def test_marks_are_exact_escaped_slices_on_both_sides(report: Report, page: str) -> None:
    match = report.matches[0]
    a_text, b_text = report.article(match.a).text, report.article(match.b).text
    side_a, side_b = sides(pair_html(page, "pair-1"))
    numbered = list(enumerate(match.passages, 1))
    by_a = sorted(numbered, key=lambda np: np[1].a_start)
    by_b = sorted(numbered, key=lambda np: np[1].b_start)
    assert marks(side_a) == [(n, html.escape(a_text[p.a_start:p.a_end])) for n, p in by_a]
    assert marks(side_b) == [(n, html.escape(b_text[p.b_start:p.b_end])) for n, p in by_b]
    # moved paragraphs: the order differs between the sides, the numbers pair them
    assert [n for n, _ in marks(side_a)] != [n for n, _ in marks(side_b)]
    assert 'data-marks="3"' in side_a and 'data-marks="3"' in side_b


def test_marks_with_payload_inside_passage(report: Report, page: str) -> None:
    match = report.matches[1]
    evil_text = report.article(match.a).text
    side_a, side_b = sides(pair_html(page, "pair-2"))
    got = marks(side_a)
    assert len(got) == 2 and len(marks(side_b)) == 2
    last = match.passages[-1]
    assert got[-1] == (2, html.escape(evil_text[last.a_start:last.a_end], quote=True))
    assert html.escape(PAYLOAD_SVG, quote=True) in got[-1][1]


def test_text_between_marks_is_complete_and_pre_wrapped(report: Report, page: str) -> None:
    side_a, _ = sides(pair_html(page, "pair-1"))
    body = side_a[side_a.index('<div class="text">') + len('<div class="text">'):]
    body = body[:body.index("</div>")]
    plain = html.unescape(re.sub(r"</?mark[^>]*>", "", body))
    assert plain == report.article("copy-7").text
    assert "white-space: pre-wrap" in page


def test_passage_list_pairs_offsets(report: Report, page: str) -> None:
    first = report.matches[0].passages[0]
    assert f"A {first.a_start}–{first.a_end} ↔ B {first.b_start}–{first.b_end}" in page


def test_clusters_first_then_unclustered(page: str) -> None:
    clusters_at = page.index('<section id="clusters">')
    loose_at = page.index('<section id="unclustered">')
    assert clusters_at < loose_at
    assert page.index('id="cluster-1"') < loose_at
    assert page.index('id="pair-3"') > loose_at
    assert 'class="pair item" id="pair-3"' in page  # top-level, filterable
    assert page.count("<details") == page.count("</details>")


def test_cluster_summary_shows_source_reason_and_wire(page: str) -> None:
    start = page.index('id="cluster-1"')
    summary = page[page.index("<summary>", start):page.index("</summary>", start)]
    assert "Cluster 1" in summary and "3 members" in summary and "2 pairs" in summary
    assert "source: <b>wire-1</b>" in summary
    assert html.escape(f"earliest published; wire credit <b>{PAYLOAD_IMG}</b>") in summary
    assert "Reuters" in summary and html.escape(PAYLOAD_TEXTAREA) in summary
    assert "likely original" in page


def test_header_counts_and_skipped(page: str) -> None:
    header = page[page.index('<header class="top">'):page.index("</header>")]
    for count, label in ((5, "articles"), (3, "matches"), (1, "clusters"), (1, "skipped")):
        assert f"<li><b>{count}</b>{label}</li>" in header
    assert html.escape(f"feeds/{PAYLOAD_IMG}.jsonl:3") in header
    assert html.escape(PAYLOAD_SVG) in header
    assert "candidates: 7" in header
    assert "0.123" not in page  # timings are left out: reruns compare equal


def test_sections_collapsed_and_filterable(page: str) -> None:
    assert re.search(r"<details[^>]* open", page.split("</header>", 1)[1]) is None
    filters = re.findall(r'data-filter="([^"]*)"', page)
    assert len(filters) == 4  # cluster, its two pairs, the loose pair
    assert "wire-1\ncouncil approves transit budget" in filters[0]
    for needle in ('id="filter"', 'id="expand-all"', 'id="collapse-all"', 'id="toolbar" hidden'):
        assert needle in page


def test_texts_rendered_once_per_pair(report: Report, page: str) -> None:
    # wire-1 is in two pairs, copy-7 in one: each text body appears once per pair
    assert page.count(html.escape("(Reporting by A. Writer; Editing by B. Editor)")) == 2
    assert page.count(html.escape("Our own reporting follows here.")) == 1


def test_missing_article_and_bad_offsets_do_not_crash() -> None:
    art = Article("a", "0123456789")
    page = render_html(Report(
        articles=(art,),
        matches=(Match("a", "ghost", 0.5, 0.5, 0.5, 0.5, 0.5, (
            Passage(-5, 3, 0, 2, 1.0),
            Passage(2, 6, 3, 4, 1.0),  # overlaps the first on side a: trimmed
            Passage(8, 99, 5, 6, 1.0),  # past the end: clipped
        )),),
        clusters=(Cluster(1, ("a", "ghost"), None, None),),
    ))
    side_a, side_b = sides(pair_html(page, "pair-1"))
    assert marks(side_a) == [(1, "012"), (2, "345"), (3, "89")]
    assert "text not in report" in side_b
    assert "article not in report" in page


def test_empty_report() -> None:
    page = render_html(Report(articles=(), matches=(), clusters=()), title="Empty <run>")
    assert "No clusters." in page and 'id="unclustered"' not in page
    assert "<title>Empty &lt;run&gt;</title>" in page


# --------------------------------------------------------------------------
# self-contained, CSP, determinism
# --------------------------------------------------------------------------


def test_self_contained(page: str) -> None:
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        if "href" in attrs:
            assert tag == "a" and attrs.get("class") == "url", (tag, attrs)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert re.search(r"<script[^>]*\bsrc", page) is None


def test_csp_allows_only_the_page_own_blocks(page: str) -> None:
    metas = [a for t, a in parse(page).tags if t == "meta" and a.get("http-equiv")]
    assert len(metas) == 1 and metas[0]["http-equiv"] == "Content-Security-Policy"
    csp = metas[0]["content"] or ""
    assert "default-src 'none'" in csp and "unsafe" not in csp
    style = page[page.index("<style>") + 7:page.index("</style>")]
    script = page[page.index("<script>") + 8:page.index("</script>")]

    def digest(source: str) -> str:
        return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()

    assert f"style-src 'sha256-{digest(style)}'" in csp
    assert f"script-src 'sha256-{digest(script)}'" in csp
    assert page.index("http-equiv") < page.index("<style>")
    assert ' style="' not in page  # inline style attributes would be blocked


def test_deterministic(report: Report, page: str) -> None:
    assert render_html(report) == page
    assert render_html(make_report()) == page


# --------------------------------------------------------------------------
# a real browser
# --------------------------------------------------------------------------


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.browser
@pytest.mark.slow
def test_in_headless_chromium(tmp_path: Path, page: str) -> None:
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium not installed (apt-get install chromium): browser test skipped")
    report_path = tmp_path / "report.html"
    report_path.write_text(page, encoding="utf-8")
    uri = report_path.as_uri()

    png = tmp_path / "report.png"
    shot = run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={png}",
                        "--window-size=1280,2000", f"{uri}#pair-1")
    assert png.exists(), shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000

    dump = run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", uri)
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = dump.stdout
    assert "<mark" in dom and dom.count("<mark ") == page.count("<mark ")
    parsed = parse(dom)
    assert parsed.title == "dedup report"
    assert "PWNED" not in parsed.title
    assert_no_injected_elements(parsed)
    html_attrs = next(attrs for tag, attrs in parsed.tags if tag == "html")
    assert html_attrs.get("data-js") == "on"  # the script ran: its CSP hash is right
    toolbar = next(attrs for tag, attrs in parsed.tags if attrs.get("id") == "toolbar")
    assert "hidden" not in toolbar
