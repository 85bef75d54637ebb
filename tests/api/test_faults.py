"""Neo4j faults under load: 503 or success, recovery without restart, nothing acked lost."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from neo4j import Driver, GraphDatabase

from mllineage.local import LocalApi, LocalNeo4j
from mllineage.settings import Settings
from tests.events import entity, event
from tests.helpers import TEST_PASSWORD, local_settings

WRITERS = 4


def test_every_acknowledged_event_survives_a_killed_neo4j(tmp_path: Path) -> None:
    settings = local_settings(tmp_path / "neo4j", neo4j_retry_seconds=2.0)
    server = LocalNeo4j(settings)
    server.start()
    acknowledged: list[str] = []
    statuses: Counter[int | str] = Counter()
    after_restart: Counter[int | str] = Counter()
    restarted = threading.Event()
    stop = threading.Event()

    def writer(number: int, url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(100_000):
                if stop.is_set():
                    return
                name = f"writer{number}-{i}"
                body = event(entity("TrainingJob", name), [entity("Dataset", "shared")],
                             [entity("Model", f"{name}@1")])  # fmt: skip
                try:
                    reply = client.post("/v1/events", json=body)
                    status: int | str = reply.status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                (after_restart if restarted.is_set() else statuses)[status] += 1
                if status == 200:
                    acknowledged.append(name)
                elif status == 503:
                    assert reply.headers["retry-after"]
                    time.sleep(0.2)

    try:
        api_settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
        with LocalApi(api_settings) as api:
            threads = [threading.Thread(target=writer, args=(n, api.url)) for n in range(WRITERS)]
            for thread in threads:
                thread.start()
            time.sleep(3)
            server.kill()
            time.sleep(3)
            server.start()
            deadline = time.monotonic() + 60
            while httpx.get(f"{api.url}/readyz", timeout=30).status_code != 200:
                assert time.monotonic() < deadline, "the API did not recover"
                time.sleep(0.5)
            restarted.set()
            time.sleep(3)
            stop.set()
            for thread in threads:
                thread.join(timeout=120)

        assert set(statuses) <= {200, 503}, statuses  # fast failures, never a 500
        assert statuses[503] > 0, "the kill was not noticed"
        # Recovered without an API restart. (A 503 can still occur: four writers on one
        # shared node deadlock now and then, and a retry window of 2 s may run out.)
        assert set(after_restart) <= {200, 503} and after_restart[200] > 0, after_restart
        with GraphDatabase.driver(server.bolt_uri, auth=("neo4j", TEST_PASSWORD)) as driver:
            records, _, _ = driver.execute_query(
                "UNWIND $names AS name MATCH (:TrainingJob {name: name})-[:Produced]->(m:Model) "
                "RETURN count(m) AS found",
                names=acknowledged,
            )
        assert records[0]["found"] == len(acknowledged) > 0
    finally:
        stop.set()
        server.stop()


def test_a_client_that_gives_up_leaves_all_or_nothing(
    settings: Settings, empty_graph: Driver
) -> None:
    """The client times out mid-write: the batch lands whole or not at all.

    The API has a server of its own, so that its graceful shutdown waits for the abandoned
    request to finish: only then is the final count certain (and no later test sees it land).
    """
    names = [f"q{i}" for i in range(3000)]
    batch = {
        "events": [
            event(entity("FeatureQuery", n), [entity("FeatureGroup", "g")], [entity("Dataset", n)])
            for n in names
        ]
    }

    def queries() -> int:
        records, _, _ = empty_graph.execute_query(
            "MATCH (q:FeatureQuery) RETURN count(q) AS queries"
        )
        return int(records[0]["queries"])

    seen = []
    with LocalApi(settings) as server:
        with contextlib.suppress(httpx.TimeoutException):
            httpx.post(f"{server.url}/v1/events", json=batch, timeout=0.3)
        for _ in range(10):  # while the server may still be writing
            time.sleep(0.3)
            seen.append(queries())
    seen.append(queries())
    assert set(seen) <= {0, len(names)}, seen  # never a part of the batch
