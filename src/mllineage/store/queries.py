"""Every Cypher text the code runs, in one place: every value a parameter, labels and types
from enums. (The schema's statements live in the packaged ``cypher/schema.cypher``, which
``read_schema`` reads; the local server's provisioning uses the few texts at the end.)

Labels and relationship types are spliced into query text only from the fixed ``Kind`` and
``EdgeType`` vocabularies, and walk depths only as ints; never request strings.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from mllineage.domain import RUN_PROPERTY_PREFIX, EdgeType
from mllineage.events import TIME_PROPERTIES
from mllineage.traversal import Direction

# Temporal values cross the driver as ISO strings, both ways: the driver converts each one
# between Python and Neo4j types in Python, which dominated big writes and walks (see
# bench/README.md). Cypher's datetime() and toString() do it in the server, and the store
# parses with datetime.fromisoformat.

# A node's properties as [key, value] pairs, temporal values as ISO strings. (Keys are read
# dynamically: naming a key no node has yet, such as run.started_at in a database without
# OpenLineage runs, draws a server warning on every query.)
_TIME_KEYS = "[" + ", ".join(f"'{key}'" for key in TIME_PROPERTIES) + "]"


def properties_of(node: str) -> str:
    """The Cypher for the properties of the node variable ``node`` as [key, value] pairs."""
    return (
        f"[k IN keys({node}) | "
        f"[k, CASE WHEN k IN {_TIME_KEYS} THEN toString({node}[k]) ELSE {node}[k] END]]"
    )


PROPERTIES = properties_of("n")

# The latest run's times travel apart from its other properties (row.run_times).
RUN_TIMES = [key for key in TIME_PROPERTIES if key.startswith(RUN_PROPERTY_PREFIX)]
_RUN_TIMES_MAP = ", ".join(f"`{key}`: datetime(row.run_times.`{key}`)" for key in RUN_TIMES)

# One statement for every kind, rows in uid order: node locks are then always taken in one
# global order. The label is row.kind, a value of the Kind enum (validated at the edge),
# never a request string.
NODE_UPSERT = f"""
UNWIND $rows AS row
WITH row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen,
     datetime(row.run_times.`run.event_time`) AS run_time
MERGE (n:Entity {{uid: row.uid}})
  ON CREATE SET n:$(row.kind), n.kind = row.kind, n.namespace = row.namespace, n.name = row.name,
                n.created_at = first_seen, n.updated_at = last_seen
  ON MATCH SET n.created_at = CASE WHEN first_seen < n.created_at
                                   THEN first_seen ELSE n.created_at END
WITH n, row, last_seen, last_seen >= n.updated_at AS newer,
     row.run IS NOT NULL AND coalesce(run_time >= n.`run.event_time`, true) AS newer_run
SET n += CASE WHEN newer THEN row.props ELSE {{}} END,
    n.updated_at = CASE WHEN newer THEN last_seen ELSE n.updated_at END,
    n += CASE WHEN newer_run THEN row.run ELSE {{}} END,
    n += CASE WHEN newer_run THEN {{{_RUN_TIMES_MAP}}} ELSE {{}} END
"""

# MERGE with a dynamic relationship type scans every relationship (5.26), so edges keep one
# statement per type, the type spliced in from the EdgeType enum.
_EDGE_UPSERT = """
UNWIND $rows AS row
WITH row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen
MATCH (a:Entity {uid: row.source})
MATCH (b:Entity {uid: row.target})
MERGE (a)-[r:$TYPE]->(b)
  ON CREATE SET r.first_seen = first_seen, r.last_seen = last_seen, r.producer = row.producer
  ON MATCH SET r.first_seen = CASE WHEN first_seen < r.first_seen
                                   THEN first_seen ELSE r.first_seen END,
               r.producer = CASE WHEN last_seen >= r.last_seen
                                 THEN row.producer ELSE r.producer END,
               r.last_seen = CASE WHEN last_seen > r.last_seen
                                  THEN last_seen ELSE r.last_seen END
