"""Where the time goes: py-spy on the API process while it ingests and walks, and Neo4j's
PROFILE of the store's own queries. Not a benchmark (no figures kept), a diagnosis aid.

    python -m bench.profile --nodes 10000

Prints, for each path, the functions holding the most samples (inclusive and self) and the
query plans with rows and db hits per operator; the raw py-spy stacks stay in
bench/results/ (``py-spy record -o x.svg --pid ...`` draws a flame graph instead).
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import networkx as nx
from neo4j import GraphDatabase

from bench.graph import graph_of, roots_by_reach
from bench.report import RESULTS
from bench.stack import login, running_stack
from bench.synth import lineage_events
from mllineage.analysis.traversal import Direction
from mllineage.ingest.intake import to_write
from mllineage.local import LocalApi
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings
from mllineage.store.queries.walks import lineage_query
from mllineage.store.queries.writes import WRITE
from mllineage.store.rows import write_params


@contextmanager
def sampling(api: LocalApi, out: Path) -> Iterator[None]:
    """py-spy samples the API process (100 Hz, idle frames left out) for the block."""
    spy = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(api.pid)]
    process = subprocess.Popen(
        [*spy, "--rate", "100", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)  # attached
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


def hot_functions(raw: Path, top: int = 15) -> str:
    """Where the request-handling samples went: inclusive time of this service's functions,
    and the functions (any library's) that were on CPU themselves."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("run_asgi" in frame for frame in frames):
            continue  # not serving a request (start-up, idle loop)
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in {f for f in frames if "mllineage/" in f}:
            inclusive[frame] += int(count)
    if not total:
        return "(no samples while serving requests)"
    lines = [f"{total} samples serving requests; mllineage functions, inclusive:"]
    below = [(f, n) for f, n in inclusive.most_common() if n < 0.99 * total]  # not the server
    lines += [f"  {n / total:6.1%}  {f}" for f, n in below[:top]]
    lines += ["on CPU themselves:"] + [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def plan(settings: Settings, query: str, **params: Any) -> str:
    """PROFILE of one query: operator, rows, db hits, indented like Neo4j Browser's plan."""
    with (
        GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
        driver.session() as session,
        session.begin_transaction() as tx,  # rolled back: a profiled write changes nothing
    ):
        profile = tx.run("PROFILE " + query, params).consume().profile
    lines: list[str] = []

    def walk(node: dict[str, Any], indent: int) -> None:
        lines.append(
            f"{'  ' * indent}{node['operatorType'].split('@')[0]:<38} rows={node.get('rows')} "
            f"db_hits={node.get('dbHits')}"
        )
        for child in node.get("children", []):
            walk(child, indent + 1)

    walk(profile or {}, 1)
    return "\n".join(lines)


def profile_ingest(settings: Settings, api: LocalApi, events: list[dict[str, Any]]) -> None:
    out = RESULTS / "profile-ingest.txt"
    with sampling(api, out), httpx.Client(base_url=api.url, timeout=600) as client:
        for i in range(0, len(events), 500):
            client.post("/v1/events", json={"events": events[i : i + 500]}).raise_for_status()
    print("## Ingest (/v1/events, batches of 500)\n" + hot_functions(out))
    delta = to_write(LineageEvent.model_validate(e) for e in events[:500])
    print(f"\nThe write of the first batch again (rolled back; {len(delta.nodes)} nodes):")
    print(plan(settings, WRITE, delta=write_params(delta)))


def profile_walks(settings: Settings, api: LocalApi, graph: nx.DiGraph) -> None:
    roots = roots_by_reach(graph, 200, random.Random(7)).get("<= 10000", [])[:20]
    if not roots:
        print("\n(no root reaches over 1,000 nodes in this graph; try more --nodes)")
        return
    out = RESULTS / "profile-walks.txt"

    def walk(client: httpx.Client, uid: str) -> None:
        params: dict[str, str | int] = {"uid": uid, "depth": 10, "limit": 10_000}
        client.get("/v1/lineage", params=params).raise_for_status()

    with httpx.Client(base_url=api.url, timeout=600) as client:
        walk(client, roots[0])  # the plans compile outside the samples
        with sampling(api, out):
            for uid in roots:
                walk(client, uid)
    print(f"\n## Walks (/v1/lineage downstream, depth 10, {len(roots)} roots reaching 1k-10k)")
    print(hot_functions(out))
    lineage = lineage_query(Direction.downstream, 10, "live")
    params = {"uid": roots[0], "kinds": None, "limit": 10_000}
    print(f"\nLINEAGE from {roots[0]}:\n{plan(settings, lineage, **params)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    args = parser.parse_args()
    events = lineage_events(args.nodes)
    graph = graph_of(events)
    RESULTS.mkdir(exist_ok=True)
    with running_stack() as (settings, _, api):
        profile_ingest(settings, api, events)
        profile_walks(settings, api, graph)


if __name__ == "__main__":
    main()
