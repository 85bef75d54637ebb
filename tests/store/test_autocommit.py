"""A write's statements commit by themselves (``Database.write(autocommit=True)``); a failure
the driver would retry sends the whole work through its managed, retrying transaction, and
any other failure reaches the caller at once. The failure is raised by the test's work (a
transient one cannot be caused on purpose in one Neo4j); its statements run on the real
server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from neo4j import AsyncGraphDatabase, AsyncSession, Driver
from neo4j.exceptions import ClientError, Neo4jError, TransientError

from mllineage.settings import Settings
from mllineage.store.database import Database, Statements


def write_with(settings: Settings, failure: Neo4jError) -> list[str]:
    """Runs a work that fails with ``failure`` the first time, then creates a node; returns
    what ran it each time ('session': auto-commit, 'transaction': managed)."""
    ran: list[str] = []

    async def work(tx: Statements) -> Any:
        ran.append("session" if isinstance(tx, AsyncSession) else "transaction")
        if len(ran) == 1:
            raise failure
        return await (await tx.run("CREATE (n:Probe) RETURN n")).single()

    async def main() -> None:
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            await Database(driver, settings.neo4j_database).write(work, autocommit=True)

    asyncio.run(main())
    return ran


def probes(driver: Driver) -> int:
    records, _, _ = driver.execute_query("MATCH (n:Probe) RETURN count(n) AS n")
    return int(records[0]["n"])


def test_a_failure_the_driver_would_retry_goes_through_the_managed_transaction(
    settings: Settings, empty_graph: Driver
) -> None:
    assert write_with(settings, TransientError("a lock it could not get")) == [
        "session",
        "transaction",
    ]
    assert probes(empty_graph) == 1


def test_any_other_failure_reaches_the_caller_and_nothing_runs_again(
    settings: Settings, empty_graph: Driver
) -> None:
    with pytest.raises(ClientError):
        write_with(settings, ClientError("a statement Neo4j refused"))
    assert probes(empty_graph) == 0
