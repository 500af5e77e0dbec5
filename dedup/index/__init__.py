"""A persistent index: check each new batch of articles against all seen before.

>>> from dedup.index import Index, add
>>> with Index.open("crawl.db", create=True) as idx:  # doctest: +SKIP
...     result = add(idx, articles)
...     [r.to_dict() for r in result.articles]

:mod:`dedup.index.store` keeps the SQLite file; :mod:`dedup.index.ops` runs the
scan's stages against it (see its docstring for how results relate to
``dedup scan``).
"""

from dedup.index.ops import (
    SLEEP_ENV,
    ArticleResult,
    BatchResult,
    MatchRef,
    PruneResult,
    add,
    export,
    parse_duration,
    prune,
    query,
    stats,
)
from dedup.index.store import SCHEMA_VERSION, Index, IndexParams, pinned_settings

__all__ = [
    "SCHEMA_VERSION",
    "SLEEP_ENV",
    "ArticleResult",
    "BatchResult",
    "Index",
    "IndexParams",
    "MatchRef",
    "PruneResult",
    "add",
    "export",
    "parse_duration",
    "pinned_settings",
    "prune",
    "query",
    "stats",
]
