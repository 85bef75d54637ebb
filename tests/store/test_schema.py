"""The schema and readiness on a real Neo4j: readiness only reads; the service keeps the
schema applied by itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from neo4j import AsyncGraphDatabase, Driver

from mllineage.local import LocalApi
from mllineage.settings import Settings
from mllineage.store import Store
from mllineage.store.queries.schema import read_schema, schema_names

NAMES = schema_names(read_schema())


def schema_objects(driver: Driver) -> list[tuple[str, str]]:
    """(name, state) of every index on :Entity and :Run, the constraints' own included."""
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, state, labelsOrTypes "
        "WHERE labelsOrTypes IN [['Entity'], ['Run']] RETURN name, state ORDER BY name"
    )
    return [(r["name"], r["state"]) for r in records]


def drop_schema(driver: Driver) -> None:
    for constraint in ("entity_uid", "run_id"):
        driver.execute_query(f"DROP CONSTRAINT {constraint} IF EXISTS")
    for name in NAMES:
        driver.execute_query(f"DROP INDEX {name} IF EXISTS")
    assert schema_objects(driver) == []


@asynccontextmanager
async def store_for(settings: Settings) -> AsyncIterator[Store]:
    """A store on its own driver, not started: no schema keeper runs."""
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        yield Store(driver, settings.neo4j_database, uri=settings.neo4j_uri)


def test_the_schema_ships_in_the_package_and_may_be_overridden(tmp_path: Path) -> None:
    assert Settings().schema_file is None
    statements = read_schema()
    assert any("REQUIRE n.uid IS UNIQUE" in s for s in statements)
    assert all(";" not in s and not s.startswith("//") for s in statements)
    assert {
        "entity_uid", "entity_kind_namespace", "entity_owner",
        "run_id", "run_process_started", "run_experiment_started",
    } == NAMES  # fmt: skip
    other = tmp_path / "schema.cypher"
    other.write_text("// one index\nCREATE INDEX a IF NOT EXISTS FOR (n:Entity) ON (n.a);\n")
    assert read_schema(other) == ["CREATE INDEX a IF NOT EXISTS FOR (n:Entity) ON (n.a)"]


def test_schema_applies_idempotently(settings: Settings, neo4j_driver: Driver) -> None:
    async def apply_twice() -> None:
        async with store_for(settings) as store:
            await store.apply_schema()
            await store.apply_schema()
            assert await store.readiness() is None

    asyncio.run(apply_twice())
    names = [name for name, _ in schema_objects(neo4j_driver)]
    assert sorted(names) == sorted(set(names)), "an index was created twice"
    constraints, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type "
        "RETURN labelsOrTypes, properties, type ORDER BY properties"
    )
    assert [(c["labelsOrTypes"], c["properties"], c["type"]) for c in constraints] == [
        (["Run"], ["id"], "UNIQUENESS"), (["Entity"], ["uid"], "UNIQUENESS")
    ]  # fmt: skip


def test_healthz_and_readyz(live_server: LocalApi) -> None:
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live_server.url}/readyz")
    assert ready.status_code == 200, ready.text
    docs = httpx.get(f"{live_server.url}/openapi.json")
    assert "/v1/events" in docs.json()["paths"]


def test_readiness_only_reads(settings: Settings, neo4j_driver: Driver) -> None:
    """A store that is not started (no keeper running): readiness reports what is missing
    and creates nothing, however often it is asked."""
    before = schema_objects(neo4j_driver)
    drop_schema(neo4j_driver)

    async def ask() -> list[str | None]:
        async with store_for(settings) as store:
            return [await store.readiness() for _ in range(3)]

    try:
        reasons = asyncio.run(ask())
        assert (
            reasons
            == [
                "schema objects not online: entity_kind_namespace, "
                "entity_owner, entity_uid, run_experiment_started, run_id, run_process_started"
            ]
            * 3
        )
        assert schema_objects(neo4j_driver) == []
    finally:
        asyncio.run(_restore(settings))
    assert schema_objects(neo4j_driver) == before


async def _restore(settings: Settings) -> None:
    async with store_for(settings) as store:
        await store.apply_schema()


def test_the_index_an_older_version_made_on_names_is_dropped(
    settings: Settings, neo4j_driver: Driver
) -> None:
    """Older versions made a TEXT index on names, which no query used and every write paid for."""
    neo4j_driver.execute_query(
        "CREATE TEXT INDEX entity_name_text IF NOT EXISTS FOR (n:Entity) ON (n.name)"
    )
    assert "entity_name_text" in {name for name, _ in schema_objects(neo4j_driver)}

    async def restore() -> str | None:
        async with store_for(settings) as store:
            return await store.schema.restore()

    assert asyncio.run(restore()) is None
    assert {name for name, _ in schema_objects(neo4j_driver)} == NAMES


def test_the_service_restores_a_dropped_schema_by_itself(
    live_server: LocalApi, neo4j_driver: Driver
) -> None:
    before = schema_objects(neo4j_driver)
    assert {name for name, _ in before} == NAMES
    drop_schema(neo4j_driver)
    down = httpx.get(f"{live_server.url}/readyz", timeout=30)
    assert down.status_code == 503 and down.headers["retry-after"]
    assert down.json()["message"].startswith("schema objects not online: entity_kind_namespace")
    deadline = time.monotonic() + 60
    while schema_objects(neo4j_driver) != before:  # no further probe: the service acts alone
        assert time.monotonic() < deadline, f"not restored: {schema_objects(neo4j_driver)}"
        time.sleep(0.2)
    assert httpx.get(f"{live_server.url}/readyz", timeout=30).status_code == 200
