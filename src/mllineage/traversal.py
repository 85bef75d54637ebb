"""Breadth-first walks over the lineage graph (pure logic; the store supplies one hop at a time).

The walk expands a whole frontier per hop and keeps each node once, at its first (shortest)
depth, so its cost grows with the reached subgraph and never with the number of paths: a
ladder of 40 diamonds has 2^40 paths and is still 121 nodes. Cycles end because a node is
never expanded twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from mllineage.domain import Kind


class Direction(StrEnum):
    upstream = "upstream"
    downstream = "downstream"
    both = "both"


@dataclass(frozen=True)
class Hop:
    """One edge crossed in the walk's direction: ``parent`` is nearer the root."""

    parent: str
    child: str
    kind: Kind  # the child's kind


@dataclass(frozen=True)
class Reached:
    depth: int
    kind: Kind
    parent: str | None  # the previous node on one shortest path from the root


# Given a frontier of uids, the hops leaving it (in one direction).
Expand = Callable[[list[str]], Awaitable[Iterable[Hop]]]


async def walk(root: str, root_kind: Kind, expand: Expand, depth: int) -> dict[str, Reached]:
    """Every node within ``depth`` hops of the root (root included at depth 0).

    Among several shortest paths the parent is the smallest uid, so answers are stable.
    """
    reached = {root: Reached(0, root_kind, None)}
    frontier = [root]
    for hop_count in range(1, depth + 1):
        if not frontier:
            break
        hops = sorted(await expand(frontier), key=lambda h: (h.child, h.parent))
        frontier = []
        for hop in hops:
            if hop.child not in reached:
                reached[hop.child] = Reached(hop_count, hop.kind, hop.parent)
                frontier.append(hop.child)
    return reached


def merge_both(up: dict[str, Reached], down: dict[str, Reached]) -> dict[str, Reached]:
    """Upstream ∪ downstream; a node found both ways keeps the smaller distance."""
    merged = dict(up)
    for uid, reached in down.items():
        if uid not in merged or reached.depth < merged[uid].depth:
            merged[uid] = reached
    return merged


def path_to(uid: str, reached: dict[str, Reached]) -> list[str]:
    """The uids of one shortest path from the root to ``uid``, both ends included."""
    path = [uid]
    while (parent := reached[path[-1]].parent) is not None:
        path.append(parent)
    return path[::-1]


def select(
    reached: dict[str, Reached], root: str, kinds: frozenset[Kind] | None, limit: int
) -> tuple[list[str], bool]:
    """The uids to return, nearest first (root excluded), and whether ``limit`` cut them."""
    chosen = sorted(
        (r.depth, uid)
        for uid, r in reached.items()
        if uid != root and (kinds is None or r.kind in kinds)
    )
    return [uid for _, uid in chosen[:limit]], len(chosen) > limit


@dataclass(frozen=True)
class Question:
    """A feature-owner question: a walk from a root of one kind, returning nodes of another."""

    root: Kind
    direction: Direction
    returns: Kind
    summary: str


QUESTIONS: dict[str, Question] = {
    "data-sources-of-feature-group": Question(
        Kind.FeatureGroup, Direction.upstream, Kind.DataSource,
        "Which raw data sources feed this feature group?",
    ),
    "feature-groups-of-model": Question(
        Kind.Model, Direction.upstream, Kind.FeatureGroup,
        "Which feature groups does this model depend on?",
    ),
    "models-of-feature-group": Question(
        Kind.FeatureGroup, Direction.downstream, Kind.Model,
        "Which models consume this feature group?",
    ),
    "endpoints-of-feature-group": Question(
        Kind.FeatureGroup, Direction.downstream, Kind.Endpoint,
        "Which endpoints depend on this feature group?",
    ),
    "feature-groups-of-data-source": Question(
        Kind.DataSource, Direction.downstream, Kind.FeatureGroup,
        "Which feature groups are built on this data source?",
    ),
    "features-of-data-source": Question(
        Kind.DataSource, Direction.downstream, Kind.Feature,
        "Which features are already built from this data source?",
    ),
    "models-using-feature": Question(
        Kind.Feature, Direction.downstream, Kind.Model,
        "Which models were trained on data that read this feature?",
    ),
}  # fmt: skip
