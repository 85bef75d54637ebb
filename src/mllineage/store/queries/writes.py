"""The write (store/writes.py): one statement for a whole delta, and the reads and the
migration around it."""

from __future__ import annotations

from mllineage.ingest.events import TIME_PROPERTIES
from mllineage.model.domain import EdgeType
from mllineage.model.properties import RUN_PROPERTY_PREFIX
from mllineage.store.queries.common import revive

# The latest run's times travel apart from its other properties (row.run_times).
RUN_TIMES = [key for key in TIME_PROPERTIES if key.startswith(RUN_PROPERTY_PREFIX)]
_RUN_TIMES_MAP = ", ".join(f"`{key}`: datetime(row.run_times.`{key}`)" for key in RUN_TIMES)

# The parts of WRITE (below). Nodes, rows in uid order (the label is row.kind, a value of the
# Kind enum validated at the edge, never a request string): the lock step found which are
# stored. A node it did not find is created outright, cheaper than MERGE; no other writer
# can create it meanwhile, as the lock step's seek holds the uid's entry in the unique index
# until the statement commits (tests/store/test_write_race.py). A stored node, locked by the
# lock step, merges: a late event changes nothing newer.
_NODE_CREATE = f"""
UNWIND new_rows AS at
WITH $delta.nodes[at] AS row
WITH row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen
CREATE (n:Entity:$(row.kind) {{uid: row.uid, kind: row.kind, namespace: row.namespace,
                               name: row.name, created_at: first_seen, updated_at: last_seen}})
SET n += row.props, n += coalesce(row.run, {{}}),
    n += CASE WHEN row.run IS NOT NULL THEN {{{_RUN_TIMES_MAP}}} ELSE {{}} END
RETURN collect(row.uid) AS created
"""
_NODE_UPDATE = f"""
UNWIND stored_rows AS stored
WITH $delta.nodes[stored[0]] AS row, stored[1] AS n
WITH n, row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen,
     datetime(row.run_times.`run.event_time`) AS run_time
SET n.created_at = CASE WHEN first_seen < n.created_at THEN first_seen ELSE n.created_at END
WITH n, row, first_seen, last_seen, last_seen >= n.updated_at AS newer,
     row.run IS NOT NULL AND coalesce(run_time >= n.`run.event_time`, true) AS newer_run
SET n += CASE WHEN newer THEN row.props ELSE {{}} END,
    n.updated_at = CASE WHEN newer THEN last_seen ELSE n.updated_at END,
    n += CASE WHEN newer_run THEN row.run ELSE {{}} END,
    n += CASE WHEN newer_run THEN {{{_RUN_TIMES_MAP}}} ELSE {{}} END
{revive("n", "retired", "[first_seen, last_seen]")}
"""

# Edges. One with an end the statement created is new (unless a joined node's edges moved
# onto that end) and is created outright. Any other merges: MERGE with a dynamic
# relationship type scans every relationship (5.26), so each type has a branch of its own,
# the type spliced in from the EdgeType enum; a row takes the branch of its row.type. MERGE
# cannot say whether it created, so ON CREATE marks the edge, and the statement reads and
# removes the mark (it never outlives the transaction). Whether an end was created: the
# lock step's absent, [uid, not stored] for each uid it locked, at the row's ends (the uid
# guards the position).
CREATED_MARK = "_created_by_this_write"
_EDGE_BRANCH = f"""
  WITH a, b, row, first_seen, last_seen, new WHERE NOT new AND row.type = '$TYPE'
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
WITH row, datetime(row.first_seen) AS first_seen, datetime(row.last_seen) AS last_seen,
     row.may_create AND (absent[row.ends[0]] = [row.source, true]
                         OR absent[row.ends[1]] = [row.target, true]) AS new
MATCH (a:Entity {{uid: row.source}})
MATCH (b:Entity {{uid: row.target}})
CALL (a, b, row, first_seen, last_seen, new) {{
  WITH a, b, row, first_seen, last_seen, new WHERE new
  CREATE (a)-[r:$(row.type)]->(b)
  SET r.first_seen = first_seen, r.last_seen = last_seen, r.producer = row.producer
  RETURN r
  UNION ALL{_EDGE_BRANCHES}
}}
{revive("r", "ended", "[first_seen, last_seen]")}
WITH r, row, new, r.{CREATED_MARK} IS NOT NULL AS marked
FOREACH (x IN CASE WHEN marked THEN [1] ELSE [] END | REMOVE r.{CREATED_MARK})
RETURN collect(CASE WHEN new OR marked THEN [row.source, row.target, row.type] END) AS created
"""

