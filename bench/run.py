"""Ingestion and traversal benchmarks against a real Neo4j and a real API process.

    python -m bench.run --nodes 10000          # what `make bench` runs
    python -m bench.run --nodes 1000000        # the biggest size in bench/README.md
    python -m bench.run --scaling              # the sizes table of bench/results/
    python -m bench.run --mlmd                 # then against MLMD on its workload (bench.mlmd)

Each figure comes with a baseline measured in the same run: API ingest against the same
deltas written straight through the store (no HTTP, no validation), batches alternating,
and API walks, from roots stratified by how many nodes they reach, against networkx on the
same graph in memory and the naive path-enumerating Cypher.
A markdown table is printed and the figures are written to bench/results/.
"""

from __future__ import annotations

import argparse
import json

from bench import mlmd
from bench.graph import graph_of
from bench.ingest import bench_ingest
from bench.report import RESULTS, machine, markdown, scaling
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
    parser.add_argument("--mlmd", action="store_true", help="then compare with MLMD (bench.mlmd)")
    args = parser.parse_args()
    if args.scaling:
        print(scaling())
        return

    events = lineage_events(args.nodes, args.seed)
    graph = graph_of(events)
    with running_stack() as (settings, server, api):
        result = {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "machine": machine(server),
            "ingest": bench_ingest(settings, api, events, args.batch),
            "walks": bench_walks(settings, api, graph, args.roots, args.seed),
        }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{args.nodes}.json"
    path.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    print(f"\n(figures in {path})\n\n{scaling()}")
    if args.mlmd:
        options = {"--nodes": args.nodes, "--batch": args.batch, "--roots": args.roots}
        mlmd.main(
            [str(part) for pair in options.items() for part in pair] + ["--seed", str(args.seed)]
        )


if __name__ == "__main__":
    main()
