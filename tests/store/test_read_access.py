"""Reads run in READ transactions, which a Neo4j cluster serves from its secondaries: each of
the store's read doors refuses a write statement, as a secondary would; the writer's takes it."""

from __future__ import annotations

import asyncio

import pytest
from neo4j import Driver
from neo4j.exceptions import ClientError

from mllineage.model.errors import InvalidInput
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


def test_what_neo4j_refuses_is_invalid_input_and_our_own_query_errors_stay_errors(
    settings: Settings, empty_graph: Driver
) -> None:
    """A refusal of the data (here the uid constraint) is a 422, never a 500; a Statement
    error (a query of ours that Neo4j cannot run) is a bug, raised as it is."""

    async def attempt() -> None:
        async with open_store(settings) as store:
            create = "CREATE (:Entity {uid: 'DataSource:default:twice'})"
            await store.db.run(create)
            with pytest.raises(InvalidInput) as refused:
                await store.db.run(create)
            assert "Neo.ClientError.Schema.ConstraintValidationFailed" in str(refused.value)
            with pytest.raises(ClientError) as ours:
                await store.db.run("MATCH (n RETURN n")
            assert ours.value.code == "Neo.ClientError.Statement.SyntaxError"

    asyncio.run(attempt())
