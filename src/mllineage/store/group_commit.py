"""Group commit: write requests that arrive while a write transaction runs share the next one.

Producers post one event per request, and a transaction's fixed cost (its round trips and
Neo4j's commit) dwarfs writing one event's nodes; so requests queue, and each transaction
takes every queued request (up to ``max_rows``). Each request stays all-or-nothing: when a
group fails for a reason one request can cause (an invalid part, a Neo4j client error), its
requests are written again one by one, so only the faulty one fails. When Neo4j is down,
every request of the group gets the same 503.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from neo4j import Bookmarks

from mllineage.ingest.delta import GraphDelta
from mllineage.model.errors import Unavailable
from mllineage.model.views import WriteSummary
from mllineage.store import bookmarks, writes
from mllineage.store.database import Database

log = logging.getLogger("mllineage.store")


@dataclass
class _Request:
    delta: GraphDelta
    done: asyncio.Future[tuple[WriteSummary, tuple[str, ...]]]  # and the write's bookmarks
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def rows(self) -> int:
        return len(self.delta.nodes) + len(self.delta.edges) + len(self.delta.runs)


class GroupCommit:
    """The one writer of graph deltas in this process (``Database`` serialises the rest)."""

    def __init__(self, db: Database, max_rows: int = 5_000) -> None:
        self.db = db
        self.max_rows = max_rows
        self._queue: deque[_Request] = deque()
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, delta: GraphDelta) -> WriteSummary:
        request = _Request(delta, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        if self._flusher is None or self._flusher.done():
            # A context of its own: it writes for many requests, none of them this one.
            self._flusher = asyncio.create_task(self._flush(), context=contextvars.Context())
        summary, written = await request.done
        bookmarks.wrote(Bookmarks.from_raw_values(written))
        return summary

    async def _flush(self) -> None:
        while self._queue:
            group = self._take()
            try:
                await self._commit(group)
            except BaseException as exc:  # cancelled at shutdown: nobody waits forever
                for request in [*self._queue, *group]:
                    _fail(request, Unavailable("the service is stopping; send it again"))
                self._queue.clear()
                if not isinstance(exc, Exception):
                    raise
                log.exception("group commit failed")

    def _take(self) -> list[_Request]:
        """The next group: the oldest requests up to ``max_rows`` (at least one); requests
        that queued past the bound fail (503), as a wait for the write turn does."""
        group: list[_Request] = []
        rows = 0
        bound = time.monotonic() - self.db.write_queue_seconds
        while self._queue and (not group or rows + self._queue[0].rows <= self.max_rows):
            request = self._queue.popleft()
            if request.done.done():  # its client went away
                continue
            if request.queued_at < bound:
                _fail(request, Unavailable(self.db.queued_too_long()))
                continue
            group.append(request)
            rows += request.rows
        return group

    async def _commit(self, group: list[_Request]) -> None:
        if not group:
            return
        written = bookmarks.RequestBookmarks()
        bookmarks.current.set(written)
        try:
            queued_at = min(request.queued_at for request in group)
            summaries = await writes.write(self.db, [r.delta for r in group], queued_at)
        except Unavailable as exc:
            for request in group:
                _fail(request, exc)
            return
        except Exception as exc:
            if len(group) == 1:
                _fail(group[0], exc)
                return
            for request in group:  # find the request at fault: it alone fails
                await self._commit([request])
            return
        for request, summary in zip(group, summaries, strict=True):
            if not request.done.done():
                request.done.set_result((summary, written.written))


def _fail(request: _Request, exc: BaseException) -> None:
    if not request.done.done():
        request.done.set_exception(exc)
