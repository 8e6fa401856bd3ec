"""Errors that users see: each names where the bad input is, the field, and what was expected."""

from __future__ import annotations

from pathlib import Path


class MagscreenError(Exception):
    """Base class of every error magscreen raises on purpose."""


class InputError(MagscreenError, ValueError):
    """Bad user input: a file, a field inside it, the value found and what was expected.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    source
        File (or other origin, e.g. a URL or "Materials Project") the input came from.
    field
        Key path or array name inside the source, e.g. ``orderings.max_magnetic_atoms``.
    expected
        What a valid value looks like.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.source = None if source is None else str(source)
        self.field = field
        self.expected = expected
        parts = []
        if self.source:
            parts.append(self.source)
        if field:
            parts.append(field)
        prefix = ": ".join(parts)
        text = f"{prefix}: {message}" if prefix else message
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class StructureError(InputError):
    """A structure that cannot be screened (disordered, no magnetic site, too large, NaN)."""


class ModelDomainError(MagscreenError, ValueError):
    """A structure holds an element the potential does not know."""


class ServiceError(MagscreenError, ConnectionError):
    """An external service (Materials Project, MongoDB) is unreachable or refused the request."""
