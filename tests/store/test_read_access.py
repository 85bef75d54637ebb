"""Reads run in READ transactions, which a Neo4j cluster serves from its secondaries: each of
the store's read doors refuses a write statement, as a secondary would; the writer's takes it."""

from __future__ import annotations

import asyncio

import pytest
from neo4j import Driver
from neo4j.exceptions import ClientError

from mllineage.settings import Settings
from mllineage.store import open_store

WRITE = "CREATE (n:ReadAccessProbe) RETURN count(n) AS c"


def test_every_read_door_opens_a_read_transaction(settings: Settings, empty_graph: Driver) -> None:
    async def attempts() -> list[str]:
        refused = []
        async with open_store(settings) as store:
            db = store.db
            doors = {
                "read": lambda: db.read(lambda tx: tx.run(WRITE)),
                "read_one": lambda: db.read_one(WRITE),
                "run_read": lambda: db.run_read(WRITE),
            }
            for name, door in doors.items():
                with pytest.raises(ClientError) as caught:
                    await door()
                assert caught.value.code == "Neo.ClientError.Statement.AccessMode", name
                refused.append(name)
            assert (await db.run(WRITE))[0]["c"] == 1  # the writer's door takes it
        return refused

    assert asyncio.run(attempts()) == ["read", "read_one", "run_read"]
    records, _, _ = empty_graph.execute_query("MATCH (n:ReadAccessProbe) RETURN count(n) AS c")
    assert records[0]["c"] == 1
