"""dedup: find reused wire copy in news articles.

>>> import dedup
>>> report = dedup.scan(["benchmarks/corpora/alaska-summit"])  # doctest: +SKIP
>>> match = dedup.compare("text of one article", "text of another")  # doctest: +SKIP
"""

from dedup.config import Config
from dedup.errors import ConfigError, DedupError, InputError
from dedup.model import Article, Cluster, Match, Passage, Report, Skipped
from dedup.pipeline import compare, scan

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Cluster",
    "Config",
    "ConfigError",
    "DedupError",
    "InputError",
    "Match",
    "Passage",
    "Report",
    "Skipped",
    "__version__",
    "compare",
    "scan",
]
