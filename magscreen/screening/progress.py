"""Progress events of campaign jobs: the CLI listens and draws progress bars; workers ignore them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["emit", "listening"]

_listeners: list[Callable[..., None]] = []


def emit(event: str, **info: object) -> None:
    """Tell every listener in this process that ``event`` happened."""
    for listener in _listeners:
        listener(event, **info)


@contextmanager
def listening(callback: Callable[..., None]) -> Iterator[None]:
    """Call ``callback(event, **info)`` for every event emitted inside the ``with`` block."""
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)
