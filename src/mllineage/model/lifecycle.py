"""Lifecycle and time, the pure part: the requests of the lifecycle calls, the property names
the store keeps for them, and the view a read takes of the graph (live, everything, or as of
a time). See docs/lifecycle.md for the rule, and store/lifecycle.py for the writes.

Validity is kept in the data, not in the query code: a node keeps its retirement intervals
(``retired_from[i]`` to ``retired_until[i]``, the open one ending at ``FOREVER``), its
current ``retired_at`` and the times of its ``restores``; an edge keeps its ``ended_*``
intervals alike. A mention (an event, a
graph upsert) or a restore newer than a retirement closes it; so any order of arrival gives
the same graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import Field

from mllineage.model.domain import EdgeIn, ShortText, Strict, Timestamp, Uid

# The open end of an interval that no newer mention has closed yet.
FOREVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)

# Kept for `as_of`, never returned: lists of times that reads would have to decode.
HIDDEN_PROPERTIES = ("retired_from", "retired_until", "restores", "ended_from", "ended_until")
LIFECYCLE_TIMES = ("deprecated_at", "retired_at")
MAX_EDGES_TO_END = 10_000
MAX_WHAT_IF = 100


class DeprecateIn(Strict):
    """Still live, but discouraged; ``replaced_by`` names its successor (same kind)."""

    reason: ShortText
    replaced_by: Uid | None = None
    event_time: Timestamp | None = Field(
        default=None, description="When it was deprecated; defaults to the server's clock"
    )


class RetireIn(Strict):
    """Gone from the live graph from ``event_time`` on, and its edges with it."""

    reason: ShortText | None = None
    event_time: Timestamp | None = None


class RestoreIn(Strict):
    """Undo the retirements older than ``event_time`` (as a newer mention would)."""

    event_time: Timestamp | None = None


class EndEdgesIn(Strict):
    """Edges that stopped being true at ``event_time`` (e.g. an endpoint stopped serving)."""

    edges: list[EdgeIn] = Field(min_length=1, max_length=MAX_EDGES_TO_END)
    event_time: Timestamp | None = None


class WhatIfIn(Strict):
    """Which live endpoints and models would lose an input if these were retired?"""

    retire: list[Uid] = Field(min_length=1, max_length=MAX_WHAT_IF)
    as_of: Timestamp | None = Field(
        default=None, description="Ask of the graph as it stood then (default: now)"
    )
    notify: bool = Field(
        default=False,
        description="Also send each owner hit a digest (webhooks; needs the write scope)",
    )


@dataclass(frozen=True)
class View:
    """Which graph a read sees: the live one (default), everything (``include_retired``),
    or the graph as it stood at ``as_of`` (with or without what was retired by then)."""

    as_of: datetime | None = None
    include_retired: bool = False

    @property
    def mode(self) -> str:
        if self.as_of is None:
            return "all" if self.include_retired else "live"
        return "created" if self.include_retired else "as_of"

    @property
    def exclusive(self) -> View:
        """The same view without ``include_retired``: what counts as alive in it."""
        return View(self.as_of)


LIVE = View()
