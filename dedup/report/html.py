"""Render a :class:`~dedup.model.Report` as one self-contained HTML page.

The page is for a person: clusters first (likely original, wire credits,
members), then every matched pair with both texts side by side and the reused
passages highlighted on both sides, numbered and coloured alike so a moved
paragraph can be followed. Matches outside any cluster come last.

Everything from the input (texts, ids, metadata, skip reasons) is untrusted
crawler data: each value is escaped with :func:`html.escape` (quotes too)
and no value ever reaches the ``<script>`` block, which is a constant. A
Content-Security-Policy allows only this page's own inline style and script,
by their SHA-256 hashes, and nothing from the network. The page works without
JavaScript (``<details>``); the script only adds the filter box, expand /
collapse all, and counterpart highlighting.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from dedup.model import Article, Cluster, Match, Report

__all__ = ["render_html"]

#: Number of distinct passage colours; passage ``n`` gets colour ``(n - 1) % N``.
PASSAGE_COLOURS = 8

#: Counts shown first in the summary, in this order, with their labels.
_MAIN_STATS: tuple[tuple[str, str], ...] = (
    ("articles", "articles"),
    ("matches", "matches"),
    ("clusters", "clusters"),
    ("skipped", "skipped"),
)

#: Skipped inputs are listed open when there are at most this many.
_SKIPPED_OPEN_MAX = 10

_CSS = """
:root { color-scheme: light; --fg: #1d2330; --muted: #5c6473; --line: #d8dce3;
  --bg: #ffffff; --panel: #f5f7fa; --accent: #2f5fb3; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header.top { padding: 16px 24px 10px; border-bottom: 1px solid var(--line);
  background: var(--panel); }
h1 { margin: 0 0 8px; font-size: 22px; }
h2 { font-size: 18px; margin: 22px 0 10px; }
main { padding: 0 24px 40px; }
.stats { display: flex; flex-wrap: wrap; gap: 8px 22px; margin: 0; padding: 0; list-style: none; }
.stats li b { font-size: 18px; margin-right: 4px; }
.stats.extra { color: var(--muted); font-size: 13px; margin-top: 4px; }
.skipped { margin-top: 8px; font-size: 13px; }
.skipped ul { margin: 4px 0; padding-left: 20px; }
.skipped code { white-space: pre-wrap; word-break: break-all; }
#toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-top: 10px; }
#toolbar input { font: inherit; padding: 4px 8px; min-width: 320px; border: 1px solid #aab1bd;
  border-radius: 4px; }
#toolbar button { font: inherit; padding: 4px 10px; border: 1px solid #aab1bd;
  border-radius: 4px; background: #fff; cursor: pointer; }
#filter-count { color: var(--muted); font-size: 13px; }
details.item { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0;
  background: var(--bg); }
details.item > summary { padding: 8px 12px; cursor: pointer; background: var(--panel);
  border-radius: 6px; }
details.item[open] > summary { border-bottom: 1px solid var(--line);
  border-radius: 6px 6px 0 0; }
