"""Every Cypher text the code runs, in one place: every value a parameter, labels and types
from enums. (The schema's statements live in the packaged ``cypher/schema.cypher``, which
``read_schema`` reads; the local server's provisioning uses the few texts at the end.)

Labels and relationship types are spliced into query text only from the fixed ``Kind`` and
``EdgeType`` vocabularies, and walk depths only as ints; never request strings.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from mllineage.domain import EdgeType
from mllineage.events import TIME_PROPERTIES
from mllineage.lifecycle import HIDDEN_PROPERTIES, LIFECYCLE_TIMES
from mllineage.properties import RUN_PROPERTY_PREFIX
from mllineage.traversal import Direction

# Temporal values cross the driver as ISO strings, both ways: the driver converts each one
# between Python and Neo4j types in Python, which dominated big writes and walks (see
# bench/README.md). Cypher's datetime() and toString() do it in the server, and the store
# parses with datetime.fromisoformat.


# A node's properties as a map, temporal values as ISO strings and the lifecycle's interval
# lists left out (only ``as_of`` filters read them): a map projection costs Neo4j less than
# a list of [key, value] pairs built key by key. The keys it names are null on a node
# without them (Neo4j stores no nulls, so the store drops null values); naming a key that
# no node has yet draws a server warning, so the store reads with notifications off.
_TIME_KEYS = TIME_PROPERTIES + LIFECYCLE_TIMES


def properties_of(node: str) -> str:
    """The Cypher for the properties of the node variable ``node`` as a map."""
    times = (f"`{key}`: toString({node}.`{key}`)" for key in _TIME_KEYS)
    hidden = (f"`{key}`: null" for key in HIDDEN_PROPERTIES)
    return f"{node} {{.*, {', '.join([*times, *hidden])}}}"


PROPERTIES = properties_of("n")

# The lineage edges: the only ones walks and neighbour lists follow (run edges never are).
LINEAGE = "|".join(EdgeType)

# The latest run's times travel apart from its other properties (row.run_times).
RUN_TIMES = [key for key in TIME_PROPERTIES if key.startswith(RUN_PROPERTY_PREFIX)]
_RUN_TIMES_MAP = ", ".join(f"`{key}`: datetime(row.run_times.`{key}`)" for key in RUN_TIMES)

# Lifecycle (see lifecycle.py): a node's retirements and an edge's ends are intervals kept
# in two parallel lists, `<p>_from` and `<p>_until`, the open one ending at FOREVER; `<p>_at`
# is the start of the open one (null while live), so the live graph filters on one property.
FOREVER = "datetime('9999-12-31T23:59:59Z')"


def _open_start(var: str, prefix: str) -> str:
    """The earliest start of an open interval of ``var``, or null."""
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return (
        f"reduce(m = null, i IN range(0, size({f}) - 1) | "
        f"CASE WHEN {u}[i] = {FOREVER} AND (m IS NULL OR {f}[i] < m) THEN {f}[i] ELSE m END)"
    )


def revive(var: str, prefix: str, times: str) -> str:
    """Clauses for live events at ``times`` (mentions, a restore): each interval that one of
    them falls in now ends at the earliest such time (a newer event wins, and a live one wins
    a tie; an older, late event changes nothing)."""
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return f"""
FOREACH (x IN CASE WHEN {f} IS NULL THEN [] ELSE [1] END |
  SET {u} = [i IN range(0, size({f}) - 1) |
             reduce(m = {u}[i], t IN {times} | CASE WHEN t >= {f}[i] AND t < m THEN t ELSE m END)]
  SET {var}.{prefix}_at = {_open_start(var, prefix)})"""


def close(var: str, prefix: str, live_times: str) -> str:
    """Clauses for a retirement or an end at ``at``: a new interval from ``at`` to the earliest
    live time remembered at or after it (``live_times``, or the end of a later interval),
    else open; nothing when an interval already covers ``at`` or a live time equals it.
    Leaves the old starts ``starts`` in scope."""
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return f"""
WITH *, coalesce({f}, []) AS starts, coalesce({u}, []) AS ends
WITH *, any(i IN range(0, size(starts) - 1) WHERE starts[i] <= at AND at < ends[i]) AS covered,
     reduce(m = {FOREVER}, t IN {live_times} + ends |
            CASE WHEN t >= at AND t < m THEN t ELSE m END) AS until
WITH *, covered OR until = at AS idle
SET {f} = CASE WHEN idle THEN starts ELSE starts + at END,
    {u} = CASE WHEN idle THEN ends ELSE ends + until END
