"""The write's parameter is a ``BigParameter``: the driver formats the text of its debug line
for every statement, logged or not, so the parameter's repr is short unless that line is
logged; when it is, the line still shows the whole parameter."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from neo4j import AsyncGraphDatabase, Driver

from mllineage.ingest.events import to_delta
from mllineage.model.domain import GraphUpsert
from mllineage.settings import Settings
from mllineage.store import Store
from mllineage.store.database import BigParameter


def write_dataset(settings: Settings, name: str) -> None:
    upsert = GraphUpsert.model_validate({"nodes": [{"kind": "Dataset", "name": name}]})

    async def write() -> None:
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            delta = to_delta([upsert], received_at=datetime.now(UTC))
            await Store(driver, settings.neo4j_database).write(delta)

    asyncio.run(write())


def run_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "C: RUN" in r.getMessage()]


def test_the_write_parameter_is_formatted_only_when_the_driver_logs_it(
    settings: Settings, empty_graph: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    assert repr({"delta": BigParameter(nodes=[{"uid": "Dataset:default:a"}])}) == (
        "{'delta': <a map of 1 keys>}"
    )
    with caplog.at_level(logging.DEBUG, logger="neo4j.io"):
        assert "Dataset:default:a" in repr(BigParameter(nodes=[{"uid": "Dataset:default:a"}]))
        write_dataset(settings, "logged")
    assert any("'uid': 'Dataset:default:logged'" in line for line in run_lines(caplog))

    records, _, _ = empty_graph.execute_query("MATCH (n:Entity) RETURN n.uid AS uid")
    assert [r["uid"] for r in records] == ["Dataset:default:logged"]
