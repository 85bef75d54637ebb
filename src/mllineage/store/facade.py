"""``Store``: the one handle on the store, built at start-up, handing out one object per
concern over the shared ``Database``: ``reads``, ``walks``, ``lifecycle``, ``reports``,
``runs``, ``notifications`` (each a class of its module, whose methods are the contract),
beside the write (``write``, through the group commit) and the schema's upkeep. A new
concern adds a module with its class and one attribute here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from neo4j import AsyncDriver, AsyncGraphDatabase

from mllineage.ingest.delta import GraphDelta
from mllineage.model.views import (
    WriteSummary,
)
from mllineage.settings import Settings
from mllineage.store import lifecycle, notifications, reads, reports, runs, schema, walks, writes
from mllineage.store.database import Database
from mllineage.store.group_commit import GroupCommit
from mllineage.store.queries.schema import read_schema


class Store:
    """Lineage storage on one Neo4j database, through one async driver opened at start-up.

    ``schema_file`` overrides the schema shipped in the package; ``uri`` is the driver's,
    used only to say in a 503 how to start a local Neo4j (and logged, never answered).
    """

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        schema_file: Path | None = None,
        write_queue_seconds: float = 30.0,
        *,
        uri: str | None = None,
    ) -> None:
        self.db = Database(driver, database, write_queue_seconds, uri=uri)
        self.schema = schema.SchemaKeeper(
            self.db,
            read_schema(schema_file),
            migrations=(schema.drop_retired, writes.merge_split_datasets),
        )
        self.db.on_unavailable = self.schema.want
        self.writer = GroupCommit(self.db)
        self.reads = reads.Reads(self.db)
        self.walks = walks.Walks(self.db)
        self.lifecycle = lifecycle.Lifecycle(self.db)
        self.reports = reports.Reports(self.db)
        self.runs = runs.Runs(self.db)
        self.notifications = notifications.NotificationRecords(self.db)

    # --- lifetime, schema and readiness -------------------------------------------------

    async def start(self) -> None:
        """Apply the schema (or go on without it while Neo4j is down) and keep it applied."""
        await self.schema.start()

    async def close(self) -> None:
        await self.schema.stop()

    async def apply_schema(self) -> None:
        await schema.apply_schema(self.db, self.schema.statements)

    async def readiness(self, probe_seconds: float | None = None) -> str | None:
        """None when ready, else why not, within ``probe_seconds``; only reads (the keeper is
        asked to check)."""
        reason = await schema.readiness(self.db, self.schema.names, probe_seconds)
        if reason is not None:
            self.schema.want()
        return reason

    async def write(self, delta: GraphDelta) -> WriteSummary:
        """Write a request's delta, in a group commit with the requests waiting beside it."""
        return await self.writer.write(delta)


# --- opening a store from the settings (the API's lifespan, the Kafka consumer) -------------


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The settings' driver and store, started, and closed on exit.

    Starting applies the schema, or goes on while Neo4j is not usable yet: the store applies
    it by itself once Neo4j is back, and meanwhile its calls raise ``Unavailable``.
    """
    driver = AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        max_transaction_retry_time=settings.neo4j_retry_seconds,
        connection_timeout=settings.neo4j_connection_timeout,
        connection_acquisition_timeout=settings.neo4j_connection_timeout,
        max_connection_pool_size=settings.neo4j_max_connections,
    )
    store = Store(
        driver,
        settings.neo4j_database,
        settings.schema_file,
        settings.write_queue_seconds,
        uri=settings.neo4j_uri,
    )
    try:
        await store.start()
        yield store
    finally:
        await store.close()
        await driver.close()
