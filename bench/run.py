"""Ingestion and traversal benchmarks against a real Neo4j and a real API process.

    python -m bench.run --nodes 10000          # what `make bench` runs
    python -m bench.run --nodes 1000000        # the biggest size in bench/README.md
    python -m bench.run --scaling              # the sizes table of bench/results/
    python -m bench.run --mlmd                 # then against MLMD on its workload (bench.mlmd)

Each figure comes with a baseline measured in the same run: API ingest against the same
deltas written straight through the store (no HTTP, no validation), batches alternating,
and API walks, from roots stratified by how many nodes they reach, against networkx on the
same graph in memory and the naive path-enumerating Cypher.
Then the runs benchmarks (bench/runs.py, bench/runwalks.py): walks before and after
attaching runs, ingest of a run history against a raw-Cypher ceiling, and ``GET /v1/runs``.
A markdown table is printed and the figures are written to bench/results/.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench import mlmd
from bench.graph import graph_of
from bench.ingest import bench_ingest
from bench.report import RESULTS, machine, markdown, runs_markdown, scaling
from bench.runs import bench_run_ingest, bench_run_reads, run_history
from bench.runwalks import bench_walks_with_runs, load
from bench.stack import running_stack
from bench.synth import lineage_events
from bench.walks import bench_walks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--roots", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scaling", action="store_true", help="only print the sizes table")
    parser.add_argument("--run-history", type=int, default=20_000, help="runs ingested")
    parser.add_argument("--hot-runs", type=int, default=10_000, help="of them one process's")
    parser.add_argument("--attach-runs", type=int, default=100_000, help="runs walked past")
    parser.add_argument("--runs-only", action="store_true", help="only the runs benchmarks")
    parser.add_argument("--mlmd", action="store_true", help="then compare with MLMD (bench.mlmd)")
    args = parser.parse_args()
    if args.scaling:
        print(scaling())
        return

    events = lineage_events(args.nodes, args.seed)
    graph = graph_of(events)
    history = run_history(args.run_history, args.hot_runs, args.seed)
    with running_stack() as (settings, server, api):
        result: dict[str, Any] = {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "machine": machine(server),
        }
        if args.runs_only:
            load(api, events, args.batch)
        else:
            result["ingest"] = bench_ingest(settings, api, events, args.batch)
            result["walks"] = bench_walks(settings, api, graph, args.roots, args.seed)
        # In this order: the walks need the lineage loaded; the run ingest clears it.
        result["runs"] = {
            "walks": bench_walks_with_runs(
                settings, api, events, args.roots, args.attach_runs, args.seed
            ),
            "ingest": bench_run_ingest(
                settings, api, history, args.batch, single=min(250, len(history) // 10)
            ),
            "reads": bench_run_reads(settings, api, history, samples=50),
        }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{'runs' if args.runs_only else 'bench'}-{args.nodes}.json"
    path.write_text(json.dumps(result, indent=2))
    if not args.runs_only:
        print(markdown(result))
    print(runs_markdown(result["runs"]))
    print(f"\n(figures in {path})\n\n{scaling()}")
    if args.mlmd:
        options = {"--nodes": args.nodes, "--batch": args.batch, "--roots": args.roots}
        mlmd.main(
            [str(part) for pair in options.items() for part in pair] + ["--seed", str(args.seed)]
        )


if __name__ == "__main__":
    main()