SET {var}.{prefix}_at = {_open_start(var, prefix)}"""


# The read filters of each view mode (lifecycle.View.mode) on a node or an edge variable.
AS_OF = "datetime($as_of)"


def _outside(var: str, prefix: str) -> str:
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return (
        f"none(i IN range(0, size(coalesce({f}, [])) - 1) "
        f"WHERE {f}[i] <= {AS_OF} AND {AS_OF} < {u}[i])"
    )


def node_filter(mode: str, var: str) -> str:
    return {
        "live": f"{var}.retired_at IS NULL",
        "all": "true",
        "as_of": f"{var}.created_at <= {AS_OF} AND {_outside(var, 'retired')}",
        "created": f"{var}.created_at <= {AS_OF}",
    }[mode]


def edge_filter(mode: str, var: str) -> str:
    return {
        "live": f"{var}.ended_at IS NULL",
        "all": "true",
        "as_of": f"{var}.first_seen <= {AS_OF} AND {_outside(var, 'ended')}",
        "created": f"{var}.first_seen <= {AS_OF}",
    }[mode]


# What a write created, for each request of a group commit: MERGE cannot say whether it
# created, so ON CREATE marks the node or edge and the statement reads and removes the mark
# (it never outlives the transaction).
CREATED_MARK = "_created_by_this_write"


def _created(var: str, key: str) -> str:
    return f"""
WITH {var}, row, {var}.{CREATED_MARK} IS NOT NULL AS created
REMOVE {var}.{CREATED_MARK}
RETURN collect(CASE WHEN created THEN {key} END) AS created"""


# The parts of WRITE (below). Nodes: one part for every kind, rows in uid order. The label is
# row.kind, a value of the Kind enum (validated at the edge), never a request string.
_NODE_UPSERT = f"""
UNWIND $delta.nodes AS row
WITH row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen,
     datetime(row.run_times.`run.event_time`) AS run_time
MERGE (n:Entity {{uid: row.uid}})
  ON CREATE SET n:$(row.kind), n.kind = row.kind, n.namespace = row.namespace, n.name = row.name,
                n.created_at = first_seen, n.updated_at = last_seen, n.{CREATED_MARK} = true
  ON MATCH SET n.created_at = CASE WHEN first_seen < n.created_at
                                   THEN first_seen ELSE n.created_at END
WITH n, row, first_seen, last_seen, last_seen >= n.updated_at AS newer,
     row.run IS NOT NULL AND coalesce(run_time >= n.`run.event_time`, true) AS newer_run
SET n += CASE WHEN newer THEN row.props ELSE {{}} END,
    n.updated_at = CASE WHEN newer THEN last_seen ELSE n.updated_at END,
    n += CASE WHEN newer_run THEN row.run ELSE {{}} END,
    n += CASE WHEN newer_run THEN {{{_RUN_TIMES_MAP}}} ELSE {{}} END
{revive("n", "retired", "[first_seen, last_seen]")}
{_created("n", "row.uid")}
"""

# Edges: MERGE with a dynamic relationship type scans every relationship (5.26), so each type
# has a branch of its own, the type spliced in from the EdgeType enum; a row takes the branch
# of its row.type.
_EDGE_BRANCH = f"""
  WITH a, b, row, first_seen, last_seen WHERE row.type = '$TYPE'
  MERGE (a)-[r:$TYPE]->(b)
    ON CREATE SET r.first_seen = first_seen, r.last_seen = last_seen, r.producer = row.producer,
                  r.{CREATED_MARK} = true
    ON MATCH SET r.first_seen = CASE WHEN first_seen < r.first_seen
                                     THEN first_seen ELSE r.first_seen END,
                 r.producer = CASE WHEN last_seen >= r.last_seen
                                   THEN row.producer ELSE r.producer END,
                 r.last_seen = CASE WHEN last_seen > r.last_seen
                                    THEN last_seen ELSE r.last_seen END
  RETURN r"""
_EDGE_BRANCHES = "\n  UNION ALL".join(_EDGE_BRANCH.replace("$TYPE", t.value) for t in EdgeType)
_EDGE_UPSERT = f"""
UNWIND $delta.edges AS row
WITH row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen
MATCH (a:Entity {{uid: row.source}})
MATCH (b:Entity {{uid: row.target}})
CALL (a, b, row, first_seen, last_seen) {{{_EDGE_BRANCHES}
}}
{revive("r", "ended", "[first_seen, last_seen]")}
{_created("r", "[row.source, row.target, row.type]")}
"""

# Runs (DESIGN §6; events.RunDelta merges a delta's events the same way). What the store has
# of the delta's runs, for events.complete_runs.
STORED_RUNS = """
UNWIND $delta.run_ids AS id
MATCH (r:Run {id: id})
RETURN r.id AS id, r.process AS process, toString(r.completed_at) AS completed_at,
       coalesce(r.pending_outputs, []) AS pending
