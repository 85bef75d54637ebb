"""The lifecycle's writes (store/lifecycle.py); $at is an ISO time."""

from __future__ import annotations

from mllineage.store.queries.common import close, retired_as_of, revive

LOOKUP = """
UNWIND $uids AS uid
MATCH (n:Entity {uid: uid})
RETURN n.uid AS uid, n.kind AS kind, n.retired_at IS NOT NULL AS retired,
       n.replaced_by AS replaced_by
"""

# Whether a node was retired at $as_of (a deprecation's own time, for its successor).
RETIRED_THEN = f"MATCH (n:Entity {{uid: $uid}}) RETURN {retired_as_of('n')} AS retired"

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
