"""The foundation: schema, health probes, and the local Neo4j launcher, on real servers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
from neo4j import AsyncGraphDatabase, Driver

from mllineage.local import LocalApi, LocalNeo4j, free_port
from mllineage.settings import Settings
from mllineage.store import Store
from mllineage.store.queries import read_schema
from tests.events import feature_store_events
from tests.helpers import local_settings


def _schema_objects(driver: Driver) -> list[tuple[str, str]]:
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, owningConstraint "
        "WHERE labelsOrTypes = ['Entity'] RETURN name, type ORDER BY name"
    )
    return [(r["name"], r["type"]) for r in records]


def test_schema_file_has_the_uid_constraint(settings: Settings) -> None:
    statements = read_schema(settings.schema_file)
    assert any("REQUIRE n.uid IS UNIQUE" in s for s in statements)
    assert all(";" not in s and not s.startswith("//") for s in statements)


def test_schema_applies_idempotently(settings: Settings, neo4j_driver: Driver) -> None:
    async def apply_twice() -> None:
        async with AsyncGraphDatabase.driver(
            settings.neo4j_uri,
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        ) as driver:
            store = Store(driver, settings.neo4j_database, settings.schema_file)
            await store.apply_schema()
            await store.apply_schema()
            assert await store.readiness() is None

    asyncio.run(apply_twice())
    objects = _schema_objects(neo4j_driver)
    names = [name for name, _ in objects]
    assert sorted(names) == sorted(set(names)), "an index was created twice"
    constraints, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type "
        "WHERE labelsOrTypes = ['Entity'] RETURN properties, type"
    )
    assert [(c["properties"], c["type"]) for c in constraints] == [(["uid"], "UNIQUENESS")]


def test_healthz_and_readyz(live_server: LocalApi) -> None:
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live_server.url}/readyz")
    assert ready.status_code == 200, ready.text
    docs = httpx.get(f"{live_server.url}/openapi.json")
    assert "/v1/events" in docs.json()["paths"]


def test_readyz_follows_neo4j_down_and_back_and_start_is_single(tmp_path: Path) -> None:
    """One throw-away local server: the API starts before it, sees it come and go."""
    settings = local_settings(tmp_path / "neo4j", neo4j_retry_seconds=1.0)
    server = LocalNeo4j(settings)
    api_settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
    with LocalApi(api_settings) as api:
        down = httpx.get(f"{api.url}/readyz", timeout=30)
        assert down.status_code == 503
        assert "Neo4j is unavailable" in down.json()["message"]
        assert down.headers["retry-after"]
        write = httpx.post(f"{api.url}/v1/events", json=feature_store_events()[0], timeout=30)
        assert write.status_code == 503 and write.headers["retry-after"]
        assert "Neo4j is unavailable" in write.json()["message"]

        first, started = server.start()
        assert started and first.running
        again, started_again = server.start()
        assert not started_again and again.pid == first.pid
        assert _java_servers_in(tmp_path) == 1

        assert httpx.get(f"{api.url}/readyz", timeout=30).status_code == 200
        write = httpx.post(f"{api.url}/v1/events", json=feature_store_events()[0], timeout=30)
        assert write.status_code == 200 and write.json()["nodes_created"] == 7
        browser = httpx.get(server.browser_url, timeout=30)
        assert browser.status_code == 200 and "<html" in browser.text.lower()

        assert server.stop()
        assert not server.status().running
        assert httpx.get(f"{api.url}/readyz", timeout=30).status_code == 503

        server.start()  # data survives the restart: the schema is already there
        assert httpx.get(f"{api.url}/readyz", timeout=30).status_code == 200
        server.stop()
    assert _java_servers_in(tmp_path) == 0


def _java_servers_in(folder: Path) -> int:
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if b"CommunityEntryPoint" in text and str(folder).encode() in text:
            count += 1
    return count


def test_neo4j_start_without_java_says_what_to_install(tmp_path: Path) -> None:
    env = {
        "PATH": str(tmp_path),  # no java here
        "HOME": str(tmp_path),
        "MLLINEAGE_NEO4J_INSTANCE_DIR": str(tmp_path / "neo4j"),
        "MLLINEAGE_NEO4J_BOLT_PORT": str(free_port()),
        "MLLINEAGE_NEO4J_HTTP_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", "neo4j", "start"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Java 17 or newer is required" in done.stderr
    assert "openjdk-17" in done.stderr