"""

# A run row's values merge with the stored ones: the newest event's props and nominal times
# win key by key (set as one map, the common case), an older one's only fill gaps; the
# highest status rank wins (the newest among equals), started_at is the earliest, ended_at
# the latest. Its edges: RunOf its process, ReadBy from its inputs, Wrote to what it wrote,
# ChildOf its parent (a bare Run until the parent's own events come). Rows in id order, so
# writers lock runs in one order.
_RUN_UPSERT = """
UNWIND $delta.runs AS row
WITH row, datetime(row.last_time) AS last_time, datetime(row.status_time) AS status_time,
     datetime(row.started_at) AS started_at, datetime(row.ended_at) AS ended_at,
     datetime(row.completed_at) AS completed_at
MERGE (r:Run {id: row.id})
WITH r, row, last_time, status_time, started_at, ended_at, completed_at,
     coalesce(last_time >= r.event_time, true) AS newer,
     coalesce(row.rank > r.status_rank
              OR (row.rank = r.status_rank AND status_time >= r.status_time), true) AS outranks
SET r.process = row.process,
    r.status = CASE WHEN outranks THEN row.status ELSE r.status END,
    r.status_rank = CASE WHEN outranks THEN row.rank ELSE r.status_rank END,
    r.status_time = CASE WHEN outranks THEN status_time ELSE r.status_time END,
    r.producer = CASE WHEN newer THEN row.producer ELSE r.producer END,
    r.event_time = CASE WHEN newer THEN last_time ELSE r.event_time END,
    r.started_at = CASE WHEN started_at < r.started_at THEN started_at
                        ELSE coalesce(r.started_at, started_at) END,
    r.ended_at = CASE WHEN ended_at > r.ended_at THEN ended_at
                      ELSE coalesce(r.ended_at, ended_at) END,
    r.completed_at = CASE WHEN completed_at < r.completed_at THEN completed_at
                          ELSE coalesce(r.completed_at, completed_at) END,
    r.pending_outputs = row.pending
SET r += CASE WHEN newer THEN row.props ELSE {} END
FOREACH (k IN CASE WHEN newer THEN [] ELSE keys(row.props) END |
  SET r[k] = coalesce(r[k], row.props[k]))
WITH r, row, newer, datetime(row.nominal_start_time) AS nominal_start,
     datetime(row.nominal_end_time) AS nominal_end
SET r.nominal_start_time = CASE WHEN newer OR r.nominal_start_time IS NULL
                                THEN coalesce(nominal_start, r.nominal_start_time)
                                ELSE r.nominal_start_time END,
    r.nominal_end_time = CASE WHEN newer OR r.nominal_end_time IS NULL
                              THEN coalesce(nominal_end, r.nominal_end_time)
                              ELSE r.nominal_end_time END
