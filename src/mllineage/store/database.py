"""The one door to Neo4j that every store module uses: sessions, the one-writer turn, and the
mapping of the driver's failures to ``Unavailable``.

A concern module (writes, reads, walks, ...) is a few functions that take a ``Database`` and
hand it a transaction function; it never opens sessions or catches driver errors itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    NotificationMinimumSeverity,
    Record,
    RoutingControl,
)
from neo4j.exceptions import (
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from mllineage.model.errors import InvalidInput, Unavailable
from mllineage.store import bookmarks
from mllineage.store.metrics import record_write

T = TypeVar("T")
Work = Callable[[AsyncManagedTransaction], Awaitable[T]]
# What runs a work's statements: its transaction, or (autocommit, see ``Database.write``) a
# session, where each statement is a transaction of its own.
Statements = AsyncManagedTransaction | AsyncSession
AutocommitWork = Callable[[Statements], Awaitable[T]]

log = logging.getLogger("mllineage.store")

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Once Neo4j is found unreachable, requests fail at once for this long instead of each
# waiting out the driver's retry window.
FAIL_FAST_SECONDS = 2.0
CONFLICT = (
    "the write conflicted with a concurrent write on the same nodes (a deadlock that outlasted "
    "the retries); nothing was written and it is safe to send again"
)


STATEMENT_ERRORS = "Neo.ClientError.Statement."
# The logger of the driver's Bolt messages.
_bolt_log = logging.getLogger("neo4j.io")


class BigParameter(dict[str, Any]):
    """A statement parameter the driver packs as the map it is, with a short repr unless the
    driver logs at DEBUG. The driver formats its debug line for every statement it runs,
    logged or not, and that line holds the repr of every parameter: for a batch's write,
    a few milliseconds spent on a string nobody reads (bench/HISTORY.md, "What the driver
    did for nobody")."""

    def __repr__(self) -> str:
        if _bolt_log.isEnabledFor(logging.DEBUG):
            return super().__repr__()
        return f"<a map of {len(self)} keys>"


def unavailable_advice(uri: str | None) -> str:
    """What a 503 says to do. Never the address: 503 bodies may reach unauthenticated callers
    (``/readyz``), so the host and port go to the log instead."""
    if uri and urlsplit(uri).hostname in LOCAL_HOSTS:
        return "start it with `mllineage neo4j start` or set MLLINEAGE_NEO4J_URI"
    return "retry later (the service's log has the driver's error)"


class Database:
    """One Neo4j database through one async driver opened at start-up."""

    def __init__(
        self,
        driver: AsyncDriver,
        name: str,
        write_queue_seconds: float = 30.0,
        *,
        uri: str | None = None,
    ) -> None:
        self.driver = driver
        self.name = name
        self.uri = uri
        self.write_queue_seconds = write_queue_seconds
        # One write transaction at a time from this process. Concurrent writers that share
        # popular nodes (a source every pipeline reads) deadlock in Neo4j often enough to
        # exhaust the retry window, and concurrent writes added no throughput over
        # sequential ones (bench/HISTORY.md).
        self._one_writer = asyncio.Lock()
        # Called whenever Neo4j could not be reached or refused the login, so the schema
        # keeper can check the database once it answers again (see schema.SchemaKeeper).
        self.on_unavailable: Callable[[], None] = lambda: None
        self._down_until = 0.0  # monotonic time until which Neo4j counts as just found down
        # Every session and execute_query shares it, so in a cluster this process reads its
        # own writes wherever a read is routed (store/bookmarks.py has the other processes').
        self.bookmark_manager = AsyncGraphDatabase.bookmark_manager()

    def _found_down(self) -> None:
        self._down_until = time.monotonic() + FAIL_FAST_SECONDS
        self.on_unavailable()

    @asynccontextmanager
    async def errors_as_unavailable(self) -> AsyncIterator[None]:
        """Errors that retrying later can cure (after the driver's own retries) -> Unavailable;
        while Neo4j was just found down (FAIL_FAST_SECONDS), Unavailable at once."""
        if time.monotonic() < self._down_until:
            raise Unavailable(f"Neo4j is unavailable; {unavailable_advice(self.uri)}")
        try:
            yield
        except IncompleteCommit as exc:
            self._found_down()
            raise Unavailable(
                "Neo4j went away while committing, so the write may or may not have landed; "
                "send it again (writes are idempotent)"
            ) from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            # The driver's text names the address: logged, not answered.
            self._found_down()
            log.warning("Neo4j at %s is unavailable: %s", self.uri or "(unknown)", exc)
            raise Unavailable(f"Neo4j is unavailable; {unavailable_advice(self.uri)}") from exc
        except TransientError as exc:
            # Neo4j answers but could not finish in the retry window; not an outage.
            if "Deadlock" in (exc.code or ""):
                raise Unavailable(CONFLICT) from exc
            if "BookmarkTimeout" in (exc.code or ""):
                raise Unavailable(
                    f"Neo4j has not caught up with {bookmarks.source()} yet; retry later"
                ) from exc
            raise Unavailable(f"Neo4j could not serve the request for now: {exc}") from exc
        except Neo4jError as exc:
            code = exc.code or ""
            if code.startswith("Neo.ClientError.Transaction.InvalidBookmark"):
                raise InvalidInput(
                    f"{bookmarks.source()} are not bookmarks this Neo4j database issued "
                    f"({exc.code}); send the value a write answered with, unchanged, or none"
                ) from exc
            # Wrong credentials, or locked out after too many wrong ones (a rate limit).
            if code.startswith("Neo.ClientError.Security."):
                self.on_unavailable()
                raise Unavailable(
                    "Neo4j rejected the configured credentials; check MLLINEAGE_NEO4J_USER and "
                    f"MLLINEAGE_NEO4J_PASSWORD ({exc.code})"
                ) from exc
            # Neo4j refused what it was asked (a constraint, a value out of its range): the
            # transaction rolled back. A Statement error is a query of ours: a bug, left a 500.
            if code.startswith("Neo.ClientError.") and not code.startswith(STATEMENT_ERRORS):
                raise InvalidInput(
                    f"Neo4j refused the request ({code}: {exc.message}); nothing was written"
                ) from exc
            raise

    def queued_too_long(self) -> str:
        return f"writes have queued for over {self.write_queue_seconds:.0f}s; retry later"

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        """Wait (bounded) for this process's one write slot; past the bound, answer 503."""
        try:
            await asyncio.wait_for(self._one_writer.acquire(), self.write_queue_seconds)
        except TimeoutError:
            raise Unavailable(self.queued_too_long()) from None
        try:
            yield
        finally:
            self._one_writer.release()

    async def write(
        self,
        work: Work[T] | AutocommitWork[T],
        rows: int = 1,
        group: int = 1,
        queued_at: float | None = None,
        *,
        autocommit: bool = False,
    ) -> T:
        """Run ``work`` in one write transaction, in this process's write turn. For the
        metrics: ``rows`` it sends (nodes + edges + runs), the ``group`` of requests it
        writes, and since when the oldest of them waits (else from now).

        ``autocommit``: for ``AutocommitWork`` whose one writing statement is its last, and
        which never fails once that ran. Each statement then runs in a transaction of its
        own, one round trip (RUN and PULL; no BEGIN, no COMMIT). A failure the driver would
        retry sends the whole work once through the managed, retrying path (writes are
        idempotent).
        """
        queued = time.monotonic() if queued_at is None else queued_at
        async with (
            self._write_turn(),
            self.errors_as_unavailable(),
            # The shared bookmark manager; the write's own bookmarks go to the request's
            # answer (for a group commit, to each of its requests: see group_commit.py).
            # Without notifications: the server would send its hints on WRITE's plan (a
            # cartesian product of two uid seeks, a shadowed variable) with every write,
            # and nothing reads them.
            self.driver.session(
                database=self.name,
                bookmark_manager=self.bookmark_manager,
                notifications_min_severity=NotificationMinimumSeverity.OFF,
            ) as session,
        ):
            began = time.monotonic()
            if autocommit:  # the caller's word that work takes Statements
                done = await self._autocommit(session, cast(AutocommitWork[T], work))
            else:
                done = await session.execute_write(work)
            record_write(group, rows, began - queued, time.monotonic() - began)
            bookmarks.wrote(await session.last_bookmarks())
            return done

    @staticmethod
    async def _autocommit(session: AsyncSession, work: AutocommitWork[T]) -> T:
        try:
            return await work(session)
        except (Neo4jError, DriverError) as exc:
            if not exc.is_retryable():
                raise
        return await session.execute_write(work)

    def _read_session(self) -> AsyncSession:
        """A session for reads, without the server's notifications: the property projection
        names keys that a young database may not have yet (see ``queries.common.properties_of``)."""
        return self.driver.session(
            database=self.name,
            default_access_mode=READ_ACCESS,
            notifications_min_severity=NotificationMinimumSeverity.OFF,
            bookmark_manager=self.bookmark_manager,
            bookmarks=bookmarks.waiting(),
        )

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` in one read transaction (reads are not queued)."""
        async with self.errors_as_unavailable(), self._read_session() as session:
            return await session.execute_read(work)

    async def read_one(self, query: str, **params: Any) -> Record | None:
        """The one record of a read that is a single statement, or None when it returns none.

        Auto-commit: RUN and PULL go out together, one round trip, where a managed
        transaction adds BEGIN and COMMIT; one statement sees one consistent snapshot either
        way. A failure the driver would retry goes to ``read`` once, which retries it.
        """
        async with self.errors_as_unavailable():
            try:
                async with self._read_session() as session:
                    return await (await session.run(query, params)).single()
            except (Neo4jError, DriverError) as exc:
                if not exc.is_retryable():
                    raise
        return await self.read(lambda tx: single_or_none(tx, query, **params))

    async def run(self, query: str, **params: Any) -> list[Record]:
        """One statement in a write transaction of its own, on the writer (schema commands)."""
        async with self.errors_as_unavailable():
            records, _, _ = await self.driver.execute_query(
                query,
                params,
                database_=self.name,
                routing_=RoutingControl.WRITE,
                bookmark_manager_=self.bookmark_manager,
            )
            return records

    async def run_read(self, query: str, **params: Any) -> list[Record]:
        """One read statement in a read transaction of its own (``SHOW INDEXES``, a
        migration's search): in a cluster it may be served by a secondary. Without the
        server's notifications, like every read: a migration's search on a young database
        names keys and types that do not exist yet."""

        async def records(tx: AsyncManagedTransaction) -> list[Record]:
            return [record async for record in await tx.run(query, params)]

        return await self.read(records)


async def single_or_none(tx: AsyncManagedTransaction, query: str, **params: Any) -> Record | None:
    """The one record ``query`` returns, or None when it returns none."""
    return await (await tx.run(query, params)).single()