# What the store has of the delta's runs, for events.complete_runs; and which uids of the
# delta's OpenLineage datasets are stored OpenLineage datasets (datasets), among them those of
# another node than the delta's (joins), for datasets.join_stored_datasets. (The key is looked
# up in keys(n): naming it draws a server warning on every write to a database that has none
# yet.)
_STORED_RUNS = """
UNWIND $delta.run_ids AS id
MATCH (r:Run {id: id})
RETURN collect({id: r.id, process: r.process, completed_at: toString(r.completed_at),
                pending: coalesce(r.pending_outputs, [])}) AS stored"""
_STORED_DATASETS = """
UNWIND $delta.datasets AS row
MATCH (n:Entity {uid: row.uid}) WHERE 'openlineage.name' IN keys(n)
RETURN collect(row.uid) AS datasets, collect(CASE WHEN row.other THEN row.uid END) AS joins"""


# Runs (docs/runs.md; delta.RunDelta merges a delta's events the same way). Its edges: RunOf
# its process, ReadBy from its inputs, Wrote to what it wrote, ChildOf its parent (a bare
# Run until the parent's own events come). Rows in id order, so writers lock runs in one
# order. A run the store did not have (row.new: WRITE's first pass, which writes only if the
# store has none of the delta's runs, and no other run of the delta names it as parent) is
# created outright with its edges; no other writer can create it meanwhile, as the read of
# the stored runs holds their ids' entries in the unique index.
def _run_edges(verb: str) -> str:
    return f"""
WITH r, row
CALL (r, row) {{
  MATCH (p:Entity {{uid: row.process}})
  {verb} (r)-[:RunOf]->(p)
}}
CALL (r, row) {{
  UNWIND row.inputs AS uid
  MATCH (a:Entity {{uid: uid}})
  {verb} (a)-[:ReadBy]->(r)
}}
CALL (r, row) {{
  UNWIND row.wrote AS uid
  MATCH (a:Entity {{uid: uid}})
  {verb} (r)-[:Wrote]->(a)
}}
CALL (r, row) {{
  UNWIND CASE WHEN row.parent IS NULL THEN [] ELSE [row.parent] END AS parent
  MERGE (p:Run {{id: parent}})
  {verb} (r)-[:ChildOf]->(p)
}}"""


_RUN_TIMES_OF_ROW = """
WITH row, datetime(row.last_time) AS last_time, datetime(row.status_time) AS status_time,
     datetime(row.started_at) AS started_at, datetime(row.ended_at) AS ended_at,
     datetime(row.completed_at) AS completed_at"""