WITH r, row
CALL (r, row) {
  MATCH (p:Entity {uid: row.process})
  MERGE (r)-[:RunOf]->(p)
}
CALL (r, row) {
  UNWIND row.inputs AS uid
  MATCH (a:Entity {uid: uid})
  MERGE (a)-[:ReadBy]->(r)
}
CALL (r, row) {
  UNWIND row.wrote AS uid
  MATCH (a:Entity {uid: uid})
  MERGE (r)-[:Wrote]->(a)
}
CALL (r, row) {
  UNWIND CASE WHEN row.parent IS NULL THEN [] ELSE [row.parent] END AS parent
  MERGE (p:Run {id: parent})
  MERGE (r)-[:ChildOf]->(p)
}
"""

# Run reads (store/runs.py). A run's properties as [key, value] pairs, times as ISO strings,
# the merge's bookkeeping left out.
RUN_TIME_KEYS = (
    "started_at", "ended_at", "event_time", "nominal_start_time", "nominal_end_time"
)  # fmt: skip
_RUN_HIDDEN = ["status_rank", "status_time", "completed_at", "pending_outputs"]
# Keys read from keys(r): a run has many optional ones (nominal times, error, experiment), and
# naming a key the database has never seen draws a server warning on every query.
RUN_PROPERTIES = (
    f"[k IN keys(r) WHERE NOT k IN {_RUN_HIDDEN!r} | "
    f"[k, CASE WHEN k IN {list(RUN_TIME_KEYS)!r} THEN toString(r[k]) ELSE r[k] END]]"
)

# Where a run list starts: an artifact's readers or writers, a process's or an experiment's
# runs (each backed by an index or a relationship), else every run. Stubs (a parent named
# by a child before its own events) have no start and are never listed.
_RUN_STARTS = {
    "produced": "MATCH (:Entity {uid: $produced})<-[:Wrote]-(r:Run)",
    "used": "MATCH (:Entity {uid: $used})-[:ReadBy]->(r:Run)",
    "process": "MATCH (r:Run) WHERE r.process = $process",
    "experiment": "MATCH (r:Run) WHERE r.experiment = $experiment",
    None: "MATCH (r:Run) WHERE r.started_at IS NOT NULL",
}
_RUN_FILTERS = {
    "produced": "EXISTS { (r)-[:Wrote]->(:Entity {uid: $produced}) }",
    "used": "EXISTS { (:Entity {uid: $used})-[:ReadBy]->(r) }",
    "process": "r.process = $process",
    "experiment": "r.experiment = $experiment",
    "status": "r.status = $status",
    "since": "r.started_at >= datetime($since)",
    "until": "r.started_at < datetime($until)",
    # The first comparison alone is a range the process index can seek to.
    "after": "r.started_at <= datetime($after_time) AND (r.started_at < datetime($after_time) "
    "OR (r.started_at = datetime($after_time) AND r.id < $after_id))",
}
# Sort keys a start's index gives in order, put first in the ORDER BY (a constant there, so
# the order is the same): then Neo4j reads the run_process_started index newest first and
# stops after a page (PartialTop), where it otherwise sorts all of a process's runs (Top).
_RUN_ORDER: dict[str | None, str] = {
    "process": "r.process DESC, ",
    "experiment": "r.experiment DESC, ",
}


@functools.cache
def list_runs_query(filters: frozenset[str]) -> str:
    """Runs newest first (started_at, then id), filtered by the named ``_RUN_FILTERS``."""
    start = next((f for f in _RUN_STARTS if f in filters), None)
    where = [_RUN_FILTERS[f] for f in sorted(filters) if f != start]
    return f"""
{_RUN_STARTS[start]}
WITH r WHERE r.started_at IS NOT NULL {"".join(f" AND {w}" for w in where)}
RETURN {RUN_PROPERTIES} AS run
ORDER BY {_RUN_ORDER.get(start, "")}r.started_at DESC, r.id DESC
LIMIT $limit
"""


GET_RUN = f"""
MATCH (r:Run {{id: $id}})
RETURN {RUN_PROPERTIES} AS run,
       [(a:Entity)-[:ReadBy]->(r) | {{uid: a.uid, kind: a.kind, name: a.name}}][..$cap] AS inputs,
       [(r)-[:Wrote]->(a:Entity) | {{uid: a.uid, kind: a.kind, name: a.name}}][..$cap] AS outputs,
       coalesce(r.pending_outputs, []) AS pending,
       [(r)-[:ChildOf]->(p:Run) | p.id][0] AS parent,
       [(c:Run)-[:ChildOf]->(r) | c.id][..$cap] AS children
"""

EXPERIMENTS = """
MATCH (r:Run) WHERE r.experiment IS NOT NULL
WITH r.experiment AS name, count(*) AS runs, collect(DISTINCT r.process) AS processes,
     min(r.started_at) AS first, max(r.started_at) AS last
RETURN name, runs, processes[..$cap] AS processes, toString(first) AS first_run_at,
       toString(last) AS last_run_at
ORDER BY last DESC, name
LIMIT $limit
"""

# OpenLineage datasets (events.join_stored_datasets): which of these uids are stored
# OpenLineage datasets. (The key is looked up in keys(n): naming it draws a server warning
# on every write to a database that has none yet.)
STORED_DATASETS = """
UNWIND $delta.dataset_uids AS uid
MATCH (n:Entity {uid: uid}) WHERE 'openlineage.name' IN keys(n)
RETURN collect(uid) AS uids
"""

# Merging each node old into node new of $delta.merges, a list of [old, new] uids (plain
# Cypher: no APOC). Each edge of old moves to new: an edge new already has of that type and
# end takes the wider times, any other is created with the same properties. A HasFeature edge
# moves only to a FeatureGroup. new's properties win; old's fill the gaps; created_at and
# updated_at widen. Then old goes.
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
MERGE_NODES = f"""
UNWIND $delta.merges AS merge
MATCH (old:Entity {{uid: merge[0]}}), (new:Entity {{uid: merge[1]}}) WHERE old <> new
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

# A write is this one statement (store/writes.py), its lists in one map parameter $delta:
# Neo4j plans a statement again for each size class of each list parameter, and several
# lists multiply the classes, but a map is planned once (bench/README.md, "One statement").
# First it takes the write lock of every stored node the write will touch, entities in uid
# order and then runs in id order, each at once: without it, MERGE's phases (split by Eager)
# let two writers each hold a shared lock on a popular node and then both wait to upgrade
# it, a deadlock. Setting an empty map changes nothing but takes the lock. It returns which
# of $delta.must_exist (edge ends the delta does not create) are not stored (the caller
# fails the transaction), and what it created.
_LOCK_ENTITIES = """
UNWIND $delta.lock AS uid
OPTIONAL MATCH (n:Entity {uid: uid})
SET n += {}
RETURN [uid IN collect(CASE WHEN n IS NULL THEN uid END) WHERE uid IN $delta.must_exist]
       AS missing"""
