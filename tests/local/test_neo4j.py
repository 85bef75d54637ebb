"""The local Neo4j launcher on throw-away servers, with the API beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from neo4j import GraphDatabase

from mllineage.local import LocalApi, LocalNeo4j, free_port
from mllineage.store.queries.schema import read_schema, schema_names
from tests.events import feature_store_events
from tests.helpers import TEST_PASSWORD, local_settings


def test_readyz_follows_neo4j_down_and_back_and_start_is_single(tmp_path: Path) -> None:
    """One throw-away local server: the API starts before it, sees it come and go, and
    applies the schema by itself whenever Neo4j comes back without it."""
    settings = local_settings(tmp_path / "neo4j", neo4j_retry_seconds=1.0)
    server = LocalNeo4j(settings)
    api_settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
    port = str(settings.neo4j_bolt_port)
    with LocalApi(api_settings) as api:
        down = httpx.get(f"{api.url}/readyz", timeout=30)
        assert down.status_code == 503 and down.headers["retry-after"]
        message = down.json()["message"]
        assert message.startswith("Neo4j is unavailable")
        assert "mllineage neo4j start" in message and "MLLINEAGE_NEO4J_URI" in message
        assert port not in message and "127.0.0.1" not in message  # logged, never answered
        write = httpx.post(f"{api.url}/v1/events", json=feature_store_events()[0], timeout=30)
        assert write.status_code == 503 and write.headers["retry-after"]
        assert write.json()["message"] == message

        first, started = server.start()
        assert started and first.running
        again, started_again = server.start()
        assert not started_again and again.pid == first.pid
        assert _java_servers_in(tmp_path) == 1

        _wait_for_schema(server)  # no probe needed: the API applies it by itself
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
        assert httpx.get(f"{api.url}/v1/entities", timeout=30).json()["items"]

        server.stop()  # and back empty: a request that met the outage is enough
        write = httpx.post(f"{api.url}/v1/events", json=feature_store_events()[0], timeout=30)
        assert write.status_code == 503
        shutil.rmtree(settings.neo4j_instance_dir / "data")
        server.start()
        _wait_for_schema(server)
        assert httpx.get(f"{api.url}/readyz", timeout=30).status_code == 200
        server.stop()
    assert _java_servers_in(tmp_path) == 0


def _wait_for_schema(server: LocalNeo4j, seconds: float = 60) -> None:
    """Until every schema object is online, reading only."""
    wanted = schema_names(read_schema())
    deadline = time.monotonic() + seconds
    with GraphDatabase.driver(server.bolt_uri, auth=("neo4j", TEST_PASSWORD)) as driver:
        while True:
            records, _, _ = driver.execute_query("SHOW INDEXES YIELD name, state")
            if wanted <= {r["name"] for r in records if r["state"] == "ONLINE"}:
                return
            assert time.monotonic() < deadline, f"schema not applied: {records}"
            time.sleep(0.2)


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
