"""Helpers the tests share: a throw-away local Neo4j's settings, a live API, a graph dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neo4j import Driver
from pydantic import SecretStr

from mllineage.local import LocalApi, free_port
from mllineage.settings import Settings

TEST_PASSWORD = "mllineage-test"


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


LiveServer = LocalApi  # a real server in a thread of the test process (its logs reach caplog)


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
