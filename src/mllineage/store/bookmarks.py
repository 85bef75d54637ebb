"""Bookmarks of one request: what its reads must wait for, and what its writes committed.

In a Neo4j cluster a read may land on a secondary that has not applied a write yet. The
driver's bookmark manager (one per ``Database``) covers this process's own writes; a caller
that writes through one API replica and reads through another hands the write's bookmarks
back (the API's ``Neo4j-Bookmarks`` header). The edge sets ``current`` for the request; the
store reads and fills it, so no store signature carries bookmarks.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from neo4j import Bookmarks


@dataclass
class RequestBookmarks:
    """``wait_for``: bookmarks the request's reads wait for; ``written``: the bookmarks of its
    last write (a newer transaction of one database implies the older ones). ``source`` names
    where ``wait_for`` came from, for the error when Neo4j refuses them."""

    wait_for: tuple[str, ...] = ()
    source: str = "the bookmarks given"
    written: tuple[str, ...] = field(default=())


current: ContextVar[RequestBookmarks | None] = ContextVar("mllineage_bookmarks", default=None)


def waiting() -> Bookmarks | None:
    """The bookmarks the current request's reads must wait for, if any."""
    request = current.get()
    if request is None or not request.wait_for:
        return None
    return Bookmarks.from_raw_values(request.wait_for)


def wrote(bookmarks: Bookmarks) -> None:
    """Record the bookmarks of a committed write for the current request (none: no-op)."""
    request = current.get()
    if request is not None and bookmarks.raw_values:
        request.written = tuple(sorted(bookmarks.raw_values))


def source() -> str:
    request = current.get()
    return request.source if request is not None else RequestBookmarks.source
