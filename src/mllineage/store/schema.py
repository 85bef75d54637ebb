"""The schema: applying it, reporting whether it is online, and keeping it applied.

Readiness only reads. The schema is written by the ``SchemaKeeper`` alone:

- at start-up (the app's lifespan calls ``start``), one attempt inline, so a service that
  starts beside a running Neo4j is ready as soon as it serves;
- afterwards by a background task, whenever it is asked to check: when the start-up attempt
  failed, when a request found Neo4j unavailable, or when readiness found the service not
  ready (Neo4j down, or a schema object missing after a restore or a wipe). A check reads
  which objects are online and applies the idempotent statements only if one is missing;
  while Neo4j does not answer it retries with backoff. One check runs at a time; requests for
  a check that arrive while one runs cost at most one more.

So a probe never writes, yet the service restores its schema by itself once Neo4j is back.
Once the schema is online, the data migrations (idempotent) run once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from neo4j.exceptions import DriverError, Neo4jError

from mllineage.model.errors import Unavailable
from mllineage.store.database import Database
from mllineage.store.queries.schema import (
    AWAIT_INDEXES,
    DROP_INDEX,
    RETIRED_INDEXES,
    SHOW_INDEXES,
    schema_names,
)

log = logging.getLogger("mllineage.store")


async def apply_schema(db: Database, statements: list[str]) -> None:
    """Create the constraint and indexes if absent (idempotent) and wait until online."""
    for statement in statements:
        await db.run(statement)
    await db.run(AWAIT_INDEXES)


async def missing(db: Database, names: set[str]) -> set[str]:
    """The schema objects among ``names`` that are absent or not online yet."""
    records = await db.run_read(SHOW_INDEXES)
    return names - {r["name"] for r in records if r["state"] == "ONLINE"}


async def readiness(
    db: Database, names: set[str], probe_seconds: float | None = None
) -> str | None:
    """None when Neo4j answers and the schema objects ``names`` are online; else why not,
    within ``probe_seconds`` (a probe must answer fast even while Neo4j does not).

    Only reads: the reason may be shown to unauthenticated callers, so it never holds
    Neo4j's address (that goes to the log).
    """
    try:
        if absent := await asyncio.wait_for(missing(db, names), probe_seconds):
            return f"schema objects not online: {', '.join(sorted(absent))}"
        return None
    except TimeoutError:
        return f"Neo4j did not answer within {probe_seconds:g} s"
    except Unavailable as exc:
        return str(exc)
    except Neo4jError as exc:
        return f"Neo4j cannot be used: {exc.code}: {exc.message}"
    except DriverError as exc:
        log.warning("Neo4j at %s cannot be used: %r", db.uri or "(unknown)", exc)
        return f"Neo4j cannot be used ({type(exc).__name__}; the service's log has details)"


async def drop_retired(db: Database) -> int:
    """Migration: drop the indexes an older version created that no longer serve a query
    (``queries.schema.RETIRED_INDEXES``); each costs every write that touches its property. Returns
    how many it dropped."""
    present = {r["name"] for r in await db.run_read(SHOW_INDEXES)}
    retired = [name for name in RETIRED_INDEXES if name in present]
    for name in retired:
        await db.run(DROP_INDEX, name=name)
    return len(retired)


class SchemaKeeper:
    """Applies the schema at start-up and again, in the background, whenever asked to."""

    def __init__(
        self,
        db: Database,
        statements: list[str],
        *,
        first_retry: float = 1.0,
        max_retry: float = 5.0,
        migrations: tuple[Callable[[Database], Awaitable[int]], ...] = (),
    ) -> None:
        self.db = db
        self.migrations = migrations
        self._migrated = False
        self.statements = statements
        self.names = schema_names(statements)
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def want(self) -> None:
        """Ask for a check; cheap and safe to call from any request."""
        self._wanted.set()

    async def restore(self) -> str | None:
        """Apply the schema if an object is missing; None once it is online, else why not."""
        try:
            if await missing(self.db, self.names):
                await apply_schema(self.db, self.statements)
                log.info("schema applied")
            if not self._migrated:
                for migration in self.migrations:
                    if changed := await migration(self.db):
                        log.info("migration %s made %d changes", migration.__name__, changed)
                self._migrated = True
            return None
        except Unavailable as exc:
            return str(exc)
        except (DriverError, Neo4jError) as exc:
            return f"Neo4j cannot be used: {exc!r}"

    async def start(self) -> None:
        """One attempt now; then keep the schema in the background until ``stop``."""
        if reason := await self.restore():
            log.warning("schema not applied at start-up (%s); retrying in the background", reason)
            self.want()
        self._task = asyncio.create_task(self._keep(), name="mllineage-schema-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            delay = self.first_retry
            while True:
                try:
                    reason = await self.restore()
                except Exception:  # a bug must not end the keeper: log it and retry
                    log.exception("checking the schema failed")
                    reason = "unexpected error"
                if reason is None:
                    break
                log.warning("schema not online (%s); next check in %.0fs", reason, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry)
