"""``Store``: the API's one handle on the store, composing the modules of each concern.

Each concern is a module of functions that take the shared ``Database`` (writes, reads,
walks, schema, lifecycle); a new concern (runs) adds such a module and a method here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase

from mllineage.analysis.reports import Report, ReportPage
from mllineage.analysis.traversal import Direction
from mllineage.ingest.delta import GraphDelta
from mllineage.model.domain import EdgeIn, Kind
from mllineage.model.lifecycle import LIVE, View
from mllineage.model.views import (
    EntityDetail,
    EntityPage,
    ExperimentList,
    ImpactReport,
    LineageGraph,
    RunDetail,
    RunPage,
    Serialized,
    WhatIfReport,
    WriteSummary,
)
from mllineage.settings import Settings
from mllineage.store import lifecycle, reads, runs, schema, walks, writes
from mllineage.store import notifications as notification_records
from mllineage.store import reports as report_pages
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

    # --- writes, reads, walks -----------------------------------------------------------

    async def write(self, delta: GraphDelta) -> WriteSummary:
        return await self.writer.write(delta)

    async def get_entity(self, uid: str, view: View = LIVE) -> EntityDetail:
        return await reads.get_entity(self.db, uid, view)

    async def list_entities(
        self,
        *,
        kind: Kind | None,
        namespace: str | None,
        q: str | None,
        limit: int,
        cursor: str | None,
        view: View = LIVE,
    ) -> EntityPage:
        return await reads.list_entities(
            self.db, kind=kind, namespace=namespace, q=q, limit=limit, cursor=cursor, view=view
        )

    async def lineage(
        self,
        uid: str,
        *,
        direction: Direction,
        depth: int,
        kinds: frozenset[Kind] | None,
        limit: int,
        view: View = LIVE,
    ) -> Serialized[LineageGraph]:
        return await walks.lineage(
            self.db, uid, direction=direction, depth=depth, kinds=kinds, limit=limit, view=view
        )

    async def impact(
        self, uid: str, *, depth: int, limit: int, view: View = LIVE, live: bool = False
    ) -> ImpactReport:
        return await walks.impact(self.db, uid, depth=depth, limit=limit, view=view, live=live)

    # --- lifecycle ----------------------------------------------------------------------

    async def deprecate(
        self, uid: str, *, reason: str, replaced_by: str | None, at: datetime
    ) -> None:
        await lifecycle.deprecate(self.db, uid, reason=reason, replaced_by=replaced_by, at=at)

    async def retire(self, uid: str, *, reason: str | None, at: datetime) -> None:
        await lifecycle.retire(self.db, uid, reason=reason, at=at)

    async def restore(self, uid: str, *, at: datetime) -> None:
        await lifecycle.restore(self.db, uid, at=at)

    async def purge(self, uid: str) -> None:
        await lifecycle.purge(self.db, uid)

    async def end_edges(self, edges: list[EdgeIn], *, at: datetime) -> int:
        return await lifecycle.end_edges(self.db, edges, at=at)

    async def what_if(self, retire: list[str], *, view: View, limit: int) -> WhatIfReport:
        return await lifecycle.what_if(self.db, retire, view=view, limit=limit)

    # --- reports ------------------------------------------------------------------------

    async def report(
        self,
        name: Report,
        *,
        namespace: str | None,
        owner: str | None,
        limit: int,
        cursor: str | None,
        view: View = LIVE,
    ) -> ReportPage:
        return await report_pages.report(
            self.db, name, namespace=namespace, owner=owner, limit=limit, cursor=cursor, view=view
        )

    # --- owner notifications ------------------------------------------------------------

    async def record_notification(self, fields: dict[str, Any]) -> None:
        await notification_records.record(self.db, fields)

    async def notifications(
        self, *, owner: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        return await notification_records.records(
            self.db, owner=owner, status=status, limit=limit, cursor=cursor
        )

    # --- runs ---------------------------------------------------------------------------

    async def list_runs(
        self, *, filters: dict[str, Any], limit: int, cursor: str | None
    ) -> RunPage:
        return await runs.list_runs(self.db, filters=filters, limit=limit, cursor=cursor)

    async def get_run(self, run_id: str) -> RunDetail:
        return await runs.get_run(self.db, run_id)

    async def experiments(self, *, limit: int) -> ExperimentList:
        return await runs.experiments(self.db, limit=limit)


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
