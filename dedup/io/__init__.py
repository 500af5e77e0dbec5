"""Readers: any input becomes a stream of :class:`dedup.model.Article`.

See :func:`dedup.io.readers.read_paths`.
"""

from dedup.io.readers import SUPPORTED_SUFFIXES, read_paths

__all__ = ["SUPPORTED_SUFFIXES", "read_paths"]
