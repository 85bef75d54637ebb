"""The run reads (store/runs.py): run lists, one run, experiments."""

from __future__ import annotations

import functools

# A run's properties as [key, value] pairs, times as ISO strings, the merge's bookkeeping
# left out.
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