"""

# OpenLineage datasets (events.join_stored_datasets): which of these uids are stored
# OpenLineage datasets. (The key is looked up in keys(n): naming it draws a server warning
# on every write to a database that has none yet.)
STORED_DATASETS = """
UNWIND $uids AS uid
MATCH (n:Entity {uid: uid}) WHERE 'openlineage.name' IN keys(n)
RETURN collect(uid) AS uids
"""

# Merging node $old into node $new (plain Cypher: no APOC). Each edge of $old moves to
# $new: an edge $new already has of that type and end takes the wider times, any other is
# created with the same properties. A HasFeature edge moves only to a FeatureGroup. $new's
# properties win; $old's fill the gaps; created_at and updated_at widen. Then $old goes.
_MOVE_EDGES = """
CALL (old, new) {
CALL (old, new) {
  MATCH (old)-[r]->(m)
  WHERE type(r) <> 'HasFeature' OR new.kind = 'FeatureGroup'
  WITH new, r, CASE WHEN m = old THEN new ELSE m END AS m
  OPTIONAL MATCH (new)-[same]->(m) WHERE type(same) = type(r)
  RETURN r, m, same, true AS out
  UNION ALL
  MATCH (m)-[r]->(old) WHERE m <> old
  OPTIONAL MATCH (m)-[same]->(new) WHERE type(same) = type(r)
  RETURN r, m, same, false AS out
}
CALL (new, r, m, same) {
  WITH * WHERE same IS NOT NULL
  SET same.first_seen = CASE WHEN r.first_seen < same.first_seen
                             THEN r.first_seen ELSE same.first_seen END,
      same.producer = CASE WHEN r.last_seen > same.last_seen
                           THEN r.producer ELSE same.producer END,
      same.last_seen = CASE WHEN r.last_seen > same.last_seen
                            THEN r.last_seen ELSE same.last_seen END
}
CALL (new, r, m, same, out) {
  WITH * WHERE same IS NULL AND out
  CREATE (new)-[c:$(type(r))]->(m) SET c = properties(r)
}
CALL (new, r, m, same, out) {
  WITH * WHERE same IS NULL AND NOT out
  CREATE (m)-[c:$(type(r))]->(new) SET c = properties(r)
}
}
"""
MERGE_NODE = f"""
MATCH (old:Entity {{uid: $old}}), (new:Entity {{uid: $new}}) WHERE old <> new
{_MOVE_EDGES}
WITH old, new, properties(old) AS was, properties(new) AS kept
DETACH DELETE old
SET new += was {{.*, uid: kept.uid}}, new += kept
SET new.created_at = CASE WHEN was.created_at < kept.created_at
                          THEN was.created_at ELSE kept.created_at END,
    new.updated_at = CASE WHEN was.updated_at > kept.updated_at
                          THEN was.updated_at ELSE kept.updated_at END
"""

# The migration to one node per OpenLineage dataset: datasets stored as several nodes (an
# older version chose the kind by role), each node with whether it has features.
SPLIT_DATASETS = """
MATCH (n:Entity) WHERE n.kind IN $kinds AND 'openlineage.name' IN keys(n)
WITH n.namespace AS namespace, n.name AS name,
     collect([n.uid, EXISTS { (n)-[:HasFeature]->() }]) AS nodes
WHERE size(nodes) > 1
RETURN nodes
"""

MISSING = """
UNWIND $uids AS uid
OPTIONAL MATCH (n:Entity {uid: uid})
WITH uid, n WHERE n IS NULL
RETURN collect(uid) AS missing
"""

GET_ENTITY = """
MATCH (n:Entity {uid: $uid})
RETURN $PROPERTIES AS node,
       [(m)-[r]->(n) | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap]
         AS upstream,
       [(n)-[r]->(m) | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap]
         AS downstream
""".replace("$PROPERTIES", PROPERTIES)

LIST_ENTITIES = """
MATCH (n:Entity)
WHERE ($kind IS NULL OR n.kind = $kind)
  AND ($namespace IS NULL OR n.namespace = $namespace)
  AND ($q IS NULL OR toLower(n.name) CONTAINS toLower($q))
  AND ($after IS NULL OR n.uid > $after)
