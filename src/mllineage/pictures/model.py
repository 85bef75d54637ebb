"""What a picture shows: the nodes in layers by depth, the edges, and what was left out.

Built from the API's answers as JSON (``/v1/lineage``, ``/v1/impact``), so the client, the CLI
and the tests draw exactly what the service said. Pure: no I/O, no drawing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mllineage.model.domain import EDGE_RULES, Kind, parse_uid

MAX_NODES = 300  # beyond this a drawing is unreadable: keep the nearest and say so


@dataclass(frozen=True)
class Node:
    uid: str
    kind: str
    name: str
    depth: int  # hops from the root
    layer: int  # the column, left to right: negative upstream of the root, positive downstream
    deprecated: bool = False
    retired: bool = False
    replaced_by: str | None = None

    @property
    def status(self) -> str | None:
        """``retired``, ``deprecated`` (with its replacement) or None for a plain live node."""
        if self.retired:
            return "retired"
        if self.deprecated:
            replacement = parse_uid(self.replaced_by)[2] if self.replaced_by else None
            return f"deprecated → {replacement}" if replacement else "deprecated"
        return None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    type: str
    ended: bool = False


@dataclass(frozen=True)
class Picture:
    """The root first, then the other nodes nearest first; ``note`` says what is left out."""

    title: str
    root: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    note: str | None = None


def _node(row: dict[str, Any], layer: int) -> Node:
    return Node(
        uid=row["uid"],
        kind=str(row["kind"]),
        name=row["name"],
        depth=abs(layer),
        layer=layer,
        deprecated=bool(row.get("deprecated")),
        retired=row.get("retired_at") is not None or bool(row.get("retired")),
        replaced_by=row.get("replaced_by"),
    )


def _distances(root: str, pairs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Hops from ``root`` along ``pairs`` (breadth-first)."""
    following: dict[str, list[str]] = {}
    for source, target in pairs:
        following.setdefault(source, []).append(target)
    seen, queue = {root: 0}, deque([root])
    while queue:
        here = queue.popleft()
        for there in following.get(here, ()):
            if there not in seen:
                seen[there] = seen[here] + 1
                queue.append(there)
    return seen


def _capped(
    title: str, root: Node, others: Iterable[Node], edges: Iterable[Edge], max_nodes: int,
    cut_by_service: str | None,
) -> Picture:  # fmt: skip
    """Keep the root and the nearest ``max_nodes - 1`` others (by depth, then uid), the edges
    among them, and a note saying what was left out."""
    ordered = sorted(others, key=lambda node: (node.depth, node.uid))
    kept = ordered[: max(max_nodes - 1, 0)]
    notes = []
    if len(kept) < len(ordered):
        notes.append(
            f"showing the nearest {len(kept) + 1} of {len(ordered) + 1} nodes "
            f"(at most {max_nodes} are drawn)"
        )
    if cut_by_service:
        notes.append(cut_by_service)
    uids = {root.uid, *(node.uid for node in kept)}
    return Picture(
        title=title,
        root=root.uid,
        nodes=(root, *kept),
        edges=tuple(e for e in edges if e.source in uids and e.target in uids),
        note="; ".join(notes) or None,
    )


def from_lineage(
    answer: dict[str, Any], direction: str = "downstream", max_nodes: int = MAX_NODES
) -> Picture:
    """A picture of a ``/v1/lineage`` answer. Upstream nodes go left of the root, downstream
    ones right. For ``both``, a node is put upstream when the answer's edges lead from it to
    the root in as many hops as its depth, else downstream."""
    root = answer["root"]
    pairs = [(edge["source"], edge["target"]) for edge in answer["edges"]]
    upstream_hops = _distances(root["uid"], ((t, s) for s, t in pairs))

    def layer(row: dict[str, Any]) -> int:
        depth = int(row["depth"])
        if direction == "upstream" or (
            direction == "both" and upstream_hops.get(row["uid"]) == depth
        ):
            return -depth
        return depth

    edges = [
        Edge(e["source"], e["target"], str(e["type"]), e.get("ended_at") is not None)
        for e in answer["edges"]
    ]
    return _capped(
        f"{direction} of {root['uid']}",
        _node(root, 0),
        [_node(row, layer(row)) for row in answer["nodes"]],
        edges,
        max_nodes,
        "the service's limit cut the walk" if answer.get("truncated") else None,
    )


def edge_type(source: Kind, target: Kind) -> str:
    """The one edge type that may join ``source`` to ``target`` (the kinds decide it)."""
    for kind_of_edge, (sources, targets) in EDGE_RULES.items():
        if source in sources and target in targets:
            return str(kind_of_edge)
    raise ValueError(f"no edge may join a {source} to a {target}")


ROLES = ("models", "endpoints", "training_jobs")


def _count(n: int, plural: str) -> str:
    return f"{n} {plural.removesuffix('s') if n == 1 else plural}"


def from_impact(report: dict[str, Any], max_nodes: int = MAX_NODES) -> Picture:
    """A picture of a ``/v1/impact`` report: the root, the affected models, endpoints and
    training jobs, and the one shortest path the report gives to each. The nodes between
    are known only by their uid, so only the items carry lifecycle marks."""
    root = report["root"]
    items = {item["uid"]: item for role in ROLES for item in report[role]}
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str], Edge] = {}
    for item in items.values():
        path = item["path"]
        for depth, uid in enumerate(path[1:], start=1):
            if uid not in nodes:
                kind, namespace, name = parse_uid(uid)
                row = items.get(uid, {"uid": uid, "kind": kind, "name": name})
                nodes[uid] = _node(row, depth)
        for source, target in zip(path, path[1:], strict=False):
            kinds = parse_uid(source)[0], parse_uid(target)[0]
            edges[source, target] = Edge(source, target, edge_type(*kinds))
    counts = ", ".join(_count(len(report[role]), role.replace("_", " ")) for role in ROLES)
    return _capped(
        f"impact of {root['uid']}: {counts}",
        _node(root, 0),
        nodes.values(),
        edges.values(),
        max_nodes,
        "the service's limit cut the lists" if report.get("truncated") else None,
    )
