"""bench.mlmd: the workload fits MLMD's model (artifacts and executions joined by input and
output events) with the same nodes as bench.synth's, and a small run of the whole comparison
answers every walk right in both systems."""

from __future__ import annotations

import subprocess

import networkx as nx
import pytest
from bench.graph import graph_of
from bench.mlmd_load import compact, flatten_features, mlmd_python
from bench.synth import lineage_events

from bench import mlmd
from mllineage.model.domain import PROCESS_KINDS


def test_flattened_features_make_the_same_nodes_a_bipartite_graph() -> None:
    events = lineage_events(2_000, seed=3)
    flat = flatten_features(events)
    graph = graph_of(flat)
    assert set(graph.nodes) == set(graph_of(events).nodes)
    process = {uid for uid in graph if uid.split(":", 1)[0] in PROCESS_KINDS}
    assert all((a in process) != (b in process) for a, b in graph.edges)  # no HasFeature
    assert not nx.is_directed_acyclic_graph(graph)  # the feedback loops are still there
    one = compact(next(e for e in flat if e["inputs"] and e["outputs"]))
    edges = {(u, one["process"][0]) for u, _, _ in one["inputs"]}
    edges |= {(one["process"][0], u) for u, _, _ in one["outputs"]}
    assert edges <= set(graph.edges)


def test_a_small_comparison_answers_every_walk_like_networkx() -> None:
    try:
        mlmd_python()
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"no MLMD venv could be built here (pip install ml-metadata): {exc}")
    options = {"--nodes": 600, "--roots": 8, "--rounds": 1, "--batch": 20}
    options |= {"--single": 10, "--concurrent": 24, "--clients": 4}
    args = mlmd.parser().parse_args([str(part) for pair in options.items() for part in pair])
    result = mlmd.run(args)
    assert "| walk, reached <= 10," in mlmd.markdown(result)
    walks = result["walks"]
    assert walks["mllineage"]["wrong_answers"] == walks["mlmd"]["wrong_answers"] == 0
    assert sum(b["n"] for b in walks["mlmd"]["by_reached_nodes"].values()) >= 4
    assert result["single"]["mllineage"]["n"] == 10 and result["concurrent"]["mlmd"] > 0
    assert {"mllineage", "store", "raw", "mlmd"} <= result["batched"].keys()