_RUN_CREATE = f"""
UNWIND [row IN $delta.runs WHERE row.new] AS row{_RUN_TIMES_OF_ROW}
CREATE (r:Run {{id: row.id, process: row.process, status: row.status, status_rank: row.rank,
                status_time: status_time, producer: row.producer, event_time: last_time,
                started_at: started_at, ended_at: ended_at, completed_at: completed_at,
                pending_outputs: row.pending,
                nominal_start_time: datetime(row.nominal_start_time),
                nominal_end_time: datetime(row.nominal_end_time)}})
SET r += row.props{_run_edges("CREATE")}
"""
# A stored run's values merge with the row's: the newest event's props and nominal times win
# key by key (set as one map, the common case), an older one's only fill gaps; the highest
# status rank wins (the newest among equals), started_at is the earliest, ended_at the latest.
_RUN_UPSERT = f"""
UNWIND [row IN $delta.runs WHERE NOT row.new] AS row{_RUN_TIMES_OF_ROW}
MERGE (r:Run {{id: row.id}})
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
SET r += CASE WHEN newer THEN row.props ELSE {{}} END
FOREACH (k IN CASE WHEN newer THEN [] ELSE keys(row.props) END |
  SET r[k] = coalesce(r[k], row.props[k]))
WITH r, row, newer, datetime(row.nominal_start_time) AS nominal_start,
     datetime(row.nominal_end_time) AS nominal_end
SET r.nominal_start_time = CASE WHEN newer OR r.nominal_start_time IS NULL
                                THEN coalesce(nominal_start, r.nominal_start_time)
                                ELSE r.nominal_start_time END,
    r.nominal_end_time = CASE WHEN newer OR r.nominal_end_time IS NULL
                              THEN coalesce(nominal_end, r.nominal_end_time)
                              ELSE r.nominal_end_time END{_run_edges("MERGE")}
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
# lists multiply the classes, but a map is planned once (bench/HISTORY.md, "One statement
# per write").
# First it takes the write lock of every stored node the write will touch, entities in uid
# order and then runs in id order, each at once: without it, the write's phases (split by
# Eager) let two writers each hold a shared lock on a popular node (a locking seek or a
# MERGE takes one) and then both wait to upgrade it, a deadlock. Setting an empty map
# changes nothing but takes the lock. The lock step also tells the parts which nodes to
# create and which to merge into (by their index in $delta.nodes, lock.node), so each uid
# is sought once there. It returns which of
# $delta.must_exist (edge ends the delta does not create) are not stored, and then writes
# nothing more (the caller fails the write), else what it created. Before all that it reads
# what the store has of the runs $delta.run_ids and of the delta's datasets: when it has any
# of the runs, or other datasets' nodes to join than $delta.joined_with, it writes nothing
# and returns them (wrote is false), and the caller sends it again with them merged in and
# no run_ids; so a write whose runs are new and whose datasets join nothing new is one
# statement. As it writes nothing unless it writes all, it may run in a transaction of its
# own. replan=skip: its plan seeks every node by a unique uid or id whatever the statistics
# say, and Neo4j replanning it as a young graph's statistics drift stalled the write that
# met the replan (bench/HISTORY.md, "replan=skip on the write").
_LOCK_ENTITIES = """
UNWIND $delta.lock AS lock
OPTIONAL MATCH (n:Entity {uid: lock.uid})
SET n += {}
RETURN [uid IN collect(CASE WHEN n IS NULL THEN lock.uid END) WHERE uid IN $delta.must_exist]
       AS missing,
       collect([lock.uid, n IS NULL]) AS absent,
       collect(CASE WHEN n IS NULL THEN lock.node END) AS new_rows,
       collect(CASE WHEN n IS NOT NULL AND lock.node IS NOT NULL THEN [lock.node, n] END)
       AS stored_rows"""
_LOCK_RUNS = """
UNWIND $delta.lock_runs AS id
MATCH (r:Run {id: id})
SET r += {}"""
WRITE = f"""CYPHER replan=skip
CALL () {{{_STORED_RUNS}
}}
CALL () {{{_STORED_DATASETS}
}}
OPTIONAL CALL (stored, joins) {{
WITH stored, joins WHERE stored = [] AND size(joins) = size($delta.joined_with)
                    AND all(uid IN joins WHERE uid IN $delta.joined_with)
CALL () {{{_LOCK_ENTITIES}
}}
CALL () {{{_LOCK_RUNS}
}}
OPTIONAL CALL (missing, absent, new_rows, stored_rows) {{
WITH missing, absent, new_rows, stored_rows WHERE missing = []
CALL (new_rows) {{{_NODE_CREATE}
}}
CALL (stored_rows) {{{_NODE_UPDATE}
}}
WITH absent, created AS nodes_created
CALL () {{{MERGE_NODES}
}}
CALL (absent) {{{_EDGE_UPSERT}
}}
WITH nodes_created, created AS edges_created
CALL () {{{_RUN_CREATE}
}}
CALL () {{{_RUN_UPSERT}
}}
RETURN nodes_created, edges_created
}}
RETURN true AS wrote, missing, nodes_created, edges_created
}}
RETURN stored, datasets, wrote IS NOT NULL AS wrote, missing, nodes_created, edges_created
"""
