"""The benchmark's markdown: one run's tables, and the sizes table over every kept result."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.graph import BUCKETS
from mllineage.local import LocalNeo4j

RESULTS = Path(__file__).parent / "results"


def machine(server: LocalNeo4j) -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Neo4j {server.status().version}"
    )


def markdown(result: dict[str, Any]) -> str:
    ing = result["ingest"]
    lines = [
        f"## {result['nodes']} nodes, {result['edges']} edges ({result['machine']})",
        "",
        "| ingest | figure |",
        "|---|---|",
        f"| events through the API (batches of {ing['batch']}) | "
        f"{ing['api_events_per_s']} events/s |",
        f"| entities (nodes + edges) through the API | {ing['api_entities_per_s']} /s |",
        f"| same deltas straight through the driver (ceiling) | {ing['raw_entities_per_s']} /s |",
        f"| API / ceiling | {ing['api_vs_raw']:.0%} |",
        f"| API entities/s, first and last tenth of the load | "
        f"{ing['api_entities_per_s_first_tenth']} and {ing['api_entities_per_s_last_tenth']} |",
        f"| ceiling entities/s, first and last tenth | {ing['raw_entities_per_s_first_tenth']} "
        f"and {ing['raw_entities_per_s_last_tenth']} |",
        f"| one event per request | {ing['single_events_per_s']} events/s "
        f"(batched is {ing['batched_vs_single']}x) |",
        "",
        "| walk, depth 10 | n | median ms | p95 ms | p99 ms | networkx median ms | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for direction in ("downstream", "upstream"):
        w = result["walks"][direction]
        a, f = w["api"], w["networkx_floor"]
        lines.append(
            f"| {direction} | {a['n']} | {a['median_ms']} | {a['p95_ms']} | {a['p99_ms']} | "
            f"{f['median_ms']} | {w['api_vs_floor_median']}x |"
        )
        for name, b in w["by_reached_nodes"].items():
            lines.append(
                f"| &nbsp; reached {name} | {b['n']} | {b['median_ms']} | {b['p95_ms']} | "
                f"{b['p99_ms']} | | |"
            )
    imp, naive = result["walks"]["impact"], result["walks"]["naive_cypher"]
    lines.append(f"| impact (depth 100) | {imp['n']} | {imp['median_ms']} | {imp['p95_ms']} | "
                 f"{imp['p99_ms']} | | |")  # fmt: skip
    for name, b in imp["by_reached_nodes"].items():
        lines.append(
            f"| &nbsp; reached {name} | {b['n']} | {b['median_ms']} | {b['p95_ms']} | "
            f"{b['p99_ms']} | | |"
        )
    for direction in ("downstream", "upstream"):
        if fit := result["walks"][direction]["linear_fit"]:
            lines.append(
                f"\n{direction.capitalize()} cost against reach (least squares): "
                f"{fit['fixed_ms']} ms"
                f" + {fit['ms_per_1000_nodes']} ms per 1,000 reached nodes, r = {fit['r']}."
            )
    lines += [
        "",
        f"Naive `MATCH p=(s)-[*1..10]->(n)`: {naive['timeouts']}/{naive['roots']} roots hit the "
        f"{naive['timeout_s']}s timeout"
        + (f"; median of the rest {naive['median_ms']} ms." if "median_ms" in naive else "."),
    ]
    return "\n".join(lines)


def scaling() -> str:
    """One row per graph size from every result in bench/results/: how ingest and walks
    change from 10k to 1M nodes."""
    results = sorted(
        (json.loads(path.read_text()) for path in RESULTS.glob("bench-*.json")),
        key=lambda result: result["nodes"],
    )

    def walk(result: dict[str, Any], direction: str, name: str) -> str:
        b = result["walks"][direction]["by_reached_nodes"].get(name)
        return f"{b['median_ms']} / {b['p99_ms']}" if b else "-"

    lines = [
        "| nodes | edges | API entities/s | API / ceiling | downstream median / p99 ms, "
        "reached <= 10 | <= 100 | <= 1000 | <= 10000 | upstream <= 100 | impact | "
        "ms per 1,000 reached |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ing, imp = r["ingest"], r["walks"]["impact"]
        fit = r["walks"]["downstream"]["linear_fit"]
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {ing['api_entities_per_s']:,} | "
            f"{ing['api_vs_raw']:.0%} | "
            + " | ".join(walk(r, "downstream", f"<= {bound}") for bound in BUCKETS)
            + f" | {walk(r, 'upstream', '<= 100')} | {imp['median_ms']} / {imp['p99_ms']} | "
            f"{fit.get('ms_per_1000_nodes', '-')} |"
        )
    return "\n".join(lines)


# --- Runs (bench/runs.py, bench/runwalks.py) --------------------------------------------


def runs_markdown(runs: dict[str, Any]) -> str:
    """The runs benchmarks' tables: ingest against the ceiling, run-list latency with the
    plans behind it, and walks before and after attaching runs."""
    ing, reads, walks = runs["ingest"], runs["reads"], runs["walks"]
    lines = [
        f"## Runs: {ing['runs']:,} runs ingested, {reads['process_runs']:,} of one process",
        "",
        "| ingest of runs (10 params, 5 metrics, env, code) | runs/s | events/s | / ceiling |",
        "|---|---|---|---|",
    ]
    names = {
        "native": f"native events, batches of {ing['batch']}",
        "openlineage": f"OpenLineage START + COMPLETE, batches of {ing['batch']} events",
        "ceiling": "ceiling: UNWIND MERGE through the driver",
    }
    for side, name in names.items():
        s = ing[side]
        lines.append(f"| {name} | {s['runs_per_s']:,} | {s['events_per_s']:,} | "
                     f"{s['vs_ceiling']:.0%} |")  # fmt: skip
    one = ing["openlineage_single"]
    lines += [
        f"| OpenLineage, one event per request ({one['runs']} runs) | {one['runs_per_s']} | "
        f"{one['events_per_s']} | |",
        "",
        f"| `GET /v1/runs`, limit {reads['limit']} | n | median ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for name, s in reads["latency"].items():
        lines.append(f"| {name} | {s['n']} | {s['median_ms']} | {s['p95_ms']} | {s['p99_ms']} |")
    lines.append("")
    for name, plan in reads["profile"].items():
        lines.append(
            f"- PROFILE {name}: {' < '.join(plan['operators'])}; starts at `{plan['start']}` "
            f"({plan['rows_from_start']:,} rows), {plan['db_hits']:,} db hits, "
            + ("sorts every row" if plan["full_sort"] else "no full sort")
        )
    after = walks["after"]
    lines += [
        "",
        f"Walks before and after attaching {walks['attached_runs']:,} runs "
        f"({after['run_edges']:,} run edges, up to {after['most_on_one_entity']:,} on one "
        f"entity), interleaved: after / before total = {walks['after_vs_before_total']}.",
        "",
        "| walk | before median / p99 ms | after median / p99 ms | median ratio | n |",
        "|---|---|---|---|---|",
    ]
    for name, w in walks["by_walk"].items():
        b, a = w["before"], w["after"]
        lines.append(f"| {name} | {b['median_ms']} / {b['p99_ms']} | {a['median_ms']} / "
                     f"{a['p99_ms']} | {w['median_ratio']} | {b['n']} |")  # fmt: skip
    return "\n".join(lines)
