"""A throw-away local Neo4j and an API process beside it, for the benchmarks and the soak."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neo4j import Auth, GraphDatabase, basic_auth
from pydantic import SecretStr

from mllineage.local import LocalApi, LocalNeo4j, free_port
from mllineage.settings import Settings

PASSWORD = "mllineage-bench"


def login(settings: Settings) -> Auth:
    """The login every bench opens its own Neo4j drivers with."""
    return basic_auth(settings.neo4j_user, settings.neo4j_password.get_secret_value())


def clear(settings: Settings) -> None:
    """Empty the database in small transactions: relationships first, so that a popular
    node's thousands of edges never land in one transaction (on a big graph that overflows
    the transaction memory pool)."""
    with (
        GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
        driver.session() as session,
    ):
        session.run(
            "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def rss_mb(pid: int) -> float:
    """A process's resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def running_stack(**overrides: object) -> Iterator[tuple[Settings, LocalNeo4j, LocalApi]]:
    """Neo4j (heap and page cache 1 GB) on free ports in a temporary folder, and the API as
    ``mllineage serve`` in its own process, so the load generator does not share its GIL."""
    with tempfile.TemporaryDirectory(prefix="mllineage-bench-") as folder:
        fields: dict[str, object] = {
            "auth": "off",
            "neo4j_instance_dir": Path(folder),
            "neo4j_bolt_port": free_port(),
            "neo4j_http_port": free_port(),
            "neo4j_password": SecretStr(PASSWORD),
            "neo4j_heap": "1g",
            "neo4j_pagecache": "1g",
        }
        settings = Settings(**{**fields, **overrides})  # type: ignore[arg-type]
        server = LocalNeo4j(settings)
        server.start()
        settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
        try:
            with LocalApi(settings, subprocess=True) as api:
                api.wait_ready()
                yield settings, server, api
        finally:
            server.stop()
