"""One-event writes on a young graph: their latency tail, and the plans Neo4j discarded as
stale meanwhile (its debug.log), to see what a replan of the write costs.

    python -m bench.replans

On a throw-away Neo4j and API (authentication off), 2,000 events of the MLMD workload
(``bench.mlmd_load.flatten_features``) in batches of 100, then 1,400 more, one per request,
timed with the standard library's client.
"""

from __future__ import annotations

import json
import statistics

from bench.mlmd_load import flatten_features
from bench.plain_http import PlainHttp
from bench.stack import running_stack
from bench.synth import lineage_events


def main() -> None:
    events = flatten_features(lineage_events(10_000, seed=7))
    with running_stack() as (settings, _server, api):
        http = PlainHttp(api.url)
        for i in range(0, 2_000, 100):
            http.post("/v1/events", json.dumps({"events": events[i : i + 100]}).encode())
        ms = sorted(http.post("/v1/events", json.dumps(e).encode())[0] for e in events[2_000:3_400])
        logs = settings.neo4j_instance_dir.glob("**/debug.log")
        stale = [line for log in logs for line in log.open() if "Discarded stale query" in line]
    print(
        f"one event per request, ms: median {statistics.median(ms):.1f}, "
        f"p99 {ms[len(ms) * 99 // 100]:.1f}, max {ms[-1]:.1f}; over 100 ms: "
        f"{sum(m > 100 for m in ms)}; plans discarded as stale meanwhile: {len(stale)}"
    )


if __name__ == "__main__":
    main()
