"""Several API processes writing overlapping lineage at once (docs/scaling-and-operations.md): no
request fails, and the graph is exactly the one the same requests make one after another.

The API processes get no transaction retries (``neo4j_retry_seconds=0``), so a single
deadlock between them fails a request: this shows the write shape cannot deadlock, rather
than that retries hid it.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
from neo4j import Driver

from mllineage.local import LocalApi
from mllineage.settings import Settings
from tests.events import entity, event
from tests.helpers import dump_graph

SOURCES = [entity("DataSource", f"s3://shared/{i}") for i in range(3)]
GROUPS = [entity("FeatureGroup", f"g{i}", "team-features") for i in range(5)]
PIPELINES = [entity("FeaturePipeline", f"p{i}") for i in range(5)]
WRITERS, ROUNDS = 8, 6


def seed() -> dict[str, Any]:
    """Every shared node once, so that graph upserts may link them."""
    at = "2026-11-01T00:00:00Z"
    return {"events": [event(p, SOURCES, GROUPS, time=at, run_id=f"seed-{p['name']}")
                       for p in PIPELINES]}  # fmt: skip


def requests_of(writer: int) -> list[tuple[str, dict[str, Any]]]:
    """A writer's requests: batches of events over the shared sources and groups, in an order
    of its own, and graph upserts linking existing nodes (edge ends the request does not
    create). Times are unique, so the result does not depend on arrival order."""
    rng = random.Random(writer)
    requests: list[tuple[str, dict[str, Any]]] = []
    for round_ in range(ROUNDS):
        events = []
        for i in range(4):
            at = f"2026-11-02T{writer:02d}:{round_:02d}:{i:02d}Z"
            inputs = rng.sample(SOURCES + GROUPS[:2], rng.randint(1, 4))
            outputs = rng.sample(GROUPS[2:], rng.randint(1, 3))
            process = rng.choice(PIPELINES)
            events.append(event(process, inputs, outputs, time=at, run_id=f"w{writer}-{at}"))
        requests.append(("/v1/events", {"events": events}))
        if round_ % 2:
            ends = rng.sample(GROUPS, 2)
            upsert = {
                "event_time": f"2026-11-03T{writer:02d}:{round_:02d}:00Z",
                "nodes": [{"kind": "Endpoint", "name": f"e{writer}"}],
                "edges": [
                    {"source": f"FeatureGroup:default:{ends[0]['name']}",
                     "target": f"Endpoint:default:e{writer}", "type": "ContributedTo"},
                    {"source": f"FeatureGroup:default:{ends[1]['name']}",
                     "target": "FeaturePipeline:default:p0", "type": "ContributedTo"},
                ],
            }  # fmt: skip
            requests.append(("/v1/graph", upsert))
    return requests


def post_all(url: str, requests: list[tuple[str, dict[str, Any]]]) -> list[int]:
    with httpx.Client(base_url=url, timeout=120) as client:
        return [client.post(path, json=body).status_code for path, body in requests]


def test_api_processes_writing_at_once_fail_nothing_and_lose_nothing(
    settings: Settings, empty_graph: Driver
) -> None:
    no_retries = settings.model_copy(update={"neo4j_retry_seconds": 0})
    with ExitStack() as stack:
        apis = [stack.enter_context(LocalApi(no_retries, subprocess=True)) for _ in range(2)]
        for api in apis:
            api.wait_ready()
        assert post_all(apis[0].url, [("/v1/events", seed())]) == [200]
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            futures = [
                pool.submit(post_all, apis[w % len(apis)].url, requests_of(w))
                for w in range(WRITERS)
            ]
            statuses = [s for f in futures for s in f.result()]
        assert statuses == [200] * len(statuses)
        together = dump_graph(empty_graph)

        empty_graph.execute_query("MATCH (n) DETACH DELETE n")
        one_by_one = [("/v1/events", seed())]
        one_by_one += [r for w in range(WRITERS) for r in requests_of(w)]
        assert set(post_all(apis[0].url, one_by_one)) == {200}
        assert together == dump_graph(empty_graph)
