"""Walks over the lineage graph: what to keep of a breadth-first search, and the shape of an
impact report (pure logic, no I/O).

The store runs the search itself as one pruning breadth-first expansion in Neo4j, which
keeps each node once at its shortest depth, so cost grows with the reached subgraph and
never with the number of paths: a ladder of 40 diamonds has 2^40 paths and is still 121
nodes. Cycles end because no node is expanded twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from mllineage.model.domain import Kind
from mllineage.model.views import EntityOut, ImpactItem, ImpactReport, WhatIfItem, WhatIfReport


class Direction(StrEnum):
    upstream = "upstream"
    downstream = "downstream"
    both = "both"


@dataclass(frozen=True)
class Reached:
    depth: int
    kind: Kind


def shortest_path_parents(
    reached: dict[str, Reached], edges: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """For each reached node, its predecessor on one shortest path (the smallest uid).

    ``edges`` are (from, to) pairs in the walk's direction; an edge lies on a shortest path
    when it climbs exactly one level.
    """
    parents: dict[str, str] = {}
    for source, target in edges:
        if (
            source in reached
            and target in reached
            and reached[target].depth == reached[source].depth + 1
            and (target not in parents or source < parents[target])
        ):
            parents[target] = source
    return parents


def path_to(uid: str, parents: dict[str, str]) -> list[str]:
    """The uids of one shortest path from the root to ``uid``, both ends included."""
    path = [uid]
    while path[-1] in parents:
        path.append(parents[path[-1]])
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


class Downstream(NamedTuple):
    """One node an impact walk reached: where, how far, whom to tell, and its lifecycle."""

    uid: str
    kind: Kind
    depth: int
    namespace: str
    name: str
    owner: str | None
    deprecated: bool = False
    replaced_by: str | None = None
    retired: bool = False
    retired_at: str | None = None  # ISO 8601: when its current retirement began


def serving(
    nodes: dict[str, Downstream],
    edges: list[tuple[str, str]],
    ended: frozenset[tuple[str, str]] = frozenset(),
) -> set[str]:
    """The nodes that serve now: endpoints not retired, and every node upstream of one of
    them along ``edges`` (among ``nodes``) that are not ``ended``, through nodes not retired.
    So nothing retired ever serves, whatever the view includes."""
    feeds: dict[str, list[str]] = {}
    for source, target in edges:
        if source in nodes and target in nodes and (source, target) not in ended:
            if nodes[source].retired:
                continue
            feeds.setdefault(target, []).append(source)
    live = [uid for uid, row in nodes.items() if row.kind is Kind.Endpoint and not row.retired]
    seen = set(live)
    while live:
        for source in feeds.get(live.pop(), ()):
            if source not in seen:
                seen.add(source)
                live.append(source)
    return seen


def impact_report(
    root: EntityOut,
    reached: Iterable[Downstream],
    edges: Iterable[tuple[str, str]],
    limit: int,
    live_only: bool = False,
    ended: frozenset[tuple[str, str]] = frozenset(),
) -> ImpactReport:
    """The downstream blast radius of ``root`` from what its walk found.

    ``reached`` are the nodes downstream of the root (root excluded), each at its shortest
    distance; ``edges`` the (from, to) pairs among the root and them, ``ended`` those of them
    that are ended (only there when the view includes what is retired). The report counts
    every node per kind, lists the models, endpoints and training jobs nearest first (at
    most ``limit`` of each) with one shortest path from the root, and every distinct owner.
    Each item says whether it serves now (``serving``); ``live_only`` keeps only those.
    """
    nodes = {row.uid: row for row in reached}
    edges = list(edges)
    live = serving(nodes, edges, ended)
    live_endpoints = sum(1 for uid in live if nodes[uid].kind is Kind.Endpoint)
    if live_only:
        nodes = {uid: row for uid, row in nodes.items() if uid in live}
    downstream = {uid: Reached(row.depth, row.kind) for uid, row in nodes.items()}
    parents = shortest_path_parents({**downstream, root.uid: Reached(0, root.kind)}, edges)
    counts: dict[Kind, int] = {}
    for row in nodes.values():
        counts[row.kind] = counts.get(row.kind, 0) + 1
    truncated = False

    def items(kind: Kind) -> list[ImpactItem]:
        nonlocal truncated
        chosen, cut = select(downstream, root.uid, frozenset({kind}), limit)
        truncated = truncated or cut
        return [
            ImpactItem(
                uid=uid,
                kind=kind,
                namespace=nodes[uid].namespace,
                name=nodes[uid].name,
                owner=nodes[uid].owner,
                depth=nodes[uid].depth,
                path=path_to(uid, parents),
                live=uid in live,
                deprecated=nodes[uid].deprecated,
                replaced_by=nodes[uid].replaced_by,
                retired=nodes[uid].retired,
                retired_at=nodes[uid].retired_at,
            )
            for uid in chosen
        ]

    return ImpactReport(
        root=root,
        total=len(nodes),
        counts=counts,
        models=items(Kind.Model),
        endpoints=items(Kind.Endpoint),
        training_jobs=items(Kind.TrainingJob),
        feature_groups=items(Kind.FeatureGroup),
        features=items(Kind.Feature),
        feature_queries=items(Kind.FeatureQuery),
        owners=sorted({row.owner for row in nodes.values() if row.owner}),
        live_endpoints=live_endpoints,
        truncated=truncated,
    )


def what_if_report(retire: list[str], reports: Iterable[ImpactReport]) -> WhatIfReport:
    """What retiring ``retire`` takes from the live endpoints and models: from the impact
    report of each (root = a uid to retire), the live endpoints and models downstream that
    are not retired themselves, each once at its nearest, with what it loses and that
    thing's replacement, if any."""
    gone = set(retire)
    hit: dict[str, WhatIfItem] = {}
    for report in reports:
        for item in (*report.endpoints, *report.models):
            if not item.live or item.uid in gone:
                continue
            if item.uid not in hit or item.depth < hit[item.uid].depth:
                hit[item.uid] = WhatIfItem(
                    **item.model_dump(), loses=report.root.uid, replacement=report.root.replaced_by
                )
    ordered = sorted(hit.values(), key=lambda item: (item.depth, item.uid))
    endpoints = [item for item in ordered if item.kind is Kind.Endpoint]
    return WhatIfReport(
        retire=retire,
        live_endpoints=len(endpoints),
        endpoints=endpoints,
        models=[item for item in ordered if item.kind is Kind.Model],
        owners=sorted({item.owner for item in ordered if item.owner}),
    )


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
