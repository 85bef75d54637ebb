"""Every test gets a real Neo4j, never a mock.

Where it comes from, in order: ``MLLINEAGE_TEST_NEO4J_URI`` (with ``..._USER`` and
``..._PASSWORD``), else a testcontainers ``neo4j:5.26-community`` when a Docker engine
answers, else the locally provisioned server, started once per run on free ports with a
temporary data folder and stopped afterwards. The API runs in a real uvicorn server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from neo4j import Driver, GraphDatabase
from pydantic import SecretStr

from mllineage.api import create_app
from mllineage.neo4j_local import LocalNeo4j, free_port
from mllineage.settings import Settings

TEST_PASSWORD = "mllineage-test"


@dataclass(frozen=True)
class Neo4jTarget:
    uri: str
    user: str
    password: str


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def local_settings(instance_dir: Path, **overrides: Any) -> Settings:
    """Settings for a throw-away local server on free ports."""
    return Settings(
        auth="off",
        neo4j_instance_dir=instance_dir,
        neo4j_bolt_port=free_port(),
        neo4j_http_port=free_port(),
        neo4j_password=SecretStr(TEST_PASSWORD),
        **overrides,
    )


@pytest.fixture(scope="session")
def neo4j_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jTarget]:
    if uri := os.environ.get("MLLINEAGE_TEST_NEO4J_URI"):
        yield Neo4jTarget(
            uri,
            os.environ.get("MLLINEAGE_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("MLLINEAGE_TEST_NEO4J_PASSWORD", TEST_PASSWORD),
        )
    elif _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community", password=TEST_PASSWORD) as container:
            yield Neo4jTarget(container.get_connection_url(), "neo4j", TEST_PASSWORD)
    else:
        server = LocalNeo4j(local_settings(tmp_path_factory.mktemp("neo4j")))
        server.start()
        try:
            yield Neo4jTarget(server.bolt_uri, "neo4j", TEST_PASSWORD)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_target: Neo4jTarget) -> Iterator[Driver]:
    with GraphDatabase.driver(
        neo4j_target.uri, auth=(neo4j_target.user, neo4j_target.password)
    ) as driver:
        yield driver


@pytest.fixture(scope="session")
def settings(neo4j_target: Neo4jTarget) -> Settings:
    return Settings(
        auth="off",  # authentication has its own tests (test_security.py)
        neo4j_uri=neo4j_target.uri,
        neo4j_user=neo4j_target.user,
        neo4j_password=SecretStr(neo4j_target.password),
    )


class LiveServer:
    """A real uvicorn server on a free port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


@pytest.fixture
def empty_graph(neo4j_driver: Driver) -> Driver:
    """The test database with no nodes (the schema stays)."""
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    return neo4j_driver


@pytest.fixture
def api(live_server: LiveServer, empty_graph: Driver) -> Iterator[httpx.Client]:
    """An HTTP client of the live API, over an empty graph."""
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def dump_graph(driver: Driver) -> dict[str, Any]:
    """Every node and edge with labels and all properties, straight from Neo4j (the oracle)."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.uid"
    )
    edges, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN a.uid AS s, type(r) AS t, b.uid AS d, properties(r) AS props "
        "ORDER BY s, t, d"
    )
    return {
        "nodes": [(sorted(r["labels"]), r["props"]) for r in nodes],
        "edges": [(r["s"], r["t"], r["d"], r["props"]) for r in edges],
    }