RETURN $PROPERTIES AS node
ORDER BY n.uid
LIMIT $limit
""".replace("$PROPERTIES", PROPERTIES)

# Walks. A walk is one query returning one record of lists (collect): the driver spends
# Python time on every record it receives, while one big list is unpacked by
# neo4j-rust-ext; and the nodes the walk found are projected where it found them, not
# looked up again by uid in a second round trip.

# A pruning breadth-first expansion (VarLengthExpand(Pruning,BFS) in the plan): each node
# is visited once and min(length(p)) is its shortest distance; no path is ever enumerated.
# `both` is the two walks, each node kept at the smaller distance (the outer min()).
# $DEPTH is an int checked by the API, spliced in because Cypher cannot parameterize it.
_WALK = {
    Direction.downstream: "MATCH p = (root)-[*1..$DEPTH]->(n:Entity) "
    "RETURN n, min(length(p)) AS depth",
    Direction.upstream: "MATCH p = (root)<-[*1..$DEPTH]-(n:Entity) "
    "RETURN n, min(length(p)) AS depth",
}
_WALK[Direction.both] = f"{_WALK[Direction.upstream]} UNION ALL {_WALK[Direction.downstream]}"

# All edges among the nodes in `among`. Either direction finds them all; scanning along
# the walk keeps the cost to the walked edges (an upstream walk never touches a popular
# source's thousands of consumers). `b IN among` does not scan the list per edge: the time
# per node does not grow with the size of the walk.
_EDGES_AMONG = {
    Direction.downstream: """
UNWIND among AS a
MATCH (a)-[r]->(b) WHERE b IN among
RETURN collect([a.uid, type(r), b.uid]) AS edges""",
    Direction.upstream: """
UNWIND among AS a
MATCH (a)<-[r]-(b) WHERE b IN among
RETURN collect([b.uid, type(r), a.uid]) AS edges""",
}
_EDGES_AMONG[Direction.both] = _EDGES_AMONG[Direction.downstream]

# A lineage answer: the nodes nearest first (root excluded; of $kinds when given), at most
# $limit of them with their properties, whether the limit cut any, and the edges among the
# root and them.
LINEAGE = {
    way: f"""
MATCH (root:Entity {{uid: $uid}})
CALL (root) {{
  CALL (root) {{ {_WALK[way]} }}
  WITH n, min(depth) AS depth
  WHERE n <> root AND ($kinds IS NULL OR n.kind IN $kinds)
  WITH n, depth ORDER BY depth, n.uid LIMIT $limit + 1
  WITH collect(n) AS found, collect([depth, {properties_of("n")}]) AS nodes
  RETURN found[..$limit] AS chosen, nodes[..$limit] AS nodes, size(found) > $limit AS truncated
}}
CALL (root, chosen) {{
  WITH [root] + chosen AS among{_EDGES_AMONG[way]}
}}
RETURN {properties_of("root")} AS root, nodes, edges, truncated
"""
    for way in Direction
}

# An impact report: the root's properties, every downstream node with its distance, kind,
# name and owner, and the edges among them (to draw one shortest path to each).
IMPACT = f"""
MATCH (root:Entity {{uid: $uid}})
CALL (root) {{
  CALL (root) {{ {_WALK[Direction.downstream]} }}
  WITH n, depth WHERE n <> root
  RETURN collect(n) AS reached,
         collect([n.uid, n.kind, depth, n.namespace, n.name, n.owner]) AS nodes
}}
CALL (root, reached) {{
  WITH [root] + reached AS among{_EDGES_AMONG[Direction.downstream]}
}}
RETURN {properties_of("root")} AS root, nodes, edges
"""

# Schema and readiness (store/schema.py).
SHOW_INDEXES = "SHOW INDEXES YIELD name, state RETURN name, state"
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

# Provisioning of the local server (local/neo4j.py): a login check, and the first login's
# mandatory change of the default password.
PING = "RETURN 1"
CHANGE_PASSWORD = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new"

SCHEMA_NAME = re.compile(r"CREATE\s+(?:\w+\s+)?(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


def schema_names(statements: list[str]) -> set[str]:
    """The names of the constraints and indexes the statements create."""
    return {m.group(1) for s in statements if (m := SCHEMA_NAME.search(s))}


def edge_upsert_query(edge_type: EdgeType) -> str:
    return _EDGE_UPSERT.replace("$TYPE", EdgeType(edge_type).value)


def lineage_query(direction: Direction, depth: int) -> str:
    return LINEAGE[direction].replace("$DEPTH", str(int(depth)))


def impact_query(depth: int) -> str:
    return IMPACT.replace("$DEPTH", str(int(depth)))


def read_schema(path: Path | None = None) -> list[str]:
    """The statements of the schema: ``path``, else the ``cypher/schema.cypher`` shipped in
    the package (found through importlib.resources, so any kind of install has it);
    ``//`` comments dropped, split on semicolons."""
    source = path or resources.files("mllineage").joinpath("cypher", "schema.cypher")
    text = "\n".join(
        line for line in source.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    return [statement.strip() for statement in text.split(";") if statement.strip()]