_LOCK_RUNS = """
UNWIND $delta.lock_runs AS id
MATCH (r:Run {id: id})
SET r += {}"""
WRITE = f"""
CALL () {{{_LOCK_ENTITIES}
}}
CALL () {{{_LOCK_RUNS}
}}
CALL () {{{_NODE_UPSERT}
}}
WITH missing, created AS nodes_created
CALL () {{{MERGE_NODES}
}}
CALL () {{{_EDGE_UPSERT}
}}
WITH missing, nodes_created, created AS edges_created
CALL () {{{_RUN_UPSERT}
}}
RETURN missing, nodes_created, edges_created
"""

# One entity and its direct neighbours in a view: `alive` says whether the entity itself is
# in it (a retired one is not, unless the view includes what is retired).
_GET_ENTITY = """
MATCH (n:Entity {uid: $uid})
RETURN $PROPERTIES AS node, $ALIVE AS alive,
       [(m)-[r:$LINEAGE]->(n) WHERE $NODE_M AND $EDGE_R
        | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap] AS upstream,
       [(n)-[r:$LINEAGE]->(m) WHERE $NODE_M AND $EDGE_R
        | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap] AS downstream
"""

_LIST_ENTITIES = """
MATCH (n:Entity)
WHERE ($kind IS NULL OR n.kind = $kind)
  AND ($namespace IS NULL OR n.namespace = $namespace)
  AND ($q IS NULL OR toLower(n.name) CONTAINS toLower($q))
  AND ($after IS NULL OR n.uid > $after)
  AND $NODE_N
RETURN $PROPERTIES AS node
ORDER BY n.uid
LIMIT $limit
"""


def get_entity_query(mode: str) -> str:
    return (
        _GET_ENTITY.replace("$PROPERTIES", PROPERTIES)
        .replace("$ALIVE", node_filter(mode, "n"))
        .replace("$NODE_M", node_filter(mode, "m"))
        .replace("$EDGE_R", edge_filter(mode, "r"))
        .replace("$LINEAGE", LINEAGE)
    )


def list_entities_query(mode: str) -> str:
    return _LIST_ENTITIES.replace("$PROPERTIES", PROPERTIES).replace(
        "$NODE_N", node_filter(mode, "n")
    )


# Walks. A walk is one query returning one record of lists (collect): the driver spends
# Python time on every record it receives, while one big list is unpacked by
# neo4j-rust-ext; and the nodes the walk found are projected where it found them, not
# looked up again by uid in a second round trip.

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
         collect([n.uid, n.kind, depth, n.namespace, n.name, n.owner,
                  n.deprecated_at IS NOT NULL, n.replaced_by,
                  NOT ({node_filter(alive_mode, "n")})]) AS nodes
}}
CALL (root, reached) {{
  WITH [root] + reached AS among{_edges_among(Direction.downstream, mode)}
}}
RETURN {properties_of("root")} AS root, {node_filter(mode, "root")} AS alive, nodes, edges
""".replace("$DEPTH", str(int(depth)))


# Lifecycle writes (store/lifecycle.py); $at is an ISO time.
LOOKUP = """
UNWIND $uids AS uid
MATCH (n:Entity {uid: uid})
RETURN n.uid AS uid, n.kind AS kind, n.retired_at IS NOT NULL AS retired,
       n.replaced_by AS replaced_by
"""

# Newer wins: an older, late deprecation leaves a newer one as it was.
DEPRECATE = """
MATCH (n:Entity {uid: $uid})
WITH n, datetime($at) AS at
WHERE n.deprecated_at IS NULL OR at >= n.deprecated_at
SET n.deprecated_at = at, n.deprecation_reason = $reason, n.replaced_by = $replaced_by
"""

# The reason is the newest retirement's.
RETIRE = f"""
MATCH (n:Entity {{uid: $uid}})
WITH n, datetime($at) AS at
{close("n", "retired", "[n.created_at, n.updated_at] + coalesce(n.restores, [])")}
SET n.retirement_reason = CASE WHEN all(s IN starts WHERE s <= at)
                               THEN coalesce($reason, n.retirement_reason)
                               ELSE n.retirement_reason END
"""

# Restores are remembered (they are few): a retirement that arrives later but is older ends
# at the first restore after it.
RESTORE = f"""
MATCH (n:Entity {{uid: $uid}})
WITH n, datetime($at) AS at
SET n.restores = CASE WHEN at IN coalesce(n.restores, []) THEN n.restores
                      ELSE coalesce(n.restores, []) + at END
