"""Typed errors. Each says what was expected and what came."""

from __future__ import annotations


class DedupError(Exception):
    """Base class of dedup's own errors."""


class InputError(DedupError):
    """A path given by the user does not exist or cannot be used at all.

    The CLI maps it to exit code 2. A single bad file inside a directory is not
    an InputError: it is reported as skipped and the run goes on.
    """


class ConfigError(DedupError, ValueError):
    """A configuration value is out of range."""


class IndexError_(DedupError):
    """The persistent index cannot be opened or used (version, lock, corruption)."""
