"""The benchmark's own parts: the synthetic graph has the shape of ML lineage (every kind,
feedback cycles, about 3 edges per node), and roots land in the reach bucket they are
reported under (networkx as the oracle)."""

from __future__ import annotations

import random

import networkx as nx
from bench.graph import BUCKETS, bucket, graph_of, roots_by_reach
from bench.stats import linear_fit
from bench.synth import lineage_events

from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent


def test_synthetic_lineage_is_seeded_valid_with_every_kind_cycles_and_3_edges_per_node() -> None:
    events = lineage_events(3_000, seed=3)
    assert events == lineage_events(3_000, seed=3)
    assert events != lineage_events(3_000, seed=4)
    delta = to_write(LineageEvent.model_validate(e) for e in events)  # edge rules hold
    kinds = {node.kind.value for node in delta.nodes.values()}
    assert kinds == {
        "DataSource", "FeaturePipeline", "FeatureGroup", "Feature", "FeatureQuery",
        "Dataset", "TrainingJob", "Model", "Endpoint",
    }  # fmt: skip
    graph = graph_of(events)
    assert 2.5 <= graph.number_of_edges() / graph.number_of_nodes() <= 3.5
    assert not nx.is_directed_acyclic_graph(graph)  # the feedback loops
    assert len({node.props.get("owner") for node in delta.nodes.values()}) > 3


def test_roots_fall_in_the_bucket_of_their_reach() -> None:
    graph = graph_of(lineage_events(3_000, seed=3))
    chosen = roots_by_reach(graph, 40, random.Random(1))
    assert len(chosen) >= 3  # this graph has roots reaching <= 10, <= 100 and <= 1000
    for name, roots in chosen.items():
        assert name in {bucket(bound) for bound in BUCKETS} and len(roots) <= 10
        for root in roots:
            reached = len(nx.single_source_shortest_path_length(graph, root, cutoff=10)) - 1
            assert bucket(reached) == name, root


def test_linear_fit_recovers_a_known_line() -> None:
    fit = linear_fit([10, 100, 1_000], [5.0 + 0.2 * n for n in (10, 100, 1_000)])
    assert fit == {"fixed_ms": 5.0, "ms_per_1000_nodes": 200.0, "r": 1.0}