WITH n, [at] AS times
{revive("n", "retired", "times")}
"""

# What a purge leaves behind must not point at it: successors named by `replaced_by`, and
# the runs of a purged process (its run history goes with it; other runs lose their links).
PURGE = """
MATCH (n:Entity {uid: $uid})
CALL (n) {
  MATCH (m:Entity) WHERE m.replaced_by = n.uid
  SET m.replaced_by = null
}
CALL (n) {
  MATCH (r:Run)-[:RunOf]->(n)
  DETACH DELETE r
}
DETACH DELETE n
"""

# Edges by (source, target, type): the ones that do not exist, and ending the ones that do.
MISSING_EDGES = """
UNWIND $rows AS row
OPTIONAL MATCH (:Entity {uid: row.source})-[r]->(:Entity {uid: row.target})
  WHERE type(r) = row.type
WITH row, r WHERE r IS NULL
RETURN collect(row) AS missing
"""

END_EDGES = f"""
UNWIND $rows AS row
MATCH (:Entity {{uid: row.source}})-[r]->(:Entity {{uid: row.target}}) WHERE type(r) = row.type
WITH r, datetime($at) AS at
{close("r", "ended", "[r.first_seen, r.last_seen]")}
"""

# Schema and readiness (store/schema.py).
SHOW_INDEXES = "SHOW INDEXES YIELD name, state RETURN name, state"
# Indexes older versions created that no longer serve a query (schema.drop_retired).
RETIRED_INDEXES = ("entity_name_text",)
DROP_INDEX = "DROP INDEX $name IF EXISTS"
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

# Provisioning of the local server (local/neo4j.py): a login check, and the first login's
# mandatory change of the default password.
PING = "RETURN 1"
CHANGE_PASSWORD = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new"

SCHEMA_NAME = re.compile(r"CREATE\s+(?:\w+\s+)?(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


def schema_names(statements: list[str]) -> set[str]:
    """The names of the constraints and indexes the statements create."""
    return {m.group(1) for s in statements if (m := SCHEMA_NAME.search(s))}


def read_schema(path: Path | None = None) -> list[str]:
    """The statements of the schema: ``path``, else the ``cypher/schema.cypher`` shipped in
    the package (found through importlib.resources, so any kind of install has it);
    ``//`` comments dropped, split on semicolons."""
    source = path or resources.files("mllineage").joinpath("cypher", "schema.cypher")
    text = "\n".join(
        line for line in source.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    return [statement.strip() for statement in text.split(";") if statement.strip()]


# --- Reports (store/reports.py; the definitions are in reports.py) ----------------------------
# Each report pages over its subjects (orphans, deprecated entities, features, endpoints) in uid
# order, in a view ("live" or "as_of"): $after is the previous page's last uid, $limit + 1 rows
# are asked so that the store knows whether there is a next page. Absent filters are '' rather
# than null: Neo4j plans a query again for each combination of parameter types, and these
# queries take long to plan. Walks follow only the lineage
# edge types and use the same pruning breadth-first expansion as lineage_query.
_LINEAGE_TYPES = "ContributedTo|Produced|HasFeature"
_CONSUMER_KINDS = "['Model', 'Endpoint']"
_SUBJECT = """{x}.uid > $after AND ($namespace = '' OR {x}.namespace = $namespace)
  AND ($owner = '' OR {owner} = $owner) AND {alive}"""


def _owner(var: str, mode: str) -> str:
    """An entity's owner; a feature without one has its group's (the first that has one)."""
    return (
        f"coalesce({var}.owner, head(COLLECT {{ MATCH (g:FeatureGroup)-[h:HasFeature]->({var}) "
        f"WHERE g.owner IS NOT NULL AND {node_filter(mode, 'g')} AND {edge_filter(mode, 'h')} "
        "RETURN g.owner ORDER BY g.uid }))"
    )


def _subject(var: str, mode: str) -> str:
    return _SUBJECT.format(x=var, owner=_owner(var, mode), alive=node_filter(mode, var))


def _report_walk(start: str, mode: str, upstream: bool = False, through: str = "") -> str:
    """Nodes reached from ``start`` (1 to 100 hops, each at its shortest distance) in the
    view: ``RETURN n, depth``. ``through`` names kinds the walk does not enter (the start may
    be of one)."""
    left, right = ("<-", "-") if upstream else ("-", "->")
    keep = node_filter(mode, "v")
    if through:
        keep = f"{keep} AND (v = {start} OR NOT v.kind IN {through})"
    return (
        f"MATCH p = ({start}){left}[:{_LINEAGE_TYPES}*1..100]{right}(n:Entity) "
        f"WHERE all(v IN nodes(p) WHERE {keep}) "
        f"AND all(w IN relationships(p) WHERE {edge_filter(mode, 'w')}) "
        "RETURN n, min(length(p)) AS depth"
    )


def _whole_readers(feature: str, mode: str) -> str:
    """The processes that read ``feature``'s group without listing any feature of it: they
    read every feature of the group (see reports.py)."""
    return f"""
MATCH (g:FeatureGroup)-[h:HasFeature]->({feature}) WHERE {node_filter(mode, "g")}
  AND {edge_filter(mode, "h")}
MATCH (g)-[r:ContributedTo]->(reader:Entity) WHERE {edge_filter(mode, "r")}
  AND {node_filter(mode, "reader")}
  AND NOT EXISTS {{
    MATCH (g)-[h2:HasFeature]->(f2:Feature)-[r2:ContributedTo]->(reader)
    WHERE {edge_filter(mode, "h2")} AND {node_filter(mode, "f2")} AND {edge_filter(mode, "r2")}
  }}"""


def _reads(process: str, mode: str) -> str:
    """A COLLECT subquery: the uids of the features ``process`` reads (listed, or through a
    group it reads whole)."""
    return f"""COLLECT {{
  MATCH (f:Feature)-[r:ContributedTo]->({process})
  WHERE {node_filter(mode, "f")} AND {edge_filter(mode, "r")}
  RETURN f.uid AS feature
  UNION
  MATCH (g:FeatureGroup)-[r:ContributedTo]->({process})
  WHERE {node_filter(mode, "g")} AND {edge_filter(mode, "r")}
    AND NOT EXISTS {{
      MATCH (g)-[h2:HasFeature]->(f2:Feature)-[r2:ContributedTo]->({process})
      WHERE {edge_filter(mode, "h2")} AND {node_filter(mode, "f2")} AND {edge_filter(mode, "r2")}
    }}
  MATCH (g)-[h:HasFeature]->(f:Feature) WHERE {edge_filter(mode, "h")} AND {node_filter(mode, "f")}
  RETURN f.uid AS feature
}}"""


@functools.cache
def orphans_query(mode: str) -> str:
    return f"""
MATCH (x:Entity)
WHERE x.kind IN ['FeatureGroup', 'Feature', 'Dataset', 'Model'] AND {_subject("x", mode)}
WITH x ORDER BY x.uid
CALL (x) {{
  UNWIND [x] + COLLECT {{ {_whole_readers("x", mode)} RETURN reader }} AS start
  CALL (start) {{
    CALL (start) {{ {_report_walk("start", mode)} }}
    RETURN n
    UNION
    RETURN start AS n
  }}
  RETURN count(CASE WHEN n.kind IN {_CONSUMER_KINDS} AND n <> x THEN 1 END) AS consumers
}}
WITH x WHERE consumers = 0
RETURN x.uid AS uid, x.kind AS kind, x.namespace AS namespace, x.name AS name,
       {_owner("x", mode)} AS owner, toString(x.created_at) AS created_at,
       toString(x.updated_at) AS last_seen
ORDER BY uid LIMIT $limit
"""


@functools.cache
def deprecated_in_use_query(mode: str) -> str:
    deprecated = "true" if mode == "live" else f"x.deprecated_at <= {AS_OF}"
    return f"""
MATCH (x:Entity)
WHERE x.deprecated_at IS NOT NULL AND {deprecated} AND {_subject("x", mode)}
WITH x ORDER BY x.uid
CALL (x) {{
  CALL (x) {{ {_report_walk("x", mode)} }}
  WITH n, depth WHERE n.kind IN {_CONSUMER_KINDS} AND n <> x
  WITH n, depth ORDER BY depth, n.uid
  RETURN collect([n.uid, n.kind, n.namespace, n.name, n.owner, depth]) AS consumers
}}
WITH x, consumers WHERE size(consumers) > 0
RETURN x.uid AS uid, x.kind AS kind, x.namespace AS namespace, x.name AS name,
       {_owner("x", mode)} AS owner, toString(x.deprecated_at) AS deprecated_at,
       x.deprecation_reason AS reason, x.replaced_by AS replaced_by,
       consumers[..$cap] AS consumers, size(consumers) AS total
ORDER BY uid LIMIT $limit
"""


def _columns(var: str) -> str:
    return (
        f"CASE WHEN valueType({var}[$columns]) STARTS WITH 'LIST' THEN {var}[$columns] ELSE [] END"
    )


def _groups(var: str, mode: str) -> str:
    return (
        f"COLLECT {{ MATCH (g:FeatureGroup)-[h:HasFeature]->({var}) WHERE "
        f"{node_filter(mode, 'g')} AND {edge_filter(mode, 'h')} RETURN g.uid ORDER BY g.uid }}"
    )


# A feature's data sources are the nearest ones upstream: walking up, not through another
# data source, a model or an endpoint (what is built on predictions is not built on the raw
# data again). Two features are duplicates when they share one and no group holds both; when
# both know their source columns, they must share one of those too.
_NOT_THROUGH = "['DataSource', 'Model', 'Endpoint']"


@functools.cache
def duplicate_features_query(mode: str) -> str:
    return f"""
MATCH (x:Feature)
WHERE {_subject("x", mode)}
WITH x, {_groups("x", mode)} AS groups, {_columns("x")} AS columns
WHERE size(groups) > 0
WITH x, groups, columns ORDER BY x.uid
CALL (x, groups, columns) {{
  CALL (x) {{
    CALL (x) {{ {_report_walk("x", mode, upstream=True, through=_NOT_THROUGH)} }}
    RETURN n
    UNION
    RETURN x AS n
  }}
  MATCH (s:DataSource)-[r:ContributedTo]->(n) WHERE {node_filter(mode, "s")}
    AND {edge_filter(mode, "r")}
  WITH DISTINCT x, groups, columns, s
  CALL (s) {{ {_report_walk("s", mode, through=_NOT_THROUGH)} }}
  WITH x, groups, columns, s, n AS f WHERE f:Feature AND f <> x
  WITH groups, columns, f, collect(s.uid) AS sources
  WITH groups, columns, f, sources, {_groups("f", mode)} AS their_groups
  WHERE size(their_groups) > 0 AND none(g IN their_groups WHERE g IN groups)
  WITH columns, f, sources, their_groups, {_columns("f")} AS their_columns
  WITH f, sources, their_groups, their_columns,
       [c IN columns WHERE c IN their_columns] AS shared
  WHERE size(columns) = 0 OR size(their_columns) = 0 OR size(shared) > 0
  RETURN collect([f.uid, {_owner("f", mode)}, their_groups, sources, shared]) AS duplicates
}}
WITH x, groups, duplicates WHERE size(duplicates) > 0
RETURN x.uid AS uid, x.namespace AS namespace, x.name AS name,
       {_owner("x", mode)} AS owner, groups, duplicates
ORDER BY uid LIMIT $limit
"""


# What a model was trained on: the features read by the feature queries and training jobs
# upstream of it, not walking through another model or an endpoint.
@functools.cache
def skew_query(mode: str) -> str:
    return f"""
MATCH (e:Endpoint)
WHERE {_subject("e", mode)}
WITH e ORDER BY e.uid
WITH e, {_reads("e", mode)} AS online
WHERE size(online) > 0
CALL (e, online) {{
  MATCH (m:Model)-[s:ContributedTo]->(e) WHERE {node_filter(mode, "m")} AND {edge_filter(mode, "s")}
  CALL (m) {{
    CALL (m) {{ {_report_walk("m", mode, upstream=True, through=_CONSUMER_KINDS)} }}
    WITH n AS q WHERE q.kind IN ['FeatureQuery', 'TrainingJob']
    UNWIND {_reads("q", mode)} AS feature
    RETURN collect(DISTINCT feature) AS trained
  }}
  WITH m, trained, [f IN online WHERE NOT f IN trained] AS online_only,
       [f IN trained WHERE NOT f IN online] AS training_only
  WHERE size(trained) > 0 AND size(online_only) + size(training_only) > 0
  RETURN collect([m.uid, m.owner, online_only, training_only]) AS models
}}
WITH e, models WHERE size(models) > 0
RETURN e.uid AS uid, e.namespace AS namespace, e.name AS name, e.owner AS owner, models
ORDER BY uid LIMIT $limit
"""


# --- Owner notifications (store/notifications.py) ----------------------------------------------
# Deliveries are :Notification nodes, never :Entity, with no relationships: walks, entity lists
# and reports never see them. Listed newest first; $before is the previous page's last
# [recorded_at, id].
RECORD_NOTIFICATION = """
CREATE (n:Notification)
SET n = $record, n.recorded_at = datetime($record.recorded_at)
"""

LIST_NOTIFICATIONS = """
MATCH (n:Notification)
WHERE ($owner = '' OR n.owner = $owner) AND ($status = '' OR n.status = $status)
  AND ($before_at = '' OR n.recorded_at < datetime($before_at)
       OR (n.recorded_at = datetime($before_at) AND n.id < $before_id))
WITH n ORDER BY n.recorded_at DESC, n.id DESC LIMIT $limit
RETURN n {.*, recorded_at: toString(n.recorded_at)} AS record
"""