.body { padding: 8px 12px 12px; }
summary .sid { font-weight: 600; }
summary .sep { color: var(--muted); margin: 0 6px; }
.muted { color: var(--muted); }
.badge { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 10px;
  background: #e3ecfb; color: #1f4b94; margin-left: 4px; }
.badge.orig { background: #dff3e4; color: #1d6b35; }
table.members { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 10px; }
table.members th, table.members td { border-bottom: 1px solid var(--line); padding: 3px 6px;
  text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.members th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details.pair { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details.pair > summary { padding: 6px 10px; cursor: pointer; }
details.pair[open] > summary { border-bottom: 1px solid var(--line); }
.ids { font-weight: 600; overflow-wrap: anywhere; }
.scores { display: flex; flex-wrap: wrap; gap: 4px 18px; list-style: none; margin: 6px 0;
  padding: 0; font-size: 13px; }
.scores b { font-variant-numeric: tabular-nums; }
ol.plist { margin: 4px 0 8px; padding-left: 24px; font-size: 12px; color: var(--muted);
  columns: 2; }
ol.plist li { cursor: default; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
@media (max-width: 760px) { .cols { grid-template-columns: 1fr; } }
.side { min-width: 0; }
.side h4 { margin: 4px 0; font-size: 13px; overflow-wrap: anywhere; }
.side .meta { font-size: 12px; color: var(--muted); margin-bottom: 4px; overflow-wrap: anywhere; }
.text { position: relative; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 13.5px;
  line-height: 1.5; border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px;
  max-height: 70vh; overflow: auto; background: #fcfcfd; }
.missing { color: #9a2a2a; font-style: italic; }
mark { color: inherit; border-radius: 2px; padding: 0 1px; cursor: pointer; }
mark[data-p]::before { content: attr(data-p); font-size: 10px; font-weight: 700;
  vertical-align: super; margin-right: 2px; color: #333; }
mark.hl, li.hl { outline: 2px solid #222; outline-offset: 1px; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 4px; vertical-align: middle; }
.c0 { background: #ffe08a; } .c1 { background: #a8e6cf; } .c2 { background: #b5d3ff; }
.c3 { background: #ffb3c1; } .c4 { background: #d7c4ff; } .c5 { background: #ffd0a6; }
.c6 { background: #b8f0f0; } .c7 { background: #e0e89a; }
a.url { color: var(--accent); }
.empty { color: var(--muted); font-style: italic; }
"""

_JS = """
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.setAttribute("data-js", "on");
  var toolbar = doc.getElementById("toolbar");
  var input = doc.getElementById("filter");
  var count = doc.getElementById("filter-count");
  var items = Array.prototype.slice.call(doc.querySelectorAll("main details.item"));
  if (toolbar) { toolbar.hidden = false; }

  function matches(el, q) {
    return !q || (el.getAttribute("data-filter") || "").indexOf(q) !== -1;
  }

  function applyFilter() {
    var q = input ? input.value.trim().toLowerCase() : "";
    var shown = 0;
    items.forEach(function (item) {
      var hit = matches(item, q);
      item.hidden = !hit;
      if (hit) { shown += 1; }
      if (item.classList.contains("cluster")) {
        var pairs = item.querySelectorAll("details.pair");
        var any = false;
        pairs.forEach(function (p) {
          var h = matches(p, q);
          p.hidden = !h;
          any = any || h;
        });
        if (!any) { pairs.forEach(function (p) { p.hidden = false; }); }
      }
    });
    if (count) {
      count.textContent = q ? shown + " of " + items.length + " sections shown"
                            : items.length + " sections";
    }
  }

  var timer = null;
  if (input) {
    input.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(applyFilter, 120);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { input.value = ""; applyFilter(); }
    });
  }

  function setAll(open) {
    doc.querySelectorAll("main details").forEach(function (d) {
      if (!open || !d.closest("[hidden]")) { d.open = open; }
    });
  }
  var expand = doc.getElementById("expand-all");
  var collapse = doc.getElementById("collapse-all");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }

  function samePassage(el) {
    var pair = el.closest(".pair");
    var n = el.getAttribute("data-p");
    if (!pair || !n || !/^[0-9]+$/.test(n)) { return []; }
    return Array.prototype.filter.call(pair.querySelectorAll("[data-p=\\"" + n + "\\"]"),
      function (x) { return x.closest(".pair") === pair; });
  }
  function passageOf(target) {
    return target && target.closest ? target.closest("mark[data-p], li[data-p]") : null;
  }
  doc.addEventListener("mouseover", function (ev) {
    var el = passageOf(ev.target);
    if (el) { samePassage(el).forEach(function (x) { x.classList.add("hl"); }); }
  });
  doc.addEventListener("mouseout", function (ev) {
    var el = passageOf(ev.target);
    if (el) { samePassage(el).forEach(function (x) { x.classList.remove("hl"); }); }
  });
  doc.addEventListener("click", function (ev) {
    var el = passageOf(ev.target);
    if (!el) { return; }
    samePassage(el).forEach(function (x) {
      if (x === el || x.tagName !== "MARK") { return; }
      var box = x.closest(".text");
      if (box) { box.scrollTop = Math.max(0, x.offsetTop - 40); }
    });
  });

  function openHash() {
    var id = "";
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (!id) { return; }
    var el = doc.getElementById(id);
    if (!el) { return; }
    for (var d = el; d; d = d.parentElement) {
      if (d.tagName === "DETAILS") { d.open = true; }
    }
    el.scrollIntoView();
  }
  window.addEventListener("hashchange", openHash);
  applyFilter();
  openHash();
})();
"""

_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\"'<>\\`]+", re.IGNORECASE)


def _csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline block."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_CSP = "; ".join(
    (
        "default-src 'none'",
        f"style-src {_csp_hash(_CSS)}",
        f"script-src {_csp_hash(_JS)}",
        "img-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)


def _esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute.

    Lone surrogates and NUL (possible in badly decoded crawler input) become
    U+FFFD so the page always encodes; the escape happens after slicing, so
    offsets are never affected.
    """
    text = value if isinstance(value, str) else str(value)
    return html.escape(_SURROGATE_OR_NUL.sub("\ufffd", text), quote=True)


def _pct(value: float) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    return f"{value * 100:.1f}%"


def _is_web_url(url: str) -> bool:
    """True only for plain ``http``/``https`` URLs with a host, safe to link."""
    if not _WEB_URL.fullmatch(url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _url_html(url: str) -> str:
    """A link for web URLs, plain escaped text for anything else."""
    if _is_web_url(url):
        safe = _esc(url)
        return (
            f'<a class="url" href="{safe}" rel="noopener noreferrer" target="_blank">{safe}</a>'
        )
    return f'<span class="url">{_esc(url)}</span>'


def _filter_text(ids: Iterable[str], articles: Mapping[str, Article]) -> str:
    """Lower-cased ids and titles the filter box searches, escaped for an attribute."""
    parts: list[str] = []
    for article_id in ids:
        parts.append(article_id)
        art = articles.get(article_id)
        if art is not None and art.title:
            parts.append(art.title)
    return _esc("\n".join(parts).lower())


def _highlight(text: str, spans: Sequence[tuple[int, int, int, float]]) -> tuple[str, int]:
    """Escape ``text`` with each span wrapped in a numbered ``<mark>``.

    Args:
        text: The article text.
        spans: ``(start, end, number, similarity)`` character spans into ``text``.

    Returns:
        The HTML and the number of marks written. Spans are clipped to the
        text; a span overlapping an earlier one is trimmed to what is left.
    """
    out: list[str] = []
    cursor = 0
    marks = 0
    for start, end, number, similarity in sorted(spans, key=lambda s: (s[0], s[1], s[2])):
        start = max(start, cursor, 0)
        end = min(end, len(text))
        if end <= start:
            continue
        out.append(_esc(text[cursor:start]))
        colour = (number - 1) % PASSAGE_COLOURS
        out.append(
            f'<mark class="c{colour}" data-p="{number}" '
            f'title="passage {number} ({_pct(similarity)} similar)">'
            f"{_esc(text[start:end])}</mark>"
        )
        marks += 1
        cursor = end
    out.append(_esc(text[cursor:]))
    return "".join(out), marks


class _Renderer:
    """Builds the page for one report; holds the lookups shared by all sections."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.articles: dict[str, Article] = {}
        for art in report.articles:
            self.articles.setdefault(art.id, art)
        self.pair_count = 0

    # -- pieces ------------------------------------------------------------

    def wire_of(self, article_id: str) -> str | None:
        credit = self.report.wire.get(article_id)
        return credit if credit else None

    def members_table(self, cluster: Cluster) -> str:
        rows = [
            "<table class=\"members\"><thead><tr><th>id</th><th>title</th><th>url</th>"
            "<th>published</th><th>source</th><th>wire</th><th>chars</th></tr></thead><tbody>"
        ]
        for member in cluster.members:
            art = self.articles.get(member)
            badge = '<span class="badge orig">likely original</span>' if (
                member == cluster.source
            ) else ""
            if art is None:
                rows.append(
                    f"<tr><td>{_esc(member)}{badge}</td>"
                    '<td colspan="6" class="missing">article not in report</td></tr>'
                )
                continue
            wire = self.wire_of(member)
            rows.append(
                "<tr>"
                f"<td>{_esc(member)}{badge}</td>"
                f"<td>{_esc(art.title or '')}</td>"
                f"<td>{_url_html(art.url) if art.url else ''}</td>"
                f"<td>{_esc(art.published or '')}</td>"
                f"<td>{_esc(art.source or '')}</td>"
                f"<td>{_esc(wire or '')}</td>"
                f'<td class="num">{len(art.text)}</td>'
                "</tr>"
            )
        rows.append("</tbody></table>")
        return "".join(rows)

    def side(self, label: str, article_id: str, spans: list[tuple[int, int, int, float]]) -> str:
        art = self.articles.get(article_id)
        head = f"<h4>{label}: {_esc(article_id)}</h4>"
        if art is None:
            return (
                f'<div class="side side-{label.lower()}">{head}'
                '<div class="text missing">text not in report</div></div>'
            )
        meta: list[str] = []
        if art.title:
            meta.append(f"<b>{_esc(art.title)}</b>")
        if art.source:
            meta.append(_esc(art.source))
        if art.published:
            meta.append(_esc(art.published))
        wire = self.wire_of(article_id)
        if wire:
            meta.append(f"wire: {_esc(wire)}")
        meta.append(f"{len(art.text)} chars")
        if art.url:
            meta.append(_url_html(art.url))
        body, marks = _highlight(art.text, spans)
        return (
            f'<div class="side side-{label.lower()}" data-marks="{marks}">{head}'
            f'<div class="meta">{" · ".join(meta)}</div>'
            f'<div class="text">{body}</div></div>'
        )

    def pair(self, match: Match, *, top_level: bool) -> str:
        self.pair_count += 1
        pair_id = f"pair-{self.pair_count}"
        passages = match.passages
        spans_a = [(p.a_start, p.a_end, n, p.similarity) for n, p in enumerate(passages, 1)]
        spans_b = [(p.b_start, p.b_end, n, p.similarity) for n, p in enumerate(passages, 1)]
        cls = "pair item" if top_level else "pair"
        summary = (
            f'<summary><span class="ids">{_esc(match.a)} ⇄ {_esc(match.b)}</span>'
            f'<span class="sep">·</span>score {_pct(match.score)}'
            f'<span class="sep">·</span>{len(passages)} '
            f"passage{'s' if len(passages) != 1 else ''}</summary>"
        )
        scores = (
            '<ul class="scores">'
            f"<li>score <b>{_pct(match.score)}</b></li>"
            f"<li>jaccard <b>{_pct(match.jaccard)}</b></li>"
            f"<li>cosine <b>{_pct(match.cosine)}</b></li>"
            f"<li>A reused in B <b>{_pct(match.reuse_a_in_b)}</b></li>"
            f"<li>B reused in A <b>{_pct(match.reuse_b_in_a)}</b></li>"
            "</ul>"
        )
        plist = ""
        if passages:
            items = "".join(
                f'<li data-p="{n}"><span class="sw c{(n - 1) % PASSAGE_COLOURS}"></span>'
                f"A {p.a_start}–{p.a_end} ↔ B {p.b_start}–{p.b_end} "
                f"({_pct(p.similarity)})</li>"
                for n, p in enumerate(passages, 1)
            )
            plist = f'<ol class="plist">{items}</ol>'
        cols = (
            '<div class="cols">'
            f"{self.side('A', match.a, spans_a)}{self.side('B', match.b, spans_b)}"
            "</div>"
        )
        return (
            f'<details class="{cls}" id="{pair_id}" '
            f'data-filter="{_filter_text((match.a, match.b), self.articles)}">'
            f'{summary}<div class="body">{scores}{plist}{cols}</div></details>'
        )

    def cluster(self, cluster: Cluster, matches: list[Match]) -> str:
        n = len(cluster.members)
        parts = [
            f'<span class="sid">Cluster {_esc(cluster.id)}</span>',
            f"{n} member{'s' if n != 1 else ''}",
            f"{len(matches)} pair{'s' if len(matches) != 1 else ''}",
        ]
        if cluster.source is not None:
            reason = (
                f' <span class="muted">({_esc(cluster.source_reason)})</span>'
                if cluster.source_reason
                else ""
            )
            parts.append(f"source: <b>{_esc(cluster.source)}</b>{reason}")
        elif cluster.source_reason:
            parts.append(f'source unknown <span class="muted">({_esc(cluster.source_reason)})'
                         "</span>")
        credits = sorted({c for m in cluster.members if (c := self.wire_of(m))})
        if credits:
            parts.append("wire: " + ", ".join(f'<span class="badge">{_esc(c)}</span>'
                                              for c in credits))
        summary = '<span class="sep">·</span>'.join(parts)
        pairs = "".join(self.pair(m, top_level=False) for m in matches)
        if not pairs:
            pairs = '<p class="empty">No pairwise matches recorded for this cluster.</p>'
        return (
            f'<details class="cluster item" id="cluster-{_esc(cluster.id)}" '
            f'data-filter="{_filter_text(cluster.members, self.articles)}">'
            f"<summary>{summary}</summary>"
            f'<div class="body">{self.members_table(cluster)}{pairs}</div></details>'
        )

    def header(self, title: str) -> str:
        report = self.report
        stats = report.stats
        fallback: dict[str, int] = {
            "articles": len(report.articles),
            "matches": len(report.matches),
            "clusters": len(report.clusters),
            "skipped": len(report.skipped),
        }
        main_items = "".join(
            f"<li><b>{_esc(stats.get(key, fallback[key]))}</b>{label}</li>"
            for key, label in _MAIN_STATS
        )
        extra_keys = sorted(
            k for k, v in stats.items()
            if k not in fallback and k != "seconds" and isinstance(v, (str, int, float, bool))
        )
        extra = ""
        if extra_keys:
            extra = '<ul class="stats extra">' + "".join(
                f"<li>{_esc(k)}: {_esc(stats[k])}</li>" for k in extra_keys
            ) + "</ul>"
        skipped = ""
        if report.skipped:
            rows = "".join(
                f"<li><code>{_esc(s.where)}</code>: {_esc(s.reason)}</li>" for s in report.skipped
            )
            open_attr = " open" if len(report.skipped) <= _SKIPPED_OPEN_MAX else ""
            skipped = (
                f'<details class="skipped"{open_attr}><summary>Skipped inputs '
                f"({len(report.skipped)})</summary><ul>{rows}</ul></details>"
            )
        toolbar = (
            '<div id="toolbar" hidden>'
            '<input id="filter" type="search" placeholder="Filter by article id or title" '
            'aria-label="Filter by article id or title" autocomplete="off">'
            '<button type="button" id="expand-all">Expand all</button>'
            '<button type="button" id="collapse-all">Collapse all</button>'
            '<span id="filter-count"></span></div>'
        )
        return (
            f'<header class="top"><h1>{_esc(title)}</h1>'
            f'<ul class="stats">{main_items}</ul>{extra}{skipped}{toolbar}</header>'
        )

    def page(self, title: str) -> str:
        report = self.report
        position = {cluster.id: k for k, cluster in enumerate(report.clusters)}
        by_cluster: list[list[Match]] = [[] for _ in report.clusters]
        loose: list[Match] = []
        for match in report.matches:
            k = position.get(report.match_cluster.get((match.a, match.b), -1))
            if k is not None:
                by_cluster[k].append(match)
            else:
                loose.append(match)

        sections: list[str] = ['<section id="clusters"><h2>Clusters '
                               f'({len(report.clusters)})</h2>']
        if report.clusters:
            sections.extend(
                self.cluster(c, ms) for c, ms in zip(report.clusters, by_cluster, strict=True)
            )
        else:
            sections.append('<p class="empty">No clusters.</p>')
        sections.append("</section>")
        if loose:
            sections.append(
                f'<section id="unclustered"><h2>Matches outside clusters ({len(loose)})</h2>'
            )
            sections.extend(self.pair(m, top_level=True) for m in loose)
            sections.append("</section>")

        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_esc(_CSP)}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_esc(title)}</title>\n"
            f"<style>{_CSS}</style>\n"
            "</head>\n<body>\n"
            f"{self.header(title)}\n"
            f"<main>\n{''.join(sections)}\n</main>\n"
            f"<script>{_JS}</script>\n"
            "</body>\n</html>\n"
        )


def render_html(report: Report, *, title: str = "dedup report") -> str:
    """Render a report as one self-contained, deterministic HTML page.

    Args:
        report: The scan result; its articles must carry their texts for the
            side-by-side view (a missing article is shown as such).
        title: The page title and heading.

    Returns:
        The page as a string (UTF-8 when written out). The same report gives
        the same string, byte for byte; per-stage timings (``stats["seconds"]``)
        are left out so reruns of the same input compare equal.

    Example:
        >>> from dedup.model import Report
        >>> page = render_html(Report(articles=(), matches=(), clusters=()))
        >>> page.startswith("<!DOCTYPE html>")
        True
    """
    return _Renderer(report).page(title)

