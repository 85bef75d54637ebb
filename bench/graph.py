"""The synthetic lineage as a networkx graph (the oracle of the walks), and roots sampled
from it by how many nodes their walk reaches."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import networkx as nx

from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent

BUCKETS = (10, 100, 1_000, 10_000)
BUCKET_NAMES = [*(f"<= {bound}" for bound in BUCKETS), f"> {BUCKETS[-1]}"]


def graph_of(events: list[dict[str, Any]]) -> nx.DiGraph:
    delta = to_write(LineageEvent.model_validate(e) for e in events)
    graph = nx.DiGraph()
    graph.add_nodes_from(delta.nodes)
    graph.add_edges_from((e.source, e.target) for e in delta.edges.values())
    return graph


def bucket(size: int) -> str:
    return next((f"<= {bound}" for bound in BUCKETS if size <= bound), BUCKET_NAMES[-1])


def reach_size(graph: nx.DiGraph, root: str, depth: int = 10) -> int:
    """How many nodes a depth-limited walk from root reaches, counted up to past the last
    bucket (so a popular source costs no more than that to classify)."""
    walk = nx.bfs_edges(graph, root, depth_limit=depth)
    return sum(1 for _ in itertools.islice(walk, BUCKETS[-1] + 1))


def roots_by_reach(
    graph: nx.DiGraph, roots: int, rng: random.Random, max_seconds: float = 120.0
) -> dict[str, list[str]]:
    """Random roots, an equal share per reach bucket where the graph has them: uniform roots
    almost all reach <= 10 nodes and would leave the bigger buckets empty."""
    share = max(1, roots // len(BUCKETS))
    chosen: dict[str, list[str]] = {bucket(bound): [] for bound in BUCKETS}
    candidates = list(graph.nodes)
    rng.shuffle(candidates)
    deadline = time.monotonic() + max_seconds
    for node in candidates:
        size = reach_size(graph, node)
        if size <= BUCKETS[-1] and len(chosen[bucket(size)]) < share:
            chosen[bucket(size)].append(node)
        if all(len(c) == share for c in chosen.values()) or time.monotonic() > deadline:
            break
    return {name: found for name, found in chosen.items() if found}
