"""Every test gets a real Neo4j, never a mock.

Where it comes from, in order: ``MLLINEAGE_TEST_NEO4J_URI`` (with ``..._USER`` and
``..._PASSWORD``), else a testcontainers ``neo4j:5.26-community`` when a Docker engine
answers, else the locally provisioned server, started once per run on free ports with a
temporary data folder and stopped afterwards. The API runs in a real uvicorn server.

Kafka, for the tests that ask for it, comes the same way: ``MLLINEAGE_TEST_KAFKA_BOOTSTRAP``,
else a testcontainers Kafka, else the local broker (``mllineage kafka start``'s) on free ports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from neo4j import Driver, GraphDatabase
from pydantic import SecretStr

from mllineage.local import LocalApi, LocalKafka, LocalNeo4j, free_port
from mllineage.settings import Settings
from tests.helpers import TEST_PASSWORD, local_settings


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


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LocalApi]:
    with LocalApi(settings) as server:
        yield server


@pytest.fixture
def empty_graph(neo4j_driver: Driver) -> Driver:
    """The test database with no nodes (the schema stays)."""
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    return neo4j_driver


@pytest.fixture
def api(live_server: LocalApi, empty_graph: Driver) -> Iterator[httpx.Client]:
    """An HTTP client of the live API, over an empty graph."""
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


# --- Kafka --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka broker's bootstrap address, started only when a test asks for one."""
    if bootstrap := os.environ.get("MLLINEAGE_TEST_KAFKA_BOOTSTRAP"):
        yield bootstrap
    elif _docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer("confluentinc/cp-kafka:8.0.0").with_kraft() as container:  # Kafka 4.0
            yield container.get_bootstrap_server()
    else:
        server = LocalKafka(
            Settings(
                kafka_instance_dir=tmp_path_factory.mktemp("kafka"),
                kafka_port=free_port(),
                kafka_controller_port=free_port(),
            )
        )
        server.start()
        try:
            yield server.bootstrap
        finally:
            server.stop()
