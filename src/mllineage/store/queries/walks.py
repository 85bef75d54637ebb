"""The walks (store/walks.py): lineage and impact."""

from __future__ import annotations

import functools

from mllineage.analysis.traversal import Direction
from mllineage.store.queries.common import (
    LINEAGE,
    edge_filter,
    node_filter,
    owner_of,
    properties_of,
)

# A walk is one query returning one record of lists (collect): the driver spends Python time
# on every record it receives, while one big list is unpacked by neo4j-rust-ext; and the
# nodes the walk found are projected where it found them, not looked up again by uid in a
# second round trip.

# A pruning breadth-first expansion (VarLengthExpand(Pruning,BFS) in the plan): each node
# is visited once and min(length(p)) is its shortest distance; no path is ever enumerated.
# The view's filters on the nodes and edges of p are inlined into that expansion, so a
# retired node or an ended edge is never expanded. `both` is the two walks, each node kept
# at the smaller distance (the outer min()). $DEPTH is an int checked by the API, spliced in
# because Cypher cannot parameterize it.
_ARROWS = {Direction.downstream: ("-", "->"), Direction.upstream: ("<-", "-")}


def _walk(way: Direction, mode: str) -> str:
    if way is Direction.both:
        return f"{_walk(Direction.upstream, mode)} UNION ALL {_walk(Direction.downstream, mode)}"
    left, right = _ARROWS[way]
    where = (
        ""
        if mode == "all"
        else f" WHERE all(x IN nodes(p) WHERE {node_filter(mode, 'x')})"
        f" AND all(r IN relationships(p) WHERE {edge_filter(mode, 'r')})"
    )
    return (
        f"MATCH p = (root){left}[:{LINEAGE}*1..$DEPTH]{right}(n:Entity){where} "
        "RETURN n, min(length(p)) AS depth"
    )


# All edges of the view among the nodes in `among`. Either direction finds them all;
# scanning along the walk keeps the cost to the walked edges (an upstream walk never touches
# a popular source's thousands of consumers). `b IN among` does not scan the list per edge:
# the time per node does not grow with the size of the walk.
def _edges_among(way: Direction, mode: str) -> str:
    keep = edge_filter(mode, "r")
    if way is Direction.upstream:
        return f"""
UNWIND among AS a
MATCH (a)<-[r:{LINEAGE}]-(b) WHERE b IN among AND {keep}
RETURN collect([b.uid, type(r), a.uid, toString(r.ended_at)]) AS edges"""
    return f"""
UNWIND among AS a
MATCH (a)-[r:{LINEAGE}]->(b) WHERE b IN among AND {keep}
RETURN collect([a.uid, type(r), b.uid, toString(r.ended_at)]) AS edges"""


# A lineage answer: the nodes nearest first (root excluded; of $kinds when given), at most
# $limit of them with their properties, whether the limit cut any, and the edges among the
# root and them; `alive` says whether the root itself is in the view.
@functools.cache
def lineage_query(direction: Direction, depth: int, mode: str) -> str:
    return f"""
MATCH (root:Entity {{uid: $uid}})
CALL (root) {{
  CALL (root) {{ {_walk(direction, mode)} }}
  WITH n, min(depth) AS depth
  WHERE n <> root AND ($kinds IS NULL OR n.kind IN $kinds)
  WITH n, depth ORDER BY depth, n.uid LIMIT $limit + 1
  WITH collect(n) AS found, collect([depth, {properties_of("n")}]) AS nodes
  RETURN found[..$limit] AS chosen, nodes[..$limit] AS nodes, size(found) > $limit AS truncated
}}
CALL (root, chosen) {{
  WITH [root] + chosen AS among{_edges_among(direction, mode)}
}}
RETURN {properties_of("root")} AS root, {node_filter(mode, "root")} AS alive,
       nodes, edges, truncated
""".replace("$DEPTH", str(int(depth)))


# An impact report: the root's properties, every downstream node with its distance, kind,
# name, owner and lifecycle marks (`retired`: not alive in the view's exclusive mode), and
# the edges among them (to draw one shortest path to each, and to tell what is live).
@functools.cache
def impact_query(depth: int, mode: str, alive_mode: str) -> str:
    return f"""
MATCH (root:Entity {{uid: $uid}})
CALL (root) {{
  CALL (root) {{ {_walk(Direction.downstream, mode)} }}
  WITH n, depth WHERE n <> root
  RETURN collect(n) AS reached,
         collect([n.uid, n.kind, depth, n.namespace, n.name, {owner_of("n")},
                  n.deprecated_at IS NOT NULL, n.replaced_by,
                  NOT ({node_filter(alive_mode, "n")}), toString(n.retired_at)]) AS nodes
}}
CALL (root, reached) {{
  WITH [root] + reached AS among{_edges_among(Direction.downstream, mode)}
}}
RETURN {properties_of("root")} AS root, {node_filter(mode, "root")} AS alive, nodes, edges
""".replace("$DEPTH", str(int(depth)))
