"""Helpers the tests share: a throw-away local Neo4j's settings, a live API, API keys, a graph
dump."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neo4j import Driver
from pydantic import SecretStr

from mllineage.api.auth import ApiKey, new_key
from mllineage.local import free_port
from mllineage.settings import Settings

TEST_PASSWORD = "mllineage-test"

# One key per scope, accepted by the ``secured`` server (tests/api/conftest.py).
READER, READER_KEY = new_key("dashboards", {"read"})
WRITER, WRITER_KEY = new_key("pipelines", {"write"})
ADMIN, ADMIN_KEY = new_key("ops", {"admin"})


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


EMPTY_GRAPH: dict[str, list[Any]] = {"nodes": [], "edges": [], "runs": [], "run_edges": []}


def dump_graph(driver: Driver) -> dict[str, Any]:
    """Every entity and lineage edge, and every run and run edge, with labels and all
    properties, straight from Neo4j (the oracle)."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n:Entity) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.uid"
    )
    edges, _, _ = driver.execute_query(
        "MATCH (a:Entity)-[r:ContributedTo|Produced|HasFeature]->(b:Entity) "
        "RETURN a.uid AS s, type(r) AS t, b.uid AS d, properties(r) AS props ORDER BY s, t, d"
    )
    runs, _, _ = driver.execute_query("MATCH (r:Run) RETURN properties(r) AS props ORDER BY r.id")
    run_edges, _, _ = driver.execute_query(
        "MATCH (a)-[r:RunOf|ReadBy|Wrote|ChildOf]->(b) "
        "RETURN coalesce(a.uid, a.id) AS s, type(r) AS t, coalesce(b.uid, b.id) AS d "
        "ORDER BY s, t, d"
    )
    return {
        "nodes": [(sorted(r["labels"]), r["props"]) for r in nodes],
        "edges": [(r["s"], r["t"], r["d"], r["props"]) for r in edges],
        "runs": [r["props"] for r in runs],
        "run_edges": [(r["s"], r["t"], r["d"]) for r in run_edges],
    }


def auth_on(settings: Settings, *keys: ApiKey, **overrides: Any) -> Settings:
    """``settings`` with authentication on, accepting exactly ``keys``."""
    api_keys = json.dumps([key.model_dump(mode="json") for key in keys])
    return settings.model_copy(update={"auth": "on", "api_keys": api_keys, **overrides})


OPENLINEAGE_FIXTURES = Path(__file__).parent / "fixtures" / "openlineage"


def openlineage_fixture(name: str) -> dict[str, Any]:
    """One OpenLineage event of the corpus in tests/fixtures/openlineage, as parsed JSON."""
    loaded: dict[str, Any] = json.loads((OPENLINEAGE_FIXTURES / f"{name}.json").read_text())
    return loaded
