"""A bounded soak (not CI): concurrent writers and readers against the local stack.

    python -m bench.soak --seconds 240 --writers 4 --readers 4
    python -m bench.soak --seconds 120 --writers 8 --readers 0 --apis 4   # many writers

Authentication is on (one admin key). Writers post batches of synthetic events, unique ones
and re-sends mixed (re-sending is what retries do); readers walk and ask for impact from
random known uids. Every request is bounded by the deadline; the soak stops by itself.
With ``--apis N`` the writers take turns over N API processes on the one Neo4j. Reported:
requests per second, errors (must be 0), the first API process's memory at start and end,
and the graph against every event written (nodes and edges missing or extra, duplicates:
all must be 0).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from contextlib import ExitStack
from typing import Any

import httpx
from neo4j import GraphDatabase

from bench.report import RESULTS
from bench.stack import login, rss_mb, running_stack
from bench.synth import lineage_events
from mllineage.api.auth import new_key
from mllineage.ingest.intake import to_write
from mllineage.local import LocalApi
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings


def graph_against(settings: Settings, events: list[dict[str, Any]]) -> dict[str, int]:
    """The stored lineage against the union of the events written: what is missing, what is
    extra, and how many nodes or edges are stored twice."""
    delta = to_write(LineageEvent.model_validate(e) for e in events)
    expected_edges = {(s, t.value, d) for s, d, t in delta.edges}
    with GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver:
        nodes, _, _ = driver.execute_query("MATCH (n:Entity) RETURN n.uid AS uid")
        edges, _, _ = driver.execute_query(
            "MATCH (a:Entity)-[r:ContributedTo|Produced|HasFeature]->(b:Entity) "
            "RETURN a.uid AS s, type(r) AS t, b.uid AS d"
        )
    uids = [r["uid"] for r in nodes]
    pairs = [(r["s"], r["t"], r["d"]) for r in edges]
    return {
        "nodes_missing": len(delta.nodes.keys() - set(uids)),
        "nodes_extra": len(set(uids) - delta.nodes.keys()),
        "nodes_duplicated": len(uids) - len(set(uids)),
        "edges_missing": len(expected_edges - set(pairs)),
        "edges_extra": len(set(pairs) - expected_edges),
        "edges_duplicated": len(pairs) - len(set(pairs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--apis", type=int, default=1, help="API processes the writers share")
    args = parser.parse_args()

    token, key = new_key("soak", {"admin"})
    keys = json.dumps([key.model_dump(mode="json")])
    counts = {"writes": 0, "reads": 0, "errors": 0}
    errors: list[str] = []
    lock = threading.Lock()

    written: list[dict[str, Any]] = []
    with running_stack(auth="on", api_keys=keys) as (settings, _server, api), ExitStack() as more:
        apis = [api] + [
            more.enter_context(LocalApi(settings, subprocess=True)) for _ in range(args.apis - 1)
        ]
        for other in apis[1:]:
            other.wait_ready()
        headers = {"Authorization": f"Bearer {token}"}
        seed_events = lineage_events(3000, seed=1)
        with httpx.Client(base_url=api.url, headers=headers, timeout=120) as client:
            client.post("/v1/events", json={"events": seed_events}).raise_for_status()
        written += seed_events
        uids = sorted(f"{e['process']['kind']}:default:{e['process']['name']}" for e in seed_events)
        rss_start = rss_mb(api.pid)
        deadline = time.monotonic() + args.seconds

        def record(kind: str, reply: httpx.Response | None, problem: str = "") -> None:
            with lock:
                if reply is not None and reply.is_success:
                    counts[kind] += 1
                else:
                    counts["errors"] += 1
                    detail = f"{reply.status_code} {reply.text[:200]}" if reply else problem
                    errors.append(detail)

        def writer(number: int) -> None:
            rng = random.Random(number)
            mine = lineage_events(2000, seed=100 + number)
            url = apis[number % len(apis)].url
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                while time.monotonic() < deadline:
                    start = rng.randrange(0, max(1, len(mine) - args.batch))
                    batch = mine[start : start + args.batch]
                    try:
                        reply = client.post("/v1/events", json={"events": batch})
                        record("writes", reply)
                        if reply.is_success:
                            with lock:
                                written.extend(batch)
                    except httpx.HTTPError as exc:
                        record("writes", None, repr(exc))

        def reader(number: int) -> None:
            rng = random.Random(1000 + number)
            with httpx.Client(base_url=api.url, headers=headers, timeout=60) as client:
                while time.monotonic() < deadline:
                    uid = rng.choice(uids)
                    path = rng.choice(["/v1/lineage", "/v1/impact"])
                    params = {"uid": uid, "direction": rng.choice(["upstream", "downstream"])}
                    if path == "/v1/impact":
                        params = {"uid": uid}
                    try:
                        record("reads", client.get(path, params=params))
                    except httpx.HTTPError as exc:
                        record("reads", None, repr(exc))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(args.writers)]
        threads += [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        rss_end = rss_mb(api.pid)
        graph = graph_against(settings, written)

    result = {
        "seconds": round(elapsed, 1),
        "writers": args.writers,
        "readers": args.readers,
        "apis": args.apis,
        "batch": args.batch,
        "write_requests_per_s": round(counts["writes"] / elapsed, 1),
        "events_per_s": round(counts["writes"] * args.batch / elapsed, 1),
        "read_requests_per_s": round(counts["reads"] / elapsed, 1),
        "errors": counts["errors"],
        "first_errors": errors[:5],
        "api_rss_mb_start": round(rss_start, 1),
        "api_rss_mb_end": round(rss_end, 1),
        **graph,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
