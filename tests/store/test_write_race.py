"""A write creates outright the nodes it did not find stored (``queries.writes.WRITE``). A node
another writer is creating meanwhile is not among them: the write waits for that writer, then
finds the node and merges into it, so it is written once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from neo4j import AsyncGraphDatabase, Driver

from mllineage.ingest.events import to_delta
from mllineage.model.domain import GraphUpsert
from mllineage.model.views import WriteSummary
from mllineage.settings import Settings
from mllineage.store import Store

RACED = "Dataset:default:raced"
JOB = "TrainingJob:default:t"
OTHER_WRITER = """
CREATE (n:Entity:Dataset {uid: $uid, kind: 'Dataset', namespace: 'default', name: 'raced',
                          created_at: datetime($at), updated_at: datetime($at)})"""


def test_a_node_another_writer_created_meanwhile_is_written_once(
    settings: Settings, empty_graph: Driver
) -> None:
    upsert = GraphUpsert.model_validate(
        {
            "nodes": [
                {"kind": "Dataset", "name": "raced", "properties": {"rows": 7}},
                {"kind": "TrainingJob", "name": "t"},
            ],
            "edges": [{"source": RACED, "target": JOB, "type": "ContributedTo"}],
        }
    )
    delta = to_delta([upsert], received_at=datetime(2026, 11, 3, tzinfo=UTC))

    async def race() -> tuple[bool, WriteSummary]:
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            store = Store(driver, settings.neo4j_database)
            async with driver.session(database=settings.neo4j_database) as other:
                tx = await other.begin_transaction()
                await tx.run(OTHER_WRITER, uid=RACED, at="2026-11-01T00:00:00Z")
                write = asyncio.create_task(store.write(delta))
                await asyncio.sleep(1.5)  # the write's seek of the uid waits for the other
                waited = not write.done()
                await tx.commit()
            return waited, await write

    waited, summary = asyncio.run(race())
    assert waited
    assert (summary.nodes_created, summary.edges_created) == (1, 1)
    records, _, _ = empty_graph.execute_query(
        "MATCH (n:Entity {uid: $uid}) RETURN n {.*} AS n, COUNT { (n)-->() } AS out", uid=RACED
    )
    assert len(records) == 1
    node: dict[str, Any] = records[0]["n"]
    assert (node["rows"], records[0]["out"]) == (7, 1)
    assert node["created_at"].to_native() == datetime(2026, 11, 1, tzinfo=UTC)
