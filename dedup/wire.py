"""Wire-service credits and datelines: the strongest sign of an original.

Detects Reuters, AP, AFP, PA and Bloomberg from a dateline at the start
(``WASHINGTON (Reuters) -``), a credit line at the end (``Reuters``,
``Reporting by ...; Editing by ...``, ``(c) ... Associated Press``), or the
article's ``source``/``url`` metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Canonical agency name -> the spellings that name it.
_AGENCIES: dict[str, str] = {
    "Reuters": r"Reuters|Thomson Reuters",
    "AP": r"AP|Associated Press|The Associated Press",
    "AFP": r"AFP|Agence France[- ]Presse",
    "PA": r"PA|PA Media|Press Association|PA Wire",
    "Bloomberg": r"Bloomberg|Bloomberg News",
}


def _names(tag: str) -> str:
    """An alternation naming each agency in a group ``<agency>_<tag>``."""
    return "|".join(f"(?P<{k}_{tag}>{v})" for k, v in _AGENCIES.items())


_NAME = _names("a")
_DATELINE = re.compile(
    r"\A\W{0,3}[A-Z][A-Za-z.'\- ]{1,40}(?:,\s*[A-Za-z0-9.' ]{2,30})?\s*"
    r"\((?:" + _NAME + r")\)\s*[-\u2013\u2014:]"
)
_LEAD_CREDIT = re.compile(r"\A\W{0,3}\((?:" + _NAME + r")\)\s*[-\u2013\u2014:]")
_CREDIT_LINE = re.compile(
    r"(?:^|\n)[ \t]*(?:(?:\(c\)|\u00a9|(?i:copyright))?\s*(?:\d{4}\s+)?(?:" + _NAME
    + r")\.?[ \t]*(?:\d{4})?[ \t]*\.?"
    r"|(?i:reporting by) [^\n]{0,300}?(?i:editing by|writing by)[^\n]*)"
    r"\s*\Z"
)
# "<agency> contributed to this report" anywhere, or "(<agency>)" ending a line.
# The two alternatives are searched apart: the first is only tried on texts
# holding its phrase (an agency name like "AP" or "PA" would otherwise be
# tried at almost every position of the text), and since the second starts
# with "(" where the first never does, the earlier of the two matches is the
# match of the joint pattern.
_CONTRIBUTED_NAMED = re.compile(
    r"(?:" + _NAME + r")\s+contributed to this (?:report|story)", re.IGNORECASE
)
_CONTRIBUTED_PAREN = re.compile(
    r"\((?:" + _names("b") + r")\)\s*$", re.IGNORECASE | re.MULTILINE
)
_PHRASE = "contributed to this"
# Non-ASCII characters that re's IGNORECASE matches to a letter of the phrase
# while str.lower() does not map them to that letter.
_PHRASE_FOLDS = {"\u0130": "i", "\u0131": "i", "\u017f": "s"}
_URL_HOSTS = {
    "reuters.com": "Reuters",
    "apnews.com": "AP",
    "afp.com": "AFP",
    "bloomberg.com": "Bloomberg",
    "pamediagroup.com": "PA",
}
_SOURCE = re.compile(r"\A\s*(?:" + _NAME + r")\s*\Z", re.IGNORECASE)


@dataclass(frozen=True)
class WireCredit:
    """An agency credit found for an article and where it was found."""

    agency: str
    evidence: str


def _agency(match: re.Match[str]) -> str | None:
    for group, value in match.groupdict().items():
        if value:
            return group.rsplit("_", 1)[0]
    return None


def _has_phrase(text: str) -> bool:
    """Whether ``_PHRASE`` may occur in ``text`` under re's IGNORECASE (a
    cheap test that never misses one)."""
    if not text.isascii():
        for ch, repl in _PHRASE_FOLDS.items():
            if ch in text:
                text = text.replace(ch, repl)
    return _PHRASE in text.lower()


def _contributed(text: str) -> re.Match[str] | None:
    """The first "contributed to this report" or "(<agency>)" credit."""
    named = _CONTRIBUTED_NAMED.search(text) if _has_phrase(text) else None
    paren = _CONTRIBUTED_PAREN.search(text)
    if named is None or (paren is not None and paren.start() < named.start()):
        return paren
    return named


def detect(text: str, source: str | None = None, url: str | None = None) -> WireCredit | None:
    """The wire credit of an article, or None.

    Example:
        >>> detect("LONDON (Reuters) - Shares fell.").agency
        'Reuters'
    """
    head = text[:400]
    for pattern, where in ((_DATELINE, "dateline"), (_LEAD_CREDIT, "dateline")):
        m = pattern.search(head)
        if m and (agency := _agency(m)):
            return WireCredit(agency, f"{where} '{m.group(0).strip()}'")
    tail = text[-400:].rstrip()
    m = _CREDIT_LINE.search(tail)
    if m:
        agency = _agency(m) or ("Reuters" if "reporting by" in m.group(0).lower() else None)
        if agency:
            line = " ".join(m.group(0).split())
            return WireCredit(agency, f"credit line '{line[:80]}' at the end")
    if source:
        m = _SOURCE.search(source)
        if m and (agency := _agency(m)):
            return WireCredit(agency, f"source '{source.strip()}'")
    if url:
        host = re.sub(r"^[a-z]+://", "", url.strip().lower()).split("/")[0]
        for suffix, agency in _URL_HOSTS.items():
            if host == suffix or host.endswith("." + suffix):
                return WireCredit(agency, f"url host {host}")
    m = _contributed(text)
    if m and (agency := _agency(m)):
        return WireCredit(agency, f"credit '{' '.join(m.group(0).split())}'")
    return None
